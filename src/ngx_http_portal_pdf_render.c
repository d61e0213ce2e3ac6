
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
 * pango_layout_set_text(), never parsed as markup.
 *
 * Threads: every call has its own cairo surface, pango context and
 * layouts.  The font map is pango's default for the calling thread (pango
 * keeps one per thread and frees it when the thread ends): making one per
 * call costs more than the rest of the drawing (fontconfig sorts every
 * installed font for each new font map).  Fontconfig's configuration and
 * cairo's font caches are process-wide and thread-safe.
 */


#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cairo.h>
#include <cairo-pdf.h>
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
    u_char                         *data;
    size_t                          len;
    size_t                          size;
    unsigned                        overflow:1;
} ngx_http_portal_pdf_buf_t;


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


static void ngx_http_portal_pdf_init_once(void);
static int ngx_http_portal_pdf_compose(ngx_http_portal_pdf_ctx_t *ctx);
static void ngx_http_portal_pdf_head(ngx_http_portal_pdf_ctx_t *ctx);
static void ngx_http_portal_pdf_state(ngx_http_portal_pdf_ctx_t *ctx);
static void ngx_http_portal_pdf_applicant(ngx_http_portal_pdf_ctx_t *ctx);
static void ngx_http_portal_pdf_answers(ngx_http_portal_pdf_ctx_t *ctx);
static void ngx_http_portal_pdf_documents(ngx_http_portal_pdf_ctx_t *ctx);
static void ngx_http_portal_pdf_history(ngx_http_portal_pdf_ctx_t *ctx);
static void ngx_http_portal_pdf_field(ngx_http_portal_pdf_ctx_t *ctx,
    const char *label, const json_t *v, double before);
static void ngx_http_portal_pdf_left_out(ngx_http_portal_pdf_ctx_t *ctx,
    size_t n, const char *one, const char *many);
static void ngx_http_portal_pdf_heading(ngx_http_portal_pdf_ctx_t *ctx,
    const char *title);
static ngx_http_portal_pdf_block_t *ngx_http_portal_pdf_push(
    ngx_http_portal_pdf_ctx_t *ctx, ngx_http_portal_pdf_kind_e kind,
    double before, double indent, double hang, unsigned keep);
static PangoLayout *ngx_http_portal_pdf_take(ngx_http_portal_pdf_ctx_t *ctx,
    double width);
static void ngx_http_portal_pdf_reset(ngx_http_portal_pdf_ctx_t *ctx);
static int ngx_http_portal_pdf_empty(const json_t *v);
static void ngx_http_portal_pdf_add(ngx_http_portal_pdf_ctx_t *ctx,
    const char *s, unsigned style);
static size_t ngx_http_portal_pdf_add_town(ngx_http_portal_pdf_ctx_t *ctx,
    const char *s, unsigned style);
static size_t ngx_http_portal_pdf_add_data(ngx_http_portal_pdf_ctx_t *ctx,
    const json_t *v, unsigned style, size_t max, unsigned lines);
static size_t ngx_http_portal_pdf_clean(ngx_http_portal_pdf_ctx_t *ctx,
    const char *p, size_t len, size_t max, unsigned lines, unsigned upper);
static void ngx_http_portal_pdf_add_time(ngx_http_portal_pdf_ctx_t *ctx,
    const json_t *v, unsigned style);
static void ngx_http_portal_pdf_style(ngx_http_portal_pdf_ctx_t *ctx,
    size_t start, unsigned style);
static int ngx_http_portal_pdf_flow(ngx_http_portal_pdf_ctx_t *ctx);
static void ngx_http_portal_pdf_place(ngx_http_portal_pdf_ctx_t *ctx,
    size_t i);
static double ngx_http_portal_pdf_need(ngx_http_portal_pdf_ctx_t *ctx,
    size_t i);
static double ngx_http_portal_pdf_lines_height(PangoLayout *layout, int n);
static int ngx_http_portal_pdf_new_page(ngx_http_portal_pdf_ctx_t *ctx);
static void ngx_http_portal_pdf_foot(ngx_http_portal_pdf_ctx_t *ctx);
static void ngx_http_portal_pdf_running(ngx_http_portal_pdf_ctx_t *ctx);
static void ngx_http_portal_pdf_margins(ngx_http_portal_pdf_ctx_t *ctx);
static void ngx_http_portal_pdf_metadata(ngx_http_portal_pdf_ctx_t *ctx);
static cairo_status_t ngx_http_portal_pdf_write(void *closure,
    const unsigned char *data, unsigned int length);
static int ngx_http_portal_pdf_parse_time(const char *s, size_t len,
    ngx_http_portal_pdf_tm_t *tm);
static void ngx_http_portal_pdf_french_time(char *buf, size_t size,
    const ngx_http_portal_pdf_tm_t *tm);
static void ngx_http_portal_pdf_french_size(char *buf, size_t size,
    const json_t *v);
static const json_t *ngx_http_portal_pdf_get(const json_t *o,
    const char *key);
static const char *ngx_http_portal_pdf_string(const json_t *o,
    const char *key, size_t *len);


/* the states, as the FAQ's "Avancement" explains them */

static const struct {
    const char                     *code;
    const char                     *label;
    const char                     *meaning;
} ngx_http_portal_pdf_states[] = {
    { "brouillon", "brouillon",
      "vous n’avez pas encore soumis cette demande" },
    { "en_attente", "en attente",
      "vous avez soumis votre demande, un agent va la prendre en charge" },
    { "en_traitement", "en traitement",
      "un agent a pris en charge votre demande" },
    { "incomplet", "incomplet",
      "l’agent instructeur a décelé des manques dans votre demande" },
    { "rectifie", "rectifié",
      "une action rectificative a été apportée à votre demande" },
    { "complet", "complet",
      "tous les éléments nécessaires au traitement de votre demande sont "
      "présents, elle suit son cours" },
    { "rejete", "rejeté",
      "l’agent instructeur a rejeté votre demande" },
    { "annule", "annulé",
      "l’agent instructeur a annulé votre demande" },
    { "valide", "validé",
      "votre demande a été validée, le résultat doit vous parvenir" }
};


static const char  *ngx_http_portal_pdf_months[] = {
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet",
    "août", "septembre", "octobre", "novembre", "décembre"
};


/* set once, read only afterwards */

static pthread_once_t  ngx_http_portal_pdf_once = PTHREAD_ONCE_INIT;
static const char     *ngx_http_portal_pdf_init_error;


/* ----------------------------------------------------------- the calls */

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
    size_t                      i;
    cairo_status_t              status;
    cairo_font_options_t       *options;
    PangoFontDescription       *font;
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

    ctx.doc = doc;
    ctx.town = town;
    ctx.budget = NGX_HTTP_PORTAL_PDF_TEXT_MAX;

    rc = -1;

    ctx.surface = cairo_pdf_surface_create_for_stream(
                      ngx_http_portal_pdf_write, &buf,
                      NGX_HTTP_PORTAL_PDF_WIDTH, NGX_HTTP_PORTAL_PDF_HEIGHT);

    ctx.cr = cairo_create(ctx.surface);

    if (cairo_status(ctx.cr) != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "cairo: %s",
                 cairo_status_to_string(cairo_status(ctx.cr)));
        goto done;
    }

    /*
     * Pango's font map for this thread; 72 dpi, so that a point of the
     * fonts is a unit of the page, and metrics unhinted, as on paper
     */

    ctx.context = pango_font_map_create_context(
                                        pango_cairo_font_map_get_default());

    pango_cairo_update_context(ctx.cr, ctx.context);
    pango_cairo_context_set_resolution(ctx.context, 72.0);

    options = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
    pango_cairo_context_set_font_options(ctx.context, options);
    cairo_font_options_destroy(options);

    pango_context_set_language(ctx.context, pango_language_from_string("fr"));

    font = pango_font_description_from_string(NGX_HTTP_PORTAL_PDF_FONT);
    pango_context_set_font_description(ctx.context, font);
    pango_font_description_free(font);

    ctx.text.s = g_string_sized_new(256);
    ctx.text.attrs = pango_attr_list_new();

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

    cairo_destroy(ctx.cr);
    ctx.cr = NULL;

    cairo_surface_finish(ctx.surface);
    status = cairo_surface_status(ctx.surface);

    if (status != CAIRO_STATUS_SUCCESS) {
        if (buf.overflow) {
            snprintf(err, errlen, "the PDF is larger than %d MiB",
                     NGX_HTTP_PORTAL_PDF_SIZE_MAX / 1024 / 1024);

        } else {
            snprintf(err, errlen, "cairo: %s",
                     cairo_status_to_string(status));
        }

        goto done;
    }

    *pdf = buf.data;
    *len = buf.len;
    buf.data = NULL;

    rc = 0;

