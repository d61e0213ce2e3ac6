
/*
 * Portail Citoyen: resources served from the JSON of SQL functions, with
 * the SQL errors of each route mapped to answers as data.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_outbox.h"
#include "ngx_http_portal_resource.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_cookie.h"
#include "ngx_http_portal_messages.h"


static ngx_http_portal_db_query_t *ngx_http_portal_resource_params(
    ngx_http_request_t *r, ngx_http_portal_resource_t *res,
    ngx_str_t *params, ngx_uint_t n);
static void ngx_http_portal_resource_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static ngx_int_t ngx_http_portal_resource_session_row(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, PGresult *res);


ngx_int_t
ngx_http_portal_resource_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_int_t   rc;
    ngx_str_t   params[NGX_HTTP_PORTAL_MAX_PARAMS + 3];
    ngx_uint_t  i, n;

    rc = ngx_http_portal_resource_session(r, ctx, params);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = rc;

    for (i = 0; i < ctx->nparams; i++) {
        params[n++] = ctx->params[i];
    }

    if (ctx->route->access == NGX_HTTP_PORTAL_AGENT) {
        params[n++] = r->connection->addr_text;
    }

    return ngx_http_portal_resource_run(r,
               (ngx_http_portal_resource_t *) ctx->route->data, params, n);
}


ngx_int_t
ngx_http_portal_resource_session(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_str_t *params)
{
    if (ctx->route->access == NGX_HTTP_PORTAL_OPEN) {
        return 0;
    }

    params[0].data = ctx->session.id;
    params[0].len = ngx_strlen(ctx->session.id);

    if (ctx->route->access != NGX_HTTP_PORTAL_CITIZEN_INLINE) {
        return 1;
    }

    if (ngx_http_portal_cookie_session_epoch(r, ctx, &params[1]) != NGX_OK) {
        return NGX_ERROR;
    }

    return 2;
}


ngx_int_t
ngx_http_portal_resource_run(ngx_http_request_t *r,
    ngx_http_portal_resource_t *res, ngx_str_t *params, ngx_uint_t n)
{
    ngx_http_portal_db_query_t  *q;

    q = ngx_http_portal_resource_params(r, res, params, n);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_portal_db_suspend(q);
}


void
ngx_http_portal_resource_next(ngx_http_request_t *r,
    ngx_http_portal_resource_t *res, ngx_str_t *params, ngx_uint_t n)
{
    ngx_http_portal_db_query_t  *q;

    q = ngx_http_portal_resource_params(r, res, params, n);
    if (q == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_portal_db_next(q);
}


ngx_http_portal_db_query_t *
ngx_http_portal_resource_query(ngx_http_request_t *r,
    ngx_http_portal_resource_t *res)
{
    ngx_http_portal_db_query_t  *q;

    q = ngx_http_portal_db_query(r, &res->sql, ngx_http_portal_resource_done);
    if (q == NULL) {
        return NULL;
    }

    q->data = res;

    return q;
}


void
ngx_http_portal_resource_ids(ngx_http_portal_db_query_t *q,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_uint_t  i;

    ngx_http_portal_db_param(q, (char *) ctx->session.id,
                             ngx_strlen(ctx->session.id));

    for (i = 0; i < ctx->nparams; i++) {
        ngx_http_portal_db_param(q, (char *) ctx->params[i].data,
                                 ctx->params[i].len);
    }

    /* an agent's reads and actions are audited with where they came from */

    if (ctx->route->access == NGX_HTTP_PORTAL_AGENT) {
        ngx_http_portal_db_param(q, (char *) q->request->connection
                                                 ->addr_text.data,
                                 q->request->connection->addr_text.len);
    }
}


ngx_int_t
ngx_http_portal_resource_ids_run(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_http_portal_sql_t *sql,
    ngx_http_portal_db_handler_pt handler)
{
    ngx_http_portal_db_query_t  *q;

    q = ngx_http_portal_db_query(r, sql, handler);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_resource_ids(q, ctx);

    return ngx_http_portal_db_suspend(q);
}


static ngx_http_portal_db_query_t *
ngx_http_portal_resource_params(ngx_http_request_t *r,
    ngx_http_portal_resource_t *res, ngx_str_t *params, ngx_uint_t n)
{
    ngx_uint_t                   i;
    ngx_http_portal_db_query_t  *q;

    q = ngx_http_portal_resource_query(r, res);
    if (q == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        ngx_http_portal_db_param(q, (char *) params[i].data, params[i].len);
    }

    return q;
}


