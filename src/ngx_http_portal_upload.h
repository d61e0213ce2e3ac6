
/*
 * Portail Citoyen: uploads: a multipart/form-data body ("file" and
 * "kind") read as it comes through the multipart parser (_multipart.c),
 * its file streamed into PostgreSQL in chunks (_store.c).
 */


#ifndef _NGX_HTTP_PORTAL_UPLOAD_H_INCLUDED_
#define _NGX_HTTP_PORTAL_UPLOAD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"


/*
 * The handler of an upload route whose data is a store
 * (ngx_http_portal_store_t, route body NGX_HTTP_PORTAL_BODY_STREAM): the
 * fields "file" (a PDF, JPEG or PNG of at most portal_upload_max_size)
 * and "kind", in either order, then 201 with the document.  Refused: 415
 * "unsupported_media_type" for another Content-Type, 400 "bad_multipart",
 * 413 "too_large", 422 with "fields", 415 "unsupported_type" for content
 * of another type, and what the store's statements refuse.
 */
ngx_int_t ngx_http_portal_upload_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);


#endif /* _NGX_HTTP_PORTAL_UPLOAD_H_INCLUDED_ */