done:

    for (i = 0; i < ctx.nblocks; i++) {
        g_object_unref(ctx.blocks[i].layout);
    }

    free(ctx.blocks);

    if (ctx.running != NULL) {
        g_object_unref(ctx.running);
    }

    if (ctx.footer != NULL) {
        g_object_unref(ctx.footer);
    }

    if (ctx.folio != NULL) {
        g_object_unref(ctx.folio);
    }

    if (ctx.text.s != NULL) {
        g_string_free(ctx.text.s, TRUE);
        pango_attr_list_unref(ctx.text.attrs);
    }

    if (ctx.context != NULL) {
        g_object_unref(ctx.context);
    }

    if (ctx.cr != NULL) {
        cairo_destroy(ctx.cr);
    }

    cairo_surface_destroy(ctx.surface);
    free(buf.data);

    return rc;
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


/* ------------------------------------------------------- the contents */

static int
ngx_http_portal_pdf_compose(ngx_http_portal_pdf_ctx_t *ctx)
{
    time_t         now;
    struct tm      tm;
    const json_t  *v;

    v = ngx_http_portal_pdf_get(ctx->doc, NGX_HTTP_PORTAL_PDF_K_GENERATED_AT);

    if (!json_is_string(v)
        || ngx_http_portal_pdf_parse_time(json_string_value(v),
                                          json_string_length(v),
                                          &ctx->generated_tm) != 0)
    {
        now = time(NULL);
        (void) localtime_r(&now, &tm);

        ctx->generated_tm.year = tm.tm_year + 1900;
        ctx->generated_tm.month = tm.tm_mon + 1;
        ctx->generated_tm.day = tm.tm_mday;
        ctx->generated_tm.hour = tm.tm_hour;
        ctx->generated_tm.min = tm.tm_min;
        ctx->generated_tm.sec = tm.tm_sec;
        ctx->generated_tm.offset = (int) (tm.tm_gmtoff / 60);
        ctx->generated_tm.has_time = 1;
        ctx->generated_tm.has_offset = 1;
    }

    ngx_http_portal_pdf_french_time(ctx->generated, sizeof(ctx->generated),
                                    &ctx->generated_tm);

    /* before the budget goes on the answers */

    ngx_http_portal_pdf_running(ctx);
    ngx_http_portal_pdf_metadata(ctx);

    ngx_http_portal_pdf_head(ctx);
    ngx_http_portal_pdf_state(ctx);
    ngx_http_portal_pdf_applicant(ctx);
    ngx_http_portal_pdf_answers(ctx);
    ngx_http_portal_pdf_documents(ctx);
    ngx_http_portal_pdf_history(ctx);

    if (ctx->cut) {
        ngx_http_portal_pdf_add(ctx, "Certains textes trop longs ont été "
                                "raccourcis dans ce document" NNBSP "; ils "
                                "sont complets dans votre demande en ligne.",
                                NGX_HTTP_PORTAL_PDF_SMALL
                                |NGX_HTTP_PORTAL_PDF_MUTED);
        (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA,
                                        14, 0, 0, 0);
    }

    return ctx->failed ? -1 : 0;
}


static void
ngx_http_portal_pdf_head(ngx_http_portal_pdf_ctx_t *ctx)
{
    size_t         i;
    const json_t  *procedure, *v;

    /* the town hall */

    if (ctx->town != NULL) {
        if (ngx_http_portal_pdf_add_town(ctx, ctx->town->name,
                                         NGX_HTTP_PORTAL_PDF_H))
        {
            ngx_http_portal_pdf_add(ctx, "\n", 0);
        }

        if (ngx_http_portal_pdf_add_town(ctx, ctx->town->service, 0)) {
            ngx_http_portal_pdf_add(ctx, "\n", 0);
        }

        for (i = 0; i < NGX_HTTP_PORTAL_PDF_ADDRESS_MAX; i++) {
            if (ngx_http_portal_pdf_add_town(ctx, ctx->town->address[i],
                                             NGX_HTTP_PORTAL_PDF_SMALL
                                             |NGX_HTTP_PORTAL_PDF_MUTED))
            {
                ngx_http_portal_pdf_add(ctx, "\n", 0);
            }
        }

        (void) ngx_http_portal_pdf_add_town(ctx, ctx->town->url,
                                            NGX_HTTP_PORTAL_PDF_SMALL
                                            |NGX_HTTP_PORTAL_PDF_MUTED);

        (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA,
                                        0, 0, 0, 1);
    }

    /* the procedure */

    ngx_http_portal_pdf_add(ctx, "Récapitulatif de votre demande\n",
                            NGX_HTTP_PORTAL_PDF_SMALL
                            |NGX_HTTP_PORTAL_PDF_MUTED);

    procedure = ngx_http_portal_pdf_get(ctx->doc,
                                        NGX_HTTP_PORTAL_PDF_K_PROCEDURE);

    v = ngx_http_portal_pdf_get(procedure, NGX_HTTP_PORTAL_PDF_K_TITLE);

    if (ngx_http_portal_pdf_add_data(ctx, v, NGX_HTTP_PORTAL_PDF_TITLE
                                             |NGX_HTTP_PORTAL_PDF_BOLD,
                                     NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                                     NGX_HTTP_PORTAL_PDF_LINE)
        == 0)
    {
        ngx_http_portal_pdf_add(ctx, "Demande",
                                NGX_HTTP_PORTAL_PDF_TITLE
                                |NGX_HTTP_PORTAL_PDF_BOLD);
    }

    /* procedure.theme: "…", or theme: "…" or {title} */

    v = ngx_http_portal_pdf_get(procedure, NGX_HTTP_PORTAL_PDF_K_THEME);

    if (v == NULL) {
        v = ngx_http_portal_pdf_get(ctx->doc, NGX_HTTP_PORTAL_PDF_K_THEME);
    }

    if (json_is_object(v)) {
        v = ngx_http_portal_pdf_get(v, NGX_HTTP_PORTAL_PDF_K_TITLE);
    }

    if (json_is_string(v) && json_string_length(v) > 0) {
        ngx_http_portal_pdf_add(ctx, "\n", 0);
        (void) ngx_http_portal_pdf_add_data(ctx, v, NGX_HTTP_PORTAL_PDF_MUTED,
                                            NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                                            NGX_HTTP_PORTAL_PDF_LINE);
    }

    (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA,
                                    22, 0, 0, 1);
}


