
/*
 * Portail Citoyen: the citizen's session, and the agent's: the access
 * phase of the routes (the session checked against PostgreSQL), the
 * session routes (log in, who am I, log out) and $portal_login.
 */


#ifndef _NGX_HTTP_PORTAL_SESSION_H_INCLUDED_
#define _NGX_HTTP_PORTAL_SESSION_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_credentials.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_router.h"


/*
 * Whose session: a citizen's (the citizens' API) or an agent's (the
 * agents' API, _agent_session.c).  The routes, the cookie (_cookie.c
 * names and keys it by API), the check on every request and the log-in
 * through _credentials.c are the same; what differs is here.
 */
typedef struct {
    /* ($1 id, $2 epoch): one row, login first, while the cookie opens */
    ngx_http_portal_sql_t                     *check;
    /* ($1 id, $2 epoch): log out, the epoch moves on */
    ngx_http_portal_sql_t                     *end;
    /* ($1 id): after the right password */
    ngx_http_portal_sql_t                     *open;
    const ngx_http_portal_credentials_kind_t  *credentials;

    /* the columns after the login of check's row into ctx->session */
    ngx_int_t                                (*read)(ngx_http_request_t *r,
                                                   ngx_http_portal_ctx_t *ctx,
                                                   PGresult *res);
    /* open's row is read as check's */
    ngx_uint_t                                 open_reads;

    /* GET session's answer, with the anti-CSRF token; NULL: no memory */
    json_t                                  *(*json)(
                                                   ngx_http_portal_ctx_t *ctx,
                                                   ngx_str_t *token);
} ngx_http_portal_session_kind_t;


/* log in, who am I, log out: in both APIs */
extern ngx_http_portal_route_t  ngx_http_portal_session_routes[];


/*
 * The phase: for a route that needs a citizen or an agent, the session
 * checked in PostgreSQL (its epoch still the account's or the agent's),
 * then what the route allows: 401 without a session, 403 for a temporary
 * password's session or an account not validated yet.  A route of access
 * NGX_HTTP_PORTAL_CITIZEN_INLINE has its cookie read here, and the check
 * done by its own statement.
 */
ngx_int_t ngx_http_portal_session_phase(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);

/*
 * A route of access NGX_HTTP_PORTAL_CITIZEN_INLINE (router.h): its
 * statement checks the session, unless the phase did it already (a
 * temporary password's session).  1: the statement must check it; its
 * row is read by _resource.c.
 */
ngx_uint_t ngx_http_portal_session_inline(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);

/*
 * From the handler of such a route, to answer before its statement (bad
 * input): the separate check, then the handler again with ctx->auth set.
 */
ngx_int_t ngx_http_portal_session_require(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);

/* 200 {"authenticated", "login", "validated", "csrf_token", ...} */
ngx_int_t ngx_http_portal_session_reply(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);

/* $portal_login, for the module's preconfiguration */
extern ngx_http_variable_t  ngx_http_portal_session_variables[];


#endif /* _NGX_HTTP_PORTAL_SESSION_H_INCLUDED_ */
