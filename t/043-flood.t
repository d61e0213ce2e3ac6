# Flooding the portal with volume.  A JSON body larger than
# portal_json_max_size (http, server, location; 64k by default) gets the
# module's 413 too_large before it is read, whatever client_max_body_size
# allows; uploads keep their own limit.  A captcha is spoken 3 times and
# drawn 5 times at most (then 429 too_many_requests).  A household has 20
# members at most, an account 20 documents and 50 MiB of them (422
# limit_reached, nothing added).

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Attack;

# a JSON object of exactly $n bytes for POST session (a wrong password)
sub json_of_size {
    my ($n) = @_;
    my $text = json_text({ login => 'jean.dupont',
                           password => 'Pas le bon mot de passe', pad => '' });
    my $fill = $n - length $text;
    die "json_of_size: $n is too small\n" if $fill < 0;
    return json_text({ login => 'jean.dupont',
                       password => 'Pas le bon mot de passe',
                       pad => 'x' x $fill });
}

sub chunked {
    my ($body) = @_;
    my $out = '';
    while (length $body) {
        my $piece = substr $body, 0, 4096, '';
        $out .= sprintf("%x\r\n", length $piece) . $piece . "\r\n";
    }
    return $out . "0\r\n\r\n";
}

sub member_sql {
    my ($account, $n) = @_;
    psql_query("INSERT INTO portal.members (account_id, kind, first_name,"
               . " last_name, birth_date, address_line, postcode, city)"
               . " SELECT '$account', 'child', 'Enfant', 'Numero' || g,"
               . " date '2010-01-01' + g, '9 rue des Lilas', '35000',"
               . " 'Rennes' FROM generate_series(1, $n) g");
}

# complete documents that say they have $size bytes (their one chunk is
# smaller: only their size counts toward the quota)
sub documents_sql {
    my ($account, $n, $size) = @_;
    psql_query("WITH d AS (INSERT INTO portal.documents (account_id, kind,"
               . " filename, content_type, size, sha256, state, chunks)"
               . " SELECT '$account', 'identite', 'scan' || g || '.pdf',"
               . " 'application/pdf', $size, sha256('%PDF-'::bytea),"
               . " 'complete', 1 FROM generate_series(1, $n) g"
               . " RETURNING id)"
               . " INSERT INTO portal.document_chunks (document_id, n, data)"
               . " SELECT id, 0, '%PDF-'::bytea FROM d");
}

sub count_of {
    my ($table, $account) = @_;
    return psql_query("SELECT count(*) FROM portal.$table"
                      . " WHERE account_id = '$account'");
}

