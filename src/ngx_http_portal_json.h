
/*
 * Portail Citoyen: JSON responses and the error envelope of API.md.
 */


#ifndef _NGX_HTTP_PORTAL_JSON_H_INCLUDED_
#define _NGX_HTTP_PORTAL_JSON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_portal_module.h"


/*
 * Reads the whole request body as a JSON object into ctx->json, then calls
 * next() (which returns as a content handler would).  A body that is not a
 * JSON object gets 400, another Content-Type 415, and next() is not called.
 */
ngx_int_t ngx_http_portal_read_json(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_http_portal_handler_pt next);

/* the whole body in one buffer of the request's pool */
ngx_int_t ngx_http_portal_body(ngx_http_request_t *r, ngx_str_t *body);

/* both take the reference to json (it is released here) */
ngx_int_t ngx_http_portal_send_json(ngx_http_request_t *r,
    ngx_uint_t status, json_t *json);
ngx_int_t ngx_http_portal_send_error_fields(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *message,
    json_t *fields);

/* a JSON document already serialised (by PostgreSQL) */
ngx_int_t ngx_http_portal_send_raw(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *text);

#define ngx_http_portal_send_error(r, status, code, message)                 \
    ngx_http_portal_send_error_fields(r, status, code, message, NULL)


#endif /* _NGX_HTTP_PORTAL_JSON_H_INCLUDED_ */