static void
ngx_http_portal_pdf_state(ngx_http_portal_pdf_ctx_t *ctx)
{
    char           c;
    size_t         i, len, n;
    const char    *code, *label, *meaning;
    const json_t  *v, *created, *submitted;

    ngx_http_portal_pdf_add(ctx, "Référence" NBSP ": ", 0);

    v = ngx_http_portal_pdf_get(ctx->doc, NGX_HTTP_PORTAL_PDF_K_REFERENCE);

    if (ngx_http_portal_pdf_add_data(ctx, v, NGX_HTTP_PORTAL_PDF_BOLD
                                             |NGX_HTTP_PORTAL_PDF_LARGE,
                                     64, NGX_HTTP_PORTAL_PDF_LINE)
        == 0)
    {
        ngx_http_portal_pdf_add(ctx, "non attribuée",
                                NGX_HTTP_PORTAL_PDF_MUTED);
    }

    /* the label and meaning given, else the FAQ's for the code */

    label = NULL;
    meaning = NULL;

    code = ngx_http_portal_pdf_string(ctx->doc, NGX_HTTP_PORTAL_PDF_K_STATE,
                                      &len);

    if (code != NULL) {
        n = sizeof(ngx_http_portal_pdf_states)
            / sizeof(ngx_http_portal_pdf_states[0]);

        for (i = 0; i < n; i++) {
            if (strlen(ngx_http_portal_pdf_states[i].code) == len
                && memcmp(ngx_http_portal_pdf_states[i].code, code, len) == 0)
            {
                label = ngx_http_portal_pdf_states[i].label;
                meaning = ngx_http_portal_pdf_states[i].meaning;
                break;
            }
        }
    }

    ngx_http_portal_pdf_add(ctx, "\nÉtat" NBSP ": ", 0);

    v = ngx_http_portal_pdf_get(ctx->doc, NGX_HTTP_PORTAL_PDF_K_STATE_LABEL);

    if (json_is_string(v) && json_string_length(v) > 0) {
        ngx_http_portal_pdf_add(ctx, "«" NBSP, NGX_HTTP_PORTAL_PDF_BOLD);
        (void) ngx_http_portal_pdf_add_data(ctx, v, NGX_HTTP_PORTAL_PDF_BOLD,
                                            NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                                            NGX_HTTP_PORTAL_PDF_LINE);
        ngx_http_portal_pdf_add(ctx, NBSP "»", NGX_HTTP_PORTAL_PDF_BOLD);

    } else if (label != NULL) {
        ngx_http_portal_pdf_add(ctx, "«" NBSP, NGX_HTTP_PORTAL_PDF_BOLD);
        ngx_http_portal_pdf_add(ctx, label, NGX_HTTP_PORTAL_PDF_BOLD);
        ngx_http_portal_pdf_add(ctx, NBSP "»", NGX_HTTP_PORTAL_PDF_BOLD);

    } else if (code != NULL && len > 0) {
        (void) ngx_http_portal_pdf_add_data(ctx,
                     ngx_http_portal_pdf_get(ctx->doc,
                                             NGX_HTTP_PORTAL_PDF_K_STATE),
                     NGX_HTTP_PORTAL_PDF_BOLD, 64, NGX_HTTP_PORTAL_PDF_LINE);

    } else {
        ngx_http_portal_pdf_add(ctx, "inconnu", NGX_HTTP_PORTAL_PDF_MUTED);
    }

    /* the meaning as a sentence: "Un agent a pris en charge…." */

    v = ngx_http_portal_pdf_get(ctx->doc,
                                NGX_HTTP_PORTAL_PDF_K_STATE_MEANING);

    if (json_is_string(v) && json_string_length(v) > 0) {
        meaning = json_string_value(v);
        n = json_string_length(v);

    } else {
        n = (meaning != NULL) ? strlen(meaning) : 0;
    }

    if (n > 0) {
        ngx_http_portal_pdf_add(ctx, "\n", 0);

        if (ngx_http_portal_pdf_clean(ctx, meaning, n,
                                      NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                                      NGX_HTTP_PORTAL_PDF_LINE, 1)
            > 0)
        {
            c = ctx->text.s->str[ctx->text.s->len - 1];

            if (c != '.' && c != '!' && c != '?') {
                ngx_http_portal_pdf_add(ctx, ".", 0);
            }
        }
    }

    created = ngx_http_portal_pdf_get(ctx->doc,
                                      NGX_HTTP_PORTAL_PDF_K_CREATED_AT);
    submitted = ngx_http_portal_pdf_get(ctx->doc,
                                        NGX_HTTP_PORTAL_PDF_K_SUBMITTED_AT);

    if (json_is_string(created)) {
        ngx_http_portal_pdf_add(ctx, "\nCréée le ",
                                NGX_HTTP_PORTAL_PDF_SMALL
                                |NGX_HTTP_PORTAL_PDF_MUTED);
        ngx_http_portal_pdf_add_time(ctx, created,
                                     NGX_HTTP_PORTAL_PDF_SMALL
                                     |NGX_HTTP_PORTAL_PDF_MUTED);
    }

    if (json_is_string(submitted)) {
        ngx_http_portal_pdf_add(ctx, json_is_string(created)
                                     ? " · déposée le " : "\nDéposée le ",
                                NGX_HTTP_PORTAL_PDF_SMALL
                                |NGX_HTTP_PORTAL_PDF_MUTED);
        ngx_http_portal_pdf_add_time(ctx, submitted,
                                     NGX_HTTP_PORTAL_PDF_SMALL
                                     |NGX_HTTP_PORTAL_PDF_MUTED);
    }

    (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_BOX,
                                    14, 0, 0, 0);
}


static void
ngx_http_portal_pdf_applicant(ngx_http_portal_pdf_ctx_t *ctx)
{
    size_t         start;
    const json_t  *a, *address, *member, *v;

    a = ngx_http_portal_pdf_get(ctx->doc, NGX_HTTP_PORTAL_PDF_K_APPLICANT);

    if (json_is_object(a)) {
        ngx_http_portal_pdf_heading(ctx, "Demandeur");

        /* "Mme Anne Dupont": the pieces there are, one space apart */

        ngx_http_portal_pdf_add(ctx, "Nom" NBSP ": ",
                                NGX_HTTP_PORTAL_PDF_BOLD);

        start = ctx->text.s->len;

        if (ngx_http_portal_pdf_add_data(ctx,
                ngx_http_portal_pdf_get(a, NGX_HTTP_PORTAL_PDF_K_CIVILITY),
                0, NGX_HTTP_PORTAL_PDF_FIELD_MAX, NGX_HTTP_PORTAL_PDF_LINE))
        {
            ngx_http_portal_pdf_add(ctx, " ", 0);
        }

        if (ngx_http_portal_pdf_add_data(ctx,
                ngx_http_portal_pdf_get(a, NGX_HTTP_PORTAL_PDF_K_FIRST_NAME),
                0, NGX_HTTP_PORTAL_PDF_FIELD_MAX, NGX_HTTP_PORTAL_PDF_LINE))
        {
            ngx_http_portal_pdf_add(ctx, " ", 0);
        }

        if (ngx_http_portal_pdf_add_data(ctx,
                ngx_http_portal_pdf_get(a, NGX_HTTP_PORTAL_PDF_K_LAST_NAME),
                0, NGX_HTTP_PORTAL_PDF_FIELD_MAX, NGX_HTTP_PORTAL_PDF_LINE)
            == 0)
        {
            /* else the name as one */

            (void) ngx_http_portal_pdf_add_data(ctx,
                    ngx_http_portal_pdf_get(a, NGX_HTTP_PORTAL_PDF_K_NAME),
                    0, NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                    NGX_HTTP_PORTAL_PDF_LINE);
        }

        if (ctx->text.s->len == start) {
            ngx_http_portal_pdf_add(ctx, "non renseigné",
                                    NGX_HTTP_PORTAL_PDF_MUTED);
        }

        (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA,
                                        0, 0, 0, 0);

        address = ngx_http_portal_pdf_get(a, NGX_HTTP_PORTAL_PDF_K_ADDRESS);

        if (json_is_string(address)) {
            ngx_http_portal_pdf_field(ctx, "Adresse", address, 3);

        } else if (json_is_object(address)) {
            ngx_http_portal_pdf_add(ctx, "Adresse" NBSP ": ",
                                    NGX_HTTP_PORTAL_PDF_BOLD);

            start = ctx->text.s->len;

            if (ngx_http_portal_pdf_add_data(ctx,
                    ngx_http_portal_pdf_get(address,
                                            NGX_HTTP_PORTAL_PDF_K_LINE),
                    0, NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                    NGX_HTTP_PORTAL_PDF_LINES))
            {
                ngx_http_portal_pdf_add(ctx, "\n", 0);
            }

            if (ngx_http_portal_pdf_add_data(ctx,
                    ngx_http_portal_pdf_get(address,
                                            NGX_HTTP_PORTAL_PDF_K_POSTCODE),
                    0, 32, NGX_HTTP_PORTAL_PDF_LINE))
            {
                ngx_http_portal_pdf_add(ctx, " ", 0);
            }

            (void) ngx_http_portal_pdf_add_data(ctx,
                    ngx_http_portal_pdf_get(address,
                                            NGX_HTTP_PORTAL_PDF_K_CITY),
                    0, NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                    NGX_HTTP_PORTAL_PDF_LINE);

            if (ctx->text.s->len == start) {
                ngx_http_portal_pdf_reset(ctx);

            } else {
                (void) ngx_http_portal_pdf_push(ctx,
                                                NGX_HTTP_PORTAL_PDF_PARA,
                                                3, 0, 0, 0);
            }
        }

        v = ngx_http_portal_pdf_get(a, NGX_HTTP_PORTAL_PDF_K_EMAIL);
        ngx_http_portal_pdf_field(ctx, "Courriel", v, 3);

        v = ngx_http_portal_pdf_get(a, NGX_HTTP_PORTAL_PDF_K_PHONE);
        ngx_http_portal_pdf_field(ctx, "Téléphone", v, 3);
    }

    member = ngx_http_portal_pdf_get(ctx->doc, NGX_HTTP_PORTAL_PDF_K_MEMBER);
    v = ngx_http_portal_pdf_get(member, NGX_HTTP_PORTAL_PDF_K_NAME);

    if (v != NULL) {
        ngx_http_portal_pdf_heading(ctx, "Personne concernée");
        ngx_http_portal_pdf_field(ctx, "Nom", v, 0);
    }
}


