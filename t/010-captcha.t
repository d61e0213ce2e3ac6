# The captcha: POST captcha stores a new answer (201 with the addresses of
# its picture and of its spoken version), GET captcha/{id}.png draws it,
# GET captcha/{id}.wav spells it, as long as it is neither spent nor
# expired, 5 and 3 times at most; portal.captcha_check() spends it by its
# first try, once only ("right", "wrong", "expired" or "unknown");
# portal_captcha_test_answer fixes the answer; the answer is never logged.

use strict;
use warnings;
use lib 't/lib';
use Test::Portal;

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value(config => "location /api/ { portal_api citizen; }")
        unless defined $block->config;
});

my $api = 'location /api/ { portal_api citizen; }';
my $uuid_re = qr/\A[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}\z/;

# the answers this file saw, none of which may reach the error log
my %answers = (HJK479 => 1, XWY358 => 1, MRA734 => 1);

# The anti-CSRF token and cookie that GET session gives, as headers.
sub csrf_headers {
    my $res = http_request(GET => '/api/session');
    my $data = decode_json_body($res) // {};
    my @cookies = map { $_->[1] =~ /\A([^;]+)/ ? $1 : () }
                  grep { lc $_->[0] eq 'set-cookie' } @{ $res->{header_list} };
    return ('X-CSRF-Token' => $data->{csrf_token} // '',
            Cookie => join '; ', @cookies);
}

