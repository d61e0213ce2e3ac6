# Agents in PostgreSQL, through the functions the module will call, as the
# role it connects as: `make agent` (portal.agent_upsert() as the owner:
# roles, themes, a new password ending the sessions, an agent disabled),
# logging in with attempts counted before hashing as citizens' are (the
# same limits and captcha, but counters of their own), sessions and their
# epoch, who the agent is, the role an admin's function asks for, and the
# grants: portal may call the module's functions, not make agent nor read
# the new tables (t/064 checks the whole list).

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen qw();
use Test::Portal::Requests;
use Test::Portal::Agents;

use FindBin ();

plan tests => 50;

my $ADDR = '192.0.2.10';

sub begin_login {
    my ($login, %o) = @_;
    my $r = as_portal_sql(sprintf(
        'SELECT verdict, attempt, id, login, hash, epoch, role'
        . ' FROM portal.agent_credentials_begin(%s, %s, %s, %s)',
        sql_quote($login), sql_quote($o{addr} // $ADDR),
        sql_quote($o{captcha}), sql_quote($o{answer})));
    die "agent_credentials_begin: $r->{err}\n" unless $r->{ok};
    my @c = @{ $r->{rows}[0] };
    return { verdict => $c[0], attempt => $c[1], id => $c[2],
             login => $c[3], hash => $c[4], epoch => $c[5], role => $c[6] };
}

sub session_of {
    my ($id, $epoch) = @_;
    my $r = as_portal_sql(sprintf(
        'SELECT login, role, name FROM portal.agent_session_check(%s, %s)',
        sql_quote($id), $epoch));
    die "agent_session_check: $r->{err}\n" unless $r->{ok};
    return $r->{rows}[0];
}

sub epoch_of {
    return scalar q1("SELECT session_epoch FROM portal.agents"
                     . " WHERE id = '$_[0]'");
}


# ------------------------------------------------------------ make agent

my $alice = agent_sql('Alice', 'admin', name => 'Alice Admin');
like($alice // '', qr/\A[0-9a-f-]{36}\z/, 'agent_upsert makes an agent');
my $me = agent_json('agent_me', $alice);
is_deeply($me, { id => $alice, login => 'alice', name => 'Alice Admin',
                 role => 'admin', themes => [] },
          '... its login in lower case, its name and role; an admin has'
          . ' no themes (all of them)') or diag explain $me;

my $ines = agent_sql('ines', 'instructeur',
                     themes => ['etat-civil', 'cadre-de-vie']);
is_deeply([map { $_->{slug} } @{ agent_json('agent_me', $ines)->{themes} }],
          ['etat-civil', 'cadre-de-vie'],
          'an instructeur may be limited to themes, in the catalog\'s'
          . ' order');
is(agent_sql('ines', 'instructeur'), $ines,
   'agent_upsert of a login again updates that agent');
is(scalar @{ agent_json('agent_me', $ines)->{themes} }, 2,
   '... and keeps its themes when none are given');
agent_sql('ines', 'instructeur', themes => []);
is(scalar @{ agent_json('agent_me', $ines)->{themes} }, 0,
   '... an empty list lifts the limit');
agent_sql('ines', 'instructeur', themes => ['etat-civil']);

for my $bad (
    ['a role that does not exist', "'paul', 'maire', '$AGENT_HASH'",
     'agent_role'],
    ['an unknown theme', "'paul', 'instructeur', '$AGENT_HASH', NULL,"
     . " '{nulle-part}'", 'agent_theme'],
    ['themes for an admin', "'paul', 'admin', '$AGENT_HASH', NULL,"
     . " '{etat-civil}'", 'agent_theme'],
    ['a hash that is not Argon2id', "'paul', 'admin', 'md5:abcd'",
     'agents_password_hash_check'],
    ['a login with a space', "'paul dupont', 'admin', '$AGENT_HASH'",
     'agents_login_check'])
{
    my ($what, $args, $constraint) = @$bad;
    my ($rc, $out, $err) = Test::Portal::run_cmd(
        ['psql', '-X', '-q', '-v', 'VERBOSITY=verbose', '-h', pg_host(),
         '-U', 'postgres', '-d', test_db(), '-c',
         "SELECT portal.agent_upsert($args)"]);
    ok($rc != 0 && $err =~ /CONSTRAINT NAME:\s+\Q$constraint\E/,
       "make agent refuses $what ($constraint)") or diag $err;
}
is(q1("SELECT count(*) FROM portal.agents WHERE login LIKE 'paul%'"), 0,
   '... and makes nobody');


# ---------------------------------------------------------------- log in

my $b = begin_login('ALICE');
is($b->{verdict}, 'go', 'agent_credentials_begin: go for an agent');
ok($b->{id} eq $alice && $b->{hash} eq $AGENT_HASH && $b->{role} eq 'admin'
   && $b->{epoch} == epoch_of($alice),
   '... with what to check the password against, its epoch and role,'
   . ' whatever the login\'s case') or diag explain $b;
is(q1("SELECT count(*) FROM portal.auth_failures WHERE kind = 'agent'"
      . " AND attempt = $b->{attempt}"), 2,
   '... the attempt is counted before it is hashed, for the login and'
   . ' the address');
ok(as_portal_sql("SELECT portal.credentials_granted($b->{attempt})")->{ok}
   && as_portal_sql("SELECT portal.agent_login_succeeded('$alice')")->{ok},
   'credentials_granted() and agent_login_succeeded() after the right'
   . ' password');
is(q1("SELECT count(*) FROM portal.auth_failures WHERE kind = 'agent'"), 0,
   '... forget the attempt');
ok(q1("SELECT last_login_at > now() - interval '1 minute'"
      . " FROM portal.agents WHERE id = '$alice'") eq 't',
   '... and note when the agent logged in');

my $nobody = begin_login('personne');
ok($nobody->{verdict} eq 'go' && $nobody->{id} eq ''
   && $nobody->{hash} eq '',
   'an unknown login goes too (hashed against a dummy), without an id');

# five failures of a login, then a captcha; a citizen of the same login is
# not concerned
q1("DELETE FROM portal.auth_failures");
my @v = map { begin_login('alice', addr => "192.0.2.2$_")->{verdict} }
        1 .. 5;
is("@v", 'go go go go go', '5 attempts at an agent\'s login go');
is(begin_login('alice', addr => '192.0.2.30')->{verdict},
   'captcha_required', '... the 6th needs a captcha, from any address');
my $cit = as_portal_sql("SELECT verdict FROM portal.credentials_begin("
                        . "'password', 'alice', '192.0.2.30', NULL, NULL)");
is(value($cit), 'go', '... a citizen\'s login "alice" is counted apart');
my $captcha = Test::Portal::Citizen::captcha_sql('ABCDEF');
is(begin_login('alice', addr => '192.0.2.30', captcha => $captcha,
               answer => 'abcdef')->{verdict},
   'go', '... with a right captcha the agent may try again');
is(begin_login('alice', addr => '192.0.2.30', captcha => $captcha,
               answer => 'abcdef')->{verdict},
   'captcha_unknown', '... a captcha serves once');
my $wrong = Test::Portal::Citizen::captcha_sql('ABCDEF');
is(begin_login('alice', addr => '192.0.2.30', captcha => $wrong,
               answer => 'XXXXXX')->{verdict},
   'captcha_wrong', '... a wrong answer is refused and not counted');
is(q1("SELECT count(*) FROM portal.auth_failures WHERE scope = 'login'"
      . " AND key = 'alice' AND kind = 'agent'"), 6,
   '... 6 attempts counted for the agent\'s login');

# 30 from an address, then a captcha; 200, then nothing
q1("DELETE FROM portal.auth_failures");
q1("INSERT INTO portal.auth_failures (scope, key, kind, at)"
   . " SELECT 'addr', '198.51.100.7', 'agent', now()"
   . " FROM generate_series(1, 30)");
is(begin_login('alice', addr => '198.51.100.7')->{verdict},
   'captcha_required', 'past 30 attempts from an address, a captcha');
q1("INSERT INTO portal.auth_failures (scope, key, kind, at)"
   . " SELECT 'addr', '198.51.100.7', 'agent', now()"
   . " FROM generate_series(1, 170)");
is(begin_login('alice', addr => '198.51.100.7',
               captcha => Test::Portal::Citizen::captcha_sql('ABCDEF'),
               answer => 'ABCDEF')->{verdict},
   'blocked', '... past 200, nothing, captcha or not');
is(value(as_portal_sql("SELECT verdict FROM portal.credentials_begin("
                       . "'password', 'jean', '198.51.100.7', NULL,"
                       . " NULL)")),
   'go', '... which leaves the citizens\' logins from there alone');
q1("DELETE FROM portal.auth_failures");

# attempts at once never pass the limit
{
    my @res = as_portal_parallel([map {
        "SELECT verdict FROM portal.agent_credentials_begin('alice',"
        . " '203.0.113.$_', NULL, NULL)"
    } 1 .. 12]);
    my %n;
    $n{ value($_) // 'error' }++ for @res;
    is($n{go}, 5, '12 attempts at once: exactly 5 go')
        or diag explain \%n;
    is($n{captcha_required}, 7, '... the 7 others need a captcha');
    q1("DELETE FROM portal.auth_failures");
}


# --------------------------------------------------------------- sessions

my $e = epoch_of($alice);
is_deeply(session_of($alice, $e), ['alice', 'admin', 'Alice Admin'],
          'agent_session_check: the login, role and name of a session of'
          . ' the agent\'s epoch');
is(session_of($alice, $e + 1), undef, '... nothing for another epoch');
is(session_of('00000000-0000-4000-8000-000000000000', $e), undef,
   '... nor for an unknown id');
my $cit_id = Test::Portal::Citizen::account_sql('alice.martin');
is(session_of($cit_id, 1), undef, '... nor for a citizen\'s id');
is(as_portal_sql("SELECT login FROM portal.session_check('$alice', $e)")
       ->{out}, '', 'and session_check() (citizens) knows no agent');

ok(agent_call('agent_session_end', $alice, \"$e")->{ok}
   && epoch_of($alice) == $e + 1,
   'agent_session_end: log out moves the epoch on');
is(session_of($alice, $e), undef, '... the old cookie opens nothing');
agent_call('agent_session_end', $alice, \"$e");
is(epoch_of($alice), $e + 1, '... and an old cookie\'s log out moves'
                             . ' nothing');

$e = epoch_of($alice);
agent_sql('alice', 'admin');
is(epoch_of($alice), $e, 'make agent with the same password keeps the'
                         . ' sessions');
agent_sql('alice', 'admin', hash => "$AGENT_HASH-2");
is(epoch_of($alice), $e + 1, '... a new password ends them');

my $bob = agent_sql('bob', 'admin');
my $be = epoch_of($bob);
is(q1("SELECT portal.agent_disable('bob')"), 't',
   'agent_disable disables an agent');
is(session_of($bob, epoch_of($bob)), undef, '... whose sessions end');
is(begin_login('bob')->{id}, '', '... who logs in as nobody');
is(refusal(agent_call('agent_requests', $bob, undef, undef, undef, undef,
                      undef, undef)),
   'P0001 agent_session', '... and whose calls are refused (401)');
is(refusal(agent_call('agent_outbox', $ines, undef, undef, undef)),
   'P0001 agent_role', 'an instructeur may not call an admin\'s function'
   . ' (403)');


# ----------------------------------------------------------------- grants

{
    my @tables = qw(agents agent_themes audit_log letters calls);
    my @open = grep {
        !(refusal(as_portal_sql("SELECT 1 FROM portal.$_ LIMIT 0"))
          =~ /^42501/)
    } @tables;
    ok(!@open, 'portal cannot SELECT the back-office\'s tables')
        or diag "readable: @open";

    my %granted = map { $_->[0] => 1 } q1(
        "SELECT p.proname FROM pg_proc p WHERE p.pronamespace ="
        . " 'portal'::regnamespace AND has_function_privilege('portal',"
        . " p.oid, 'EXECUTE')");
    is(join(' ', grep { $granted{$_} } qw(
           agent_credentials_begin agent_login_succeeded
           agent_session_check agent_session_end agent_me)),
       'agent_credentials_begin agent_login_succeeded agent_session_check'
       . ' agent_session_end agent_me',
       'portal may log agents in, check and end their sessions');
    is(refusal(as_portal_sql("SELECT portal.agent_upsert('eve', 'admin',"
                             . " '$AGENT_HASH')")),
       '42501 -', '... not make agent');
    is(refusal(as_portal_sql("SELECT portal.attempt_begin('agent', 'x',"
                             . " 'y', NULL, NULL)")),
       '42501 -', '... nor the counting of attempts itself');
}