static void
ngx_http_portal_pdf_answers(ngx_http_portal_pdf_ctx_t *ctx)
{
    size_t         i, n;
    const json_t  *answers, *a;

    ngx_http_portal_pdf_heading(ctx, "Réponses");

    answers = ngx_http_portal_pdf_get(ctx->doc, NGX_HTTP_PORTAL_PDF_K_ANSWERS);
    n = json_is_array(answers) ? json_array_size(answers) : 0;

    if (n == 0) {
        ngx_http_portal_pdf_add(ctx, "Aucune réponse.",
                                NGX_HTTP_PORTAL_PDF_MUTED);
        (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA,
                                        0, 0, 0, 0);
        return;
    }

    for (i = 0; i < n && i < NGX_HTTP_PORTAL_PDF_ANSWERS_MAX; i++) {
        a = json_array_get(answers, i);

        if (!json_is_object(a)) {
            continue;
        }

        /* the question, kept with the first lines of its answer */

        if (ngx_http_portal_pdf_add_data(ctx,
                ngx_http_portal_pdf_get(a, NGX_HTTP_PORTAL_PDF_K_LABEL),
                NGX_HTTP_PORTAL_PDF_BOLD, NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                NGX_HTTP_PORTAL_PDF_LINE)
            == 0)
        {
            ngx_http_portal_pdf_add(ctx, "Question sans intitulé",
                                    NGX_HTTP_PORTAL_PDF_BOLD
                                    |NGX_HTTP_PORTAL_PDF_MUTED);
        }

        (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA,
                                        i == 0 ? 0 : 9, 0, 0, 1);

        if (ngx_http_portal_pdf_add_data(ctx,
                ngx_http_portal_pdf_get(a, NGX_HTTP_PORTAL_PDF_K_VALUE),
                0, NGX_HTTP_PORTAL_PDF_VALUE_MAX, NGX_HTTP_PORTAL_PDF_LINES)
            == 0)
        {
            ngx_http_portal_pdf_add(ctx, "non renseigné",
                                    NGX_HTTP_PORTAL_PDF_MUTED);
        }

        (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA,
                                        2, NGX_HTTP_PORTAL_PDF_HANG, 0, 0);
    }

    ngx_http_portal_pdf_left_out(ctx, n - i, "réponse non reproduite",
                                 "réponses non reproduites");
}


static void
ngx_http_portal_pdf_documents(ngx_http_portal_pdf_ctx_t *ctx)
{
    char           size[64];
    size_t         i, n;
    const json_t  *documents, *d, *v;

    ngx_http_portal_pdf_heading(ctx, "Pièces justificatives");

    documents = ngx_http_portal_pdf_get(ctx->doc,
                                        NGX_HTTP_PORTAL_PDF_K_DOCUMENTS);
    n = json_is_array(documents) ? json_array_size(documents) : 0;

    if (n == 0) {
        ngx_http_portal_pdf_add(ctx, "Aucune pièce justificative n’a été "
                                "déposée en ligne.",
                                NGX_HTTP_PORTAL_PDF_MUTED);
        (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA,
                                        0, 0, 0, 0);
        return;
    }

    for (i = 0; i < n && i < NGX_HTTP_PORTAL_PDF_DOCUMENTS_MAX; i++) {
        d = json_array_get(documents, i);

        if (!json_is_object(d)) {
            continue;
        }

        ngx_http_portal_pdf_add(ctx, "•" NBSP " ", NGX_HTTP_PORTAL_PDF_ACCENT);

        if (ngx_http_portal_pdf_add_data(ctx,
                ngx_http_portal_pdf_get(d, NGX_HTTP_PORTAL_PDF_K_LABEL),
                NGX_HTTP_PORTAL_PDF_BOLD, NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                NGX_HTTP_PORTAL_PDF_LINE)
            == 0)
        {
            ngx_http_portal_pdf_add(ctx, "Document", NGX_HTTP_PORTAL_PDF_BOLD);
        }

        v = ngx_http_portal_pdf_get(d, NGX_HTTP_PORTAL_PDF_K_FILENAME);

        if (!ngx_http_portal_pdf_empty(v)) {
            ngx_http_portal_pdf_add(ctx, NBSP ": ", 0);
            (void) ngx_http_portal_pdf_add_data(ctx, v, 0,
                                                NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                                                NGX_HTTP_PORTAL_PDF_LINE);
        }

        v = ngx_http_portal_pdf_get(d, NGX_HTTP_PORTAL_PDF_K_SIZE);

        if (json_is_number(v)) {
            ngx_http_portal_pdf_french_size(size, sizeof(size), v);
            ngx_http_portal_pdf_add(ctx, " (", NGX_HTTP_PORTAL_PDF_MUTED);
            ngx_http_portal_pdf_add(ctx, size, NGX_HTTP_PORTAL_PDF_MUTED);
            ngx_http_portal_pdf_add(ctx, ")", NGX_HTTP_PORTAL_PDF_MUTED);
        }

        (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA,
                                        i == 0 ? 0 : 3, 0,
                                        NGX_HTTP_PORTAL_PDF_HANG, 0);
    }

    ngx_http_portal_pdf_left_out(ctx, n - i, "document non reproduit",
                                 "documents non reproduits");
}


static void
ngx_http_portal_pdf_history(ngx_http_portal_pdf_ctx_t *ctx)
{
    size_t         i, n;
    const json_t  *history, *e, *v;

    history = ngx_http_portal_pdf_get(ctx->doc, NGX_HTTP_PORTAL_PDF_K_HISTORY);
    n = json_is_array(history) ? json_array_size(history) : 0;

    if (n == 0) {
        return;
    }

    ngx_http_portal_pdf_heading(ctx, "Historique");

    for (i = 0; i < n && i < NGX_HTTP_PORTAL_PDF_HISTORY_MAX; i++) {
        e = json_array_get(history, i);

        if (!json_is_object(e)) {
            continue;
        }

        v = ngx_http_portal_pdf_get(e, NGX_HTTP_PORTAL_PDF_K_AT);

        if (json_is_string(v)) {
            ngx_http_portal_pdf_add_time(ctx, v, NGX_HTTP_PORTAL_PDF_BOLD);

        } else {
            ngx_http_portal_pdf_add(ctx, "Date inconnue",
                                    NGX_HTTP_PORTAL_PDF_BOLD);
        }

        v = ngx_http_portal_pdf_get(e, NGX_HTTP_PORTAL_PDF_K_LABEL);

        if (v == NULL) {
            v = ngx_http_portal_pdf_get(e, NGX_HTTP_PORTAL_PDF_K_TO_LABEL);
        }

        if (!ngx_http_portal_pdf_empty(v)) {
            ngx_http_portal_pdf_add(ctx, " — ", 0);
            (void) ngx_http_portal_pdf_add_data(ctx, v, 0,
                                                NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                                                NGX_HTTP_PORTAL_PDF_LINE);
        }

        v = ngx_http_portal_pdf_get(e, NGX_HTTP_PORTAL_PDF_K_MOTIVE);

        if (!ngx_http_portal_pdf_empty(v)) {
            ngx_http_portal_pdf_add(ctx, "\nMotif" NBSP ": ",
                                    NGX_HTTP_PORTAL_PDF_MUTED);
            (void) ngx_http_portal_pdf_add_data(ctx, v, 0,
                                                NGX_HTTP_PORTAL_PDF_VALUE_MAX,
                                                NGX_HTTP_PORTAL_PDF_LINES);
        }

        (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA,
                                        i == 0 ? 0 : 4, 0,
                                        NGX_HTTP_PORTAL_PDF_HANG, 0);
    }

    ngx_http_portal_pdf_left_out(ctx, n - i, "événement non reproduit",
                                 "événements non reproduits");
}


/* "Label : value", when there is a value */

static void
ngx_http_portal_pdf_field(ngx_http_portal_pdf_ctx_t *ctx, const char *label,
    const json_t *v, double before)
{
    if (ngx_http_portal_pdf_empty(v)) {
        return;
    }

    ngx_http_portal_pdf_add(ctx, label, NGX_HTTP_PORTAL_PDF_BOLD);
    ngx_http_portal_pdf_add(ctx, NBSP ": ", NGX_HTTP_PORTAL_PDF_BOLD);
    (void) ngx_http_portal_pdf_add_data(ctx, v, 0,
                                        NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                                        NGX_HTTP_PORTAL_PDF_LINES);
    (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA, before,
                                    0, 0, 0);
}


static void
ngx_http_portal_pdf_left_out(ngx_http_portal_pdf_ctx_t *ctx, size_t n,
    const char *one, const char *many)
{
    char  buf[128];

    if (n == 0) {
        return;
    }

    snprintf(buf, sizeof(buf), "… et %zu %s dans ce document.",
             n, n == 1 ? one : many);

    ngx_http_portal_pdf_add(ctx, buf, NGX_HTTP_PORTAL_PDF_MUTED);
    (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA, 8, 0, 0, 0);
    ctx->cut = 1;
}


