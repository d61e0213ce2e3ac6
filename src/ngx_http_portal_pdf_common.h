
/*
 * Portail Citoyen: what the files of the PDF renderer share, behind the
 * interface of ngx_http_portal_pdf_render.h:
 *
 *   _pdf_render.c    the calls: the surface, the two passes, the file
 *   _pdf_section.c   the document's sections, from the request's JSON
 *   _pdf_text.c      text put together: the database's cleaned and
 *                    capped, French typography, styles, dates and sizes
 *   _pdf_page.c      text to blocks, blocks to pages, the pages' margins
 *
 * and the letters' renderer, _pdf_letter_render.c, which draws a letter
 * with the same helpers (ngx_http_portal_pdf_letter_render.h).
 *
 * Plain C, as the renderer: no nginx type or function.
 */


#ifndef _NGX_HTTP_PORTAL_PDF_COMMON_H_INCLUDED_
#define _NGX_HTTP_PORTAL_PDF_COMMON_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>

#include <cairo.h>
#include <cairo-pdf.h>
#include <jansson.h>
#include <pango/pangocairo.h>

#include "ngx_http_portal_pdf_render.h"


/* ------------------------------------------------- the document's keys */

/*
 * As the SQL side names them: rename here.  Where two shapes are read,
 * the second is the one of portal.request_pdf() in sql/: a theme beside
 * the procedure, an address on one line, an event's "to_label".
 */
#define NGX_HTTP_PORTAL_PDF_K_REFERENCE      "reference"
#define NGX_HTTP_PORTAL_PDF_K_STATE          "state"
#define NGX_HTTP_PORTAL_PDF_K_STATE_LABEL    "state_label"
#define NGX_HTTP_PORTAL_PDF_K_STATE_MEANING  "state_meaning"
#define NGX_HTTP_PORTAL_PDF_K_PROCEDURE      "procedure"
#define NGX_HTTP_PORTAL_PDF_K_TITLE          "title"
#define NGX_HTTP_PORTAL_PDF_K_THEME          "theme"
#define NGX_HTTP_PORTAL_PDF_K_CREATED_AT     "created_at"
#define NGX_HTTP_PORTAL_PDF_K_SUBMITTED_AT   "submitted_at"
/* optional: when the PDF is made (else the clock of this host) */
#define NGX_HTTP_PORTAL_PDF_K_GENERATED_AT   "generated_at"
#define NGX_HTTP_PORTAL_PDF_K_APPLICANT      "applicant"
#define NGX_HTTP_PORTAL_PDF_K_CIVILITY       "civility"
#define NGX_HTTP_PORTAL_PDF_K_FIRST_NAME     "first_name"
#define NGX_HTTP_PORTAL_PDF_K_LAST_NAME      "last_name"
#define NGX_HTTP_PORTAL_PDF_K_ADDRESS        "address"
#define NGX_HTTP_PORTAL_PDF_K_LINE           "line"
#define NGX_HTTP_PORTAL_PDF_K_POSTCODE       "postcode"
#define NGX_HTTP_PORTAL_PDF_K_CITY           "city"
#define NGX_HTTP_PORTAL_PDF_K_EMAIL          "email"
#define NGX_HTTP_PORTAL_PDF_K_PHONE          "phone"
#define NGX_HTTP_PORTAL_PDF_K_MEMBER         "member"
#define NGX_HTTP_PORTAL_PDF_K_NAME           "name"
#define NGX_HTTP_PORTAL_PDF_K_ANSWERS        "answers"
#define NGX_HTTP_PORTAL_PDF_K_LABEL          "label"
#define NGX_HTTP_PORTAL_PDF_K_VALUE          "value"
#define NGX_HTTP_PORTAL_PDF_K_DOCUMENTS      "documents"
#define NGX_HTTP_PORTAL_PDF_K_FILENAME       "filename"
#define NGX_HTTP_PORTAL_PDF_K_SIZE           "size"
#define NGX_HTTP_PORTAL_PDF_K_HISTORY        "history"
#define NGX_HTTP_PORTAL_PDF_K_AT             "at"
#define NGX_HTTP_PORTAL_PDF_K_TO_LABEL       "to_label"
#define NGX_HTTP_PORTAL_PDF_K_MOTIVE         "motive"


