
/*
 * Portail Citoyen: citizen accounts: the security questions, the creation
 * of an account (seed flow A), the "Compte" tab (the holder and the
 * household's members) and the export of everything held on an account.
 */


#ifndef _NGX_HTTP_PORTAL_ACCOUNT_H_INCLUDED_
#define _NGX_HTTP_PORTAL_ACCOUNT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_router.h"


extern ngx_http_portal_route_t  ngx_http_portal_account_routes[];


#endif /* _NGX_HTTP_PORTAL_ACCOUNT_H_INCLUDED_ */
