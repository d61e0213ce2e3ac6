
/*
 * Portail Citoyen: JSON responses and the error envelope of API.md:
 * {"error": {"code": "...", "message": "...", "fields": {...}}}.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_json.h"


static ngx_int_t ngx_http_portal_add_header(ngx_http_request_t *r,
    ngx_str_t *name, ngx_str_t *value);


static ngx_str_t  ngx_http_portal_json_type =
    ngx_string("application/json; charset=utf-8");

static ngx_str_t  ngx_http_portal_cache_control = ngx_string("Cache-Control");
static ngx_str_t  ngx_http_portal_no_store = ngx_string("no-store");
static ngx_str_t  ngx_http_portal_nosniff_name =
    ngx_string("X-Content-Type-Options");
static ngx_str_t  ngx_http_portal_nosniff = ngx_string("nosniff");


ngx_int_t
ngx_http_portal_send_json(ngx_http_request_t *r, ngx_uint_t status,
    json_t *json)
{
    char         *text;
    size_t        len;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    text = json_dumps(json, JSON_COMPACT);
    json_decref(json);

    if (text == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_strlen(text);

    b = ngx_create_temp_buf(r->pool, len + 1);
    if (b == NULL) {
        free(text);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, text, len);
    *b->last++ = '\n';
    free(text);

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_type = ngx_http_portal_json_type;
    r->headers_out.content_type_len = ngx_http_portal_json_type.len;
    r->headers_out.content_length_n = b->last - b->pos;

    if (ngx_http_portal_add_header(r, &ngx_http_portal_cache_control,
                                   &ngx_http_portal_no_store)
        != NGX_OK
        || ngx_http_portal_add_header(r, &ngx_http_portal_nosniff_name,
                                      &ngx_http_portal_nosniff)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->discard_body == 0 && r->request_body == NULL) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_portal_send_error_fields(ngx_http_request_t *r, ngx_uint_t status,
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

    return ngx_http_portal_send_json(r, status, err);
}


static ngx_int_t
ngx_http_portal_add_header(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key = *name;
    h->value = *value;

    return NGX_OK;
}
