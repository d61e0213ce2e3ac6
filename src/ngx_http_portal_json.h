
/*
 * Portail Citoyen: the body phase: a route's JSON body read and parsed
 * into ctx->json, or the body discarded, or left to the handler.
 */


#ifndef _NGX_HTTP_PORTAL_JSON_H_INCLUDED_
#define _NGX_HTTP_PORTAL_JSON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"


/*
 * A body that is not a JSON object gets 400, another Content-Type 415,
 * and the route's handler does not run.
 */
ngx_int_t ngx_http_portal_json_phase(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);


#endif /* _NGX_HTTP_PORTAL_JSON_H_INCLUDED_ */
