
/*
 * Portail Citoyen: the per-worker pool of non-blocking PostgreSQL
 * connections, as the rest of the module uses it (_db_pool.c runs a
 * query, _db.c makes it and reads its result).
 */


#ifndef _NGX_HTTP_PORTAL_DB_H_INCLUDED_
#define _NGX_HTTP_PORTAL_DB_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <libpq-fe.h>

#include "ngx_http_portal_module.h"


#define NGX_HTTP_PORTAL_DB_MAX_PARAMS  16


/*
 * A statement, defined by the file that runs it.  Each connection prepares
 * it on first use; names are unique across the module ("portal_" + file +
 * purpose).  No statement is ever built from input: values are parameters.
 */

#define NGX_HTTP_PORTAL_SQL_MAX  256

typedef struct {
    const char                     *name;
    const char                     *text;
    int                             nparams;
    /* private: set on first use, per process */
    ngx_uint_t                      id;
} ngx_http_portal_sql_t;


typedef enum {
    NGX_HTTP_PORTAL_DB_OK = 0,
    /* PostgreSQL unreachable, connection lost, queue full */
    NGX_HTTP_PORTAL_DB_UNAVAILABLE,
    /* portal_db_timeout passed before the answer */
    NGX_HTTP_PORTAL_DB_TIMEOUT
} ngx_http_portal_db_status_e;


typedef struct ngx_http_portal_db_query_s  ngx_http_portal_db_query_t;
typedef struct ngx_http_portal_db_conn_s   ngx_http_portal_db_conn_t;

/*
 * Called once per query, on the event loop.  With status OK, res is the
 * statement's result (PGRES_TUPLES_OK, PGRES_COMMAND_OK or a SQL error as
 * PGRES_FATAL_ERROR), cleared when the handler returns.
 */
typedef void (*ngx_http_portal_db_handler_pt)(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);


/*
 * A query of a request comes from ngx_http_portal_db_query(); background
 * work (mail delivery) zeroes one of its own and leaves request NULL.
 */
struct ngx_http_portal_db_query_s {
    ngx_http_request_t             *request;
    ngx_http_portal_sql_t          *sql;

    int                             nparams;
    const char                     *values[NGX_HTTP_PORTAL_DB_MAX_PARAMS];
    int                             lengths[NGX_HTTP_PORTAL_DB_MAX_PARAMS];
    int                             formats[NGX_HTTP_PORTAL_DB_MAX_PARAMS];
    /* text rows by default, binary when set (bytea documents) */
    int                             binary;

    ngx_http_portal_db_handler_pt   handler;
    void                           *data;

    /* private */
    ngx_queue_t                     queue;
    ngx_event_t                     timer;
    ngx_http_portal_db_conn_t      *conn;
    ngx_pool_cleanup_t             *cleanup;
    ngx_uint_t                      state;
    ngx_uint_t                      retried;
};


ngx_http_portal_db_pool_t *ngx_http_portal_db_pool_create(ngx_cycle_t *cycle,
    ngx_http_portal_main_conf_t *pmcf);
void ngx_http_portal_db_pool_destroy(ngx_http_portal_db_pool_t *pool);

ngx_http_portal_db_query_t *ngx_http_portal_db_query(ngx_http_request_t *r,
    ngx_http_portal_sql_t *sql, ngx_http_portal_db_handler_pt handler);
void ngx_http_portal_db_param(ngx_http_portal_db_query_t *q,
    const char *value, size_t len);
void ngx_http_portal_db_param_binary(ngx_http_portal_db_query_t *q,
    const u_char *value, size_t len);

/*
 * NGX_OK: the handler will be called later, from the event loop.  An HTTP
 * status (503): nothing was started and the handler will not be called.
 * A read of the client is armed so that a client that goes away cancels
 * the query.
 */
ngx_int_t ngx_http_portal_db_run(ngx_http_portal_db_query_t *q);

/*
 * From a handler: runs q and suspends the request (NGX_DONE), or answers
 * 503 at once.
 */
ngx_int_t ngx_http_portal_db_suspend(ngx_http_portal_db_query_t *q);

/* from a callback: runs q next, or finishes the request with a 503 */
void ngx_http_portal_db_next(ngx_http_portal_db_query_t *q);

/*
 * In a callback: NGX_OK when the statement gave rows (exactly one when
 * one is set); otherwise the request is finished with the error response.
 */
ngx_int_t ngx_http_portal_db_rows(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res, ngx_uint_t one);

/* a column of a result's first row, copied NUL-terminated into pool */
ngx_int_t ngx_http_portal_db_value(ngx_pool_t *pool, PGresult *res,
    int column, ngx_str_t *value);

/* the response for a failed query: 503 envelope, or 500 for SQL errors */
ngx_int_t ngx_http_portal_db_error(ngx_http_request_t *r,
    ngx_http_portal_db_status_e status, PGresult *res);


/*
 * For the pool's own files only (_db_pool.c, _db_conn.c, _db_dispatch.c):
 * where a query is in its life, and its end.
 */

typedef enum {
    NGX_HTTP_PORTAL_QUERY_NEW = 0,
    NGX_HTTP_PORTAL_QUERY_WAITING,
    NGX_HTTP_PORTAL_QUERY_RUNNING,
    NGX_HTTP_PORTAL_QUERY_DONE
} ngx_http_portal_query_state_e;

/* a query ends, once: its timer and cleanup off, its handler called */
void ngx_http_portal_db_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);


#endif /* _NGX_HTTP_PORTAL_DB_H_INCLUDED_ */
