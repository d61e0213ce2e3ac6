# The account-opening documents: POST me/documents (multipart "file" and
# "kind") stores a PDF, JPEG or PNG recognised by its bytes, whatever its
# name or its part's Content-Type say, with its size and sha256; GET
# me/documents lists them newest first; GET me/documents/{id} gives the file
# back as an attachment, to its account only.  Allowed before the account is
# validated.  Refused: a document that is not what its name says (415), an
# oversize one (413, portal_upload_max_size), a malformed body (400), a
# missing field (422), no session (401), no anti-CSRF token (403).  The body
# is read as it comes, however small nginx's buffer (never into a temporary
# file), and the file stored in chunks; the kind may come before or after
# the file, whatever its size.

use strict;
use warnings;
use lib 't/lib';
use Test::Portal;

use Digest::SHA qw(sha256_hex);
use JSON::PP ();


# ----------------------------------------------------------- the test data

our $B = 'PortalTestBoundary7MA4YWxk';
our $MAX = 8192;

our $API = "location /api/ { portal_api citizen;"
         . " portal_upload_max_size 8k; }";

# client_body_buffer_size 1k: every body here comes in pieces of 1 KiB
our $API_TMP = "client_body_buffer_size 1k;\n" . $API;

our $PDF = "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
         . "2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
         . "trailer << /Root 1 0 R >>\n%%EOF\n";

# 1 x 1 white pixel
our $PNG = pack 'H*', '89504e470d0a1a0a0000000d49484452000000010000000108'
                    . '02000000907753de0000000c49444154789c63f8ffff3f0005'
                    . 'fe02fe0def46b80000000049454e44ae426082';

# the start of a delimiter inside the data, as images may have (the whole
# delimiter may not appear: RFC 2046)
our $JPEG = "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01"
          . "\x00\x00\r\n--" . substr($B, 0, 12) . "\r\n\r\n-" . ("\xa5" x 64)
          . "\r\n--" . substr($B, 0, -1) . "\xff\xd9";

# a larger PDF, still under the limit: 5 KB, more than 1k of buffer
our $PDF5K = "%PDF-1.7\n" . ("% filler line of a scanned page\n" x 160)
           . "%%EOF\n";

our $TEXT = "Ceci n'est pas un PDF.\n";

# 700 KB whose bytes often start a delimiter: read in many pieces, with
# delimiter prefixes across their edges, and stored in three chunks
our $BIG = "%PDF-1.7\n" . (("\r\n-" . substr($B, 0, 25)
                            . join('', map { chr } 0 .. 255)) x 2500);
our $API_BIG = "client_max_body_size 2m;\n"
             . "location /api/ { portal_api citizen;"
             . " portal_upload_max_size 1m; }";

my $uuid_re = '\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
            . '[0-9a-f]{12}\z';
my $time_re = '\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d\z';

# JSON text from Perl data whose strings are UTF-8 bytes, as in this file
my $Text = JSON::PP->new->canonical;

sub part {
    my (%o) = @_;
    my $h = qq{Content-Disposition: form-data; name="$o{name}"};
    $h .= qq{; filename="$o{filename}"} if defined $o{filename};
    $h .= "\r\nContent-Type: $o{type}" if defined $o{type};
    return "--$B\r\n$h\r\n\r\n$o{data}\r\n";
}

sub form { return join('', @_) . "--$B--\r\n" }

# the form of the citizens' page: the kind, then the file
sub upload {
    my ($kind, $filename, $type, $data) = @_;
    return form(part(name => 'kind', data => $kind),
                part(name => 'file', filename => $filename, type => $type,
                     data => $data));
}

# what POST me/documents answers for this file
sub doc_json {
    my ($kind, $filename, $type, $data) = @_;
    return $Text->encode({
        id => { '~' => $uuid_re }, kind => $kind, filename => $filename,
        content_type => $type, size => length $data,
        sha256 => sha256_hex($data), created_at => { '~' => $time_re },
    });
}

sub error_json {
    my ($code, $fields) = @_;
    my $e = { code => $code, message => { '~' => '\S' } };
    $e->{fields} = { map { $_ => { '~' => '\S' } } @$fields } if $fields;
    return $Text->encode({ error => $e });
}

sub chunked {
    my ($body) = @_;
    my $out = '';
    while (length $body) {
        my $piece = substr $body, 0, 700, '';
        $out .= sprintf("%x\r\n", length $piece) . $piece . "\r\n";
    }
    # one LF more: the harness chomps --- request_body
    return $out . "0\r\n\r\n\n";
}


