
/*
 * Portail Citoyen: a supporting document sent back from its chunks.  A
 * few chunks a round trip are copied out of the result (which the
 * database layer frees when the callback returns) and given to nginx's
 * output; the next ones are asked for once nginx has written these, so
 * that a worker holds about one batch per download, whatever the
 * document's size and however slowly the client reads.  A document that
 * goes away meanwhile cuts the connection: its headers are gone already.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_download.h"
#include "ngx_http_portal_resource.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_store.h"


/* chunks read a round trip (1 MiB): about what a download holds */
#define NGX_HTTP_PORTAL_DOWNLOAD_BATCH  4


typedef struct {
    ngx_http_portal_store_t        *store;
    ngx_http_portal_db_query_t     *query;
    /* the next chunk to ask for, and how many there are */
    ngx_uint_t                      first;
    ngx_uint_t                      chunks;
    /* the batch being sent, freed once nginx has written it */
    u_char                         *mem;
} ngx_http_portal_download_t;


static void ngx_http_portal_download_params(ngx_http_request_t *r,
    ngx_http_portal_download_t *d);
static void ngx_http_portal_download_fetched(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static ngx_int_t ngx_http_portal_download_headers(ngx_http_request_t *r,
    ngx_http_portal_download_t *d, PGresult *res);
static ngx_int_t ngx_http_portal_download_send(ngx_http_request_t *r,
    ngx_http_portal_download_t *d, PGresult *res);
static ngx_int_t ngx_http_portal_download_wait(ngx_http_request_t *r);
static void ngx_http_portal_download_writer(ngx_http_request_t *r);


/* RFC 8187 attr-char: what filename* may carry without percent-encoding */

static uint32_t  ngx_http_portal_download_attr_char[] = {
    0xffffffff, /* 1111 1111 1111 1111  1111 1111 1111 1111 */

                /* ?>=< ;:98 7654 3210  /.-, +*)( '&%$ #"!  */
    0xfc0097a5, /* 1111 1100 0000 0000  1001 0111 1010 0101 */

                /* _^]\ [ZYX WVUT SRQP  ONML KJIH GFED CBA@ */
    0x38000001, /* 0011 1000 0000 0000  0000 0000 0000 0001 */

                /*  ~}| {zyx wvut srqp  onml kjih gfed cba` */
    0xa8000000, /* 1010 1000 0000 0000  0000 0000 0000 0000 */

    0xffffffff, /* 1111 1111 1111 1111  1111 1111 1111 1111 */
    0xffffffff, /* 1111 1111 1111 1111  1111 1111 1111 1111 */
    0xffffffff, /* 1111 1111 1111 1111  1111 1111 1111 1111 */
    0xffffffff  /* 1111 1111 1111 1111  1111 1111 1111 1111 */
};


ngx_int_t
ngx_http_portal_download_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_http_portal_download_t    *d;

    d = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_download_t));
    if (d == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    d->store = (ngx_http_portal_store_t *) ctx->route->data;

    d->query = ngx_http_portal_db_query(r, &d->store->content,
                                         ngx_http_portal_download_fetched);
    if (d->query == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    d->query->data = d;
    ctx->data = d;

    /* the chunks as they are; the text columns come as their bytes */
    d->query->binary = 1;

    ngx_http_portal_download_params(r, d);

    return ngx_http_portal_db_suspend(d->query);
}


/* the next batch's statement: the ids, the first chunk, how many */

static void
ngx_http_portal_download_params(ngx_http_request_t *r,
    ngx_http_portal_download_t *d)
{
    ngx_http_portal_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    d->query->nparams = 0;

    ngx_http_portal_resource_ids(d->query, ctx);
    ngx_http_portal_store_num(d->query, d->first);
    ngx_http_portal_store_num(d->query, NGX_HTTP_PORTAL_DOWNLOAD_BATCH);
}


static void
ngx_http_portal_download_fetched(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_int_t                      rc;
    ngx_http_request_t            *r;
    ngx_http_portal_ctx_t         *ctx;
    ngx_http_portal_download_t    *d;

    r = q->request;
    d = q->data;

    if (d->first == 0) {

        if (ngx_http_portal_db_rows(q, status, res, 0) != NGX_OK) {
            return;
        }

        if (PQntuples(res) == 0) {
            ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
            ngx_http_finalize_request(r,
                                      ngx_http_portal_router_missing(r, ctx));
            return;
        }

        rc = ngx_http_portal_download_headers(r, d, res);

        if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
            ngx_http_finalize_request(r, rc);
            return;
        }

    } else if (status != NGX_HTTP_PORTAL_DB_OK
               || PQresultStatus(res) != PGRES_TUPLES_OK
               || PQntuples(res) == 0)
    {
        /* the headers are gone: a connection cut short says it */

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "portal: a document's chunk %ui could not be read: %s",
                      d->first,
                      res ? PQresultErrorMessage(res) : "no answer");

        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    rc = ngx_http_portal_download_send(r, d, res);

    if (rc == NGX_ERROR || d->first >= d->chunks) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    if (r->buffered || r->postponed || r->connection->buffered) {
        if (ngx_http_portal_download_wait(r) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_ERROR);
        }

        return;
    }

    ngx_http_portal_download_writer(r);
}