static void
ngx_http_portal_pdf_heading(ngx_http_portal_pdf_ctx_t *ctx, const char *title)
{
    ngx_http_portal_pdf_block_t  *b;

    ngx_http_portal_pdf_add(ctx, title, NGX_HTTP_PORTAL_PDF_H);

    b = ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_HEADING, 18,
                                 0, 0, 1);
    if (b != NULL) {
        b->outline = title;
        b->after = 7;
    }
}


/* ------------------------------------------------------ text to blocks */

static ngx_http_portal_pdf_block_t *
ngx_http_portal_pdf_push(ngx_http_portal_pdf_ctx_t *ctx,
    ngx_http_portal_pdf_kind_e kind, double before, double indent,
    double hang, unsigned keep)
{
    size_t                        n;
    double                        width;
    PangoLayout                  *layout;
    ngx_http_portal_pdf_block_t  *b;

    if (ctx->text.s->len == 0 || ctx->failed) {
        ngx_http_portal_pdf_reset(ctx);
        return NULL;
    }

    if (ctx->nblocks == ctx->nalloc) {
        n = ctx->nalloc ? 2 * ctx->nalloc : 64;

        b = realloc(ctx->blocks, n * sizeof(ngx_http_portal_pdf_block_t));
        if (b == NULL) {
            ctx->failed = 1;
            ngx_http_portal_pdf_reset(ctx);
            return NULL;
        }

        ctx->blocks = b;
        ctx->nalloc = n;
    }

    width = NGX_HTTP_PORTAL_PDF_TEXT_WIDTH - indent;

    if (kind == NGX_HTTP_PORTAL_PDF_BOX) {
        width -= 2 * NGX_HTTP_PORTAL_PDF_BOX_PAD + NGX_HTTP_PORTAL_PDF_BOX_BAR;
    }

    layout = ngx_http_portal_pdf_take(ctx, width);

    if (hang > 0) {
        /* the lines after the first start under the text, not the bullet */
        pango_layout_set_indent(layout, (int) (-hang * PANGO_SCALE));
    }

    b = &ctx->blocks[ctx->nblocks++];

    b->layout = layout;
    b->outline = NULL;
    b->indent = indent;
    b->before = before;
    b->after = 0;
    b->kind = kind;
    b->keep = keep;

    return b;
}


/* a layout of the text put together, which starts again empty */

static PangoLayout *
ngx_http_portal_pdf_take(ngx_http_portal_pdf_ctx_t *ctx, double width)
{
    PangoLayout     *layout;
    PangoAttribute  *a;

    /* a word cut at a line's end gets no hyphen: it may be an address */

    a = pango_attr_insert_hyphens_new(FALSE);
    a->start_index = 0;
    a->end_index = PANGO_ATTR_INDEX_TO_TEXT_END;
    pango_attr_list_insert_before(ctx->text.attrs, a);

    layout = pango_layout_new(ctx->context);

    pango_layout_set_width(layout, (int) (width * PANGO_SCALE));
    pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_text(layout, ctx->text.s->str, (int) ctx->text.s->len);
    pango_layout_set_attributes(layout, ctx->text.attrs);

    ngx_http_portal_pdf_reset(ctx);

    return layout;
}


static void
ngx_http_portal_pdf_reset(ngx_http_portal_pdf_ctx_t *ctx)
{
    g_string_truncate(ctx->text.s, 0);

    pango_attr_list_unref(ctx->text.attrs);
    ctx->text.attrs = pango_attr_list_new();
}


static int
ngx_http_portal_pdf_empty(const json_t *v)
{
    if (v == NULL) {
        return 1;
    }

    switch (json_typeof(v)) {

    case JSON_STRING:
        return json_string_length(v) == 0;

    case JSON_ARRAY:
        return json_array_size(v) == 0;

    case JSON_INTEGER:
    case JSON_REAL:
    case JSON_TRUE:
    case JSON_FALSE:
        return 0;

    default:
        return 1;
    }
}


/* our own text: trusted, short */

static void
ngx_http_portal_pdf_add(ngx_http_portal_pdf_ctx_t *ctx, const char *s,
    unsigned style)
{
    size_t  start;

    start = ctx->text.s->len;
    g_string_append(ctx->text.s, s);

    ngx_http_portal_pdf_style(ctx, start, style);
}


/* the configuration's text: checked as the database's, for UTF-8 */

static size_t
ngx_http_portal_pdf_add_town(ngx_http_portal_pdf_ctx_t *ctx, const char *s,
    unsigned style)
{
    size_t  start;

    if (s == NULL) {
        return 0;
    }

    start = ctx->text.s->len;

    (void) ngx_http_portal_pdf_clean(ctx, s, strlen(s),
                                     NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                                     NGX_HTTP_PORTAL_PDF_LINE, 0);
    ngx_http_portal_pdf_style(ctx, start, style);

    return ctx->text.s->len - start;
}


/*
 * The database's text, cleaned and capped; a number, a yes or no, or a
 * list of those (a multiple choice).  Returns the bytes added.
 */

static size_t
ngx_http_portal_pdf_add_data(ngx_http_portal_pdf_ctx_t *ctx, const json_t *v,
    unsigned style, size_t max, unsigned lines)
{
    char           buf[64], *p;
    size_t         start, i, n;
    const json_t  *item, *one;

    if (v == NULL) {
        return 0;
    }

    start = ctx->text.s->len;

    n = json_is_array(v) ? json_array_size(v) : 1;

    /* a choice among at most 100 */

    for (i = 0; i < n && i < 100; i++) {
        one = json_is_array(v) ? json_array_get(v, i) : v;
        item = one;

        if (json_is_array(v) && i > 0 && !json_is_array(item)
            && !json_is_object(item) && !json_is_null(item))
        {
            g_string_append(ctx->text.s, ", ");
        }

        switch (json_typeof(item)) {

        case JSON_STRING:
            (void) ngx_http_portal_pdf_clean(ctx, json_string_value(item),
                                             json_string_length(item),
                                             max, lines, 0);
            break;

        case JSON_INTEGER:
            snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(item));
            g_string_append(ctx->text.s, buf);
            break;

        case JSON_REAL:
            snprintf(buf, sizeof(buf), "%.15g", json_real_value(item));

            /* a French decimal comma */

            p = strchr(buf, '.');
            if (p != NULL) {
                *p = ',';
            }

            g_string_append(ctx->text.s, buf);
            break;

        case JSON_TRUE:
            g_string_append(ctx->text.s, "oui");
            break;

        case JSON_FALSE:
            g_string_append(ctx->text.s, "non");
            break;

        default:
            break;
        }
    }

    ngx_http_portal_pdf_style(ctx, start, style);

    return ctx->text.s->len - start;
}


/*
 * Appends UTF-8 from the database, made safe to print: invalid bytes as
 * U+FFFD; NULs and control characters dropped, and the bidirectional
 * embeddings, overrides and isolates, which could make a value read
 * backwards or reorder the text around it; CR LF, CR and the Unicode
 * separators as LF, or a space on one line; blank lines at most one in a
 * row; at most MARKS_MAX combining marks in a row; a break opportunity
 * in words longer than WORD_MAX; outer blanks trimmed; the space before
 * "?", "!", ";", ":", "»" and after "«" made no-break.
 * At most max bytes and VALUE_LINES lines, within what is left of the
 * document's budget, else " […]".
 */

