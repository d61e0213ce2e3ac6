
/*
 * Portail Citoyen: the citizen's session: the access phase of the routes
 * (the session checked against PostgreSQL), the session routes (log in,
 * who am I, log out) and $portal_login.
 */


#ifndef _NGX_HTTP_PORTAL_SESSION_H_INCLUDED_
#define _NGX_HTTP_PORTAL_SESSION_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_router.h"


extern ngx_http_portal_route_t  ngx_http_portal_session_routes[];


/*
 * The phase: for a route that needs a citizen, the session checked in
 * PostgreSQL (its epoch still the account's), then what the route allows:
 * 401 without a session, 403 for a temporary password's session or an
 * account not validated yet.
 */
ngx_int_t ngx_http_portal_session_phase(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);

/* 200 {"authenticated", "login", "validated", "csrf_token", ...} */
ngx_int_t ngx_http_portal_session_reply(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);

/* $portal_login, for the module's preconfiguration */
extern ngx_http_variable_t  ngx_http_portal_session_variables[];


#endif /* _NGX_HTTP_PORTAL_SESSION_H_INCLUDED_ */
