
/*
 * Portail Citoyen: the body phase.  A JSON route's body is read whole,
 * parsed with jansson, and kept in ctx->json for the route's checks; the
 * body of a route that takes none is discarded; an upload's is left to
 * its handler, which streams it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_json.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_router.h"


static void ngx_http_portal_json_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_portal_json_text(ngx_http_request_t *r,
    ngx_str_t *body);
static void ngx_http_portal_json_free(void *data);


ngx_int_t
ngx_http_portal_json_phase(ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx)
{
    ngx_int_t   rc;
    ngx_str_t  *type;

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

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_portal_json_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_portal_json_body(ngx_http_request_t *r)
{
    ngx_str_t               body;
    json_t                 *json;
    json_error_t            err;
    ngx_pool_cleanup_t     *cln;
    ngx_http_portal_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    if (ngx_http_portal_json_text(r, &body) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    json = json_loadb((char *) body.data, body.len,
                      JSON_REJECT_DUPLICATES, &err);

    if (json == NULL || !json_is_object(json)) {
        json_decref(json);
        ngx_http_finalize_request(r,
            ngx_http_portal_response_error(r, NGX_HTTP_BAD_REQUEST, "bad_json",
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


/* the whole body in one buffer of the request's pool */

static ngx_int_t
ngx_http_portal_json_text(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char       *p;
    off_t         len;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    body->len = 0;
    body->data = (u_char *) "";

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    if (len == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, (size_t) len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            n = ngx_read_file(b->file, p, (size_t) (b->file_last
                                                    - b->file_pos),
                              b->file_pos);
            if (n != b->file_last - b->file_pos) {
                return NGX_ERROR;
            }

            p += n;
            continue;
        }

        p = ngx_cpymem(p, b->pos, b->last - b->pos);
    }

    *p = '\0';
    body->len = p - body->data;

    return NGX_OK;
}


static void
ngx_http_portal_json_free(void *data)
{
    json_decref(data);
}
