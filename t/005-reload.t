# nginx -s reload (SIGHUP) with requests in flight: none is lost, the old
# workers finish them and close their PostgreSQL connections, and the new
# config's pool is what stays connected.

use strict;
use warnings;
use lib 't/lib';
use Test::Portal;

# Under valgrind nginx runs as a single process: there are no workers to
# replace.
plan skip_all => 'no worker processes under valgrind'
    if sanitizer() eq 'valgrind';
plan tests => 21;

my $api = <<'CONF';
        location /api/ { portal_api citizen; }
        location = /ping { return 200 "pong"; }
CONF

sub conf {
    my ($workers, $pool) = @_;
    return (workers => $workers, config => $api,
            http_config => "portal_db_pool_size $pool;\nportal_db_timeout 5s;");
}

sub statuses {
    my %n;
    $n{ $_->{status} // 'none' }++ for @_;
    return join ', ', map { "$n{$_} x $_" } sort keys %n;
}

sub connections_become {
    my ($n) = @_;
    my $got;
    my $ok = wait_until(sub { ($got = portal_backends()) == $n }, 10,
                        "$n connections");
    diag "the module has $got connections to the test database" unless $ok;
    return $ok;
}

sub alive { grep { kill 0, $_ } @_ }


# ------------------------------------- reload under requests in flight

ok(start_nginx(conf(2, 2)), 'nginx starts: 2 workers, pools of 2');
my $off = error_log_offset();
my $master = nginx_pid();
ok(connections_become(4), 'each worker holds its 2 connections: 4 in all');
is(http_request(GET => '/api/health')->{status}, 200, 'health answers 200');

health_waits_for_lock(42);
my $lock = pg_session();
$lock->query('SELECT pg_advisory_lock(42)');
my @h = map { http_start(GET => '/api/health', timeout => 15) } 1 .. 8;
ok(wait_until(sub { backends_waiting_on_lock() >= 2 }, 5, 'queries to wait'),
   'requests are in flight in PostgreSQL (the others queue)');

my @old = worker_pids();
ok(reload_nginx(conf(2, 2)), 'reload: new workers are up');
is(nginx_pid(), $master, '... under the same master');
ok(alive(@old) > 0, 'the old workers are still finishing their requests');
is(scalar(http_wait(\@h, timeout => 0)), 0, '... which are not answered yet');

# The new workers serve (their own pool) meanwhile.
is(http_request(GET => '/ping')->{body}, 'pong', 'the new workers serve');

$lock->query('SELECT pg_advisory_unlock(42)');
my @res = http_collect(@h);
is(statuses(@res), '8 x 200', 'every request in flight is served: none lost');

ok(wait_until(sub { !alive(@old) }, 10, 'the old workers to exit'),
   'the old workers exit once done');
ok(connections_become(4),
   "the old workers' connections are closed: 4 left, the new pools");
health_restore();
is(http_request(GET => '/api/health')->{status}, 200,
   'health answers 200 after the reload');


# --------------------------------------------- the new config is applied

ok(reload_nginx(conf(2, 1)), 'reload with portal_db_pool_size 1');
ok(connections_become(2), '2 workers x 1 connection = 2');

ok(reload_nginx(conf(1, 3)), 'reload with 1 worker, portal_db_pool_size 3');
ok(connections_become(3), '1 worker x 3 connections = 3');
is(http_request(GET => '/api/health')->{status}, 200, 'health answers 200');


# ------------------------------------------------ reloads in a row, busy

my @all;
for my $i (1 .. 5) {
    push @all, map { http_start(GET => '/api/health', timeout => 15) } 1 .. 6;
    reload_nginx(conf(2, 2)) or diag "reload $i failed";
}
push @all, map { http_start(GET => '/api/health', timeout => 15) } 1 .. 6;
@res = http_collect(@all);
is(statuses(@res), '36 x 200', '5 reloads in a row under traffic: none lost');
ok(connections_become(4), 'and 4 connections stay, no leak');

check_error_log($off, 'no alert, crit or emerg through the reloads');