/* ------------------------------------------------------------ the caps */

/*
 * What a hostile or broken document can cost: at most 200 answers, 100
 * documents and 200 history rows are printed (then a line says how many
 * were left out); a value at most 64 KiB and 400 lines, a one-line field
 * 512 bytes, 4 combining marks on a letter; all the database's text
 * together at most 128 KiB (some 40 pages); at most 50 pages (their foot
 * then says the rest is missing) and a 32 MiB file.  The worst case costs
 * a pool thread half a second of CPU, a typical request 5 ms.
 */
#define NGX_HTTP_PORTAL_PDF_ANSWERS_MAX      200
#define NGX_HTTP_PORTAL_PDF_DOCUMENTS_MAX    100
#define NGX_HTTP_PORTAL_PDF_HISTORY_MAX      200
#define NGX_HTTP_PORTAL_PDF_VALUE_MAX        (64 * 1024)
#define NGX_HTTP_PORTAL_PDF_VALUE_LINES      400
#define NGX_HTTP_PORTAL_PDF_FIELD_MAX        512
#define NGX_HTTP_PORTAL_PDF_MARKS_MAX        4
#define NGX_HTTP_PORTAL_PDF_WORD_MAX         30
#define NGX_HTTP_PORTAL_PDF_TEXT_MAX         (128 * 1024)
#define NGX_HTTP_PORTAL_PDF_PAGES_MAX        50
#define NGX_HTTP_PORTAL_PDF_SIZE_MAX         (32 * 1024 * 1024)


/* ---------------------------------------------------- the page, in pt */

#define NGX_HTTP_PORTAL_PDF_WIDTH        595.276
#define NGX_HTTP_PORTAL_PDF_HEIGHT       841.890
#define NGX_HTTP_PORTAL_PDF_LEFT         56.69
#define NGX_HTTP_PORTAL_PDF_TOP          50.0
#define NGX_HTTP_PORTAL_PDF_BOTTOM       (NGX_HTTP_PORTAL_PDF_HEIGHT - 68.0)
#define NGX_HTTP_PORTAL_PDF_FOOTER       (NGX_HTTP_PORTAL_PDF_HEIGHT - 52.0)
#define NGX_HTTP_PORTAL_PDF_TEXT_WIDTH                                       \
    (NGX_HTTP_PORTAL_PDF_WIDTH - 2 * NGX_HTTP_PORTAL_PDF_LEFT)
#define NGX_HTTP_PORTAL_PDF_BOX_PAD      9.0
#define NGX_HTTP_PORTAL_PDF_BOX_BAR      3.0
#define NGX_HTTP_PORTAL_PDF_HANG         11.0

#define NGX_HTTP_PORTAL_PDF_FONT         "DejaVu Sans 10"
#define NGX_HTTP_PORTAL_PDF_FAMILY       "DejaVu Sans"


/* French spaces: no-break (before ":" and inside « »), narrow no-break */
#define NBSP   "\xc2\xa0"
#define NNBSP  "\xe2\x80\xaf"
#define ZWSP   "\xe2\x80\x8b"


/* a piece of text's look: a size, bold, a colour */
#define NGX_HTTP_PORTAL_PDF_BOLD     0x01
#define NGX_HTTP_PORTAL_PDF_MUTED    0x02
#define NGX_HTTP_PORTAL_PDF_ACCENT   0x04
#define NGX_HTTP_PORTAL_PDF_SMALL    0x08
#define NGX_HTTP_PORTAL_PDF_LARGE    0x10
#define NGX_HTTP_PORTAL_PDF_TITLE    0x20
#define NGX_HTTP_PORTAL_PDF_H        (NGX_HTTP_PORTAL_PDF_BOLD               \
                                      |NGX_HTTP_PORTAL_PDF_ACCENT            \
                                      |NGX_HTTP_PORTAL_PDF_LARGE)

