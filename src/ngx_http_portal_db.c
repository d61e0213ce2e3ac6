
/*
 * Portail Citoyen: the per-worker pool of non-blocking PostgreSQL
 * connections.
 *
 * Each connection's socket is wrapped in an nginx connection and watched
 * level-triggered: libpq reads and writes the socket itself, so nginx's
 * edge-triggered "ready" bookkeeping would not match what is left in the
 * kernel buffers.  A request borrows a connection for one statement; when
 * none is idle it waits in a bounded queue.  One deadline, portal_db_timeout,
 * covers the wait and the statement.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_text.h"
#include "ngx_http_portal_thread.h"


#define NGX_HTTP_PORTAL_DB_BATCH        8
/* parameters' bytes past which a statement goes alone */
#define NGX_HTTP_PORTAL_DB_BATCH_BYTES  16384
#define NGX_HTTP_PORTAL_DB_BACKOFF_MIN  50
#define NGX_HTTP_PORTAL_DB_BACKOFF_MAX  1000


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


typedef enum {
    NGX_HTTP_PORTAL_QUERY_NEW = 0,
    NGX_HTTP_PORTAL_QUERY_WAITING,
    NGX_HTTP_PORTAL_QUERY_RUNNING,
    NGX_HTTP_PORTAL_QUERY_DONE
} ngx_http_portal_query_state_e;


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
    const char                    *keywords[3];
    const char                    *values[3];
};


/* statement ids of this process; 0 means "not yet numbered" */
static ngx_uint_t  ngx_http_portal_sql_ids = 1;


typedef struct {
    ngx_http_portal_db_conn_t     *conn;
    ngx_uint_t                     generation;
    PGcancel                      *cancel;
    int                            ok;
    char                           error[256];
} ngx_http_portal_db_cancel_t;


static ngx_int_t ngx_http_portal_db_connect(ngx_http_portal_db_conn_t *conn);
static void ngx_http_portal_db_connect_poll(ngx_http_portal_db_conn_t *conn);
static void ngx_http_portal_db_connected(ngx_http_portal_db_conn_t *conn);
static ngx_int_t ngx_http_portal_db_wrap(ngx_http_portal_db_conn_t *conn);
static void ngx_http_portal_db_unwrap(ngx_http_portal_db_conn_t *conn);
static void ngx_http_portal_db_want_write(ngx_http_portal_db_conn_t *conn,
    ngx_uint_t on);
static void ngx_http_portal_db_close(ngx_http_portal_db_conn_t *conn);
static void ngx_http_portal_db_fail(ngx_http_portal_db_conn_t *conn,
    const char *why);
static void ngx_http_portal_db_down(ngx_http_portal_db_conn_t *conn);
static void ngx_http_portal_db_retry(ngx_event_t *ev);
static void ngx_http_portal_db_event(ngx_event_t *ev);
static ngx_int_t ngx_http_portal_db_flush(ngx_http_portal_db_conn_t *conn);
static ngx_int_t ngx_http_portal_db_send(ngx_http_portal_db_conn_t *conn);
static void ngx_http_portal_db_read(ngx_http_portal_db_conn_t *conn);
static void ngx_http_portal_db_result(ngx_http_portal_db_conn_t *conn);
static void ngx_http_portal_db_release(ngx_http_portal_db_conn_t *conn);
static ngx_int_t ngx_http_portal_db_start(ngx_http_portal_db_conn_t *conn,
    ngx_http_portal_db_query_t *q);
static void ngx_http_portal_db_dispatch(ngx_http_portal_db_pool_t *pool);
static ngx_int_t ngx_http_portal_db_batch(ngx_http_portal_db_conn_t *conn);
static ngx_uint_t ngx_http_portal_db_batchable(ngx_http_portal_db_conn_t *conn,
    ngx_http_portal_db_query_t *q);
static void ngx_http_portal_db_batch_read(ngx_http_portal_db_conn_t *conn);
static void ngx_http_portal_db_detach(ngx_http_portal_db_query_t *q);
static ngx_uint_t ngx_http_portal_db_alive(ngx_http_portal_db_pool_t *pool);
static void ngx_http_portal_db_kick(ngx_http_portal_db_pool_t *pool);
static void ngx_http_portal_db_fail_waiting(ngx_http_portal_db_pool_t *pool);
static void ngx_http_portal_db_abandon(ngx_http_portal_db_conn_t *conn);
static void ngx_http_portal_db_cancel_work(void *data);
static void ngx_http_portal_db_cancel_done(ngx_http_request_t *r,
    void *data);
static void ngx_http_portal_db_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static void ngx_http_portal_db_timeout(ngx_event_t *ev);
static void ngx_http_portal_db_cleanup(void *data);
static void ngx_http_portal_db_notice(void *arg, const char *message);


