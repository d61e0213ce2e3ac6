# Guessing in parallel: an attempt (a password or a security answer that
# gets hashed) is reserved in PostgreSQL before any hashing, so that many
# requests in flight at once cannot all pass the check before the first
# failure is counted.  Per login at most 5 failed-or-in-flight attempts, per
# client address 30, in 15 minutes; "password" (POST session, and "current"
# of POST password, on one counter) and "answer" (POST password/reset) are
# counted apart.  Past the limit: 429 captcha_required, without hashing.
#
# Each phase plays its own client address (X-Forwarded-For through realip)
# and its own logins, so that no phase sees another's counters.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Attack;

my $WRONG = 'Pas le bon mot de passe du tout';
my $NEW = 'Un nouveau mot de passe bien long';
my $T = 600;    # seconds for a burst's responses: 30 Argon2id hashes at
                # nice 19 took over 60 s at a load of 30; this tells a hang
                # from slowness, it asserts no speed

sub temp_mails {
    my ($login) = @_;
    return psql_query("SELECT count(*) FROM portal.outbox o"
                      . " JOIN portal.accounts a ON a.id = o.account_id"
                      . " WHERE a.login = '$login'"
                      . " AND o.subject = 'Votre mot de passe temporaire'");
}

sub password_unchanged {
    my ($login) = @_;
    return psql_query("SELECT password_hash = '$HASH{$PASSWORD}'"
                      . " FROM portal.accounts WHERE login = '$login'") eq 't';
}

maildir_setup();
plan tests => 35;

account_sql('jean.dupont');
account_sql('anne.martin');
account_sql('paul.durand');
account_sql('lea.petit');
account_sql('marc.blanc');
account_sql('emma.roux');
my @existing = map { "voisin.numero$_" } 1 .. 20;
account_sql($_) for @existing;

ok(start_nginx(http_config => citizen_http_config(), config => attack_api()),
   'nginx starts');


# ------------------------------- 40 wrong passwords and the right one, at once

my $c = client_from('10.40.1.1');
my @res = burst((map { [$c, POST => 'session',
                        { login => 'jean.dupont', password => "$WRONG $_" },
                        timeout => $T] } 1 .. 40),
                [$c, POST => 'session',
                 { login => 'jean.dupont', password => $PASSWORD },
                 timeout => $T]);
