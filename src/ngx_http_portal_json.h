
/*
 * Portail Citoyen: JSON responses and the error envelope of API.md.
 */


#ifndef _NGX_HTTP_PORTAL_JSON_H_INCLUDED_
#define _NGX_HTTP_PORTAL_JSON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>


/* both take the reference to json (it is released here) */
ngx_int_t ngx_http_portal_send_json(ngx_http_request_t *r,
    ngx_uint_t status, json_t *json);
ngx_int_t ngx_http_portal_send_error_fields(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *message,
    json_t *fields);

#define ngx_http_portal_send_error(r, status, code, message)                 \
    ngx_http_portal_send_error_fields(r, status, code, message, NULL)


#endif /* _NGX_HTTP_PORTAL_JSON_H_INCLUDED_ */
