
/*
 * Portail Citoyen: GET requests/{id}.pdf, a request as a PDF for its
 * citizen, drawn on the thread pool (_pdf_render.c).
 */


#ifndef _NGX_HTTP_PORTAL_PDF_H_INCLUDED_
#define _NGX_HTTP_PORTAL_PDF_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_router.h"


extern ngx_http_portal_route_t  ngx_http_portal_pdf_routes[];


/*
 * In a worker's init_process, never in the master: the font configuration
 * loaded once; a failure is logged, and PDFs then answer 500.
 */
void ngx_http_portal_pdf_init_process(ngx_cycle_t *cycle);

/* at a worker's exit, after nginx has ended its pool threads */
void ngx_http_portal_pdf_exit_process(ngx_cycle_t *cycle);


#endif /* _NGX_HTTP_PORTAL_PDF_H_INCLUDED_ */
