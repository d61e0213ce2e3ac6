
/*
 * Portail Citoyen: what the agents' routes share.  Each is a resource
 * (_resource.c: one SQL function of sql/functions/1NN, its JSON sent as it
 * comes, its refusals mapped as data) with, as data too, the query-string
 * parameters a list takes and the fields of a JSON body.  The statement's
 * parameters are, in this order: the agent (the session's), the path's
 * ids, the client's address (the audit log's "from where"), the query's
 * parameters in the table's order, the body's fields in the table's
 * order (each NULL when absent), then portal_public_url when the route
 * says so (the links of the citizen's mail).
 *
 * The address reaches the audit log through portal.agent_at($agent,
 * $addr), written in the statement as the agent's argument: it sets the
 * transaction-local portal.agent_addr that portal.audit() records, and
 * gives the agent back (sql/012_audit_address.sql says why).
 */


#ifndef _NGX_HTTP_PORTAL_AGENT_H_INCLUDED_
#define _NGX_HTTP_PORTAL_AGENT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_check.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_resource.h"
#include "ngx_http_portal_router.h"


/* a query-string parameter's kind */
#define NGX_HTTP_PORTAL_ARG_TEXT     1   /* UTF-8 text, at most max bytes */
#define NGX_HTTP_PORTAL_ARG_BOOLEAN  2   /* true or false */
#define NGX_HTTP_PORTAL_ARG_LIMIT    3   /* 1 to 200 */
#define NGX_HTTP_PORTAL_ARG_UUID     4   /* an id */

/* the fields of a body, at most */
#define NGX_HTTP_PORTAL_AGENT_FIELDS  6


typedef struct {
    const char                         *name;
    ngx_uint_t                          kind;
    size_t                              max;
} ngx_http_portal_agent_arg_t;

#define NGX_HTTP_PORTAL_AGENT_ARGS_END  { NULL, 0, 0 }

/* ?page= and ?limit= of every list, and the page's 400 */
#define NGX_HTTP_PORTAL_AGENT_PAGE_ARGS                                      \
    { "page", NGX_HTTP_PORTAL_ARG_TEXT, 100 },                               \
    { "limit", NGX_HTTP_PORTAL_ARG_LIMIT, 0 }


/* a body's values, each an ngx_str_t (data NULL: absent) */
typedef struct {
    ngx_str_t                           value[NGX_HTTP_PORTAL_AGENT_FIELDS];
} ngx_http_portal_agent_input_t;

#define NGX_HTTP_PORTAL_AGENT_FIELD(n)                                       \
    (ngx_int_t) (offsetof(ngx_http_portal_agent_input_t, value)              \
                 + (n) * sizeof(ngx_str_t))


typedef struct {
    ngx_http_portal_resource_t          resource;
    /* the query string's parameters (NULL: none) */
    const ngx_http_portal_agent_arg_t  *args;
    /* the JSON body's fields (NULL: none), at NGX_HTTP_PORTAL_AGENT_FIELD */
    const ngx_http_portal_field_t      *fields;
    ngx_uint_t                          nfields;
    /* a rule the table cannot say, on the checked values (NULL: none) */
    void                              (*rule)(ngx_http_portal_check_t *ck,
                                          ngx_http_portal_agent_input_t *in);
    /* portal_public_url is the last parameter */
    ngx_uint_t                          url;
} ngx_http_portal_agent_route_t;


/* what every agent's function may raise (100_agents.sql) */
#define NGX_HTTP_PORTAL_AGENT_SQL_ERRORS                                     \
    { "P0001", "agent_session", NGX_HTTP_UNAUTHORIZED, "unauthenticated",    \
      NGX_HTTP_PORTAL_M_SESSION_OVER, NULL, NULL, 0 },                       \
    { "P0001", "agent_role", NGX_HTTP_FORBIDDEN, "forbidden",                \
      NGX_HTTP_PORTAL_M_AGENT_ROLE, NULL, NULL, 0 },                         \
    { "P0001", "agent_page", NGX_HTTP_BAD_REQUEST, "bad_page",               \
      NGX_HTTP_PORTAL_M_AGENT_PAGE, NULL, NULL, 0 }


/* the 404 of a document of an account or of a request */
extern ngx_http_portal_fault_t  ngx_http_portal_agent_document_missing;


/* the handler of a route whose data is an ngx_http_portal_agent_route_t */
ngx_int_t ngx_http_portal_agent_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);

/* whether text is a time of ISO 8601 with its offset (or Z) */
ngx_uint_t ngx_http_portal_agent_iso8601(ngx_str_t *text);


#endif /* _NGX_HTTP_PORTAL_AGENT_H_INCLUDED_ */
