# The hosting team's contract: every portal_* directive is checked by
# `nginx -t`, and every misuse names the file and the line at fault.

use strict;
use warnings;
use lib 't/lib';
use Test::Portal;

# Blocks without their own config serve the citizen API at /api/.
add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value(config => "location /api/ { portal_api citizen; }")
        unless defined $block->config;
});

plan tests => count_tests();

run_tests();

__DATA__

=== TEST 1: every directive set explicitly: nginx starts and serves
--- main_config
thread_pool hashing threads=2;
--- http_config
portal_db "$TEST_PORTAL_DB";
portal_db_pool_size 2;
portal_db_timeout 2500ms;
portal_db_queue 10;
portal_secret_file $TEST_NGINX_SERVROOT/secret.key;
portal_thread_pool hashing;
--- request
GET /api/health
--- response_body_json
{"status": "ok", "db": "ok"}
--- no_error_log
[error]
[warn]



=== TEST 2: a secret of exactly 32 bytes is enough
--- init
write_file(servroot() . '/secret32.key', 'k' x 32, 0600);
--- http_config
portal_secret_file $TEST_NGINX_SERVROOT/secret32.key;
--- request
GET /api/health
--- no_error_log
[error]



=== TEST 3: portal_db twice
--- http_config
portal_db "$TEST_PORTAL_DB";
portal_db "host=/nowhere dbname=other";
--- must_die: host=/nowhere
--- error_log
"portal_db" directive is duplicate



=== TEST 4: portal_db_pool_size twice
--- http_config
portal_db_pool_size 2;
portal_db_pool_size 3;
--- must_die: portal_db_pool_size 3;
--- error_log
"portal_db_pool_size" directive is duplicate



=== TEST 5: portal_db_timeout twice
--- http_config
portal_db_timeout 2s;
portal_db_timeout 4s;
--- must_die: portal_db_timeout 4s;
--- error_log
"portal_db_timeout" directive is duplicate



=== TEST 6: portal_db_queue twice
--- http_config
portal_db_queue 8;
portal_db_queue 9;
--- must_die: portal_db_queue 9;
--- error_log
"portal_db_queue" directive is duplicate



=== TEST 7: portal_secret_file twice
--- http_config
portal_secret_file $TEST_NGINX_SERVROOT/secret.key;
portal_secret_file $TEST_NGINX_SERVROOT/conf/../secret.key;
--- must_die: conf/../secret.key
--- error_log
"portal_secret_file" directive is duplicate



=== TEST 8: portal_thread_pool twice
--- main_config
thread_pool other threads=1;
--- http_config
portal_thread_pool portal;
portal_thread_pool other;
--- must_die: portal_thread_pool other;
--- error_log
"portal_thread_pool" directive is duplicate



=== TEST 9: portal_api twice in one location
--- config
location /api/ {
    portal_api citizen;
    portal_api agent;
}
--- must_die: portal_api agent;
--- error_log
"portal_api" directive is duplicate



=== TEST 10: portal_db_pool_size is not a number
--- http_config
portal_db_pool_size many;
--- must_die: portal_db_pool_size many;
--- error_log
"portal_db_pool_size" directive invalid number



=== TEST 11: portal_db_pool_size 0 makes no pool
--- http_config
portal_db_pool_size 0;
--- must_die: portal_db_pool_size 0;
--- error_log
value must be



=== TEST 12: portal_db_pool_size far too large
--- http_config
portal_db_pool_size 100000;
--- must_die: portal_db_pool_size 100000;
--- error_log
value must be



=== TEST 13: portal_db_pool_size without a value
--- http_config
portal_db_pool_size;
--- must_die: portal_db_pool_size;
--- error_log
invalid number of arguments in "portal_db_pool_size" directive



=== TEST 14: portal_db_timeout is not a time
--- http_config
portal_db_timeout soon;
--- must_die: portal_db_timeout soon;
--- error_log
"portal_db_timeout" directive invalid value



=== TEST 15: portal_db_timeout 0 would wait for nothing
--- http_config
portal_db_timeout 0;
--- must_die: portal_db_timeout 0;
--- error_log
portal_db_timeout



=== TEST 16: portal_db_queue is not a number
--- http_config
portal_db_queue -1;
--- must_die: portal_db_queue -1;
--- error_log
"portal_db_queue" directive invalid number



=== TEST 17: portal_secret_file names a missing file
--- http_config
portal_secret_file $TEST_NGINX_SERVROOT/missing.key;
--- must_die: portal_secret_file
--- error_log
missing.key
(2: No such file or directory)



=== TEST 18: portal_secret_file holds too few bytes
--- init
write_file(servroot() . '/short.key', 'k' x 31, 0600);
--- http_config
portal_secret_file $TEST_NGINX_SERVROOT/short.key;
--- must_die: portal_secret_file
--- error_log
short.key



=== TEST 19: portal_secret_file is empty
--- init
write_file(servroot() . '/empty.key', '', 0600);
--- http_config
portal_secret_file $TEST_NGINX_SERVROOT/empty.key;
--- must_die: portal_secret_file
--- error_log
empty.key



=== TEST 20: portal_thread_pool names no thread_pool
--- http_config
portal_thread_pool nosuchpool;
--- must_die: portal_thread_pool nosuchpool;
--- error_log
unknown thread pool "nosuchpool"



