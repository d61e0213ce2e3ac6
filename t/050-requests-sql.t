# Requests in PostgreSQL, through the functions the module calls, as the
# role it connects as: the catalog (its JSON, its checked definitions, its
# version and NOTIFY portal_catalog), requests with an account (a draft
# pre-filled from the holder and the member, a member of the household and
# of the right kind, unknown keys dropped), without one (submitted at
# once, or with follow-up making the account; refused for a procedure that
# needs an account), the state machine in each of the nine states, another
# household's requests out of reach, idempotent creation and submission,
# references unique and readable under creations at once, documents in
# chunks with their quota and the purge of those left pending, mail and
# messages written by the same transaction, GET me/requests and
# me/messages, the data of the PDF, the bench's seed, and the grants.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Requests;

use Digest::SHA qw(sha256_hex);
use Encode ();
use FindBin ();
use JSON::PP ();

my $URL = 'https://mairie.example/';
my $UUID = qr/\A[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}\z/;
my $Json = JSON::PP->new->utf8->canonical->allow_nonref;

# SQL as the superuser, UTF-8 both ways
sub q1 {
    my ($sql) = @_;
    my $b = Encode::encode('UTF-8', $sql);
    if (wantarray) {
        return map { [map { Encode::decode('UTF-8', $_) } @$_] }
               psql_query($b);
    }
    my $v = psql_query($b);
    return defined $v ? Encode::decode('UTF-8', $v) : undef;
}

sub decoded {
    my ($r) = @_;
    return undef unless $r->{ok} && @{ $r->{rows} } && length $r->{rows}[0][0];
    return $Json->decode(Encode::encode('UTF-8', $r->{rows}[0][0]));
}

# a function's answer that is not JSON (a uuid, a boolean)
sub value {
    my ($r) = @_;
    return undef unless $r->{ok} && @{ $r->{rows} } && length $r->{rows}[0][0];
    return $r->{rows}[0][0];
}

sub fp { defined $_[0] ? "sha256(convert_to(" . sql_quote($_[0]) . ", 'UTF8'))"
                       : 'NULL' }

sub member_sql {
    my ($account, $kind, $first, $last, $birth) = @_;
    return q1("INSERT INTO portal.members (account_id, kind, first_name,"
              . " last_name, birth_date, address_line, postcode, city)"
              . " VALUES ('$account', '$kind', '$first', '$last', '$birth',"
              . " '1 place de la Mairie', '44000', 'Nantes') RETURNING id");
}

