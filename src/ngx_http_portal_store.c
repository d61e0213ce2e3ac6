
/*
 * Portail Citoyen: supporting documents written into PostgreSQL in
 * chunks.  _upload.c parses the body and hands the file over a chunk at a
 * time; each chunk is one statement, and the upload reads no more of the
 * body until it answered.  A document that will not be finished (a
 * refusal, a client gone, a request that ends) is aborted on the side, by
 * a statement of its own that no request waits for.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_outbox.h"
#include "ngx_http_portal_resource.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_store.h"


/* a uuid's text */
#define NGX_HTTP_PORTAL_STORE_UUID   36


typedef enum {
    NGX_HTTP_PORTAL_WRITE_BEGIN = 0,
    NGX_HTTP_PORTAL_WRITE_CHUNK,
    NGX_HTTP_PORTAL_WRITE_FINISH
} ngx_http_portal_write_phase_e;


struct ngx_http_portal_store_write_s {
    ngx_http_request_t             *request;
    ngx_http_portal_ctx_t          *ctx;
    ngx_http_portal_store_t        *store;
    ngx_http_portal_db_query_t     *query;
    ngx_http_portal_store_pt        next;
    void                           *data;
    ngx_http_portal_write_phase_e   phase;
    /* the next chunk's number */
    ngx_uint_t                      n;
    u_char                          document[NGX_HTTP_PORTAL_STORE_UUID + 1];
    u_char                          sha256[32];
    /* the document exists; it was finished or aborted */
    unsigned                        begun:1;
    unsigned                        over:1;
};


/* an abort on the side: it outlives the request */
typedef struct {
    ngx_http_portal_db_query_t      query;
    u_char                          account[40];
    u_char                          document[NGX_HTTP_PORTAL_STORE_UUID + 1];
} ngx_http_portal_store_abort_t;


static void ngx_http_portal_store_written(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static void ngx_http_portal_store_aborted(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static void ngx_http_portal_store_cleanup(void *data);


ngx_http_portal_store_write_t *
ngx_http_portal_store_write(ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx,
    ngx_http_portal_store_pt next, void *data)
{
    ngx_pool_cleanup_t             *cln;
    ngx_http_portal_store_write_t  *w;

    w = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_store_write_t));
    if (w == NULL) {
        return NULL;
    }

    w->request = r;
    w->ctx = ctx;
    w->store = (ngx_http_portal_store_t *) ctx->route->data;
    w->next = next;
    w->data = data;

    w->query = ngx_http_portal_db_query(r, &w->store->begin,
                                        ngx_http_portal_store_written);
    if (w->query == NULL) {
        return NULL;
    }

    w->query->data = w;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_portal_store_cleanup;
    cln->data = w;

    return w;
}


ngx_int_t
ngx_http_portal_store_begin(ngx_http_portal_store_write_t *w,
    ngx_str_t *kind, ngx_str_t *filename)
{
    ngx_http_portal_db_query_t  *q;

    q = w->query;
    q->sql = &w->store->begin;
    q->nparams = 0;

    ngx_http_portal_resource_ids(q, w->ctx);

    /* a kind still to come is given at the end */
    ngx_http_portal_db_param(q, kind->len ? (char *) kind->data : NULL,
                             kind->len);
    ngx_http_portal_db_param(q, (char *) filename->data, filename->len);

    w->phase = NGX_HTTP_PORTAL_WRITE_BEGIN;

    return ngx_http_portal_db_run(q);
}


ngx_int_t
ngx_http_portal_store_chunk(ngx_http_portal_store_write_t *w, u_char *data,
    size_t len)
{
    ngx_http_portal_db_query_t  *q;

    q = w->query;
    q->sql = &w->store->chunk;
    q->nparams = 0;

    ngx_http_portal_db_param(q, (char *) w->ctx->session.id,
                             ngx_strlen(w->ctx->session.id));
    ngx_http_portal_db_param(q, (char *) w->document,
                             NGX_HTTP_PORTAL_STORE_UUID);
    ngx_http_portal_store_num(q, w->n);
    ngx_http_portal_db_param_binary(q, data, len);

    w->phase = NGX_HTTP_PORTAL_WRITE_CHUNK;

    return ngx_http_portal_db_run(q);
}


ngx_int_t
ngx_http_portal_store_finish(ngx_http_portal_store_write_t *w,
    ngx_str_t *kind, const char *type, u_char *sha256, off_t size)
{
    ngx_http_portal_db_query_t  *q;
    ngx_http_portal_loc_conf_t  *plcf;

    q = w->query;
    q->sql = &w->store->finish;
    q->nparams = 0;

    ngx_http_portal_db_param(q, (char *) w->ctx->session.id,
                             ngx_strlen(w->ctx->session.id));
    ngx_http_portal_db_param(q, (char *) w->document,
                             NGX_HTTP_PORTAL_STORE_UUID);
    ngx_http_portal_db_param(q, type, ngx_strlen(type));
    ngx_memcpy(w->sha256, sha256, sizeof(w->sha256));
    ngx_http_portal_db_param_binary(q, w->sha256, sizeof(w->sha256));
    ngx_http_portal_store_num(q, size);

    if (w->store->mail) {
        plcf = ngx_http_get_module_loc_conf(w->request,
                                            ngx_http_portal_module);
        ngx_http_portal_db_param(q, (char *) plcf->public_url.data,
                                 plcf->public_url.len);
    }

    ngx_http_portal_db_param(q, (char *) kind->data, kind->len);

    w->phase = NGX_HTTP_PORTAL_WRITE_FINISH;

    return ngx_http_portal_db_run(q);
}


