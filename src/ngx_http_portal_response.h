
/*
 * Portail Citoyen: every answer of the module: a header, a buffer, a JSON
 * document, the error envelope of API.md.
 */


#ifndef _NGX_HTTP_PORTAL_RESPONSE_H_INCLUDED_
#define _NGX_HTTP_PORTAL_RESPONSE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_portal_module.h"


/* a response header; value must live as long as the request */
ngx_int_t ngx_http_portal_response_header(ngx_http_request_t *r,
    const char *name, u_char *value, size_t len);

#define ngx_http_portal_response_header_literal(r, name, value)              \
    ngx_http_portal_response_header(r, name, (u_char *) value,               \
                                    sizeof(value) - 1)

/*
 * The one sender: status, type, Cache-Control (NULL: "no-store"),
 * nosniff, the length of b (a single buffer of the request's pool, or
 * memory that a pool cleanup frees).
 */
ngx_int_t ngx_http_portal_response_send(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *type, const char *cache, ngx_buf_t *b);

/*
 * The same, headers only, for a body of length bytes that the caller then
 * sends in pieces with ngx_http_output_filter() (a document's chunks).
 * Returns as ngx_http_send_header().
 */
ngx_int_t ngx_http_portal_response_start(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *type, const char *cache, off_t length);

/*
 * Memory of the heap (a picture, a sound), sent as it is and given back
 * to free() when the request ends; on failure it is freed at once.
 */
ngx_int_t ngx_http_portal_response_memory(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *type, u_char *data, size_t len,
    void (*free)(void *p));

/* both take the reference to json (it is released here) */
ngx_int_t ngx_http_portal_response_json(ngx_http_request_t *r,
    ngx_uint_t status, json_t *json);
ngx_int_t ngx_http_portal_response_error_fields(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *message,
    json_t *fields);

/* 204, no body: what was asked is done, nothing is left to show */
ngx_int_t ngx_http_portal_response_empty(ngx_http_request_t *r);

/* a JSON document already serialised (by PostgreSQL), copied */
ngx_int_t ngx_http_portal_response_raw(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *text);

#define ngx_http_portal_response_error(r, status, code, message)             \
    ngx_http_portal_response_error_fields(r, status, code, message, NULL)

/* 422 "invalid" with the fields to correct */
#define ngx_http_portal_response_invalid(r, message, fields)                 \
    ngx_http_portal_response_error_fields(r,                                 \
                                          NGX_HTTP_UNPROCESSABLE_ENTITY,     \
                                          "invalid", message, fields)

/* 404 "not_found": the message says what is not there */
#define ngx_http_portal_response_not_found(r, message)                       \
    ngx_http_portal_response_error(r, NGX_HTTP_NOT_FOUND, "not_found",       \
                                   message)

/* 500 "internal": the cause goes to the error log, not to the client */
ngx_int_t ngx_http_portal_response_internal(ngx_http_request_t *r);

/* $portal_nosniff, for the module's preconfiguration */
extern ngx_http_variable_t  ngx_http_portal_response_variables[];


#endif /* _NGX_HTTP_PORTAL_RESPONSE_H_INCLUDED_ */
