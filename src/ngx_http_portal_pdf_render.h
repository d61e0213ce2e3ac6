
/*
 * Portail Citoyen: a request as a PDF (A4, French), drawn with cairo and
 * pango in a pool thread.  Plain C: no nginx type or function, so that
 * t/pdf builds the renderer alone.
 */


#ifndef _NGX_HTTP_PORTAL_PDF_RENDER_H_INCLUDED_
#define _NGX_HTTP_PORTAL_PDF_RENDER_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>

#include <jansson.h>


#define NGX_HTTP_PORTAL_PDF_ADDRESS_MAX  4
#define NGX_HTTP_PORTAL_PDF_ERRLEN       128


/* the town hall printed at the top of the first page: UTF-8, NUL-ended */
typedef struct {
    const char                     *name;
    const char                     *service;
    /* postal address lines; NULL ones are skipped */
    const char                     *address[NGX_HTTP_PORTAL_PDF_ADDRESS_MAX];
    /* the portal's public URL, or NULL */
    const char                     *url;
} ngx_http_portal_pdf_town_t;


/*
 * Once per process, in a worker (never in the master: pango starts a
 * thread to load fontconfig's configuration): loads the font
 * configuration and checks that "DejaVu Sans" is installed.  Returns 0, or
 * -1 and a reason in err.  Optional: the renderer does it on first use.
 */
int ngx_http_portal_pdf_init(char *err, size_t errlen);

/*
 * In the calling thread, any number of threads at once.  Returns 0, the
 * PDF in *pdf (malloc()ed: the caller free()s it) and its size; or -1 and
 * a short reason in err, never with the citizen's data in it.
 */
int ngx_http_portal_pdf_render(const json_t *doc,
    const ngx_http_portal_pdf_town_t *town, u_char **pdf, size_t *len,
    char *err, size_t errlen);

/*
 * At the process's exit, once no thread draws any more (nginx has ended
 * its pool threads): the threads' font maps and their fonts are freed.
 */
void ngx_http_portal_pdf_exit(void);


#endif /* _NGX_HTTP_PORTAL_PDF_RENDER_H_INCLUDED_ */
