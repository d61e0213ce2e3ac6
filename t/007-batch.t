# Statements that wait for a busy connection go to PostgreSQL together, in
# pipeline mode: each keeps its own transaction (a failing one takes no
# other with it), and a request that goes away in a batch leaves the others
# to be served.  One connection, so that requests must queue.

use strict;
use warnings;
use lib 't/lib';
use Test::Portal;

plan tests => 9;

my $conf = (<<'CONF');
        location /api/ { portal_api citizen; }
        location = /ping { return 200 "pong"; }
CONF

sub statuses { join ' ', sort map { $_->{status} // 'none' } @_ }

# requests are read in order: once /ping is answered, those before are in
sub worker_has_read_them {
    return (http_request(GET => '/ping', timeout => 5)->{status} // 0) == 200;
}

my $lock = pg_session();
health_waits_for_lock(42);

ok(start_nginx(http_config => "portal_db_pool_size 1;\nportal_db_timeout 5s;",
               config => $conf), 'nginx starts with a pool of 1');
ok(wait_until(sub { portal_backends() == 1 }, 5, 'one connection'),
   'the worker holds its connection');

# warm up: the statement is prepared on the connection, so that the next
# ones can be batched
is(http_request(GET => '/api/health')->{status}, 200, 'a first health check');


# ------------------------------------------- a client leaves in a batch

my $off = error_log_offset();
$lock->query('SELECT pg_advisory_lock(42)');
my $first = http_start(GET => '/api/health');
ok(wait_until(sub { backends_waiting_on_lock() == 1 }, 5, 'the first query'),
   'one query runs and waits for the lock');

my @queued = map { http_start(GET => '/api/health') } 1 .. 6;
ok(worker_has_read_them(), 'six more wait in the queue');
http_abort($_) for @queued[1, 4];

$lock->query('SELECT pg_advisory_unlock(42)');
is(statuses(http_collect($first, @queued[0, 2, 3, 5])),
   '200 200 200 200 200',
   'the lock released, the five left are served, the two gone are not');


# ------------------------- each statement of a batch is its own transaction

# every other call fails: a batch of six must answer three and three
psql_query(<<'SQL');
CREATE SEQUENCE portal.health_calls;
ALTER SEQUENCE portal.health_calls OWNER TO portal;
CREATE OR REPLACE FUNCTION portal.health() RETURNS text
    LANGUAGE plpgsql VOLATILE
    AS $$ BEGIN
        PERFORM pg_advisory_xact_lock_shared(42);
        IF nextval('portal.health_calls') % 2 = 0 THEN
            RAISE EXCEPTION 'every other call fails';
        END IF;
        RETURN 'ok';
    END $$;
SQL

$lock->query('SELECT pg_advisory_lock(42)');
$first = http_start(GET => '/api/health');
ok(wait_until(sub { backends_waiting_on_lock() == 1 }, 5, 'the first query'),
   'again one query waits for the lock');
@queued = map { http_start(GET => '/api/health') } 1 .. 5;
worker_has_read_them();
$lock->query('SELECT pg_advisory_unlock(42)');

is(statuses(http_collect($first, @queued)), '200 200 200 500 500 500',
   'failures stay with their own statement: three answered, three 500');

health_restore();
is(http_request(GET => '/api/health')->{status}, 200,
   'the connection serves on');