static size_t
ngx_http_portal_pdf_clean(ngx_http_portal_pdf_ctx_t *ctx, const char *p,
    size_t len, size_t max, unsigned lines, unsigned upper)
{
    char          utf8[8];
    size_t        start, n, nl;
    gunichar      ch, prev;
    GString      *s;
    const char   *last;
    unsigned      cut, count, marks, run, space;

    s = ctx->text.s;
    start = s->len;
    last = p + len;
    count = 0;
    nl = 0;
    cut = 0;
    marks = 0;
    run = 0;
    prev = 0;

    if (max > ctx->budget) {
        max = ctx->budget;
    }

    while (p < last) {
        if (*p == '\0') {
            p++;
            continue;
        }

        ch = g_utf8_get_char_validated(p, last - p);

        if (ch == (gunichar) -1 || ch == (gunichar) -2) {
            ch = 0xfffd;
            n = 1;

        } else {
            n = g_utf8_next_char(p) - p;
        }

        p += n;

        if (ch == '\r') {
            if (p < last && *p == '\n') {
                continue;
            }

            ch = '\n';
        }

        if (ch == 0x2028 || ch == 0x2029) {
            ch = '\n';
        }

        if (ch == '\t') {
            ch = ' ';
        }

        if (ch == '\n') {
            if (!lines) {
                ch = ' ';

            } else {
                if (s->len == start || ++nl > 2) {
                    continue;
                }

                if (++count >= NGX_HTTP_PORTAL_PDF_VALUE_LINES) {
                    cut = 1;
                    break;
                }
            }
        }

        if (ch == ' ' && s->len == start) {
            continue;
        }

        if ((ch < 0x20 && ch != '\n') || (ch >= 0x7f && ch < 0xa0)
            || (ch >= 0x202a && ch <= 0x202e)
            || (ch >= 0x2066 && ch <= 0x2069))
        {
            continue;
        }

        if (ch != '\n' && ch != ' ') {
            nl = 0;
        }

        /* a letter carries a few accents, not a column of them */

        if (g_unichar_ismark(ch)) {
            if (++marks > NGX_HTTP_PORTAL_PDF_MARKS_MAX) {
                continue;
            }

        } else {
            marks = 0;
        }

        if (upper && s->len == start) {
            ch = g_unichar_toupper(ch);
        }

        /*
         * a break opportunity (U+200B) in a long run without a space,
         * before a letter or a digit that does not end an emoji sequence:
         * pango measures such a run again for every line it is cut in, a
         * cost in the square of its length
         */

        if (ch == ' ' || ch == '\n') {
            run = 0;

        } else if (++run > NGX_HTTP_PORTAL_PDF_WORD_MAX
                   && g_unichar_isalnum(ch) && prev != 0x200d
                   && s->len - start + 3 + 4 <= max)
        {
            g_string_append(s, ZWSP);
            run = 1;
        }

        prev = ch;

        n = g_unichar_to_utf8(ch, utf8);

        /* French spacing: no line break before "?", "!", ";", ":", "»" */

        space = (s->len > start && s->str[s->len - 1] == ' '
                 && s->len - start + n + 2 <= max);

        if (space && (ch == '?' || ch == '!' || ch == ';')) {
            g_string_truncate(s, s->len - 1);
            g_string_append(s, NNBSP);

        } else if (space && (ch == ':' || ch == 0xbb)) {
            g_string_truncate(s, s->len - 1);
            g_string_append(s, NBSP);

        } else if (ch == ' ' && s->len >= start + 2
                   && memcmp(s->str + s->len - 2, "\xc2\xab", 2) == 0)
        {
            n = g_unichar_to_utf8(0xa0, utf8);
        }

        if (s->len - start + n > max) {
            cut = 1;
            break;
        }

        g_string_append_len(s, utf8, n);
    }

    /* no blank or line break at the end */

    while (s->len > start
           && (s->str[s->len - 1] == ' ' || s->str[s->len - 1] == '\n'))
    {
        g_string_truncate(s, s->len - 1);
    }

    n = s->len - start;
    ctx->budget -= n;

    if (cut) {
        g_string_append(s, n ? " […]" : "[…]");
        ctx->cut = 1;
    }

    return s->len - start;
}


static void
ngx_http_portal_pdf_add_time(ngx_http_portal_pdf_ctx_t *ctx, const json_t *v,
    unsigned style)
{
    char                      buf[64];
    ngx_http_portal_pdf_tm_t  tm;

    if (ngx_http_portal_pdf_parse_time(json_string_value(v),
                                       json_string_length(v), &tm)
        == 0)
    {
        ngx_http_portal_pdf_french_time(buf, sizeof(buf), &tm);
        ngx_http_portal_pdf_add(ctx, buf, style);
        return;
    }

    /* not a date we know: as it is */

    (void) ngx_http_portal_pdf_add_data(ctx, v, style, 40,
                                        NGX_HTTP_PORTAL_PDF_LINE);
}


static void
ngx_http_portal_pdf_style(ngx_http_portal_pdf_ctx_t *ctx, size_t start,
    unsigned style)
{
    size_t           end;
    unsigned         i, n;
    PangoAttribute  *a[4];

    end = ctx->text.s->len;

    if (end == start || style == 0) {
        return;
    }

    n = 0;

    if (style & NGX_HTTP_PORTAL_PDF_BOLD) {
        a[n++] = pango_attr_weight_new(PANGO_WEIGHT_BOLD);
    }

    if (style & NGX_HTTP_PORTAL_PDF_SMALL) {
        a[n++] = pango_attr_size_new(8.5 * PANGO_SCALE);

    } else if (style & NGX_HTTP_PORTAL_PDF_LARGE) {
        a[n++] = pango_attr_size_new(12.5 * PANGO_SCALE);

    } else if (style & NGX_HTTP_PORTAL_PDF_TITLE) {
        a[n++] = pango_attr_size_new(17 * PANGO_SCALE);
    }

    if (style & NGX_HTTP_PORTAL_PDF_MUTED) {
        a[n++] = pango_attr_foreground_new(0x5050, 0x5050, 0x5050);

    } else if (style & NGX_HTTP_PORTAL_PDF_ACCENT) {
        a[n++] = pango_attr_foreground_new(0x1f1f, 0x3a3a, 0x6868);
    }

    for (i = 0; i < n; i++) {
        a[i]->start_index = start;
        a[i]->end_index = end;
        pango_attr_list_insert(ctx->text.attrs, a[i]);
    }
}


/* ----------------------------------------------------------- the pages */

static int
ngx_http_portal_pdf_flow(ngx_http_portal_pdf_ctx_t *ctx)
{
    size_t  i;

    ctx->page = 0;
    ctx->stop = 0;

    (void) ngx_http_portal_pdf_new_page(ctx);

    for (i = 0; i < ctx->nblocks && !ctx->stop; i++) {
        ngx_http_portal_pdf_place(ctx, i);
    }

    if (ctx->draw) {
        ngx_http_portal_pdf_foot(ctx);
        cairo_show_page(ctx->cr);

    } else {
        ctx->pages = ctx->page;
    }

    return ctx->page;
}


static void
ngx_http_portal_pdf_place(ngx_http_portal_pdf_ctx_t *ctx, size_t i)
{
    int                           y0, y1, baseline, width, height;
    char                          dest[64];
    double                        x, y, h;
    cairo_t                      *cr;
    PangoRectangle                logical;
    PangoLayoutIter              *iter;
    ngx_http_portal_pdf_block_t  *b;

    b = &ctx->blocks[i];
    cr = ctx->cr;

    /* no space above a block at the top of a page */

    if (ctx->y > ctx->top) {
        ctx->y += b->before;
    }

    if (ctx->y + ngx_http_portal_pdf_need(ctx, i) > NGX_HTTP_PORTAL_PDF_BOTTOM
        && ctx->y > ctx->top)
    {
        if (ngx_http_portal_pdf_new_page(ctx) != 0) {
            return;
        }
    }

    x = NGX_HTTP_PORTAL_PDF_LEFT + b->indent;

    if (b->kind == NGX_HTTP_PORTAL_PDF_BOX) {
        pango_layout_get_size(b->layout, &width, &height);
        h = (double) height / PANGO_SCALE + 2 * NGX_HTTP_PORTAL_PDF_BOX_PAD;

        if (ctx->draw) {
            cairo_set_source_rgb(cr, 0.93, 0.95, 0.98);
            cairo_rectangle(cr, x, ctx->y, NGX_HTTP_PORTAL_PDF_TEXT_WIDTH
                                           - b->indent, h);
            cairo_fill(cr);

            cairo_set_source_rgb(cr, 0.122, 0.227, 0.408);
            cairo_rectangle(cr, x, ctx->y, NGX_HTTP_PORTAL_PDF_BOX_BAR, h);
            cairo_fill(cr);

            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            cairo_move_to(cr, x + NGX_HTTP_PORTAL_PDF_BOX_BAR
                              + NGX_HTTP_PORTAL_PDF_BOX_PAD,
                          ctx->y + NGX_HTTP_PORTAL_PDF_BOX_PAD);
            pango_cairo_show_layout(cr, b->layout);
        }

        ctx->y += h;
        return;
    }

    /* line by line, so that a page ends between two of them */

    y = ctx->y;

    iter = pango_layout_get_iter(b->layout);

    do {
        pango_layout_iter_get_line_yrange(iter, &y0, &y1);
        h = (double) (y1 - y0) / PANGO_SCALE;

        if (ctx->y + h > NGX_HTTP_PORTAL_PDF_BOTTOM && ctx->y > ctx->top) {
            if (ngx_http_portal_pdf_new_page(ctx) != 0) {
                break;
            }

            y = ctx->y;
        }

        if (ctx->draw) {
            pango_layout_iter_get_line_extents(iter, NULL, &logical);
            baseline = pango_layout_iter_get_baseline(iter);

            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            cairo_move_to(cr, x + (double) logical.x / PANGO_SCALE,
                          ctx->y + (double) (baseline - y0) / PANGO_SCALE);
            pango_cairo_show_layout_line(cr,
                                   pango_layout_iter_get_line_readonly(iter));
        }

        ctx->y += h;

    } while (pango_layout_iter_next_line(iter));

    pango_layout_iter_free(iter);

    if (b->kind == NGX_HTTP_PORTAL_PDF_HEADING && ctx->draw && !ctx->stop) {
        cairo_set_source_rgb(cr, 0.122, 0.227, 0.408);
        cairo_set_line_width(cr, 0.8);
        cairo_move_to(cr, x, ctx->y + 2);
        cairo_line_to(cr, NGX_HTTP_PORTAL_PDF_LEFT
                          + NGX_HTTP_PORTAL_PDF_TEXT_WIDTH, ctx->y + 2);
        cairo_stroke(cr);

        /* a bookmark to the section, for the reader's outline */

        snprintf(dest, sizeof(dest), "page=%d pos=[%d %d]", ctx->page,
                 (int) x, (int) y);
        (void) cairo_pdf_surface_add_outline(ctx->surface,
                                             CAIRO_PDF_OUTLINE_ROOT,
                                             b->outline, dest, 0);
    }

    ctx->y += b->after;
}