my @hashed = grep { ($_->{status} // 0) != 429 } @res;
ok(@hashed <= 5, 'POST session: 41 at once for one login, at most 5 are'
                 . ' hashed (not 429)')
    or diag status_summary(@res);
ok(!grep({ !defined $_->{status} } @res), '... every request is answered')
    or diag status_summary(@res);
ok(!grep({ $_->{status} != 401 && $_->{status} != 200 } @hashed),
   '... those hashed answer 401 (or 200 for the right one)')
    or diag status_summary(@res);
my @refused = grep { ($_->{status} // 0) == 429 } @res;
ok(@refused >= 36 && !grep({ error_code($_) ne 'captcha_required' } @refused),
   '... the others 429 with code captcha_required')
    or diag status_summary(@res);
my $right = $res[-1];
ok(($right->{status} // 0) == 429 || ($right->{status} // 0) == 200,
   '... the right password: 200 only as one of those hashed, else 429')
    or diag body_text($right);
if (($right->{status} // 0) != 200) {
    my $alone = $c->call(POST => 'session',
                         { login => 'jean.dupont', password => $PASSWORD });
    ok($alone->{status} == 429 && error_code($alone) eq 'captcha_required',
       'after the burst, the right password alone: 429 captcha_required')
        or diag body_text($alone);
} else {
    # its success came with at most 4 failures
    pass('the right password was among those hashed');
}


# --------------------------------- 40 wrong answers and the right one, at once

$c = client_from('10.40.2.1');
@res = burst((map { [$c, POST => 'password/reset',
                     { login => 'anne.martin', answer => "Rex $_" },
                     timeout => $T] } 1 .. 40),
             [$c, POST => 'password/reset',
              { login => 'anne.martin', answer => 'Médor' }, timeout => $T]);
@hashed = grep { ($_->{status} // 0) != 429 } @res;
ok(@hashed <= 5, 'POST password/reset: 41 at once, at most 5 are hashed'
                 . ' (not 429)')
    or diag status_summary(@res);
ok(!grep({ ($_->{status} // 0) != 202 } @hashed),
   '... those hashed answer 202') or diag status_summary(@res);
@refused = grep { ($_->{status} // 0) == 429 } @res;
ok(@refused >= 36 && !grep({ error_code($_) ne 'captcha_required' } @refused),
   '... the others 429 captcha_required')
    or diag status_summary(@res);
ok(temp_mails('anne.martin') <= 1, '... and one temporary password at most');
my $alone = $c->call(POST => 'password/reset',
                     { login => 'anne.martin', answer => 'Médor' });
ok($alone->{status} == 429 && error_code($alone) eq 'captcha_required',
   'after the burst, the right answer alone: 429 captcha_required')
    or diag body_text($alone);
ok(temp_mails('anne.martin') <= 1, '... and still one at most');


# ------------------------------------- 60 logins at once from one address

$c = client_from('10.40.3.1');
my @logins = ((map { "inconnu.numero$_" } 1 .. 40), @existing);
@res = burst(map { [$c, POST => 'session',
                    { login => $_, password => $WRONG }, timeout => $T] }
             @logins);
@hashed = grep { ($_->{status} // 0) != 429 } @res;
ok(@hashed <= 30, '60 wrong logins at once over 60 logins from one address:'
                  . ' at most 30 hashed (not 429)')
    or diag status_summary(@res);
ok(@hashed >= 1 && !grep({ ($_->{status} // 0) != 401 } @hashed),
   '... those hashed answer 401') or diag status_summary(@res);
@refused = grep { ($_->{status} // 0) == 429 } @res;
ok(@refused >= 30 && !grep({ error_code($_) ne 'captcha_required' } @refused),
   '... the others 429 captcha_required')
    or diag status_summary(@res);
$res[0] = client_from('10.40.3.1')->call(POST => 'session',
                                         { login => 'marc.blanc',
                                           password => $PASSWORD });
ok($res[0]{status} == 429 && error_code($res[0]) eq 'captcha_required',
   '... then a login that never failed, from that address: 429'
   . ' captcha_required') or diag body_text($res[0]);
$res[0] = client_from('10.40.3.2')->call(POST => 'session',
                                         { login => 'marc.blanc',
                                           password => $PASSWORD });
is($res[0]{status}, 200, '... and from another address: 200')
    or diag $res[0]{body};


# -------------------------------------------- POST password, "current" x 12

$c = client_from('10.40.4.1');
is($c->login('paul.durand', $PASSWORD)->{status}, 200, 'paul.durand logs in');
@res = burst(map { [$c, POST => 'password',
                    { current => "$WRONG $_", new => $NEW,
                      new_confirm => $NEW }, timeout => $T] } 1 .. 12);
@hashed = grep { ($_->{status} // 0) != 429 } @res;
ok(@hashed <= 5, 'POST password: 12 wrong "current" at once, at most 5'
                 . ' hashed (not 429)') or diag status_summary(@res);
ok(@hashed >= 1 && !grep({ $_->{status} != 422
                           || error_fields($_) ne 'current' } @hashed),
   '... those hashed: 422 on "current"') or diag status_summary(@res);
@refused = grep { ($_->{status} // 0) == 429 } @res;
ok(@refused >= 7 && !grep({ error_code($_) ne 'captcha_required' } @refused),
   '... the others 429 captcha_required')
    or diag status_summary(@res);
$res[0] = $c->call(POST => 'password', { current => $PASSWORD, new => $NEW,
                                         new_confirm => $NEW });
ok($res[0]{status} == 429 && error_code($res[0]) eq 'captcha_required',
   'then the right "current": 429 captcha_required')
    or diag body_text($res[0]);
$res[0] = client_from('10.40.4.2')->call(POST => 'session',
                                         { login => 'paul.durand',
                                           password => $PASSWORD });
ok($res[0]{status} == 429 && error_code($res[0]) eq 'captcha_required',
   '... and POST session for that login, from elsewhere: 429'
   . ' captcha_required (one counter)')
    or diag body_text($res[0]);
ok(password_unchanged('paul.durand'), '... and the password was not changed');
$res[0] = client_from('10.40.4.4')->call(POST => 'password/reset',
                                         { login => 'paul.durand',
                                           answer => 'Médor' });
is($res[0]{status}, 202, '... but the answers are counted apart: a reset'
                         . ' is still possible (202)') or diag $res[0]{body};
is(temp_mails('paul.durand'), 1, '... and mails a temporary password');


# ---------------- failed logins count toward "current" of POST password

$c = client_from('10.40.5.1');
is($c->login('lea.petit', $PASSWORD)->{status}, 200, 'lea.petit logs in');
my $s = client_from('10.40.5.2');
my @codes = map { $s->call(POST => 'session', { login => 'lea.petit',
                                                password => "$WRONG $_" })
                    ->{status} } 1 .. 5;
is("@codes", '401 401 401 401 401',
   'a stranger fails 5 times to log in as her');
$res[0] = $c->call(POST => 'password', { current => $PASSWORD, new => $NEW,
                                         new_confirm => $NEW });
ok($res[0]{status} == 429 && error_code($res[0]) eq 'captcha_required',
   'then her POST password, with the right "current": 429'
   . ' captcha_required') or diag body_text($res[0]);
ok(password_unchanged('lea.petit'), '... and her password did not change');


# ------------------------ the limits of one login do not touch another

$c = client_from('10.40.6.1');
@codes = map { $c->call(POST => 'session', { login => 'emma.roux',
                                             password => "$WRONG $_" })
                 ->{status} } 1 .. 5;
is("@codes", '401 401 401 401 401', 'emma.roux: 5 wrong passwords, one by one');
$res[0] = $c->call(POST => 'session', { login => 'emma.roux',
                                        password => $PASSWORD });
ok($res[0]{status} == 429 && error_code($res[0]) eq 'captcha_required',
   '... the 6th, the right one: 429 captcha_required')
    or diag body_text($res[0]);
is($c->call(POST => 'session', { login => 'marc.blanc',
                                 password => $PASSWORD })->{status}, 200,
   '... while another login from the same address works');

check_error_log(0, 'no alert, crit or emerg in the whole log');