ngx_http_portal_db_pool_t *
ngx_http_portal_db_pool_create(ngx_cycle_t *cycle,
    ngx_http_portal_main_conf_t *pmcf)
{
    u_char                     *conninfo;
    ngx_uint_t                  i;
    ngx_http_portal_db_conn_t  *conn;
    ngx_http_portal_db_pool_t  *pool;

    pool = ngx_pcalloc(cycle->pool, sizeof(ngx_http_portal_db_pool_t));
    if (pool == NULL) {
        return NULL;
    }

    pool->conns = ngx_pcalloc(cycle->pool, pmcf->db_pool_size
                                           * sizeof(ngx_http_portal_db_conn_t));
    if (pool->conns == NULL) {
        return NULL;
    }

    conninfo = ngx_pnalloc(cycle->pool, pmcf->db.len + 1);
    if (conninfo == NULL) {
        return NULL;
    }

    ngx_cpystrn(conninfo, pmcf->db.data, pmcf->db.len + 1);

    /* a conninfo string or URI, expanded by libpq */

    pool->keywords[0] = "dbname";
    pool->values[0] = (const char *) conninfo;
    pool->keywords[1] = "fallback_application_name";
    pool->values[1] = "ngx_http_portal";
    pool->keywords[2] = NULL;
    pool->values[2] = NULL;

    pool->conf = pmcf;
    pool->log = cycle->log;
    pool->nconns = pmcf->db_pool_size;

    ngx_queue_init(&pool->idle);
    ngx_queue_init(&pool->waiting);

    for (i = 0; i < pool->nconns; i++) {
        conn = &pool->conns[i];

        conn->pool = pool;
        conn->retry.handler = ngx_http_portal_db_retry;
        conn->retry.data = conn;
        conn->retry.log = pool->log;
        conn->retry.cancelable = 1;

        (void) ngx_http_portal_db_connect(conn);
    }

    return pool;
}


void
ngx_http_portal_db_pool_destroy(ngx_http_portal_db_pool_t *pool)
{
    ngx_uint_t                  i;
    ngx_http_portal_db_conn_t  *conn;

    for (i = 0; i < pool->nconns; i++) {
        conn = &pool->conns[i];

        if (conn->retry.timer_set) {
            ngx_del_timer(&conn->retry);
        }

        ngx_http_portal_db_close(conn);
    }
}


ngx_http_portal_db_query_t *
ngx_http_portal_db_query(ngx_http_request_t *r, ngx_http_portal_sql_t *sql,
    ngx_http_portal_db_handler_pt handler)
{
    ngx_http_portal_db_query_t  *q;

    q = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_db_query_t));
    if (q == NULL) {
        return NULL;
    }

    q->request = r;
    q->sql = sql;
    q->handler = handler;

    return q;
}


/*
 * libpq reads text parameters up to their NUL: a request's value is
 * copied, NUL-terminated, into its pool (values of URIs, headers and
 * fixed-size ids are not terminated).  NULL is SQL NULL.
 */

void
ngx_http_portal_db_param(ngx_http_portal_db_query_t *q, const char *value,
    size_t len)
{
    u_char  *p;

    if (q->nparams == NGX_HTTP_PORTAL_DB_MAX_PARAMS) {
        q->nparams++;
        return;
    }

    if (value && q->request) {
        p = ngx_pnalloc(q->request->pool, len + 1);
        if (p == NULL) {
            /* refused by ngx_http_portal_db_run(): nparams won't match */
            q->nparams = NGX_HTTP_PORTAL_DB_MAX_PARAMS + 1;
            return;
        }

        *ngx_cpymem(p, value, len) = '\0';
        value = (const char *) p;
    }

    q->values[q->nparams] = value;
    q->lengths[q->nparams] = (int) len;
    q->formats[q->nparams] = 0;
    q->nparams++;
}


/* bytes as they are, not copied: they must live as long as the query */

void
ngx_http_portal_db_param_binary(ngx_http_portal_db_query_t *q,
    const u_char *value, size_t len)
{
    if (q->nparams >= NGX_HTTP_PORTAL_DB_MAX_PARAMS) {
        q->nparams++;
        return;
    }

    q->values[q->nparams] = (const char *) value;
    q->lengths[q->nparams] = (int) len;
    q->formats[q->nparams] = 1;
    q->nparams++;
}


ngx_int_t
ngx_http_portal_db_run(ngx_http_portal_db_query_t *q)
{
    ngx_log_t                    *log;
    ngx_queue_t                  *qu;
    ngx_http_request_t           *r;
    ngx_http_portal_db_conn_t    *conn;
    ngx_http_portal_db_pool_t    *pool;
    ngx_http_portal_main_conf_t  *pmcf;

    r = q->request;
    log = r ? r->connection->log : ngx_cycle->log;

    pmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_portal_module);
    pool = pmcf ? pmcf->db_pool : NULL;

    if (q->sql->id == 0 && ngx_http_portal_sql_ids < NGX_HTTP_PORTAL_SQL_MAX) {
        q->sql->id = ngx_http_portal_sql_ids++;
    }

    if (pool == NULL
        || q->nparams != q->sql->nparams
        || q->sql->id == 0)
    {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "portal: statement \"%s\" cannot run",
                      q->sql->name);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r && q->cleanup == NULL) {
        q->cleanup = ngx_pool_cleanup_add(r->pool, 0);
        if (q->cleanup == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (q->cleanup) {
        q->cleanup->handler = ngx_http_portal_db_cleanup;
        q->cleanup->data = q;
    }

    q->state = NGX_HTTP_PORTAL_QUERY_NEW;
    q->retried = 0;
    q->timer.handler = ngx_http_portal_db_timeout;
    q->timer.data = q;
    q->timer.log = log;

    while (!ngx_queue_empty(&pool->idle)) {
        qu = ngx_queue_head(&pool->idle);
        conn = ngx_queue_data(qu, ngx_http_portal_db_conn_t, queue);

        if (ngx_http_portal_db_start(conn, q) == NGX_OK) {
            goto started;
        }

        /* the handler is not called from here: detach before failing */

        conn->query = NULL;
        q->conn = NULL;
        q->state = NGX_HTTP_PORTAL_QUERY_NEW;

        ngx_http_portal_db_fail(conn, "sending a statement failed");
    }

    if (pool->nwaiting >= pmcf->db_queue) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "portal: %ui statements already wait for PostgreSQL"
                      " (portal_db_queue)", pool->nwaiting);
        goto unavailable;
    }

    if (!ngx_http_portal_db_alive(pool)) {
        ngx_http_portal_db_kick(pool);

        if (!ngx_http_portal_db_alive(pool)) {
            goto unavailable;
        }
    }

    ngx_queue_insert_tail(&pool->waiting, &q->queue);
    pool->nwaiting++;
    q->state = NGX_HTTP_PORTAL_QUERY_WAITING;

