# A request's supporting documents: POST requests/{id}/documents (multipart
# "file" and "kind") streams a PDF, JPEG or PNG, recognised by its bytes,
# into PostgreSQL in chunks of 256 KiB, and answers 201 with the document;
# GET requests/{id}/documents/{doc} gives the very bytes back as an
# attachment, nosniff; DELETE takes it back (204); GET requests/{id} lists
# them.  The kind may come before or after the file.  A citizen's session,
# validated or not.  A document added outside brouillon is acknowledged by
# mail ("Pièce reçue"), a draft's are not.  Refused: another type (415), an
# oversize file (413), a malformed body (400), a kind the procedure does
# not ask for (422), 20 documents or 50 MiB a request (422), a request that
# may not change any more (409 state_conflict), another household's
# request or document (404).  The body is read only as fast as its chunks
# are stored, a document left half-sent by its client is taken back, and
# nothing of a refusal stays pending.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Attack;
use Test::Portal::Upload;

use Digest::SHA qw(sha256_hex);
use Encode qw(decode);
use Errno qw(EAGAIN EWOULDBLOCK EINTR);
use IO::Select;
use Time::HiRes qw(time);

my $URL = 'https://mairie.example/';
my $UUID = qr/\A[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}\z/;
my $MiB = 1024 * 1024;

# a request of the account in a state, straight in SQL as agents will put
# it there: its id
sub request_sql {
    my ($account, $state) = @_;
    my $id = psql_query("SELECT (portal.request_create('$account',"
        . " 'signalement-voirie', NULL, '{\"nature\": \"chaussee\","
        . " \"lieu\": \"12 rue des Lilas\", \"description\": \"Un trou.\"}',"
        . " NULL, NULL, NULL, '$URL'))->>'id'");
    psql_query("UPDATE portal.requests SET state = '$state'"
               . " WHERE id = '$id'") if $state;
    return $id;
}

# complete documents of a request that say they have $size bytes each
sub documents_sql {
    my ($request, $n, $size) = @_;
    psql_query("WITH d AS (INSERT INTO portal.request_documents"
               . " (request_id, kind, filename, content_type, size, chunks,"
               . " sha256, state, completed_at)"
               . " SELECT '$request', 'autre', 'p' || g || '.pdf',"
               . " 'application/pdf', $size, 1, sha256('%PDF-'::bytea),"
               . " 'complete', now() FROM generate_series(1, $n) g"
               . " RETURNING id)"
               . " INSERT INTO portal.request_document_chunks"
               . " (document_id, n, data) SELECT id, 0, '%PDF-'::bytea"
               . " FROM d");
}

