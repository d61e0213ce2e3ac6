
/*
 * Portail Citoyen: a request as a PDF, drawn with cairo and pango in a
 * pool thread: A4, DejaVu Sans (embedded, subset by cairo), the town's
 * header, the procedure, a box with the reference and the state, then the
 * applicant, the person concerned, the answers, the supporting documents
 * and the history; "Page n / N" and the date in every page's footer.
 *
 * The text is shaped and wrapped by pango and laid out once; the pages
 * are cut between lines (never through one) twice: a first pass counts
 * them, the second draws.  Text from the database is only ever given to
 * pango_layout_set_text(), never parsed as markup.  The sections are in
 * _pdf_section.c, the text's cleaning and typography in _pdf_text.c, the
 * pages in _pdf_page.c.
 *
 * Threads: every call has its own cairo surface, pango context and
 * layouts.  Each thread has a font map of its own, made at its first PDF:
 * making one per call costs more than the rest of the drawing (fontconfig
 * sorts every installed font for each new font map), and pango's font
 * maps are not shared between threads.  The maps are freed together by
 * ngx_http_portal_pdf_exit(), not by their threads' end as pango's
 * default maps are: nginx's pool threads end with the worker, and one
 * that freed its fonts while the worker's exit() ran the libraries' own
 * clean-up killed the worker (signal 11, at one stop in five).
 * Fontconfig's configuration and cairo's font caches are process-wide and
 * thread-safe.
 */


#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_portal_pdf_common.h"


/* the font maps of the threads, freed at the process's exit */
typedef struct ngx_http_portal_pdf_map_s  ngx_http_portal_pdf_map_t;

struct ngx_http_portal_pdf_map_s {
    PangoFontMap                   *map;
    ngx_http_portal_pdf_map_t      *next;
};


static void ngx_http_portal_pdf_init_once(void);


/* set once, read only afterwards */

static pthread_once_t  ngx_http_portal_pdf_once = PTHREAD_ONCE_INIT;
static const char     *ngx_http_portal_pdf_init_error;

static pthread_mutex_t             ngx_http_portal_pdf_maps_lock =
                                       PTHREAD_MUTEX_INITIALIZER;
static ngx_http_portal_pdf_map_t  *ngx_http_portal_pdf_maps;


int
ngx_http_portal_pdf_init(char *err, size_t errlen)
{
    (void) pthread_once(&ngx_http_portal_pdf_once,
                        ngx_http_portal_pdf_init_once);

    if (ngx_http_portal_pdf_init_error != NULL) {
        snprintf(err, errlen, "%s", ngx_http_portal_pdf_init_error);
        return -1;
    }

    return 0;
}


int
ngx_http_portal_pdf_render(const json_t *doc,
    const ngx_http_portal_pdf_town_t *town, u_char **pdf, size_t *len,
    char *err, size_t errlen)
{
    int                         rc;
    ngx_http_portal_pdf_buf_t   buf;
    ngx_http_portal_pdf_ctx_t   ctx;

    *pdf = NULL;
    *len = 0;

    if (!json_is_object(doc)) {
        snprintf(err, errlen, "the request is not a JSON object");
        return -1;
    }

    (void) pthread_once(&ngx_http_portal_pdf_once,
                        ngx_http_portal_pdf_init_once);

    memset(&buf, 0, sizeof(buf));
    memset(&ctx, 0, sizeof(ctx));

    rc = -1;

    if (ngx_http_portal_pdf_begin(&ctx, &buf, doc, town, err, errlen) != 0) {
        goto done;
    }

    if (ngx_http_portal_pdf_compose(&ctx) != 0) {
        snprintf(err, errlen, "too many blocks of text");
        goto done;
    }

    /* the first pass counts the pages, the second draws them */

    ctx.draw = 0;
    (void) ngx_http_portal_pdf_flow(&ctx);

    ngx_http_portal_pdf_margins(&ctx);

    ctx.draw = 1;
    (void) ngx_http_portal_pdf_flow(&ctx);

    rc = ngx_http_portal_pdf_end(&ctx, &buf, pdf, len, err, errlen);

done:

    ngx_http_portal_pdf_free(&ctx, &buf);

    return rc;
}


