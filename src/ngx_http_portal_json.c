
/*
 * Portail Citoyen: JSON responses and the error envelope of API.md:
 * {"error": {"code": "...", "message": "...", "fields": {...}}}.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_json.h"


static void ngx_http_portal_json_body(ngx_http_request_t *r);
static void ngx_http_portal_json_free(void *data);
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
ngx_http_portal_read_json(ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx,
    ngx_http_portal_handler_pt next)
{
    ngx_int_t    rc;
    ngx_str_t   *type;

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

        return ngx_http_portal_send_error(r,
                                          NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                          "unsupported_media_type",
                                          "Les données doivent être"
                                          " envoyées en JSON"
                                          " (application/json).");
    }

    ctx->next = next;

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
    ngx_int_t               rc;
    ngx_str_t               body;
    json_t                 *json;
    json_error_t            err;
    ngx_pool_cleanup_t     *cln;
    ngx_http_portal_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    if (ngx_http_portal_body(r, &body) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    json = json_loadb((char *) body.data, body.len,
                      JSON_REJECT_DUPLICATES, &err);

    if (json == NULL || !json_is_object(json)) {
        json_decref(json);
        ngx_http_finalize_request(r,
            ngx_http_portal_send_error(r, NGX_HTTP_BAD_REQUEST, "bad_json",
                                       "Le corps de la requête n'est pas"
                                       " un objet JSON valide."));
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

    rc = ctx->next(r, ctx);

    ngx_http_finalize_request(r, rc);
}


ngx_int_t
ngx_http_portal_body(ngx_http_request_t *r, ngx_str_t *body)
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

    /* JSON bodies are small: client_max_body_size bounds them */

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


ngx_int_t
ngx_http_portal_send_json(ngx_http_request_t *r, ngx_uint_t status,
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

    rc = ngx_http_portal_send_raw(r, status, &s);

    free(text);

    return rc;
}


ngx_int_t
ngx_http_portal_send_raw(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *text)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    b = ngx_create_temp_buf(r->pool, text->len + 1);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, text->data, text->len);
    *b->last++ = '\n';

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
