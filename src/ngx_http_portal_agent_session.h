
/*
 * Portail Citoyen: an agent's session, as _session.c runs it in the
 * agents' API: the statements of sql/functions/100_agents.sql and the
 * answer of GET session.
 */


#ifndef _NGX_HTTP_PORTAL_AGENT_SESSION_H_INCLUDED_
#define _NGX_HTTP_PORTAL_AGENT_SESSION_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_session.h"


extern const ngx_http_portal_session_kind_t  ngx_http_portal_agent_session;


#endif /* _NGX_HTTP_PORTAL_AGENT_SESSION_H_INCLUDED_ */
