
/*
 * Portail Citoyen: a PostgreSQL query as its request sees it: made, given
 * its parameters, ended once (its handler called), its result's values
 * read, and the answer of a failed one.
 *
 * The pool that runs it: ngx_http_portal_db_pool.c, over the connections
 * of ngx_http_portal_db_conn.c and the statements' dispatch of
 * ngx_http_portal_db_dispatch.c.  This file calls none of them: they all
 * end their queries here.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_text.h"


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


void
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
