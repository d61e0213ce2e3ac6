# Sessions: GET session (the anti-CSRF cookie and token, who is logged
# in), POST session (log in: the portal_session cookie, HttpOnly,
# SameSite=Lax, Secure and named __Host- unless portal_cookie_secure is
# off), DELETE session
# (log out).  A wrong password and an unknown login answer alike; failures
# are logged without the password; past 5 per login or 30 per address a
# login needs a captcha (429 captcha_required).  A cookie dies when it is tampered with, when it
# expires (portal_session_timeout) and when the password changes.  Unsafe
# methods need the anti-CSRF token.  $portal_login names the citizen in the
# access log.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen;

use MIME::Base64 ();
use Time::HiRes qw(time);

maildir_setup();

my $LOG_FORMAT = "log_format portal '[\$portal_login] \"\$request\" \$status';\n";
my $HTTP = citizen_http_config(extra => $LOG_FORMAT);
my $CONF = "location /api/ { portal_api citizen;"
         . " access_log logs/access.log;"
         . " access_log logs/portal.log portal; }";

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value(config => $CONF) unless defined $block->config;
    $block->set_value(http_config => $HTTP)
        unless defined $block->http_config;
});

my $WRONG = 'Pas le bon mot de passe du tout';
my $cookie_re = qr/\A[A-Za-z0-9_-]{82}\z/;

# the expiry (seconds since the epoch) that a session cookie carries: the
# payload is the account id (16 bytes), the epoch (4), the expiry (8)
sub cookie_expiry {
    my ($value) = @_;
    return undef unless defined $value;
    (my $b64 = $value) =~ tr{-_}{+/};
    my $raw = MIME::Base64::decode_base64($b64);
    return undef unless length $raw >= 28;
    my ($hi, $lo) = unpack 'NN', substr($raw, 20, 8);
    return $hi * 4294967296 + $lo;
}

# (__Host-portal_session with portal_cookie_secure on)
sub session_cookie_line {
    my ($res) = @_;
    my ($l) = grep { /\A(?:__Host-)?portal_session=/ } set_cookie_lines($res);
    return $l // '';
}

sub failures {
    my ($scope, $key) = @_;
    return psql_query("SELECT count(*) FROM portal.auth_failures"
                      . " WHERE scope = '$scope' AND key = '$key'");
}

plan tests => count_tests() + 120;

my $jean = account_sql('jean.dupont');
account_sql('anne.martin');
account_sql('paul.durand');
account_sql('lea.petit');
account_sql('marc.blanc', validated => 1);

