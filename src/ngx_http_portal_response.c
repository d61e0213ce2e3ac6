
/*
 * Portail Citoyen: every answer of the module goes out here: JSON
 * documents, the error envelope of API.md
 * ({"error": {"code": "...", "message": "...", "fields": {...}}}), and
 * files (captcha pictures and sounds, documents).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_response.h"


typedef struct {
    void                       *data;
    void                      (*free)(void *p);
} ngx_http_portal_memory_t;


static void ngx_http_portal_memory_free(void *data);
static ngx_int_t ngx_http_portal_response_nosniff(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_str_t  ngx_http_portal_json_type =
    ngx_string("application/json; charset=utf-8");


ngx_http_variable_t  ngx_http_portal_response_variables[] = {

    { ngx_string("portal_nosniff"), NULL,
      ngx_http_portal_response_nosniff, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


/*
 * $portal_nosniff: "nosniff", but empty for an answer of the module's,
 * which carries the header already.  conf/portal-headers.conf adds
 * X-Content-Type-Options with it to every answer of a server, once.
 */

static ngx_int_t
ngx_http_portal_response_nosniff(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_portal_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    if (ctx && ctx->nosniff) {
        v->len = 0;
        v->data = (u_char *) "";

    } else {
        v->len = sizeof("nosniff") - 1;
        v->data = (u_char *) "nosniff";
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_portal_response_header(ngx_http_request_t *r, const char *name,
    u_char *value, size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = value;
    h->value.len = len;

    return NGX_OK;
}


ngx_int_t
ngx_http_portal_response_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, const char *cache, ngx_buf_t *b)
{
    ngx_int_t    rc;
    ngx_chain_t  out;

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    rc = ngx_http_portal_response_start(r, status, type, cache,
                                        b->last - b->pos);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_portal_response_start(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, const char *cache, off_t length)
{
    ngx_http_portal_ctx_t  *ctx;

    if (cache == NULL) {
        cache = "no-store";
    }

    r->headers_out.status = status;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = length;

    if (ngx_http_portal_response_header(r, "Cache-Control", (u_char *) cache,
                                        ngx_strlen(cache))
        != NGX_OK
        || ngx_http_portal_response_header_literal(r,
                                                   "X-Content-Type-Options",
                                                   "nosniff")
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    if (ctx) {
        ctx->nosniff = 1;
    }

    /* a body nobody read is not left in the connection */

    if (r->discard_body == 0 && r->request_body == NULL) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_send_header(r);
}


ngx_int_t
ngx_http_portal_response_memory(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, u_char *data, size_t len, void (*free)(void *p))
{
    ngx_buf_t                 *b;
    ngx_pool_cleanup_t        *cln;
    ngx_http_portal_memory_t  *m;

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_portal_memory_t));
    if (cln == NULL) {
        free(data);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    m = cln->data;
    m->data = data;
    m->free = free;

    cln->handler = ngx_http_portal_memory_free;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = data;
    b->last = data + len;
    b->memory = 1;

    return ngx_http_portal_response_send(r, status, type, NULL, b);
}


static void
ngx_http_portal_memory_free(void *data)
{
    ngx_http_portal_memory_t *m = data;

    m->free(m->data);
}


ngx_int_t
ngx_http_portal_response_empty(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    if (ngx_http_portal_response_header_literal(r, "Cache-Control",
                                                "no-store")
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->discard_body == 0 && r->request_body == NULL) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    return ngx_http_send_header(r);
}


ngx_int_t
ngx_http_portal_response_json(ngx_http_request_t *r, ngx_uint_t status,
    json_t *json)
{
    char       *text;
    ngx_int_t   rc;
    ngx_str_t   s;

    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    text = json_dumps(json, JSON_COMPACT);
    json_decref(json);

    if (text == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    s.data = (u_char *) text;
    s.len = ngx_strlen(text);

    rc = ngx_http_portal_response_raw(r, status, &s);

    free(text);

    return rc;
}


ngx_int_t
ngx_http_portal_response_raw(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *text)
{
    ngx_buf_t  *b;

    b = ngx_create_temp_buf(r->pool, text->len + 1);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, text->data, text->len);
    *b->last++ = '\n';

    return ngx_http_portal_response_send(r, status,
                                         &ngx_http_portal_json_type, NULL, b);
}


ngx_int_t
ngx_http_portal_response_error_fields(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message, json_t *fields)
{
    json_t  *err;

    err = json_pack("{s:{s:s, s:s}}", "error", "code", code,
                    "message", message);
    if (err == NULL) {
        json_decref(fields);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (fields) {
        if (json_object_set_new(json_object_get(err, "error"), "fields",
                                fields)
            != 0)
        {
            json_decref(err);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_portal_response_json(r, status, err);
}


ngx_int_t
ngx_http_portal_response_internal(ngx_http_request_t *r)
{
    return ngx_http_portal_response_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                          "internal",
                                          NGX_HTTP_PORTAL_M_INTERNAL);
}
