# Self-test of t/lib/Test/Portal.pm on plain nginx locations: it needs
# neither the portal module nor PostgreSQL, so it runs before `make build`.

use strict;
use warnings;
use lib 't/lib';
use Test::Portal;

no_portal_module();

plan tests => count_tests() + 17;

run_tests();


# ----------------------------------------- the helpers for plain-Perl tests

my $slow = 'location = /slow { limit_rate 1; return 200 "'
         . ('x' x 64) . '"; }';
my $conf = <<"CONF";
        location = /t { return 200 "v1"; }
        location /files/ { }
        $slow
CONF

SKIP: {
    skip 'no worker processes under valgrind', 17 if sanitizer() eq 'valgrind';

    ok(start_nginx(workers => 2, config => $conf),
       'start_nginx with 2 workers');
    my $master = nginx_pid();
    my @workers = worker_pids();
    is(scalar @workers, 2, 'worker_pids lists 2 workers');

    # Concurrent requests, collected together.
    my @h = map { http_start(GET => '/t') } 1 .. 8;
    my @res = http_collect(@h);
    is(scalar(grep { ($_->{status} // 0) == 200 && $_->{body} eq 'v1' } @res),
       8, 'http_start/http_collect: 8 concurrent requests answered');

    # A request that cannot finish in time reports a timeout, in time.
    my $res = http_request(GET => '/slow', timeout => 0.5);
    like($res->{error} // '', qr/timeout/, 'a slow response times out');
    cmp_ok($res->{elapsed}, '<', 2 * timeout_factor(), '... promptly');

    # http_wait(any => 1) returns as soon as one response is complete.
    my $slow_h = http_start(GET => '/slow', timeout => 5);
    my $fast_h = http_start(GET => '/t');
    my @done = http_wait([$slow_h, $fast_h], any => 1, timeout => 3);
    ok(@done == 1 && $done[0] == $fast_h,
       'http_wait any => 1 gives the fast one');
    http_abort($slow_h);
    ok($slow_h->done, 'http_abort closes a request in flight');

    # error_log_since sees what the request made nginx write.
    my $off = error_log_offset();
    $res = http_request(GET => '/files/nothing-here.txt');
    is($res->{status}, 404, 'a missing file is 404');
    ok(wait_until(sub {
           error_log_since($off) =~ /nothing-here\.txt.*No such file/
       }, 3, 'the open() error'),
       'error_log_since has the open() error');

    # Reload with a changed config: same master, new workers, new behaviour.
    $off = error_log_offset();
    (my $conf2 = $conf) =~ s/"v1"/"v2"/;
    ok(reload_nginx(workers => 2, config => $conf2), 'reload_nginx');
    is(nginx_pid(), $master, '... keeps the master');
    my @new = worker_pids();
    ok(@new == 2 && !grep({ my $w = $_; grep { $_ == $w } @workers } @new),
       '... and runs 2 new workers');
    is(http_request(GET => '/t')->{body}, 'v2', '... with the new config');
    ok(wait_until(sub { !grep { kill 0, $_ } @workers }, 5, 'old workers exit'),
       'the old workers exit');
    check_error_log($off, 'no alert, crit or emerg since the reload');

    # A HEAD request has no body even though nginx says how long it would be.
    $res = http_request(HEAD => '/t');
    ok($res->{status} == 200 && $res->{body} eq '', 'HEAD: 200 without a body');

    ok(stop_nginx() && !nginx_running(), 'stop_nginx');
}

__DATA__

=== TEST 1: a plain location answers, headers present and absent
--- config
location = /t { return 200 "hi"; }
--- request
GET /t
--- response_body chomp
hi
--- response_headers
Content-Type: text/plain
Content-Length: 2
! X-Nope
--- no_error_log
[error]
[warn]



=== TEST 2: more_headers reach nginx
--- config
location = /t { add_header X-Echo "[$http_x_foo]"; return 200 "ok\n"; }
--- request
GET /t
--- more_headers
X-Foo: bar baz
--- response_headers
X-Echo: [bar baz]
--- response_body_like: ^ok$
--- no_error_log
[error]



=== TEST 3: error_code and error_log, on a missing file
--- config
location /files/ { }
--- request
GET /files/missing.txt
--- error_code: 404
--- error_log
missing.txt" failed (2: No such file or directory)
[error]



=== TEST 4: init runs before the request
--- init
write_file(servroot() . '/html/hello.txt', "bonjour\n", 0644);
--- config
location / { }
--- request
GET /hello.txt
--- response_body
bonjour
--- no_error_log
[error]



=== TEST 5: the request body is sent, without the section's last newline
--- config
location = /t { client_max_body_size 9; return 200 "small"; }
--- request
POST /t
0123456789
--- error_code: 413
--- error_log
client intended to send too large body: 10 bytes



=== TEST 6: request_body is sent too
--- config
location = /t { client_max_body_size 2; return 200 "small"; }
--- request
POST /t
--- request_body
ab
--- response_body: small
--- no_error_log
too large body



=== TEST 7: response_body_json compares decoded JSON; {"~": re} matches a string
--- config
location = /j {
    default_type application/json;
    return 200 '{"b": [1, 2], "a": {"code": "x", "message": "Un message"}}';
}
--- request
GET /j
--- response_headers
Content-Type: application/json
--- response_body_json
{"a": {"message": {"~": "^Un "}, "code": "x"}, "b": [1, 2]}



=== TEST 8: variables are substituted in the config
--- config
location = /v { return 200 "$TEST_NGINX_PORT $TEST_NGINX_SERVROOT"; }
--- request
GET /v
--- response_body eval
Test::Portal::port() . " " . Test::Portal::servroot()



=== TEST 9: a chunked response is decoded
--- config
location = /c {
    sub_filter_types *;
    sub_filter_once off;
    sub_filter 'a' 'b';
    return 200 "aaa";
}
--- request
GET /c
--- response_headers
Transfer-Encoding: chunked
! Content-Length
--- response_body: bbb



=== TEST 10: HTTP/1.0 requests
--- config
location = /t { return 200 "hi"; }
--- request
GET /t HTTP/1.0
--- response_headers
Connection: close
--- response_body: hi
--- no_error_log
[error]



=== TEST 11: must_die names the file and the line of a bad directive
--- config
location = /t {
    no_such_directive on;
}
--- must_die: no_such_directive
--- error_log
unknown directive "no_such_directive"



=== TEST 12: must_die on a main-context error
--- main_config
worker_rlimit_nofile abc;
--- must_die: worker_rlimit_nofile abc
--- error_log
invalid number



=== TEST 13: a block without a request only starts nginx
--- workers: 2
--- http_config
server_tokens off;
--- config
location = /t { return 204; }



=== TEST 14: after a must_die, nginx runs again; 204 has no body
--- config
location = /t { return 204; }
--- request
GET /t
--- error_code: 204
--- response_body:
--- no_error_log
[error]
