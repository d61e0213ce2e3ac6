
/*
 * Portail Citoyen: the two APIs a portal_api location serves, the
 * citizens' and the agents', each a list of route slices and of phases.
 */


#ifndef _NGX_HTTP_PORTAL_API_H_INCLUDED_
#define _NGX_HTTP_PORTAL_API_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"


/* the values of portal_api: citizen, agent */
extern ngx_conf_enum_t  ngx_http_portal_api_kinds[];

/*
 * The portal_api directive: the API chosen, and the location's content
 * handler set to run its routes.
 */
char *ngx_http_portal_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);


#endif /* _NGX_HTTP_PORTAL_API_H_INCLUDED_ */
