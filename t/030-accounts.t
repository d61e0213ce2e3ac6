# POST accounts (seed flow A): 201 with the id, the login "prénom.nom"
# (accents folded, homonyms numbered) and validated false; the login is
# mailed once, as an RFC 5322 message in the Maildir.  Everything that is
# wrong is refused before anything is stored: a body that is not JSON
# (400), not sent as JSON (415), without the anti-CSRF token (403), missing
# or invalid fields, a weak password, a wrong, spent or expired captcha, an
# unknown security question (422).  GET security-questions lists the
# questions to choose from.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen;

use Encode ();
use Time::Local qw(timegm);

my $uuid_re = qr/\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\z/;

maildir_setup();
my $HTTP = citizen_http_config();

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value(config => $API) unless defined $block->config;
    $block->set_value(http_config => $HTTP)
        unless defined $block->http_config;
});

# the counts that no refused request may change
my $before;

sub unchanged {
    my ($name) = @_;
    my $now = row_counts();
    is_deeply($now, $before, "$name: nothing stored")
        or diag explain { before => $before, after => $now };
    $before = $now;     # one failure is reported once
}

# The error of a 422: its code and the sorted names of its fields.
sub error_of {
    my ($res) = @_;
    my $e = ($res->{json} // {})->{error} // {};
    return ($e->{code} // '', join ' ', sort keys %{ $e->{fields} || {} });
}

# POST accounts that must be refused with 422: code and fields
sub refused {
    my ($c, $name, $data, $code, $fields) = @_;
    my $res = $c->call(POST => 'accounts', $data);
    is($res->{status}, 422, "$name: 422") or diag $res->{body};
    my ($got_code, $got_fields) = error_of($res);
    is($got_code, $code, "$name: code $code");
    is($got_fields, $fields, "$name: fields $fields") if defined $fields;
    unchanged($name);
    return $res;
}

plan tests => count_tests() + 208;

ok(start_nginx(http_config => $HTTP, config => $API), 'nginx starts');
my $c = citizen();
$ENV{TEST_PORTAL_CSRF} = $c->token;
$ENV{TEST_PORTAL_CSRF_COOKIE} = 'portal_csrf=' . ($c->cookie('portal_csrf') // '');
$before = row_counts();

run_tests();

unchanged('the requests above');


# ------------------------------------------------------ security questions

my $res = $c->call(GET => 'security-questions');
is($res->{status}, 200, 'GET security-questions: 200');
like($res->{headers}{'content-type'} // '', qr{\Aapplication/json},
     '... in JSON');
my $q = $res->{json};
ok(ref $q eq 'ARRAY' && @$q >= 6, '... at least 6 questions')
    or diag $res->{body};
$q = [] unless ref $q eq 'ARRAY';
ok(!grep({ ref $_ ne 'HASH' || join(',', sort keys %$_) ne 'id,label' } @$q),
   '... each {id, label}');
ok(!grep({ !defined $_->{id} || $_->{id} !~ /\A\d+\z/ } @$q),
   '... ids are numbers');
my %ids = map { ($_->{id} // '') => 1 } @$q;
is(scalar keys %ids, scalar @$q, '... all different');
ok(!grep({ ($_->{label} // '') !~ /\A(?:Quel|Quelle|Dans|Où|Comment)\b.+ \?\z/ }
         @$q),
   '... French questions') or diag explain [map { $_->{label} } @$q];
ok(grep({ ($_->{label} // '') =~ /[éèêà]/ } @$q), '... with their accents');


# --------------------------------------------------------- a first account

my $off = error_log_offset();
my $cap1 = captcha_api($c);
$res = $c->call(POST => 'accounts', signup_data(captcha_id => $cap1));
is($res->{status}, 201, 'POST accounts: 201') or diag $res->{body};
like($res->{headers}{'content-type'} // '', qr{\Aapplication/json},
     '... in JSON');
my $a1 = $res->{json} // {};
my $id1 = ($a1->{id} // '') =~ $uuid_re ? $a1->{id}
        : '00000000-0000-4000-8000-000000000000';
is(join(',', sort keys %$a1), 'id,login,validated',
   '... with id, login and validated');
like($a1->{id} // '', $uuid_re, '... the id is a UUID');
is($a1->{login}, 'jean.dupont', '... the login is prénom.nom');
ok(JSON::PP::is_bool($a1->{validated}) && !$a1->{validated},
   '... not validated yet (false)');

my ($row) = psql_query("SELECT login, validated, civility, first_name,"
    . " last_name, birth_date, email, coalesce(phone, '-'), address_line,"
    . " postcode, city, contact_mode, question_id,"
    . " password_hash LIKE '\$argon2id\$%', answer_hash LIKE '\$argon2id\$%',"
    . " password_hash <> answer_hash"
    . " FROM portal.accounts WHERE id = '$id1'");
is(join('|', @{ $row || [] }),
   'jean.dupont|f|M|Jean|Dupont|1980-04-12|jean.dupont@example.org|-|'
   . '1 place de la Mairie|44000|Nantes|email|1|t|t|t',
   'the account is stored as sent, password and answer hashed (Argon2id)');
is(psql_query("SELECT count(*) FROM portal.accounts WHERE password_hash"
              . " LIKE '%$PASSWORD%' OR answer_hash ILIKE '%dor%'"),
   0, '... never in clear');

# the mail that gives the login: one file, a proper message
my $to_jean = sub { ($_[0]{headers}{to} // '') =~ /jean\.dupont\@example\.org/ };
my @m = wait_mails(1, $to_jean);
ok(wait_until(sub {
       psql_query("SELECT count(*) FROM portal.outbox WHERE state = 'sent'"
                  . " AND account_id = '$id1'") == 1 }, 5),
   'the outbox marks the mail sent');
@m = mails();
is(scalar @m, 1, 'exactly one file in mail/new') or diag explain
    [map { $_->{file} } @m];
my $m = $m[0] // { headers => {}, header_lines => [], body => '', head => '' };
is($m->{headers}{to}, 'jean.dupont@example.org', 'To: the holder');
is(mail_subject($m), 'Votre identifiant Mon Compte Citoyen',
   'Subject: the login');
like($m->{headers}{from} // '', qr/\A.*<[^<>\s]+\@[^<>\s]+>\z|\A[^<>\s]+\@[^<>\s]+\z/,
     'From: an address');
my $date = $m->{headers}{date} // '';
my %mon = (Jan => 0, Feb => 1, Mar => 2, Apr => 3, May => 4, Jun => 5,
           Jul => 6, Aug => 7, Sep => 8, Oct => 9, Nov => 10, Dec => 11);
my @d = $date =~ /\A(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)\z/;
ok(@d, 'Date: in the RFC 5322 format') or diag "Date: $date";
if (@d) {
    my $t = timegm($6, $5, $4, $1, $mon{$2}, $3)
          - ($7 eq '-' ? -1 : 1) * ($8 * 3600 + $9 * 60);
    ok(abs($t - time) < 300, '... and about now') or diag "Date: $date";
} else {
    fail('... and about now');
}
like($m->{headers}{'message-id'} // '', qr/\A<[^<>\s\@]+\@[^<>\s\@]+>\z/,
     'Message-ID: <unique@host>');
like($m->{headers}{'content-type'} // '', qr{\Atext/plain;\s*charset="?utf-8"?\z}i,
     'Content-Type: text/plain in UTF-8');
is($m->{headers}{'mime-version'}, '1.0', 'MIME-Version: 1.0');
my @dup = grep { my $n = lc $_->[0]; 1 < grep { lc $_->[0] eq $n } @{ $m->{header_lines} } }
          @{ $m->{header_lines} };
ok(!@dup, 'no header twice') or diag explain \@dup;
ok($m->{head} !~ /[^\t\r\n\x20-\x7e]/, 'headers in ASCII only');
ok(!grep({ !/\A[\x21-\x39\x3b-\x7e]+:/ && !/\A[ \t]/ } split /\r?\n/, $m->{head}),
   'every header line is "Name: value" or a continuation');
ok(!grep({ length > 998 } split /\r?\n/, $m->{raw} // ''),
   'no line over 998 characters');
ok(!defined $m->{body_error}, 'the body is UTF-8') or diag $m->{body_error};
like($m->{body}, qr/Votre identifiant : jean\.dupont\n/,
     'the body gives the login');
like($m->{body}, qr/\ABonjour Monsieur Jean Dupont,/, '... to the holder');
unlike($m->{raw} // '', qr/\Q$PASSWORD\E|M.dor/i,
       '... and neither the password nor the answer');
like(error_log_since($off), qr/account "jean\.dupont" created/,
     'the error log says the account was created (info)');
unlike(error_log_since($off), qr/\Q$PASSWORD\E/, '... never the password');

# the same captcha again, after its success
$before = row_counts();
refused($c, 'a captcha used once already', signup_data(captcha_id => $cap1),
        'captcha', 'captcha_answer');


# ---------------------------------------------------------------- homonyms

# an unknown security question is found by PostgreSQL, after the captcha
# and the hashing: the transaction leaves no trace, not even a number
refused($c, 'security question 99',
        signup_data(captcha_id => captcha_api($c), question => 99,
                    email => 'autre@example.org'),
        'invalid', 'security_question_id');

my $l2 = signup_ok($c, first_name => 'Jean', last_name => 'DUPONT',
                   email => 'jean2@example.org');
is($l2, 'jean.dupont2', 'a homonym: jean.dupont2 (no number lost)');
my $l3 = signup_ok($c, first_name => 'jean', last_name => 'Dupont',
                   email => 'jean3@example.org', civility => 'M');
is($l3, 'jean.dupont3', 'another: jean.dupont3');
my $l4 = signup_ok($c, first_name => 'Jéan', last_name => 'Dupont ',
                   email => 'jean4@example.org');
is($l4, 'jean.dupont4', 'with an accent and a space, the same name:'
                        . ' jean.dupont4');

for ([jean2 => 'jean.dupont2'], [jean3 => 'jean.dupont3'],
     [jean4 => 'jean.dupont4'])
{
    my ($who, $login) = @$_;
    my @mine = wait_mails(1, sub { ($_[0]{headers}{to} // '')
                                   eq "$who\@example.org" });
    ok(@mine == 1 && $mine[0]{body} =~ /Votre identifiant : \Q$login\E\n/,
       "$who\@example.org is mailed $login");
}


# --------------------------------------------------------- accent folding

for my $case (
    ['Mme', 'Éloïse', 'Lefèvre-Œuvray', 'eloise.lefevre-oeuvray',
     'eloise@example.org'],
    ['M', 'Charles', "D'Artagnan", 'charles.d-artagnan',
     'charles@example.org'],
    ['M', 'Jürgen', 'Großmann', 'jurgen.grossmann', 'jurgen@example.org'],
    ['Mme', 'Marie Hélène', 'N’Diaye', 'marie-helene.n-diaye',
     'mh@example.org'],
)
{
    my ($civility, $first, $last, $want, $email) = @$case;
    my $login = signup_ok($c, first_name => $first, last_name => $last,
                          email => $email, civility => $civility,
                          phone => '06 12 34 56 78', contact_mode => 'phone');
    is($login, $want, "$first $last: $want");
    my ($names) = psql_query("SELECT first_name || '|' || last_name"
                             . " FROM portal.accounts WHERE login = '$want'");
    is(Encode::decode('UTF-8', $names->[0] // ''), "$first|$last",
       '... the names are kept as written');
}
my ($eloise) = wait_mails(1, sub { ($_[0]{headers}{to} // '')
                                   eq 'eloise@example.org' });
like($eloise->{body} // '', qr/\ABonjour Madame Éloïse Lefèvre-Œuvray,/,
     'her mail greets her with her accents (UTF-8)');
like($eloise->{body} // '', qr/Votre identifiant : eloise\.lefevre-oeuvray\n/,
     '... and gives the folded login');


# ------------------------------------------------ what is refused, and why

$before = row_counts();

refused($c, 'an empty object', {}, 'invalid',
        'captcha_answer captcha_id contact_mode holder password'
        . ' security_answer security_question_id');

refused($c, 'an empty holder',
        signup_data(captcha_id => captcha_api($c), holder => {}),
        'invalid', 'holder.address holder.birth_date holder.civility'
        . ' holder.email holder.first_name holder.last_name');

refused($c, 'an empty address',
        signup_data(captcha_id => captcha_api($c),
                    holder => { civility => 'M', first_name => 'Jean',
                                last_name => 'Dupont',
                                birth_date => '1980-04-12',
                                email => 'jean.dupont@example.org',
                                address => {} }),
        'invalid', 'holder.address.city holder.address.line'
        . ' holder.address.postcode');

refused($c, 'wrong values in the holder',
        signup_data(captcha_id => captcha_api($c), civility => 'Mlle',
                    first_name => 'J3an', birth_date => '2999-01-01',
                    email => 'pas-une-adresse', phone => '123',
                    postcode => '4400'),
        'invalid', 'holder.address.postcode holder.birth_date'
        . ' holder.civility holder.email holder.first_name holder.phone');

refused($c, 'a phone number of 11 digits without "+"',
        signup_data(captcha_id => captcha_api($c),
                    phone => '06 12 34 56 78 9'),
        'invalid', 'holder.phone');
refused($c, 'an international number of 10 digits',
        signup_data(captcha_id => captcha_api($c), phone => '+3361234567'),
        'invalid', 'holder.phone');

refused($c, 'a date that does not exist',
        signup_data(captcha_id => captcha_api($c), birth_date => '1981-02-29'),
        'invalid', 'holder.birth_date');

refused($c, 'a member without what it needs',
        signup_data(captcha_id => captcha_api($c),
                    members => [{ kind => 'pet' }]),
        'invalid', 'members.0.birth_date members.0.first_name members.0.kind');

refused($c, 'contact by phone without a phone',
        signup_data(captcha_id => captcha_api($c), contact_mode => 'phone'),
        'invalid', 'contact_mode');
refused($c, 'contact by phone with an empty phone',
        signup_data(captcha_id => captcha_api($c), contact_mode => 'phone',
                    phone => ''),
        'invalid', 'contact_mode');
refused($c, 'contact by fax',
        signup_data(captcha_id => captcha_api($c), contact_mode => 'fax'),
        'invalid', 'contact_mode');

refused($c, 'security question 0',
        signup_data(captcha_id => captcha_api($c), question => 0),
        'invalid', 'security_question_id');
refused($c, 'an answer without letters nor digits',
        signup_data(captcha_id => captcha_api($c), answer => ' ?! '),
        'invalid', 'security_answer');

# passwords: 12 to 128 characters, not common, not the login nor the name
for my $p (['Court-de-11', '11 characters'],
           ['ééééééééééé', '11 characters of 2 bytes'],
           ['motdepasse123', 'a common one'],
           ['MotDePasse123', 'a common one, in capitals'],
           ['azerty123456', 'another common one'],
           ['Jean.Dupont!!', 'the login with signs'],
           ['jean  dupont', 'the name with two spaces'],
           ['JEAN-DUPONT--', 'the name in capitals'],
           ['jean.dupont@example.org', 'the email address'],
           ['x' x 129, '129 characters'])
{
    my ($pw, $why) = @$p;
    refused($c, "password refused: $why",
            signup_data(captcha_id => captcha_api($c), password => $pw),
            'invalid', 'password');
}

# the same checks right after a sign-up attempt with longer names (memory
# that a check might read past is then full of letters)
my @accepted;
for my $i (1 .. 10) {
    my $long = signup_data(last_name => 'Dupontabcdefghijklmnopqrstuvwxyz',
                           password => 'x');
    delete $long->{captcha_id};
    $c->call(POST => 'accounts', $long);
    my $d = signup_data(password => 'Jean.Dupont!!');
    delete $d->{captcha_id};
    my ($code, $fields) = error_of($c->call(POST => 'accounts', $d));
    push @accepted, $i unless $fields eq 'captcha_id password';
}
ok(!@accepted, 'the login as a password is refused after longer names too'
               . ' (10 times)') or diag "accepted at tries @accepted";
unchanged('those tries');

# accepted ones: only the missing captcha is left to say
for my $p (['éééééééééééé', '12 characters of 2 bytes'],
           ['JeanDupontJean', 'more than the name'],
           ['x' x 128, '128 characters'],
           ['Motdepasse123 bis', 'a common one and more'])
{
    my ($pw, $why) = @$p;
    my $d = signup_data(password => $pw);
    delete $d->{captcha_id};
    refused($c, "password accepted: $why", $d, 'invalid', 'captcha_id');
}

refused($c, 'the confirmation differs',
        signup_data(captcha_id => captcha_api($c),
                    password_confirm => "$PASSWORD."),
        'invalid', 'password_confirm');
refused($c, 'no confirmation',
        { %{ signup_data(captcha_id => captcha_api($c)) },
          password_confirm => undef },
        'invalid', 'password_confirm');

# captchas
my $wrong = captcha_sql();
refused($c, 'a wrong captcha answer',
        signup_data(captcha_id => $wrong, captcha_answer => 'ABCDEF'),
        'captcha', 'captcha_answer');
is(psql_query("SELECT used_at IS NOT NULL FROM portal.captchas"
              . " WHERE id = '$wrong'"),
   't', '... which spends it');
refused($c, '... and then the right answer', signup_data(captcha_id => $wrong),
        'captcha');

my $expired = captcha_sql();
psql_query("UPDATE portal.captchas SET expires_at = now() - interval '1 s'"
           . " WHERE id = '$expired'");
refused($c, 'an expired captcha', signup_data(captcha_id => $expired),
        'captcha', 'captcha_answer');
refused($c, 'an unknown captcha',
        signup_data(captcha_id => '1b4e28ba-2fa1-4d2e-8c3f-0123456789ab'),
        'captcha');
refused($c, 'a captcha id that is no UUID',
        signup_data(captcha_id => "x' OR '1'='1"), 'invalid', 'captcha_id');
refused($c, 'no captcha answer',
        signup_data(captcha_id => captcha_api($c), captcha_answer => ''),
        'invalid', 'captcha_answer');

# the answer is case-insensitive: lower case passes
my $lower = signup_ok($c, first_name => 'Paul', last_name => 'Minuscule',
                      email => 'paul@example.org',
                      captcha_id => captcha_api($c),
                      captcha_answer => lc $CAPTCHA_ANSWER);
is($lower, 'paul.minuscule', 'the captcha answer in lower case passes');

# the failures left no mail behind
is(psql_query("SELECT count(*) FROM portal.outbox WHERE recipient NOT IN"
              . " ('jean.dupont\@example.org', 'jean2\@example.org',"
              . " 'jean3\@example.org', 'jean4\@example.org',"
              . " 'eloise\@example.org', 'charles\@example.org',"
              . " 'jurgen\@example.org', 'mh\@example.org',"
              . " 'paul\@example.org')"),
   0, 'no mail for a refused account');
ok(wait_until(sub { psql_query("SELECT count(*) FROM portal.outbox"
                               . " WHERE state <> 'sent'") == 0 }, 5),
   'every queued mail is delivered');
is(scalar(mail_files()), psql_query("SELECT count(*) FROM portal.outbox"),
   '... one file each');

unlike(read_file(servroot() . '/logs/error.log'),
       qr/\Q$PASSWORD\E|motdepasse123|Court-de-11/,
       'no password in the error log');

__DATA__

=== TEST 1: a body that is not JSON: 400 bad_json
--- request
POST /api/accounts
{"holder": {"first_name": "Jean",
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
X-CSRF-Token: $TEST_PORTAL_CSRF
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_json
{"error": {"code": "bad_json", "message": {"~": "JSON"}}}
--- no_error_log
[error]



=== TEST 2: JSON that is not an object: 400 bad_json
--- request
POST /api/accounts
[{"holder": {}}]
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
X-CSRF-Token: $TEST_PORTAL_CSRF
Content-Type: application/json
--- error_code: 400
--- response_body_json
{"error": {"code": "bad_json", "message": {"~": "\\S"}}}
--- no_error_log
[error]



=== TEST 3: an empty body: 400 bad_json
--- request
POST /api/accounts
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
X-CSRF-Token: $TEST_PORTAL_CSRF
Content-Type: application/json
Content-Length: 0
--- error_code: 400
--- response_body_like
"bad_json"
--- no_error_log
[error]



=== TEST 4: a form instead of JSON: 415
--- request
POST /api/accounts
holder=Jean&password=secret
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
X-CSRF-Token: $TEST_PORTAL_CSRF
Content-Type: application/x-www-form-urlencoded
--- error_code: 415
--- response_body_json
{"error": {"code": "unsupported_media_type", "message": {"~": "JSON"}}}
--- no_error_log
[error]



=== TEST 5: JSON without a Content-Type: 415
--- request
POST /api/accounts
{}
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
X-CSRF-Token: $TEST_PORTAL_CSRF
--- error_code: 415
--- response_body_like
"unsupported_media_type"
--- no_error_log
[error]



=== TEST 6: without the anti-CSRF token: 403 csrf
--- request
POST /api/accounts
{}
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
Content-Type: application/json
--- error_code: 403
--- response_body_json
{"error": {"code": "csrf", "message": {"~": "\\S"}}}
--- no_error_log
[error]



=== TEST 7: a wrong anti-CSRF token: 403 csrf
--- request
POST /api/accounts
{}
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
X-CSRF-Token: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
Content-Type: application/json
--- error_code: 403
--- response_body_like
"code":"csrf"
--- no_error_log
[error]



=== TEST 8: the token without its cookie: 403 csrf
--- request
POST /api/accounts
{}
--- more_headers
X-CSRF-Token: $TEST_PORTAL_CSRF
Content-Type: application/json
--- error_code: 403
--- response_body_like
"code":"csrf"
--- no_error_log
[error]



=== TEST 9: GET accounts: 405, accounts are only created here
--- request
GET /api/accounts
--- error_code: 405
--- response_headers
Allow: POST
--- no_error_log
[error]



=== TEST 10: GET security-questions needs no session
--- request
GET /api/security-questions
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like
\A\[\{"id" ?: ?1, ?"label" ?: ?"Quel
--- no_error_log
[error]
