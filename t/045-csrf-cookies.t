# The anti-CSRF token is bound to the session and renewed when the session
# changes: a login and a logout set a new portal_csrf cookie and give a new
# csrf_token, the old token then fails (403 csrf), and an attacker's own
# cookie and token do not pass with a victim's session cookie.  A request
# with two portal_session or two portal_csrf cookies (cookie tossing) gets
# 400 bad_cookie.  With portal_cookie_secure on, the cookies are named
# __Host-portal_session and __Host-portal_csrf (Secure, Path=/, no Domain)
# and the plain names are ignored.  conf/portal.conf sends
# Strict-Transport-Security; conf/portal-headers.conf and the module do
# not both send X-Content-Type-Options.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Attack;

use Cwd qw(getcwd);

sub csrf_line {
    my ($res, $name) = @_;
    $name //= 'portal_csrf';
    my ($l) = grep { /\A\Q$name\E=/ } set_cookie_lines($res);
    return $l // '';
}

maildir_setup();
plan tests => 44;

account_sql('jean.dupont', validated => 1);
account_sql('anne.martin', validated => 1);

ok(start_nginx(http_config => citizen_http_config(), config => attack_api()),
   'nginx starts');


# ------------------------------------------------------- renewed at login

my $c = client_from('10.45.1.1');
my $csrf0 = $c->cookie('portal_csrf') // '';
my $token0 = $c->token;
ok(length $csrf0 && length $token0, 'GET session: a portal_csrf cookie and'
                                    . ' a token');
my $res = $c->login('jean.dupont', $PASSWORD);
is($res->{status}, 200, 'POST session: 200') or diag body_text($res);
my $csrf1 = cookies_of($res)->{portal_csrf};
ok(defined $csrf1 && $csrf1 ne $csrf0,
   '... sets a new portal_csrf cookie') or diag csrf_line($res);
