
/*
 * Portail Citoyen: method and path to handler.
 */


#ifndef _NGX_HTTP_PORTAL_ROUTER_H_INCLUDED_
#define _NGX_HTTP_PORTAL_ROUTER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"


ngx_int_t ngx_http_portal_route(ngx_http_request_t *r, ngx_uint_t api);


/* the handlers, one file a resource */

ngx_int_t ngx_http_portal_health_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);


#endif /* _NGX_HTTP_PORTAL_ROUTER_H_INCLUDED_ */
