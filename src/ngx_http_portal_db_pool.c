
/*
 * Portail Citoyen: the per-worker pool of non-blocking PostgreSQL
 * connections, made at a worker's start and ended at its exit, and a
 * request's query run on it.
 *
 * A request borrows a connection for one statement; when none is idle it
 * waits in a bounded queue.  One deadline, portal_db_timeout, covers the
 * wait and the statement; a client that goes away ends its query too.
 *
 * Under this file: the connections (ngx_http_portal_db_conn.c) and the
 * statements sent over them (ngx_http_portal_db_dispatch.c); a query's
 * parameters, result and end are ngx_http_portal_db.c's.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_db_conn.h"
#include "ngx_http_portal_db_dispatch.h"


/* statement ids of this process; 0 means "not yet numbered" */
static ngx_uint_t  ngx_http_portal_sql_ids = 1;


static void ngx_http_portal_db_timeout(ngx_event_t *ev);
static void ngx_http_portal_db_cleanup(void *data);


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
    pool->event = ngx_http_portal_db_event;
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