sub upload {
    my ($c, $request, $kind, $filename, $data, %o) = @_;
    my $body = join '', @{ upload_body($kind, $filename, $data, %o) };
    return $c->call(POST => "requests/$request/documents", undef,
                    raw => $o{raw} // $body, type => upload_type());
}

sub pending {
    my ($request) = @_;
    return psql_query("SELECT count(*) FROM portal.request_documents"
                      . " WHERE request_id = '$request'"
                      . " AND state = 'pending'");
}

sub documents_of {
    my ($request) = @_;
    return psql_query("SELECT count(*) FROM portal.request_documents"
                      . " WHERE request_id = '$request'");
}

maildir_setup();
plan tests => 94;

my $A = account_sql('jean.dupont');            # not validated yet
my $B = account_sql('anne.martin', validated => 1);

my $HTTP = citizen_http_config();
ok(start_nginx(http_config => $HTTP,
               config => attack_api('client_max_body_size 11m;')),
   'nginx starts');

my $jean = client_from('10.51.0.1');
is($jean->login('jean.dupont', $PASSWORD)->{status}, 200,
   'jean.dupont logs in (his account is not validated yet)');
my $anne = client_from('10.51.0.2');
is($anne->login('anne.martin', $PASSWORD)->{status}, 200,
   'anne.martin logs in');


# ---------------------------------------------------------- an upload

my $req = request_sql($A);
my $PDF1 = pdf_bytes(300_000);

my $res = upload($jean, $req, 'autre', 'attestation.pdf', $PDF1);
is($res->{status}, 201, 'a PDF of 300 KB: 201') or diag body_text($res);
my $doc = $res->{json} // {};
is_deeply([sort keys %$doc],
          [qw(content_type created_at filename id kind label sha256 size)],
          '... the document, never its content');
ok(($doc->{id} // '') =~ $UUID && $doc->{kind} eq 'autre'
   && $doc->{label} eq 'Autre pièce' && $doc->{filename} eq 'attestation.pdf'
   && $doc->{content_type} eq 'application/pdf'
   && $doc->{size} == length $PDF1 && $doc->{sha256} eq sha256_hex($PDF1),
   '... with its kind, label, name, type, size and sha256')
    or diag explain $doc;
is(psql_query("SELECT chunks || ' ' || state FROM portal.request_documents"
              . " WHERE id = '$doc->{id}'"), '2 complete',
   '... stored in 2 chunks');
is(psql_query("SELECT count(*) FROM portal.messages"
              . " WHERE request_id = '$req'"
              . " AND position('attestation.pdf' IN body) > 0"), 0,
   '... not acknowledged: the request is a draft, its submission will be');

$res = upload($jean, $req, 'photo', 'trou.png', $PNG);
ok($res->{status} == 201 && ($res->{json} // {})->{content_type} eq 'image/png'
   && $res->{json}{label} eq 'Photo du problème',
   'a PNG as the procedure\'s "photo": 201, with its label')
    or diag body_text($res);
my $png = $res->{json} // {};

$res = upload($jean, $req, 'photo', 'trou.png', $JPEG, type => 'image/png');
ok($res->{status} == 201 && ($res->{json} // {})->{content_type} eq 'image/jpeg'
   && $res->{json}{filename} eq 'trou.jpg',
   'a JPEG named .png is kept as image/jpeg, named .jpg')
    or diag body_text($res);

$res = upload($jean, $req, 'autre', 'notes.pdf', "Pas un PDF.\n" x 100);
ok($res->{status} == 415 && error_code($res) eq 'unsupported_type',
   'a text file named .pdf: 415 unsupported_type') or diag body_text($res);

$res = upload($jean, $req, 'autre', 'texte.pdf',
              "Pas un PDF non plus.\n" x 40_000);
ok($res->{status} == 415 && error_code($res) eq 'unsupported_type',
   '... 800 KB of it: 415, found in its first chunk') or diag body_text($res);

$res = upload($jean, $req, 'livret_famille', 'livret.pdf', $PDF);
ok($res->{status} == 422 && error_code($res) eq 'invalid'
   && error_fields($res) eq 'kind',
   'a kind the procedure does not ask for: 422 with the field kind')
    or diag body_text($res);

$res = upload($jean, $req, undef, 'sans-type.pdf', $PDF);
ok($res->{status} == 422 && error_fields($res) eq 'kind',
   'no kind: 422 with the field kind') or diag body_text($res);

# the kind after a file of several chunks: the document is begun without
# it, and given it at the end
sub kind_last {
    my ($kind, $filename, $data) = @_;
    my $body = upload_body(undef, $filename, $data);
    $body->[2] = "\r\n--$BOUNDARY\r\nContent-Disposition: form-data;"
               . " name=\"kind\"\r\n\r\n$kind\r\n--$BOUNDARY--\r\n";
    return join '', @$body;
}
my $LATE = pdf_bytes(600_000);
$res = $jean->call(POST => "requests/$req/documents", undef,
                   raw => kind_last('photo', 'tard.pdf', $LATE),
                   type => upload_type());
ok($res->{status} == 201 && ($res->{json} // {})->{kind} eq 'photo'
   && $res->{json}{label} eq 'Photo du problème'
   && $res->{json}{sha256} eq sha256_hex($LATE),
   'the kind after a file of 600 KB (3 chunks): 201, with that kind')
    or diag body_text($res);
my $late = $res->{json} // {};
$res = $jean->call(POST => "requests/$req/documents", undef,
                   raw => kind_last('livret_famille', 'tard.pdf', $LATE),
                   type => upload_type());
ok($res->{status} == 422 && error_code($res) eq 'invalid'
   && error_fields($res) eq 'kind',
   '... a kind the procedure does not ask for, after the file: 422 kind')
    or diag body_text($res);
$res = $jean->call(POST => "requests/$req/documents", undef,
                   raw => join('', @{ upload_body(undef, 'sans.pdf',
                                                  $LATE) }),
                   type => upload_type());
ok($res->{status} == 422 && error_fields($res) eq 'kind',
   '... no kind at all after 3 chunks: 422 kind') or diag body_text($res);

# malformed
my $body = join '', @{ upload_body('autre', 'a.pdf', $PDF) };
$res = $jean->call(POST => "requests/$req/documents", undef,
                   raw => substr($body, 0, -12), type => upload_type());
ok($res->{status} == 400 && error_code($res) eq 'bad_multipart',
   'a body cut before its closing boundary: 400 bad_multipart')
    or diag body_text($res);
my $cut = upload_body('autre', 'gros.pdf', pdf_bytes(700_000));
$res = $jean->call(POST => "requests/$req/documents", undef,
                   raw => join('', $cut->[0], $cut->[1]),
                   type => upload_type());
ok($res->{status} == 400 && error_code($res) eq 'bad_multipart',
   '... 700 KB of it, 2 chunks stored already: 400') or diag body_text($res);
$res = $jean->call(POST => "requests/$req/documents", undef,
                   raw => "--$BOUNDARY; oops\r\n\r\n", type => upload_type());
ok($res->{status} == 400 && error_code($res) eq 'bad_multipart',
   'garbage after a boundary: 400') or diag body_text($res);
$res = $jean->call(POST => "requests/$req/documents", { kind => 'autre' });
ok($res->{status} == 415 && error_code($res) eq 'unsupported_media_type',
   'JSON instead of multipart: 415 unsupported_media_type')
    or diag body_text($res);

# too large: portal_upload_max_size (10m)
my $big = upload_body('autre', 'enorme.pdf', pdf_bytes(10 * $MiB + 1));
$res = $jean->call(POST => "requests/$req/documents", undef,
                   raw => join('', @$big), type => upload_type(),
                   timeout => 60);
ok($res->{status} == 413 && error_code($res) eq 'too_large',
   '10 MiB and a byte: 413 too_large, after 40 chunks stored')
    or diag body_text($res);
$res = $jean->call(POST => "requests/$req/documents", undef,
                   raw => $body, type => upload_type(),
                   headers => ['Content-Length' => 10 * $MiB + 100 * 1024],
                   timeout => 5, keep => 1);
ok($res->{status} == 413 && error_code($res) eq 'too_large',
   '10.1 MiB announced: 413 too_large before the body is read')
    or diag body_text($res);

ok(wait_until(sub { pending($req) == 0 }, 10, 'no pending document'),
   'nothing of the refusals is left pending');
is(documents_of($req), 4, '... the request has its 4 documents');

$res = $jean->call(GET => "requests/$req");
is(join(' ', map { "$_->{filename}:$_->{kind}" }
             @{ ($res->{json} // {})->{documents} // [] }),
   'attestation.pdf:autre trou.png:photo trou.jpg:photo tard.pdf:photo',
   'GET requests/{id} lists them, oldest first, with their kinds')
    or diag body_text($res);
my $list = $jean->call(GET => "requests/$req/documents");
is($list->{status}, 200, 'GET requests/{id}/documents: 200');
is_deeply($list->{json}, ($res->{json} // {})->{documents},
          '... the same items, in the same order');
$res = $jean->call(GET => 'requests/' . request_sql($A) . '/documents');
is($res->{status} . ' ' . ($res->{body} // '') =~ s/\s+//gr, '200 []',
   '... none yet: []');
$res = $jean->call(GET => 'requests/7d3c2f4e-0000-4000-8000-000000000000'
                          . '/documents');
ok($res->{status} == 404 && error_code($res) eq 'not_found',
   '... an unknown request: 404') or diag body_text($res);

# no session, no token
my $nobody = client_from('10.51.0.3');
$res = upload($nobody, $req, 'autre', 'a.pdf', $PDF);
ok($res->{status} == 401 && error_code($res) eq 'unauthenticated',
   'no session: 401') or diag body_text($res);
$res = $jean->call(POST => "requests/$req/documents", undef, raw => $body,
                   type => upload_type(), no_csrf => 1);
ok($res->{status} == 403 && error_code($res) eq 'csrf',
   'no anti-CSRF token: 403') or diag body_text($res);


# ---------------------------------------------------------- downloads

$res = $jean->call(GET => "requests/$req/documents/$doc->{id}");
is($res->{status}, 200, 'GET requests/{id}/documents/{doc}: 200');
is(sha256_hex($res->{body} // ''), sha256_hex($PDF1), '... the very bytes');
is($res->{headers}{'content-type'}, 'application/pdf', '... as a PDF');
is($res->{headers}{'content-length'}, length $PDF1, '... Content-Length');
is($res->{headers}{'content-disposition'},
   "attachment; filename*=UTF-8''attestation.pdf", '... as an attachment');
is($res->{headers}{'x-content-type-options'}, 'nosniff',
   '... that browsers must not sniff');
like($res->{headers}{'cache-control'} // '', qr/no-store/, '... nor keep');

$res = $jean->call(HEAD => "requests/$req/documents/$png->{id}");
ok($res->{status} == 200 && $res->{body} eq ''
   && $res->{headers}{'content-type'} eq 'image/png'
   && $res->{headers}{'content-length'} == length $PNG,
   'HEAD: the headers only');

my $other = request_sql($A);
$res = $jean->call(GET => "requests/$other/documents/$doc->{id}");
is($res->{status}, 404, 'a document under another request of his: 404');
$res = $jean->call(GET => "requests/$req/documents/"
                          . '7d3c2f4e-0000-4000-8000-000000000000');
ok($res->{status} == 404 && error_code($res) eq 'not_found',
   'an unknown document: 404 not_found');
$res = $jean->call(GET => "requests/$req/documents/pas-un-uuid");
is($res->{status}, 404, 'an id that is no UUID: 404');


# --------------------------------------------- another household's request

$res = upload($anne, $req, 'autre', 'intrus.pdf', $PDF);
ok($res->{status} == 404 && error_code($res) eq 'not_found',
   "an upload to another household's request: 404") or diag body_text($res);
$res = $anne->call(GET => "requests/$req/documents/$doc->{id}");
ok($res->{status} == 404 && ($res->{body} // '') !~ /%PDF/,
   "... its document: 404, nothing of the file");
$res = $anne->call(DELETE => "requests/$req/documents/$doc->{id}");
is($res->{status}, 404, '... nor can it be deleted');
$res = $anne->call(GET => "requests/$req/documents");
ok($res->{status} == 404 && error_code($res) eq 'not_found'
   && ($res->{body} // '') !~ /attestation/,
   '... nor listed: 404') or diag body_text($res);
is(documents_of($req), 4, '... which left it as it was');
$res = upload($jean, '7d3c2f4e-0000-4000-8000-000000000000', 'autre',
              'a.pdf', $PDF);
is($res->{status}, 404, 'an unknown request: 404');


# ----------------------------------------------------- states and quotas

for my $state (qw(en_attente incomplet)) {
    my $r = request_sql($A, $state);
    $res = upload($jean, $r, 'photo', "photo-$state.png", $PNG);
    is($res->{status}, 201, "a document to a request $state: 201")
        or diag body_text($res);
    # (the outbox's row changes once the mail is delivered: not its
    # message's)
    my ($ack) = psql_query("SELECT m.subject, m.xmin = d.xmin"
                           . " FROM portal.messages m"
                           . " JOIN portal.request_documents d"
                           . " ON d.request_id = m.request_id"
                           . " WHERE m.request_id = '$r'"
                           . " AND position('photo-$state.png' IN m.body)"
                           . " > 0");
    ok($ack && decode('UTF-8', $ack->[0]) =~ /^Pièce reçue/
       && $ack->[1] eq 't',
       '... acknowledged ("Pièce reçue", the file named), queued in the'
       . ' transaction that completed the document')
        or diag explain $ack;
}
ok(wait_until(sub { grep { mail_subject($_) =~ /^Pièce reçue/ } mails() },
              10, 'the acknowledgements'),
   '... and the mail is delivered');
for my $state (qw(en_traitement rectifie complet valide)) {
    my $r = request_sql($A, $state);
    $res = upload($jean, $r, 'photo', 'photo.png', $PNG);
    ok($res->{status} == 409 && error_code($res) eq 'state_conflict',
       "a document to a request $state: 409 state_conflict")
        or diag body_text($res);
}

my $moved = request_sql($A);
$res = upload($jean, $moved, 'autre', 'a.pdf', $PDF);
my $kept = $res->{json} // {};
psql_query("UPDATE portal.requests SET state = 'en_traitement'"
           . " WHERE id = '$moved'");
$res = $jean->call(DELETE => "requests/$moved/documents/$kept->{id}");
ok($res->{status} == 409 && error_code($res) eq 'state_conflict',
   'DELETE while the request is en_traitement: 409 state_conflict')
    or diag body_text($res);
$res = $jean->call(GET => "requests/$moved/documents/$kept->{id}");
ok($res->{status} == 200 && $res->{body} eq $PDF,
   '... and it is still there to download');

# taken back outside brouillon: acknowledged by mail, as one added, in
# the same transaction (a mail that cannot be queued keeps the document)
my $taken = request_sql($A, 'en_attente');
my $taken_doc = upload($jean, $taken, 'photo', 'retiree.png', $PNG)->{json}
    // {};
psql_query(q{CREATE FUNCTION public.no_mail() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no mail today'; END $$});
psql_query("CREATE TRIGGER no_mail BEFORE INSERT ON portal.messages"
           . " FOR EACH ROW WHEN (NEW.request_id = '$taken')"
           . " EXECUTE FUNCTION public.no_mail()");
$res = $jean->call(DELETE => "requests/$taken/documents/$taken_doc->{id}");
is($res->{status}, 500, 'DELETE en_attente, its mail refused: 500');
is(documents_of($taken), 1, '... and the document stays');
psql_query("DROP TRIGGER no_mail ON portal.messages");
psql_query("DROP FUNCTION public.no_mail()");
$res = $jean->call(DELETE => "requests/$taken/documents/$taken_doc->{id}");
is($res->{status}, 204, 'DELETE en_attente: 204') or diag body_text($res);
is(scalar psql_query("SELECT count(*) FROM portal.messages"
                     . " WHERE request_id = '$taken'"
                     . " AND subject LIKE 'Pi%ce retir%e%'"
                     . " AND body LIKE '%retiree.png%'"
                     . " AND position(portal.no_reply_text() IN body) > 0"),
   1, '... acknowledged ("Pièce retirée", the file named, no reply'
      . ' needed)');
ok(wait_until(sub { grep { mail_subject($_) =~ /^Pièce retirée/ } mails() },
              10, 'the acknowledgement'),
   '... and the mail is delivered');

my $full = request_sql($A);
documents_sql($full, 19, 1000);
$res = upload($jean, $full, 'autre', 'vingt.pdf', $PDF);
is($res->{status}, 201, 'the 20th document of a request: 201')
    or diag body_text($res);
$res = upload($jean, $full, 'autre', 'vingt-et-un.pdf', $PDF);
ok($res->{status} == 422 && error_code($res) eq 'limit_reached',
   'the 21st: 422 limit_reached') or diag body_text($res);
is(documents_of($full), 20, '... and nothing is added');

my $heavy = request_sql($A);
documents_sql($heavy, 1, 50 * $MiB - 600 * 1024);
$res = upload($jean, $heavy, 'autre', 'petit.pdf', pdf_bytes(200_000));
is($res->{status}, 201, '200 KB more, up to 50 MiB: 201')
    or diag body_text($res);
$res = upload($jean, $heavy, 'autre', 'de-trop.pdf', pdf_bytes(600_000));
ok($res->{status} == 422 && error_code($res) eq 'limit_reached',
   '600 KB past 50 MiB: 422 limit_reached, at its second chunk')
    or diag body_text($res);
ok(wait_until(sub { pending($heavy) == 0 }, 10, 'the abort'),
   '... and its first chunk is taken back');
is(documents_of($heavy), 2, '... nothing is added');


# ---------------------------------------------------------- DELETE

$res = $jean->call(DELETE => "requests/$req/documents/$png->{id}");
is($res->{status}, 204, 'DELETE requests/{id}/documents/{doc}: 204');
is($jean->call(GET => "requests/$req/documents/$png->{id}")->{status}, 404,
   '... then it is gone');
is(psql_query("SELECT count(*) FROM portal.request_document_chunks"
              . " WHERE document_id = '$png->{id}'"), 0,
   '... with its chunks');
is($jean->call(DELETE => "requests/$req/documents/$png->{id}")->{status},
   404, '... and DELETE again: 404');
is(psql_query("SELECT count(*) FROM portal.messages"
              . " WHERE request_id = '$req'"
              . " AND subject LIKE 'Pi%ce retir%e%'"), 0,
   '... a draft\'s: no mail');


# -------------------------------------------- 9 MiB, in 36 chunks, and back

my $NINE = pdf_bytes(9 * $MiB);
my $nine_req = request_sql($A);
$res = upload($jean, $nine_req, 'photo', 'scan.pdf', $NINE);
is($res->{status}, 201, 'a PDF of 9 MiB: 201') or diag body_text($res);
my $nine = $res->{json} // {};
is($nine->{sha256}, sha256_hex($NINE), '... its sha256 counted on the way');
my ($row) = psql_query("SELECT d.chunks, count(c.*), sum(octet_length(c.data)),"
                       . " min(octet_length(c.data)), max(c.n)"
                       . " FROM portal.request_documents d"
                       . " JOIN portal.request_document_chunks c"
                       . " ON c.document_id = d.id"
                       . " WHERE d.id = '$nine->{id}' GROUP BY d.id");
is(join(' ', @{ $row || [] }), "36 36 " . (9 * $MiB) . " 262144 35",
   '... stored in 36 chunks of 256 KiB, numbered 0 to 35');
$res = $jean->call(GET => "requests/$nine_req/documents/$nine->{id}",
                   undef, timeout => 60);
ok($res->{status} == 200 && length($res->{body}) == 9 * $MiB
   && sha256_hex($res->{body}) eq sha256_hex($NINE),
   '... and comes back whole, read 4 chunks at a time');


# ------------------------------------------------ a client that goes away

my $gone = request_sql($A);
my $h = partial_upload($jean, "requests/$gone/documents",
                       upload_body('autre', 'coupe.pdf', pdf_bytes(5 * $MiB)),
                       2 * $MiB);
ok(wait_until(sub {
       psql_query("SELECT count(*) FROM portal.request_documents"
                  . " WHERE request_id = '$gone' AND state = 'pending'"
                  . " AND chunks >= 1") == 1
   }, 10, 'a pending document with its first chunks'),
   'an upload cut at 2 MiB: its document is pending, chunks stored');
http_abort($h);
ok(wait_until(sub { documents_of($gone) == 0 }, 10,
              'the pending document to go'),
   '... the client goes away: the document is taken back');
is(psql_query("SELECT count(*) FROM portal.request_document_chunks c"
              . " WHERE NOT EXISTS (SELECT 1 FROM portal.request_documents d"
              . " WHERE d.id = c.document_id)"), 0, '... with its chunks');
is(http_request(GET => '/api/health')->{status}, 200, 'the server goes on');


# ------------------------------------------------------------ backpressure

# While PostgreSQL holds the request's row, no chunk can be stored: the
# server must stop reading, and the client's writes stall once the kernel's
# buffers are full (a few MiB), far before the 40 MiB it has to send.

ok(start_nginx(http_config => $HTTP . "portal_db_timeout 60s;\n",
               config => attack_api('client_max_body_size 41m;'
                                    . ' portal_upload_max_size 40m;')),
   'nginx starts with portal_upload_max_size 40m');
is($jean->login('jean.dupont', $PASSWORD)->{status}, 200,
   'jean.dupont logs in again');

my $slow = request_sql($A);
my $s = pg_session();
$s->query('BEGIN');
$s->query("SELECT 1 FROM portal.requests WHERE id = '$slow' FOR UPDATE");

my $before = worker_memory()->{rss};
my $pieces = [join '', @{ upload_body('autre', 'quarante.pdf',
                                      pdf_bytes(40 * $MiB)) }];
# the head alone, then the body as fast as the server takes it
my $p = partial_upload($jean, "requests/$slow/documents", $pieces, 0);
my ($sent, $stalled) = (0, 0);
my $total = length $pieces->[0];
{
    my $deadline = time + 60 * timeout_factor();
    my $sel = IO::Select->new($p->{sock});
    while ($sent < $total && time < $deadline) {
        # a second without room to write: the server reads no more
        unless ($sel->can_write(1)) {
            $stalled = 1;
            last;
        }
        my $n = syswrite $p->{sock}, $pieces->[0], 65536, $sent;
        next if !defined $n && ($! == EAGAIN || $! == EWOULDBLOCK
                                || $! == EINTR);
        last unless defined $n;
        $sent += $n;
    }
}
ok(wait_until(sub { backends_waiting_on_lock() > 0 }, 10,
              'a statement waiting for the lock'),
   'the document\'s statement waits for the request\'s row');
ok($stalled && $sent < 20 * $MiB,
   'the client cannot send on: the server stopped reading')
    or diag "sent $sent of $total bytes";
note sprintf 'the client could send %.1f MiB of %.1f before it stalled',
             $sent / $MiB, $total / $MiB;
SKIP: {
    # memory is the sanitizer's there
    skip 'the worker\'s size under ' . sanitizer(), 1 if sanitizer();
    ok(worker_memory()->{rss} - $before < 8 * 1024,
       '... and the worker holds no more than a chunk of it')
        or diag explain worker_memory();
}

$s->query('COMMIT');
$s->close;

# the rest, now that chunks go through
{
    my $deadline = time + 120 * timeout_factor();
    my $sel = IO::Select->new($p->{sock});
    while ($sent < $total && time < $deadline) {
        next unless $sel->can_write(1);
        my $n = syswrite $p->{sock}, $pieces->[0], 65536, $sent;
        next if !defined $n && ($! == EAGAIN || $! == EWOULDBLOCK
                                || $! == EINTR);
        last unless defined $n;
        $sent += $n;
    }
}
$p->{deadline} = time + 60 * timeout_factor();
($res) = http_collect($p);
$res->{json} = decode_json_body($res);
ok($res->{status} == 201 && ($res->{json} // {})->{size} == 40 * $MiB,
   'the lock gone, the upload goes on to its end: 201')
    or diag body_text($res);
is(psql_query("SELECT chunks FROM portal.request_documents"
              . " WHERE request_id = '$slow'"), 160, '... in 160 chunks');

is(psql_query("SELECT count(*) FROM portal.request_documents"
              . " WHERE state = 'pending'"), 0,
   'no document is left pending');
check_error_log(0, 'no alert, crit or emerg in the whole log');