int
ngx_http_portal_pdf_begin(ngx_http_portal_pdf_ctx_t *ctx,
    ngx_http_portal_pdf_buf_t *buf, const json_t *doc,
    const ngx_http_portal_pdf_town_t *town, char *err, size_t errlen)
{
    cairo_font_options_t  *options;
    PangoFontDescription  *font;

    ctx->doc = doc;
    ctx->town = town;
    ctx->budget = NGX_HTTP_PORTAL_PDF_TEXT_MAX;

    ctx->surface = cairo_pdf_surface_create_for_stream(
                       ngx_http_portal_pdf_write, buf,
                       NGX_HTTP_PORTAL_PDF_WIDTH, NGX_HTTP_PORTAL_PDF_HEIGHT);

    ctx->cr = cairo_create(ctx->surface);

    if (cairo_status(ctx->cr) != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "cairo: %s",
                 cairo_status_to_string(cairo_status(ctx->cr)));
        return -1;
    }

    /*
     * The font map of this thread; 72 dpi, so that a point of the fonts
     * is a unit of the page, and metrics unhinted, as on paper
     */

    ctx->context = pango_font_map_create_context(
                                        ngx_http_portal_pdf_font_map());

    pango_cairo_update_context(ctx->cr, ctx->context);
    pango_cairo_context_set_resolution(ctx->context, 72.0);

    options = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
    pango_cairo_context_set_font_options(ctx->context, options);
    cairo_font_options_destroy(options);

    pango_context_set_language(ctx->context,
                               pango_language_from_string("fr"));

    font = pango_font_description_from_string(NGX_HTTP_PORTAL_PDF_FONT);
    pango_context_set_font_description(ctx->context, font);
    pango_font_description_free(font);

    ctx->text.s = g_string_sized_new(256);
    ctx->text.attrs = pango_attr_list_new();

    return 0;
}


int
ngx_http_portal_pdf_end(ngx_http_portal_pdf_ctx_t *ctx,
    ngx_http_portal_pdf_buf_t *buf, u_char **pdf, size_t *len, char *err,
    size_t errlen)
{
    cairo_status_t  status;

    cairo_destroy(ctx->cr);
    ctx->cr = NULL;

    cairo_surface_finish(ctx->surface);
    status = cairo_surface_status(ctx->surface);

    if (status != CAIRO_STATUS_SUCCESS) {
        if (buf->overflow) {
            snprintf(err, errlen, "the PDF is larger than %d MiB",
                     NGX_HTTP_PORTAL_PDF_SIZE_MAX / 1024 / 1024);

        } else {
            snprintf(err, errlen, "cairo: %s",
                     cairo_status_to_string(status));
        }

        return -1;
    }

    *pdf = buf->data;
    *len = buf->len;
    buf->data = NULL;

    return 0;
}


void
ngx_http_portal_pdf_free(ngx_http_portal_pdf_ctx_t *ctx,
    ngx_http_portal_pdf_buf_t *buf)
{
    size_t  i;

    for (i = 0; i < ctx->nblocks; i++) {
        g_object_unref(ctx->blocks[i].layout);
    }

    free(ctx->blocks);

    if (ctx->running != NULL) {
        g_object_unref(ctx->running);
    }

    if (ctx->footer != NULL) {
        g_object_unref(ctx->footer);
    }

    if (ctx->folio != NULL) {
        g_object_unref(ctx->folio);
    }

    if (ctx->text.s != NULL) {
        g_string_free(ctx->text.s, TRUE);
        pango_attr_list_unref(ctx->text.attrs);
    }

    if (ctx->context != NULL) {
        g_object_unref(ctx->context);
    }

    if (ctx->cr != NULL) {
        cairo_destroy(ctx->cr);
    }

    cairo_surface_destroy(ctx->surface);
    free(buf->data);
}


