
/*
 * Portail Citoyen: GET requests/{id}.pdf, a request as a PDF for its
 * citizen, drawn on the thread pool (_pdf_render.c); and the posting of
 * any PDF to that pool, which the letters' route uses too (_pdf_letter.c).
 */


#ifndef _NGX_HTTP_PORTAL_PDF_H_INCLUDED_
#define _NGX_HTTP_PORTAL_PDF_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_pdf_render.h"


/* a renderer: ngx_http_portal_pdf_render(), or one with its contract */
typedef int (*ngx_http_portal_pdf_render_pt)(const json_t *doc,
    const ngx_http_portal_pdf_town_t *town, u_char **pdf, size_t *len,
    char *err, size_t errlen);


/* what differs between the PDFs of the routes: static, read by threads */
typedef struct {
    /* in the logs: "request" gives "no PDF of the request" */
    const char                     *noun;
    /* the work, to the thread pool's logs: "a request's PDF" */
    const char                     *what;
    /* "demande": the file is saved as "demande-2026-000123.pdf" */
    const char                     *file;
    /* the JSON object whose "reference" names the file; NULL: the root */
    const char                     *holder;
    ngx_http_portal_pdf_render_pt   render;
} ngx_http_portal_pdf_kind_t;


extern ngx_http_portal_route_t  ngx_http_portal_pdf_routes[];


/*
 * In a worker's init_process, never in the master: the font configuration
 * loaded once; a failure is logged, and PDFs then answer 500.
 */
void ngx_http_portal_pdf_init_process(ngx_cycle_t *cycle);

/* at a worker's exit, after nginx has ended its pool threads */
void ngx_http_portal_pdf_exit_process(ngx_cycle_t *cycle);

/*
 * From a database callback, the request suspended and its id in
 * ctx->params[0]: a copy of the document's JSON (doc, len) and the town's
 * lines go to a thread of portal_pdf_thread_pool, and the PDF made is
 * sent inline.  The request is finalized in every case: 503 with
 * Retry-After when that pool's queue is full, 500 on a failure.
 */
void ngx_http_portal_pdf_post(ngx_http_request_t *r,
    const ngx_http_portal_pdf_kind_t *kind, u_char *doc, size_t len);


#endif /* _NGX_HTTP_PORTAL_PDF_H_INCLUDED_ */