started:

    ngx_add_timer(&q->timer, pmcf->db_timeout);

    /* notice a client that goes away while it waits */

    if (r && r->read_event_handler == ngx_http_block_reading) {
        r->read_event_handler = ngx_http_test_reading;
    }

    return NGX_OK;

unavailable:

    if (q->cleanup) {
        q->cleanup->handler = NULL;
    }

    return NGX_HTTP_SERVICE_UNAVAILABLE;
}


ngx_int_t
ngx_http_portal_db_suspend(ngx_http_portal_db_query_t *q)
{
    if (ngx_http_portal_db_run(q) != NGX_OK) {
        return ngx_http_portal_db_error(q->request,
                                        NGX_HTTP_PORTAL_DB_UNAVAILABLE, NULL);
    }

    q->request->main->count++;

    return NGX_DONE;
}


void
ngx_http_portal_db_next(ngx_http_portal_db_query_t *q)
{
    ngx_http_request_t  *r;

    r = q->request;

    if (ngx_http_portal_db_run(q) != NGX_OK) {
        ngx_http_finalize_request(r,
            ngx_http_portal_db_error(r, NGX_HTTP_PORTAL_DB_UNAVAILABLE,
                                     NULL));
    }
}


ngx_int_t
ngx_http_portal_db_value(ngx_pool_t *pool, PGresult *res, int column,
    ngx_str_t *value)
{
    size_t  len;

    len = PQgetlength(res, 0, column);

    value->data = ngx_pnalloc(pool, len + 1);
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(value->data, PQgetvalue(res, 0, column), len + 1);
    value->len = len;

    return NGX_OK;
}


ngx_int_t
ngx_http_portal_db_rows(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res, ngx_uint_t one)
{
    ngx_http_request_t  *r;

    if (status == NGX_HTTP_PORTAL_DB_OK
        && PQresultStatus(res) == PGRES_TUPLES_OK
        && (!one || PQntuples(res) == 1))
    {
        return NGX_OK;
    }

    r = q->request;

    ngx_http_finalize_request(r, ngx_http_portal_db_error(r, status, res));

    return NGX_ERROR;
}


ngx_int_t
ngx_http_portal_db_error(ngx_http_request_t *r,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    u_char  escaped[512], *p;
    char   *state, *message, *text;

    if (status == NGX_HTTP_PORTAL_DB_OK && res) {
        state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

        /* the message may quote a value a client sent */

        text = message ? message : "?";
        p = ngx_http_portal_text_escape_to(escaped,
                                           escaped + sizeof(escaped),
                                           (u_char *) text,
                                           ngx_strlen(text));

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "portal: PostgreSQL error %s: %*s",
                      state ? state : "?", p - escaped, escaped);

        return ngx_http_portal_response_internal(r);
    }

    return ngx_http_portal_response_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          "db_unavailable",
                                          NGX_HTTP_PORTAL_M_DB_UNAVAILABLE);
}


static ngx_int_t
ngx_http_portal_db_connect(ngx_http_portal_db_conn_t *conn)
{
    PGconn                     *pg;
    ngx_http_portal_db_pool_t  *pool;

    pool = conn->pool;

    pg = PQconnectStartParams(pool->keywords, pool->values, 1);

    if (pg == NULL) {
        ngx_log_error(NGX_LOG_ALERT, pool->log, 0,
                      "portal: libpq could not allocate a connection");
        ngx_http_portal_db_down(conn);
        return NGX_ERROR;
    }

    conn->pg = pg;

    if (PQstatus(pg) == CONNECTION_BAD) {
        ngx_http_portal_db_fail(conn, "connecting failed");
        return NGX_ERROR;
    }

    PQsetNoticeProcessor(pg, ngx_http_portal_db_notice, pool);

    if (PQsetnonblocking(pg, 1) == -1
        || ngx_http_portal_db_wrap(conn) != NGX_OK)
    {
        ngx_http_portal_db_fail(conn, "connecting failed");
        return NGX_ERROR;
    }

    conn->state = NGX_HTTP_PORTAL_CONN_CONNECTING;
    ngx_memzero(conn->prepared, sizeof(conn->prepared));

    ngx_add_timer(conn->c->read, pool->conf->db_timeout);

    /* libpq: "at the beginning, consider it as having returned WRITING" */

    ngx_http_portal_db_want_write(conn, 1);

    return NGX_OK;
}


static void
ngx_http_portal_db_connect_poll(ngx_http_portal_db_conn_t *conn)
{
    PostgresPollingStatusType  st;

    for ( ;; ) {
        st = PQconnectPoll(conn->pg);

        /* libpq may have moved on to another address, on a new socket */

        if (st != PGRES_POLLING_FAILED && PQsocket(conn->pg) != conn->c->fd) {
            ngx_http_portal_db_unwrap(conn);

            if (ngx_http_portal_db_wrap(conn) != NGX_OK) {
                ngx_http_portal_db_fail(conn, "connecting failed");
                return;
            }

            ngx_add_timer(conn->c->read, conn->pool->conf->db_timeout);
        }

        switch (st) {

        case PGRES_POLLING_OK:
            ngx_http_portal_db_connected(conn);
            return;

        case PGRES_POLLING_FAILED:
            ngx_http_portal_db_fail(conn, "connecting failed");
            return;

        case PGRES_POLLING_READING:
            ngx_http_portal_db_want_write(conn, 0);
            return;

        case PGRES_POLLING_WRITING:
            ngx_http_portal_db_want_write(conn, 1);
            return;

        default:
            continue;
        }
    }
}


