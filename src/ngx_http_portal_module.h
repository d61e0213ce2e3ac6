
/*
 * Portail Citoyen: types shared by every file of the module.
 *
 * The path of a request through the files:
 *
 *   _api.c        the portal_api location's content handler, and the
 *                 APIs: each one's route slices and phases
 *   _router.c     method and path to a route (each resource file exports
 *                 its slice of routes), then the route's phases:
 *   _cookie.c       CSRF: the anti-CSRF token of unsafe methods
 *   _json.c         body: a JSON object read (bounded), or left to the
 *                   handler (uploads), or discarded
 *   _session.c      access: the citizen's session checked in PostgreSQL,
 *                   a validated account, a temporary password's limits
 *                   (or, in the agents' API, the agent's: _agent_session.c)
 *   the handler   of the resource file (_account.c, _password.c, ...;
 *                 the agents' _agent_*.c through _agent.c):
 *   _check.c        the body checked against the route's field table
 *                   into a typed struct (422 with the fields otherwise)
 *   _resource.c     one SQL function called, its JSON sent as it comes,
 *                   its errors mapped to answers as the route declares
 *   _credentials.c  a password or an answer: limits, Argon2id on the
 *                   thread pool (_thread.c), the failure recorded
 *   _upload.c       a document's body streamed through the multipart
 *                   parser (_upload_form.c) into PostgreSQL in chunks
 *                   (_store.c); _download.c sends one back
 *   _pdf_render.c   a request's PDF (_pdf.c), drawn with cairo and
 *                   pango on the thread pool
 *   _response.c   every answer: JSON, the error envelope, files
 *
 * The PostgreSQL pool is under all of them: _db_pool.c runs a query,
 * _db_dispatch.c sends statements over the connections of _db_conn.c, and
 * _db.c holds a query's parameters, end and results.  _outbox.c and
 * _housekeeping.c are timers of their own.
 */


#ifndef _NGX_HTTP_PORTAL_MODULE_H_INCLUDED_
#define _NGX_HTTP_PORTAL_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>


#if !(NGX_THREADS)
#error ngx_http_portal_module needs nginx built --with-threads
#endif


#ifndef NGX_HTTP_UNPROCESSABLE_ENTITY
#define NGX_HTTP_UNPROCESSABLE_ENTITY  422
#endif


#define NGX_HTTP_PORTAL_API_CITIZEN  1
#define NGX_HTTP_PORTAL_API_AGENT    2

#define NGX_HTTP_PORTAL_KEY_LEN      32
#define NGX_HTTP_PORTAL_MAX_PARAMS   4

/* a password or an answer: 128 characters of up to 4 bytes */
#define NGX_HTTP_PORTAL_SECRET_BYTES  512


typedef struct ngx_http_portal_db_pool_s  ngx_http_portal_db_pool_t;
typedef struct ngx_http_portal_ctx_s      ngx_http_portal_ctx_t;
typedef struct ngx_http_portal_route_s    ngx_http_portal_route_t;
typedef struct ngx_http_portal_catalog_s  ngx_http_portal_catalog_t;


/* a thread pool of nginx's, by its name */
typedef struct {
    ngx_str_t                   name;
    ngx_thread_pool_t          *pool;
} ngx_http_portal_threads_t;


typedef struct {
    ngx_str_t                   db;
    ngx_uint_t                  db_pool_size;
    ngx_msec_t                  db_timeout;
    ngx_uint_t                  db_queue;

    ngx_str_t                   secret_file;
    u_char                      secret[NGX_HTTP_PORTAL_KEY_LEN];

    time_t                      session_timeout;

    /* hashing; captchas' pictures and sounds; PDFs (one pool by default) */
    ngx_http_portal_threads_t   threads;
    ngx_http_portal_threads_t   captcha_threads;
    ngx_http_portal_threads_t   pdf_threads;

    ngx_str_t                   captcha_font;
    ngx_str_t                   captcha_test_answer;

    ngx_str_t                   maildir;
    ngx_str_t                   mail_from;
    ngx_msec_t                  mail_interval;

    /* the relay, resolved when the configuration is read */
    ngx_url_t                  *smtp;
    ngx_msec_t                  smtp_timeout;
    u_char                     *smtp_file;
    ngx_uint_t                  smtp_line;

    ngx_msec_t                  housekeeping_interval;

    /* how often a worker asks whether the catalog changed */
    ngx_msec_t                  catalog_interval;

    /* the first portal_api, for "needs portal_db" errors */
    u_char                     *api_file;
    ngx_uint_t                  api_line;

    /* per worker, made in init_process */
    ngx_http_portal_db_pool_t  *db_pool;
} ngx_http_portal_main_conf_t;


typedef struct {
    ngx_uint_t                  api;
    ngx_flag_t                  cookie_secure;
    ngx_str_t                   public_url;
    size_t                      upload_max_size;
    size_t                      json_max_size;

    /* the town hall at the top of the PDFs; address: NULL, or lines */
    ngx_str_t                   town_name;
    ngx_str_t                   town_service;
    ngx_array_t                *town_address;
} ngx_http_portal_loc_conf_t;


/*
 * A route's handler, and every step of a request that may wait: it
 * returns as a content handler does (NGX_DONE while it waits, an HTTP
 * status, or the result of sending an answer).
 */
typedef ngx_int_t (*ngx_http_portal_handler_pt)(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);


typedef struct {
    /* the account's id, as text (a UUID) */
    u_char                      id[40];
    uint32_t                    epoch;
    time_t                      expires;
    ngx_uint_t                  flags;

    /* from PostgreSQL, once checked */
    ngx_str_t                   login;
    ngx_uint_t                  validated;

    /* an agent's: its role, its name, its themes (JSON text) */
    ngx_str_t                   role;
    ngx_str_t                   name;
    ngx_str_t                   themes;
} ngx_http_portal_session_t;


struct ngx_http_portal_ctx_s {
    /* the path under the API's location, and its {params} */
    ngx_str_t                   path;
    ngx_str_t                   params[NGX_HTTP_PORTAL_MAX_PARAMS];
    ngx_uint_t                  nparams;

    const ngx_http_portal_route_t  *route;
    /* the phases of the API, and the one running */
    ngx_http_portal_handler_pt     *phases;
    ngx_uint_t                  phase;

    /* the parsed body of a JSON request */
    json_t                     *json;

    /*
     * the citizen's session (the agent's, in the agents' API): has_session
     * once read, checked once auth
     */
    ngx_http_portal_session_t   session;
    unsigned                    has_session:1;
    unsigned                    auth:1;

    /* the answer carries X-Content-Type-Options already */
    unsigned                    nosniff:1;

    /* a new anti-CSRF cookie's value, set by this answer */
    ngx_str_t                   csrf;

    /* the catalog this request holds (_catalog.c) */
    ngx_http_portal_catalog_t  *catalog;

    /* per handler: its checked input, its state */
    void                       *input;
    void                       *data;
};


extern ngx_module_t  ngx_http_portal_module;


#endif /* _NGX_HTTP_PORTAL_MODULE_H_INCLUDED_ */
