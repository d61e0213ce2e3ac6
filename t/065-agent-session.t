# Agents' sessions over HTTP (/admin/api/session): log in with the
# citizens' credentials flow (attempts counted before hashing, a captcha
# past the limits, counted apart from the citizens'), a cookie of its own
# (portal_agent, its own MAC key: a citizen's cookie never opens the
# agents' API, nor an agent's the citizens'), the anti-CSRF token bound to
# the agent's session, and every request checked in PostgreSQL (a log-out
# or a disabled agent ends every copy of the cookie).

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Requests;
use Test::Portal::Agents;

maildir_setup();
plan tests => 63;

my $CONF = "$API $ADMIN_API";

sub fields { (($_[0]{json} // {})->{error} // {})->{fields} // {} }
sub code { (($_[0]{json} // {})->{error} // {})->{code} // '' }

my $alice = agent_sql('alice', 'admin', name => 'Alice Admin');
my $ines = agent_sql('ines', 'instructeur', name => 'Inès',
                     themes => ['etat-civil']);
my $jean = account_sql('jean.dupont', validated => 1);

ok(start_nginx(http_config => citizen_http_config(), config => $CONF),
   'nginx starts');


# ---------------------------------------------------- nobody logged in

my $anon = agent_client();
my $res = $anon->call(GET => 'session');
is($res->{status}, 200, 'GET /admin/api/session without a session: 200');
is_deeply([sort keys %{ $res->{json} // {} }],
          [qw(authenticated csrf_token login name role themes)],
          '... authenticated, login, role, name, themes, csrf_token');
ok(!$res->{json}{authenticated} && !defined $res->{json}{role},
   '... nobody');
ok(defined $anon->cookie('portal_agent_csrf')
   && !defined $anon->cookie('portal_csrf'),
   '... the agents\' own anti-CSRF cookie, not the citizens\'');

$res = $anon->call(GET => 'accounts');
is($res->{status}, 401, 'an agent\'s route without a session: 401');
is(code($res), 'unauthenticated', '... unauthenticated');


# ---------------------------------------------------------------- log in

my $off = error_log_offset();
my $c = agent_client();
$res = $c->login('alice', 'pas le bon mot de passe');
is($res->{status}, 401, 'a wrong password: 401');
is(code($res), 'bad_credentials', '... bad_credentials');
$res = $c->login('personne', $AGENT_PASSWORD);
is($res->{status}, 401, 'an unknown login: the same 401');
like(error_log_since($off), qr/failed agent login for "alice"/,
     '... failures are logged');
unlike(error_log_since($off), qr/pas le bon/, '... never the password');

$res = $c->login('Alice', $AGENT_PASSWORD);
is($res->{status}, 200, 'the right password: 200') or diag $res->{body};
is_deeply({ map { $_ => $res->{json}{$_} } qw(authenticated login role name
                                               themes) },
          { authenticated => JSON::PP::true, login => 'alice',
            role => 'admin', name => 'Alice Admin', themes => [] },
          '... who is logged in');
my ($line) = grep { /\Aportal_agent=/ } set_cookie_lines($res);
like($line // '', qr/\Aportal_agent=[A-Za-z0-9_-]{82}; Path=\/; HttpOnly;/,
     '... a portal_agent cookie, HttpOnly');
ok(!grep({ /\Aportal_session=/ } set_cookie_lines($res)),
   '... and no citizen\'s cookie');
isnt($res->{json}{csrf_token}, $anon->token, '... a new anti-CSRF token');
is(scalar psql_query("SELECT last_login_at IS NOT NULL FROM portal.agents"
                     . " WHERE id = '$alice'"), 't', '... the log-in noted');

$res = $c->call(GET => 'session');
is($res->{json}{login}, 'alice', 'GET session: the agent');
is($c->call(GET => 'accounts?validated=false')->{status}, 200,
   '... and an agent\'s route opens');

my $i = agent_login('ines');
$res = $i->call(GET => 'session');
is_deeply([$res->{json}{role}, $res->{json}{themes}],
          ['instructeur', [{ slug => 'etat-civil', title =>
              scalar q1("SELECT title FROM portal.themes"
                        . " WHERE slug = 'etat-civil'") }]],
          'an instructeur: the role and the themes');


# ----------------------------------------- one API's cookie, not the other's

my $citizen = citizen();
is($citizen->login('jean.dupont', $PASSWORD)->{status}, 200,
   'a citizen logs in');
my $cs = $citizen->cookie('portal_session');
my $as = $c->cookie('portal_agent');

$res = $c->call(GET => 'accounts', undef,
                cookie => "portal_agent=$cs");
is($res->{status}, 401,
   'a citizen\'s cookie under the agents\' name: 401 (another key)');
$res = $c->call(GET => 'accounts', undef,
                cookie => "portal_session=$cs");
is($res->{status}, 401, '... under its own name: 401 in the agents\' API');
$res = $citizen->call(GET => 'me', undef, cookie => "portal_session=$as");
is($res->{status}, 401,
   'an agent\'s cookie under the citizens\' name: 401 in /api/');
$res = $citizen->call(GET => 'me', undef, cookie => "portal_agent=$as");
is($res->{status}, 401, '... under its own name: 401 in /api/');
$res = $citizen->call(GET => 'session', undef,
                      cookie => "portal_agent=$as");
ok(!$res->{json}{authenticated}, '... and /api/session says nobody');
is($citizen->call(GET => 'me')->{status}, 200,
   'the citizen\'s own cookie still opens /api/');


# ------------------------------------------------------------------ CSRF

my $req = submitted_request($jean, 'signalement-voirie');
$res = $c->call(POST => "requests/$req/transition",
                { to => 'en_traitement' }, no_csrf => 1);
is($res->{status}, 403, 'an unsafe request without X-CSRF-Token: 403');
is(code($res), 'csrf', '... csrf');
$res = $c->call(POST => "requests/$req/transition",
                { to => 'en_traitement' }, token => $i->token);
is($res->{status}, 403, '... with another agent\'s token: 403');
$res = $c->call(POST => "requests/$req/transition",
                { to => 'en_traitement' }, token => $citizen->token);
is($res->{status}, 403, '... with a citizen\'s token: 403');
$res = $c->call(POST => "requests/$req/transition",
                { to => 'en_traitement' }, token => $anon->token);
is($res->{status}, 403, '... with the token of before the log-in: 403');
is(scalar psql_query("SELECT state FROM portal.requests WHERE id = '$req'"),
   'en_attente', '... and nothing changed');
$res = $c->call(POST => "requests/$req/transition",
                { to => 'en_traitement' });
is($res->{status}, 200, 'with its own token: 200') or diag $res->{body};
$res = $c->call(DELETE => 'session', undef, no_csrf => 1);
is($res->{status}, 403, 'DELETE session without the token: 403');


# --------------------------------------------------- every copy ends

my $copy = $c->clone;
$res = $c->call(DELETE => 'session');
is($res->{status}, 200, 'DELETE session: 200');
ok(!$res->{json}{authenticated}, '... nobody any more');
ok(!defined $c->cookie('portal_agent'), '... the cookie removed');
$res = $copy->call(GET => 'accounts');
is($res->{status}, 401, 'a copy of the cookie: 401 after the log-out');
ok(!$copy->call(GET => 'session')->{json}{authenticated},
   '... and GET session says nobody');

my $i2 = $i->clone;
is($i->call(GET => 'requests')->{status}, 200, 'an instructeur in session');
q1("SELECT portal.agent_disable('ines')");
is($i2->call(GET => 'requests')->{status}, 401,
   '... disabled: 401 at the next request');
$res = agent_client()->login('ines', $AGENT_PASSWORD);
is($res->{status}, 401, '... and cannot log in any more');
agent_sql('ines', 'instructeur', themes => ['etat-civil']);
is($i2->call(GET => 'requests')->{status}, 401,
   '... enabled again: the old cookie still opens nothing');
$i = agent_login('ines');
is($i->call(GET => 'requests')->{status}, 200, '... a new log-in does');


# ------------------------------------------------- limits and captcha

my $bob = agent_sql('bob', 'instructeur');
my $b = agent_client();
for my $n (1 .. 5) {
    $b->login('bob', "faux $n");
}
is(scalar psql_query("SELECT count(*) FROM portal.auth_failures"
                     . " WHERE kind = 'agent' AND scope = 'login'"
                     . " AND key = 'bob'"), 5,
   '5 failures counted for the agent');
$res = $b->login('bob', $AGENT_PASSWORD);
is($res->{status}, 429, 'the 6th attempt, even right: 429');
is(code($res), 'captcha_required', '... captcha_required');
$res = $b->call(POST => 'captcha', undef, raw => '');
is($res->{status}, 201, 'a captcha from the agents\' API')
    or diag $res->{body};
my $cid = ($res->{json} // {})->{captcha_id};
$res = $b->call(POST => 'session', { login => 'bob',
                                     password => $AGENT_PASSWORD,
                                     captcha_id => $cid,
                                     captcha_answer => 'FAUX00' });
is($res->{status}, 422, 'a wrong answer: 422') or diag $res->{body};
$res = $b->call(POST => 'captcha', undef, raw => '');
$cid = ($res->{json} // {})->{captcha_id};
$res = $b->call(POST => 'session', { login => 'bob',
                                     password => $AGENT_PASSWORD,
                                     captcha_id => $cid,
                                     captcha_answer => $CAPTCHA_ANSWER });
is($res->{status}, 200, 'the captcha solved and the right password: 200')
    or diag $res->{body};
is($res->{json}{login}, 'bob', '... bob');

# the citizens' counters are not the agents'
my $cz = citizen();
for my $n (1 .. 5) {
    $cz->login('jean.dupont', "faux $n");
}
is($cz->login('jean.dupont', $PASSWORD)->{status}, 429,
   'a citizen past the limits: 429');
psql_query("INSERT INTO portal.agents (login, name, role, password_hash)"
           . " VALUES ('jean.dupont', 'Jean', 'instructeur',"
           . " '$AGENT_HASH')");
is(agent_client()->login('jean.dupont', $AGENT_PASSWORD)->{status}, 200,
   '... an agent of the same login is not');


# --------------------------------------------------------- malformed

$res = agent_client()->call(POST => 'session', { login => 'alice' });
is($res->{status}, 422, 'a log-in without a password: 422');
ok(exists fields($res)->{password}, '... the field password');
$res = agent_client()->call(POST => 'session', undef, raw => '{"login":');
is($res->{status}, 400, 'a broken body: 400');
$res = agent_client()->call(GET => 'accounts', undef,
                            cookie => 'portal_agent=' . ('A' x 82));
is($res->{status}, 401, 'a forged cookie: 401');
$res = agent_client()->call(GET => 'accounts', undef,
                            cookie => "portal_agent=$as; portal_agent=$as");
is($res->{status}, 400, 'two portal_agent cookies: 400');
is(code($res), 'bad_cookie', '... bad_cookie');

my $admin = agent_login('alice');
is($admin->call(GET => 'session')->{status}, 200, 'alice again');
check_error_log(0);
