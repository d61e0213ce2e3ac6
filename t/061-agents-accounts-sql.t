# The validation of accounts by agents, in PostgreSQL, as the module will
# call it: the accounts waiting, newest first and read by key; one account
# with its members, documents and requests, read under an audit row (who,
# what, when); its documents; the validation, its mail queued by the same
# transaction and the citizen's session seeing it at once; two agents
# validating at once, of whom exactly one does.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen qw(account_sql);
use Test::Portal::Requests;
use Test::Portal::Agents;

plan tests => 36;

my $admin = agent_sql('alice', 'admin');
my $inst = agent_sql('ines', 'instructeur', themes => ['cimetieres']);

sub audit_rows {
    my ($account) = @_;
    return [q1("SELECT a.login, l.action, l.request_id IS NULL,"
               . " l.at > now() - interval '1 minute'"
               . " FROM portal.audit_log l JOIN portal.agents a"
               . " ON a.id = l.agent_id WHERE l.account_id = '$account'"
               . " ORDER BY l.id")];
}

# five accounts waiting, made a day apart, and two validated ones
my @waiting;
for my $i (1 .. 5) {
    my $id = account_sql("camille.attente$i", phone => '0601020304');
    q1("UPDATE portal.accounts SET created_at = now() - interval '$i days'"
       . " WHERE id = '$id'");
    push @waiting, $id;
}
q1("UPDATE portal.accounts SET created_at = now() - interval '3 days'"
   . " WHERE id = '$waiting[3]'");    # the same time as the third
account_sql("deja.valide$_", validated => 1) for 1 .. 2;


# ------------------------------------------------------------ the list

my $page = agent_json('agent_accounts', $admin, \'false', undef, \'2');
is(scalar @$page, 2, 'agent_accounts: a page of the size asked');
my @seen = map { $_->{id} } @$page;
while (@$page) {
    $page = agent_json('agent_accounts', $admin, \'false',
                       $page->[-1]{cursor}, \'2');
    push @seen, map { $_->{id} } @$page;
}
is(join(' ', @seen),
   join(' ', map { $_->[0] } q1("SELECT id FROM portal.accounts"
                                . " WHERE NOT validated"
                                . " ORDER BY created_at DESC, id DESC")),
   '... page after page by the cursor, every account waiting once, newest'
   . ' first (two made at the same time too)');
is(scalar(@seen), 5, '... five of them') or diag explain \@seen;
my $first = agent_json('agent_accounts', $admin, \'false', undef,
                       undef)->[0];
ok($first->{login} eq 'camille.attente1' && !$first->{validated}
   && $first->{holder}{last_name} eq 'Attente1'
   && $first->{holder}{address}{postcode} eq '44000'
   && $first->{holder}{phone} eq '0601020304'
   && $first->{members} == 0 && $first->{documents} == 0
   && $first->{created_at} =~ /\A\d{4}-\d\d-\d\dT/,
   '... each with its login, holder, counts and creation time')
    or diag explain $first;
is(refusal(agent_call('agent_accounts', $admin, \'true', undef, undef)),
   'P0001 agent_filter', 'only the accounts waiting are listed'
   . ' (validated=false)');
is(refusal(agent_call('agent_accounts', $admin, \'false', 'page-2',
                      undef)),
   'P0001 agent_page', 'a cursor it did not give is refused');
is(scalar @{ agent_json('agent_accounts', $inst, \'false', undef,
                        undef) }, 5,
   'an instructeur, limited to themes or not, sees the accounts waiting');


# --------------------------------------------------------- one account

my $A = $waiting[0];
q1("INSERT INTO portal.members (account_id, kind, first_name, last_name,"
   . " birth_date, address_line, postcode, city) VALUES ('$A', 'child',"
   . " 'Léa', 'Attente1', '2017-09-03', '1 place de la Mairie', '44000',"
   . " 'Nantes')");
my $doc = account_document($A);
my $pending = value(as_portal_sql("SELECT portal.document_begin('$A',"
                                  . " 'autre', 'coupé.pdf')"));
my $req = submitted_request($A, 'signalement-voirie');

my $acc = agent_json('agent_account', $admin, $A);
ok($acc->{login} eq 'camille.attente1' && !$acc->{validated}
   && $acc->{holder}{first_name} eq 'Camille',
   'agent_account: the account as the citizen sees it')
    or diag explain $acc;
is_deeply([map { $_->{first_name} } @{ $acc->{members} }], ['Léa'],
          '... its members');
is_deeply([map { [$_->{id}, $_->{filename}] } @{ $acc->{documents} }],
          [[$doc, 'facture.pdf']],
          '... its documents (not their content, nor one still coming)');
is_deeply([map { $_->{id} } @{ $acc->{requests} }], [$req],
          '... and its requests');
is_deeply(audit_rows($A), [['alice', 'account_read', 't', 't']],
          '... and an audit row says who read it, and when');
is(agent_json('agent_account', $admin,
              '00000000-0000-4000-8000-000000000000'), undef,
   'an unknown account is NULL (404)');
is(scalar @{ audit_rows('00000000-0000-4000-8000-000000000000') }, 0,
   '... and reads nothing into the audit log');