static void
ngx_http_portal_pdf_init_once(void)
{
    sigset_t               all, saved;
    const char            *family;
    PangoFont             *f;
    PangoFontMap          *map;
    PangoContext          *context;
    PangoFontDescription  *font, *found;

    /*
     * Loads fontconfig's configuration, here, once; with a font map of
     * its own, not the calling thread's, which would stay for good.
     * Pango loads it in a thread it starts: one that takes no signal,
     * as nginx's pool threads, so that they all go to the worker itself.
     */

    sigfillset(&all);
    (void) pthread_sigmask(SIG_SETMASK, &all, &saved);

    map = pango_cairo_font_map_new();
    context = pango_font_map_create_context(map);
    g_object_unref(map);
    font = pango_font_description_from_string(NGX_HTTP_PORTAL_PDF_FONT);

    f = pango_context_load_font(context, font);

    (void) pthread_sigmask(SIG_SETMASK, &saved, NULL);

    if (f == NULL) {
        ngx_http_portal_pdf_init_error = "pango found no font at all";

    } else {
        found = pango_font_describe(f);
        family = pango_font_description_get_family(found);

        if (family == NULL
            || g_ascii_strcasecmp(family, NGX_HTTP_PORTAL_PDF_FAMILY) != 0)
        {
            ngx_http_portal_pdf_init_error =
                "the font \"" NGX_HTTP_PORTAL_PDF_FAMILY "\" is not "
                "installed (Debian: fonts-dejavu-core)";
        }

        pango_font_description_free(found);
        g_object_unref(f);
    }

    pango_font_description_free(font);
    g_object_unref(context);
}



void
ngx_http_portal_pdf_exit(void)
{
    ngx_http_portal_pdf_map_t  *m;

    (void) pthread_mutex_lock(&ngx_http_portal_pdf_maps_lock);

    while (ngx_http_portal_pdf_maps != NULL) {
        m = ngx_http_portal_pdf_maps;
        ngx_http_portal_pdf_maps = m->next;

        g_object_unref(m->map);
        free(m);
    }

    (void) pthread_mutex_unlock(&ngx_http_portal_pdf_maps_lock);
}


PangoFontMap *
ngx_http_portal_pdf_font_map(void)
{
    ngx_http_portal_pdf_map_t  *m;

    static __thread PangoFontMap  *map;

    if (map != NULL) {
        return map;
    }

    map = pango_cairo_font_map_new();

    m = malloc(sizeof(ngx_http_portal_pdf_map_t));

    if (m != NULL) {
        m->map = map;

        (void) pthread_mutex_lock(&ngx_http_portal_pdf_maps_lock);
        m->next = ngx_http_portal_pdf_maps;
        ngx_http_portal_pdf_maps = m;
        (void) pthread_mutex_unlock(&ngx_http_portal_pdf_maps_lock);
    }

    return map;
}


/* cairo's output, into one growing buffer */

cairo_status_t
ngx_http_portal_pdf_write(void *closure, const unsigned char *data,
    unsigned int length)
{
    ngx_http_portal_pdf_buf_t *buf = closure;

    u_char  *p;
    size_t   size;

    if (length > NGX_HTTP_PORTAL_PDF_SIZE_MAX - buf->len) {
        buf->overflow = 1;
        return CAIRO_STATUS_WRITE_ERROR;
    }

    if (buf->len + length > buf->size) {
        size = buf->size ? buf->size : 64 * 1024;

        while (size < buf->len + length) {
            size *= 2;
        }

        if (size > NGX_HTTP_PORTAL_PDF_SIZE_MAX) {
            size = NGX_HTTP_PORTAL_PDF_SIZE_MAX;
        }

        p = realloc(buf->data, size);
        if (p == NULL) {
            return CAIRO_STATUS_NO_MEMORY;
        }

        buf->data = p;
        buf->size = size;
    }

    memcpy(buf->data + buf->len, data, length);
    buf->len += length;

    return CAIRO_STATUS_SUCCESS;
}