/* database text: one line, or several */
#define NGX_HTTP_PORTAL_PDF_LINE     0
#define NGX_HTTP_PORTAL_PDF_LINES    1


typedef enum {
    NGX_HTTP_PORTAL_PDF_PARA = 0,
    NGX_HTTP_PORTAL_PDF_HEADING,
    NGX_HTTP_PORTAL_PDF_BOX
} ngx_http_portal_pdf_kind_e;


typedef struct {
    PangoLayout                    *layout;
    /* a heading's bookmark */
    const char                     *outline;
    double                          indent;
    double                          before;
    double                          after;
    unsigned                        kind:2;
    /* on the same page as the next block's first lines */
    unsigned                        keep:1;
} ngx_http_portal_pdf_block_t;


/* text being put together, and the look of its pieces */
typedef struct {
    GString                        *s;
    PangoAttrList                  *attrs;
} ngx_http_portal_pdf_text_t;


typedef struct {
    int                             year;
    int                             month;
    int                             day;
    int                             hour;
    int                             min;
    int                             sec;
    /* minutes east of UTC */
    int                             offset;
    unsigned                        has_time:1;
    unsigned                        has_offset:1;
} ngx_http_portal_pdf_tm_t;


/* cairo's output */
typedef struct {
    u_char                         *data;
    size_t                          len;
    size_t                          size;
    unsigned                        overflow:1;
} ngx_http_portal_pdf_buf_t;


/* one PDF being made */
typedef struct {
    const json_t                   *doc;
    const ngx_http_portal_pdf_town_t  *town;

    cairo_surface_t                *surface;
    cairo_t                        *cr;
    PangoContext                   *context;

    ngx_http_portal_pdf_block_t    *blocks;
    size_t                          nblocks;
    size_t                          nalloc;

    ngx_http_portal_pdf_text_t      text;

    /* on pages after the first, and every page's foot */
    PangoLayout                    *running;
    PangoLayout                    *footer;
    PangoLayout                    *folio;

    char                            generated[64];
    ngx_http_portal_pdf_tm_t        generated_tm;

    /* the database's text that may still be printed */
    size_t                          budget;

    int                             page;
    int                             pages;
    double                          y;
    double                          top;

    unsigned                        draw:1;
    unsigned                        stop:1;
    unsigned                        truncated:1;
    unsigned                        cut:1;
    unsigned                        failed:1;
} ngx_http_portal_pdf_ctx_t;


/*
 * _pdf_render.c, for the letters' renderer too: the calling thread's font
 * map (kept to the process's exit), and cairo's output into a
 * ngx_http_portal_pdf_buf_t, at most SIZE_MAX bytes.
 */
PangoFontMap *ngx_http_portal_pdf_font_map(void);
cairo_status_t ngx_http_portal_pdf_write(void *closure,
    const unsigned char *data, unsigned int length);

/*
 * _pdf_render.c, what both renderers do around their own contents, on a
 * ctx and a buf zeroed by the caller: begin, the surface, the context
 * (the thread's font map, 72 dpi, unhinted metrics, French) and the text
 * (-1 and err on a failure); end, the PDF made into *pdf and *len, or -1
 * and err; free, all that ctx and buf hold, whatever came before it.
 */
int ngx_http_portal_pdf_begin(ngx_http_portal_pdf_ctx_t *ctx,
    ngx_http_portal_pdf_buf_t *buf, const json_t *doc,
    const ngx_http_portal_pdf_town_t *town, char *err, size_t errlen);
