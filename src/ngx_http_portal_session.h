
/*
 * Portail Citoyen: session cookies, the anti-CSRF token and the check of a
 * citizen's session against PostgreSQL.
 */


#ifndef _NGX_HTTP_PORTAL_SESSION_H_INCLUDED_
#define _NGX_HTTP_PORTAL_SESSION_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"


/* a session opened with a temporary password: it may only set a new one */
#define NGX_HTTP_PORTAL_SESSION_RESET  0x01


ngx_int_t ngx_http_portal_csrf_check(ngx_http_request_t *r);

/*
 * Reads and verifies the session cookie (MAC and expiry; no database):
 * NGX_OK fills ctx->session, NGX_DECLINED when there is none or it is bad.
 */
ngx_int_t ngx_http_portal_session_read(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);

/*
 * The session checked against PostgreSQL (its epoch still current), then
 * next(); 401 "unauthenticated" without a valid one.  Returns as a content
 * handler.
 */
ngx_int_t ngx_http_portal_auth(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_http_portal_handler_pt next);

ngx_int_t ngx_http_portal_session_set(ngx_http_request_t *r,
    const u_char *account_id, uint32_t epoch, ngx_uint_t flags);
ngx_int_t ngx_http_portal_session_clear(ngx_http_request_t *r);

/* 200 {"authenticated", "login", "validated", "csrf_token", ...} */
ngx_int_t ngx_http_portal_session_reply(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);

ngx_int_t ngx_http_portal_variables(ngx_conf_t *cf);


#endif /* _NGX_HTTP_PORTAL_SESSION_H_INCLUDED_ */
