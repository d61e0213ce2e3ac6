
/*
 * Portail Citoyen: delivery of the mail outbox.
 */


#ifndef _NGX_HTTP_PORTAL_OUTBOX_H_INCLUDED_
#define _NGX_HTTP_PORTAL_OUTBOX_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"


ngx_int_t ngx_http_portal_outbox_init(ngx_cycle_t *cycle,
    ngx_http_portal_main_conf_t *pmcf);

/* mail was just queued: look at the outbox now rather than at the tick */
void ngx_http_portal_outbox_kick(void);


#endif /* _NGX_HTTP_PORTAL_OUTBOX_H_INCLUDED_ */