# POST captcha the way a page does it: the response and its JSON.
sub new_captcha {
    my $res = http_request(POST => '/api/captcha',
                           headers => [csrf_headers()], body => '');
    return ($res, decode_json_body($res) // {});
}

sub answer_of {
    my ($id) = @_;
    my $answer = psql_query("SELECT answer FROM portal.captchas"
                            . " WHERE id = '$id'");
    $answers{$answer} = 1 if defined $answer;
    return $answer;
}

# width and height from the IHDR chunk, undef when it is no PNG
sub png_size {
    my ($data) = @_;
    return () unless substr($data, 0, 16) eq "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    return unpack 'NN', substr($data, 16, 8);
}

# the fields of a RIFF WAVE header, undef when it is not one
sub wav_header {
    my ($data) = @_;
    return undef if length $data < 44;
    my %h;
    @h{qw(riff riff_len wave fmt fmt_len format channels rate byte_rate
          align bits data data_len)} =
        unpack 'a4 V a4 a4 V v v V V v v a4 V', $data;
    return undef unless $h{riff} eq 'RIFF' && $h{wave} eq 'WAVE'
                        && $h{fmt} eq 'fmt ' && $h{data} eq 'data';
    return \%h;
}

plan tests => count_tests() + 64;

run_tests();


# --------------------------------------------------- a captcha's life

ok(start_nginx(config => $api), 'nginx starts');
my $off = error_log_offset();

my ($res, $c) = new_captcha();
is($res->{status}, 201, 'POST captcha: 201')
    or diag "response: $res->{status} $res->{body}";
like($res->{headers}{'content-type'} // '', qr{\Aapplication/json},
     '... in JSON');
is_deeply([sort keys %$c], [qw(alt audio captcha_id image)],
          '... with captcha_id, image, audio and alt');
my $id = $c->{captcha_id} // '';
like($id, $uuid_re, '... the id is a UUID');
is($c->{image}, "/api/captcha/$id.png", '... image is the PNG under /api/');
is($c->{audio}, "/api/captcha/$id.wav", '... audio is the WAV under /api/');
like($c->{alt} // '', qr/captcha/i, '... alt says what the image is');

my $answer = answer_of($id) // '';
like($answer, qr/\A[ACEFHJKLMRUWXY345789]{6}\z/,
     'the stored answer: 6 characters without look-alikes');
unlike($c->{alt} // '', qr/\Q$answer\E/i, 'alt does not give the answer');
unlike($res->{raw}, qr/\Q$answer\E/i,
       'the response does not give the answer');
is(psql_query("SELECT expires_at - created_at FROM portal.captchas"
              . " WHERE id = '$id'"),
   '00:10:00', 'it expires after 10 minutes');

my ($res2, $c2) = new_captcha();
isnt($c2->{captcha_id} // '', $id, 'another POST, another captcha');
answer_of($c2->{captcha_id} // '');

my $png = http_request(GET => $c->{image});
is($png->{status}, 200, 'GET the image: 200');
is($png->{headers}{'content-type'}, 'image/png', '... image/png');
is($png->{headers}{'cache-control'}, 'no-store', '... not to be stored');
my ($w, $h) = png_size($png->{body} // '');
ok(defined $w && $w >= 200 && $w <= 260 && $h >= 60 && $h <= 90,
   '... a PNG of about 220x70')
    or diag 'size: ' . ($w // 'none') . 'x' . ($h // 'none');
ok(length($png->{body}) > 2000 && length($png->{body}) < 100_000,
   '... of a plausible weight') or diag length($png->{body}) . ' bytes';
is(length($png->{body}), $png->{headers}{'content-length'},
   '... with its Content-Length');
unlike(join("\n", map { "@$_" } @{ $png->{header_list} }),
       qr/\Q$answer\E/i, '... no header gives the answer');

my $again = http_request(GET => $c->{image});
ok($again->{status} == 200 && $again->{body} eq $png->{body},
   'the same captcha always gives the same picture');
my $upper = http_request(GET => '/api/captcha/' . uc($id) . '.png');
ok($upper->{status} == 200 && $upper->{body} eq $png->{body},
   '... whatever the case of its id');
my $other = http_request(GET => $c2->{image} // '/none');
ok($other->{status} == 200 && $other->{body} ne $png->{body},
   'another captcha gives another picture');

my $wav = http_request(GET => $c->{audio});
is($wav->{status}, 200, 'GET the sound: 200');
is($wav->{headers}{'content-type'}, 'audio/wav', '... audio/wav');
is($wav->{headers}{'cache-control'}, 'no-store', '... not to be stored');
my $hd = wav_header($wav->{body} // '');
ok($hd, '... a RIFF WAVE file') or diag 'starts with: '
    . unpack('H*', substr($wav->{body} // '', 0, 16));
$hd //= {};
ok(($hd->{format} // 0) == 1 && ($hd->{channels} // 0) == 1
   && ($hd->{bits} // 0) == 16 && ($hd->{align} // 0) == 2
   && ($hd->{rate} // 0) >= 8000
   && ($hd->{byte_rate} // 0) == 2 * ($hd->{rate} // 0),
   '... PCM, 16 bits, mono');
is($hd->{data_len}, length($wav->{body}) - 44, '... data fills the file');
is($hd->{riff_len}, length($wav->{body}) - 8, '... and so does RIFF');
my $seconds = ($hd->{data_len} // 0) / (2 * ($hd->{rate} || 1));
ok($seconds > 5 && $seconds < 60,
   '... speaking slowly, between 5 s and a minute')
    or diag "$seconds s";
my $loud = grep { abs($_) > 1000 } unpack 's<*', substr($wav->{body}, 44);
ok($loud > 1000, '... and not silence') or diag "$loud loud samples";

my $head = http_request(HEAD => $c->{image});
ok($head->{status} == 200 && $head->{body} eq ''
   && ($head->{headers}{'content-type'} // '') eq 'image/png',
   'HEAD of the image: 200, headers only');

# spent by its first try, even a wrong one
is(psql_query("SELECT portal.captcha_check('$id', 'nope')"), 'wrong',
   'a wrong answer fails');
is(psql_query("SELECT portal.captcha_check('$id', '$answer')"), 'unknown',
   '... and spends the captcha: the right one fails after it');
is(http_request(GET => $c->{image})->{status}, 404,
   'a spent captcha has no image any more');
my $gone = http_request(GET => $c->{audio});
is($gone->{status}, 404, '... nor sound');
is((decode_json_body($gone) // {})->{error}{code}, 'captcha_not_found',
   '... code captcha_not_found');

# right once, never twice, lower case accepted
my $id2 = $c2->{captcha_id} // '';
my $answer2 = answer_of($id2) // '';
is(psql_query("SELECT portal.captcha_check('$id2', '" . lc($answer2) . "')"),
   'right', 'the right answer, in lower case, passes');
is(psql_query("SELECT portal.captcha_check('$id2', '$answer2')"), 'unknown',
   '... once: no replay');

# two tries at the same time: one wins, the other waits, then fails
my (undef, $c3) = new_captcha();
my $id3 = $c3->{captcha_id} // '';
my $answer3 = answer_of($id3) // '';
my $s1 = pg_session();
my $s2 = pg_session();
$s1->query('BEGIN');
is($s1->query("SELECT portal.captcha_check('$id3', '$answer3')"), 'right',
   'a first try passes (not committed yet)');
$s2->send("SELECT portal.captcha_check('$id3', '$answer3')");
ok(wait_until(sub {
       psql_query("SELECT count(*) FROM pg_stat_activity WHERE pid = "
                  . $s2->backend_pid . " AND wait_event_type = 'Lock'") },
       5, 'the second try to wait'),
   '... a second one waits for it');
$s1->query('COMMIT');
my ($race) = $s2->result;
is($race, 'unknown', '... then fails: no race between two uses');
$s1->close;
$s2->close;

# expired
my (undef, $c4) = new_captcha();
my $id4 = $c4->{captcha_id} // '';
answer_of($id4);
psql_query("UPDATE portal.captchas SET expires_at = now() - interval '1 s'"
           . " WHERE id = '$id4'");
is(http_request(GET => "/api/captcha/$id4.png")->{status}, 404,
   'an expired captcha has no image');
is(http_request(GET => "/api/captcha/$id4.wav")->{status}, 404,
   '... nor sound');
is(psql_query("SELECT portal.captcha_check('$id4', '"
              . answer_of($id4) . "')"),
   'expired', '... and its right answer fails, as expired');

# a client that leaves while the thread works
my $acc_off = -s(servroot() . '/logs/access.log') // 0;
my $gone_png = http_start(GET => $c3->{image} // '/x');
my (undef, $c5) = new_captcha();
answer_of($c5->{captcha_id} // '');
my @leaving = map { http_start(GET => $c5->{$_}) } qw(audio image audio);
http_abort($_) for @leaving, $gone_png;
# (another captcha: each is spoken 3 times and drawn 5 times at most)
my (undef, $c6) = new_captcha();
answer_of($c6->{captcha_id} // '');
my @busy = map { http_start(GET => $c6->{$_}) } qw(audio image audio image);
is(join(' ', map { $_->{status} // 'none' } http_collect(@busy)),
   '200 200 200 200',
   'clients that leave do not disturb others, sounds and images at once');

# A request that waits for the thread pool holds no timer: let the ones
# that were left finish before nginx stops.
my $id5 = $c5->{captcha_id} // 'none';
ok(wait_until(sub { my @l = access_log_since($acc_off) =~ /\Q$id5\E/g;
                    @l >= 3 }, 10, 'the requests left to be logged'),
   '... and those that were left are done with too');
check_error_log($off, 'no alert, crit or emerg in the error log');

ok(wait_until(sub { http_request(GET => '/api/health')->{status} == 200 },
              5), 'the worker still answers');


# ------------------------------------------ portal_captcha_test_answer

my $test_conf = "portal_captcha_test_answer kx7m4p;";
$off = error_log_offset();
ok(start_nginx(config => $api, http_config => $test_conf),
   'nginx starts with portal_captcha_test_answer');
like(error_log_since($off), qr/\[warn\].*portal_captcha_test_answer/,
     '... and warns that it is set');
$answers{KX7M4P} = 1;
my ($tres, $tc) = new_captcha();
is($tres->{status}, 201, 'POST captcha: 201');
is(answer_of($tc->{captcha_id} // ''), 'KX7M4P',
   '... its answer is the test answer, in upper case');
my (undef, $tc2) = new_captcha();
is(answer_of($tc2->{captcha_id} // ''), 'KX7M4P', '... every time');
my $tpng = http_request(GET => $tc->{image} // '/x');
ok($tpng->{status} == 200 && defined((png_size($tpng->{body}))[0]),
   '... drawn');
my $twav = http_request(GET => $tc->{audio} // '/x');
ok($twav->{status} == 200 && wav_header($twav->{body}), '... spoken');
is(psql_query("SELECT portal.captcha_check('" . ($tc->{captcha_id} // '')
              . "', 'Kx7M4p')"),
   'right', '... and the test answer passes');


# ---------------------------------------------- what can go wrong

# no French voice: espeak-ng's data taken from an empty directory
my $nodata = servroot() . '/no-espeak';
mkdir $nodata;
mkdir "$nodata/espeak-ng-data";
$off = error_log_offset();
ok(start_nginx(config => $api,
               main_config => "env ESPEAK_DATA_PATH=$nodata;\n"
                            . "env HOME=$nodata;"),
   'nginx starts without espeak-ng data');
my (undef, $nc) = new_captcha();
answer_of($nc->{captcha_id} // '');
my $nowav = http_request(GET => $nc->{audio} // '/x');
is($nowav->{status}, 503, 'the sound: 503');
is((decode_json_body($nowav) // {})->{error}{code}, 'audio_unavailable',
   '... code audio_unavailable');
like(error_log_since($off), qr/\[error\].*espeak-ng/,
     '... and the error log says why');
is(http_request(GET => $nc->{image} // '/x')->{status}, 200,
   '... the image still works');

stop_nginx();

# never an answer in the error log, nor the test answer in lower case
my $log = read_file(servroot() . '/logs/error.log');
my @leaks = grep { $log =~ /\Q$_\E/i } sort keys %answers;
ok(!@leaks, 'no answer is in the error log (' . keys(%answers)
            . ' answers)') or diag "found: @leaks";

__DATA__

=== TEST 1: GET captcha/{id}.png: the picture of a stored captcha
--- init
psql_query(q{INSERT INTO portal.captchas (id, answer) VALUES
             ('0b7e3b8a-5f0c-4d43-9a4e-3c1d2f6a7b01', 'HJK479')});
--- request
GET /api/captcha/0b7e3b8a-5f0c-4d43-9a4e-3c1d2f6a7b01.png
--- response_headers
Content-Type: image/png
Cache-Control: no-store
X-Content-Type-Options: nosniff
--- response_body_like
\A\x89PNG\r\n\x1a\n.*IEND
--- no_error_log
[error]
HJK479


=== TEST 2: GET captcha/{id}.wav: the same characters spoken
--- request
GET /api/captcha/0b7e3b8a-5f0c-4d43-9a4e-3c1d2f6a7b01.wav
--- response_headers
Content-Type: audio/wav
Cache-Control: no-store
--- response_body_like
\ARIFF....WAVEfmt .{20}data.{1000}
--- no_error_log
[error]
HJK479


=== TEST 3: HEAD of the picture: the headers only
--- request
HEAD /api/captcha/0b7e3b8a-5f0c-4d43-9a4e-3c1d2f6a7b01.png
--- response_headers
Content-Type: image/png
--- response_body
--- no_error_log
[error]


=== TEST 4: an id that is not a UUID: 404, without asking PostgreSQL
--- request
GET /api/captcha/not-a-uuid.png
--- error_code: 404
--- response_body_json
{"error": {"code": "captcha_not_found", "message": {"~": "nouveau"}}}
--- no_error_log
[error]


=== TEST 5: an id that is almost a UUID: 404
--- request
GET /api/captcha/0b7e3b8a-5f0c-4d43-9a4e-3c1d2f6a7b0g.wav
--- error_code: 404
--- response_body_like
"captcha_not_found"
--- no_error_log
[error]


=== TEST 6: an unknown captcha: 404
--- request
GET /api/captcha/9d7a1c66-0000-4000-8000-000000000000.png
--- error_code: 404
--- response_body_json
{"error": {"code": "captcha_not_found", "message": {"~": "."}}}
--- no_error_log
[error]


=== TEST 7: a spent captcha has no picture
--- init
psql_query(q{INSERT INTO portal.captchas (id, answer, used_at) VALUES
             ('5c7f0e02-8d2b-4f4c-b1a0-6e9d3c2b1a07', 'XWY358', now())});
--- request
GET /api/captcha/5c7f0e02-8d2b-4f4c-b1a0-6e9d3c2b1a07.png
--- error_code: 404
--- response_body_like
"captcha_not_found"
--- no_error_log
[error]
XWY358


=== TEST 8: nor sound
--- request
GET /api/captcha/5c7f0e02-8d2b-4f4c-b1a0-6e9d3c2b1a07.wav
--- error_code: 404
--- response_body_like
"captcha_not_found"
--- no_error_log
[error]


=== TEST 9: an expired captcha has no picture
--- init
psql_query(q{INSERT INTO portal.captchas (id, answer, expires_at) VALUES
             ('e1d2c3b4-a5f6-4789-8abc-def012345678', 'MRA734',
              now() - interval '1 second')});
--- request
GET /api/captcha/e1d2c3b4-a5f6-4789-8abc-def012345678.png
--- error_code: 404
--- response_body_like
"captcha_not_found"
--- no_error_log
[error]
MRA734


=== TEST 10: POST captcha without the anti-CSRF token: 403
--- request
POST /api/captcha
--- more_headers
Content-Length: 0
--- error_code: 403
--- response_body_like
"csrf"
--- no_error_log
[error]


=== TEST 11: GET captcha: 405, only POST makes one
--- request
GET /api/captcha
--- error_code: 405
--- response_headers
Allow: POST
--- no_error_log
[error]


=== TEST 12: DELETE of a picture: 405
--- request
DELETE /api/captcha/0b7e3b8a-5f0c-4d43-9a4e-3c1d2f6a7b01.png
--- more_headers
Content-Length: 0
--- error_code: 405
--- response_headers
Allow: GET, HEAD
--- no_error_log
[error]



=== TEST 13: a captcha font that cannot be read fails nginx -t
--- http_config
portal_captcha_font /nonexistent/font.ttf;
--- config
location /api/ { portal_api citizen; }
--- must_die: portal_captcha_font
--- error_log
cannot be read