sub too_large {
    my ($res) = @_;
    return ($res->{status} // 0) == 413 && error_code($res) eq 'too_large';
}

maildir_setup();
plan tests => count_tests() + 31;

my $jean = account_sql('jean.dupont');
my $anne = account_sql('anne.martin', validated => 1);
my $paul = account_sql('paul.durand');
my $lea  = account_sql('lea.petit');
my $marc = account_sql('marc.blanc');

my $HTTP = citizen_http_config();
my $BIG_BODIES = 'client_max_body_size 50m;';
ok(start_nginx(http_config => $HTTP, config => attack_api($BIG_BODIES)),
   'nginx starts, client_max_body_size 50m');


# ------------------------------------------------ JSON bodies: 64k by default

my $c = client_from('10.43.1.1');
my $res = $c->call(POST => 'session', undef, raw => json_of_size(70_000),
                   keep => 1);
ok(too_large($res), '70,000 bytes of JSON to POST session: 413 too_large')
    or diag body_text($res);
like($res->{headers}{'content-type'} // '', qr{\Aapplication/json},
     '... in the JSON envelope');
$res = $c->call(POST => 'session', undef, raw => json_of_size(60_000),
                keep => 1);
is($res->{status}, 401, '60,000 bytes: read (401, a wrong password)')
    or diag body_text($res);

$res = $c->call(POST => 'session', undef,
                raw => chunked(json_of_size(100_000)), keep => 1,
                headers => ['Transfer-Encoding' => 'chunked']);
ok(too_large($res), '100 KB of chunked JSON (no Content-Length): 413'
                    . ' too_large') or diag body_text($res);

# 10 MB announced, 1 KB sent: the answer comes without the rest
$res = $c->call(POST => 'session', undef, raw => json_of_size(1000),
                keep => 1, timeout => 2,
                headers => ['Content-Length' => 10_000_000]);
ok(too_large($res), '10 MB announced, 1 KB sent: 413 too_large at once,'
                    . ' before the body is read') or diag body_text($res);


# ------------------------------------------------------------ captchas

my $cap = captcha_api($c);
my @codes = map { http_request(GET => "/api/captcha/$cap.wav")->{status} }
            1 .. 3;
is("@codes", '200 200 200', 'a captcha is spoken 3 times');
$res = http_request(GET => "/api/captcha/$cap.wav");
$res->{json} = decode_json_body($res);
ok($res->{status} == 429 && error_code($res) eq 'too_many_requests',
   '... the 4th: 429 too_many_requests') or diag body_text($res);

$cap = captcha_api($c);
@codes = map { http_request(GET => "/api/captcha/$cap.png")->{status} }
         1 .. 5;
is("@codes", '200 200 200 200 200', 'a captcha is drawn 5 times');
$res = http_request(GET => "/api/captcha/$cap.png");
$res->{json} = decode_json_body($res);
ok($res->{status} == 429 && error_code($res) eq 'too_many_requests',
   '... the 6th: 429 too_many_requests') or diag body_text($res);


# ----------------------------------------------------------- households

member_sql($anne, 19);
$c = client_from('10.43.2.1');
is($c->login('anne.martin', $PASSWORD)->{status}, 200,
   'anne.martin (validated, 19 members) logs in');
my $child = { kind => 'child', first_name => 'Léo',
              birth_date => '2015-06-01' };
$res = $c->call(POST => 'me/members', $child);
is($res->{status}, 201, 'the 20th member: 201') or diag body_text($res);
$res = $c->call(POST => 'me/members', $child);
ok($res->{status} == 422 && error_code($res) eq 'limit_reached',
   'the 21st: 422 limit_reached') or diag body_text($res);
is(count_of(members => $anne), 20, '... and nothing is added');


# ---------------------------------------------------- documents: 20 at most

documents_sql($paul, 19, 5);
$c = client_from('10.43.3.1');
is($c->login('paul.durand', $PASSWORD)->{status}, 200,
   'paul.durand (19 documents) logs in');
$res = upload_doc($c, 'vingt.pdf', $PDF);
is($res->{status}, 201, 'the 20th document: 201') or diag body_text($res);
$res = upload_doc($c, 'vingt-et-un.pdf', $PDF);
ok($res->{status} == 422 && error_code($res) eq 'limit_reached',
   'the 21st: 422 limit_reached') or diag body_text($res);
is(count_of(documents => $paul), 20, '... and nothing is added');


# ----------------------------------------------- documents: 50 MiB at most

my $KB = pdf_of_size(1024);
documents_sql($lea, 4, 10 * 1024 * 1024);
$c = client_from('10.43.4.1');
is($c->login('lea.petit', $PASSWORD)->{status}, 200,
   'lea.petit (40 MiB of documents) logs in');
$res = upload_doc($c, 'petit.pdf', $KB);
is($res->{status}, 201, '1 KB more: 201') or diag body_text($res);

documents_sql($marc, 5, 10 * 1024 * 1024);
$c = client_from('10.43.4.2');
is($c->login('marc.blanc', $PASSWORD)->{status}, 200,
   'marc.blanc (50 MiB of documents) logs in');
$res = upload_doc($c, 'petit.pdf', $KB);
ok($res->{status} == 422 && error_code($res) eq 'limit_reached',
   '1 KB more: 422 limit_reached') or diag body_text($res);
is(count_of(documents => $marc), 5, '... and nothing is added');


# ------------------------------------- portal_json_max_size 1k in the location

ok(start_nginx(http_config => $HTTP,
               config => attack_api("$BIG_BODIES portal_json_max_size 1k;")),
   'nginx starts with portal_json_max_size 1k in the location');
$c = client_from('10.43.5.1');
$res = $c->call(POST => 'session', undef, raw => json_of_size(1100), keep => 1);
ok(too_large($res), '1,100 bytes of JSON: 413 too_large')
    or diag body_text($res);
$res = $c->call(POST => 'session', undef, raw => json_of_size(900), keep => 1);
is($res->{status}, 401, '900 bytes: read (401, a wrong password)')
    or diag body_text($res);
$res = $c->call(POST => 'session', undef, raw => chunked(json_of_size(1100)),
                keep => 1, headers => ['Transfer-Encoding' => 'chunked']);
ok(too_large($res), '1,100 bytes chunked: 413 too_large')
    or diag body_text($res);

$c = client_from('10.43.5.2');
is($c->login('jean.dupont', $PASSWORD)->{status}, 200,
   'jean.dupont logs in (a small body)');
my $PDF100K = pdf_of_size(100_000);
$res = upload_doc($c, 'gros.pdf', $PDF100K);
is($res->{status}, 201, '... and uploads a 100 KB PDF: 201 (uploads have'
                        . ' their own limit)') or diag body_text($res);
is(($res->{json} // {})->{size}, 100_000, '... all of it');

check_error_log(0, 'no alert, crit or emerg in the whole log');

run_tests();

__DATA__

=== TEST 1: portal_json_max_size 0 is refused
--- config
location /api/ { portal_api citizen; portal_json_max_size 0; }
--- must_die: portal_json_max_size 0
--- no_error_log
unknown directive



=== TEST 2: portal_json_max_size in http and server is accepted
--- http_config
portal_json_max_size 8k;
--- config
portal_json_max_size 4k;
location /api/ { portal_api citizen; }
--- request
GET /api/health
--- response_body_json
{"status": "ok", "db": "ok"}
