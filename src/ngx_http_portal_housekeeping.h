
/*
 * Portail Citoyen: housekeeping: what the portal keeps no longer than it
 * needs (spent captchas, old failures, delivered mail after 90 days) goes,
 * on a timer of its own.
 */


#ifndef _NGX_HTTP_PORTAL_HOUSEKEEPING_H_INCLUDED_
#define _NGX_HTTP_PORTAL_HOUSEKEEPING_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"


ngx_int_t ngx_http_portal_housekeeping_init(ngx_cycle_t *cycle,
    ngx_http_portal_main_conf_t *pmcf);


#endif /* _NGX_HTTP_PORTAL_HOUSEKEEPING_H_INCLUDED_ */