static void
ngx_http_portal_resource_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    u_char                      *p;
    size_t                       len;
    ngx_str_t                    text;
    ngx_http_request_t          *r;
    ngx_http_portal_resource_t  *rs;

    r = q->request;
    rs = q->data;

    if (ngx_http_portal_resource_row(q, status, res, rs->errors) != NGX_OK) {
        return;
    }

    if (rs->mail) {
        ngx_http_portal_outbox_kick();
    }

    if (rs->attachment) {
        len = sizeof("attachment; filename=\"\"") - 1
              + ngx_strlen(rs->attachment);

        p = ngx_pnalloc(r->pool, len);
        if (p == NULL
            || ngx_http_portal_response_header(r, "Content-Disposition", p, len)
               != NGX_OK)
        {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_sprintf(p, "attachment; filename=\"%s\"", rs->attachment);
    }

    text.data = (u_char *) PQgetvalue(res, 0, 0);
    text.len = PQgetlength(res, 0, 0);

    ngx_http_finalize_request(r, ngx_http_portal_response_raw(r, rs->status,
                                                              &text));
}


ngx_int_t
ngx_http_portal_resource_row(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res,
    const ngx_http_portal_sql_error_t *errors)
{
    ngx_http_request_t     *r;
    ngx_http_portal_ctx_t  *ctx;

    r = q->request;

    if (errors
        && status == NGX_HTTP_PORTAL_DB_OK
        && PQresultStatus(res) == PGRES_FATAL_ERROR
        && ngx_http_portal_resource_error(r, errors, res) == NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_portal_db_rows(q, status, res, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    /* the session first, when the statement checked it */

    if (ctx->route->access == NGX_HTTP_PORTAL_CITIZEN_INLINE
        && ngx_http_portal_resource_session_row(r, ctx, res) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* none, or another household's */

    if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
        ngx_http_finalize_request(r, ngx_http_portal_router_missing(r, ctx));
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The row of a statement that checked the session itself (a route
 * NGX_HTTP_PORTAL_CITIZEN_INLINE): none when the session is over, and then
 * the answer of the separate check (_session.c): the cookie removed, 401,
 * before anything of the route's.  Otherwise the login, in its last column.
 */

static ngx_int_t
ngx_http_portal_resource_session_row(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, PGresult *res)
{
    ngx_int_t  rc;

    if (PQntuples(res) != 1 || PQnfields(res) < 2
        || PQgetisnull(res, 0, PQnfields(res) - 1))
    {
        ctx->has_session = 0;
        ctx->auth = 0;

        rc = (ngx_http_portal_cookie_session_clear(r) == NGX_OK)
             ? ngx_http_portal_response_error(r, NGX_HTTP_UNAUTHORIZED,
                                              "unauthenticated",
                                              NGX_HTTP_PORTAL_M_SESSION_OVER)
             : NGX_HTTP_INTERNAL_SERVER_ERROR;

        ngx_http_finalize_request(r, rc);
        return NGX_DONE;
    }

    if (ngx_http_portal_db_value(r->pool, res, PQnfields(res) - 1,
                                 &ctx->session.login)
        != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NGX_DONE;
    }

    ctx->auth = 1;

    return NGX_OK;
}


ngx_int_t
ngx_http_portal_resource_error(ngx_http_request_t *r,
    const ngx_http_portal_sql_error_t *errors, PGresult *res)
{
    u_char                             *p;
    char                               *state, *constraint;
    json_t                             *fields;
    const ngx_http_portal_sql_error_t  *e;

    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);

    for (e = errors; e && e->sqlstate; e++) {

        if (state == NULL || ngx_strcmp(state, e->sqlstate) != 0) {
            continue;
        }

        if (e->constraint
            && (constraint == NULL
                || ngx_strcmp(constraint, e->constraint) != 0))
        {
            continue;
        }

        fields = NULL;

        if (e->retry) {
            p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
            if (p == NULL
                || ngx_http_portal_response_header(r, "Retry-After", p,
                                       ngx_sprintf(p, "%ui", e->retry) - p)
                   != NGX_OK)
            {
                ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return NGX_OK;
            }
        }

        if (e->field) {
            fields = json_pack("{s:s}", e->field, e->field_message);
            if (fields == NULL) {
                ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return NGX_OK;
            }
        }

        ngx_http_finalize_request(r,
            ngx_http_portal_response_error_fields(r, e->status, e->code,
                                                  e->message, fields));
        return NGX_OK;
    }

    return NGX_DECLINED;
}