static void
ngx_http_portal_db_connected(ngx_http_portal_db_conn_t *conn)
{
    ngx_http_portal_db_pool_t  *pool;

    pool = conn->pool;

    ngx_http_portal_db_want_write(conn, 0);

    if (conn->c->read->timer_set) {
        ngx_del_timer(conn->c->read);
    }

    if (pool->down) {
        pool->down = 0;
        ngx_log_error(NGX_LOG_NOTICE, pool->log, 0,
                      "portal: PostgreSQL is reachable again");
    }

    conn->state = NGX_HTTP_PORTAL_CONN_IDLE;
    conn->backoff = 0;

    ngx_queue_insert_tail(&pool->idle, &conn->queue);

    ngx_http_portal_db_dispatch(pool);
}


static ngx_int_t
ngx_http_portal_db_wrap(ngx_http_portal_db_conn_t *conn)
{
    ngx_socket_t       fd;
    ngx_connection_t  *c;

    fd = PQsocket(conn->pg);
    if (fd == -1) {
        return NGX_ERROR;
    }

    c = ngx_get_connection(fd, conn->pool->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->data = conn;
    c->read->handler = ngx_http_portal_db_event;
    c->write->handler = ngx_http_portal_db_event;
    c->read->log = conn->pool->log;
    c->write->log = conn->pool->log;
    c->read->cancelable = 1;
    c->write->cancelable = 1;

    conn->c = c;

    if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
        ngx_http_portal_db_unwrap(conn);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_portal_db_unwrap(ngx_http_portal_db_conn_t *conn)
{
    ngx_connection_t  *c;

    c = conn->c;
    if (c == NULL) {
        return;
    }

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    /* libpq closes the socket: NGX_CLOSE_EVENT spares the epoll_ctl() */

    if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;

    conn->c = NULL;
}


static void
ngx_http_portal_db_want_write(ngx_http_portal_db_conn_t *conn, ngx_uint_t on)
{
    ngx_event_t  *wev;

    wev = conn->c->write;

    if (on && !wev->active) {
        if (ngx_add_event(wev, NGX_WRITE_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
            ngx_log_error(NGX_LOG_ALERT, conn->pool->log, 0,
                          "portal: could not watch a PostgreSQL socket");
        }

    } else if (!on && wev->active) {
        (void) ngx_del_event(wev, NGX_WRITE_EVENT, 0);
    }
}


static void
ngx_http_portal_db_close(ngx_http_portal_db_conn_t *conn)
{
    if (conn->state == NGX_HTTP_PORTAL_CONN_IDLE) {
        ngx_queue_remove(&conn->queue);
    }

    ngx_http_portal_db_unwrap(conn);

    if (conn->result) {
        PQclear(conn->result);
        conn->result = NULL;
    }

    if (conn->pg) {
        PQfinish(conn->pg);
        conn->pg = NULL;
    }

    conn->state = NGX_HTTP_PORTAL_CONN_CLOSED;
    conn->generation++;
    conn->cancelling = 0;
    conn->parked = 0;
}


/*
 * A connection is lost or could not be made: its query, if any, gets a
 * 503, and the slot is connected again after a growing delay.
 */

static void
ngx_http_portal_db_fail(ngx_http_portal_db_conn_t *conn, const char *why)
{
    u_char                      *p, *last, msg[512];
    ngx_uint_t                   level, i, nbatch;
    ngx_http_portal_db_query_t  *batch[NGX_HTTP_PORTAL_DB_BATCH];
    ngx_http_portal_db_pool_t   *pool;
    ngx_http_portal_db_query_t  *q;

    pool = conn->pool;
    q = conn->query;
    conn->query = NULL;

    nbatch = 0;

    if (conn->state == NGX_HTTP_PORTAL_CONN_BATCHING) {
        for (i = conn->current; i < conn->nbatch; i++) {
            if (conn->batch[i]) {
                batch[nbatch++] = conn->batch[i];
            }
        }

        conn->nbatch = 0;
    }

    /* libpq's messages carry no password; one log line each */

    last = ngx_cpystrn(msg, (u_char *) (conn->pg ? PQerrorMessage(conn->pg)
                                                 : ""),
                       sizeof(msg));

    for (p = msg; p < last; p++) {
        if (*p == '\n' || *p == '\t') {
            *p = ' ';
        }
    }

    while (last > msg && last[-1] == ' ') {
        last--;
    }

    p = msg;

    level = pool->down ? NGX_LOG_INFO : NGX_LOG_ERR;

    ngx_log_error(level, pool->log, 0, "portal: PostgreSQL: %s: %*s",
                  why, last - p, p);

    ngx_http_portal_db_close(conn);
    ngx_http_portal_db_down(conn);

    if (q) {
        ngx_http_portal_db_done(q, NGX_HTTP_PORTAL_DB_UNAVAILABLE, NULL);
    }

    for (i = 0; i < nbatch; i++) {
        ngx_http_portal_db_done(batch[i], NGX_HTTP_PORTAL_DB_UNAVAILABLE,
                                NULL);
    }
}


static void
ngx_http_portal_db_down(ngx_http_portal_db_conn_t *conn)
{
    ngx_http_portal_db_pool_t  *pool;

    pool = conn->pool;

    conn->backoff = conn->backoff
                    ? ngx_min(conn->backoff * 2,
                              NGX_HTTP_PORTAL_DB_BACKOFF_MAX)
                    : NGX_HTTP_PORTAL_DB_BACKOFF_MIN;

    if (!ngx_exiting && !ngx_quit && !ngx_terminate) {
        ngx_add_timer(&conn->retry, conn->backoff);
    }

    if (!ngx_http_portal_db_alive(pool)) {
        pool->down = 1;

        /* nobody can serve them: waiting would only delay the 503 */

        ngx_http_portal_db_fail_waiting(pool);
    }
}


static void
ngx_http_portal_db_retry(ngx_event_t *ev)
{
    ngx_http_portal_db_conn_t *conn = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate
        || conn->state != NGX_HTTP_PORTAL_CONN_CLOSED)
    {
        return;
    }

    (void) ngx_http_portal_db_connect(conn);
}


static void
ngx_http_portal_db_event(ngx_event_t *ev)
{
    ngx_connection_t           *c;
    ngx_http_portal_db_conn_t  *conn;

    c = ev->data;
    conn = c->data;

    if (ev->timedout) {
        ev->timedout = 0;

        ngx_http_portal_db_fail(conn,
                                conn->state == NGX_HTTP_PORTAL_CONN_CONNECTING
                                ? "connecting timed out"
                                : "no answer to a cancelled statement");
        return;
    }

    switch (conn->state) {

    case NGX_HTTP_PORTAL_CONN_CONNECTING:
        ngx_http_portal_db_connect_poll(conn);
        return;

    case NGX_HTTP_PORTAL_CONN_IDLE:

        if (ev->write) {
            ngx_http_portal_db_want_write(conn, 0);
            return;
        }

        /* an idle socket is readable only when the server goes away */

        if (!PQconsumeInput(conn->pg) || PQstatus(conn->pg) != CONNECTION_OK) {
            ngx_http_portal_db_fail(conn, "connection lost");
            return;
        }

        return;

    case NGX_HTTP_PORTAL_CONN_PREPARING:
    case NGX_HTTP_PORTAL_CONN_QUERYING:
    case NGX_HTTP_PORTAL_CONN_RESETTING:
    case NGX_HTTP_PORTAL_CONN_BATCHING:

        if (ev->write) {
            if (ngx_http_portal_db_flush(conn) != NGX_OK) {
                ngx_http_portal_db_fail(conn, "sending failed");
            }

            return;
        }

        if (conn->state == NGX_HTTP_PORTAL_CONN_BATCHING) {
            ngx_http_portal_db_batch_read(conn);

        } else {
            ngx_http_portal_db_read(conn);
        }

        return;

    default:
        return;
    }
}


static ngx_int_t
ngx_http_portal_db_flush(ngx_http_portal_db_conn_t *conn)
{
    switch (PQflush(conn->pg)) {

    case 0:
        ngx_http_portal_db_want_write(conn, 0);
        return NGX_OK;

    case 1:
        ngx_http_portal_db_want_write(conn, 1);
        return NGX_OK;

    default:
        return NGX_ERROR;
    }
}


static ngx_int_t
ngx_http_portal_db_send(ngx_http_portal_db_conn_t *conn)
{
    int                          ok;
    ngx_http_portal_sql_t       *sql;
    ngx_http_portal_db_query_t  *q;

    q = conn->query;
    sql = conn->sql;

    if (conn->state == NGX_HTTP_PORTAL_CONN_PREPARING) {
        ok = PQsendPrepare(conn->pg, sql->name, sql->text, sql->nparams,
                           NULL);

    } else {
        ok = PQsendQueryPrepared(conn->pg, sql->name, q->nparams, q->values,
                                 q->lengths, q->formats, q->binary);
    }

    if (!ok) {
        return NGX_ERROR;
    }

    return ngx_http_portal_db_flush(conn);
}


static void
ngx_http_portal_db_read(ngx_http_portal_db_conn_t *conn)
{
    PGresult  *res;

    if (!PQconsumeInput(conn->pg)) {
        ngx_http_portal_db_fail(conn, "connection lost");
        return;
    }

    while (!PQisBusy(conn->pg)) {
        res = PQgetResult(conn->pg);

        if (res == NULL) {
            ngx_http_portal_db_result(conn);
            return;
        }

        /* one statement a round trip: keep its first result */

        if (conn->result == NULL) {
            conn->result = res;

        } else {
            PQclear(res);
        }
    }
}


static void
ngx_http_portal_db_result(ngx_http_portal_db_conn_t *conn)
{
    PGresult                    *res;
    ngx_http_portal_db_query_t  *q;

    res = conn->result;
    conn->result = NULL;
    q = conn->query;

    if (PQstatus(conn->pg) != CONNECTION_OK || res == NULL) {
        if (res) {
            PQclear(res);
        }

        ngx_http_portal_db_fail(conn, "connection lost");
        return;
    }

    switch (conn->state) {

    case NGX_HTTP_PORTAL_CONN_PREPARING:

        if (PQresultStatus(res) == PGRES_COMMAND_OK) {
            PQclear(res);
            conn->prepared[conn->sql->id] = 1;

            if (q == NULL) {
                ngx_http_portal_db_release(conn);
                return;
            }

            conn->state = NGX_HTTP_PORTAL_CONN_QUERYING;

            if (ngx_http_portal_db_send(conn) != NGX_OK) {
                ngx_http_portal_db_fail(conn, "sending a statement failed");
            }

            return;
        }

        /* the handler sees the error as its result */

        ngx_log_error(NGX_LOG_ALERT, conn->pool->log, 0,
                      "portal: preparing \"%s\" failed: %s",
                      conn->sql->name,
                      PQresultErrorMessage(res));

        /* fall through */

    case NGX_HTTP_PORTAL_CONN_QUERYING:

        /*
         * Cancelled, but not by us: a stray signal of an earlier cancel.
         * The statement was rolled back whole, so it runs once more.
         */

        if (q && !q->retried && PQresultStatus(res) == PGRES_FATAL_ERROR
            && PQtransactionStatus(conn->pg) == PQTRANS_IDLE
            && ngx_strcmp(PQresultErrorField(res, PG_DIAG_SQLSTATE) ?
                          PQresultErrorField(res, PG_DIAG_SQLSTATE) : "",
                          "57014") == 0)
        {
            PQclear(res);
            q->retried = 1;

            ngx_log_error(NGX_LOG_INFO, conn->pool->log, 0,
                          "portal: \"%s\" cancelled by a stray signal,"
                          " running it again", conn->sql->name);

            if (ngx_http_portal_db_send(conn) != NGX_OK) {
                ngx_http_portal_db_fail(conn, "sending a statement failed");
            }

            return;
        }

        conn->query = NULL;
        ngx_http_portal_db_release(conn);

        if (q) {
            ngx_http_portal_db_done(q, NGX_HTTP_PORTAL_DB_OK, res);
        }

        PQclear(res);
        return;

    default: /* NGX_HTTP_PORTAL_CONN_RESETTING */

        PQclear(res);
        ngx_http_portal_db_release(conn);
        return;
    }
}


/*
 * Back to the pool, clean: a connection left inside a transaction (an
 * aborted statement, a cancelled one) is rolled back first.
 */

static void
ngx_http_portal_db_release(ngx_http_portal_db_conn_t *conn)
{
    ngx_http_portal_db_pool_t  *pool;

    pool = conn->pool;

    switch (PQtransactionStatus(conn->pg)) {

    case PQTRANS_IDLE:
        break;

    case PQTRANS_INTRANS:
    case PQTRANS_INERROR:

        if (conn->state != NGX_HTTP_PORTAL_CONN_RESETTING) {
            ngx_log_error(NGX_LOG_WARN, pool->log, 0,
                          "portal: rolling back a connection left"
                          " in a transaction");

            conn->state = NGX_HTTP_PORTAL_CONN_RESETTING;

            if (PQsendQuery(conn->pg, "ROLLBACK")
                && ngx_http_portal_db_flush(conn) == NGX_OK)
            {
                if (!conn->c->read->timer_set) {
                    ngx_add_timer(conn->c->read, pool->conf->db_timeout);
                }

                return;
            }
        }

        /* fall through */

    default:
        ngx_http_portal_db_fail(conn, "unusable connection dropped");
        return;
    }

    /*
     * PostgreSQL signals a cancel twice (the backend, then its group): a
     * late signal would cancel the next statement, so the connection
     * serves again only once PQcancel() has returned.
     */

    if (conn->cancelling) {
        conn->parked = 1;
        return;
    }

    if (conn->c->read->timer_set) {
        ngx_del_timer(conn->c->read);
    }

    conn->state = NGX_HTTP_PORTAL_CONN_IDLE;
    ngx_queue_insert_tail(&pool->idle, &conn->queue);

    ngx_http_portal_db_dispatch(pool);
}


static ngx_int_t
ngx_http_portal_db_start(ngx_http_portal_db_conn_t *conn,
    ngx_http_portal_db_query_t *q)
{
    ngx_queue_remove(&conn->queue);

    conn->query = q;
    conn->sql = q->sql;
    conn->state = conn->prepared[q->sql->id]
                  ? NGX_HTTP_PORTAL_CONN_QUERYING
                  : NGX_HTTP_PORTAL_CONN_PREPARING;
    q->conn = conn;
    q->state = NGX_HTTP_PORTAL_QUERY_RUNNING;

    return ngx_http_portal_db_send(conn);
}


static void
ngx_http_portal_db_dispatch(ngx_http_portal_db_pool_t *pool)
{
    ngx_queue_t                 *qu;
    ngx_http_portal_db_conn_t   *conn;
    ngx_http_portal_db_query_t  *q;

    while (!ngx_queue_empty(&pool->idle) && !ngx_queue_empty(&pool->waiting))
    {
        qu = ngx_queue_head(&pool->waiting);
        q = ngx_queue_data(qu, ngx_http_portal_db_query_t, queue);
        ngx_queue_remove(qu);
        pool->nwaiting--;

        qu = ngx_queue_head(&pool->idle);
        conn = ngx_queue_data(qu, ngx_http_portal_db_conn_t, queue);

        /*
         * More statements wait, all prepared on this connection: they go
         * together in pipeline mode, each with its own Sync (its own
         * transaction), and the server answers them on one wake-up.
         */

        if (ngx_http_portal_db_batchable(conn, q)
            && !ngx_queue_empty(&pool->waiting))
        {
            ngx_queue_remove(&conn->queue);

            conn->batch[0] = q;
            conn->nbatch = 1;

            while (conn->nbatch < NGX_HTTP_PORTAL_DB_BATCH
                   && !ngx_queue_empty(&pool->waiting))
            {
                qu = ngx_queue_head(&pool->waiting);
                q = ngx_queue_data(qu, ngx_http_portal_db_query_t, queue);

                if (!ngx_http_portal_db_batchable(conn, q)) {
                    break;
                }

                ngx_queue_remove(qu);
                pool->nwaiting--;
                conn->batch[conn->nbatch++] = q;
            }

            if (ngx_http_portal_db_batch(conn) != NGX_OK) {
                ngx_http_portal_db_fail(conn, "sending statements failed");
            }

            continue;
        }

        if (ngx_http_portal_db_start(conn, q) != NGX_OK) {
            ngx_http_portal_db_fail(conn, "sending a statement failed");
        }
    }
}


static ngx_int_t
ngx_http_portal_db_batch(ngx_http_portal_db_conn_t *conn)
{
    ngx_uint_t                   i;
    ngx_http_portal_db_query_t  *q;

    conn->state = NGX_HTTP_PORTAL_CONN_BATCHING;
    conn->current = 0;

    for (i = 0; i < conn->nbatch; i++) {
        q = conn->batch[i];
        q->conn = conn;
        q->state = NGX_HTTP_PORTAL_QUERY_RUNNING;
    }

    if (!PQenterPipelineMode(conn->pg)) {
        return NGX_ERROR;
    }

    for (i = 0; i < conn->nbatch; i++) {
        q = conn->batch[i];

        if (!PQsendQueryPrepared(conn->pg, q->sql->name, q->nparams,
                                 q->values, q->lengths, q->formats,
                                 q->binary)
            || !PQpipelineSync(conn->pg))
        {
            return NGX_ERROR;
        }
    }

    return ngx_http_portal_db_flush(conn);
}


/*
 * A statement prepared on the connection, and small: a large one (a
 * document's chunk) gains nothing by company, and libpq's output buffer,
 * which grows to hold what is sent at once and never shrinks, would keep
 * the size of the whole batch for the connection's life.
 */

static ngx_uint_t
ngx_http_portal_db_batchable(ngx_http_portal_db_conn_t *conn,
    ngx_http_portal_db_query_t *q)
{
    int     i;
    size_t  bytes;

    if (!conn->prepared[q->sql->id]) {
        return 0;
    }

    bytes = 0;

    for (i = 0; i < q->nparams; i++) {
        bytes += q->lengths[i];
    }

    return bytes <= NGX_HTTP_PORTAL_DB_BATCH_BYTES;
}


/*
 * In pipeline mode a statement's results end with NULL, then its Sync
 * gives PGRES_PIPELINE_SYNC: that is when its handler is called.
 */

static void
ngx_http_portal_db_batch_read(ngx_http_portal_db_conn_t *conn)
{
    PGresult                    *res;
    ngx_http_portal_db_query_t  *q;

    if (!PQconsumeInput(conn->pg)) {
        ngx_http_portal_db_fail(conn, "connection lost");
        return;
    }

    while (conn->current < conn->nbatch && !PQisBusy(conn->pg)) {
        res = PQgetResult(conn->pg);

        if (res == NULL) {
            continue;
        }

        if (PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
            if (conn->result == NULL) {
                conn->result = res;

            } else {
                PQclear(res);
            }

            continue;
        }

        PQclear(res);

        q = conn->batch[conn->current];
        conn->batch[conn->current] = NULL;
        conn->current++;

        res = conn->result;
        conn->result = NULL;

        if (q) {
            if (res) {
                ngx_http_portal_db_done(q, NGX_HTTP_PORTAL_DB_OK, res);

            } else {
                ngx_http_portal_db_done(q, NGX_HTTP_PORTAL_DB_UNAVAILABLE,
                                        NULL);
            }
        }

        if (res) {
            PQclear(res);
        }

        if (conn->state != NGX_HTTP_PORTAL_CONN_BATCHING) {
            /* a handler's failure closed it meanwhile */
            return;
        }
    }

    if (conn->current < conn->nbatch) {
        return;
    }

    conn->nbatch = 0;

    if (PQstatus(conn->pg) != CONNECTION_OK
        || !PQexitPipelineMode(conn->pg))
    {
        ngx_http_portal_db_fail(conn, "leaving pipeline mode failed");
        return;
    }

    conn->state = NGX_HTTP_PORTAL_CONN_QUERYING;
    ngx_http_portal_db_release(conn);
}


/* a statement's request is gone or timed out: it no longer waits */

static void
ngx_http_portal_db_detach(ngx_http_portal_db_query_t *q)
{
    ngx_uint_t                  i;
    ngx_http_portal_db_conn_t  *conn;

    conn = q->conn;

    if (conn->state != NGX_HTTP_PORTAL_CONN_BATCHING) {
        ngx_http_portal_db_abandon(conn);
        return;
    }

    /* one of several: it runs to its end, unheard, and others go on */

    for (i = conn->current; i < conn->nbatch; i++) {
        if (conn->batch[i] == q) {
            conn->batch[i] = NULL;
        }
    }

    if (!conn->c->read->timer_set) {
        ngx_add_timer(conn->c->read, conn->pool->conf->db_timeout);
    }
}


static ngx_uint_t
ngx_http_portal_db_alive(ngx_http_portal_db_pool_t *pool)
{
    ngx_uint_t  i;

    for (i = 0; i < pool->nconns; i++) {
        if (pool->conns[i].state != NGX_HTTP_PORTAL_CONN_CLOSED) {
            return 1;
        }
    }

    return 0;
}


/*
 * Every connection is down and waits for its next try: a request that
 * arrives tries one at once, so that the pool heals as soon as PostgreSQL
 * is back, and a unix socket that is still refused costs microseconds.
 */

static void
ngx_http_portal_db_kick(ngx_http_portal_db_pool_t *pool)
{
    ngx_uint_t                  i;
    ngx_http_portal_db_conn_t  *conn;

    for (i = 0; i < pool->nconns; i++) {
        conn = &pool->conns[i];

        if (conn->state == NGX_HTTP_PORTAL_CONN_CLOSED) {
            if (conn->retry.timer_set) {
                ngx_del_timer(&conn->retry);
            }

            (void) ngx_http_portal_db_connect(conn);
            return;
        }
    }
}


static void
ngx_http_portal_db_fail_waiting(ngx_http_portal_db_pool_t *pool)
{
    ngx_queue_t                 *qu;
    ngx_http_portal_db_query_t  *q;

    while (!ngx_queue_empty(&pool->waiting)) {
        qu = ngx_queue_head(&pool->waiting);
        q = ngx_queue_data(qu, ngx_http_portal_db_query_t, queue);
        ngx_queue_remove(qu);
        pool->nwaiting--;

        ngx_http_portal_db_done(q, NGX_HTTP_PORTAL_DB_UNAVAILABLE, NULL);
    }
}


/*
 * The request of the running statement is gone: the statement is
 * cancelled (PQcancel blocks, so on the thread pool) and its result
 * drained before the connection serves again.
 */

static void
ngx_http_portal_db_abandon(ngx_http_portal_db_conn_t *conn)
{
    ngx_http_portal_db_pool_t    *pool;
    ngx_http_portal_db_cancel_t  *cancel;

    pool = conn->pool;
    conn->query = NULL;

    if (!conn->c->read->timer_set) {
        ngx_add_timer(conn->c->read, pool->conf->db_timeout);
    }

    if (conn->state != NGX_HTTP_PORTAL_CONN_QUERYING) {
        return;
    }

    cancel = ngx_http_portal_thread_alloc(pool->log,
                                          sizeof(ngx_http_portal_db_cancel_t));
    if (cancel == NULL) {
        return;
    }

    cancel->conn = conn;
    cancel->generation = conn->generation;
    cancel->cancel = PQgetCancel(conn->pg);

    if (cancel->cancel == NULL
        || ngx_http_portal_thread_post(NULL, cancel,
                                       ngx_http_portal_db_cancel_work,
                                       ngx_http_portal_db_cancel_done)
           != NGX_OK)
    {
        if (cancel->cancel) {
            PQfreeCancel(cancel->cancel);
        }

        ngx_http_portal_thread_free(cancel);
        return;
    }

    conn->cancelling = 1;
}


static void
ngx_http_portal_db_cancel_work(void *data)
{
    ngx_http_portal_db_cancel_t *cancel = data;

    cancel->ok = PQcancel(cancel->cancel, cancel->error,
                          sizeof(cancel->error));
}


static void
ngx_http_portal_db_cancel_done(ngx_http_request_t *r, void *data)
{
    ngx_http_portal_db_cancel_t *cancel = data;

    ngx_http_portal_db_conn_t  *conn;

    if (!cancel->ok) {
        cancel->error[sizeof(cancel->error) - 1] = '\0';
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "portal: cancelling a statement failed: %s",
                      cancel->error);
    }

    PQfreeCancel(cancel->cancel);

    conn = cancel->conn;

    if (conn->generation != cancel->generation) {
        return;
    }

    conn->cancelling = 0;

    if (conn->parked) {
        conn->parked = 0;
        ngx_http_portal_db_release(conn);
    }
}


static void
ngx_http_portal_db_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_connection_t  *c;

    q->state = NGX_HTTP_PORTAL_QUERY_DONE;
    q->conn = NULL;

    if (q->timer.timer_set) {
        ngx_del_timer(&q->timer);
    }

    if (q->cleanup) {
        q->cleanup->handler = NULL;
    }

    c = q->request ? q->request->connection : NULL;

    q->handler(q, status, res);

    /* c outlives the request: connections are slots of the cycle's array */

    if (c) {
        ngx_http_run_posted_requests(c);
    }
}


