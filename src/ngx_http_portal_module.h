
/*
 * Portail Citoyen: types shared by every file of the module.
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


typedef struct ngx_http_portal_db_pool_s  ngx_http_portal_db_pool_t;
typedef struct ngx_http_portal_ctx_s      ngx_http_portal_ctx_t;


typedef struct {
    ngx_str_t                   db;
    ngx_uint_t                  db_pool_size;
    ngx_msec_t                  db_timeout;
    ngx_uint_t                  db_queue;

    ngx_str_t                   secret_file;
    u_char                      secret[NGX_HTTP_PORTAL_KEY_LEN];

    time_t                      session_timeout;

    ngx_str_t                   thread_pool_name;
    ngx_thread_pool_t          *thread_pool;

    ngx_str_t                   captcha_font;
    ngx_str_t                   captcha_test_answer;

    ngx_str_t                   maildir;
    ngx_str_t                   mail_from;
    ngx_msec_t                  mail_interval;

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
} ngx_http_portal_loc_conf_t;


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
} ngx_http_portal_session_t;


struct ngx_http_portal_ctx_s {
    ngx_str_t                   path;
    ngx_str_t                   params[NGX_HTTP_PORTAL_MAX_PARAMS];
    ngx_uint_t                  nparams;

    /* the parsed body of a JSON request */
    json_t                     *json;
    ngx_http_portal_handler_pt  next;

    /* the route's entry in the router's table */
    void                       *route;

    /* the citizen's session: has_session once read, checked once auth */
    ngx_http_portal_session_t   session;
    unsigned                    has_session:1;
    unsigned                    auth:1;

    /* per handler */
    void                       *data;
};


extern ngx_module_t  ngx_http_portal_module;


#endif /* _NGX_HTTP_PORTAL_MODULE_H_INCLUDED_ */
