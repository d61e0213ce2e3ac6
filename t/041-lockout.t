# Nobody locks a citizen out: past the failure limit of a login (5) or of
# an address (30), POST session, POST password/reset and POST password ask
# for a captcha (429 captcha_required) and accept captcha_id and
# captcha_answer as POST accounts does; with a right one the owner gets in
# even after a stranger's 5 failures.  A wrong or spent captcha: 422
# captcha.  A much higher hard ceiling per address (200 failures in the
# window) stays: 429 too_many_attempts with Retry-After, captcha or not.  A
# successful login is not a failure.
#
# Each phase plays its own client address (X-Forwarded-For through realip)
# and its own logins.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Attack;

my $WRONG = 'Pas le bon mot de passe du tout';
my $NEW = 'Un nouveau mot de passe bien long';

sub fail_logins {
    my ($c, $login, $n) = @_;
    return join ' ', map { $c->call(POST => 'session',
                                    { login => $login,
                                      password => "$WRONG $_" })->{status} }
                     1 .. $n;
}

sub temp_mails {
    my ($login) = @_;
    return psql_query("SELECT count(*) FROM portal.outbox o"
                      . " JOIN portal.accounts a ON a.id = o.account_id"
                      . " WHERE a.login = '$login'"
                      . " AND o.subject = 'Votre mot de passe temporaire'");
}

sub failures {
    my ($scope, $key) = @_;
    return psql_query("SELECT count(*) FROM portal.auth_failures"
                      . " WHERE scope = '$scope' AND key = '$key'");
}

maildir_setup();
plan tests => 37;

account_sql($_) for qw(jean.dupont anne.martin paul.durand lea.petit
                       marc.blanc emma.roux hugo.leroy);

ok(start_nginx(http_config => citizen_http_config(), config => attack_api()),
   'nginx starts');


# ------------------------------------ POST session: a stranger's 5 failures

my $stranger = client_from('10.41.1.1');
is(fail_logins($stranger, 'jean.dupont', 5), '401 401 401 401 401',
   'a stranger fails 5 times to log in as jean.dupont');

my $owner = client_from('10.41.1.2');
my $res = $owner->login('jean.dupont', $PASSWORD);
ok($res->{status} == 429 && error_code($res) eq 'captcha_required',
   'the owner, elsewhere, with his password and no captcha: 429'
   . ' captcha_required') or diag body_text($res);

my $cap = captcha_api($owner);
$res = $owner->call(POST => 'session',
                    login_body('jean.dupont', $PASSWORD, $cap, 'ZZZZZZ'));
ok($res->{status} == 422 && error_code($res) eq 'captcha'
   && error_fields($res) eq 'captcha_answer',
   '... with a wrong captcha answer: 422 captcha on captcha_answer')
    or diag body_text($res);
ok(!grep({ /session/ } keys %{ cookies_of($res) }),
   '... and no session cookie') or diag join ' ', keys %{ cookies_of($res) };
$res = $owner->call(POST => 'session',
                    login_body('jean.dupont', $PASSWORD, $cap));
ok($res->{status} == 422 && error_code($res) eq 'captcha',
   '... that captcha again, now spent, with its right answer: 422 captcha')
    or diag body_text($res);

$res = $owner->call(POST => 'session',
                    login_body('jean.dupont', $PASSWORD, captcha_api($owner)));
is($res->{status}, 200, '... with a new, right captcha: 200, he is in')
    or diag body_text($res);
is($owner->call(GET => 'me')->{status}, 200, '... GET me works');


# ----------------------------------------------- the stranger gains nothing

is(fail_logins($stranger, 'anne.martin', 5), '401 401 401 401 401',
   'a stranger fails 5 times to log in as anne.martin');
$res = $stranger->call(POST => 'session',
                       login_body('anne.martin', "$WRONG 6",
                                  captcha_api($stranger), 'ZZZZZZ'));
ok($res->{status} == 422 && error_code($res) eq 'captcha',
   '... then a wrong password with a wrong captcha: 422 captcha')
    or diag body_text($res);
$res = $stranger->call(POST => 'session',
                       login_body('anne.martin', "$WRONG 7"));
ok($res->{status} == 429 && error_code($res) eq 'captcha_required',
   '... without a captcha: 429 captcha_required') or diag body_text($res);
$res = client_from('10.41.2.2')->call(POST => 'session',
           login_body('anne.martin', $PASSWORD, captcha_sql()));
is($res->{status}, 200, 'she still gets in with her password and a captcha')
    or diag body_text($res);


# ----------------------------------------------------- POST password/reset

my $r = client_from('10.41.3.1');
my @codes = map { $r->call(POST => 'password/reset',
                           { login => 'paul.durand', answer => "Rex $_" })
                    ->{status} } 1 .. 5;
is("@codes", '202 202 202 202 202', 'paul.durand: 5 wrong answers, 202 each');
$res = $r->call(POST => 'password/reset',
                { login => 'paul.durand', answer => 'Médor' });
