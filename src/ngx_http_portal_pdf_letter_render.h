
/*
 * Portail Citoyen: a letter to a citizen who chose the post, as a PDF to
 * print (A4, French, for a window envelope), drawn with cairo and pango
 * in a pool thread.  Plain C, as the request's renderer whose helpers it
 * shares (_pdf_render.c, _pdf_text.c, _pdf_page.c): t/pdf builds it alone.
 */


#ifndef _NGX_HTTP_PORTAL_PDF_LETTER_RENDER_H_INCLUDED_
#define _NGX_HTTP_PORTAL_PDF_LETTER_RENDER_H_INCLUDED_


#include "ngx_http_portal_pdf_render.h"


/*
 * doc: portal.agent_letter()'s JSON (sql/functions/130_agent_messages.sql):
 * {subject, body, date_text, due_at, recipient_lines | recipient,
 * request: {reference}}.  As ngx_http_portal_pdf_render(): any number of
 * threads at once; 0 and the PDF in *pdf (malloc()ed, the caller free()s
 * it), or -1 and a short reason in err, never with the letter's text in
 * it.  ngx_http_portal_pdf_init() and ngx_http_portal_pdf_exit() serve
 * both renderers.
 */
int ngx_http_portal_pdf_letter_render(const json_t *doc,
    const ngx_http_portal_pdf_town_t *town, u_char **pdf, size_t *len,
    char *err, size_t errlen);


#endif /* _NGX_HTTP_PORTAL_PDF_LETTER_RENDER_H_INCLUDED_ */
