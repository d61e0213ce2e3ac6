# The per-worker connection pool: requests wait in a bounded queue when
# every connection is busy, get 503 after portal_db_timeout or at once when
# the queue is full, and a client that goes away cancels its query.
#
# "Slow" queries are made without sleeping: portal.health() waits for an
# advisory lock that a psql session of the test holds, and the test
# releases it when it wants the queries to finish.

use strict;
use warnings;
use lib 't/lib';
use Test::Portal;
use Time::HiRes qw(time);

plan tests => 28;

my $slack = 0.6 * timeout_factor();
my $api   = <<'CONF';
        location /api/ { portal_api citizen; }
        location = /ping { return 200 "pong"; }
CONF

# One worker with one connection, so that a second request must wait.
sub pool_conf {
    my ($timeout, $queue) = @_;
    my $http = "portal_db_pool_size 1;\nportal_db_timeout $timeout;";
    $http .= "\nportal_db_queue $queue;" if defined $queue;
    return (http_config => $http, config => $api);
}

sub statuses {
    return join ' ', sort map { $_->{status} // 'none' } @_;
}

# The worker reads requests in the order they came: once a /ping sent
# after them is answered, the requests sent before are queued in it.
sub worker_has_read_them {
    return (http_request(GET => '/ping', timeout => 5)->{status} // 0) == 200;
}

sub is_db_unavailable {
    my ($res) = @_;
    my $body = decode_json_body($res);
    return ($res->{status} // 0) == 503 && ref $body eq 'HASH'
           && ($body->{error}{code} // '') eq 'db_unavailable';
}

my $lock = pg_session();
health_waits_for_lock(42);


# ------------------------------------------------- requests wait their turn

ok(start_nginx(pool_conf('5s')), 'nginx starts with a pool of 1');
my $off = error_log_offset();
ok(wait_until(sub { portal_backends() == 1 }, 5, 'one connection'),
   'the worker holds 1 connection');

$lock->query('SELECT pg_advisory_lock(42)');
my @h = map { http_start(GET => '/api/health') } 1 .. 5;
ok(wait_until(sub { backends_waiting_on_lock() == 1 }, 5, 'a query to wait'),
   'one query runs (and waits for the lock)');
is(scalar(portal_backends()), 1, '... on the one connection: the rest queue');
is(scalar(http_wait(\@h, timeout => 0)), 0, 'no request is answered yet');

$lock->query('SELECT pg_advisory_unlock(42)');
my @res = http_collect(@h);
is(statuses(@res), '200 200 200 200 200',
   'once the lock is released, all 5 are served');


# ----------------------------------- the client goes away: query cancelled

$lock->query('SELECT pg_advisory_lock(42)');
my $h = http_start(GET => '/api/health');
ok(wait_until(sub { backends_waiting_on_lock() == 1 }, 5, 'the query to wait'),
   'a query waits for the lock');
http_abort($h);
# portal_db_timeout (5 s) counts from after the request was sent: a cancel
# seen sooner is the client's doing, not the timeout's.
ok(wait_until(sub { backends_waiting_on_lock() == 0 }, 3,
              'the query to be cancelled')
   && time - $h->{start} < 5,
   'the client went away: its query is cancelled in PostgreSQL '
   . '(before portal_db_timeout)');

# The connection is usable again, while the lock is still held.
health_restore();
is(http_request(GET => '/api/health', timeout => 5)->{status}, 200,
   'the connection serves the next request');
health_waits_for_lock(42);

# The client of a queued request goes away: the queue forgets it.
my $h1 = http_start(GET => '/api/health');
ok(wait_until(sub { backends_waiting_on_lock() == 1 }, 5, 'the query to wait'),
   'a query waits for the lock');
my $h2 = http_start(GET => '/api/health');
my $h3 = http_start(GET => '/api/health');
worker_has_read_them();
# Close $h2 and wait until nginx has noticed (it logs it at level info).
my $before = error_log_offset();
http_abort($h2);
ok(wait_until(sub { error_log_since($before) =~ /client prematurely closed/ },
              3, 'nginx to notice the closed client'),
   'nginx notices that a queued client went away');
$lock->query('SELECT pg_advisory_unlock(42)');
@res = http_collect($h1, $h3);
is(statuses(@res), '200 200', 'the other requests are served');

# The running request's client goes away while another waits: the waiting
# one gets the connection.
$lock->query('SELECT pg_advisory_lock(42)');
$h1 = http_start(GET => '/api/health');
ok(wait_until(sub { backends_waiting_on_lock() == 1 }, 5, 'the query to wait'),
   'a query waits for the lock');
$h2 = http_start(GET => '/api/health', timeout => 10);
worker_has_read_them();
my $started = (backends_waiting_on_lock())[0]{query_start};
http_abort($h1);
# The connection comes back to the pool once the cancelled statement is
# over; the queued request's statement then waits for the lock in turn.
ok(wait_until(sub {
       my @w = backends_waiting_on_lock();
       @w == 1 && $w[0]{query_start} ne $started;
   }, 3, 'the queued request to reach PostgreSQL'),
   'the queued request reaches PostgreSQL after the cancel');
$lock->query('SELECT pg_advisory_unlock(42)');
my ($r2) = http_collect($h2);
is($r2->{status}, 200, '... and is served when the lock is released');

ok(wait_until(sub { portal_backends() == 1 }, 5, 'one connection'),
   'the pool still has its one connection');
check_error_log($off, 'no alert, crit or emerg while queueing and cancelling');


# -------------------------------------------- waiting is bounded in time

ok(start_nginx(pool_conf('1s')), 'nginx restarts with portal_db_timeout 1s');
$off = error_log_offset();
$lock->query('SELECT pg_advisory_lock(42)');
@h = map { http_start(GET => '/api/health', timeout => 10) } 1 .. 3;
@res = http_collect(@h);
is(scalar(grep { is_db_unavailable($_) } @res), 3,
   'the running query and the queued ones get 503 db_unavailable');
my @elapsed = sort { $a <=> $b } map { $_->{elapsed} } @res;
cmp_ok($elapsed[0], '>=', 0.9, '... after waiting portal_db_timeout');
cmp_ok($elapsed[-1], '<', 1 + $slack, '... not much longer');

ok(wait_until(sub { backends_waiting_on_lock() == 0 }, 3,
              'the timed-out query to be cancelled'),
   'the timed-out query is cancelled in PostgreSQL');
health_restore();
is(http_request(GET => '/api/health', timeout => 5)->{status}, 200,
   'the pool serves again (the lock still held)');
health_waits_for_lock(42);
$lock->query('SELECT pg_advisory_unlock(42)');
check_error_log($off, 'no alert, crit or emerg on timeouts');


# ------------------------------------------- the queue is bounded in size

ok(start_nginx(pool_conf('3s', 2)), 'nginx restarts with portal_db_queue 2');
$lock->query('SELECT pg_advisory_lock(42)');
$h1 = http_start(GET => '/api/health', timeout => 10);
ok(wait_until(sub { backends_waiting_on_lock() == 1 }, 5, 'the query to wait'),
   'a query holds the connection');
@h = map { http_start(GET => '/api/health', timeout => 10) } 1 .. 3;
my @first = http_wait(\@h, any => 1, timeout => 2);
ok(@first == 1 && is_db_unavailable($first[0]->response)
   && $first[0]->response->{elapsed} < 0.5 * timeout_factor(),
   'past the 2 queued requests, the next one gets 503 at once')
    or diag explain [map { $_->response } @first];
$lock->query('SELECT pg_advisory_unlock(42)');
@res = http_collect($h1, grep { $_ != $first[0] } @h);
is(statuses(@res), '200 200 200', 'the running and the 2 queued are served');

$lock->close;
