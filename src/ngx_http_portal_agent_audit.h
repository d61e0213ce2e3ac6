
/*
 * Portail Citoyen: the agents' API: see ngx_http_portal_agent_audit.c.
 */


#ifndef _NGX_HTTP_PORTAL_AGENT_AUDIT_H_INCLUDED_
#define _NGX_HTTP_PORTAL_AGENT_AUDIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_router.h"


extern ngx_http_portal_route_t  ngx_http_portal_agent_audit_routes[];


#endif /* _NGX_HTTP_PORTAL_AGENT_AUDIT_H_INCLUDED_ */