# --------------------------------------------------- accounts and sessions

# Argon2id (libsodium crypto_pwhash_str, interactive limits) of the
# passwords below, made once for these tests.
my %hash = (
    'pieces-justificatives-2024' =>
        '$argon2id$v=19$m=65536,t=2,p=1$rRniM/pwL8NXVtokYxF+OQ'
        . '$j8t0jWHZepsTapl5LhuAynVyQoTOrL1Ssu75Lv8Erx0',
    'medor' =>
        '$argon2id$v=19$m=65536,t=2,p=1$KEk0KrsgtV5vqJj57z1iQA'
        . '$lvwOwLokhE+afgY9tc61FLAJL/K8fk1RNSkOLkSnjKw',
);

# an account not yet validated (documents are allowed before): its id
sub create_account {
    my ($login, $first, $last) = @_;
    return psql_query(<<"SQL");
INSERT INTO portal.accounts (login, civility, first_name, last_name,
    birth_date, email, address_line, postcode, city, contact_mode,
    password_hash, question_id, answer_hash)
VALUES ('$login', 'M', '$first', '$last', '1980-04-12', '$login\@example.org',
    '1 place de la Mairie', '44000', 'Nantes', 'email',
    '$hash{'pieces-justificatives-2024'}', 1, '$hash{medor}')
RETURNING id
SQL
}

sub cookies_of {
    my ($res) = @_;
    return map { $_->[1] =~ /\A([^;=]+=[^;]*)/ ? $1 : () }
           grep { lc $_->[0] eq 'set-cookie' } @{ $res->{header_list} };
}