static void
ngx_http_portal_db_timeout(ngx_event_t *ev)
{
    ngx_http_portal_db_query_t *q = ev->data;

    ngx_http_portal_db_pool_t  *pool;

    ngx_log_error(NGX_LOG_ERR, ev->log, 0,
                  "portal: PostgreSQL did not answer \"%s\" in time"
                  " (portal_db_timeout)", q->sql->name);

    if (q->state == NGX_HTTP_PORTAL_QUERY_WAITING) {
        pool = ((ngx_http_portal_main_conf_t *)
                ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                                    ngx_http_portal_module))
               ->db_pool;

        ngx_queue_remove(&q->queue);
        pool->nwaiting--;

    } else if (q->state == NGX_HTTP_PORTAL_QUERY_RUNNING) {
        ngx_http_portal_db_detach(q);
    }

    ngx_http_portal_db_done(q, NGX_HTTP_PORTAL_DB_TIMEOUT, NULL);
}


static void
ngx_http_portal_db_cleanup(void *data)
{
    ngx_http_portal_db_query_t *q = data;

    ngx_http_portal_db_pool_t    *pool;
    ngx_http_portal_main_conf_t  *pmcf;

    if (q->timer.timer_set) {
        ngx_del_timer(&q->timer);
    }

    switch (q->state) {

    case NGX_HTTP_PORTAL_QUERY_WAITING:
        pmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                                   ngx_http_portal_module);
        pool = pmcf->db_pool;

        ngx_queue_remove(&q->queue);
        pool->nwaiting--;
        break;

    case NGX_HTTP_PORTAL_QUERY_RUNNING:
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "portal: client went away, cancelling \"%s\"",
                      q->sql->name);
        ngx_http_portal_db_detach(q);
        break;

    default:
        break;
    }

    q->state = NGX_HTTP_PORTAL_QUERY_DONE;
}


static void
ngx_http_portal_db_notice(void *arg, const char *message)
{
    ngx_http_portal_db_pool_t *pool = arg;

    u_char  text[512], *p;

    /* a notice may quote a value a client sent */

    p = ngx_http_portal_text_escape_to(text, text + sizeof(text),
                                       (u_char *) message,
                                       ngx_strlen(message));

    ngx_log_error(NGX_LOG_INFO, pool->log, 0, "portal: PostgreSQL: %*s",
                  p - text, text);
}
