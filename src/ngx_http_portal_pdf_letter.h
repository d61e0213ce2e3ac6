
/*
 * Portail Citoyen: GET letters/{id}.pdf, in the agents' API, a letter to
 * print, drawn on the PDF thread pool (_pdf_letter_render.c).
 */


#ifndef _NGX_HTTP_PORTAL_PDF_LETTER_H_INCLUDED_
#define _NGX_HTTP_PORTAL_PDF_LETTER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_router.h"


extern ngx_http_portal_route_t  ngx_http_portal_letter_pdf_routes[];


#endif /* _NGX_HTTP_PORTAL_PDF_LETTER_H_INCLUDED_ */
