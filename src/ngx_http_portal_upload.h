
/*
 * Portail Citoyen: uploads: a request body read through the multipart
 * parser (_multipart.c), from nginx's memory buffers or its temporary
 * file, into a supporting document ("file" and "kind").
 */


#ifndef _NGX_HTTP_PORTAL_UPLOAD_H_INCLUDED_
#define _NGX_HTTP_PORTAL_UPLOAD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_multipart.h"


typedef struct {
    /* UTF-8 without control characters, 1 to 64 bytes, NUL-terminated */
    ngx_str_t                       kind;
    /* a display name (never a path), NUL-terminated */
    ngx_str_t                       filename;
    /* one of the three types of ngx_http_portal_multipart_sniff() */
    ngx_str_t                       content_type;
    ngx_str_t                       content;
    u_char                          sha256[32];
    /* its hex, NUL-terminated */
    u_char                          sha256_hex[65];
} ngx_http_portal_upload_t;


typedef ngx_int_t (*ngx_http_portal_upload_pt)(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_http_portal_upload_t *up);


/*
 * Reads a multipart/form-data body with the fields "file" (a PDF, JPEG or
 * PNG of at most portal_upload_max_size) and "kind", then calls next()
 * (which returns as a content handler would); ctx->data is left as it was.
 * Answers by itself otherwise: 415 "unsupported_media_type" for another
 * Content-Type, 400 "bad_multipart", 413 "too_large", 422 with "fields",
 * 415 "unsupported_type" for content of another type.  Returns as a content
 * handler.
 */
ngx_int_t ngx_http_portal_upload_read(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_http_portal_upload_pt next);


#endif /* _NGX_HTTP_PORTAL_UPLOAD_H_INCLUDED_ */