=== TEST 21: portal_api with an unknown kind
--- config
location /api/ { portal_api visitor; }
--- must_die: portal_api visitor;
--- error_log
invalid value "visitor"



=== TEST 22: portal_api without a value
--- config
location /api/ { portal_api; }
--- must_die: portal_api;
--- error_log
invalid number of arguments in "portal_api" directive



=== TEST 23: portal_api is a location directive, not an http one
--- http_config
portal_api citizen;
--- must_die: portal_api citizen;
--- error_log
"portal_api" directive is not allowed here



=== TEST 24: portal_db is an http directive, not a location one
--- config
location /api/ {
    portal_db "$TEST_PORTAL_DB";
    portal_api citizen;
}
--- must_die: portal_db "
--- error_log
"portal_db" directive is not allowed here



=== TEST 25: portal_db_pool_size is an http directive, not a server one
--- config
portal_db_pool_size 2;
location /api/ { portal_api citizen; }
--- must_die: portal_db_pool_size 2;
--- error_log
"portal_db_pool_size" directive is not allowed here



=== TEST 26: portal_api without portal_db
--- no_portal_defaults
--- http_config
portal_secret_file $TEST_NGINX_SERVROOT/secret.key;
portal_thread_pool portal;
--- config
location /api/ {
    portal_api citizen;
}
--- must_die: portal_api citizen;
--- error_log
portal_db



=== TEST 27: portal_api in an exact-match location
--- config
location = /api/health { portal_api citizen; }
--- must_die: portal_api citizen;
--- error_log
portal_api



=== TEST 28: an unknown portal_ directive
--- http_config
portal_db_poolsize 2;
--- must_die: portal_db_poolsize 2;
--- error_log
unknown directive "portal_db_poolsize"



=== TEST 29: portal_captcha_thread_pool names no thread_pool
--- http_config
portal_captcha_thread_pool nosuchpool;
--- must_die: portal_captcha_thread_pool nosuchpool;
--- error_log
unknown thread pool "nosuchpool"



=== TEST 30: portal_captcha_thread_pool twice
--- main_config
thread_pool pictures threads=1;
--- http_config
portal_captcha_thread_pool pictures;
portal_captcha_thread_pool pictures;
--- must_die: portal_captcha_thread_pool pictures;
--- error_log
"portal_captcha_thread_pool" directive is duplicate



=== TEST 31: a pool of its own for captchas, named otherwise: nginx starts
--- main_config
thread_pool pictures threads=1 max_queue=8;
--- http_config
portal_captcha_thread_pool pictures;
--- request
GET /api/health
--- response_body_json
{"status": "ok", "db": "ok"}
--- no_error_log
[error]



=== TEST 32: portal_json_max_size that is no size
--- config
location /api/ { portal_api citizen; portal_json_max_size lots; }
--- must_die: portal_json_max_size lots;
--- error_log
invalid value



=== TEST 33: portal_pdf_thread_pool names no thread_pool
--- http_config
portal_pdf_thread_pool nosuchpool;
--- must_die: portal_pdf_thread_pool nosuchpool;
--- error_log
unknown thread pool "nosuchpool"



=== TEST 34: portal_pdf_thread_pool twice
--- main_config
thread_pool pdfs threads=1;
--- http_config
portal_pdf_thread_pool pdfs;
portal_pdf_thread_pool pdfs;
--- must_die: portal_pdf_thread_pool pdfs;
--- error_log
"portal_pdf_thread_pool" directive is duplicate



=== TEST 35: a pool of its own for PDFs and a town in the server: nginx starts
--- main_config
thread_pool pdfs threads=1 max_queue=8;
--- http_config
portal_pdf_thread_pool pdfs;
portal_town_name "Mairie de Val-d’Essai";
--- config
portal_town_service "Pôle des démarches en ligne";
portal_town_address "2 place de l’Église" "BP 12" "99999 Val-d’Essai"
                    "France";
location /api/ { portal_api citizen; }
--- request
GET /api/health
--- response_body_json
{"status": "ok", "db": "ok"}
--- no_error_log
[error]
[warn]



=== TEST 36: portal_town_address twice
--- http_config
portal_town_address "2 place de l’Église";
portal_town_address "99999 Val-d’Essai";
--- must_die: portal_town_address "99999
--- error_log
"portal_town_address" directive is duplicate



=== TEST 37: portal_town_address of five lines
--- http_config
portal_town_address "Hôtel de Ville" "2 place de l’Église" "BP 12" "99999 Val-d’Essai" "France";
--- must_die: portal_town_address "Hôtel
--- error_log
invalid number of arguments in "portal_town_address"



=== TEST 38: portal_town_address with an empty line
--- http_config
portal_town_address "2 place de l’Église" "" "99999 Val-d’Essai";
--- must_die: portal_town_address "2 place
--- error_log
"portal_town_address" directive takes lines that are not empty



=== TEST 39: portal_town_name is not a location directive
--- config
location /api/ { portal_api citizen; portal_town_name "Mairie"; }
--- must_die: portal_town_name "Mairie";
--- error_log
"portal_town_name" directive is not allowed here



=== TEST 40: portal_town_name twice
--- http_config
portal_town_name "Mairie de Val-d’Essai";
portal_town_name "Mairie d’ailleurs";
--- must_die: portal_town_name "Mairie d’ailleurs";
--- error_log
"portal_town_name" directive is duplicate