ok($res->{status} == 429 && error_code($res) eq 'captcha_required',
   'then the right answer without a captcha: 429 captcha_required')
    or diag body_text($res);
$res = $r->call(POST => 'password/reset',
                { login => 'paul.durand', answer => 'Médor',
                  captcha_id => captcha_api($r), captcha_answer => 'ZZZZZZ' });
ok($res->{status} == 422 && error_code($res) eq 'captcha'
   && error_fields($res) eq 'captcha_answer',
   '... with a wrong captcha: 422 captcha on captcha_answer')
    or diag body_text($res);
is(temp_mails('paul.durand'), 0, '... no temporary password so far');
$res = $r->call(POST => 'password/reset',
                { login => 'paul.durand', answer => 'Médor',
                  captcha_id => captcha_api($r),
                  captcha_answer => $CAPTCHA_ANSWER });
is($res->{status}, 202, '... with a right captcha: 202')
    or diag body_text($res);
is(temp_mails('paul.durand'), 1, '... and a temporary password is mailed');
my $temp = temp_password_of('paul.durand');
ok(defined $temp, '... which arrives');


# ------------------------------------------- POST password, "current"

my $c = client_from('10.41.4.1');
is($c->login('lea.petit', $PASSWORD)->{status}, 200, 'lea.petit logs in');
@codes = map { $c->call(POST => 'password',
                        { current => "$WRONG $_", new => $NEW,
                          new_confirm => $NEW })->{status} } 1 .. 5;
is("@codes", '422 422 422 422 422', '5 wrong "current", 422 each');
$res = $c->call(POST => 'password', { current => $PASSWORD, new => $NEW,
                                      new_confirm => $NEW });
ok($res->{status} == 429 && error_code($res) eq 'captcha_required',
   'then the right "current" without a captcha: 429 captcha_required')
    or diag body_text($res);
$res = $c->call(POST => 'password', { current => $PASSWORD, new => $NEW,
                                      new_confirm => $NEW,
                                      captcha_id => captcha_api($c),
                                      captcha_answer => $CAPTCHA_ANSWER });
is($res->{status}, 200, '... with a right captcha: 200')
    or diag body_text($res);
is(client_from('10.41.4.2')->call(POST => 'session',
       login_body('lea.petit', $NEW, captcha_sql()))->{status}, 200,
   '... and the new password is hers');


# ------------------------------------- 30 failures from one address

psql_query("INSERT INTO portal.auth_failures (scope, key, kind)"
           . " SELECT 'addr', '10.41.5.1', 'password'"
           . " FROM generate_series(1, 30)");
$c = client_from('10.41.5.1');
$res = $c->login('marc.blanc', $PASSWORD);
ok($res->{status} == 429 && error_code($res) eq 'captcha_required',
   '30 failures from an address: a login that never failed gets 429'
   . ' captcha_required') or diag body_text($res);
$res = $c->call(POST => 'session',
                login_body('marc.blanc', $PASSWORD, captcha_api($c)));
is($res->{status}, 200, '... and with a captcha gets in')
    or diag body_text($res);


# ----------------------------------- the hard ceiling: 200 from 127.0.0.1

psql_query("INSERT INTO portal.auth_failures (scope, key, kind)"
           . " SELECT 'addr', '127.0.0.1', 'password'"
           . " FROM generate_series(1, 200)");
$c = citizen();         # 127.0.0.1 itself
$res = $c->call(POST => 'session',
                login_body('emma.roux', $PASSWORD, captcha_api($c)));
is($res->{status}, 429, '200 failures from 127.0.0.1: even with a right'
                        . ' captcha, 429') or diag body_text($res);
is(error_code($res), 'too_many_attempts', '... code too_many_attempts');
like($res->{headers}{'retry-after'} // '', qr/\A[1-9]\d*\z/,
     '... with Retry-After in seconds');
ok(!grep({ /session/ } keys %{ cookies_of($res) }), '... and no session');
is(client_from('10.41.6.2')->login('emma.roux', $PASSWORD)->{status}, 200,
   '... while from another address she logs in');


# --------------------------------------- a success is not a failure

$c = client_from('10.41.7.1');
is(fail_logins($c, 'hugo.leroy', 4), '401 401 401 401',
   'hugo.leroy: 4 wrong passwords');
is($c->login('hugo.leroy', $PASSWORD)->{status}, 200, '... then the right one');
is(fail_logins($c, 'hugo.leroy', 1), '401',
   '... then a wrong one is still just wrong (401)');
my $n = failures(addr => '10.41.7.1');
ok($n >= 1 && $n <= 5, 'at most 5 failures counted for the address, not'
                       . ' the success') or diag "$n failures";
ok(failures(login => 'hugo.leroy') <= 5,
   '... and at most 5 for the login');

check_error_log(0, 'no alert, crit or emerg in the whole log');
