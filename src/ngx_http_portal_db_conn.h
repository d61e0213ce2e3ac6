
/*
 * Portail Citoyen: the connections of the PostgreSQL pool, for the pool's
 * files only (_db_pool.c, _db_dispatch.c): what a connection and the pool
 * hold, and what the connections' file offers the files above it.
 */


#ifndef _NGX_HTTP_PORTAL_DB_CONN_H_INCLUDED_
#define _NGX_HTTP_PORTAL_DB_CONN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <libpq-fe.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_db.h"


/* statements sent together in pipeline mode, at most */
#define NGX_HTTP_PORTAL_DB_BATCH        8


typedef enum {
    NGX_HTTP_PORTAL_CONN_CLOSED = 0,
    NGX_HTTP_PORTAL_CONN_CONNECTING,
    NGX_HTTP_PORTAL_CONN_IDLE,
    NGX_HTTP_PORTAL_CONN_PREPARING,
    NGX_HTTP_PORTAL_CONN_QUERYING,
    NGX_HTTP_PORTAL_CONN_RESETTING,
    /* several statements in pipeline mode, each with its own Sync */
    NGX_HTTP_PORTAL_CONN_BATCHING
} ngx_http_portal_conn_state_e;


struct ngx_http_portal_db_conn_s {
    ngx_queue_t                    queue;
    ngx_http_portal_db_pool_t     *pool;
    PGconn                        *pg;
    ngx_connection_t              *c;
    ngx_http_portal_conn_state_e   state;
    /* NULL once the query's request went away or timed out */
    ngx_http_portal_db_query_t    *query;
    ngx_http_portal_sql_t         *sql;
    PGresult                      *result;
    ngx_event_t                    retry;
    ngx_msec_t                     backoff;
    /* a PQcancel() under way; parked: drained, waiting for it to end */
    unsigned                       cancelling:1;
    unsigned                       parked:1;
    /* a new connection in the slot makes older cancels moot */
    ngx_uint_t                     generation;
    /* BATCHING: the statements sent, NULL once abandoned */
    ngx_http_portal_db_query_t    *batch[NGX_HTTP_PORTAL_DB_BATCH];
    ngx_uint_t                     nbatch;
    ngx_uint_t                     current;
    u_char                         prepared[NGX_HTTP_PORTAL_SQL_MAX];
};


struct ngx_http_portal_db_pool_s {
    ngx_http_portal_main_conf_t   *conf;
    ngx_log_t                     *log;
    ngx_http_portal_db_conn_t     *conns;
    ngx_uint_t                     nconns;
    ngx_queue_t                    idle;
    ngx_queue_t                    waiting;
    ngx_uint_t                     nwaiting;
    /* every connection failed: the outage was logged once */
    ngx_uint_t                     down;
    /*
     * the handler of the sockets' events (_db_dispatch.c's), given by the
     * pool's maker so that the connections' file calls nothing above it
     */
    ngx_event_handler_pt           event;
    const char                    *keywords[3];
    const char                    *values[3];
};


/* a slot connected, without blocking; its retry timer's handler */
ngx_int_t ngx_http_portal_db_connect(ngx_http_portal_db_conn_t *conn);
void ngx_http_portal_db_retry(ngx_event_t *ev);

/*
 * A connection on its way up, when its socket is ready: NGX_OK once it is
 * connected and idle in the pool, NGX_AGAIN while it is not yet, or
 * NGX_ERROR when it failed.
 */
ngx_int_t ngx_http_portal_db_connect_poll(ngx_http_portal_db_conn_t *conn);

/* the socket watched for writing, or no longer */
void ngx_http_portal_db_want_write(ngx_http_portal_db_conn_t *conn,
    ngx_uint_t on);

void ngx_http_portal_db_close(ngx_http_portal_db_conn_t *conn);

/*
 * A connection lost or not made: its statements get a 503, the slot is
 * connected again after a growing delay.
 */
void ngx_http_portal_db_fail(ngx_http_portal_db_conn_t *conn,
    const char *why);

/* what libpq has to send: sent, or the socket watched until it can be */
ngx_int_t ngx_http_portal_db_flush(ngx_http_portal_db_conn_t *conn);

/* some connection of the pool is up or on its way up */
ngx_uint_t ngx_http_portal_db_alive(ngx_http_portal_db_pool_t *pool);

/* all down: one slot tried now rather than at its next retry */
void ngx_http_portal_db_kick(ngx_http_portal_db_pool_t *pool);


#endif /* _NGX_HTTP_PORTAL_DB_CONN_H_INCLUDED_ */
