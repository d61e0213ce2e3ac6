# Requests without an account (seed flow B, and civil-status
# certificates): the applicant's details and a captcha.  Without a
# follow-up the request is submitted at once and the applicant told by
# mail; a procedure that needs an account refuses it, before the captcha
# is spent.  With a follow-up the account is made in the same transaction,
# its login mailed, and its session opened at once on the draft.  An
# Idempotency-Key makes a retry answer the first result without spending
# a second captcha.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use POSIX qw(strftime);
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Attack;

maildir_setup();
plan tests => 43;

sub field_errors {
    my ($res) = @_;
    return (($res->{json} // {})->{error} // {})->{fields} // {};
}

sub count_sql { scalar psql_query($_[0]) }

my %applicant = (civility => 'Mme', first_name => 'Émilie',
                 last_name => 'Roux', birth_date => '1990-06-15',
                 email => 'emilie.roux@example.org',
                 address => { line => '8 rue des Tilleuls',
                              postcode => '69003', city => 'Lyon' });

my %birth = (procedure => 'acte-naissance', applicant => \%applicant,
             data => { type_acte => 'copie_integrale',
                       qualite => 'interesse', exemplaires => 1 });

ok(start_nginx(http_config => citizen_http_config(), config => attack_api()),
   'nginx starts');


# --------------------------------------- a birth certificate, no account

my $c = client_from('10.57.0.1');
my $before = count_sql("SELECT count(*) FROM portal.requests");
my $res = $c->call(POST => 'requests', { %birth, captcha_id => captcha_api($c),
                                         captcha_answer => 'FAUX99' });
is($res->{status}, 422, 'a wrong captcha: 422');
is(error_code($res), 'captcha', '... captcha');
is(count_sql("SELECT count(*) FROM portal.requests"), $before,
   '... nothing stored');

$res = $c->call(POST => 'requests', { %birth, captcha_id => captcha_api($c),
                                      captcha_answer => $CAPTCHA_ANSWER });
is($res->{status}, 201, 'an acte de naissance without an account: 201')
    or diag $res->{body};
my $r = $res->{json} // {};
is($r->{state}, 'en_attente', '... submitted at once');
is($r->{data}{nom}, 'Roux', '... the name from the applicant');
is($r->{data}{date_naissance}, '1990-06-15', '... the birth date too');
like($r->{data}{adresse_envoi} // '', qr/8 rue des Tilleuls/,
     '... and the address');
ok(!grep({ /session/ } keys %{ cookies_of($res) }), '... no session opened');
my @told = wait_mails(1, sub {
    ($_[0]{headers}{to} // '') =~ /emilie\.roux\@example\.org/ });
like(($told[0] // {})->{body} // '', qr/\Q$r->{reference}\E/,
     '... the applicant is told by mail, with the reference');
is($c->call(GET => "requests/$r->{id}")->{status}, 401,
   '... which nobody reads without an account');

$res = $c->call(POST => 'requests', { %birth,
    applicant => { %applicant, email => 'pas-une-adresse', postcode => 1 },
    captcha_id => captcha_api($c), captcha_answer => $CAPTCHA_ANSWER });
is($res->{status}, 422, 'a wrong applicant: 422');
is(join(' ', sort keys %{ field_errors($res) }), 'applicant.email',
   '... on the applicant\'s fields');

$res = $c->call(POST => 'requests', { %birth, captcha_id => captcha_api($c) });
is(join(' ', sort keys %{ field_errors($res) }), 'captcha_answer',
   'no captcha answer: 422 on it');

$res = $c->call(POST => 'requests', { %birth, contact_mode => 'phone',
    captcha_id => captcha_api($c), captcha_answer => $CAPTCHA_ANSWER });
is(join(' ', keys %{ field_errors($res) }), 'contact_mode',
   'contact by phone without a phone: 422 on contact_mode');


# ------------------------------------ a procedure that needs an account

my %vote = (procedure => 'inscription-listes-electorales',
            applicant => \%applicant,
            data => { nationalite => 'francaise', motif => 'arrivee',
                      lieu_naissance => 'Lyon',
                      attestation => JSON::PP::true });
my $cap = captcha_api($c);
$res = $c->call(POST => 'requests', { %vote, captcha_id => $cap,
                                      captcha_answer => $CAPTCHA_ANSWER });
is($res->{status}, 422, 'the electoral roll without an account: 422');
is(error_code($res), 'account_required', '... account_required');
is(count_sql("SELECT used_at IS NULL FROM portal.captchas"
             . " WHERE id = '$cap'"), 't', '... its captcha not spent');

$res = $c->call(POST => 'requests', { %vote, follow_up => JSON::PP::true,
    password => 'court', captcha_id => $cap,
    captcha_answer => $CAPTCHA_ANSWER });
is(join(' ', sort keys %{ field_errors($res) }),
   'password security_answer security_question_id',
   'a follow-up without its account\'s fields: 422 on each');


# ----------------------------------------------- with a follow-up

my $f = client_from('10.57.0.2');
$res = $f->call(POST => 'requests', { %vote, follow_up => JSON::PP::true,
    password => 'Une phrase de passe assez longue',
    password_confirm => 'Une phrase de passe assez longue',
    security_question_id => 1, security_answer => 'Médor',
    captcha_id => captcha_api($f), captcha_answer => $CAPTCHA_ANSWER });
is($res->{status}, 201, 'with a follow-up: 201') or diag $res->{body};
$r = $res->{json} // {};
is($r->{login}, 'emilie.roux', '... an account, its login given');
is($r->{state}, 'brouillon', '... the request is its draft');
ok(length($r->{csrf_token} // ''), '... a new anti-CSRF token');
ok(grep({ /session/ } keys %{ cookies_of($res) }), '... a session opened');
$res = $f->call(GET => 'session');
is(($res->{json} // {})->{login}, 'emilie.roux', '... GET session: her');
is(($res->{json} // {})->{validated}, JSON::PP::false,
   '... not validated yet');
$res = $f->call(GET => "requests/$r->{id}");
is($res->{status}, 200, '... she reads her request');
$res = $f->call(POST => "requests/$r->{id}/submit");
is($res->{status}, 200, '... and submits it') or diag $res->{body};
is(($res->{json} // {})->{state}, 'en_attente', '... en attente');
my @login = wait_mails(1, sub {
    (mail_subject($_[0]) // '') =~ /identifiant/
    && ($_[0]{body} // '') =~ /emilie\.roux\b/ });
ok(@login, '... her login is mailed');
$res = $f->call(GET => 'me');
is(($res->{json} // {})->{holder}{email}, 'emilie.roux@example.org',
   '... the account holds the applicant');


# ----------------------------------------------------- Idempotency-Key

my $k = client_from('10.57.0.3');
my %body = (%birth, captcha_id => captcha_api($k),
            captcha_answer => $CAPTCHA_ANSWER);
my $first = $k->call(POST => 'requests', \%body,
                     headers => ['Idempotency-Key' => 'anonyme-57']);
is($first->{status}, 201, 'with an Idempotency-Key: 201');
my $again = $k->call(POST => 'requests', \%body,
                     headers => ['Idempotency-Key' => 'anonyme-57']);
is($again->{status}, 201, '... the retry, its captcha spent: 201');
is(($again->{json} // {})->{id}, ($first->{json} // {})->{id},
   '... the same request');
is(count_sql("SELECT count(*) FROM portal.requests"
             . " WHERE id = '" . (($first->{json} // {})->{id} // '') . "'"),
   1, '... made once');
$res = $k->call(POST => 'requests', { %body, data => { %{ $birth{data} },
                                                       exemplaires => 2 } },
                headers => ['Idempotency-Key' => 'anonyme-57']);
is($res->{status}, 422, 'the key with another body: 422');
is(error_code($res), 'idempotency_mismatch', '... idempotency_mismatch');
$res = $k->call(POST => 'requests', { %body },
                headers => ['Idempotency-Key' => 'x' x 256]);
is($res->{status}, 400, 'a key of 256 characters: 400');


# ------------------------------------------- a session that is not one

my $d = client_from('10.57.0.4');
$d->set_cookie('portal_session', 'pas-une-session');
$res = $d->call(POST => 'requests', { %birth, captcha_id => captcha_api($d),
                                      captcha_answer => $CAPTCHA_ANSWER });
is($res->{status}, 401, 'a bad session cookie: 401, not a request without'
                        . ' an account');

$res = $c->call(POST => 'requests', { procedure => 'acte-naissance' });
is($res->{status}, 422, 'the bare minimum: 422');
is(join(' ', sort keys %{ field_errors($res) }),
   'applicant captcha_answer captcha_id data.exemplaires data.qualite'
   . ' data.type_acte',
   '... every field named (the applicant gives the rest)');

check_error_log(0, 'no alert, crit or emerg');
