
/*
 * Portail Citoyen: the catalog of online procedures, in each worker's
 * memory (see the header).
 *
 *     GET  catalog             themes and their procedures
 *     GET  procedures/{slug}   one procedure: its form, its documents
 *
 * A catalog lives in a pool of its own.  Requests that answer from it or
 * check a form against it hold it until they end; a newer one replaces it
 * as the current catalog, and the old pool goes when its last holder
 * ends.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_catalog.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_response.h"


/* the etag: "c" and the version, quoted */
#define NGX_HTTP_PORTAL_CATALOG_ETAG  (sizeof("\"c\"") - 1 + NGX_INT64_LEN)


struct ngx_http_portal_catalog_s {
    ngx_pool_t                     *pool;
    ngx_uint_t                      refs;
    int64_t                         version;
    ngx_str_t                       etag;
    /* catalog_json(), and a newline: GET catalog */
    ngx_str_t                       body;
    /* by slug */
    ngx_http_portal_procedure_t    *procedures;
    ngx_uint_t                      nprocedures;
};


/* a worker's timer, and what it has */
typedef struct {
    ngx_event_t                     tick;
    ngx_http_portal_db_query_t      query;
    ngx_http_portal_main_conf_t    *conf;
    ngx_http_portal_catalog_t      *current;
} ngx_http_portal_catalog_worker_t;


