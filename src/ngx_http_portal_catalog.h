
/*
 * Portail Citoyen: the catalog of online procedures, kept in each
 * worker's memory.  It is read on every visit and changes a few times a
 * year: a worker reads it whole (portal.catalog_snapshot()) once, then
 * again when portal.catalog_version() moves, which a timer asks every
 * portal_catalog_interval.  GET catalog and GET procedures/{slug} answer
 * from memory, with the version as ETag; requests are checked against the
 * forms compiled with it.
 */


#ifndef _NGX_HTTP_PORTAL_CATALOG_H_INCLUDED_
#define _NGX_HTTP_PORTAL_CATALOG_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_form.h"
#include "ngx_http_portal_router.h"


typedef struct {
    ngx_str_t                       slug;
    /* procedure_json(), and a newline: GET procedures/{slug} */
    ngx_str_t                       body;
    ngx_uint_t                      requires_account;
    ngx_uint_t                      requires_captcha;
    ngx_http_portal_form_t          form;
} ngx_http_portal_procedure_t;


extern ngx_http_portal_route_t  ngx_http_portal_catalog_routes[];


/* the timer of a worker (init_process) */
ngx_int_t ngx_http_portal_catalog_init(ngx_cycle_t *cycle,
    ngx_http_portal_main_conf_t *pmcf);

/* at a worker's exit: the current catalog goes */
void ngx_http_portal_catalog_exit(void);

/*
 * The catalog for this request, held until it ends, then next(); when the
 * worker has none yet, it is read first (the request waits).  Returns as
 * a handler does.
 */
ngx_int_t ngx_http_portal_catalog_hold(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_http_portal_handler_pt next);

/* a procedure of the catalog held by ctx, or NULL */
ngx_http_portal_procedure_t *ngx_http_portal_catalog_procedure(
    ngx_http_portal_ctx_t *ctx, ngx_str_t *slug);


#endif /* _NGX_HTTP_PORTAL_CATALOG_H_INCLUDED_ */