/*
 * The height a block needs at the foot of a page: its first two lines,
 * or all of it for a box, or, for a block kept with the next (a heading,
 * a question), all of it and what the next one needs
 */

static double
ngx_http_portal_pdf_need(ngx_http_portal_pdf_ctx_t *ctx, size_t i)
{
    int                           width, height;
    double                        need;
    ngx_http_portal_pdf_block_t  *b;

    need = 0;

    for ( ;; ) {
        b = &ctx->blocks[i];

        if (b->kind == NGX_HTTP_PORTAL_PDF_BOX) {
            pango_layout_get_size(b->layout, &width, &height);
            return need + (double) height / PANGO_SCALE
                   + 2 * NGX_HTTP_PORTAL_PDF_BOX_PAD;
        }

        if (!b->keep || i + 1 == ctx->nblocks) {
            return need + ngx_http_portal_pdf_lines_height(b->layout, 2);
        }

        pango_layout_get_size(b->layout, &width, &height);
        need += (double) height / PANGO_SCALE + b->after;

        i++;
        need += ctx->blocks[i].before;
    }
}


static double
ngx_http_portal_pdf_lines_height(PangoLayout *layout, int n)
{
    int               y0, y1, top;
    PangoLayoutIter  *iter;

    iter = pango_layout_get_iter(layout);

    pango_layout_iter_get_line_yrange(iter, &top, &y1);

    while (--n > 0 && pango_layout_iter_next_line(iter)) {
        pango_layout_iter_get_line_yrange(iter, &y0, &y1);
    }

    pango_layout_iter_free(iter);

    return (double) (y1 - top) / PANGO_SCALE;
}


static int
ngx_http_portal_pdf_new_page(ngx_http_portal_pdf_ctx_t *ctx)
{
    int  width, height;

    if (ctx->page == NGX_HTTP_PORTAL_PDF_PAGES_MAX) {
        ctx->stop = 1;
        ctx->truncated = 1;
        return -1;
    }

    if (ctx->page > 0 && ctx->draw) {
        ngx_http_portal_pdf_foot(ctx);
        cairo_show_page(ctx->cr);
    }

    ctx->page++;
    ctx->top = NGX_HTTP_PORTAL_PDF_TOP;

    /* after the first page, the town and the reference, small, above */

    if (ctx->page > 1 && ctx->running != NULL) {
        pango_layout_get_size(ctx->running, &width, &height);

        if (ctx->draw) {
            cairo_set_source_rgb(ctx->cr, 0.31, 0.31, 0.31);
            cairo_move_to(ctx->cr, NGX_HTTP_PORTAL_PDF_LEFT, ctx->top);
            pango_cairo_show_layout(ctx->cr, ctx->running);

            cairo_set_line_width(ctx->cr, 0.5);
            cairo_move_to(ctx->cr, NGX_HTTP_PORTAL_PDF_LEFT,
                          ctx->top + (double) height / PANGO_SCALE + 4);
            cairo_rel_line_to(ctx->cr, NGX_HTTP_PORTAL_PDF_TEXT_WIDTH, 0);
            cairo_stroke(ctx->cr);
        }

        ctx->top += (double) height / PANGO_SCALE + 16;
    }

    ctx->y = ctx->top;

    return 0;
}


static void
ngx_http_portal_pdf_foot(ngx_http_portal_pdf_ctx_t *ctx)
{
    char      folio[64];
    cairo_t  *cr;

    cr = ctx->cr;

    cairo_set_source_rgb(cr, 0.31, 0.31, 0.31);
    cairo_set_line_width(cr, 0.5);
    cairo_move_to(cr, NGX_HTTP_PORTAL_PDF_LEFT,
                  NGX_HTTP_PORTAL_PDF_FOOTER - 6);
    cairo_rel_line_to(cr, NGX_HTTP_PORTAL_PDF_TEXT_WIDTH, 0);
    cairo_stroke(cr);

    cairo_move_to(cr, NGX_HTTP_PORTAL_PDF_LEFT, NGX_HTTP_PORTAL_PDF_FOOTER);
    pango_cairo_show_layout(cr, ctx->footer);

    snprintf(folio, sizeof(folio), "Page %d / %d", ctx->page, ctx->pages);
    pango_layout_set_text(ctx->folio, folio, -1);

    cairo_move_to(cr, NGX_HTTP_PORTAL_PDF_LEFT, NGX_HTTP_PORTAL_PDF_FOOTER);
    pango_cairo_show_layout(cr, ctx->folio);
}


/* the top of the pages after the first: before the first pass */

static void
ngx_http_portal_pdf_running(ngx_http_portal_pdf_ctx_t *ctx)
{
    if (ctx->town != NULL
        && ngx_http_portal_pdf_add_town(ctx, ctx->town->name, 0))
    {
        ngx_http_portal_pdf_add(ctx, " — ", 0);
    }

    ngx_http_portal_pdf_add(ctx, "Demande ", 0);

    if (ngx_http_portal_pdf_add_data(ctx,
            ngx_http_portal_pdf_get(ctx->doc, NGX_HTTP_PORTAL_PDF_K_REFERENCE),
            0, 64, NGX_HTTP_PORTAL_PDF_LINE)
        == 0)
    {
        ngx_http_portal_pdf_add(ctx, "(suite)", 0);
    }

    ngx_http_portal_pdf_style(ctx, 0, NGX_HTTP_PORTAL_PDF_SMALL);

    ctx->running = ngx_http_portal_pdf_take(ctx,
                                            NGX_HTTP_PORTAL_PDF_TEXT_WIDTH);
    pango_layout_set_ellipsize(ctx->running, PANGO_ELLIPSIZE_END);
}


/* every page's foot: after the first pass, which knows if it is cut */

static void
ngx_http_portal_pdf_margins(ngx_http_portal_pdf_ctx_t *ctx)
{
    PangoFontDescription  *font;

    ngx_http_portal_pdf_add(ctx, "Document généré le ", 0);
    ngx_http_portal_pdf_add(ctx, ctx->generated, 0);
    ngx_http_portal_pdf_add(ctx, " — sans valeur d’acte officiel", 0);

    if (ctx->truncated) {
        ngx_http_portal_pdf_add(ctx, "\nDocument tronqué" NBSP ": la suite "
                                "de la demande ne tient pas dans ce "
                                "document.", NGX_HTTP_PORTAL_PDF_BOLD);
    }

    ngx_http_portal_pdf_style(ctx, 0, NGX_HTTP_PORTAL_PDF_SMALL);

    ctx->footer = ngx_http_portal_pdf_take(ctx,
                                           NGX_HTTP_PORTAL_PDF_TEXT_WIDTH
                                           - 70);
    pango_layout_set_ellipsize(ctx->footer, PANGO_ELLIPSIZE_END);

    /* "Page n / N", set for each page */

    ctx->folio = ngx_http_portal_pdf_take(ctx,
                                          NGX_HTTP_PORTAL_PDF_TEXT_WIDTH);
    pango_layout_set_alignment(ctx->folio, PANGO_ALIGN_RIGHT);

    font = pango_font_description_from_string(NGX_HTTP_PORTAL_PDF_FONT);
    pango_font_description_set_size(font, 8.5 * PANGO_SCALE);
    pango_layout_set_font_description(ctx->folio, font);
    pango_font_description_free(font);
}


