# Taking an account over.  A temporary password (mailed after a right
# security answer) dies as soon as its owner logs in with the usual
# password, and when the password changes: someone who reads the mail
# later gets nothing.  Changing the e-mail address (where temporary
# passwords go) needs the current password, and the old address is told.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Attack;

my $NEW = 'Un nouveau mot de passe bien long';

sub email_of {
    my ($login) = @_;
    return psql_query("SELECT email FROM portal.accounts"
                      . " WHERE login = '$login'");
}

maildir_setup();
plan tests => 31;

account_sql('jean.dupont');
account_sql('anne.martin');
account_sql('paul.durand', validated => 1);
account_sql('marc.leroy', validated => 1);

ok(start_nginx(http_config => citizen_http_config(), config => attack_api()),
   'nginx starts');


# ------------------------------- the owner logs in: the temporary one dies

my $c = client_from('10.47.1.1');
my $res = $c->call(POST => 'password/reset',
                   { login => 'jean.dupont', answer => 'Médor' });
is($res->{status}, 202, 'someone answers jean.dupont\'s question right: 202')
    or diag body_text($res);
my $temp = temp_password_of('jean.dupont');
like($temp // '', qr/\A[a-z2-9]{4}(?:-[a-z2-9]{4}){3}\z/,
     '... a temporary password is mailed');
$res = client_from('10.47.1.2')->login('jean.dupont', $PASSWORD);
is($res->{status}, 200, 'the owner logs in with his usual password: 200')
    or diag body_text($res);
is(psql_query("SELECT temp_password_hash IS NULL FROM portal.accounts"
              . " WHERE login = 'jean.dupont'"), 't',
   '... the temporary password is gone from the account');
$res = client_from('10.47.1.3')->login('jean.dupont', $temp // 'none');
is($res->{status}, 401, 'then the temporary password: 401')
    or diag body_text($res);
ok(!grep({ /session/ } keys %{ cookies_of($res) }), '... and no session');


# --------------------------------- the password changes: the temporary one dies

my $owner = client_from('10.47.2.1');
is($owner->login('anne.martin', $PASSWORD)->{status}, 200,
   'anne.martin is logged in');
$res = client_from('10.47.2.2')->call(POST => 'password/reset',
           { login => 'anne.martin', answer => 'Médor' });
is($res->{status}, 202, 'someone answers her question right: 202');
$temp = temp_password_of('anne.martin');
ok(defined $temp, '... a temporary password is mailed');
$res = $owner->call(POST => 'password', { current => $PASSWORD, new => $NEW,
                                          new_confirm => $NEW });
is($res->{status}, 200, 'she changes her password: 200')
    or diag body_text($res);
$res = client_from('10.47.2.3')->login('anne.martin', $temp // 'none');
is($res->{status}, 401, 'then the temporary password: 401')
    or diag body_text($res);


# ------------------------------ changing the e-mail address needs the password

my $p = client_from('10.47.3.1');
is($p->login('paul.durand', $PASSWORD)->{status}, 200,
   'paul.durand (validated) logs in');
my $OLD = 'paul.durand@example.org';
my $EVIL = 'intrus@example.net';
my $before = scalar mail_files();

$res = $p->call(PATCH => 'me', { holder => { email => $EVIL } });
ok($res->{status} == 422 && error_fields($res) eq 'current_password',
   'PATCH me, another email without current_password: 422 on'
   . ' current_password') or diag body_text($res);
is(email_of('paul.durand'), $OLD, '... nothing changed');

$res = $p->call(PATCH => 'me', { holder => { email => $EVIL },
                                 current_password => 'Pas le sien du tout' });
ok($res->{status} == 422 && error_fields($res) eq 'current_password',
   '... with a wrong current_password: 422 on current_password')
    or diag body_text($res);
is(email_of('paul.durand'), $OLD, '... nothing changed');

$res = $p->call(PATCH => 'me', { holder => { email => $OLD },
                                 contact_mode => 'email' });
is($res->{status}, 200, 'PATCH me with the same email as now needs no'
                        . ' password: 200') or diag body_text($res);

my $NEWMAIL = 'paul.nouveau@example.org';
$res = $p->call(PATCH => 'me', { holder => { email => $NEWMAIL },
                                 current_password => $PASSWORD });
is($res->{status}, 200, '... with the right current_password: 200')
    or diag body_text($res);
is((($res->{json} // {})->{holder} // {})->{email}, $NEWMAIL,
   '... the new address is answered');
is(email_of('paul.durand'), $NEWMAIL, '... and stored');
my @told = wait_mails(1, sub { ($_[0]{headers}{to} // '') =~ /\Q$OLD\E/ });
my ($mail) = @told;
ok($mail, 'a mail goes to the old address');
like(join("\n", mail_subject($mail // {}) // '', ($mail // {})->{body} // ''),
     qr/adresse|courriel|e-mail/i, '... saying the address was changed');
unlike(($mail // {})->{body} // '', qr/\Q$PASSWORD\E/,
       '... without the password');
ok(!grep({ ($_->{headers}{to} // '') =~ /\Q$EVIL\E/ } mails()),
   'nothing ever went to the refused address');
is(scalar(grep { ($_->{headers}{to} // '') =~ /\Q$OLD\E/ } mails()), 1,
   'one mail to the old address');


# ------------- past the failure limit, the e-mail change takes a captcha

# The guesses of current_password count as failed logins: past the limit
# the route asks for a captcha, and must be able to take one.
my $m = client_from('10.47.4.1');
is($m->login('marc.leroy', $PASSWORD)->{status}, 200,
   'marc.leroy (validated) logs in');
my @codes = map {
    $m->call(PATCH => 'me', { holder => { email => $EVIL },
                              current_password => "Faux numéro $_" })
      ->{status}
} 1 .. 5;
is("@codes", '422 422 422 422 422', '5 wrong current_password: 422 each');
$res = $m->call(PATCH => 'me', { holder => { email => $NEWMAIL },
                                 current_password => $PASSWORD });
ok($res->{status} == 429 && error_code($res) eq 'captcha_required',
   'then the right one: 429 captcha_required') or diag body_text($res);
$res = $m->call(PATCH => 'me', { holder => { email => 'marc@example.org' },
                                 current_password => $PASSWORD,
                                 captcha_id => captcha_api($m),
                                 captcha_answer => $CAPTCHA_ANSWER });
is($res->{status}, 200, '... with a right captcha: 200')
    or diag body_text($res);
is(email_of('marc.leroy'), 'marc@example.org', '... and the address changes');