static void
ngx_http_portal_store_written(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_str_t                       text;
    ngx_http_request_t             *r;
    ngx_http_portal_store_write_t  *w;

    w = q->data;
    r = q->request;

    /* the answer may free the request: the document goes first */

    if (status == NGX_HTTP_PORTAL_DB_OK
        && PQresultStatus(res) == PGRES_FATAL_ERROR)
    {
        ngx_http_portal_store_abort(w);

        if (ngx_http_portal_resource_error(r, w->store->errors, res)
            == NGX_OK)
        {
            return;
        }
    }

    if (status != NGX_HTTP_PORTAL_DB_OK
        || PQresultStatus(res) != PGRES_TUPLES_OK
        || PQntuples(res) != 1)
    {
        ngx_http_portal_store_abort(w);
        ngx_http_finalize_request(r, ngx_http_portal_db_error(r, status, res));
        return;
    }

    if (PQgetisnull(res, 0, 0)) {
        /* no such request, or the document went meanwhile */
        ngx_http_portal_store_abort(w);
        ngx_http_finalize_request(r,
                                  ngx_http_portal_router_missing(r, w->ctx));
        return;
    }

    switch (w->phase) {

    case NGX_HTTP_PORTAL_WRITE_BEGIN:

        if (PQgetlength(res, 0, 0) != NGX_HTTP_PORTAL_STORE_UUID) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_memcpy(w->document, PQgetvalue(res, 0, 0),
                   NGX_HTTP_PORTAL_STORE_UUID);
        w->begun = 1;
        break;

    case NGX_HTTP_PORTAL_WRITE_CHUNK:
        w->n++;
        break;

    default: /* NGX_HTTP_PORTAL_WRITE_FINISH */

        w->over = 1;

        if (w->store->mail) {
            ngx_http_portal_outbox_kick();
        }

        text.data = (u_char *) PQgetvalue(res, 0, 0);
        text.len = PQgetlength(res, 0, 0);

        ngx_http_finalize_request(r,
            ngx_http_portal_response_raw(r, NGX_HTTP_CREATED, &text));
        return;
    }

    w->next(r, w->data);
}


void
ngx_http_portal_store_abort(ngx_http_portal_store_write_t *w)
{
    ngx_http_portal_store_abort_t  *a;

    if (!w->begun || w->over) {
        return;
    }

    w->over = 1;

    a = ngx_alloc(sizeof(ngx_http_portal_store_abort_t), ngx_cycle->log);
    if (a == NULL) {
        return;
    }

    ngx_memzero(a, sizeof(ngx_http_portal_store_abort_t));

    ngx_cpystrn(a->account, w->ctx->session.id, sizeof(a->account));
    ngx_memcpy(a->document, w->document, NGX_HTTP_PORTAL_STORE_UUID);

    a->query.sql = &w->store->abort;
    a->query.handler = ngx_http_portal_store_aborted;
    a->query.data = a;

    /* a query of no request: its parameters are not copied */

    ngx_http_portal_db_param(&a->query, (char *) a->account,
                             ngx_strlen(a->account));
    ngx_http_portal_db_param(&a->query, (char *) a->document,
                             NGX_HTTP_PORTAL_STORE_UUID);

    if (ngx_http_portal_db_run(&a->query) != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "portal: document %s left pending, for housekeeping",
                      a->document);
        ngx_free(a);
    }
}


static void
ngx_http_portal_store_aborted(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_portal_store_abort_t *a = q->data;

    if (status != NGX_HTTP_PORTAL_DB_OK
        || PQresultStatus(res) != PGRES_TUPLES_OK)
    {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "portal: document %s left pending, for housekeeping:"
                      " %s", a->document,
                      res ? PQresultErrorMessage(res) : "no answer");

    } else {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "portal: document %s aborted", a->document);
    }

    ngx_free(a);
}


/* the request ends with its document unfinished */

static void
ngx_http_portal_store_cleanup(void *data)
{
    ngx_http_portal_store_abort(data);
}


void
ngx_http_portal_store_num(ngx_http_portal_db_query_t *q, off_t n)
{
    u_char  *p, text[NGX_OFF_T_LEN];

    /* copied by ngx_http_portal_db_param() */

    p = ngx_sprintf(text, "%O", n);
    ngx_http_portal_db_param(q, (char *) text, p - text);
}