/*
 * The file, with the type found in its bytes, as an attachment: the
 * browser saves it rather than render what a citizen sent.
 */

static ngx_int_t
ngx_http_portal_download_headers(ngx_http_request_t *r,
    ngx_http_portal_download_t *d, PGresult *res)
{
    u_char     *p, *value, *name, *last;
    size_t      name_len;
    off_t       size;
    ngx_int_t   chunks;
    ngx_str_t   type;

    static u_char  hex[] = "0123456789ABCDEF";

    /* data, content_type, filename, size and chunks as text */

    size = ngx_atoof((u_char *) PQgetvalue(res, 0, 3),
                     PQgetlength(res, 0, 3));
    chunks = ngx_atoi((u_char *) PQgetvalue(res, 0, 4),
                      PQgetlength(res, 0, 4));

    if (size <= 0 || chunks <= 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "portal: a document of %O bytes in %i chunks", size,
                      chunks);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    d->chunks = chunks;

    type.len = PQgetlength(res, 0, 1);
    type.data = ngx_pnalloc(r->pool, type.len);
    if (type.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(type.data, PQgetvalue(res, 0, 1), type.len);

    /* attachment; filename*=UTF-8''<RFC 8187 percent-encoding> */

    name = (u_char *) PQgetvalue(res, 0, 2);
    name_len = PQgetlength(res, 0, 2);

    value = ngx_pnalloc(r->pool, sizeof("attachment; filename*=UTF-8''") - 1
                                 + 3 * name_len);
    if (value == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(value, "attachment; filename*=UTF-8''",
                   sizeof("attachment; filename*=UTF-8''") - 1);

    for (last = name + name_len; name < last; name++) {
        if (ngx_http_portal_download_attr_char[*name >> 5]
            & (1U << (*name & 0x1f)))
        {
            *p++ = '%';
            *p++ = hex[*name >> 4];
            *p++ = hex[*name & 0xf];

        } else {
            *p++ = *name;
        }
    }

    if (ngx_http_portal_response_header(r, "Content-Disposition", value,
                                        p - value)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_portal_response_start(r, NGX_HTTP_OK, &type,
                                          "private, no-store", size);
}


/* the batch's chunks, copied: the result is freed when the callback ends */

static ngx_int_t
ngx_http_portal_download_send(ngx_http_request_t *r,
    ngx_http_portal_download_t *d, PGresult *res)
{
    int           i, n;
    u_char       *p;
    size_t        len;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    n = PQntuples(res);
    len = 0;

    for (i = 0; i < n; i++) {
        len += PQgetlength(res, i, 0);
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL || len == 0) {
        return NGX_ERROR;
    }

    d->mem = ngx_palloc(r->pool, len);
    if (d->mem == NULL) {
        return NGX_ERROR;
    }

    p = d->mem;

    for (i = 0; i < n; i++) {
        p = ngx_cpymem(p, PQgetvalue(res, i, 0), PQgetlength(res, i, 0));
    }

    b->pos = d->mem;
    b->last = p;
    b->memory = 1;

    d->first += n;

    if (d->first >= d->chunks) {
        b->last_buf = (r == r->main) ? 1 : 0;
        b->last_in_chain = 1;

    } else {
        b->flush = 1;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* as ngx_http_set_write_handler() does, but the request goes on after */

static ngx_int_t
ngx_http_portal_download_wait(ngx_http_request_t *r)
{
    ngx_event_t               *wev;
    ngx_http_core_loc_conf_t  *clcf;

    wev = r->connection->write;
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    r->write_event_handler = ngx_http_portal_download_writer;

    if (!wev->delayed) {
        ngx_add_timer(wev, clcf->send_timeout);
    }

    return ngx_handle_write_event(wev, clcf->send_lowat);
}


/* the batch is written, or more of it: the next one when it all went */

static void
ngx_http_portal_download_writer(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_event_t                   *wev;
    ngx_connection_t              *c;
    ngx_http_portal_ctx_t         *ctx;
    ngx_http_portal_download_t    *d;

    c = r->connection;
    wev = c->write;

    if (wev->timedout) {
        ngx_log_error(NGX_LOG_INFO, c->log, NGX_ETIMEDOUT,
                      "client timed out");
        c->timedout = 1;
        ngx_http_finalize_request(r, NGX_HTTP_REQUEST_TIME_OUT);
        return;
    }

    if (wev->delayed || r->aio) {
        if (ngx_http_portal_download_wait(r) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_ERROR);
        }

        return;
    }

    rc = ngx_http_output_filter(r, NULL);

    if (rc == NGX_ERROR) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    if (r->buffered || r->postponed || c->buffered) {
        if (ngx_http_portal_download_wait(r) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_ERROR);
        }

        return;
    }

    if (wev->timer_set) {
        ngx_del_timer(wev);
    }

    r->write_event_handler = ngx_http_request_empty_handler;

    /* written: its memory goes before the next batch comes */

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    d = ctx->data;

    ngx_pfree(r->pool, d->mem);
    d->mem = NULL;

    ngx_http_portal_download_params(r, d);

    if (ngx_http_portal_db_run(d->query) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_ERROR);
    }
}
