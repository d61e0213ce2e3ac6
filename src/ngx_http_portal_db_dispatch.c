
/*
 * Portail Citoyen: statements over the PostgreSQL pool's connections.
 *
 * A connection's socket events come here, whatever it is doing.  A
 * waiting statement goes to an idle connection, prepared there on first
 * use; several small ones already prepared go together in pipeline mode,
 * each with its own Sync.  Their results are read back as the socket
 * allows, and a connection serves again only clean: rolled back if a
 * statement left it inside a transaction, and after the cancel of a
 * statement whose request went away (PQcancel() blocks, so it runs on the
 * thread pool) has returned.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_db_conn.h"
#include "ngx_http_portal_db_dispatch.h"
#include "ngx_http_portal_thread.h"


/* parameters' bytes past which a statement goes alone */
#define NGX_HTTP_PORTAL_DB_BATCH_BYTES  16384


typedef struct {
    ngx_http_portal_db_conn_t     *conn;
    ngx_uint_t                     generation;
    PGcancel                      *cancel;
    int                            ok;
    char                           error[256];
} ngx_http_portal_db_cancel_t;


static ngx_int_t ngx_http_portal_db_send(ngx_http_portal_db_conn_t *conn);
static void ngx_http_portal_db_read(ngx_http_portal_db_conn_t *conn);
static void ngx_http_portal_db_result(ngx_http_portal_db_conn_t *conn);
static void ngx_http_portal_db_release(ngx_http_portal_db_conn_t *conn);
static ngx_int_t ngx_http_portal_db_batch(ngx_http_portal_db_conn_t *conn);
static ngx_uint_t ngx_http_portal_db_batchable(ngx_http_portal_db_conn_t *conn,
    ngx_http_portal_db_query_t *q);
static void ngx_http_portal_db_batch_read(ngx_http_portal_db_conn_t *conn);
static void ngx_http_portal_db_abandon(ngx_http_portal_db_conn_t *conn);
static void ngx_http_portal_db_cancel_work(void *data);
static void ngx_http_portal_db_cancel_done(ngx_http_request_t *r,
    void *data);


void
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

        /* connected: the statements that wait have a connection */

        if (ngx_http_portal_db_connect_poll(conn) == NGX_OK) {
            ngx_http_portal_db_dispatch(conn->pool);
        }

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


ngx_int_t
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


void
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

void
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