/* the file's title, author, subject and dates, for readers and indexes */

static void
ngx_http_portal_pdf_metadata(ngx_http_portal_pdf_ctx_t *ctx)
{
    char                             date[64];
    const json_t                    *v;
    const ngx_http_portal_pdf_tm_t  *tm;

    ngx_http_portal_pdf_add(ctx, "Demande ", 0);

    (void) ngx_http_portal_pdf_add_data(ctx,
               ngx_http_portal_pdf_get(ctx->doc,
                                       NGX_HTTP_PORTAL_PDF_K_REFERENCE),
               0, 64, NGX_HTTP_PORTAL_PDF_LINE);

    v = ngx_http_portal_pdf_get(
                     ngx_http_portal_pdf_get(ctx->doc,
                                             NGX_HTTP_PORTAL_PDF_K_PROCEDURE),
                     NGX_HTTP_PORTAL_PDF_K_TITLE);

    if (!ngx_http_portal_pdf_empty(v)) {
        ngx_http_portal_pdf_add(ctx, " — ", 0);
        (void) ngx_http_portal_pdf_add_data(ctx, v, 0,
                                            NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                                            NGX_HTTP_PORTAL_PDF_LINE);
    }

    cairo_pdf_surface_set_metadata(ctx->surface, CAIRO_PDF_METADATA_TITLE,
                                   ctx->text.s->str);
    ngx_http_portal_pdf_reset(ctx);

    if (ctx->town != NULL
        && ngx_http_portal_pdf_add_town(ctx, ctx->town->name, 0))
    {
        cairo_pdf_surface_set_metadata(ctx->surface,
                                       CAIRO_PDF_METADATA_AUTHOR,
                                       ctx->text.s->str);
        ngx_http_portal_pdf_reset(ctx);
    }

    cairo_pdf_surface_set_metadata(ctx->surface, CAIRO_PDF_METADATA_SUBJECT,
                                   "Récapitulatif d’une demande faite "
                                   "en ligne");
    cairo_pdf_surface_set_metadata(ctx->surface, CAIRO_PDF_METADATA_CREATOR,
                                   "Portail Citoyen");

    tm = &ctx->generated_tm;

    if (tm->has_time) {
        if (tm->has_offset) {
            snprintf(date, sizeof(date),
                     "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
                     tm->year, tm->month, tm->day, tm->hour, tm->min,
                     tm->sec, tm->offset < 0 ? '-' : '+',
                     abs(tm->offset) / 60, abs(tm->offset) % 60);

        } else {
            snprintf(date, sizeof(date), "%04d-%02d-%02dT%02d:%02d:%02d",
                     tm->year, tm->month, tm->day, tm->hour, tm->min,
                     tm->sec);
        }

        cairo_pdf_surface_set_metadata(ctx->surface,
                                       CAIRO_PDF_METADATA_CREATE_DATE, date);
    }
}


/* cairo's output, into one growing buffer */

static cairo_status_t
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


/* ------------------------------------------------------ dates, numbers */

/*
 * ISO 8601 as PostgreSQL writes it: "2026-03-14", "2026-03-14T09:26:41",
 * with a space for the T, a fraction, "Z", "+01", "+01:00" or "+0100".
 * The time printed is the wall clock of the offset given: the database
 * writes it in the town's time zone.
 */

static int
ngx_http_portal_pdf_parse_time(const char *s, size_t len,
    ngx_http_portal_pdf_tm_t *tm)
{
    int          sign, oh, om;
    size_t       i;
    const char  *p, *last;

#define ngx_http_portal_pdf_digits(p, n, v)                                  \
    do {                                                                     \
        (v) = 0;                                                             \
        for (i = 0; i < (n); i++) {                                          \
            if ((p) + i >= last || (p)[i] < '0' || (p)[i] > '9') {           \
                return -1;                                                   \
            }                                                                \
            (v) = (v) * 10 + ((p)[i] - '0');                                 \
        }                                                                    \
        (p) += (n);                                                          \
    } while (0)

    memset(tm, 0, sizeof(ngx_http_portal_pdf_tm_t));

    p = s;
    last = s + len;

    ngx_http_portal_pdf_digits(p, 4, tm->year);

    if (p == last || *p++ != '-') {
        return -1;
    }

    ngx_http_portal_pdf_digits(p, 2, tm->month);

    if (p == last || *p++ != '-') {
        return -1;
    }

    ngx_http_portal_pdf_digits(p, 2, tm->day);

    if (tm->month < 1 || tm->month > 12 || tm->day < 1 || tm->day > 31) {
        return -1;
    }

    if (p == last) {
        return 0;
    }

    if (*p != 'T' && *p != 't' && *p != ' ') {
        return -1;
    }

    p++;

    ngx_http_portal_pdf_digits(p, 2, tm->hour);

    if (p == last || *p++ != ':') {
        return -1;
    }

    ngx_http_portal_pdf_digits(p, 2, tm->min);

    if (p < last && *p == ':') {
        p++;
        ngx_http_portal_pdf_digits(p, 2, tm->sec);

        if (p < last && (*p == '.' || *p == ',')) {
            p++;

            while (p < last && *p >= '0' && *p <= '9') {
                p++;
            }
        }
    }

    if (tm->hour > 23 || tm->min > 59 || tm->sec > 60) {
        return -1;
    }

    tm->has_time = 1;

    if (p == last) {
        return 0;
    }

    if (*p == 'Z' || *p == 'z') {
        tm->has_offset = 1;
        return (p + 1 == last) ? 0 : -1;
    }

    if (*p != '+' && *p != '-') {
        return -1;
    }

    sign = (*p++ == '-') ? -1 : 1;

    ngx_http_portal_pdf_digits(p, 2, oh);
    om = 0;

    if (p < last && *p == ':') {
        p++;
    }

    if (p < last) {
        ngx_http_portal_pdf_digits(p, 2, om);
    }

    if (p != last || oh > 23 || om > 59) {
        return -1;
    }

    tm->offset = sign * (oh * 60 + om);
    tm->has_offset = 1;

    return 0;

#undef ngx_http_portal_pdf_digits
}


/* "1er mars 2026 à 09 h 26", "14 mars 2026" */

static void
ngx_http_portal_pdf_french_time(char *buf, size_t size,
    const ngx_http_portal_pdf_tm_t *tm)
{
    int  n;

    n = snprintf(buf, size, "%d%s" NBSP "%s" NBSP "%04d",
                 tm->day, tm->day == 1 ? "er" : "",
                 ngx_http_portal_pdf_months[tm->month - 1], tm->year);

    if (tm->has_time && n > 0 && (size_t) n < size) {
        snprintf(buf + n, size - n, " à" NBSP "%02d" NBSP "h" NBSP "%02d",
                 tm->hour, tm->min);
    }
}


/* as the pages show them: "350 octets", "12,4 Ko", "1,2 Mo" */

static void
ngx_http_portal_pdf_french_size(char *buf, size_t size, const json_t *v)
{
    double     d;
    long long  n, tenths;

    d = json_number_value(v);

    if (!(d >= 0 && d < 1e15)) {
        snprintf(buf, size, "taille inconnue");
        return;
    }

    n = (long long) d;

    if (n < 1024) {
        snprintf(buf, size, "%lld" NBSP "octet%s", n, n > 1 ? "s" : "");
        return;
    }

    if (n < 1024 * 1024) {
        tenths = (n * 10 + 512) / 1024;
        snprintf(buf, size, "%lld,%lld" NBSP "Ko", tenths / 10, tenths % 10);
        return;
    }

    tenths = (n * 10 + 512 * 1024) / (1024 * 1024);
    snprintf(buf, size, "%lld,%lld" NBSP "Mo", tenths / 10, tenths % 10);
}


/* ------------------------------------------------------------- JSON */

static const json_t *
ngx_http_portal_pdf_get(const json_t *o, const char *key)
{
    const json_t  *v;

    if (!json_is_object(o)) {
        return NULL;
    }

    v = json_object_get(o, key);

    return json_is_null(v) ? NULL : v;
}


static const char *
ngx_http_portal_pdf_string(const json_t *o, const char *key, size_t *len)
{
    const json_t  *v;

    v = ngx_http_portal_pdf_get(o, key);

    if (!json_is_string(v)) {
        *len = 0;
        return NULL;
    }

    *len = json_string_length(v);

    return json_string_value(v);
}