static ngx_int_t ngx_http_portal_catalog_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_catalog_send(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_catalog_procedure_handler(
    ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_catalog_procedure_send(
    ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_catalog_answer(ngx_http_request_t *r,
    ngx_http_portal_catalog_t *cat, ngx_str_t *body);
static void ngx_http_portal_catalog_read(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static void ngx_http_portal_catalog_tick(ngx_event_t *ev);
static void ngx_http_portal_catalog_versioned(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static void ngx_http_portal_catalog_snapshot_done(
    ngx_http_portal_db_query_t *q, ngx_http_portal_db_status_e status,
    PGresult *res);
static ngx_http_portal_catalog_t *ngx_http_portal_catalog_build(
    PGresult *res, ngx_log_t *log);
static void ngx_http_portal_catalog_install(ngx_http_portal_catalog_t *cat);
static void ngx_http_portal_catalog_release(void *data);
static ngx_int_t ngx_http_portal_catalog_take(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_http_portal_catalog_t *cat);
static int ngx_libc_cdecl ngx_http_portal_catalog_cmp(const void *a,
    const void *b);


static ngx_http_portal_catalog_worker_t  *ngx_http_portal_catalog_worker;


static ngx_http_portal_fault_t  ngx_http_portal_catalog_missing = {
    "not_found", NGX_HTTP_PORTAL_M_PROCEDURE_NOT_FOUND
};


ngx_http_portal_route_t  ngx_http_portal_catalog_routes[] = {

    { NGX_HTTP_PORTAL_READ, "catalog", ngx_http_portal_catalog_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_OPEN, NULL, NULL },

    { NGX_HTTP_PORTAL_READ, "procedures/{id}",
      ngx_http_portal_catalog_procedure_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_OPEN, NULL,
      &ngx_http_portal_catalog_missing },

    NGX_HTTP_PORTAL_ROUTES_END
};


static ngx_http_portal_sql_t  ngx_http_portal_catalog_version_sql = {
    "portal_catalog_version", "SELECT portal.catalog_version()", 0, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_catalog_snapshot_sql = {
    "portal_catalog_snapshot",
    "SELECT version, slug, body FROM portal.catalog_snapshot()", 0, 0
};


ngx_int_t
ngx_http_portal_catalog_init(ngx_cycle_t *cycle,
    ngx_http_portal_main_conf_t *pmcf)
{
    ngx_http_portal_catalog_worker_t  *w;

    w = ngx_pcalloc(cycle->pool, sizeof(ngx_http_portal_catalog_worker_t));
    if (w == NULL) {
        return NGX_ERROR;
    }

    w->conf = pmcf;
    w->tick.handler = ngx_http_portal_catalog_tick;
    w->tick.data = w;
    w->tick.log = cycle->log;
    w->tick.cancelable = 1;

    ngx_http_portal_catalog_worker = w;

    /* read it soon, before the first visitor asks for it */
    ngx_add_timer(&w->tick, 1);

    return NGX_OK;
}


void
ngx_http_portal_catalog_exit(void)
{
    ngx_http_portal_catalog_t         *cat;
    ngx_http_portal_catalog_worker_t  *w;

    w = ngx_http_portal_catalog_worker;

    if (w == NULL || w->current == NULL) {
        return;
    }

    /* a request still holding it frees it when it ends */

    cat = w->current;
    w->current = NULL;

    if (cat->refs == 0) {
        ngx_destroy_pool(cat->pool);
    }
}


/* GET catalog */

static ngx_int_t
ngx_http_portal_catalog_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    return ngx_http_portal_catalog_hold(r, ctx,
                                        ngx_http_portal_catalog_send);
}


static ngx_int_t
ngx_http_portal_catalog_send(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_http_portal_catalog_t  *cat = ctx->catalog;

    return ngx_http_portal_catalog_answer(r, cat, &cat->body);
}


/* GET procedures/{slug} */

static ngx_int_t
ngx_http_portal_catalog_procedure_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    return ngx_http_portal_catalog_hold(r, ctx,
                                   ngx_http_portal_catalog_procedure_send);
}


static ngx_int_t
ngx_http_portal_catalog_procedure_send(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_http_portal_procedure_t  *p;

    p = ngx_http_portal_catalog_procedure(ctx, &ctx->params[0]);

    if (p == NULL) {
        return ngx_http_portal_router_missing(r, ctx);
    }

    return ngx_http_portal_catalog_answer(r, ctx->catalog, &p->body);
}


/*
 * From memory, with its version as a strong ETag: a client that has it
 * gets 304.  "no-cache": a cache keeps it, and asks again each time.
 */

static ngx_int_t
ngx_http_portal_catalog_answer(ngx_http_request_t *r,
    ngx_http_portal_catalog_t *cat, ngx_str_t *body)
{
    ngx_buf_t        *b;
    ngx_table_elt_t  *inm;

    static ngx_str_t  type = ngx_string("application/json; charset=utf-8");

    if (ngx_http_portal_response_header(r, "ETag", cat->etag.data,
                                        cat->etag.len)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    inm = r->headers_in.if_none_match;

    if (inm
        && (ngx_strlcasestrn(inm->value.data,
                             inm->value.data + inm->value.len,
                             cat->etag.data, cat->etag.len - 1)
            != NULL
            || (inm->value.len == 1 && inm->value.data[0] == '*')))
    {
        b = ngx_calloc_buf(r->pool);
        if (b == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_portal_response_send(r, NGX_HTTP_NOT_MODIFIED, &type,
                                             "no-cache", b);
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the catalog's memory, held by the request until it ends */
    b->pos = body->data;
    b->last = body->data + body->len;
    b->memory = 1;

    return ngx_http_portal_response_send(r, NGX_HTTP_OK, &type, "no-cache",
                                         b);
}


ngx_int_t
ngx_http_portal_catalog_hold(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_http_portal_handler_pt next)
{
    ngx_http_portal_db_query_t        *q;
    ngx_http_portal_catalog_worker_t  *w;

    w = ngx_http_portal_catalog_worker;

    if (ctx->catalog == NULL && w && w->current) {
        if (ngx_http_portal_catalog_take(r, ctx, w->current) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ctx->catalog) {
        return next(r, ctx);
    }

    /* none yet: this request reads it, and the worker keeps it */

    q = ngx_http_portal_db_query(r, &ngx_http_portal_catalog_snapshot_sql,
                                 ngx_http_portal_catalog_read);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->data = (void *) next;

    return ngx_http_portal_db_suspend(q);
}


static void
ngx_http_portal_catalog_read(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_request_t                *r;
    ngx_http_portal_ctx_t             *ctx;
    ngx_http_portal_catalog_t         *cat;
    ngx_http_portal_handler_pt         next;
    ngx_http_portal_catalog_worker_t  *w;

    r = q->request;
    next = (ngx_http_portal_handler_pt) q->data;

    if (ngx_http_portal_db_rows(q, status, res, 0) != NGX_OK) {
        return;
    }

    cat = ngx_http_portal_catalog_build(res, r->connection->log);
    if (cat == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    w = ngx_http_portal_catalog_worker;

    /* another reader may have been quicker, with a newer one */

    if (w && (w->current == NULL || w->current->version < cat->version)) {
        ngx_http_portal_catalog_install(cat);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    if (ngx_http_portal_catalog_take(r, ctx, cat) != NGX_OK) {
        if (cat->refs == 0 && (w == NULL || w->current != cat)) {
            ngx_destroy_pool(cat->pool);
        }

        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_finalize_request(r, next(r, ctx));
}


ngx_http_portal_procedure_t *
ngx_http_portal_catalog_procedure(ngx_http_portal_ctx_t *ctx,
    ngx_str_t *slug)
{
    ngx_int_t                     rc;
    ngx_uint_t                    lo, hi, mid;
    ngx_http_portal_catalog_t    *cat;
    ngx_http_portal_procedure_t  *p;

    cat = ctx->catalog;

    if (cat == NULL) {
        return NULL;
    }

    lo = 0;
    hi = cat->nprocedures;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        p = &cat->procedures[mid];

        rc = ngx_memn2cmp(slug->data, p->slug.data, slug->len, p->slug.len);

        if (rc == 0) {
            return p;
        }

        if (rc < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return NULL;
}


/* every portal_catalog_interval: has the catalog moved? */

static void
ngx_http_portal_catalog_tick(ngx_event_t *ev)
{
    ngx_http_portal_catalog_worker_t *w = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    ngx_memzero(&w->query, sizeof(ngx_http_portal_db_query_t));

    if (w->current == NULL) {
        w->query.sql = &ngx_http_portal_catalog_snapshot_sql;
        w->query.handler = ngx_http_portal_catalog_snapshot_done;

    } else {
        w->query.sql = &ngx_http_portal_catalog_version_sql;
        w->query.handler = ngx_http_portal_catalog_versioned;
    }

    w->query.data = w;
    if (ngx_http_portal_db_run(&w->query) != NGX_OK) {
        ngx_add_timer(&w->tick, w->conf->catalog_interval);
    }
}


static void
ngx_http_portal_catalog_versioned(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    int64_t                            version;
    ngx_http_portal_catalog_worker_t  *w = q->data;

    if (status == NGX_HTTP_PORTAL_DB_OK
        && PQresultStatus(res) == PGRES_TUPLES_OK
        && PQntuples(res) == 1)
    {
        version = ngx_atoof((u_char *) PQgetvalue(res, 0, 0),
                            PQgetlength(res, 0, 0));

        if (w->current == NULL || version != w->current->version) {
            ngx_memzero(&w->query, sizeof(ngx_http_portal_db_query_t));

            w->query.sql = &ngx_http_portal_catalog_snapshot_sql;
            w->query.handler = ngx_http_portal_catalog_snapshot_done;
            w->query.data = w;

            if (ngx_http_portal_db_run(&w->query) == NGX_OK) {
                return;
            }
        }
    }

    if (!(ngx_exiting || ngx_quit || ngx_terminate)) {
        ngx_add_timer(&w->tick, w->conf->catalog_interval);
    }
}


static void
ngx_http_portal_catalog_snapshot_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_portal_catalog_t         *cat;
    ngx_http_portal_catalog_worker_t  *w = q->data;

    if (status == NGX_HTTP_PORTAL_DB_OK
        && PQresultStatus(res) == PGRES_TUPLES_OK)
    {
        cat = ngx_http_portal_catalog_build(res, ngx_cycle->log);

        if (cat) {
            if (w->current == NULL || w->current->version != cat->version) {
                ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                              "portal: catalog version %L read,"
                              " %ui procedures", cat->version,
                              cat->nprocedures);

                ngx_http_portal_catalog_install(cat);

            } else {
                ngx_destroy_pool(cat->pool);
            }
        }

    } else if (status == NGX_HTTP_PORTAL_DB_OK) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "portal: the catalog could not be read: %s",
                      PQresultErrorMessage(res));
    }

    if (!(ngx_exiting || ngx_quit || ngx_terminate)) {
        ngx_add_timer(&w->tick, w->conf->catalog_interval);
    }
}


/*
 * The rows of catalog_snapshot() into a catalog of its own pool: the
 * catalog's JSON (slug NULL) first, then each procedure, whose form is
 * compiled here once.
 */

static ngx_http_portal_catalog_t *
ngx_http_portal_catalog_build(PGresult *res, ngx_log_t *log)
{
    int                           i, n;
    size_t                        len;
    json_t                       *json, *fields;
    ngx_pool_t                   *pool;
    json_error_t                  err;
    const char                   *why, *body;
    ngx_http_portal_catalog_t    *cat;
    ngx_http_portal_procedure_t  *p;

    n = PQntuples(res);

    if (n < 1 || PQnfields(res) != 3 || !PQgetisnull(res, 0, 1)) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "portal: the catalog's snapshot has no catalog row");
        return NULL;
    }

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, log);
    if (pool == NULL) {
        return NULL;
    }

    cat = ngx_pcalloc(pool, sizeof(ngx_http_portal_catalog_t));
    if (cat == NULL) {
        goto failed;
    }

    cat->pool = pool;
    cat->version = ngx_atoof((u_char *) PQgetvalue(res, 0, 0),
                             PQgetlength(res, 0, 0));

    cat->etag.data = ngx_pnalloc(pool, NGX_HTTP_PORTAL_CATALOG_ETAG);
    cat->procedures = ngx_pcalloc(pool, (n - 1)
                                        * sizeof(ngx_http_portal_procedure_t)
                                  + 1);

    if (cat->etag.data == NULL || cat->procedures == NULL) {
        goto failed;
    }

    cat->etag.len = ngx_sprintf(cat->etag.data, "\"c%L\"", cat->version)
                    - cat->etag.data;

    for (i = 0; i < n; i++) {
        body = PQgetvalue(res, i, 2);
        len = PQgetlength(res, i, 2);

        if (i == 0) {
            p = NULL;

        } else {
            p = &cat->procedures[cat->nprocedures];
            p->slug.len = PQgetlength(res, i, 1);
            p->slug.data = ngx_pnalloc(pool, p->slug.len);

            if (p->slug.data == NULL) {
                goto failed;
            }

            ngx_memcpy(p->slug.data, PQgetvalue(res, i, 1), p->slug.len);
        }

        /* the answer as PostgreSQL wrote it, and a newline */

        if (p) {
            p->body.data = ngx_pnalloc(pool, len + 1);
            p->body.len = len + 1;

        } else {
            cat->body.data = ngx_pnalloc(pool, len + 1);
            cat->body.len = len + 1;
        }

        if ((p ? p->body.data : cat->body.data) == NULL) {
            goto failed;
        }

        *ngx_cpymem(p ? p->body.data : cat->body.data, body, len) = '\n';

        if (p == NULL) {
            continue;
        }

        json = json_loadb(body, len, 0, &err);

        if (json == NULL) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "portal: procedure \"%V\" of the catalog is not"
                          " JSON: %s", &p->slug, err.text);
            goto failed;
        }

        p->requires_account = json_is_true(json_object_get(json,
                                                        "requires_account"));
        p->requires_captcha = json_is_true(json_object_get(json,
                                                        "requires_captcha"));

        fields = json_object_get(json, "fields");
        why = NULL;

        switch (ngx_http_portal_form_compile(pool, fields, &p->form, &why)) {

        case NGX_OK:
            break;

        case NGX_DECLINED:
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "portal: the form of procedure \"%V\" is left out"
                          " of the catalog: %s", &p->slug, why);
            json_decref(json);
            continue;

        default:
            json_decref(json);
            goto failed;
        }

        json_decref(json);
        cat->nprocedures++;
    }

    ngx_qsort(cat->procedures, cat->nprocedures,
              sizeof(ngx_http_portal_procedure_t),
              ngx_http_portal_catalog_cmp);

    return cat;

failed:

    ngx_destroy_pool(pool);

    return NULL;
}


static int ngx_libc_cdecl
ngx_http_portal_catalog_cmp(const void *a, const void *b)
{
    const ngx_http_portal_procedure_t  *pa = a, *pb = b;

    return ngx_memn2cmp(pa->slug.data, pb->slug.data, pa->slug.len,
                        pb->slug.len);
}


/* the current catalog from now on; the old one goes with its last holder */

static void
ngx_http_portal_catalog_install(ngx_http_portal_catalog_t *cat)
{
    ngx_http_portal_catalog_t         *old;
    ngx_http_portal_catalog_worker_t  *w;

    w = ngx_http_portal_catalog_worker;
    old = w->current;
    w->current = cat;

    if (old && old->refs == 0) {
        ngx_destroy_pool(old->pool);
    }
}


static ngx_int_t
ngx_http_portal_catalog_take(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_http_portal_catalog_t *cat)
{
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_portal_catalog_release;
    cln->data = cat;

    cat->refs++;
    ctx->catalog = cat;

    return NGX_OK;
}


static void
ngx_http_portal_catalog_release(void *data)
{
    ngx_http_portal_catalog_t *cat = data;

    ngx_http_portal_catalog_worker_t  *w;

    w = ngx_http_portal_catalog_worker;

    if (--cat->refs == 0 && (w == NULL || w->current != cat)) {
        ngx_destroy_pool(cat->pool);
    }
}