ok(start_nginx(http_config => $HTTP, config => $CONF), 'nginx starts');
my $anon = citizen();
$ENV{TEST_PORTAL_CSRF} = $anon->token;
$ENV{TEST_PORTAL_CSRF_COOKIE} = 'portal_csrf=' . ($anon->cookie('portal_csrf') // '');

run_tests();


# ---------------------------------------------------- nobody logged in yet

my $res = http_request(GET => '/api/session');
is($res->{status}, 200, 'GET session without cookies: 200');
my $s = decode_json_body($res) // {};
is(join(',', sort keys %$s), 'authenticated,csrf_token,login,validated',
   '... authenticated, login, validated, csrf_token');
ok(JSON::PP::is_bool($s->{authenticated}) && !$s->{authenticated},
   '... authenticated false');
ok(exists $s->{login} && !defined $s->{login}, '... login null');
ok(exists $s->{validated} && !defined $s->{validated}, '... validated null');
like($s->{csrf_token} // '', qr/\A[A-Za-z0-9_-]{43}\z/, '... a csrf_token');
my @csrf = grep { /\Aportal_csrf=/ } set_cookie_lines($res);
is(scalar @csrf, 1, '... and one portal_csrf cookie');
like($csrf[0] // '', qr/\Aportal_csrf=[A-Za-z0-9_-]{24}; /,
     '... of 24 random characters');
like($csrf[0] // '', qr/;\s*HttpOnly(;|\z)/i, '... HttpOnly');
like($csrf[0] // '', qr/;\s*SameSite=Lax(;|\z)/i, '... SameSite=Lax');
like($csrf[0] // '', qr/;\s*Path=\/(;|\z)/, '... Path=/');
unlike($csrf[0] // '', qr/Secure/i, '... not Secure (portal_cookie_secure off)');
like($res->{headers}{'cache-control'} // '', qr/no-store/,
     '... and the answer is not to be stored');

my $again = $anon->call(GET => 'session');
is(($again->{json} // {})->{csrf_token}, $anon->token,
   'the same cookie, the same token');
ok(!grep({ /\Aportal_csrf=/ } set_cookie_lines($again)),
   '... and no new cookie');
my $other = citizen();
isnt($other->token, $anon->token, 'another browser, another token');


# ------------------------------------------------------------------ log in

my $off = error_log_offset();
my $c = citizen();
$res = $c->login('jean.dupont', $PASSWORD);
is($res->{status}, 200, 'POST session with the right password: 200')
    or diag $res->{body};
is_deeply($res->{json},
          { authenticated => JSON::PP::true, login => 'jean.dupont',
            validated => JSON::PP::false, csrf_token => $c->token,
            password_change_required => JSON::PP::false },
          '... who is logged in, and the same csrf_token')
    or diag $res->{body};
my $line = session_cookie_line($res);
like($line, qr/\Aportal_session=[A-Za-z0-9_-]{82}; /,
     '... a portal_session cookie');
like($line, qr/;\s*HttpOnly(;|\z)/i, '... HttpOnly');
like($line, qr/;\s*SameSite=Lax(;|\z)/i, '... SameSite=Lax');
like($line, qr/;\s*Path=\/(;|\z)/, '... Path=/');
unlike($line, qr/Secure/i, '... without Secure (portal_cookie_secure off)');
unlike($line, qr/Max-Age=0/i, '... and it is not a removal');

$res = $c->call(GET => 'session');
is_deeply([@{ $res->{json} // {} }{qw(authenticated login validated)}],
          [JSON::PP::true, 'jean.dupont', JSON::PP::false],
          'GET session: logged in as jean.dupont');
$res = $c->call(GET => 'me');
is($res->{status}, 200, 'GET me with the cookie: 200');
is(($res->{json} // {})->{login}, 'jean.dupont', '... the account');

my $caps = citizen();
$res = $caps->login('Jean.DUPONT', $PASSWORD);
ok($res->{status} == 200 && ($res->{json} // {})->{login} eq 'jean.dupont',
   'the login in capitals works too, as the stored login');


# ------------------------------------------- failures: the same answer

$off = error_log_offset();
my $w = citizen();
my $bad = $w->login('jean.dupont', $WRONG);
my $unknown = $w->login('personne.inconnue', $WRONG);
is($bad->{status}, 401, 'a wrong password: 401');
is($unknown->{status}, 401, 'an unknown login: 401');
is($unknown->{body}, $bad->{body}, '... with the same body') or diag
    "wrong password: $bad->{body}\nunknown login: $unknown->{body}";
is(($bad->{json} // {})->{error}{code}, 'bad_credentials',
   '... code bad_credentials');
is(join(',', sort map { lc $_->[0] } @{ $bad->{header_list} }),
   join(',', sort map { lc $_->[0] } @{ $unknown->{header_list} }),
   '... and the same headers');
ok(!session_cookie_line($bad) && !session_cookie_line($unknown),
   '... and no session cookie');
my $log = error_log_since($off);
like($log, qr/\[warn\].*failed login for "jean\.dupont" from 127\.0\.0\.1/,
     'the failure is logged with the login and the address');
like($log, qr/\[warn\].*failed login for "personne\.inconnue" from 127\.0\.0\.1/,
     '... an unknown one too');
unlike($log, qr/\Q$WRONG\E/, '... never the password');
is(failures(login => 'jean.dupont'), 1, 'one failure counted for the login');

$res = $w->login('jean.dupont', '');
is($res->{status}, 422, 'an empty password: 422');
is(join(' ', sort keys %{ (($res->{json} // {})->{error} // {})->{fields} || {} }),
   'password', '... on the password field');


# ------------------------------------------------ 5 failures of a login

psql_query("DELETE FROM portal.auth_failures");
my $an = citizen();
# (the wrong ones at once: Argon2id works on every thread of the pool)
sub wrong_logins {
    my ($cl, $login, $n) = @_;
    my @h = map { $cl->start(POST => 'session',
                             { login => $login, password => "$WRONG $_" }) }
            1 .. $n;
    my @res = http_collect(@h);
    # what a surprise status said, for a run that cannot be watched (CI)
    diag("$login: ", $_->{status} // 'none', ' ',
         $_->{body} // $_->{error} // '')
        for grep { ($_->{status} // 0) != 401 } @res;
    return map { $_->{status} // 'none' } @res;
}
my @codes = wrong_logins($an, 'anne.martin', 4);
is("@codes", '401 401 401 401', 'anne.martin: 4 wrong passwords, 401 each');
is($an->login('anne.martin', $PASSWORD)->{status}, 200,
   '... the right one still opens the session');
is(failures(login => 'anne.martin'), 0, '... and wipes her failures');
@codes = wrong_logins($an, 'anne.martin', 5);
is("@codes", '401 401 401 401 401', '5 wrong passwords more');
$off = error_log_offset();
$res = $an->clone->login('anne.martin', $PASSWORD);
is($res->{status}, 429, 'then the right password: 429') or diag $res->{body};
is(($res->{json} // {})->{error}{code}, 'captcha_required',
   '... code captcha_required');
ok(!session_cookie_line($res), '... and no session');
like(error_log_since($off), qr/a captcha is needed for "anne\.martin"/,
     '... logged');
is($an->clone->login('ANNE.MARTIN', $PASSWORD)->{status}, 429,
   '... whatever the case of the login');
is($an->clone->call(POST => 'session',
                    { login => 'anne.martin', password => $PASSWORD,
                      captcha_id => captcha_api($an),
                      captcha_answer => $CAPTCHA_ANSWER })->{status}, 200,
   '... and with a captcha, the right password opens the session');
is(citizen()->login('paul.durand', $PASSWORD)->{status}, 200,
   'another login from the same address still works');


# ----------------------------------------- 30 failures from one address

psql_query("DELETE FROM portal.auth_failures");
# 28 failures over several logins, as if typed from 127.0.0.1 ...
psql_query("INSERT INTO portal.auth_failures (scope, key, kind)"
           . " SELECT 'addr', '127.0.0.1', 'password'"
           . " FROM generate_series(1, 28)");
# ... the 29th through the module
is(citizen()->login('quelqu.un', $WRONG)->{status}, 401,
   'a 29th failure from 127.0.0.1');
is(failures(addr => '127.0.0.1'), 29, '... counted for the address');
is(citizen()->login('paul.durand', $PASSWORD)->{status}, 200,
   'at 29, another login works');
is(citizen()->login('autre.personne', $WRONG)->{status}, 401,
   'the 30th failure, for yet another login');
$res = citizen()->login('lea.petit', $PASSWORD);
is($res->{status}, 429, 'at 30, a login that never failed gets 429')
    or diag $res->{body};
is(($res->{json} // {})->{error}{code}, 'captcha_required',
   '... code captcha_required');
psql_query("DELETE FROM portal.auth_failures");
is(citizen()->login('lea.petit', $PASSWORD)->{status}, 200,
   'once the failures are old (gone), it works again');


# ------------------------------------------------------ tampered cookies

my $good = $c->cookie('portal_session') // '';
like($good, $cookie_re, 'the session cookie: 82 base64url characters');
sub flip {
    my ($v, $i) = @_;
    my $ch = substr $v, $i, 1;
    substr($v, $i, 1) = $ch eq 'A' ? 'B' : 'A';
    return $v;
}
$off = error_log_offset();
for my $i (0, 20, 38, 50, 80) {
    my $t = $c->clone;
    $t->set_cookie(portal_session => flip($good, $i));
    is($t->call(GET => 'me')->{status}, 401,
       "a cookie with character $i changed: 401");
}
like(error_log_since($off), qr/session cookie with a wrong MAC/,
     '... said in the error log');
my $t = $c->clone;
$t->set_cookie(portal_session => substr($good, 0, 60));
is($t->call(GET => 'me')->{status}, 401, 'a truncated cookie: 401');
$t->set_cookie(portal_session => "$good$good");
is($t->call(GET => 'me')->{status}, 401, 'a doubled cookie: 401');
$t->set_cookie(portal_session => flip($good, 20));
$res = $t->call(GET => 'session', undef, keep => 1);
is($res->{status}, 200, 'GET session with a forged cookie: 200');
ok(!(($res->{json} // {})->{authenticated}), '... not authenticated');
like(session_cookie_line($res), qr/\Aportal_session=;.*Max-Age=0/i,
     '... and the cookie is removed');
is($c->call(GET => 'me')->{status}, 200, 'the genuine cookie still works');


# ------------------------------------------------------------ anti-CSRF

$res = $c->call(DELETE => 'session', undef, no_csrf => 1, keep => 1);
is($res->{status}, 403, 'DELETE session without X-CSRF-Token: 403');
is(($res->{json} // {})->{error}{code}, 'csrf', '... code csrf');
$res = $c->call(PATCH => 'me', { contact_mode => 'post' }, no_csrf => 1);
is($res->{status}, 403, 'PATCH me without X-CSRF-Token: 403');
is(($res->{json} // {})->{error}{code}, 'csrf', '... code csrf');
$res = $c->call(POST => 'password', { current => $PASSWORD,
                new => 'Un autre mot de passe', new_confirm =>
                'Un autre mot de passe' }, token => $other->token);
is($res->{status}, 403, "POST password with another browser's token: 403");
is(($res->{json} // {})->{error}{code}, 'csrf', '... code csrf');
$res = $c->call(POST => 'session', { login => 'jean.dupont',
                password => $PASSWORD }, token => substr($c->token, 0, 42) . 'x');
is($res->{status}, 403, 'POST session with a wrong token: 403');
$res = $c->call(POST => 'session', { login => 'jean.dupont',
                password => $PASSWORD }, no_csrf => 1, keep => 1);
is($res->{status}, 403, 'POST session without token: 403');
is(psql_query("SELECT contact_mode FROM portal.accounts"
              . " WHERE login = 'jean.dupont'"),
   'email', 'nothing was changed by the refused requests');


# ---------------------------------------- $portal_login in the access log

my $plog = servroot() . '/logs/portal.log';
my $poff = -s $plog // 0;
$c->call(GET => 'me');
$c->call(GET => 'me/requests');
$anon->call(GET => 'session');
citizen()->login('marc.blanc', $PASSWORD);
ok(wait_until(sub { read_file($plog, $poff) =~ /marc\.blanc/ }, 5),
   'the access log is written');
my $acc = read_file($plog, $poff);
like($acc, qr/^\[jean\.dupont\] "GET \/api\/me HTTP\/1\.1" 200$/m,
     '$portal_login: the login of an authenticated request');
like($acc, qr/^\[jean\.dupont\] "GET \/api\/me\/requests HTTP\/1\.1" 200$/m,
     '... of a route whose statement checks the session itself');
like($acc, qr/^\[-\] "GET \/api\/session HTTP\/1\.1" 200$/m,
     '... "-" without a session');
like($acc, qr/^\[marc\.blanc\] "POST \/api\/session HTTP\/1\.1" 200$/m,
     '... the login that just logged in');


# ------------------------------------------------------------- log out

my $before_logout = $c->clone;
$res = $c->call(DELETE => 'session');
is($res->{status}, 200, 'DELETE session: 200');
like(session_cookie_line($res), qr/\Aportal_session=;/,
     '... empties the cookie');
like(session_cookie_line($res), qr/;\s*Max-Age=0(;|\z)/i, '... Max-Age=0');
like(session_cookie_line($res), qr/;\s*HttpOnly(;|\z)/i, '... HttpOnly');
ok(!(($res->{json} // {})->{authenticated}), '... not authenticated any more');
ok(!defined $c->cookie('portal_session'), 'the browser drops it');
is($c->call(GET => 'me')->{status}, 401, 'GET me then: 401');
is(($c->call(GET => 'session')->{json} // {})->{authenticated},
   JSON::PP::false, 'GET session: authenticated false');
is($before_logout->call(GET => 'me')->{status}, 401,
   'a copy of the cookie kept from before the logout opens nothing: 401');


# ----------------------------------------- a password change ends sessions

psql_query("DELETE FROM portal.auth_failures");
my $tab1 = citizen();
my $tab2 = citizen();
is($tab1->login('paul.durand', $PASSWORD)->{status}, 200,
   'paul.durand logs in here');
is($tab2->login('paul.durand', $PASSWORD)->{status}, 200,
   '... and on another computer');
my $old1 = $tab1->cookie('portal_session');
my $old2 = $tab2->cookie('portal_session');
my $NEW = 'Un tout nouveau mot de passe';
$res = $tab1->call(POST => 'password', { current => $PASSWORD, new => $NEW,
                                         new_confirm => $NEW });
is($res->{status}, 200, 'he changes his password here: 200')
    or diag $res->{body};
isnt($tab1->cookie('portal_session'), $old1, '... and gets a new cookie');
is($tab1->call(GET => 'me')->{status}, 200, 'the new cookie works');
my $dead = $tab2->call(GET => 'me');
is($dead->{status}, 401, 'the other computer\'s cookie: 401');
is(($dead->{json} // {})->{error}{code}, 'unauthenticated',
   '... code unauthenticated');
my $old_here = $tab1->clone;
$old_here->set_cookie(portal_session => $old1);
is($old_here->call(GET => 'me')->{status}, 401,
   'the cookie of this computer before the change: 401');
my $stale = citizen();
$stale->set_cookie(portal_session => $old2);
$res = $stale->call(GET => 'session');
is($res->{status}, 200, 'GET session with that dead cookie: 200 (always)')
    or diag $res->{body};
ok(!(($res->{json} // {})->{authenticated}), '... not authenticated');
is(citizen()->login('paul.durand', $PASSWORD)->{status}, 401,
   'the old password fails');
is(citizen()->login('paul.durand', $NEW)->{status}, 200,
   'the new one works');


# ------------------------------------------------------ the whole log

my $all = read_file(servroot() . '/logs/error.log');
ok($all !~ /\Q$PASSWORD\E|\Q$WRONG\E|\Q$NEW\E/,
   'no password anywhere in the error log');


# ------------------------------------------------ Secure, by default

ok(start_nginx(http_config => citizen_http_config(secure => 1),
               config => $API), 'nginx starts without portal_cookie_secure');
my $sec = citizen();
$res = $sec->login('jean.dupont', $PASSWORD);
like(session_cookie_line($res), qr/;\s*Secure(;|\z)/i,
     'the session cookie is Secure by default');
like(join("\n", set_cookie_lines(http_request(GET => '/api/session'))),
     qr/\A__Host-portal_csrf=.*;\s*Secure(;|\z)/mi,
     '... and so is __Host-portal_csrf');

ok(start_nginx(http_config => citizen_http_config(secure => 1)
                              . "portal_cookie_secure on;\n",
               config => $API), 'nginx starts with portal_cookie_secure on');
$res = citizen()->login('jean.dupont', $PASSWORD);
like(session_cookie_line($res), qr/;\s*Secure(;|\z)/i, '... Secure');


# ------------------------------------------------------- expiry

ok(start_nginx(http_config => citizen_http_config(extra =>
                                  "portal_session_timeout 2s;\n"),
               config => $API), 'nginx starts with portal_session_timeout 2s');
my $e = citizen();
my $t0 = time;
is($e->login('jean.dupont', $PASSWORD)->{status}, 200, 'a login');
my $t1 = time;

# measured from the cookie's own issue time (its expiry less the timeout),
# not from before the login: a login may take seconds under valgrind
my $expires = cookie_expiry($e->cookie('portal_session'));
ok(defined $expires && $expires >= int($t0) + 2 - 1
   && $expires <= $t1 + 2 + 1,
   '... whose cookie expires 2 s after it was issued')
    or diag "issued between $t0 and $t1, expires at " . ($expires // '?');
my $before = $e->call(GET => 'me', undef, keep => 1);
ok($before->{status} == 200 || time >= ($expires // 0),
   '... the cookie works until then') or diag $before->{status};
my $gone = wait_until(sub { $e->call(GET => 'me', undef, keep => 1)
                                ->{status} == 401 },
                      ($expires // time) - time + 4, 'the cookie to expire');
my $gone_at = time;
ok($gone, 'then it expires: 401');
ok($gone_at >= ($expires // 0) - 1, '... not before its expiry')
    or diag "401 at $gone_at, expiry at $expires";
is(($e->call(GET => 'session')->{json} // {})->{authenticated},
   JSON::PP::false, 'GET session: not authenticated any more');

__DATA__

=== TEST 1: GET me without a session: 401 unauthenticated
--- request
GET /api/me
--- error_code: 401
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_json
{"error": {"code": "unauthenticated", "message": {"~": "connecter"}}}
--- no_error_log
[error]



=== TEST 2: POST session without the anti-CSRF token: 403 csrf
--- request
POST /api/session
{"login": "jean.dupont", "password": "Un mot de passe assez long"}
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
Content-Type: application/json
--- error_code: 403
--- response_headers
! Set-Cookie
--- response_body_json
{"error": {"code": "csrf", "message": {"~": "\\S"}}}
--- no_error_log
[error]
Un mot de passe assez long



=== TEST 3: POST session, a body that is not JSON: 400 bad_json
--- request
POST /api/session
login=jean.dupont
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
X-CSRF-Token: $TEST_PORTAL_CSRF
Content-Type: application/json
--- error_code: 400
--- response_body_like
"bad_json"
--- no_error_log
[error]



=== TEST 4: POST session without a password: 422 on both fields
--- request
POST /api/session
{"login": ""}
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
X-CSRF-Token: $TEST_PORTAL_CSRF
Content-Type: application/json
--- error_code: 422
--- response_body_json
{"error": {"code": "invalid", "message": {"~": "\\S"},
           "fields": {"login": {"~": "\\S"}, "password": {"~": "\\S"}}}}
--- no_error_log
[error]



=== TEST 5: DELETE session without the anti-CSRF token: 403
--- request
DELETE /api/session
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
--- error_code: 403
--- response_body_like
"csrf"
--- no_error_log
[error]



=== TEST 6: PUT session: 405 with the methods allowed
--- request
PUT /api/session
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
X-CSRF-Token: $TEST_PORTAL_CSRF
Content-Length: 0
--- error_code: 405
--- response_headers
Allow: GET, HEAD, POST, DELETE
--- no_error_log
[error]



=== TEST 7: a wrong password: 401, logged with the login and the address only
--- request
POST /api/session
{"login": "lea.petit", "password": "Ceci n'est pas le sien"}
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
X-CSRF-Token: $TEST_PORTAL_CSRF
Content-Type: application/json
--- error_code: 401
--- response_headers
! Set-Cookie
--- response_body_json
{"error": {"code": "bad_credentials", "message": {"~": "incorrect"}}}
--- error_log
failed login for "lea.petit" from 127.0.0.1
--- no_error_log
[error]
Ceci n'est pas le sien
