
/*
 * Portail Citoyen: a request made without an account (seed flow B, and
 * civil-status certificates): the applicant's details and a captcha, and
 * with a follow-up the account made in the same transaction, its session
 * opened at once.
 */


#ifndef _NGX_HTTP_PORTAL_REQUEST_ANONYMOUS_H_INCLUDED_
#define _NGX_HTTP_PORTAL_REQUEST_ANONYMOUS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"


/* POST requests without a session, once the catalog is held */
ngx_int_t ngx_http_portal_request_anonymous(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);


#endif /* _NGX_HTTP_PORTAL_REQUEST_ANONYMOUS_H_INCLUDED_ */