int ngx_http_portal_pdf_end(ngx_http_portal_pdf_ctx_t *ctx,
    ngx_http_portal_pdf_buf_t *buf, u_char **pdf, size_t *len, char *err,
    size_t errlen);
void ngx_http_portal_pdf_free(ngx_http_portal_pdf_ctx_t *ctx,
    ngx_http_portal_pdf_buf_t *buf);


/* _pdf_section.c: every block of the document, -1 when out of memory */
int ngx_http_portal_pdf_compose(ngx_http_portal_pdf_ctx_t *ctx);

/*
 * _pdf_section.c, for the letters too: the file's title (the text put
 * together, then " — " and title when there is one), author (the town),
 * subject, and the date of tm when it has a time; the text starts again
 * empty.
 */
void ngx_http_portal_pdf_describe(ngx_http_portal_pdf_ctx_t *ctx,
    const json_t *title, const char *subject,
    const ngx_http_portal_pdf_tm_t *tm);


/*
 * _pdf_page.c: the text put together becomes a block (NULL when there is
 * none); blocks go to pages, counted (ctx->draw 0) or drawn; the layouts
 * of the pages' top (before the first pass) and foot (after it).
 */
ngx_http_portal_pdf_block_t *ngx_http_portal_pdf_push(
    ngx_http_portal_pdf_ctx_t *ctx, ngx_http_portal_pdf_kind_e kind,
    double before, double indent, double hang, unsigned keep);
int ngx_http_portal_pdf_flow(ngx_http_portal_pdf_ctx_t *ctx);
void ngx_http_portal_pdf_running(ngx_http_portal_pdf_ctx_t *ctx);
void ngx_http_portal_pdf_margins(ngx_http_portal_pdf_ctx_t *ctx);

/* _pdf_page.c: the text put together as a layout width wide, unhyphenated */
PangoLayout *ngx_http_portal_pdf_take(ngx_http_portal_pdf_ctx_t *ctx,
    double width);


/*
 * _pdf_text.c: appending to ctx->text.  Our own text as it is; the
 * configuration's and the database's cleaned and capped (the add_*
 * return the bytes added); a style over what was appended since start.
 */
void ngx_http_portal_pdf_reset(ngx_http_portal_pdf_ctx_t *ctx);
void ngx_http_portal_pdf_add(ngx_http_portal_pdf_ctx_t *ctx, const char *s,
    unsigned style);
size_t ngx_http_portal_pdf_add_town(ngx_http_portal_pdf_ctx_t *ctx,
    const char *s, unsigned style);
size_t ngx_http_portal_pdf_add_data(ngx_http_portal_pdf_ctx_t *ctx,
    const json_t *v, unsigned style, size_t max, unsigned lines);
size_t ngx_http_portal_pdf_clean(ngx_http_portal_pdf_ctx_t *ctx,
    const char *p, size_t len, size_t max, unsigned lines, unsigned upper);
void ngx_http_portal_pdf_add_time(ngx_http_portal_pdf_ctx_t *ctx,
    const json_t *v, unsigned style);
void ngx_http_portal_pdf_style(ngx_http_portal_pdf_ctx_t *ctx, size_t start,
    unsigned style);

/* dates and sizes in French; the request's JSON, null as absent */
int ngx_http_portal_pdf_parse_time(const char *s, size_t len,
    ngx_http_portal_pdf_tm_t *tm);
void ngx_http_portal_pdf_french_time(char *buf, size_t size,
    const ngx_http_portal_pdf_tm_t *tm);
void ngx_http_portal_pdf_french_size(char *buf, size_t size,
    const json_t *v);
int ngx_http_portal_pdf_empty(const json_t *v);
const json_t *ngx_http_portal_pdf_get(const json_t *o, const char *key);
const char *ngx_http_portal_pdf_string(const json_t *o, const char *key,
    size_t *len);


#endif /* _NGX_HTTP_PORTAL_PDF_COMMON_H_INCLUDED_ */
