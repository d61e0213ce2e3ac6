
/*
 * Portail Citoyen: delivery of the mail outbox.
 */


#ifndef _NGX_HTTP_PORTAL_OUTBOX_H_INCLUDED_
#define _NGX_HTTP_PORTAL_OUTBOX_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"


/*
 * The mail directives: portal_smtp's setter (the relay resolved when the
 * configuration is read), portal_mail_from's check, and what is settled
 * once the http block is read (the defaults, one way out).
 */
char *ngx_http_portal_outbox_set_smtp(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_portal_outbox_check_from(ngx_conf_t *cf, void *post,
    void *data);
char *ngx_http_portal_outbox_init_conf(ngx_conf_t *cf,
    ngx_http_portal_main_conf_t *pmcf);

/* a worker's outbox: its timer, when mail has a way out */
ngx_int_t ngx_http_portal_outbox_init(ngx_cycle_t *cycle,
    ngx_http_portal_main_conf_t *pmcf);

/* mail was just queued: look at the outbox now rather than at the tick */
void ngx_http_portal_outbox_kick(void);


#endif /* _NGX_HTTP_PORTAL_OUTBOX_H_INCLUDED_ */
