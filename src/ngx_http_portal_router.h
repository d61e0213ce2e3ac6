
/*
 * Portail Citoyen: method and path to a route, and the phases that run
 * before its handler.
 *
 * Each resource file exports its own slice of routes, a table ended by
 * NGX_HTTP_PORTAL_ROUTES_END; _api.c lists the slices of each API.  A
 * pattern is relative to the portal_api location; "{uuid}" matches a UUID
 * (given to the handler lowercased), "{id}" any opaque id of letters,
 * digits, "-" and "_".  A path that has a route's shape but an id of the
 * wrong kind gets the route's 404, without asking PostgreSQL.
 */


#ifndef _NGX_HTTP_PORTAL_ROUTER_H_INCLUDED_
#define _NGX_HTTP_PORTAL_ROUTER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"


#define NGX_HTTP_PORTAL_READ  (NGX_HTTP_GET|NGX_HTTP_HEAD)
#define NGX_HTTP_PORTAL_UNSAFE                                               \
    (NGX_HTTP_POST|NGX_HTTP_PUT|NGX_HTTP_PATCH|NGX_HTTP_DELETE)


/* what a route does with the request body */
#define NGX_HTTP_PORTAL_BODY_NONE    0   /* discarded */
#define NGX_HTTP_PORTAL_BODY_JSON    1   /* a JSON object, in ctx->json */
#define NGX_HTTP_PORTAL_BODY_STREAM  2   /* the handler reads it */

/* who may use a route */
#define NGX_HTTP_PORTAL_OPEN         0   /* anybody */
#define NGX_HTTP_PORTAL_CITIZEN      1   /* a citizen's checked session */
#define NGX_HTTP_PORTAL_VALIDATED    2   /* ... of a validated account */
#define NGX_HTTP_PORTAL_RESET        3   /* ... or of a temporary password */
#define NGX_HTTP_PORTAL_ANYONE       4   /* anybody; a session sent: checked */
#define NGX_HTTP_PORTAL_AGENT        5   /* an agent's checked session */
/*
 * ... a citizen's, as NGX_HTTP_PORTAL_CITIZEN, checked by the route's own
 * statement in the same round trip (_session.c): its parameters begin
 * with the session's account and epoch, its row ends with the login, and
 * it has no row when the session is over.  The route's SQL reads nothing
 * for such a session: its resource is a column of session_check()'s row.
 */
#define NGX_HTTP_PORTAL_CITIZEN_INLINE  6


/* an answer of the error envelope */
typedef struct {
    const char                     *code;
    const char                     *message;
} ngx_http_portal_fault_t;


struct ngx_http_portal_route_s {
    ngx_uint_t                      methods;
    const char                     *pattern;
    ngx_http_portal_handler_pt      handler;
    ngx_uint_t                      body;
    ngx_uint_t                      access;
    /* for the handler: a resource, a form... */
    const void                     *data;
    /* the 404 of an id that is not there (NULL: the generic one) */
    const ngx_http_portal_fault_t  *missing;
};

#define NGX_HTTP_PORTAL_ROUTES_END  { 0, NULL, NULL, 0, 0, NULL, NULL }


/*
 * An API: its routes, and its phases in order.  A phase returns
 * NGX_DECLINED to let the next one run; or NGX_DONE while it waits, and
 * then calls ngx_http_portal_router_next() when it is done; or an answer.
 */
typedef struct {
    ngx_http_portal_route_t       **slices;
    ngx_http_portal_handler_pt     *phases;
} ngx_http_portal_api_t;


ngx_int_t ngx_http_portal_router_run(ngx_http_request_t *r,
    const ngx_http_portal_api_t *api);

/* after a phase that waited: the next phases, then the handler */
ngx_int_t ngx_http_portal_router_next(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);

/* the route's 404 (an id of no such thing, or not the citizen's) */
ngx_int_t ngx_http_portal_router_missing(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);


#endif /* _NGX_HTTP_PORTAL_ROUTER_H_INCLUDED_ */