sub create {
    my ($account, $procedure, %o) = @_;
    return as_portal_sql(sprintf(
        'SELECT portal.request_create(%s, %s, %s, %s, %s, %s, %s, %s)',
        sql_quote($account), sql_quote($procedure), sql_quote($o{member}),
        json_literal($o{data} // {}), sql_quote($o{contact}),
        sql_quote($o{key}), fp($o{body}), sql_quote($URL)));
}

sub anonymous {
    my ($procedure, %o) = @_;
    return as_portal_sql(sprintf(
        'SELECT portal.request_create_anonymous(%s, %s, %s, %s, %s, %s, %s,'
        . ' %s)',
        sql_quote($procedure), json_literal($o{applicant}),
        json_literal($o{data} // {}), sql_quote($o{contact}),
        json_literal($o{follow_up}), sql_quote($o{key}), fp($o{body}),
        sql_quote($URL)));
}

sub call {
    my ($f, @args) = @_;
    return as_portal_sql("SELECT portal.$f("
                         . join(', ', map { sql_quote($_) } @args) . ')');
}

sub update_request {
    my ($account, $id, %o) = @_;
    return as_portal_sql(sprintf(
        'SELECT portal.request_update(%s, %s, %s, %s, %s, %s)',
        sql_quote($account), sql_quote($id), sql_quote($o{member}),
        json_literal($o{data} // {}), sql_quote($o{contact}),
        sql_quote($URL)));
}

sub submit {
    my ($account, $id, %o) = @_;
    return as_portal_sql(sprintf(
        'SELECT portal.request_submit(%s, %s, %s, %s, %s)',
        sql_quote($account), sql_quote($id), sql_quote($o{key}),
        fp($o{body}), sql_quote($URL)));
}

sub count_of { scalar q1("SELECT count(*) FROM $_[0]") }

sub outcome_text {
    my ($r) = @_;
    return $r->{ok} ? "it went through: " . substr($r->{out}, 0, 300)
                    : "$r->{err}";
}

plan tests => 227;

my %VOIRIE = (nature => 'chaussee', lieu => '12 rue des Lilas',
              description => 'Un trou profond au milieu de la chaussée.');

my $APPLICANT = {
    civility => 'Mme', first_name => 'Anne', last_name => 'Martin',
    birth_date => '1975-06-30', email => 'anne.martin@example.org',
    phone => '0240000000',
    address => { line => '3 rue Kervégan', postcode => '44000',
                 city => 'Nantes' },
    password => 'never stored',
};


# ---------------------------------------------------------------- catalog

my $catalog = portal_json('SELECT portal.catalog_json()');
my @procs = map { @{ $_->{procedures} } } @$catalog;
ok(@$catalog >= 5 && @procs >= 10,
   'the catalog has 5 themes and 10 procedures at least')
    or diag explain $catalog;
is_deeply([map { $_->{slug} } @$catalog],
          [map { $_->[0] } q1("SELECT slug FROM portal.themes"
                              . " ORDER BY position, slug")],
          '... themes in their order');
my ($naissance) = grep { $_->{slug} eq 'acte-naissance' } @procs;
ok($naissance && !$naissance->{requires_account}
   && $naissance->{requires_captcha} && length $naissance->{description},
   '... a birth certificate needs no account but a captcha')
    or diag explain $naissance;

my %types;
for my $p (@procs) {
    my $def = portal_json("SELECT portal.procedure_json('$p->{slug}')");
    $types{ $_->{type} }++ for @{ $def->{fields} };
}
is(join(' ', sort keys %types),
   'checkbox date email member number select tel text textarea',
   'the forms use all nine types of field');

my $enc = portal_json("SELECT portal.procedure_json('encombrants')");
my ($volume) = grep { $_->{name} eq 'volume' } @{ $enc->{fields} };
ok($enc->{theme}{slug} eq 'cadre-de-vie' && $volume
   && $volume->{type} eq 'number' && defined $volume->{min}
   && defined $volume->{max} && @{ $enc->{documents} }
   && exists $enc->{documents}[0]{required},
   'procedure_json gives the theme, the fields with their bounds and the'
   . ' documents') or diag explain $enc;
is(portal_json("SELECT portal.procedure_json('nulle-part')"), undef,
   '... and NULL for an unknown procedure');

my $snapshot = as_portal_sql('SELECT version, slug FROM'
                             . ' portal.catalog_snapshot()');
ok($snapshot->{ok} && @{ $snapshot->{rows} } == @procs + 1
   && $snapshot->{rows}[0][1] eq ''
   && !grep({ $_->[0] ne $snapshot->{rows}[0][0] } @{ $snapshot->{rows} }),
   'catalog_snapshot: the catalog, then each procedure, of one version')
    or diag $snapshot->{out} . $snapshot->{err};

for my $bad (
    ['a select without options',
     '[{"name": "a", "label": "A", "type": "select", "required": true}]',
     'procedures_fields'],
    ['an unknown prefill',
     '[{"name": "a", "label": "A", "type": "text", "required": true,'
     . ' "prefill": "holder.password"}]', 'procedures_fields'],
    ['two fields of one name',
     '[{"name": "a", "label": "A", "type": "text", "required": true},'
     . ' {"name": "a", "label": "B", "type": "date", "required": false}]',
     'procedures_fields'])
{
    my ($what, $fields, $constraint) = @$bad;
    my ($rc, $out, $err) = Test::Portal::run_cmd(
        ['psql', '-X', '-q', '-v', 'VERBOSITY=verbose', '-h', pg_host(),
         '-U', 'postgres', '-d', test_db(), '-c',
         "INSERT INTO portal.procedures (slug, theme_id, title,"
         . " requires_account, requires_captcha, fields) SELECT 'essai',"
         . " id, 'Essai', true, false, '$fields' FROM portal.themes LIMIT 1"]);
    ok($rc != 0 && $err =~ /CONSTRAINT NAME:\s+\Q$constraint\E/,
       "a form definition with $what is refused ($constraint)")
        or diag $err;
}

# The version moves with each statement that changes the catalog, and
# LISTEN portal_catalog hears of it at commit; a change rolled back is
# neither counted nor heard.
{
    my $listener = pg_session();
    $listener->query('LISTEN portal_catalog');
    my $v0 = portal_json('SELECT portal.catalog_version()');
    q1("BEGIN; UPDATE portal.procedures SET title = title"
       . " WHERE slug = 'encombrants'; ROLLBACK");
    is(portal_json('SELECT portal.catalog_version()'), $v0,
       'a catalog change rolled back leaves the version');
    q1("UPDATE portal.procedures SET description = description || ''"
       . " WHERE slug = 'encombrants'");
    my $heard;
    wait_until(sub {
        for my $l ($listener->query('SELECT 1')) {
            $heard = $1 if $l->[0]
                =~ /notification "portal_catalog" with payload "(\d+)"/;
        }
        defined $heard
    }, 5, 'the notification');
    is($heard, $v0 + 1, 'an UPDATE of a procedure is heard on'
                        . ' portal_catalog with the new version');
    is(portal_json('SELECT portal.catalog_version()'), $v0 + 1,
       '... which catalog_version() gives');
    $listener->close;
}


# ------------------------------------------------------- the households

my $A = account_sql('jean.dupont', phone => '0601020304');
my $B = account_sql('paul.martin');
my $lea = member_sql($A, 'child', 'Léa', 'Durand', '2017-09-03');
my $marie = member_sql($A, 'adult', 'Marie', 'Dupont', '1982-02-14');
my $tom = member_sql($B, 'child', 'Tom', 'Martin', '2016-01-20');


# --------------------------------------------------- a draft, pre-filled

my $outbox0 = count_of('portal.outbox');
my $r = create($A, 'inscription-scolaire', member => $lea, data => {
    niveau => 'cp', date_entree => '2027-09-01', prenoms => 'Léa Rose',
    observations => '', bogus => 'not a field', ecole => ['x'],
});
my $draft = decoded($r);
ok($draft && $draft->{state} eq 'brouillon', 'a request with an account'
   . ' starts as a brouillon') or diag outcome_text($r);
$draft //= {};
like($draft->{reference} // '', qr/\A\d{4}-\d{6}\z/,
     '... with a readable reference');
is($draft->{data}{nom}, 'Durand', '... its member\'s last name pre-filled');
is($draft->{data}{date_naissance}, '2017-09-03',
   '... and birth date');
is($draft->{data}{telephone}, '0601020304', '... the holder\'s phone');
is($draft->{data}{prenoms}, 'Léa Rose', '... a value given wins over'
   . ' the pre-filled one');
is(join(' ', sort keys %{ $draft->{data} || {} }),
   'date_entree date_naissance niveau nom prenoms telephone',
   '... unknown keys, empty values and non-scalar values are dropped');
is_deeply($draft->{member}, { id => $lea, name => 'Léa Durand' },
          '... the member');
is($draft->{contact_mode}, 'email', '... the account\'s contact mode');
is_deeply([map { [$_->{from}, $_->{to}] } @{ $draft->{history} || [] }],
          [[undef, 'brouillon']], '... its history starts from nothing');
ok($draft->{editable} && !$draft->{pdf}, '... editable, no PDF');

my ($mail) = q1("SELECT o.subject, o.body ~ 'aucune\\s+réponse',"
                . " o.recipient, m.kind, m.channel,"
                . " r.xmin = o.xmin AND o.xmin = m.xmin"
                . " FROM portal.messages m"
                . " JOIN portal.outbox o ON o.id = m.outbox_id"
                . " JOIN portal.requests r ON r.id = m.request_id"
                . " WHERE m.request_id = '$draft->{id}'");
ok($mail && $mail->[0] =~ /\Q$draft->{reference}\E commencée/
   && $mail->[1] eq 't' && $mail->[2] =~ /jean\.dupont/
   && $mail->[3] eq 'acknowledgement' && $mail->[4] eq 'email',
   '... an acknowledgement is queued, saying no reply is needed')
    or diag explain $mail;
is($mail && $mail->[5], 't', '... by the transaction that made the request');

$r = create($A, 'encombrants', data => {
    date_souhaitee => '2027-01-15', volume => 2.5, objets => 'Un canapé.',
    emplacement => 'trottoir' });
my $enc_req = decoded($r) // {};
is($enc_req->{data}{adresse}, '1 place de la Mairie, 44000 Nantes',
   'the holder\'s address pre-fills an address field, on one line')
    or diag outcome_text($r);
is($enc_req->{data}{volume}, 2.5, '... numbers stay numbers');

$outbox0 = count_of('portal.outbox');
my $requests0 = count_of('portal.requests');
for my $case (
    ['a member of another household', 'inscription-scolaire',
     { member => $tom }, 'P0001 request_member'],
    ['an adult where a child is asked', 'inscription-scolaire',
     { member => $marie }, 'P0001 request_member_kind'],
    ['a member for a form without a member field', 'encombrants',
     { member => $lea }, 'P0001 request_member'],
    ['an unknown procedure', 'nulle-part', {}, 'P0001 request_procedure'],
    ['contact by phone without a phone', 'signalement-voirie',
     { account => $B, contact => 'phone', data => \%VOIRIE },
     'P0001 request_phone_contact'])
{
    my ($what, $procedure, $o, $want) = @$case;
    my $res = create($o->{account} // $A, $procedure,
                     data => $o->{data} // {
                         niveau => 'cp', date_entree => '2027-09-01' },
                     %$o);
    is(refusal($res), $want, "refused: $what") or diag outcome_text($res);
}
is(count_of('portal.requests'), $requests0, 'refused requests leave no row');
is(count_of('portal.outbox'), $outbox0, '... and no mail');

# A brouillon waits for its required fields: the submission asks for them,
# and so does a change in en_attente or incomplet
for my $case (
    ['a required field left out', 'encombrants', { data => { volume => 1 } },
     qr/(?:\A|,)data\.date_souhaitee(?:,|\z)/],
    ['a required checkbox unticked', 'restauration-scolaire',
     { member => $lea, data => { menu => 'standard',
                                 date_debut => '2027-09-01',
                                 reglement => JSON::PP::false } },
     qr/\Adata\.reglement\z/])
{
    my ($what, $procedure, $o, $names) = @$case;
    my $d = decoded(create($A, $procedure, %$o)) // {};
    is($d->{state}, 'brouillon', "$what: a draft all the same");
    my $res = submit($A, $d->{id});
    is(refusal($res), 'P0001 request_required', '... its submission refused')
        or diag outcome_text($res);
    like($res->{detail} // '', $names, '... its DETAIL names the fields');
    unlike($res->{detail} // '', qr/(?:\A|,)data\.(?:volume|adresse)(?:,|\z)/,
           '... not those given or pre-filled');
    is($res->{hint}, $procedure, '... its HINT is the procedure');
    for my $state (qw(en_attente incomplet)) {
        q1("UPDATE portal.requests SET state = '$state'"
           . " WHERE id = '$d->{id}'");
        is(refusal(update_request($A, $d->{id}, %$o)),
           'P0001 request_required', "... a change in $state refused");
    }
    is(scalar q1("SELECT count(*) FROM portal.request_events"
                 . " WHERE request_id = '$d->{id}'"), 1,
       '... and it never moved');
    # gone without a trace, for the counts below
    q1("DELETE FROM portal.messages WHERE request_id = '$d->{id}'");
    q1("DELETE FROM portal.requests WHERE id = '$d->{id}'");
}

q1("UPDATE portal.procedures SET active = false"
   . " WHERE slug = 'signalement-voirie'");
is(refusal(create($A, 'signalement-voirie', data => \%VOIRIE)),
   'P0001 request_procedure', 'a withdrawn procedure takes no request');
q1("UPDATE portal.procedures SET active = true"
   . " WHERE slug = 'signalement-voirie'");


# -------------------------------------------- the nine states, by citizens

# a request in each state (put there by hand, as agents will)
my %in;
for my $state (qw(brouillon en_attente en_traitement incomplet rectifie
                  complet rejete annule valide)) {
    my $res = decoded(create($A, 'signalement-voirie', data => \%VOIRIE));
    q1("UPDATE portal.requests SET state = '$state'"
       . " WHERE id = '$res->{id}'");
    $in{$state} = $res->{id};
}
my %editable = map { $_ => 1 } qw(brouillon en_attente incomplet);
my %submits = (brouillon => 'en_attente', incomplet => 'rectifie');

for my $state (sort keys %in) {
    my $id = $in{$state};
    my $mails = count_of("portal.messages WHERE request_id = '$id'");
    my $res = update_request($A, $id, data => { %VOIRIE, lieu => 'Place' });
    if ($editable{$state}) {
        my $j = decoded($res) // {};
        is($j->{data}{lieu}, 'Place', "PUT in $state changes the data")
            or diag outcome_text($res);
        is(count_of("portal.messages WHERE request_id = '$id'"
                    . " AND subject LIKE '%modifiée'"),
           $state eq 'brouillon' ? 0 : 1,
           $state eq 'brouillon' ? '... without a mail for a draft'
                                 : '... and says so by mail');
    } else {
        is(refusal($res), 'P0001 request_state', "PUT in $state: 409")
            or diag outcome_text($res);
    }

    $res = call('request_pdf', $A, $id);
    if ($editable{$state}) {
        is(refusal($res), 'P0001 request_state', "no PDF in $state");
    } else {
        my $pdf = decoded($res) // {};
        is($pdf->{state}, $state, "the PDF's data in $state")
            or diag outcome_text($res);
    }

    $res = call('request_document_begin', $A, $id, 'photo', 'trou.jpg');
    if ($editable{$state}) {
        like(value($res) // '', $UUID, "a document may come in $state")
            or diag outcome_text($res);
    } else {
        is(refusal($res), 'P0001 request_state', "no document in $state");
    }

    # a draft is deleted below
    if ($state ne 'brouillon') {
        is(refusal(call('request_delete', $A, $id)), 'P0001 request_state',
           "no delete in $state");
    }

    my $events = count_of("portal.request_events WHERE request_id = '$id'");
    $res = submit($A, $id);
    if ($submits{$state}) {
        my $j = decoded($res) // {};
        is($j->{state}, $submits{$state},
           "submitted in $state, it becomes $submits{$state}")
            or diag outcome_text($res);
        my ($last) = q1("SELECT from_state, to_state, actor"
                        . " FROM portal.request_events"
                        . " WHERE request_id = '$id' ORDER BY id DESC"
                        . " LIMIT 1");
        is_deeply($last, [$state, $submits{$state}, 'citizen'],
                  '... with its history row');
        ok(count_of("portal.messages WHERE request_id = '$id'")
           > $mails, '... and an acknowledgement');
    } else {
        is(refusal($res), 'P0001 request_state',
           "submit in $state: 409") or diag outcome_text($res);
        is(count_of("portal.request_events WHERE request_id = '$id'"),
           $events, '... and no history row');
    }

}

my $d = decoded(create($A, 'signalement-voirie', data => \%VOIRIE));
my $doc = value(call('request_document_begin', $A, $d->{id}, 'photo',
                       'trou.jpg'));
as_portal_sql("SELECT portal.request_document_chunk('$A', '$doc', 0,"
              . " '\\xffd8ffe0'::bytea)");
my $del = call('request_delete', $A, $d->{id});
ok($del->{ok} && $del->{rows}[0][0] eq 't'
   && count_of("portal.request_events WHERE request_id = '$d->{id}'") == 0
   && count_of("portal.request_document_chunks WHERE document_id = '$doc'")
      == 0,
   'a deleted draft takes its history and documents with it')
    or diag outcome_text($del);
is(count_of("portal.messages WHERE request_id IS NULL AND account_id = '$A'"),
   1, '... its messages stay, without the request');
is(call('request_delete', $A, $d->{id})->{rows}[0][0], 'f',
   '... and a second delete finds nothing');

# the state machine of DESIGN.md, whole
my %moves = map { ("$_->[0] $_->[1]" => $_->[2]) }
            q1('SELECT from_state, to_state, actor'
               . ' FROM portal.request_transitions');
is(join(', ', map { "$_ $moves{$_}" } sort keys %moves), join(', ',
   'brouillon en_attente citizen', 'complet annule agent',
   'complet rejete agent', 'complet valide agent',
   'en_attente annule agent', 'en_attente en_traitement agent',
   'en_traitement annule agent', 'en_traitement complet agent',
   'en_traitement incomplet agent', 'en_traitement rejete agent',
   'en_traitement valide agent', 'incomplet rectifie citizen',
   'rectifie annule agent', 'rectifie complet agent',
   'rectifie en_traitement agent', 'rectifie incomplet agent',
   'rectifie rejete agent', 'rectifie valide agent'),
   'the transitions table holds the state machine, with who moves');
is(q1("SELECT portal.request_transition_allowed('brouillon', 'en_attente',"
      . " 'citizen')::text || portal.request_transition_allowed("
      . "'en_attente', 'en_traitement', 'citizen')::text"
      . " || portal.request_transition_allowed('valide', 'annule',"
      . " 'agent')::text"), 'truefalsefalse',
   'request_transition_allowed() says so');
my ($rc, $out, $err) = Test::Portal::run_cmd(
    ['psql', '-X', '-q', '-v', 'VERBOSITY=verbose', '-h', pg_host(),
     '-U', 'postgres', '-d', test_db(), '-c',
     "INSERT INTO portal.request_events (request_id, from_state, to_state,"
     . " actor) VALUES ('$in{valide}', 'valide', 'brouillon', 'agent')"]);
ok($rc != 0 && $err =~ /request_events_transition/,
   'no history row outside the state machine, whoever writes it')
    or diag $err;


# --------------------------------------------- another household's request

my $mine = decoded(create($A, 'signalement-voirie', data => \%VOIRIE));
my $mine_doc = value(call('request_document_begin', $A, $mine->{id},
                            'photo', 'trou.png'));
as_portal_sql("SELECT portal.request_document_chunk('$A', '$mine_doc', 0,"
              . " '\\x89504e47'::bytea)");
my $before = q1("SELECT row_to_json(r)::text FROM portal.requests r"
                . " WHERE id = '$mine->{id}'");
for my $case (
    ['request_get', [$B, $mine->{id}], ''],
    ['request_pdf', [$B, $mine->{id}], ''],
    ['request_delete', [$B, $mine->{id}], 'f'],
    ['request_document_begin', [$B, $mine->{id}, 'photo', 'x.png'], ''],
    ['request_document_abort', [$B, $mine_doc], 'f'])
{
    my ($f, $args, $want) = @$case;
    my $res = call($f, @$args);
    ok($res->{ok} && ($res->{rows}[0][0] // '') eq $want,
       "another household's request: $f finds nothing")
        or diag outcome_text($res);
}
for my $res (
    update_request($B, $mine->{id}, data => \%VOIRIE),
    submit($B, $mine->{id}),
    as_portal_sql("SELECT portal.request_document_chunk('$B', '$mine_doc',"
                  . " 1, '\\x00'::bytea)"),
    as_portal_sql("SELECT portal.request_document_finish('$B', '$mine_doc',"
                  . " 'image/png', sha256('x'), 4, '')"))
{
    ok($res->{ok} && ($res->{rows}[0][0] // '') eq '',
       "another household's request: nothing to change")
        or diag outcome_text($res);
}
as_portal_sql("SELECT portal.request_document_finish('$A', '$mine_doc',"
              . " 'image/png', sha256('\\x89504e47'::bytea), 4, '')");
my $content = as_portal_sql("SELECT n FROM portal.request_document_content("
                            . "'$B', '$mine->{id}', '$mine_doc')");
ok($content->{ok} && !@{ $content->{rows} },
   "another household's document: no content") or diag outcome_text($content);
is(q1("SELECT row_to_json(r)::text FROM portal.requests r"
      . " WHERE id = '$mine->{id}'"), $before,
   "another household's request is left as it was");


# ------------------------------------------------------------ idempotency

{
    my %o = (data => \%VOIRIE, key => 'k-create-1', body => 'body one');
    my $first = create($A, 'signalement-voirie', %o);
    my $n = count_of('portal.requests');
    my $again = create($A, 'signalement-voirie', %o);
    ok($first->{ok} && $again->{ok} && $first->{out} eq $again->{out},
       'the same key and body: the first answer again')
        or diag outcome_text($first) . outcome_text($again);
    is(count_of('portal.requests'), $n, '... and no second request');
    is(refusal(create($A, 'signalement-voirie', %o, body => 'body two')),
       'P0001 idempotency_mismatch', 'the same key, another body: 422');
    my $id = (decoded($first) // {})->{id};
    is(refusal(submit($A, $id, key => 'k-create-1', body => 'body one')),
       'P0001 idempotency_mismatch', 'the same key on another route: 422');
    my $other = decoded(create($B, 'signalement-voirie', %o));
    ok($other && $other->{id} ne $id,
       'the same key of another account is its own');
    is(refusal(create($A, 'signalement-voirie', %o, key => 'a key')),
       'P0001 idempotency_key', 'a key with a space: 400');

    my $check = portal_json("SELECT portal.idempotency_check('$A',"
                            . " 'k-create-1', 'POST requests',"
                            . fp('body one') . ')');
    ok($check && $check->{status} == 201 && $check->{response}{id} eq $id,
       'idempotency_check gives the stored answer and its status')
        or diag explain $check;
    is(portal_json("SELECT portal.idempotency_check('$A', 'k-unused',"
                   . " 'POST requests', " . fp('x') . ')'), undef,
       '... and NULL for a new key');

    # a first request with a key still running: 409 for the second
    my $s = pg_session();
    $s->query('SET ROLE portal');
    $s->query('BEGIN');
    $s->query(Encode::encode('UTF-8', sprintf(
        "SELECT portal.request_create(%s, %s, NULL, %s, NULL, 'k-running',"
        . " %s, '')", sql_quote($A), "'signalement-voirie'",
        json_literal(\%VOIRIE), fp('body'))));
    is(refusal(create($A, 'signalement-voirie', data => \%VOIRIE,
                      key => 'k-running', body => 'body')),
       'P0001 idempotency_running',
       'while the first runs, the same key: 409');
    is(refusal(as_portal_sql("SELECT portal.idempotency_check('$A',"
                             . " 'k-running', 'POST requests', "
                             . fp('body') . ')')),
       'P0001 idempotency_running', '... idempotency_check says so too');
    $s->query('COMMIT');
    $s->close;
    my $after = decoded(create($A, 'signalement-voirie', data => \%VOIRIE,
                               key => 'k-running', body => 'body'));
    is(count_of("portal.requests WHERE id = '" . ($after // {})->{id}
                . "' AND account_id = '$A'"), 1,
       '... and once it committed, its answer');

    # submit, retried
    my $draft2 = decoded(create($A, 'signalement-voirie', data => \%VOIRIE));
    my $s1 = submit($A, $draft2->{id}, key => 'k-submit', body => '');
    my $events = count_of("portal.request_events"
                          . " WHERE request_id = '$draft2->{id}'");
    my $mails = count_of("portal.outbox o JOIN portal.messages m"
                         . " ON m.outbox_id = o.id"
                         . " WHERE m.request_id = '$draft2->{id}'");
    my $s2 = submit($A, $draft2->{id}, key => 'k-submit', body => '');
    ok($s1->{ok} && $s2->{ok} && $s1->{out} eq $s2->{out}
       && (decoded($s2) // {})->{state} eq 'en_attente',
       'a submit retried with its key: the first answer, not a 409')
        or diag outcome_text($s1) . outcome_text($s2);
    is(count_of("portal.request_events WHERE request_id = '$draft2->{id}'")
       . ' ' . count_of("portal.outbox o JOIN portal.messages m"
                        . " ON m.outbox_id = o.id"
                        . " WHERE m.request_id = '$draft2->{id}'"),
       "$events $mails", '... with no second history row nor mail');
}


# ------------------------------------------------------ without an account

{
    my $outbox = count_of('portal.outbox');
    my $res = anonymous('acte-naissance', applicant => $APPLICANT, data => {
        type_acte => 'copie_integrale', qualite => 'interesse',
        exemplaires => 1 });
    my $j = decoded($res) // {};
    is($j->{state}, 'en_attente', 'without an account, a request is'
       . ' submitted at once') or diag outcome_text($res);
    is_deeply([map { [$_->{from}, $_->{to}] } @{ $j->{history} || [] }],
              [[undef, 'brouillon'], ['brouillon', 'en_attente']],
              '... its history says so');
    is($j->{data}{nom} . '|' . $j->{data}{adresse_envoi},
       'Martin|3 rue Kervégan, 44000 Nantes',
       '... pre-filled from the applicant');
    ok($j->{applicant} && !exists $j->{applicant}{password}
       && $j->{applicant}{email} eq 'anne.martin@example.org',
       '... the applicant is kept, with the holder\'s keys only')
        or diag explain $j->{applicant};
    my ($m) = q1("SELECT o.recipient, o.body ~ " . sql_quote($j->{reference})
                 . " AND o.body ~ 'sans compte' AND o.body ~ 'courriel'"
                 . " AND o.body ~ 'aucune\\s+réponse', m.account_id IS NULL,"
                 . " r.xmin = o.xmin AND o.xmin = m.xmin"
                 . " FROM portal.messages m"
                 . " JOIN portal.outbox o ON o.id = m.outbox_id"
                 . " JOIN portal.requests r ON r.id = m.request_id"
                 . " WHERE m.request_id = '$j->{id}'");
    ok($m && $m->[0] eq 'anne.martin@example.org' && $m->[1] eq 't'
       && $m->[2] eq 't' && $m->[3] eq 't',
       '... the applicant is told by mail what becomes of it, by the same'
       . ' transaction') or diag explain $m;

    $outbox = count_of('portal.outbox');
    my $accounts = count_of('portal.accounts');
    $res = anonymous('encombrants', applicant => $APPLICANT, data => {
        date_souhaitee => '2027-01-15', volume => 1, objets => 'Une armoire.',
        emplacement => 'trottoir' });
    is(refusal($res), 'P0001 request_requires_account',
       'a procedure that needs an account refuses an anonymous request');

    my $follow = { base => 'anne.martin', password_hash => $HASH{$PASSWORD},
                   question_id => 2, answer_hash => $HASH{medor} };
    $res = anonymous('encombrants', applicant => $APPLICANT,
                     follow_up => $follow, data => {
        date_souhaitee => '2027-01-15', volume => 1,
        objets => 'Une armoire.', emplacement => 'cour' });
    $j = decoded($res) // {};
    is($j->{login}, 'anne.martin', 'with follow-up, the account is made:'
       . ' its login in the answer') or diag outcome_text($res);
    my $acc = q1("SELECT id FROM portal.accounts WHERE login = 'anne.martin'");
    ok($acc && ($j->{account_id} // '') eq $acc && $j->{state} eq 'brouillon'
       && !$j->{applicant}
       && count_of("portal.requests WHERE id = '$j->{id}'"
                   . " AND account_id = '$acc'") == 1,
       '... the request is a draft of that account') or diag explain $j;
    is($j->{data}{telephone}, '0240000000',
       '... pre-filled from the new holder');
    is(count_of("portal.outbox WHERE recipient = 'anne.martin\@example.org'"
                . " AND (subject = 'Votre identifiant Mon Compte Citoyen'"
                . " OR subject LIKE '%commencée')"
                . " AND id > (SELECT max(id) - 2 FROM portal.outbox)"), 2,
       '... the login and the acknowledgement are mailed');
    my $list = portal_json("SELECT portal.me_requests('$acc', NULL)");
    is(join(' ', map { $_->{id} } @{ $list || [] }), $j->{id},
       '... and the account finds it in its requests');

    $res = anonymous('signalement-voirie', applicant => $APPLICANT,
                     follow_up => $follow, data => \%VOIRIE);
    is((decoded($res) // {})->{login}, 'anne.martin2',
       'a homonym\'s follow-up gets the next login');

    $accounts = count_of('portal.accounts');
    $outbox = count_of('portal.outbox');
    $res = anonymous('signalement-voirie', applicant => $APPLICANT,
                     follow_up => { %$follow, question_id => 99 },
                     data => \%VOIRIE);
    is(($res->{sqlstate} // '') . ' ' . ($res->{constraint} // ''),
       '23503 accounts_question_id_fkey',
       'an unknown security question: refused') or diag outcome_text($res);
    is(count_of('portal.accounts') . ' ' . count_of('portal.outbox'),
       "$accounts $outbox", '... and nothing is written');
}


# ------------------------------------------------------------- documents

{
    my $req = decoded(create($A, 'restauration-scolaire', member => $lea,
                             data => { menu => 'sans_porc',
                                       date_debut => '2027-09-01',
                                       lundi => JSON::PP::true,
                                       mardi => JSON::PP::false,
                                       reglement => JSON::PP::true }));
    my $id = $req->{id};
    is(refusal(call('request_document_begin', $A, $id, 'livret_famille',
                    'livret.pdf')),
       'P0001 request_document_kind',
       'a document of a kind the procedure does not ask for: refused');

    my $pdf = "%PDF-1.4\n% une attestation de quotient familial\n%%EOF\n";
    my @pieces = (substr($pdf, 0, 20), substr($pdf, 20, 20),
                  substr($pdf, 40));
    my $doc = value(call('request_document_begin', $A, $id,
                           'quotient_familial', 'attestation CAF.pdf'));
    like($doc // '', $UUID, 'a document begins');
    my $size;
    for my $n (0 .. $#pieces) {
        $size = decoded(as_portal_sql(
            "SELECT portal.request_document_chunk('$A', '$doc', $n,"
            . " '\\x" . unpack('H*', $pieces[$n]) . "'::bytea)"));
    }
    is($size, length $pdf, '... comes in chunks, counted');
    is(refusal(as_portal_sql("SELECT portal.request_document_chunk('$A',"
                             . " '$doc', 7, '\\x00'::bytea)")),
       'P0001 request_document_chunk', '... a chunk out of order: refused');
    is(refusal(as_portal_sql("SELECT portal.request_document_finish('$A',"
                             . " '$doc', 'application/pdf', '\\x"
                             . sha256_hex($pdf) . "', 9, '$URL')")),
       'P0001 request_document_size', '... a size that is not the chunks\'');
    my $fin = as_portal_sql("SELECT portal.request_document_finish('$A',"
                            . " '$doc', 'application/pdf', '\\x"
                            . sha256_hex($pdf) . "', " . length($pdf)
                            . ", '$URL')");
    my $dj = decoded($fin) // {};
    ok(($dj->{sha256} // '') eq sha256_hex($pdf)
       && $dj->{label} eq 'Attestation de quotient familial de la CAF'
       && $dj->{size} == length $pdf,
       '... and is finished, with its label, size and digest')
        or diag outcome_text($fin);
    is(count_of("portal.messages WHERE request_id = '$id'"
                . " AND subject LIKE 'Pièce reçue%'"), 0,
       '... not acknowledged: the request is a draft (its submission is)');

    # outside brouillon, a document is acknowledged in its transaction;
    # its kind may come at the end (a form that gives it after the file)
    my $sent = decoded(create($A, 'signalement-voirie', data => \%VOIRIE));
    ok(submit($A, $sent->{id})->{ok}, 'a request submitted');
    my $jpeg = "\xff\xd8\xff\xe0 une photo";
    my $late = value(call('request_document_begin', $A, $sent->{id}, undef,
                          'trou.jpg'));
    like($late // '', $UUID, '... a document begins without its kind');
    as_portal_sql("SELECT portal.request_document_chunk('$A', '$late', 0,"
                  . " '\\x" . unpack('H*', $jpeg) . "'::bytea)");
    my $finish = sub {
        my ($kind) = @_;
        return as_portal_sql(
            "SELECT portal.request_document_finish('$A', '$late',"
            . " 'image/jpeg', '\\x" . sha256_hex($jpeg) . "', "
            . length($jpeg) . ", '$URL', " . sql_quote($kind) . ")");
    };
    is(refusal($finish->('livret_famille')), 'P0001 request_document_kind',
       '... finished with a kind the procedure does not ask for: refused');
    is(refusal($finish->(undef)), '23514 request_documents_kind',
       '... or with no kind at all');
    my $lj = decoded($finish->('photo')) // {};
    is(($lj->{kind} // '') . ' ' . ($lj->{label} // ''),
       'photo Photo du problème', '... finished with its kind and label');
    my ($ack) = q1("SELECT m.subject, o.xmin = m.xmin, m.xmin = d.xmin"
                   . " FROM portal.messages m"
                   . " JOIN portal.outbox o ON o.id = m.outbox_id"
                   . " JOIN portal.request_documents d ON d.id = '$late'"
                   . " WHERE m.request_id = '$sent->{id}'"
                   . " ORDER BY m.created_at DESC, m.id DESC LIMIT 1");
    ok($ack && $ack->[0] =~ /^Pièce reçue/ && $ack->[1] eq 't'
       && $ack->[2] eq 't',
       '... and acknowledged by mail, in the transaction that finished it')
        or diag explain $ack;
    my $c = as_portal_sql("SELECT n, encode(data, 'hex'), content_type,"
                          . " filename, size, chunks FROM"
                          . " portal.request_document_content('$A', '$id',"
                          . " '$doc')");
    is(join('', map { pack 'H*', $_->[1] } @{ $c->{rows} }), $pdf,
       'its content comes back in order, whole');
    ok(@{ $c->{rows} } == 3 && $c->{rows}[0][2] eq 'application/pdf'
       && $c->{rows}[0][3] eq 'attestation CAF.pdf' && $c->{rows}[0][5] == 3,
       '... with its type, name, size and number of chunks')
        or diag outcome_text($c);
    $c = as_portal_sql("SELECT n FROM portal.request_document_content('$A',"
                       . " '$id', '$doc', 1, 1)");
    is(join(',', map { $_->[0] } @{ $c->{rows} }), '1',
       '... or a few chunks at a time');
    is(join(' ', map { $_->{id} }
            @{ (decoded(call('request_get', $A, $id)) // {})->{documents}
               || [] }), $doc, 'the request lists it');

    # 20 documents a request, those still coming included
    my @more = map {
        value(call('request_document_begin', $A, $id, 'autre', "p$_.pdf"))
    } 2 .. 20;
    is(scalar(grep { defined && /$UUID/ } @more), 19,
       'up to 20 documents a request');
    is(refusal(call('request_document_begin', $A, $id, 'autre', 'x.pdf')),
       'P0001 request_documents_limit', '... not 21');
    is(value(call('request_document_abort', $A, $more[0])), 't',
       'an upload given up goes');
    like(value(call('request_document_begin', $A, $id, 'pai', 'pai.pdf'))
         // '', $UUID, '... and leaves room');

    # 50 MiB a request
    my $big = decoded(create($A, 'signalement-voirie', data => \%VOIRIE));
    my $bdoc = value(call('request_document_begin', $A, $big->{id},
                            'photo', 'grand.jpg'));
    my $fill = as_portal_sql(
        "DO \$\$ BEGIN FOR i IN 0..49 LOOP PERFORM"
        . " portal.request_document_chunk('$A', '$bdoc', i,"
        . " decode(repeat('ab', 1048576), 'hex')); END LOOP; END \$\$");
    ok($fill->{ok}, '50 MiB of chunks fit') or diag outcome_text($fill);
    is(refusal(as_portal_sql("SELECT portal.request_document_chunk('$A',"
                             . " '$bdoc', 50, '\\x00'::bytea)")),
       'P0001 request_documents_limit', '... not a byte more');
    is(refusal(call('request_document_begin', $A, $big->{id}, 'photo',
                    'autre.jpg')),
       'P0001 request_documents_limit', '... nor another document');

    # housekeeping: pending documents left over an hour, keys of a day
    my $old = value(call('request_document_begin', $A, $mine->{id}, 'autre',
                           'vieux.pdf'));
    q1("UPDATE portal.request_documents SET created_at = now()"
       . " - interval '2 hours' WHERE id IN ('$old', '$bdoc', '$doc')");
    q1("UPDATE portal.idempotency_keys SET created_at = now()"
       . " - interval '25 hours' WHERE key = 'k-create-1'"
       . " AND scope = '$A'");
    my $hk = as_portal_sql("SELECT portal.housekeeping('0 seconds')");
    ok($hk->{ok}, 'housekeeping runs') or diag outcome_text($hk);
    is(count_of("portal.request_documents WHERE id IN ('$old', '$bdoc')")
       . ' ' . count_of("portal.request_document_chunks"
                        . " WHERE document_id = '$bdoc'"),
       '0 0', '... pending documents of two hours go, with their chunks');
    is(count_of("portal.request_documents WHERE id = '$doc'")
       . ' ' . count_of("portal.request_documents WHERE id = '$more[1]'"),
       '1 1', '... complete ones stay, and recent pending ones');
    is(count_of("portal.idempotency_keys WHERE key = 'k-create-1'"), 1,
       '... idempotency keys of more than a day go (another account\'s'
       . ' stays)');

    # the PDF's data
    q1("UPDATE portal.requests SET state = 'valide' WHERE id = '$id';"
       . " INSERT INTO portal.request_events (request_id, from_state,"
       . " to_state, actor) VALUES"
       . " ('$id', 'brouillon', 'en_attente', 'citizen'),"
       . " ('$id', 'en_attente', 'en_traitement', 'agent'),"
       . " ('$id', 'en_traitement', 'valide', 'agent')");
    my $p = decoded(call('request_pdf', $A, $id)) // {};
    my %ans = map { $_->{name} => $_->{value} } @{ $p->{answers} || [] };
    is(join('|', @ans{qw(enfant nom menu lundi mardi jeudi allergie
                         date_debut)}),
       'Léa Durand|Durand|Menu sans porc|Oui|Non|Non|Non|01/09/2027',
       'the PDF\'s answers read as a person reads them');
    is(join(' ', map { $_->{name} } @{ $p->{answers} || [] }),
       join(' ', map { $_->{name} } @{ (portal_json(
           "SELECT portal.procedure_json('restauration-scolaire')")
           // {})->{fields} || [] }),
       '... in the form\'s order');
    is("$p->{state_label} : $p->{state_meaning}",
       'validé : votre demande a été validée, le résultat doit vous parvenir',
       '... the state in the FAQ\'s words');
    ok($p->{applicant}{name} eq 'Jean Dupont'
       && $p->{applicant}{address} eq '1 place de la Mairie, 44000 Nantes'
       && $p->{member}{name} eq 'Léa Durand'
       && $p->{theme}{title} eq 'Enfance et scolarité'
       && $p->{created_on} =~ /\A\d{1,2}(?:er)? \S+ \d{4} à \d{1,2} h \d\d\z/,
       '... the holder, the member, the theme, French dates')
        or diag explain $p;
    is(join(', ', map { "$_->{label}: $_->{filename} ($_->{size_text})" }
            @{ $p->{documents} || [] }),
       'Attestation de quotient familial de la CAF: attestation CAF.pdf'
       . ' (' . length($pdf) . ' octets)', '... the documents');
    is(join(' > ', map { $_->{to_label} } @{ $p->{history} || [] }),
       'brouillon > en attente > en traitement > validé', '... the history');
}


# ----------------------------------------------- GET me/requests, messages

{
    my $C = account_sql('claire.petit');
    my @ids;
    # made in one order, dated in another
    for my $day (3, 1, 5, 2, 4) {
        my $j = decoded(create($C, 'signalement-voirie', data => \%VOIRIE));
        q1("UPDATE portal.requests SET created_at = now()"
           . " - interval '1 day' * $day WHERE id = '$j->{id}'");
        push @ids, $j->{id};
    }
    my @order = map { $_->[0] } q1("SELECT id FROM portal.requests"
                                   . " WHERE account_id = '$C'"
                                   . " ORDER BY created_at DESC, id DESC");
    my $list = portal_json("SELECT portal.me_requests('$C', 3)");
    is(join(' ', map { $_->{id} } @{ $list || [] }),
       join(' ', @order[0 .. 2]), 'me/requests: newest first, limited');
    ok($list->[0]{reference} && $list->[0]{procedure}{title}
       && $list->[0]{state} eq 'brouillon' && exists $list->[0]{member}
       && $list->[0]{created_at},
       '... with reference, procedure, state, member and dates')
        or diag explain $list->[0];
    is(scalar @{ portal_json("SELECT portal.me_requests('$C', NULL)") || [] },
       5, '... all of them without a limit, none of another account');

    # GET me/requests checks the session in the same statement:
    # me_requests() runs on session_check()'s row only.  A limit it
    # refuses (-1) shows whether it ran at all.
    my $e = q1("SELECT session_epoch FROM portal.accounts WHERE id = '$C'");
    my $both = "SELECT portal.me_requests('$C', %s), s.login"
             . " FROM portal.session_check('$C', %d) s";
    my $r = as_portal_sql(sprintf($both, 'NULL', $e));
    ok($r->{ok} && @{ $r->{rows} } == 1
       && $r->{rows}[0][1] eq 'claire.petit'
       && $r->{rows}[0][0] =~ /\A\[\{"id" : /,
       'the list and the session in one statement: one row, the login last')
        or diag explain $r;
    $r = as_portal_sql(sprintf($both, '-1', $e + 1));
    ok($r->{ok} && !@{ $r->{rows} },
       '... a session over: no row, and me_requests() not run')
        or diag explain $r;
    is(refusal(as_portal_sql(sprintf($both, '-1', $e))), '2201W -',
       '... (on a live session it runs: LIMIT -1 refused)');

    # the list writes its JSON as text: what a person typed comes back
    # escaped, exactly, and the other values with their JSON types
    my $tricky = "Zo\x{e9} \"la\" \\ n\x{b0}1\t/";
    my $m = member_sql($C, 'child', 'Zo', 'Petit', '2015-06-01');
    q1("UPDATE portal.members SET first_name = " . sql_quote($tricky)
       . " WHERE id = '$m'");
    q1("UPDATE portal.requests SET member_id = '$m', submitted_at = now()"
       . " WHERE id = '$order[0]'");
    my $title = q1("SELECT title FROM portal.procedures"
                   . " WHERE slug = 'signalement-voirie'");
    q1("UPDATE portal.procedures SET title = " . sql_quote($tricky)
       . " WHERE slug = 'signalement-voirie'");
    $list = portal_json("SELECT portal.me_requests('$C', 2)");
    q1("UPDATE portal.procedures SET title = " . sql_quote($title)
       . " WHERE slug = 'signalement-voirie'");
    is_deeply([map { $_->{member} } @{ $list || [] }],
              [{ id => $m, name => "$tricky Petit" }, undef],
              '... a member\'s name escaped, null without a member')
        or diag explain $list;
    is($list->[0]{procedure}{title}, $tricky, '... a title escaped');
    like($list->[0]{submitted_at} // '',
         qr/\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d\z/,
         '... times in ISO 8601 with their offset');
    ok(!defined $list->[1]{submitted_at}
       && JSON::PP::is_bool($list->[1]{editable})
       && $list->[1]{editable} && !$list->[1]{pdf},
       '... null when never submitted, booleans as JSON\'s')
        or diag explain $list->[1];

    # each entry is written with its row (requests.list_head): what it
    # names, changed afterwards, changes it too
    my $entry = sub {
        my ($id) = @_;
        my ($e) = grep { $_->{id} eq $id }
                  @{ portal_json("SELECT portal.me_requests('$C', NULL)")
                     || [] };
        return $e || {};
    };
    q1("UPDATE portal.members SET first_name = 'Zo%s\"' WHERE id = '$m'");
    is($entry->($order[0])->{member}{name}, 'Zo%s" Petit',
       '... a member renamed later: the entry names them anew');
    q1("UPDATE portal.procedures SET title = 'Signalement 100%'"
       . " WHERE slug = 'signalement-voirie'");
    my $renamed = $entry->($order[0])->{procedure}{title};
    q1("UPDATE portal.procedures SET title = " . sql_quote($title)
       . " WHERE slug = 'signalement-voirie'");
    is($renamed, 'Signalement 100%', '... a procedure renamed too');
    is($entry->($order[0])->{procedure}{title}, $title,
       '... and renamed back');
    q1("UPDATE portal.request_states SET label = 'brouillon (essai)'"
       . " WHERE state = 'brouillon'");
    my $relabelled = $entry->($order[1])->{state_label};
    q1("UPDATE portal.request_states SET label = 'brouillon'"
       . " WHERE state = 'brouillon'");
    is($relabelled, 'brouillon (essai)', '... a state relabelled too');
    q1("UPDATE portal.requests SET state = 'en_attente'"
       . " WHERE id = '$order[1]'");
    my $moved = $entry->($order[1]);
    q1("UPDATE portal.requests SET state = 'brouillon'"
       . " WHERE id = '$order[1]'");
    ok($moved->{state} eq 'en_attente' && $moved->{state_label}
       eq 'en attente' && $moved->{editable} && !$moved->{pdf},
       '... a request moved: its new state, label and flags')
        or diag explain $moved;
    q1("DELETE FROM portal.members WHERE id = '$m'");
    ok(exists $entry->($order[0])->{member}
       && !defined $entry->($order[0])->{member},
       '... its member gone from the household: null');
    is(q1("SELECT count(*) FROM portal.requests r WHERE list_head IS"
          . " DISTINCT FROM portal_internal.request_list_head(r.id,"
          . " r.reference, r.procedure_id, r.state, r.member_id)"), 0,
       '... and every entry is what its row names now');
    q1("UPDATE portal.requests SET list_head = 'x' WHERE id = '$order[0]'");
    like(q1("SELECT list_head FROM portal.requests WHERE id = '$order[0]'"),
         qr/\A\{"id" : "$order[0]"/,
         '... even one written by hand: written again from the row');

    my $msgs = portal_json("SELECT portal.me_messages('$C')");
    is(scalar @$msgs, 5, 'me/messages: what the account was sent');
    my @dates = map { $_->{created_at} } @$msgs;
    is_deeply(\@dates, [sort { $b cmp $a } @dates], '... newest first');
    ok($msgs->[0]{request}{reference} && $msgs->[0]{kind} eq
       'acknowledgement' && $msgs->[0]{channel} eq 'email'
       && $msgs->[0]{subject} && $msgs->[0]{body},
       '... with kind, channel, subject, body and request')
        or diag explain $msgs->[0];
    q1("UPDATE portal.messages SET cancelled_at = now()"
       . " WHERE id = '$msgs->[0]{id}'");
    q1("UPDATE portal.messages SET send_at = now() + interval '1 day'"
       . " WHERE id = '$msgs->[1]{id}'");
    is(scalar @{ portal_json("SELECT portal.me_messages('$C')") }, 3,
       '... not those cancelled, nor those scheduled for later');

    # a message written 10 days ago, scheduled, gone yesterday: its date is
    # yesterday's, and it comes before one written and gone 2 days ago
    my ($two, $three, $sched) = map { $_->{id} } @$msgs[2 .. 4];
    q1("UPDATE portal.messages SET created_at = now() - interval '2 days'"
       . " WHERE id = '$two'");
    q1("UPDATE portal.messages SET created_at = now() - interval '3 days'"
       . " WHERE id = '$three'");
    q1("UPDATE portal.messages SET created_at = now() - interval '10 days',"
       . " send_at = now() - interval '1 day' WHERE id = '$sched'");
    $msgs = portal_json("SELECT portal.me_messages('$C')");
    is(join(' ', map { $_->{id} } @$msgs), "$sched $two $three",
       '... in the order they went: a scheduled one by its send_at');
    is($msgs->[0]{created_at},
       scalar q1("SELECT portal.iso_time(send_at) FROM portal.messages"
                 . " WHERE id = '$sched'"),
       '... whose date is when it went, not when it was written');
    is($msgs->[1]{created_at},
       scalar q1("SELECT portal.iso_time(created_at) FROM portal.messages"
                 . " WHERE id = '$two'"),
       '... one sent at once, when it was written');
    is(join(' ', map { $_->{id} }
                 @{ portal_json("SELECT portal.me_messages('$C', 2)") }),
       "$sched $two", '... and a limit keeps the newest by that date');
}


# ------------------------------------------- the bench's seed, references

{
    my $seed = Test::Portal::Requests::outcome(Test::Portal::run_cmd(
        ['psql', '-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-h',
         pg_host(), '-U', 'postgres', '-d', test_db(), '-c',
         "SET ROLE portal_owner; SELECT portal.bench_seed(500, 2000,"
         . " 'jean.dupont')"]));
    ok($seed->{ok}, 'the bench\'s seed runs as the owner, foreign keys'
       . ' checked') or diag $seed->{err};
    is(q1("SELECT count(*) FROM portal.accounts WHERE login LIKE 'bench.%'")
       . ' ' . q1("SELECT count(*) FROM portal.requests r"
                  . " JOIN portal.accounts a ON a.id = r.account_id"
                  . " WHERE a.login LIKE 'bench.%'"),
       '500 2000', '... 500 accounts, 2000 requests');
    is(q1("SELECT count(*) FROM portal.requests r"
          . " JOIN portal.accounts a ON a.id = r.account_id"
          . " WHERE a.login LIKE 'bench.%' AND r.state IS DISTINCT"
          . " FROM (SELECT to_state FROM portal.request_events e"
          . " WHERE e.request_id = r.id ORDER BY e.id DESC LIMIT 1)"), 0,
       '... each with its history up to its state');
    is(q1("SELECT count(DISTINCT state) FROM portal.requests"), 9,
       '... in all nine states');

    # me_requests reads the index, at this size already
    my $bench = q1("SELECT id FROM portal.accounts WHERE login = 'bench.7'");
    my ($rc, $out, $err) = Test::Portal::run_cmd(
        ['psql', '-X', '-q', '-tA', '-h', pg_host(), '-U', 'postgres',
         '-d', test_db(), '-c', "LOAD 'auto_explain';"
         . " SET auto_explain.log_min_duration = 0;"
         . " SET auto_explain.log_nested_statements = on;"
         . " SET auto_explain.log_level = warning;"
         . " SET ROLE portal;"
         . " SELECT json_array_length(portal.me_requests('$bench', 20)::json)"],
        env => { PGOPTIONS => '-c client_min_messages=warning' });
    ok($rc == 0 && $out =~ /^4$/m
       && $err =~ /Index[^\n]*Scan[^\n]*requests_account/
       && $err !~ /Seq Scan on requests\b/,
       'me_requests reads an account\'s requests through its index')
        or diag "$out$err";
    # each entry was written with its row: no other table is read
    ok($err !~ /procedures|request_states|members|Seq Scan/,
       '... and no other table, none read whole')
        or diag $err;

    # 20 requests at once: each waits for the year's counter, which a
    # session holds; all are numbered once it lets go
    my $year = q1("SELECT extract(year FROM now() AT TIME ZONE"
                  . " portal.town_zone())");
    my $s = pg_session();
    $s->query('BEGIN');
    my $n0 = $s->query("SELECT n FROM portal.request_counters"
                       . " WHERE year = $year FOR UPDATE");
    my $waited;
    my @res = as_portal_parallel([map {
        sprintf('SELECT portal.request_create(%s, %s, NULL, %s, NULL, NULL,'
                . " NULL, '')", sql_quote($A), "'signalement-voirie'",
                json_literal(\%VOIRIE))
    } 1 .. 20], started => sub {
        $waited = wait_until(sub { backends_waiting_on_lock() >= 20 }, 30,
                             '20 creations waiting for the counter');
        $s->query('COMMIT');
    });
    $s->close;
    ok($waited, '20 creations at once wait for the year\'s counter');
    my @refs = map { (decoded($_) // {})->{reference} // '?' } @res;
    my %seen = map { $_ => 1 } @refs;
    ok(!grep({ !$_->{ok} } @res) && keys %seen == 20,
       '... and get 20 references, all different')
        or diag join "\n", map { outcome_text($_) } grep { !$_->{ok} } @res;
    is(join(' ', sort @refs),
       join(' ', map { sprintf '%d-%06d', $year, $n0 + $_ } 1 .. 20),
       '... following each other, without a gap: YYYY-NNNNNN');
}


# ----------------------------------------------------------------- grants

{
    my @tables = qw(themes procedures catalog_meta request_states
                    request_transitions request_counters requests
                    request_events request_documents request_document_chunks
                    messages idempotency_keys);
    my @open = grep {
        !(refusal(as_portal_sql("SELECT 1 FROM portal.$_ LIMIT 0"))
          =~ /^42501/)
    } @tables;
    ok(!@open, 'portal cannot SELECT the tables of requests and the'
       . ' catalog') or diag "readable: @open";

    my (%defined, %expected);
    for my $file (glob "$FindBin::Bin/../sql/functions/0[89]*.sql") {
        open my $fh, '<:encoding(UTF-8)', $file or die "$file: $!\n";
        local $/;
        my $text = <$fh>;
        $defined{$1} = 1 while $text =~ /^CREATE FUNCTION portal\.(\w+)/mg;
    }
    $expected{$_} = 1 for qw(
        catalog_version catalog_json procedure_json catalog_snapshot
        idempotency_check request_create request_create_anonymous
        request_get request_update request_submit request_delete
        me_requests me_messages request_pdf request_document_begin
        request_document_chunk request_document_finish
        request_document_abort request_document_content
        request_document_remove request_documents);
    my %granted = map { $_->[0] => 1 } q1(
        "SELECT p.proname FROM pg_proc p WHERE p.pronamespace ="
        . " 'portal'::regnamespace AND has_function_privilege('portal',"
        . " p.oid, 'EXECUTE')");
    is(join(' ', sort grep { $granted{$_} } keys %defined),
       join(' ', sort keys %expected),
       'portal may call exactly the functions the module calls');
    is(refusal(as_portal_sql("SELECT portal.bench_seed(1, 1, 'x')")),
       '42501 -', '... not the bench\'s seed');
    is(refusal(as_portal_sql("SELECT portal_internal.fields_valid('[]')")),
       '42501 -', '... nor what the tables\' checks and triggers use');
}

