# PostgreSQL goes away, comes back, restarts under a query, stops
# answering: the portal answers a clear 503 within portal_db_timeout, keeps
# serving everything else, and heals by itself, without touching nginx.

use strict;
use warnings;
use lib 't/lib';
use Test::Portal;

private_pg();               # this file stops and freezes its own cluster

plan tests => 33;

my $timeout = 1;            # portal_db_timeout, seconds
my $slack   = 0.6 * timeout_factor();
my $http    = "portal_db_timeout ${timeout}s;";
my $conf    = <<'CONF';
        location /api/ { portal_api citizen; }
        location = /ping { return 200 "pong"; }
CONF

sub health { http_request(GET => '/api/health', timeout => 5) }

sub is_db_unavailable {
    my ($res, $name) = @_;
    my $body = decode_json_body($res);
    ok(($res->{status} // 0) == 503
       && ref $body eq 'HASH' && ref $body->{error} eq 'HASH'
       && ($body->{error}{code} // '') eq 'db_unavailable'
       && ($body->{error}{message} // '') =~ /\S/,
       "$name: 503 with the db_unavailable envelope")
        or diag "status " . ($res->{status} // 'none')
              . ", body: " . ($res->{body} // '') . ($res->{error} // '');
}

sub heals {
    my ($name) = @_;
    ok(wait_until(sub { (health()->{status} // 0) == 200 }, 10,
                  'health to answer 200 again'),
       "$name: health answers 200 again, by itself");
}

# --------------------------------------------------------- at first

ok(start_nginx(http_config => $http, config => $conf), 'nginx starts');
my $off     = error_log_offset();
my $master  = nginx_pid();
my @workers = worker_pids();
is(health()->{status}, 200, 'health answers 200 while PostgreSQL runs');


# ----------------------------------------------- PostgreSQL is stopped

pg_stop();
my $res = health();
is_db_unavailable($res, 'PostgreSQL stopped');
cmp_ok($res->{elapsed}, '<', $timeout + $slack, '... within portal_db_timeout');

my @res = map { health() } 1 .. 5;
is(scalar(grep { ($_->{status} // 0) == 503 } @res), 5,
   'every request during the outage gets 503');
cmp_ok((sort { $b <=> $a } map { $_->{elapsed} } @res)[0], '<',
       $timeout + $slack, '... each within portal_db_timeout');
is(http_request(GET => '/ping')->{body}, 'pong',
   'the rest of the server is served meanwhile');


# ------------------------------------------------ PostgreSQL is back

pg_start();
heals('PostgreSQL started again');
ok(wait_until(sub { portal_backends() == 4 }, 10, 'the pool to reconnect'),
   'the pool has its 4 connections again');
is(nginx_pid(), $master, 'the same nginx master');
is_deeply([worker_pids()], \@workers, 'the same worker: nothing crashed');


# ------------------------------------ PostgreSQL stops answering at all

ok(pg_freeze() > 1, 'PostgreSQL frozen (SIGSTOP)');
my @h = map { http_start(GET => '/api/health', timeout => 10) } 1 .. 3;

# The worker keeps serving while its queries hang.
my $ping = http_request(GET => '/ping', timeout => 5);
ok(($ping->{status} // 0) == 200 && $ping->{elapsed} < 0.5 * timeout_factor(),
   'the worker serves other requests while PostgreSQL hangs');

@res = http_collect(@h);
is(scalar(grep { ($_->{status} // 0) == 503 } @res), 3,
   'every health request gets 503 while PostgreSQL hangs');
is_db_unavailable($res[0], 'PostgreSQL frozen');
cmp_ok((sort { $b <=> $a } map { $_->{elapsed} } @res)[0], '<',
       $timeout + $slack, '... within portal_db_timeout');

# After the timeouts (and the module's attempts to cancel or reconnect),
# the worker still answers at once: nothing blocked it.
$ping = http_request(GET => '/ping', timeout => 5);
ok(($ping->{status} // 0) == 200 && $ping->{elapsed} < 0.5 * timeout_factor(),
   'the worker is not blocked after the timeouts');

# New requests while it hangs are bounded too.
$res = health();
is($res->{status}, 503, 'a new request while PostgreSQL hangs gets 503');
cmp_ok($res->{elapsed}, '<', $timeout + $slack, '... within portal_db_timeout');

pg_thaw();
heals('PostgreSQL thawed');
ok(wait_until(sub { portal_backends() == 4 }, 10, 'the pool to reconnect'),
   'the pool has its 4 connections again');
ok(wait_until(sub { !grep { $_->{state} eq 'active' } portal_backends() }, 5,
              'no active query'),
   'no query of the module is left running');
is(nginx_pid(), $master, 'the same nginx master');
is_deeply([worker_pids()], \@workers, 'the same worker: nothing crashed');

check_error_log($off, 'no alert, crit or emerg through the outages');

# The outages were logged, and say what happened.
like(error_log_since($off), qr/\[error\].*portal/,
     'the outages are in the error log at level error');


# --------------------------- PostgreSQL restarts under a query in flight

# Stopping PostgreSQL may take longer than a second on a busy machine: with
# a deadline of a minute, an answer before the client's own 10 s can only
# come from the lost connection, and the log says the deadline never fired.
stop_nginx();
ok(start_nginx(http_config => 'portal_db_timeout 60s;', config => $conf),
   'nginx starts again, with a deadline of a minute');
ok(wait_until(sub { (health()->{status} // 0) == 200 }, 10,
              'health to answer 200'),
   'health answers 200');
@workers = worker_pids();

# The query sleeps: only the server going away can end it.
health_hangs();
my $h = http_start(GET => '/api/health', timeout => 10);
ok(wait_until(sub {
       grep { $_->{state} eq 'active' && $_->{wait_event_type} eq 'Timeout' }
            portal_backends()
   }, 5, 'the query to run'),
   'a health query runs in PostgreSQL');

my $before_stop = error_log_offset();
pg_stop();
($res) = http_collect($h);
is_db_unavailable($res, 'PostgreSQL restarted under the query');
unlike(error_log_since($before_stop), qr/in time \(portal_db_timeout\)/,
       '... at once: the lost connection answered, not the deadline');

pg_start();
health_restore();
heals('after the restart');
is_deeply([worker_pids()], \@workers, 'the same worker: nothing crashed');
