
/*
 * Portail Citoyen: the body phase.  A JSON route's body is read, at most
 * portal_json_max_size of it (413 otherwise, before anything is read when
 * the length is announced), parsed with jansson, and kept in ctx->json for
 * the route's checks; the body of a route that takes none is discarded; an
 * upload's is left to its handler, which streams it.
 *
 * The body is read unbuffered, piece by piece into one buffer of the
 * request's pool: a chunked body is stopped at the limit too, whatever
 * client_max_body_size allows, and nothing goes to a temporary file.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_json.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_router.h"


typedef struct {
    u_char                     *data;
    size_t                      len;
    size_t                      max;
} ngx_http_portal_json_body_t;


static void ngx_http_portal_json_first(ngx_http_request_t *r);
static void ngx_http_portal_json_more(ngx_http_request_t *r);
static ngx_int_t ngx_http_portal_json_take(ngx_http_request_t *r,
    ngx_http_portal_json_body_t *body);
static void ngx_http_portal_json_parse(ngx_http_request_t *r,
    ngx_http_portal_json_body_t *body);
static ngx_int_t ngx_http_portal_json_too_large(ngx_http_request_t *r);
static void ngx_http_portal_json_free(void *data);


ngx_int_t
ngx_http_portal_json_phase(ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx)
{
    ngx_int_t                     rc;
    ngx_str_t                    *type;
    ngx_http_portal_json_body_t  *body;
    ngx_http_portal_loc_conf_t   *plcf;

    switch (ctx->route->body) {

    case NGX_HTTP_PORTAL_BODY_STREAM:
        return NGX_DECLINED;

    case NGX_HTTP_PORTAL_BODY_JSON:
        break;

    default:
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return NGX_DECLINED;
    }

    type = r->headers_in.content_type ? &r->headers_in.content_type->value
                                      : NULL;

    if (type == NULL
        || type->len < sizeof("application/json") - 1
        || ngx_strncasecmp(type->data, (u_char *) "application/json",
                           sizeof("application/json") - 1)
           != 0)
    {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_portal_response_error(r,
                                              NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                              "unsupported_media_type",
                                              NGX_HTTP_PORTAL_M_JSON_TYPE);
    }

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    /* no need to read what cannot fit */

    if (r->headers_in.content_length_n > (off_t) plcf->json_max_size) {

        /* no "100 Continue": the client need not send it at all */
        r->expect_tested = 1;

        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_portal_json_too_large(r);
    }

    body = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_json_body_t));
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body->max = plcf->json_max_size;
    ctx->data = body;

    r->request_body_no_buffering = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_portal_json_first);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/* the first pieces have come, or the whole body */

static void
ngx_http_portal_json_first(ngx_http_request_t *r)
{
    r->read_event_handler = ngx_http_portal_json_more;

    ngx_http_portal_json_more(r);
}


/*
 * Reads what the client sent, as long as it comes: nginx stops reading
 * when its buffer is full, and waits for it to be taken before it reads
 * on (the events are edge-triggered: it is read now, or never).
 */

static void
ngx_http_portal_json_more(ngx_http_request_t *r)
{
    ngx_int_t               rc;
    ngx_http_portal_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    for ( ;; ) {

        if (ngx_http_portal_json_take(r, ctx->data) != NGX_OK) {
            return;
        }

        if (!r->reading_body) {
            /*
             * read in full: from now on a read event is the client going
             * away, which the database layer watches for
             */
            r->read_event_handler = ngx_http_block_reading;

            ngx_http_portal_json_parse(r, ctx->data);
            return;
        }

        rc = ngx_http_read_unbuffered_request_body(r);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            ngx_http_finalize_request(r, rc);
            return;
        }

        if (rc == NGX_AGAIN && r->request_body->bufs == NULL) {
            /* nothing more for now: the next read event */
            return;
        }
    }
}


/*
 * What was read so far, appended to the body: NGX_OK; otherwise the
 * request is finished (413, or an error).
 */

static ngx_int_t
ngx_http_portal_json_take(ngx_http_request_t *r,
    ngx_http_portal_json_body_t *body)
{
    size_t        size;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (r->request_body == NULL) {
        return NGX_OK;
    }

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!ngx_buf_in_memory(b)) {
            continue;
        }

        size = b->last - b->pos;

        if (size > body->max - body->len) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "portal: a JSON body over portal_json_max_size"
                          " (%uz) refused", body->max);

            ngx_http_finalize_request(r, ngx_http_portal_json_too_large(r));
            return NGX_DONE;
        }

        if (body->data == NULL) {
            body->data = ngx_pnalloc(r->pool, body->max + 1);
            if (body->data == NULL) {
                ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return NGX_ERROR;
            }
        }

        ngx_memcpy(body->data + body->len, b->pos, size);
        body->len += size;

        /* consumed: nginx may use the buffer for what comes next */
        b->pos = b->last;
    }

    r->request_body->bufs = NULL;

    return NGX_OK;
}


static void
ngx_http_portal_json_parse(ngx_http_request_t *r,
    ngx_http_portal_json_body_t *body)
{
    json_t                 *json;
    json_error_t            err;
    ngx_pool_cleanup_t     *cln;
    ngx_http_portal_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    ctx->data = NULL;

    json = json_loadb(body->data ? (char *) body->data : "", body->len,
                      JSON_REJECT_DUPLICATES, &err);

    if (json == NULL || !json_is_object(json)) {
        json_decref(json);
        ngx_http_finalize_request(r,
            ngx_http_portal_response_error(r, NGX_HTTP_BAD_REQUEST,
                                           "bad_json",
                                           NGX_HTTP_PORTAL_M_BAD_JSON));
        return;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        json_decref(json);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    cln->handler = ngx_http_portal_json_free;
    cln->data = json;
    ctx->json = json;

    ngx_http_finalize_request(r, ngx_http_portal_router_next(r, ctx));
}


static ngx_int_t
ngx_http_portal_json_too_large(ngx_http_request_t *r)
{
    return ngx_http_portal_response_error(r,
                                          NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                          "too_large",
                                          NGX_HTTP_PORTAL_M_TOO_LARGE);
}


static void
ngx_http_portal_json_free(void *data)
{
    json_decref(data);
}
