
/*
 * Portail Citoyen: the session cookie, the anti-CSRF cookie and token, and
 * the keys derived from portal_secret_file.
 */


#ifndef _NGX_HTTP_PORTAL_COOKIE_H_INCLUDED_
#define _NGX_HTTP_PORTAL_COOKIE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"


/* a session opened with a temporary password: it may only set a new one */
#define NGX_HTTP_PORTAL_SESSION_RESET  0x01


/* a key of its own for each purpose, from portal_secret_file */
void ngx_http_portal_cookie_key(ngx_http_request_t *r, const char *purpose,
    u_char *key);

/*
 * The phase: two cookies of a name get 400; an unsafe method without the
 * right X-CSRF-Token gets 403.
 */
ngx_int_t ngx_http_portal_cookie_phase(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);

/*
 * The anti-CSRF token for this answer: of the anti-CSRF cookie (a new one
 * if there is none), and of the session when ctx->auth.
 */
ngx_int_t ngx_http_portal_cookie_csrf_token(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_str_t *token);

/* a new anti-CSRF cookie: at each log-in and log-out */
ngx_int_t ngx_http_portal_cookie_csrf_renew(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);

/*
 * Reads and verifies the session cookie (MAC and expiry; no database):
 * NGX_OK fills ctx->session, NGX_DECLINED when there is none or it is bad.
 */
ngx_int_t ngx_http_portal_cookie_session(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);

/* whether the request carries a session cookie at all, good or not */
ngx_uint_t ngx_http_portal_cookie_has_session(ngx_http_request_t *r);

ngx_int_t ngx_http_portal_cookie_session_set(ngx_http_request_t *r,
    const u_char *account_id, uint32_t epoch, ngx_uint_t flags);
ngx_int_t ngx_http_portal_cookie_session_clear(ngx_http_request_t *r);

/* the session's epoch (ctx->session), as a statement's parameter */
ngx_int_t ngx_http_portal_cookie_session_epoch(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_str_t *epoch);


#endif /* _NGX_HTTP_PORTAL_COOKIE_H_INCLUDED_ */