# GET session for the anti-CSRF cookie and token, then POST session, which
# renews them (the token is the session's own): (Cookie header value, its
# token, the new CSRF cookie alone, the token of that cookie alone); with
# portal_cookie_secure on, as here, the cookies are __Host- ones
sub log_in {
    my ($login) = @_;
    my $res = http_request(GET => '/api/session');
    my ($csrf) = grep { /\A(?:__Host-)?portal_csrf=/ } cookies_of($res);
    my $token = (decode_json_body($res) // {})->{csrf_token} // '';

    $res = http_request(POST => '/api/session',
        headers => [Cookie => $csrf // '', 'X-CSRF-Token' => $token,
                    'Content-Type' => 'application/json'],
        body => JSON::PP::encode_json({
            login => $login, password => 'pieces-justificatives-2024' }));
    my ($session) = grep { /\A(?:__Host-)?portal_session=/ } cookies_of($res);
    my ($renewed) = grep { /\A(?:__Host-)?portal_csrf=/ } cookies_of($res);
    $token = (decode_json_body($res) // {})->{csrf_token} // '';

    diag "cannot log in as $login: $res->{status} $res->{body}"
        unless $res->{status} == 200 && $session && $renewed;

    $res = http_request(GET => '/api/session',
                        headers => [Cookie => $renewed // '']);
    my $alone = (decode_json_body($res) // {})->{csrf_token} // '';

    return ("$renewed; " . ($session // ''), $token, $renewed, $alone);
}

sub api_get {
    my ($path, $cookie, %o) = @_;
    return http_request($o{method} // 'GET', "/api/$path",
                        headers => [Cookie => $cookie]);
}

sub api_upload {
    my ($cookie, $token, $body) = @_;
    return http_request(POST => '/api/me/documents',
        headers => [Cookie => $cookie, 'X-CSRF-Token' => $token,
                    'Content-Type' => "multipart/form-data; boundary=$B"],
        body => $body);
}


add_block_preprocessor(sub {
    my ($block) = @_;

    $block->set_value(config => $API) unless defined $block->config;

    $block->set_value(more_headers => <<"HEADERS")
Cookie: \$TEST_PORTAL_COOKIE
X-CSRF-Token: \$TEST_PORTAL_CSRF
Content-Type: multipart/form-data; boundary=$B
HEADERS
        unless defined $block->more_headers;
});


plan tests => count_tests() + 41;

my $jean = create_account('jean.dupont', 'Jean', 'Dupont');
my $anne = create_account('anne.martin', 'Anne', 'Martin');

start_nginx(config => $API) or diag('nginx does not start');

my ($cookie, $token, $csrf_only, $token_alone) = log_in('jean.dupont');

# the blocks' more_headers
$ENV{TEST_PORTAL_COOKIE} = $cookie;
$ENV{TEST_PORTAL_CSRF} = $token;
$ENV{TEST_PORTAL_CSRF_COOKIE} = $csrf_only;
$ENV{TEST_PORTAL_CSRF_ALONE} = $token_alone;

run_tests();


# ------------------------------------------------- the list and the files

start_nginx(config => $API);

# one more, to know which is the newest
my $res = api_upload($cookie, $token,
                     upload('justificatif_domicile', 'derniere.pdf',
                            'application/pdf', $PDF));
is($res->{status}, 201, 'one more upload');
my $last = decode_json_body($res) // {};

$res = api_get('me/documents', $cookie);
is($res->{status}, 200, 'GET me/documents: 200');
like($res->{headers}{'content-type'} // '', qr{\Aapplication/json},
     '... in JSON');
my $list = decode_json_body($res) // [];
my $stored = psql_query("SELECT count(*) FROM portal.documents"
                        . " WHERE account_id = '$jean'");
ok(ref $list eq 'ARRAY' && @$list == $stored && $stored >= 7,
   "... lists the account's $stored documents")
    or diag $res->{body};
is($list->[0]{id} // '', $last->{id} // 'none', '... newest first');
my @times = map { $_->{created_at} // '' } @$list;
is_deeply(\@times, [sort { $b cmp $a } @times],
          '... in the order of their creation');
is_deeply([sort keys %{ $list->[0] // {} }],
          [qw(content_type created_at filename id kind sha256 size)],
          '... each with its metadata, never its content');
ok(!grep({ $_->{filename} =~ m{[/\\]} } @$list),
   '... and no file name with a path');

# the database has what the citizen sent, its size and its sha256
my ($png) = grep { $_->{content_type} eq 'image/png'
                   && $_->{filename} eq 'scan.png' } @$list;
my ($row) = psql_query("SELECT encode(string_agg(c.data, ''::bytea"
                       . " ORDER BY c.n), 'hex'), d.size,"
                       . " encode(d.sha256, 'hex') FROM portal.documents d"
                       . " JOIN portal.document_chunks c"
                       . " ON c.document_id = d.id"
                       . " WHERE d.id = '" . ($png->{id} // '') . "'"
                       . " GROUP BY d.id");
is($row->[0] // '', unpack('H*', $PNG), 'the PNG is stored as it was sent');
is($row->[1] // 0, length $PNG, '... with its size');
is($row->[2] // '', sha256_hex($PNG), '... and its sha256');

# the file back, as an attachment
my ($pdf) = grep { $_->{filename} eq "carte d'identit\x{e9}.pdf" } @$list;
$res = api_get("me/documents/$pdf->{id}", $cookie);
is($res->{status}, 200, 'GET me/documents/{id}: 200');
is($res->{body}, $PDF, '... the very bytes');
is(sha256_hex($res->{body}), $pdf->{sha256}, '... whose sha256 is listed');
is($res->{headers}{'content-type'}, 'application/pdf',
   '... with the type found in them');
is($res->{headers}{'content-disposition'},
   "attachment; filename*=UTF-8''carte%20d%27identit%C3%A9.pdf",
   '... as an attachment with its name percent-encoded');
is($res->{headers}{'x-content-type-options'}, 'nosniff',
   '... that browsers must not sniff');
like($res->{headers}{'cache-control'} // '', qr/no-store/,
     '... nor keep');
is($res->{headers}{'content-length'}, length $PDF, '... Content-Length');

my ($big) = grep { $_->{filename} eq 'gros.pdf' } @$list;
$res = api_get("me/documents/" . ($big->{id} // ''), $cookie);
ok($res->{status} == 200 && $res->{body} eq $BIG,
   'the 700 KB document comes back whole');

$res = api_get("me/documents/$png->{id}", $cookie, method => 'HEAD');
ok($res->{status} == 200 && $res->{body} eq ''
   && ($res->{headers}{'content-type'} // '') eq 'image/png'
   && ($res->{headers}{'content-length'} // '') == length $PNG,
   'HEAD me/documents/{id}: the headers only');

# the .pdf that is a PNG is served as what it is, under the name it has
# now (releve.png)
my ($fake) = grep { $_->{filename} eq 'releve.png' } @$list;
$res = api_get("me/documents/$fake->{id}", $cookie);
ok($res->{status} == 200 && $res->{body} eq $PNG
   && $res->{headers}{'content-type'} eq 'image/png',
   'a PNG named .pdf comes back as image/png');

# another household's documents do not exist for this one
my ($anne_cookie, $anne_token) = log_in('anne.martin');
$res = api_get("me/documents/$pdf->{id}", $anne_cookie);
is($res->{status}, 404, "another account's document: 404");
is((decode_json_body($res) // {})->{error}{code}, 'not_found',
   '... with the envelope');
unlike($res->{body}, qr/PDF-/, '... and nothing of the file');
$res = api_get('me/documents', $anne_cookie);
is($res->{body}, "[]\n", '... and it is not in her list');

$res = api_upload($anne_cookie, $anne_token,
                  upload('identite', 'anne.jpg', 'image/jpeg', $JPEG));
my $annes = decode_json_body($res) // {};
is($res->{status}, 201, 'her own upload');
$res = api_get("me/documents/$annes->{id}", $cookie);
is($res->{status}, 404, '... is 404 for the first account');
$res = api_get("me/documents/$annes->{id}", $anne_cookie);
ok($res->{status} == 200 && $res->{body} eq $JPEG,
   '... and hers to download');

$res = api_get('me/documents/7d3c2f4e-0000-4000-8000-000000000000', $cookie);
is($res->{status}, 404, 'an unknown id: 404');
$res = api_get('me/documents/not-a-uuid', $cookie);
is($res->{status}, 404, 'an id that is no UUID: 404');
$res = api_get("me/documents/$pdf->{id}", $csrf_only);
is($res->{status}, 401, 'no session: 401');

# nothing was refused for a wrong reason, and no file name became a path
is(psql_query("SELECT count(*) FROM portal.documents"
              . " WHERE filename ~ '[/\\\\]' OR filename ~ '^\\.\\.?\$'"),
   0, 'no stored name is a path');
is(psql_query("SELECT count(*) FROM portal.documents d"
              . " JOIN portal.document_chunks c ON c.document_id = d.id"
              . " AND c.n = 0 WHERE d.content_type = 'application/pdf'"
              . " AND substring(c.data FROM 1 FOR 5) <> '%PDF-'::bytea"),
   0, 'every stored PDF starts as a PDF does');
is(psql_query("SELECT count(*) FROM portal.documents"
              . " WHERE state <> 'complete'"),
   0, '... and no document is left pending');
is(psql_query("SELECT chunks FROM portal.documents"
              . " WHERE filename = 'gros.pdf'"),
   3, 'the 700 KB document is kept in 3 chunks of 256 KiB');

# ------------------------------------------------ a document taken back

my ($del) = grep { $_->{filename} eq 'scan.png' } @$list;
$res = http_request(DELETE => "/api/me/documents/$del->{id}",
                    headers => [Cookie => $anne_cookie,
                                'X-CSRF-Token' => $anne_token]);
is($res->{status}, 404, "DELETE another account's document: 404");
$res = http_request(DELETE => "/api/me/documents/$del->{id}",
                    headers => [Cookie => $cookie, 'X-CSRF-Token' => $token]);
is($res->{status}, 204, 'DELETE me/documents/{id}: 204');
is(api_get("me/documents/$del->{id}", $cookie)->{status}, 404,
   '... then it is gone');
ok(!grep({ $_->{id} eq $del->{id} }
         @{ decode_json_body(api_get('me/documents', $cookie)) || [] }),
   '... from the list too');
$res = http_request(DELETE => "/api/me/documents/$del->{id}",
                    headers => [Cookie => $cookie, 'X-CSRF-Token' => $token]);
is($res->{status}, 404, '... and DELETE again: 404');


__DATA__

=== TEST 1: a PDF, before the account is validated: 201 with its metadata
--- request
POST /api/me/documents
--- request_body eval
main::upload('identite', "carte d'identité.pdf", 'application/pdf',
             $main::PDF)
--- error_code: 201
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_json eval
main::doc_json('identite', "carte d'identité.pdf", 'application/pdf',
               $main::PDF)
--- no_error_log
[error]
[warn]



=== TEST 2: a PNG, the file before the kind, a quoted boundary
--- request
POST /api/me/documents
--- more_headers
Cookie: $TEST_PORTAL_COOKIE
X-CSRF-Token: $TEST_PORTAL_CSRF
Content-Type: multipart/form-data; charset=utf-8; boundary="PortalTestBoundary7MA4YWxk"
--- request_body eval
main::form(main::part(name => 'file', filename => 'scan.png',
                      type => 'image/png', data => $main::PNG),
           main::part(name => 'kind', data => 'justificatif_domicile'))
--- error_code: 201
--- response_body_json eval
main::doc_json('justificatif_domicile', 'scan.png', 'image/png', $main::PNG)
--- no_error_log
[error]
[warn]



=== TEST 3: a JPEG whose bytes look like a delimiter; a Windows path is cut
--- request
POST /api/me/documents
--- request_body eval
main::upload('identite', 'C:\\Users\\jean\\Mes images\\photo.jpg',
             'image/jpeg', $main::JPEG)
--- error_code: 201
--- response_body_json eval
main::doc_json('identite', 'photo.jpg', 'image/jpeg', $main::JPEG)
--- no_error_log
[error]
[warn]



=== TEST 4: a PNG named .pdf, sent as application/pdf, is stored as image/png, named .png
--- request
POST /api/me/documents
--- request_body eval
main::upload('releve', 'releve.pdf', 'application/pdf', $main::PNG)
--- error_code: 201
--- response_body_json eval
main::doc_json('releve', 'releve.png', 'image/png', $main::PNG)
--- no_error_log
[error]
[warn]



=== TEST 5: a client's name is never a path nor carries control characters
--- request
POST /api/me/documents
--- request_body eval
main::upload('identite', "../../../../tmp/\x01evil\xe2\x80\xae.pdf",
             'application/pdf', $main::PDF)
--- error_code: 201
--- response_body_json eval
main::doc_json('identite', 'evil.pdf', 'application/pdf', $main::PDF)
--- no_error_log
[error]
[warn]



=== TEST 6: a text file named x.pdf: 415 unsupported_type
--- request
POST /api/me/documents
--- request_body eval
main::upload('identite', 'x.pdf', 'application/pdf', $main::TEXT)
--- error_code: 415
--- response_body_json
{"error": {"code": "unsupported_type",
           "message": "Le document doit être un PDF, une image JPEG ou PNG."}}
--- no_error_log
[error]
[warn]



=== TEST 7: a document over portal_upload_max_size: 413 too_large
--- request
POST /api/me/documents
--- request_body eval
main::upload('identite', 'big.pdf', 'application/pdf',
             $main::PDF . ('x' x $main::MAX))
--- error_code: 413
--- response_body_json eval
main::error_json('too_large')
--- response_body_like
8 Ko
--- error_log
the file is larger than portal_upload_max_size
--- no_error_log
[error]
[warn]



=== TEST 8: exactly portal_upload_max_size is accepted
--- request
POST /api/me/documents
--- request_body eval
main::upload('identite', 'juste.pdf', 'application/pdf',
             $main::PDF . ('x' x ($main::MAX - length $main::PDF)))
--- error_code: 201
--- response_body_json eval
main::doc_json('identite', 'juste.pdf', 'application/pdf',
               $main::PDF . ('x' x ($main::MAX - length $main::PDF)))
--- no_error_log
[error]
[warn]



=== TEST 9: a Content-Length far over the limit: 413 before reading it
--- request
POST /api/me/documents
--- request_body eval
main::upload('identite', 'huge.pdf', 'application/pdf',
             $main::PDF . ('x' x 100_000))
--- error_code: 413
--- response_body_json eval
main::error_json('too_large')
--- error_log
bytes announced, portal_upload_max_size is 8192
--- no_error_log
[error]
[warn]



=== TEST 10: malformed: the body ends before the closing boundary: 400
--- request
POST /api/me/documents
--- request_body eval
main::part(name => 'kind', data => 'identite')
. main::part(name => 'file', filename => 'a.pdf', data => $main::PDF)
--- error_code: 400
--- response_body_json eval
main::error_json('bad_multipart')
--- error_log
body ends before the closing boundary
--- no_error_log
[error]
[warn]



=== TEST 11: malformed: something else than CRLF after a boundary: 400
--- request
POST /api/me/documents
--- request_body eval
"--$main::B; oops\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n"
. "identite\r\n--$main::B--\r\n"
--- error_code: 400
--- response_body_json eval
main::error_json('bad_multipart')
--- error_log
garbage after a boundary
--- no_error_log
[error]
[warn]



=== TEST 12: malformed: a part without Content-Disposition: 400
--- request
POST /api/me/documents
--- request_body eval
"--$main::B\r\nContent-Type: application/pdf\r\n\r\n$main::PDF\r\n"
. "--$main::B--\r\n"
--- error_code: 400
--- response_body_json eval
main::error_json('bad_multipart')
--- error_log
invalid part header
--- no_error_log
[error]
[warn]



=== TEST 13: malformed: a part's headers over 8 KiB: 400
--- request
POST /api/me/documents
--- request_body eval
"--$main::B\r\nContent-Disposition: form-data; name=\"kind\"\r\n"
. "X-Padding: " . ('p' x 8200) . "\r\n\r\nidentite\r\n--$main::B--\r\n"
--- error_code: 400
--- response_body_json eval
main::error_json('bad_multipart')
--- error_log
part header too long
--- no_error_log
[error]
[warn]



=== TEST 14: malformed: more than 16 parts: 400
--- request
POST /api/me/documents
--- request_body eval
main::form(map { main::part(name => "f$_", data => 'v') } 1 .. 17)
--- error_code: 400
--- response_body_json eval
main::error_json('bad_multipart')
--- error_log
too many parts
--- no_error_log
[error]
[warn]



=== TEST 15: malformed: multipart/form-data without a boundary: 400
--- request
POST /api/me/documents
--- more_headers
Cookie: $TEST_PORTAL_COOKIE
X-CSRF-Token: $TEST_PORTAL_CSRF
Content-Type: multipart/form-data
--- request_body eval
main::upload('identite', 'a.pdf', 'application/pdf', $main::PDF)
--- error_code: 400
--- response_body_json eval
main::error_json('bad_multipart')
--- no_error_log
[error]
[warn]



=== TEST 16: malformed: a boundary of 71 characters: 400
--- request
POST /api/me/documents
--- more_headers
Cookie: $TEST_PORTAL_COOKIE
X-CSRF-Token: $TEST_PORTAL_CSRF
Content-Type: multipart/form-data; boundary=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
--- request_body eval
main::upload('identite', 'a.pdf', 'application/pdf', $main::PDF)
--- error_code: 400
--- response_body_json eval
main::error_json('bad_multipart')
--- no_error_log
[error]
[warn]



=== TEST 17: not multipart/form-data: 415 unsupported_media_type
--- request
POST /api/me/documents
{"kind": "identite"}
--- more_headers
Cookie: $TEST_PORTAL_COOKIE
X-CSRF-Token: $TEST_PORTAL_CSRF
Content-Type: application/json
--- error_code: 415
--- response_body_json eval
main::error_json('unsupported_media_type')
--- no_error_log
[error]
[warn]



=== TEST 18: no kind: 422 with the field
--- request
POST /api/me/documents
--- request_body eval
main::form(main::part(name => 'file', filename => 'a.pdf',
                      data => $main::PDF))
--- error_code: 422
--- response_body_json eval
main::error_json('invalid', ['kind'])
--- no_error_log
[error]
[warn]



=== TEST 19: no file, and a kind over 64 bytes: 422 with both fields
--- request
POST /api/me/documents
--- request_body eval
main::form(main::part(name => 'kind', data => 'k' x 65))
--- error_code: 422
--- response_body_json eval
main::error_json('invalid', ['file', 'kind'])
--- no_error_log
[error]
[warn]



=== TEST 20: an empty file: 422
--- request
POST /api/me/documents
--- request_body eval
main::upload('identite', 'vide.pdf', 'application/pdf', '')
--- error_code: 422
--- response_body_json eval
main::error_json('invalid', ['file'])
--- no_error_log
[error]
[warn]



=== TEST 21: no session: 401
--- request
POST /api/me/documents
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
X-CSRF-Token: $TEST_PORTAL_CSRF_ALONE
Content-Type: multipart/form-data; boundary=PortalTestBoundary7MA4YWxk
--- request_body eval
main::upload('identite', 'a.pdf', 'application/pdf', $main::PDF)
--- error_code: 401
--- response_body_json eval
main::error_json('unauthenticated')
--- no_error_log
[error]
[warn]



=== TEST 22: no anti-CSRF token: 403
--- request
POST /api/me/documents
--- more_headers
Cookie: $TEST_PORTAL_COOKIE
Content-Type: multipart/form-data; boundary=PortalTestBoundary7MA4YWxk
--- request_body eval
main::upload('identite', 'a.pdf', 'application/pdf', $main::PDF)
--- error_code: 403
--- response_body_json eval
main::error_json('csrf')
--- no_error_log
[error]
[warn]



=== TEST 23: GET me/documents without a session: 401
--- request
GET /api/me/documents
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
--- error_code: 401
--- response_body_json eval
main::error_json('unauthenticated')
--- no_error_log
[error]
[warn]



=== TEST 24: a chunked body (no Content-Length) is read the same way
--- request
POST /api/me/documents
--- more_headers
Cookie: $TEST_PORTAL_COOKIE
X-CSRF-Token: $TEST_PORTAL_CSRF
Content-Type: multipart/form-data; boundary=PortalTestBoundary7MA4YWxk
Transfer-Encoding: chunked
--- request_body eval
main::chunked(main::upload('identite', 'morceaux.pdf', 'application/pdf',
                           $main::PDF5K))
--- error_code: 201
--- response_body_json eval
main::doc_json('identite', 'morceaux.pdf', 'application/pdf', $main::PDF5K)
--- no_error_log
[error]



=== TEST 25: the body in pieces of 1 KiB, never in a temporary file: 201
--- config eval
$main::API_TMP
--- request
POST /api/me/documents
--- request_body eval
main::upload('identite', 'fichier-temporaire.pdf', 'application/pdf',
             $main::PDF5K)
--- error_code: 201
--- response_body_json eval
main::doc_json('identite', 'fichier-temporaire.pdf', 'application/pdf',
               $main::PDF5K)
--- no_error_log
[error]
a client request body is buffered to a temporary file



=== TEST 26: the body in pieces of 1 KiB, the file too large: 413
--- config eval
$main::API_TMP
--- request
POST /api/me/documents
--- request_body eval
main::upload('identite', 'big.pdf', 'application/pdf',
             $main::PDF5K . ('x' x $main::MAX))
--- error_code: 413
--- response_body_json eval
main::error_json('too_large')
--- error_log
the file is larger than portal_upload_max_size
--- no_error_log
[error]
a client request body is buffered to a temporary file



=== TEST 27: the body in pieces of 1 KiB, truncated: 400
--- config eval
$main::API_TMP
--- request
POST /api/me/documents
--- request_body eval
main::part(name => 'kind', data => 'identite')
. main::part(name => 'file', filename => 'a.pdf', data => $main::PDF5K)
--- error_code: 400
--- response_body_json eval
main::error_json('bad_multipart')
--- error_log
body ends before the closing boundary
--- no_error_log
[error]
a client request body is buffered to a temporary file



=== TEST 28: the body in pieces of 1 KiB, a text file: 415
--- config eval
$main::API_TMP
--- request
POST /api/me/documents
--- request_body eval
main::upload('identite', 'notes.pdf', 'application/pdf',
             $main::TEXT x 300)
--- error_code: 415
--- response_body_json eval
main::error_json('unsupported_type')
--- no_error_log
[error]
a client request body is buffered to a temporary file



=== TEST 29: 700 KB read as it comes, stored in chunks: 201, sha256
--- config eval
$main::API_BIG
--- request
POST /api/me/documents
--- request_body eval
main::upload('identite', 'gros.pdf', 'application/pdf', $main::BIG)
--- error_code: 201
--- response_body_json eval
main::doc_json('identite', 'gros.pdf', 'application/pdf', $main::BIG)
--- no_error_log
[error]
a client request body is buffered to a temporary file



=== TEST 30: 700 KB, then the kind: begun without it, given it at the end
--- config eval
$main::API_BIG
--- request
POST /api/me/documents
--- request_body eval
main::form(main::part(name => 'file', filename => 'tardif.pdf',
                      type => 'application/pdf', data => $main::BIG),
           main::part(name => 'kind', data => 'justificatif_domicile'))
--- error_code: 201
--- response_body_json eval
main::doc_json('justificatif_domicile', 'tardif.pdf', 'application/pdf',
               $main::BIG)
--- no_error_log
[error]



=== TEST 31: 700 KB and no kind at all: 422 with the field, nothing kept
--- config eval
$main::API_BIG
--- request
POST /api/me/documents
--- request_body eval
main::form(main::part(name => 'file', filename => 'sans-type.pdf',
                      type => 'application/pdf', data => $main::BIG))
--- error_code: 422
--- response_body_json eval
main::error_json('invalid', ['kind'])
--- no_error_log
[error]
