# GET /api/health: one real round trip to PostgreSQL; the router's 404 and
# 405 answers; the module's connections name themselves.

use strict;
use warnings;
use lib 't/lib';
use Test::Portal;

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value(config => "location /api/ { portal_api citizen; }")
        unless defined $block->config;
});

# The schema's own portal.health(), put back after a block replaced it.
sub restore_health {
    psql_query(<<'SQL');
CREATE OR REPLACE FUNCTION portal.health() RETURNS text
    LANGUAGE sql STABLE AS $$ SELECT 'ok'::text $$
SQL
}

plan tests => count_tests() + 7;

run_tests();


# --------------------------------------------- what the database saw

# Each GET /api/health calls portal.health() once: count the calls.
restore_health();
psql_query(<<'SQL');
CREATE SEQUENCE portal.health_calls;
ALTER SEQUENCE portal.health_calls OWNER TO portal;
CREATE OR REPLACE FUNCTION portal.health() RETURNS text
    LANGUAGE sql VOLATILE
    AS $$ SELECT CASE WHEN nextval('portal.health_calls') > 0
                      THEN 'ok' END $$;
SQL

my $conf = 'location /api/ { portal_api citizen; }';
ok(start_nginx(config => $conf), 'nginx starts');
my @codes = map { http_request(GET => '/api/health')->{status} } 1 .. 3;
is("@codes", '200 200 200', 'three health checks answer 200');
is(psql_query(q{SELECT CASE WHEN is_called THEN last_value ELSE 0 END
                FROM portal.health_calls}),
   3, 'each one called portal.health() once');
restore_health();

# The module's connections say who they are, unless conninfo says otherwise.
my @apps = map { $_->{application_name} } portal_backends();
ok(@apps > 0, 'the module is connected to the test database');
is_deeply([sort { $a cmp $b } keys %{{ map { $_ => 1 } @apps }}],
          ['ngx_http_portal'], '... with application_name=ngx_http_portal')
    or diag "application names: @apps";

ok(start_nginx(config => $conf, http_config =>
               'portal_db "$TEST_PORTAL_DB application_name=town_hall";')
   && http_request(GET => '/api/health')->{status} == 200,
   'with application_name in conninfo, health answers');
@apps = map { $_->{application_name} } portal_backends();
ok(@apps && !grep({ $_ ne 'town_hall' } @apps),
   '... and the connections keep the name conninfo gives')
    or diag "application names: @apps";

__DATA__

=== TEST 1: GET health: 200 with the status of the portal and its database
--- request
GET /api/health
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_json
{"status": "ok", "db": "ok"}
--- no_error_log
[error]
[warn]



=== TEST 2: HEAD health: the same status and headers, no body
--- request
HEAD /api/health
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body:
--- no_error_log
[error]



=== TEST 3: a query string does not change the route
--- request
GET /api/health?verbose=1
--- response_body_json
{"status": "ok", "db": "ok"}
--- no_error_log
[error]



=== TEST 4: the API may be mounted at another location
--- config
location /v2/citizen/api/ { portal_api citizen; }
--- request
GET /v2/citizen/api/health
--- response_body_json
{"status": "ok", "db": "ok"}
--- no_error_log
[error]



=== TEST 5: an unknown path is a 404 with the error envelope
--- request
GET /api/nothing-here
--- error_code: 404
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_json
{"error": {"code": "not_found", "message": {"~": "\\S"}}}
--- no_error_log
[error]



=== TEST 6: a route's name must match whole, not as a prefix
--- request
GET /api/healthz
--- error_code: 404
--- response_body_json
{"error": {"code": "not_found", "message": {"~": "\\S"}}}



=== TEST 7: nor as a suffix of a longer path
--- request
GET /api/v1/health
--- error_code: 404
--- response_body_json
{"error": {"code": "not_found", "message": {"~": "\\S"}}}



=== TEST 8: the location's root itself is no route
--- request
GET /api/
--- error_code: 404
--- response_body_json
{"error": {"code": "not_found", "message": {"~": "\\S"}}}



=== TEST 9: POST on health is a 405 that says what is allowed
--- request
POST /api/health
{"status": "please"}
--- more_headers
Content-Type: application/json
--- error_code: 405
--- response_headers
Allow: GET, HEAD
Content-Type: application/json; charset=utf-8
--- response_body_json
{"error": {"code": "method_not_allowed", "message": {"~": "\\S"}}}
--- no_error_log
[error]



=== TEST 10: DELETE on health is a 405 too
--- request
DELETE /api/health
--- error_code: 405
--- response_headers
Allow: GET, HEAD
--- response_body_json
{"error": {"code": "method_not_allowed", "message": {"~": "\\S"}}}



=== TEST 11: and so is a method the portal never uses
--- request
OPTIONS /api/health
--- error_code: 405
--- response_headers
Allow: GET, HEAD
--- response_body_json
{"error": {"code": "method_not_allowed", "message": {"~": "\\S"}}}



=== TEST 12: health asks the database: when portal.health() is not ok, 503
--- init
psql_query(<<'SQL');
CREATE OR REPLACE FUNCTION portal.health() RETURNS text
    LANGUAGE sql STABLE AS $$ SELECT 'read-only'::text $$
SQL
--- request
GET /api/health
--- error_code: 503
--- response_body_json
{"error": {"code": "db_unavailable", "message": {"~": "\\S"}}}



=== TEST 13: healthy again once the function is
--- init
restore_health();
--- request
GET /api/health
--- response_body_json
{"status": "ok", "db": "ok"}
--- no_error_log
[error]