my $content = as_portal_sql("SELECT n, convert_from(data, 'UTF8'),"
                            . " content_type, filename, size, chunks FROM"
                            . " portal.agent_account_document('$admin',"
                            . " '$A', '$doc')");
is_deeply($content->{rows}, [['0', '%PDF-1.4 x', 'application/pdf',
                              'facture.pdf', '10', '1']],
          'agent_account_document: the file\'s chunks, its type and name')
    or diag outcome_text($content);
is(audit_rows($A)->[-1][1], 'account_document_read',
   '... under an audit row');
is(as_portal_sql("SELECT 1 FROM portal.agent_account_document('$admin',"
                 . " '$waiting[1]', '$doc')")->{out}, '',
   '... another account\'s document is no document');
is(as_portal_sql("SELECT 1 FROM portal.agent_account_document('$admin',"
                 . " '$A', '$pending')")->{out}, '',
   '... nor is one still coming');


# ------------------------------------------------------------ validate

my $sess = sub {
    my ($id) = @_;
    my $r = as_portal_sql("SELECT validated FROM portal.session_check("
                          . "'$id', 1)");
    return $r->{rows}[0][0];
};
is($sess->($A), 'f', 'before validation the citizen\'s session says'
                     . ' "not validated"');
my $mails0 = q1("SELECT count(*) FROM portal.outbox WHERE account_id = '$A'");
my $v = agent_json('agent_account_validate', $inst, $A, $URL);
ok($v && $v->{validated} && $v->{validated_at},
   'agent_account_validate: the account, validated (any agent may)')
    or diag explain $v;
is($sess->($A), 't', '... the citizen\'s next request sees it: from now'
                     . ' on the account may be changed');
my ($mail) = q1("SELECT o.subject, o.recipient, o.xmin = a.xmin,"
                . " o.body ~ '^Bonjour Monsieur Camille Attente1,',"
                . " o.body ~ 'identifiant : camille\\.attente1\\)"
                . ".*modifier',"
                . " o.body ~ 'ne demande aucune réponse de votre part'"
                . " FROM portal.outbox o"
                . " JOIN portal.accounts a ON a.id = o.account_id"
                . " WHERE o.account_id = '$A' ORDER BY o.id DESC LIMIT 1");
is(q1("SELECT count(*) FROM portal.outbox WHERE account_id = '$A'"),
   $mails0 + 1, '... one mail is queued');
ok($mail->[0] eq 'Votre compte citoyen est validé'
   && $mail->[1] eq 'camille.attente1@example.org' && $mail->[2] eq 't',
   '... to the citizen, by the same transaction') or diag explain $mail;
is($mail->[3], 't', '... greeting the citizen');
is($mail->[4], 't', '... saying that the account may now be changed');
is($mail->[5], 't', '... and that no reply is needed');
is(audit_rows($A)->[-1][0] . ' ' . audit_rows($A)->[-1][1],
   'ines account_validate', '... under an audit row');
is(refusal(agent_call('agent_account_validate', $admin, $A, $URL)),
   'P0001 account_validated', 'validated again: refused (409)');
is(q1("SELECT count(*) FROM portal.outbox WHERE account_id = '$A'"),
   $mails0 + 1, '... without a second mail');
is(agent_json('agent_account_validate', $admin,
              '00000000-0000-4000-8000-000000000000', $URL), undef,
   'an unknown account is NULL (404)');
is(scalar @{ agent_json('agent_accounts', $admin, \'false', undef,
                        undef) }, 4,
   'a validated account leaves the list');

# two agents at once: exactly one validates
{
    my $B = $waiting[1];
    my $s = pg_session();
    $s->query('BEGIN');
    $s->query("SELECT 1 FROM portal.accounts WHERE id = '$B' FOR UPDATE");
    my $waited;
    my @res = as_portal_parallel([map {
        "SELECT portal.agent_account_validate('$_', '$B', '$URL') IS NOT"
        . " NULL"
    } $admin, $inst], started => sub {
        $waited = wait_until(sub { backends_waiting_on_lock() >= 2 }, 30,
                             'both validations waiting');
        $s->query('COMMIT');
    });
    $s->close;
    ok($waited, 'two validations of one account at once wait for its row');
    is(join(' ', sort map { $_->{ok} ? 'ok' : refusal($_) } @res),
       'P0001 account_validated ok', '... one validates, the other is told'
       . ' it is done (409)') or diag map { outcome_text($_) } @res;
    is(q1("SELECT count(*) FROM portal.outbox WHERE account_id = '$B'"
          . " AND subject = 'Votre compte citoyen est validé'"), 1,
       '... and the citizen gets one mail');
    is(q1("SELECT count(*) FROM portal.audit_log WHERE account_id = '$B'"
          . " AND action = 'account_validate'"), 1,
       '... and the audit log one validation');
}

q1("UPDATE portal.agents SET active = false WHERE id = '$inst'");
is(refusal(agent_call('agent_account', $inst, $waiting[2])),
   'P0001 agent_session', 'a disabled agent reads nothing (401)');