my $token1 = ($res->{json} // {})->{csrf_token} // '';
ok(length $token1 && $token1 ne $token0, '... and gives a new csrf_token');

$res = $c->call(PATCH => 'me', { contact_mode => 'post' }, token => $token0);
ok($res->{status} == 403 && error_code($res) eq 'csrf',
   'the old token with the new cookies: PATCH me 403 csrf')
    or diag body_text($res);
$res = $c->call(DELETE => 'session', undef, token => $token0, keep => 1);
ok($res->{status} == 403 && error_code($res) eq 'csrf',
   '... DELETE session 403 csrf') or diag body_text($res);
is(psql_query("SELECT contact_mode FROM portal.accounts"
              . " WHERE login = 'jean.dupont'"), 'email',
   '... and nothing changed');

$res = $c->call(PATCH => 'me', { contact_mode => 'post' }, token => $token1);
is($res->{status}, 200, 'the new token: PATCH me 200') or diag body_text($res);
$c->{token} = $token1;
is(($c->call(GET => 'session')->{json} // {})->{csrf_token}, $token1,
   'GET session then gives the new token');


# ------------------------------------------------------ renewed at logout

$res = $c->call(DELETE => 'session');
is($res->{status}, 200, 'DELETE session: 200') or diag body_text($res);
my $csrf2 = cookies_of($res)->{portal_csrf};
ok(defined $csrf2 && length $csrf2 && $csrf2 ne $csrf1,
   '... sets a new portal_csrf cookie') or diag csrf_line($res);
my $token2 = ($res->{json} // {})->{csrf_token} // '';
ok(length $token2 && $token2 ne $token1, '... and gives a new csrf_token');


# -------------------------------------- an attacker's cookie and token

my $victim = client_from('10.45.2.1');
is($victim->login('anne.martin', $PASSWORD)->{status}, 200,
   'the victim logs in');
my $Sv = $victim->cookie('portal_session') // '';
my $attacker = client_from('10.45.2.2');
my $Ca = $attacker->cookie('portal_csrf') // '';
my $Ta = $attacker->token;
ok(length $Sv && length $Ca && length $Ta,
   "the attacker's own GET session: his cookie and token");
$res = $victim->call(PATCH => 'me', { contact_mode => 'post' },
                     cookie => "portal_session=$Sv; portal_csrf=$Ca",
                     token => $Ta, keep => 1);
ok($res->{status} == 403 && error_code($res) eq 'csrf',
   "the victim's session cookie with the attacker's portal_csrf and token:"
   . ' 403 csrf') or diag body_text($res);
is(psql_query("SELECT contact_mode FROM portal.accounts"
              . " WHERE login = 'anne.martin'"), 'email',
   '... and nothing changed');
$res = $victim->call(DELETE => 'session', undef,
                     cookie => "portal_session=$Sv; portal_csrf=$Ca",
                     token => $Ta, keep => 1);
ok($res->{status} == 403 && error_code($res) eq 'csrf',
   '... DELETE session too: 403 csrf') or diag body_text($res);
is($victim->call(GET => 'me')->{status}, 200,
   '... and the victim is still logged in');


# ----------------------------------------------------- two cookies of a name

my $Cv = $victim->cookie('portal_csrf') // '';
my $other = client_from('10.45.3.1');
$other->login('jean.dupont', $PASSWORD);
my $So = $other->cookie('portal_session') // '';
for my $case (
    ['two portal_session in one Cookie header',
     [Cookie => "portal_session=$So; portal_session=$Sv; portal_csrf=$Cv"]],
    ['two portal_session in two Cookie headers',
     [Cookie => "portal_session=$So; portal_csrf=$Cv",
      Cookie => "portal_session=$Sv"]],
    ['two portal_csrf in one Cookie header',
     [Cookie => "portal_csrf=$Ca; portal_session=$Sv; portal_csrf=$Cv"]],
    ['two portal_csrf in two Cookie headers',
     [Cookie => "portal_csrf=$Ca; portal_session=$Sv",
      Cookie => "portal_csrf=$Cv"]])
{
    my ($what, $headers) = @$case;
    $res = http_request(GET => '/api/me', headers => $headers);
    $res->{json} = decode_json_body($res);
    ok($res->{status} == 400 && error_code($res) eq 'bad_cookie',
       "$what: GET me 400 bad_cookie") or diag body_text($res);
}
$res = http_request(GET => '/api/session', headers =>
                    [Cookie => "portal_csrf=$Ca; portal_csrf=$Cv"]);
$res->{json} = decode_json_body($res);
ok($res->{status} == 400 && error_code($res) eq 'bad_cookie',
   'two portal_csrf: GET session 400 bad_cookie') or diag body_text($res);


# ---------------------------------------- portal_cookie_secure on: __Host-

ok(start_nginx(http_config => citizen_http_config(secure => 1),
               config => attack_api()),
   'nginx restarts with portal_cookie_secure on (the default)');
$c = client_from('10.45.4.1');
$res = $c->call(GET => 'session', undef, cookie => '');
my $line = csrf_line($res, '__Host-portal_csrf');
ok(length $line, 'GET session sets __Host-portal_csrf')
    or diag join "\n", set_cookie_lines($res);
like($line, qr/;\s*Secure(;|\z)/i, '... Secure');
like($line, qr/;\s*Path=\/(;|\z)/, '... Path=/');
unlike($line, qr/;\s*Domain=/i, '... no Domain');
ok(!grep({ /\Aportal_(?:csrf|session)=/ } set_cookie_lines($res)),
   '... and no cookie of the plain names');

$c = client_from('10.45.4.2');
$res = $c->login('jean.dupont', $PASSWORD);
is($res->{status}, 200, 'POST session: 200') or diag body_text($res);
$line = csrf_line($res, '__Host-portal_session');
ok(length $line, '... sets __Host-portal_session')
    or diag join "\n", set_cookie_lines($res);
like($line, qr/;\s*Secure(;|\z)/i, '... Secure');
like($line, qr/;\s*Path=\/(;|\z)/, '... Path=/');
unlike($line, qr/;\s*Domain=/i, '... no Domain');
$c->{token} = ($res->{json} // {})->{csrf_token} // $c->token;
is($c->call(GET => 'me')->{status}, 200, '... which opens the account');

my $session = $c->cookie('__Host-portal_session');
my $csrf = $c->cookie('__Host-portal_csrf');
$res = $c->call(GET => 'me', undef, keep => 1,
                cookie => 'portal_session=' . ($session // ''));
ok(defined $session && $res->{status} == 401,
   'its value as a plain portal_session cookie: ignored (401)')
    or diag body_text($res);
my $both = '__Host-portal_session=' . ($session // '');
$res = $c->call(PATCH => 'me', { contact_mode => 'email' }, keep => 1,
                cookie => "$both; portal_csrf=" . ($csrf // ''));
ok(defined $csrf && $res->{status} == 403 && error_code($res) eq 'csrf',
   'the csrf value as a plain portal_csrf cookie: ignored (403 csrf)')
    or diag body_text($res);
$res = $c->call(PATCH => 'me', { contact_mode => 'email' }, keep => 1,
                cookie => "$both; __Host-portal_csrf=" . ($csrf // ''));
ok(defined $csrf && $res->{status} == 200,
   '... as __Host-portal_csrf: PATCH me 200') or diag body_text($res);


# ------------------------------------------------------ the shipped conf/

my $top = getcwd();
my $example = read_file("$top/conf/portal.conf");
ok($example =~ /^\s*add_header\s+Strict-Transport-Security\s+"?max-age=\d+/m,
   'conf/portal.conf adds Strict-Transport-Security');

my $headers = read_file("$top/conf/portal-headers.conf");
ok(start_nginx(http_config => citizen_http_config(),
               config => "$headers\n" . attack_api()),
   'nginx restarts with conf/portal-headers.conf in the server');
for my $path ('/api/session', '/api/me') {
    $res = http_request(GET => $path);
    my $n = grep { lc $_->[0] eq 'x-content-type-options' }
            @{ $res->{header_list} || [] };
    is($n, 1, "GET $path ($res->{status}): X-Content-Type-Options once");
}

check_error_log(0, 'no alert, crit or emerg in the whole log');
