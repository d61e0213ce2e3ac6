
/*
 * Portail Citoyen: a supporting document sent back from its chunks in
 * PostgreSQL (_store.c), a few at a time.
 */


#ifndef _NGX_HTTP_PORTAL_DOWNLOAD_H_INCLUDED_
#define _NGX_HTTP_PORTAL_DOWNLOAD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"


/*
 * The handler of a route whose data is a store (ngx_http_portal_store_t):
 * the document's file with the type found in its bytes, as an attachment
 * (its name RFC 8187-encoded), nosniff, not kept; the route's 404 when
 * the statement gives no chunk.
 */
ngx_int_t ngx_http_portal_download_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);


#endif /* _NGX_HTTP_PORTAL_DOWNLOAD_H_INCLUDED_ */
