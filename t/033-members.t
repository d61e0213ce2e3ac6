# The "Compte" tab: GET me (the holder, the login, validated, the contact
# mode, the household's members with their kind); PATCH me changes the
# holder or the contact mode, POST me/members adds an adult or a child
# (what is left out comes from the holder), GET and PATCH me/members/{id}
# read and change one — changes only once the town hall validated the
# account (403 account_not_validated before, and nothing changes).  Another
# household's members do not exist (404).  GET me/documents is allowed
# before validation; GET me/export gives everything held on the account.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen;

use Digest::SHA qw(sha256_hex);
use Encode ();

maildir_setup();
my $HTTP = citizen_http_config();

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value(config => $API) unless defined $block->config;
    $block->set_value(http_config => $HTTP)
        unless defined $block->http_config;
});

my $uuid_re = qr/\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\z/;

sub error_code { (($_[0]{json} // {})->{error} // {})->{code} // '' }

sub error_fields {
    join ' ', sort keys %{ ((($_[0]{json} // {})->{error} // {})->{fields})
                           || {} };
}

# the account's row and its members' rows, as text: "nothing changed"
sub snapshot {
    my ($id) = @_;
    my @rows = psql_query("SELECT a::text FROM portal.accounts a"
                          . " WHERE id = '$id'");
    push @rows, psql_query("SELECT m::text FROM portal.members m"
                           . " WHERE account_id = '$id' ORDER BY id");
    return join "\n", map { $_->[0] } @rows;
}

sub member_sql {
    my ($account, $kind, $first, $last, $birth) = @_;
    my $sql = "INSERT INTO portal.members (account_id, kind, first_name,"
            . " last_name, birth_date, address_line, postcode, city)"
            . " VALUES ('$account', '$kind', '$first', '$last', '$birth',"
            . " '9 rue des Lilas', '35000', 'Rennes') RETURNING id";
    utf8::encode($sql);
    return scalar psql_query($sql);
}

plan tests => count_tests() + 132;

my $jean = account_sql('jean.dupont');
my $anne = account_sql('anne.martin', validated => 1);
my $annes_child = member_sql($anne, 'child', 'Lou', 'Martin', '2016-09-09');
my $jeans_first = member_sql($jean, 'adult', 'Sophie', 'Dupont', '1981-05-06');

ok(start_nginx(http_config => $HTTP, config => $API), 'nginx starts');
my $anon = citizen();
$ENV{TEST_PORTAL_CSRF} = $anon->token;
$ENV{TEST_PORTAL_CSRF_COOKIE} = 'portal_csrf=' . ($anon->cookie('portal_csrf') // '');

run_tests();


# ---------------------------------------------------------------- GET me

my $c = citizen();
is($c->login('jean.dupont', $PASSWORD)->{status}, 200, 'jean.dupont logs in');
my $res = $c->call(GET => 'me');
is($res->{status}, 200, 'GET me: 200');
like($res->{headers}{'content-type'} // '', qr{\Aapplication/json},
     '... in JSON');
my $me = $res->{json} // {};
is($me->{login}, 'jean.dupont', '... login');
ok(JSON::PP::is_bool($me->{validated}) && !$me->{validated},
   '... validated false');
is($me->{contact_mode}, 'email', '... contact_mode');
is_deeply($me->{holder},
          { civility => 'M', first_name => 'Jean', last_name => 'Dupont',
            birth_date => '1980-04-12', email => 'jean.dupont@example.org',
            phone => undef,
            address => { line => '1 place de la Mairie', postcode => '44000',
                         city => 'Nantes' } },
          '... the holder, with the address as a block')
    or diag explain $me->{holder};
is(ref $me->{members}, 'ARRAY', '... members, a list');
is(scalar @{ $me->{members} || [] }, 1, '... of one');
my ($m0) = @{ $me->{members} || [] };
is($m0->{id}, $jeans_first, '... with its id');
is($m0->{kind}, 'adult', '... and its kind');
is($m0->{first_name}, 'Sophie', '... and its data');
ok(!grep({ /hash|password|answer|epoch/ } keys %$me),
   '... and nothing secret') or diag join ' ', keys %$me;


# ------------------------------------------------- before the validation

my $snap = snapshot($jean);
my $members = psql_query("SELECT count(*) FROM portal.members");
for my $r (['PATCH', 'me', { contact_mode => 'post' }],
           ['PATCH', 'me', { holder => { first_name => 'Jacques' } }],
           ['POST', 'me/members', { kind => 'child', first_name => 'Léo',
                                    birth_date => '2015-06-01' }],
           ['PATCH', "me/members/$jeans_first", { first_name => 'Sophia' }])
{
    my ($m, $p, $d) = @$r;
    $res = $c->call($m, $p, $d);
    ok($res->{status} == 403 && error_code($res) eq 'account_not_validated',
       "$m $p before validation: 403 account_not_validated")
        or diag "$res->{status} $res->{body}";
}
like(($res->{json} // {})->{error}{message} // '', qr/valid/,
     '... saying why, in French');
is(snapshot($jean), $snap, '... and nothing changed');
is(psql_query("SELECT count(*) FROM portal.members"), $members,
   '... no member added');

$res = $c->call(GET => "me/members/$jeans_first");
is($res->{status}, 200, 'GET me/members/{id} is allowed before validation');
$res = $c->call(GET => 'me/documents');
is($res->{status}, 200, 'GET me/documents is allowed before validation');
is_deeply($res->{json}, [], '... an empty list');


# --------------------------------------------------- validated: PATCH me

ok(validate('jean.dupont'), 'the town hall validates the account');
is(($c->call(GET => 'session')->{json} // {})->{validated}, JSON::PP::true,
   'GET session: validated, at once');

$res = $c->call(PATCH => 'me', {
    holder => { first_name => 'Jean-Paul', phone => '06 11 22 33 44',
                address => { postcode => '44400', city => 'Rezé' } },
    contact_mode => 'phone' });
is($res->{status}, 200, 'PATCH me, some holder fields and the contact mode:'
                        . ' 200') or diag $res->{body};
$me = $res->{json} // {};
is($me->{login}, 'jean.dupont', '... answers with the account');
is($me->{holder}{first_name}, 'Jean-Paul', '... the new first name');
is($me->{holder}{phone}, '06 11 22 33 44', '... the phone');
is_deeply($me->{holder}{address},
          { line => '1 place de la Mairie', postcode => '44400',
            city => 'Rezé' },
          '... the address, its line kept');
is($me->{contact_mode}, 'phone', '... contact by phone');
is($me->{holder}{last_name}, 'Dupont', '... the rest unchanged');
ok(JSON::PP::is_bool($me->{validated}) && $me->{validated},
   '... validated true');
my ($stored) = psql_query("SELECT first_name, phone, postcode, city,"
                          . " contact_mode FROM portal.accounts"
                          . " WHERE id = '$jean'");
is(Encode::decode('UTF-8', join '|', @{ $stored || [] }),
   'Jean-Paul|06 11 22 33 44|44400|Rezé|phone', '... and it is stored');
is_deeply($c->call(GET => 'me')->{json}{holder}, $me->{holder},
          'GET me says the same');
$res = $c->call(PATCH => 'me', { holder => { phone => '+33 6 11 22 33 44' } });
is(($res->{json} // {})->{holder}{phone}, '+33 6 11 22 33 44',
   'PATCH me, an international number with its "+": taken');
$res = $c->call(PATCH => 'me', { holder => { phone => '06 11 22 33 44' } });
is(($res->{json} // {})->{holder}{phone}, '06 11 22 33 44',
   '... and back to the French one');

# refused patches change nothing
$snap = snapshot($jean);
for my $p ([{}, 'holder', 'nothing to change'],
           [{ holder => { email => 'pas-une-adresse' } }, 'holder.email',
            'a wrong email'],
           [{ holder => { address => { postcode => 'ABCDE' } } },
            'holder.address.postcode', 'a wrong postcode'],
           [{ holder => { birth_date => '2999-01-01' } }, 'holder.birth_date',
            'a birth date to come'],
           [{ holder => { civility => 'X', first_name => '' } },
            'holder.civility holder.first_name', 'two wrong fields'],
           [{ contact_mode => 'pigeon' }, 'contact_mode', 'a contact mode'
            . ' that does not exist'],
           [{ holder => { first_name => 'Jacques', email => 'faux' } },
            'holder.email', 'a right field beside a wrong one'],
           [{ holder => { phone => '' } }, 'contact_mode',
            'no phone left for contact by phone'])
{
    my ($body, $fields, $why) = @$p;
    $res = $c->call(PATCH => 'me', $body);
    ok($res->{status} == 422 && error_fields($res) eq $fields,
       "PATCH me, $why: 422 on $fields")
        or diag "$res->{status} $res->{body}";
}
is(snapshot($jean), $snap, '... and nothing changed');
$res = $c->call(PATCH => 'me', undef, raw => '{"holder": ');
is($res->{status}, 400, 'PATCH me, not JSON: 400');
$res = $c->call(PATCH => 'me', undef, raw => '[{"contact_mode": "post"}]');
is($res->{status}, 400, 'PATCH me, a JSON array: 400');

$res = $c->call(PATCH => 'me', { contact_mode => 'post' });
ok($res->{status} == 200 && ($res->{json} // {})->{contact_mode} eq 'post',
   'PATCH me, contact by post: 200');


# ------------------------------------------------------ POST me/members

$members = psql_query("SELECT count(*) FROM portal.members");
$res = $c->call(POST => 'me/members', {
    kind => 'adult', civility => 'Mme', first_name => 'Marie',
    birth_date => '1982-03-04', email => 'marie@example.org' });
is($res->{status}, 201, 'POST me/members, an adult: 201')
    or diag $res->{body};
my $marie = $res->{json} // {};
like($marie->{id} // '', $uuid_re, '... with an id');
is($marie->{kind}, 'adult', '... adult');
is($marie->{first_name}, 'Marie', '... her first name');
is($marie->{last_name}, 'Dupont', "... the holder's last name, left out");
is_deeply($marie->{address},
          { line => '1 place de la Mairie', postcode => '44400',
            city => 'Rezé' },
          "... the holder's address, left out");
is($marie->{email}, 'marie@example.org', '... her email');

$res = $c->call(POST => 'me/members', {
    kind => 'child', first_name => 'Léo', birth_date => '2015-06-01' });
is($res->{status}, 201, 'POST me/members, a child: 201') or diag $res->{body};
my $leo = $res->{json} // {};
is($leo->{kind}, 'child', '... child');
is($leo->{last_name}, 'Dupont', '... the last name of the holder');
is($leo->{address}{city}, 'Rezé', '... his address too');
ok(!defined $leo->{civility} && !defined $leo->{email},
   '... nothing invented for the rest');

$res = $c->call(POST => 'me/members', {
    kind => 'child', first_name => 'Zoé', last_name => 'Martin-Dupont',
    birth_date => '2012-01-02',
    address => { line => '3 rue Basse', postcode => '75001',
                 city => 'Paris' } });
is($res->{status}, 201, 'a child with her own name and address: 201');
my $zoe = $res->{json} // {};
is($zoe->{last_name}, 'Martin-Dupont', '... her last name');
is($zoe->{address}{city}, 'Paris', '... her address');
is(psql_query("SELECT count(*) FROM portal.members"), $members + 3,
   'three members stored');

my $off = error_log_offset();
for my $p ([{ kind => 'pet', first_name => '', birth_date => 'demain' },
            'birth_date first_name kind', 'three wrong fields'],
           [{ first_name => 'Max', birth_date => '2010-01-01' }, 'kind',
            'no kind'],
           [{ kind => 'adult', birth_date => '1990-01-01' }, 'first_name',
            'no first name'],
           [{ kind => 'child', first_name => 'Noé', birth_date => '2010-01-01',
              address => { city => 'Paris' } },
            'address.line address.postcode', 'half an address'],
           [{ kind => 'child', first_name => 'Noé',
              birth_date => '2999-12-31' }, 'birth_date', 'not born yet'])
{
    my ($body, $fields, $why) = @$p;
    $res = $c->call(POST => 'me/members', $body);
    ok($res->{status} == 422 && error_fields($res) eq $fields,
       "POST me/members, $why: 422 on $fields")
        or diag "$res->{status} $res->{body}";
}

# a control character, that nobody sees, is said as such, not as a length
my $control = 'Ce champ contient un caractère invisible non autorisé :'
            . ' effacez-le, ou saisissez à nouveau le texte.';
$res = $c->call(POST => 'me/members', {
    kind => 'adult', first_name => "No\x{1b}é", birth_date => '1990-01-01',
    address => { line => "3 rue\tBasse", postcode => '75001',
                 city => 'Paris' } });
my $ferr = (($res->{json} // {})->{error} // {})->{fields} // {};
ok($res->{status} == 422
   && join(' ', sort keys %$ferr) eq 'address.line first_name'
   && !grep({ $_ ne $control } values %$ferr),
   'POST me/members, an escape in the first name, a tab in the address:'
   . ' 422, each "caractère invisible"')
    or diag "$res->{status} $res->{body}";
is(psql_query("SELECT count(*) FROM portal.members"), $members + 3,
   '... none stored');
check_error_log($off, '... and the 422s are all there is to them (no alert)');

$me = $c->call(GET => 'me')->{json} // {};
is(scalar @{ $me->{members} || [] }, 4, 'GET me lists the 4 members');
is(join(' ', sort map { $_->{kind} // 'none' } @{ $me->{members} || [] }),
   'adult adult child child', '... each with its kind');


# ------------------------------------------------ GET, PATCH me/members/{id}

$res = $c->call(GET => "me/members/$marie->{id}");
is($res->{status}, 200, 'GET me/members/{id}: 200');
is_deeply($res->{json}, $marie, '... the member as created');
$res = $c->call(GET => 'me/members/' . uc($marie->{id} // ''));
is($res->{status}, 200, '... whatever the case of the id');

$res = $c->call(PATCH => "me/members/$marie->{id}", {
    first_name => 'Marie-Claire', email => '',
    address => { line => '5 rue Haute' } });
is($res->{status}, 200, 'PATCH me/members/{id}: 200') or diag $res->{body};
my $mc = $res->{json} // {};
is($mc->{first_name}, 'Marie-Claire', '... the new first name');
ok(exists $mc->{email} && !defined $mc->{email}, '... the email cleared');
is_deeply($mc->{address}, { line => '5 rue Haute', postcode => '44400',
                            city => 'Rezé' },
          '... the address line changed, the rest kept');
is($mc->{last_name}, 'Dupont', '... the rest unchanged');
is_deeply($c->call(GET => "me/members/$marie->{id}")->{json}, $mc,
          'GET gives the same');

$snap = snapshot($jean);
$off = error_log_offset();
for my $p ([{ birth_date => '2999-01-01' }, 'birth_date'],
           [{ kind => 'grandparent' }, 'kind'],
           [{ first_name => 'Marie', address => { postcode => '1' } },
            'address.postcode'])
{
    my ($body, $fields) = @$p;
    $res = $c->call(PATCH => "me/members/$marie->{id}", $body);
    ok($res->{status} == 422 && error_fields($res) eq $fields,
       "PATCH me/members/{id} with a wrong $fields: 422")
        or diag "$res->{status} $res->{body}";
}
is(snapshot($jean), $snap, '... nothing changed');
check_error_log($off, '... and no alert behind the 422s');


# ------------------------------------------------ another household's

my $annes_before = snapshot($anne);
$res = $c->call(GET => "me/members/$annes_child");
is($res->{status}, 404, "GET another household's member: 404");
is(error_code($res), 'not_found', '... not_found');
unlike($res->{body}, qr/Lou/, '... and nothing of her');
$res = $c->call(PATCH => "me/members/$annes_child", { first_name => 'Jean' });
is($res->{status}, 404, "PATCH another household's member: 404");
is(snapshot($anne), $annes_before, "... and anne's household is unchanged");

my $an = citizen();
is($an->login('anne.martin', $PASSWORD)->{status}, 200, 'anne.martin logs in');
is($an->call(GET => "me/members/$leo->{id}")->{status}, 404,
   "... jean's child is 404 for her");
is($an->call(PATCH => "me/members/$leo->{id}", { first_name => 'Lou' })
   ->{status}, 404, '... also to PATCH');
is_deeply([map { $_->{first_name} } @{ ($an->call(GET => 'me')->{json} // {})
                                         ->{members} || [] }],
          ['Lou'], '... and her household is hers only');

for my $id ('7d3c2f4e-0000-4000-8000-000000000000', 'not-a-uuid', '123',
            'x' x 70, substr($leo->{id} // '', 0, 35))
{
    is($c->call(GET => "me/members/$id")->{status}, 404,
       "GET me/members/$id: 404");
    is($c->call(PATCH => "me/members/$id", { first_name => 'Jean' })
       ->{status}, 404, "PATCH me/members/$id: 404");
}


# ----------------------------------------------------------- GET me/export

my $pdf = "%PDF-1.4\n%%EOF\n";
psql_query("WITH d AS (INSERT INTO portal.documents (account_id, kind,"
           . " filename, content_type, size, sha256, state, chunks) VALUES"
           . " ('$jean', 'identite', 'carte.pdf', 'application/pdf', "
           . length($pdf) . ", sha256('\\x" . unpack('H*', $pdf)
           . "'::bytea), 'complete', 1) RETURNING id)"
           . " INSERT INTO portal.document_chunks (document_id, n, data)"
           . " SELECT id, 0, '\\x" . unpack('H*', $pdf) . "'::bytea FROM d");
$res = $c->call(GET => 'me/export');
is($res->{status}, 200, 'GET me/export: 200');
like($res->{headers}{'content-disposition'} // '', qr/\Aattachment/,
     '... as a file to save');
my $x = $res->{json} // {};
is(($x->{account} // {})->{login}, 'jean.dupont', '... the account');
is(($x->{account} // {})->{holder}{first_name}, 'Jean-Paul',
   '... the holder as he is now');
is(join(' ', sort map { $_->{first_name} } @{ ($x->{account} // {})->{members}
                                               || [] }),
   'Léo Marie-Claire Sophie Zoé', '... the members');
is(scalar @{ $x->{documents} || [] }, 1, '... the document');
is(($x->{documents}[0] // {})->{sha256}, sha256_hex($pdf),
   '... with its sha256');
ok(!grep({ exists $_->{content} } @{ $x->{documents} || [] }),
   '... without its content');
ok(grep({ ($_->{subject} // '') eq 'Votre compte citoyen est validé' }
        @{ $x->{mails} || [] }),
   '... the mails sent (the validation)');
unlike($res->{body}, qr/Lou|anne\.martin|argon2/,
       "... and nothing of anne's nor any hash");

is(citizen()->call(GET => 'me/export')->{status}, 401,
   'GET me/export without a session: 401');

# ---------------------------------------------- a member leaves the household

my $leaving = member_sql($jean, 'adult', 'Paul', 'Dupont', '1979-01-01');
my $before_delete = psql_query("SELECT count(*) FROM portal.members"
                               . " WHERE account_id = '$jean'");
$res = $c->call(DELETE => "me/members/$annes_child");
is($res->{status}, 404, "DELETE another household's member: 404");
is(psql_query("SELECT count(*) FROM portal.members WHERE id = '$annes_child'"),
   1, '... and she is still in hers');
$res = $c->call(DELETE => 'me/members/not-a-uuid');
is($res->{status}, 404, 'DELETE me/members/not-a-uuid: 404');
$res = $c->call(DELETE => "me/members/$leaving", undef, no_csrf => 1);
is($res->{status}, 403, '... without the anti-CSRF token: 403');
$res = $c->call(DELETE => "me/members/$leaving");
is($res->{status}, 204, 'DELETE me/members/{id}: 204') or diag $res->{body};
is($res->{body}, '', '... no body');
is(psql_query("SELECT count(*) FROM portal.members WHERE account_id = '$jean'"),
   $before_delete - 1, '... one member less');
is($c->call(GET => "me/members/$leaving")->{status}, 404,
   '... GET it then: 404');
is($c->call(DELETE => "me/members/$leaving")->{status}, 404,
   '... and DELETE it again: 404');

my $paul = account_sql('paul.simon');
my $pauls = member_sql($paul, 'child', 'Tom', 'Simon', '2014-03-03');
my $p = citizen();
is($p->login('paul.simon', $PASSWORD)->{status}, 200, 'paul.simon logs in');
$res = $p->call(DELETE => "me/members/$pauls");
ok($res->{status} == 403 && error_code($res) eq 'account_not_validated',
   'DELETE before validation: 403 account_not_validated');
is(psql_query("SELECT count(*) FROM portal.members WHERE id = '$pauls'"), 1,
   '... and the member stays');


__DATA__

=== TEST 1: GET me without a session: 401
--- request
GET /api/me
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
--- error_code: 401
--- response_body_json
{"error": {"code": "unauthenticated", "message": {"~": "\\S"}}}
--- no_error_log
[error]



=== TEST 2: PATCH me without a session: 401
--- request
PATCH /api/me
{"contact_mode": "post"}
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
X-CSRF-Token: $TEST_PORTAL_CSRF
Content-Type: application/json
--- error_code: 401
--- response_body_like
"unauthenticated"
--- no_error_log
[error]



=== TEST 3: POST me/members without a session: 401
--- request
POST /api/me/members
{"kind": "child", "first_name": "Leo", "birth_date": "2015-06-01"}
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
X-CSRF-Token: $TEST_PORTAL_CSRF
Content-Type: application/json
--- error_code: 401
--- response_body_like
"unauthenticated"
--- no_error_log
[error]



=== TEST 4: GET me/members/{id} without a session: 401
--- request
GET /api/me/members/5b8e2a34-1c7d-4e8f-9a0b-2c3d4e5f6a7b
--- error_code: 401
--- response_body_like
"unauthenticated"
--- no_error_log
[error]



=== TEST 5: PATCH me/members/{id} without a session: 401
--- request
PATCH /api/me/members/5b8e2a34-1c7d-4e8f-9a0b-2c3d4e5f6a7b
{"first_name": "Sophia"}
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
X-CSRF-Token: $TEST_PORTAL_CSRF
Content-Type: application/json
--- error_code: 401
--- response_body_like
"unauthenticated"
--- no_error_log
[error]



=== TEST 6: GET me/documents without a session: 401
--- request
GET /api/me/documents
--- error_code: 401
--- response_body_like
"unauthenticated"
--- no_error_log
[error]



=== TEST 7: PATCH me without the anti-CSRF token: 403 before anything
--- request
PATCH /api/me
{"contact_mode": "post"}
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
Content-Type: application/json
--- error_code: 403
--- response_body_like
"csrf"
--- no_error_log
[error]



=== TEST 8: DELETE me/members/{id} without a session: 401
--- request
DELETE /api/me/members/5b8e2a34-1c7d-4e8f-9a0b-2c3d4e5f6a7b
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
X-CSRF-Token: $TEST_PORTAL_CSRF
--- error_code: 401
--- response_body_json
{"error": {"code": "unauthenticated", "message": {"~": "connecter"}}}
--- no_error_log
[error]
