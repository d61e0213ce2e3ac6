
/*
 * Portail Citoyen: the connections of the per-worker PostgreSQL pool.
 *
 * Each is made without blocking (PQconnectStartParams(), then
 * PQconnectPoll() as its socket allows, bounded by portal_db_timeout); one
 * that is lost or refused is connected again after a delay that doubles up
 * to a second, and while all are down a request that comes tries one at
 * once.  When none is left, the statements that wait get their 503 now.
 *
 * Each connection's socket is wrapped in an nginx connection and watched
 * level-triggered: libpq reads and writes the socket itself, so nginx's
 * edge-triggered "ready" bookkeeping would not match what is left in the
 * kernel buffers.  Its events go to the handler that the pool's maker gave
 * (ngx_http_portal_db_dispatch.c's).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_db_conn.h"
#include "ngx_http_portal_text.h"


#define NGX_HTTP_PORTAL_DB_BACKOFF_MIN  50
#define NGX_HTTP_PORTAL_DB_BACKOFF_MAX  1000


static void ngx_http_portal_db_connected(ngx_http_portal_db_conn_t *conn);
static ngx_int_t ngx_http_portal_db_wrap(ngx_http_portal_db_conn_t *conn);
static void ngx_http_portal_db_unwrap(ngx_http_portal_db_conn_t *conn);
static void ngx_http_portal_db_down(ngx_http_portal_db_conn_t *conn);
static void ngx_http_portal_db_fail_waiting(ngx_http_portal_db_pool_t *pool);
static void ngx_http_portal_db_notice(void *arg, const char *message);


ngx_int_t
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


ngx_int_t
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
                return NGX_ERROR;
            }

            ngx_add_timer(conn->c->read, conn->pool->conf->db_timeout);
        }

        switch (st) {

        case PGRES_POLLING_OK:
            ngx_http_portal_db_connected(conn);
            return NGX_OK;

        case PGRES_POLLING_FAILED:
            ngx_http_portal_db_fail(conn, "connecting failed");
            return NGX_ERROR;

        case PGRES_POLLING_READING:
            ngx_http_portal_db_want_write(conn, 0);
            return NGX_AGAIN;

        case PGRES_POLLING_WRITING:
            ngx_http_portal_db_want_write(conn, 1);
            return NGX_AGAIN;

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
    c->read->handler = conn->pool->event;
    c->write->handler = conn->pool->event;
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


void
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


void
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

void
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


void
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


ngx_int_t
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


ngx_uint_t
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

void
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
