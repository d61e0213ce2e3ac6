
/*
 * Portail Citoyen: the audit log in the agents' API (admins only).
 *
 *     GET audit?agent=&account=&request=&page=&limit=
 *
 * Who read or did what on a citizen's file, when, and from which
 * address, newest first: sql/functions/140_agent_audit.sql.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_agent.h"
#include "ngx_http_portal_agent_audit.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_resource.h"
#include "ngx_http_portal_router.h"


static const ngx_http_portal_sql_error_t  ngx_http_portal_agent_audit_errors[]
= {
    NGX_HTTP_PORTAL_AGENT_SQL_ERRORS,
    NGX_HTTP_PORTAL_SQL_ERRORS_END
};


static const ngx_http_portal_agent_arg_t  ngx_http_portal_agent_audit_args[]
= {
    { "agent", NGX_HTTP_PORTAL_ARG_UUID, 0 },
    { "account", NGX_HTTP_PORTAL_ARG_UUID, 0 },
    { "request", NGX_HTTP_PORTAL_ARG_UUID, 0 },
    NGX_HTTP_PORTAL_AGENT_PAGE_ARGS,
    NGX_HTTP_PORTAL_AGENT_ARGS_END
};


static ngx_http_portal_agent_route_t  ngx_http_portal_agent_audit = {
    { { "portal_agent_audit",
        "SELECT portal.agent_audit(portal.agent_at($1, $2), $3, $4, $5, $6,"
        " $7)",
        7, 0 },
      NGX_HTTP_OK, NULL, ngx_http_portal_agent_audit_errors, 0 },
    ngx_http_portal_agent_audit_args, NULL, 0, NULL, 0
};


ngx_http_portal_route_t  ngx_http_portal_agent_audit_routes[] = {

    { NGX_HTTP_PORTAL_READ, "audit", ngx_http_portal_agent_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_AGENT,
      &ngx_http_portal_agent_audit, NULL },

    NGX_HTTP_PORTAL_ROUTES_END
};
