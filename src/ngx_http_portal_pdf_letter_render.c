
/*
 * Portail Citoyen: a letter as a PDF to print, from the JSON of
 * portal.agent_letter(): A4, DejaVu Sans (embedded), for a window
 * envelope as French mail uses them, the window on the right.
 *
 * Page 1: the town's letterhead at the top left; the town's postal
 * address below it, on the left (the sender's block); on the right, at
 * the envelope's window, the recipient's address, at most 6 lines (La
 * Poste's limit; beyond it the first five and the last, the town's line,
 * are kept); small fold marks at the thirds of the page on the left edge.
 * Then, flowing over as many pages as it takes: the place and date
 * ("Saint-Exemple-sur-Loire, le 12 mars 2026") under the address, the
 * request's reference, "Objet : ...", the body, justified; the sentence
 * that no reply is needed and the closing, each unless the body already
 * says it; the service's name as the signature.  Pages after the first
 * carry the town, the reference and the date above; every page, the same
 * and "Page n / N" below.
 *
 * The fixed places of page 1 are drawn here before the text flows; the
 * text is placed by _pdf_page.c as a request's, after a first block as
 * tall as the space that the addresses take (a block at the top of a
 * page gets no space before it, but always its space after).  Text from
 * the database is cleaned and capped by _pdf_text.c, never parsed as
 * markup.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_portal_pdf_common.h"
#include "ngx_http_portal_pdf_letter_render.h"


/* the keys of portal.agent_letter()'s JSON */
#define NGX_HTTP_PORTAL_PDF_K_SUBJECT          "subject"
#define NGX_HTTP_PORTAL_PDF_K_BODY             "body"
#define NGX_HTTP_PORTAL_PDF_K_DATE_TEXT        "date_text"
#define NGX_HTTP_PORTAL_PDF_K_DUE_AT           "due_at"
#define NGX_HTTP_PORTAL_PDF_K_RECIPIENT_LINES  "recipient_lines"
#define NGX_HTTP_PORTAL_PDF_K_RECIPIENT        "recipient"
#define NGX_HTTP_PORTAL_PDF_K_REQUEST          "request"


#define NGX_HTTP_PORTAL_PDF_MM  (72.0 / 25.4)

/*
 * The window of a DL (110 x 220 mm) or C5/6 envelope: 100 x 45 mm, 20 mm
 * from the right edge, 15 mm from the bottom.  The sheet folded in three
 * slides in the envelope by some 10 mm: what shows through the window in
 * every position is, on the sheet, from 50 to 84 mm from the top and
 * from 95 to 190 mm from the left; the text keeps 5 mm from those edges.
 */
#define NGX_HTTP_PORTAL_PDF_LETTER_TO_X       (100 * NGX_HTTP_PORTAL_PDF_MM)
#define NGX_HTTP_PORTAL_PDF_LETTER_TO_Y       (50 * NGX_HTTP_PORTAL_PDF_MM)
#define NGX_HTTP_PORTAL_PDF_LETTER_TO_WIDTH   (85 * NGX_HTTP_PORTAL_PDF_MM)
#define NGX_HTTP_PORTAL_PDF_LETTER_TO_BOTTOM  (84 * NGX_HTTP_PORTAL_PDF_MM)
#define NGX_HTTP_PORTAL_PDF_LETTER_TO_LINES   6
/* a line of the address: La Poste's 38 characters, in bytes, with room */
#define NGX_HTTP_PORTAL_PDF_LETTER_LINE_MAX   160
/* lines of an address looked at, the last one always */
#define NGX_HTTP_PORTAL_PDF_LETTER_SPANS      64

/* the sender's block, left of the window */
#define NGX_HTTP_PORTAL_PDF_LETTER_FROM_WIDTH                                \
    (NGX_HTTP_PORTAL_PDF_LETTER_TO_X - NGX_HTTP_PORTAL_PDF_LEFT              \
     - 10 * NGX_HTTP_PORTAL_PDF_MM)

/* where the text starts on page 1, at the least */
#define NGX_HTTP_PORTAL_PDF_LETTER_START                                     \
    (NGX_HTTP_PORTAL_PDF_LETTER_TO_BOTTOM + 11 * NGX_HTTP_PORTAL_PDF_MM)


typedef struct {
    const char                     *data;
    size_t                          len;
} ngx_http_portal_pdf_span_t;


/* a letter being made: a PDF's context, and page 1's fixed places */
typedef struct {
    ngx_http_portal_pdf_ctx_t       pdf;

    PangoLayout                    *head;
    PangoLayout                    *from;
    PangoLayout                    *to;

    /* the letter's text, as printed, for what it may already say */
    unsigned                        no_reply:1;
    unsigned                        closing:1;
} ngx_http_portal_pdf_letter_t;


static int ngx_http_portal_pdf_letter_compose(
    ngx_http_portal_pdf_letter_t *lt);
static void ngx_http_portal_pdf_letter_metadata(
    ngx_http_portal_pdf_ctx_t *ctx);
static void ngx_http_portal_pdf_letter_addresses(
    ngx_http_portal_pdf_letter_t *lt);
static void ngx_http_portal_pdf_letter_recipient(
    ngx_http_portal_pdf_ctx_t *ctx);
static unsigned ngx_http_portal_pdf_letter_line(
    ngx_http_portal_pdf_ctx_t *ctx, const char *p, size_t len, unsigned n);
static void ngx_http_portal_pdf_letter_top(ngx_http_portal_pdf_letter_t *lt);
static void ngx_http_portal_pdf_letter_text(
    ngx_http_portal_pdf_letter_t *lt);
static void ngx_http_portal_pdf_letter_foot(ngx_http_portal_pdf_ctx_t *ctx);
static size_t ngx_http_portal_pdf_letter_date(ngx_http_portal_pdf_ctx_t *ctx);
static size_t ngx_http_portal_pdf_letter_place(
    ngx_http_portal_pdf_ctx_t *ctx);
static size_t ngx_http_portal_pdf_letter_reference(
    ngx_http_portal_pdf_ctx_t *ctx);
static void ngx_http_portal_pdf_letter_about(ngx_http_portal_pdf_ctx_t *ctx);
static int ngx_http_portal_pdf_letter_says(ngx_http_portal_pdf_ctx_t *ctx,
    size_t start, const char *what);
static PangoLayout *ngx_http_portal_pdf_letter_take(
    ngx_http_portal_pdf_ctx_t *ctx, double width, unsigned one_line);
static double ngx_http_portal_pdf_letter_height(PangoLayout *layout);
static void ngx_http_portal_pdf_letter_draw(ngx_http_portal_pdf_letter_t *lt);


int
ngx_http_portal_pdf_letter_render(const json_t *doc,
    const ngx_http_portal_pdf_town_t *town, u_char **pdf, size_t *len,
    char *err, size_t errlen)
{
    int                            rc;
    ngx_http_portal_pdf_buf_t      buf;
    ngx_http_portal_pdf_ctx_t     *ctx;
    ngx_http_portal_pdf_letter_t   lt;

    *pdf = NULL;
    *len = 0;

    if (!json_is_object(doc)) {
        snprintf(err, errlen, "the letter is not a JSON object");
        return -1;
    }

    if (ngx_http_portal_pdf_init(err, errlen) != 0) {
        return -1;
    }

    memset(&buf, 0, sizeof(buf));
    memset(&lt, 0, sizeof(lt));

    ctx = &lt.pdf;

    rc = -1;

    /* as the request's PDF: 72 dpi, unhinted metrics, French */

    if (ngx_http_portal_pdf_begin(ctx, &buf, doc, town, err, errlen) != 0) {
        goto done;
    }

    if (ngx_http_portal_pdf_letter_compose(&lt) != 0) {
        snprintf(err, errlen, "too many blocks of text");
        goto done;
    }

    /* the first pass counts the pages, the second draws them */

    ctx->draw = 0;
    (void) ngx_http_portal_pdf_flow(ctx);

    ngx_http_portal_pdf_letter_foot(ctx);

    ctx->draw = 1;
    ngx_http_portal_pdf_letter_draw(&lt);
    (void) ngx_http_portal_pdf_flow(ctx);

    rc = ngx_http_portal_pdf_end(ctx, &buf, pdf, len, err, errlen);

done:

    if (lt.head != NULL) {
        g_object_unref(lt.head);
    }

    if (lt.from != NULL) {
        g_object_unref(lt.from);
    }

    if (lt.to != NULL) {
        g_object_unref(lt.to);
    }

    ngx_http_portal_pdf_free(ctx, &buf);

    return rc;
}


/* ------------------------------------------------------- the contents */

static int
ngx_http_portal_pdf_letter_compose(ngx_http_portal_pdf_letter_t *lt)
{
    ngx_http_portal_pdf_ctx_t  *ctx;

    ctx = &lt->pdf;

    /* what frames the text first: the budget then goes on the body */

    ngx_http_portal_pdf_letter_metadata(ctx);

    ngx_http_portal_pdf_letter_about(ctx);
    ngx_http_portal_pdf_style(ctx, 0, NGX_HTTP_PORTAL_PDF_SMALL);
    ctx->running = ngx_http_portal_pdf_letter_take(ctx,
                                             NGX_HTTP_PORTAL_PDF_TEXT_WIDTH,
                                             1);

    ngx_http_portal_pdf_letter_addresses(lt);
    ngx_http_portal_pdf_letter_top(lt);
    ngx_http_portal_pdf_letter_text(lt);

    return ctx->failed ? -1 : 0;
}


static void
ngx_http_portal_pdf_letter_metadata(ngx_http_portal_pdf_ctx_t *ctx)
{
    const json_t              *v;
    ngx_http_portal_pdf_tm_t   tm;

    /* the date the letter is due, when it has a time */

    v = ngx_http_portal_pdf_get(ctx->doc, NGX_HTTP_PORTAL_PDF_K_DUE_AT);

    if (!json_is_string(v)
        || ngx_http_portal_pdf_parse_time(json_string_value(v),
                                          json_string_length(v), &tm) != 0)
    {
        tm.has_time = 0;
    }

    ngx_http_portal_pdf_add(ctx, "Courrier", 0);

    ngx_http_portal_pdf_describe(ctx,
        ngx_http_portal_pdf_get(ctx->doc, NGX_HTTP_PORTAL_PDF_K_SUBJECT),
        "Courrier de la mairie à un usager", &tm);
}


/* page 1's letterhead, the sender's block and the recipient's address */

static void
ngx_http_portal_pdf_letter_addresses(ngx_http_portal_pdf_letter_t *lt)
{
    size_t                      i;
    unsigned                    n;
    const char                 *line;
    ngx_http_portal_pdf_ctx_t  *ctx;

    ctx = &lt->pdf;

    if (ctx->town != NULL) {
        if (ngx_http_portal_pdf_add_town(ctx, ctx->town->name,
                                         NGX_HTTP_PORTAL_PDF_H))
        {
            ngx_http_portal_pdf_add(ctx, "\n", 0);
        }

        (void) ngx_http_portal_pdf_add_town(ctx, ctx->town->service,
                                            NGX_HTTP_PORTAL_PDF_BOLD);

        /* no line break at the end: it would be a line of its own */

        while (ctx->text.s->len && ctx->text.s->str[ctx->text.s->len - 1]
                                   == '\n')
        {
            g_string_truncate(ctx->text.s, ctx->text.s->len - 1);
        }

        if (ctx->text.s->len) {
            lt->head = ngx_http_portal_pdf_letter_take(ctx,
                                             NGX_HTTP_PORTAL_PDF_TEXT_WIDTH,
                                             1);
        }

        n = 0;

        for (i = 0; i < NGX_HTTP_PORTAL_PDF_ADDRESS_MAX; i++) {
            line = ctx->town->address[i];

            if (line != NULL) {
                n = ngx_http_portal_pdf_letter_line(ctx, line, strlen(line),
                                                    n);
            }
        }

        if (ctx->town->url != NULL) {
            n = ngx_http_portal_pdf_letter_line(ctx, ctx->town->url,
                                                strlen(ctx->town->url), n);
        }

        if (n) {
            ngx_http_portal_pdf_style(ctx, 0, NGX_HTTP_PORTAL_PDF_SMALL
                                              |NGX_HTTP_PORTAL_PDF_MUTED);
            lt->from = ngx_http_portal_pdf_letter_take(ctx,
                                     NGX_HTTP_PORTAL_PDF_LETTER_FROM_WIDTH,
                                     1);
        }
    }

    ngx_http_portal_pdf_letter_recipient(ctx);

    if (ctx->text.s->len) {
        lt->to = ngx_http_portal_pdf_letter_take(ctx,
                                      NGX_HTTP_PORTAL_PDF_LETTER_TO_WIDTH, 1);
    }
}


/*
 * The address's lines: recipient_lines, else recipient cut at its line
 * breaks; at most TO_LINES, the first ones and the last, which names the
 * town, each on one line and within the window.
 */

static void
ngx_http_portal_pdf_letter_recipient(ngx_http_portal_pdf_ctx_t *ctx)
{
    size_t                       i, n, size;
    unsigned                     k, lines;
    const char                  *p, *last, *nl;
    const json_t                *v, *item;
    ngx_http_portal_pdf_span_t   spans[NGX_HTTP_PORTAL_PDF_LETTER_SPANS];

    n = 0;

    v = ngx_http_portal_pdf_get(ctx->doc,
                                NGX_HTTP_PORTAL_PDF_K_RECIPIENT_LINES);

    if (json_is_array(v)) {
        size = json_array_size(v);

        for (i = 0; i < size; i++) {
            item = json_array_get(v, i);

            if (!json_is_string(item) || json_string_length(item) == 0) {
                continue;
            }

            /* the last line stays the last one */

            if (n == NGX_HTTP_PORTAL_PDF_LETTER_SPANS) {
                n--;
            }

            spans[n].data = json_string_value(item);
            spans[n].len = json_string_length(item);
            n++;
        }

    } else {
        v = ngx_http_portal_pdf_get(ctx->doc,
                                    NGX_HTTP_PORTAL_PDF_K_RECIPIENT);

        if (json_is_string(v)) {
            p = json_string_value(v);
            last = p + json_string_length(v);

            while (p < last) {
                nl = memchr(p, '\n', last - p);
                if (nl == NULL) {
                    nl = last;
                }

                if (nl > p) {
                    if (n == NGX_HTTP_PORTAL_PDF_LETTER_SPANS) {
                        n--;
                    }

                    spans[n].data = p;
                    spans[n].len = nl - p;
                    n++;
                }

                p = nl + 1;
            }
        }
    }

    lines = 0;

    for (i = 0; i < n; i++) {
        k = lines;

        /* room for the last line */

        if (i + 1 < n && lines == NGX_HTTP_PORTAL_PDF_LETTER_TO_LINES - 1) {
            continue;
        }

        lines = ngx_http_portal_pdf_letter_line(ctx, spans[i].data,
                                                spans[i].len, k);

        if (lines == NGX_HTTP_PORTAL_PDF_LETTER_TO_LINES) {
            break;
        }
    }
}


/* a line more, if it has anything to print: the lines now */

static unsigned
ngx_http_portal_pdf_letter_line(ngx_http_portal_pdf_ctx_t *ctx,
    const char *p, size_t len, unsigned n)
{
    size_t  mark;

    mark = ctx->text.s->len;

    if (n) {
        g_string_append_c(ctx->text.s, '\n');
    }

    if (ngx_http_portal_pdf_clean(ctx, p, len,
                                  NGX_HTTP_PORTAL_PDF_LETTER_LINE_MAX,
                                  NGX_HTTP_PORTAL_PDF_LINE, 0)
        == 0)
    {
        g_string_truncate(ctx->text.s, mark);
        return n;
    }

    return n + 1;
}


/*
 * The first block: blank, as tall as page 1's fixed places, so that the
 * text flows below them; then the place and date, under the address.
 */

static void
ngx_http_portal_pdf_letter_top(ngx_http_portal_pdf_letter_t *lt)
{
    double                        start, bottom, h;
    ngx_http_portal_pdf_ctx_t    *ctx;
    ngx_http_portal_pdf_block_t  *b;

    ctx = &lt->pdf;

    start = NGX_HTTP_PORTAL_PDF_LETTER_START;

    if (lt->head != NULL) {
        bottom = NGX_HTTP_PORTAL_PDF_TOP
                 + ngx_http_portal_pdf_letter_height(lt->head)
                 + 8 * NGX_HTTP_PORTAL_PDF_MM;

        if (bottom > start) {
            start = bottom;
        }
    }

    if (lt->from != NULL) {
        bottom = NGX_HTTP_PORTAL_PDF_LETTER_TO_Y
                 + ngx_http_portal_pdf_letter_height(lt->from)
                 + 8 * NGX_HTTP_PORTAL_PDF_MM;

        if (bottom > start) {
            start = bottom;
        }
    }

    ngx_http_portal_pdf_add(ctx, ZWSP, 0);

    b = ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA, 0, 0, 0, 0);

    if (b != NULL) {
        h = ngx_http_portal_pdf_letter_height(b->layout);
        b->after = start - NGX_HTTP_PORTAL_PDF_TOP - h;

        if (b->after < 0) {
            b->after = 0;
        }
    }

    if (ngx_http_portal_pdf_letter_place(ctx)) {
        (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA, 0,
                                        NGX_HTTP_PORTAL_PDF_LETTER_TO_X
                                        - NGX_HTTP_PORTAL_PDF_LEFT, 0, 0);
    }
}


/* the reference, the subject, the body, the closing, the signature */

static void
ngx_http_portal_pdf_letter_text(ngx_http_portal_pdf_letter_t *lt)
{
    const json_t                 *v;
    ngx_http_portal_pdf_ctx_t    *ctx;
    ngx_http_portal_pdf_block_t  *b;

    ctx = &lt->pdf;

    ngx_http_portal_pdf_add(ctx, "Référence" NBSP ": ",
                            NGX_HTTP_PORTAL_PDF_BOLD);

    if (ngx_http_portal_pdf_letter_reference(ctx) == 0) {
        ngx_http_portal_pdf_reset(ctx);
    }

    (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA, 24, 0,
                                    0, 1);

    ngx_http_portal_pdf_add(ctx, "Objet" NBSP ": ", NGX_HTTP_PORTAL_PDF_BOLD);

    v = ngx_http_portal_pdf_get(ctx->doc, NGX_HTTP_PORTAL_PDF_K_SUBJECT);

    if (ngx_http_portal_pdf_add_data(ctx, v, NGX_HTTP_PORTAL_PDF_BOLD,
                                     NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                                     NGX_HTTP_PORTAL_PDF_LINE)
        == 0)
    {
        ngx_http_portal_pdf_add(ctx, "courrier de la mairie",
                                NGX_HTTP_PORTAL_PDF_BOLD);
    }

    (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA, 4, 0, 0,
                                    1);

    /* the body, as the agent's message and the database made it */

    v = ngx_http_portal_pdf_get(ctx->doc, NGX_HTTP_PORTAL_PDF_K_BODY);

    if (ngx_http_portal_pdf_add_data(ctx, v, 0,
                                     NGX_HTTP_PORTAL_PDF_VALUE_MAX,
                                     NGX_HTTP_PORTAL_PDF_LINES)
        != 0)
    {
        lt->no_reply = ngx_http_portal_pdf_letter_says(ctx, 0,
                                                       "aucune réponse");
        lt->closing = ngx_http_portal_pdf_letter_says(ctx, 0,
                                                      "salutations");

        b = ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA, 24, 0, 0,
                                     0);
        if (b != NULL) {
            pango_layout_set_justify(b->layout, TRUE);
        }
    }

    if (!lt->no_reply) {
        ngx_http_portal_pdf_add(ctx, "Ce courrier ne demande aucune réponse "
                                "de votre part.", 0);
        (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA, 12, 0,
                                        0, 0);
    }

    if (!lt->closing) {
        ngx_http_portal_pdf_add(ctx, "Nous vous prions d’agréer, Madame, "
                                "Monsieur, l’expression de nos salutations "
                                "distinguées.", 0);
        b = ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA, 12, 0, 0,
                                     1);
        if (b != NULL) {
            pango_layout_set_justify(b->layout, TRUE);
        }
    }

    /* the signature: the service, and the town hall */

    if (ctx->town == NULL
        || (ngx_http_portal_pdf_add_town(ctx, ctx->town->service,
                                         NGX_HTTP_PORTAL_PDF_BOLD) == 0
            && ngx_http_portal_pdf_add_town(ctx, ctx->town->name,
                                            NGX_HTTP_PORTAL_PDF_BOLD) == 0))
    {
        ngx_http_portal_pdf_add(ctx, "La Mairie", NGX_HTTP_PORTAL_PDF_BOLD);

    } else if (ctx->town->service != NULL && ctx->town->service[0] != '\0'
               && ctx->town->name != NULL && ctx->town->name[0] != '\0')
    {
        ngx_http_portal_pdf_add(ctx, "\n", 0);
        (void) ngx_http_portal_pdf_add_town(ctx, ctx->town->name, 0);
    }

    (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA, 24,
                                    NGX_HTTP_PORTAL_PDF_LETTER_TO_X
                                    - NGX_HTTP_PORTAL_PDF_LEFT, 0, 0);

    if (ctx->cut) {
        ngx_http_portal_pdf_add(ctx, "Certains textes trop longs ont été "
                                "raccourcis dans ce courrier.",
                                NGX_HTTP_PORTAL_PDF_SMALL
                                |NGX_HTTP_PORTAL_PDF_MUTED);
        (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA, 18, 0,
                                        0, 0);
    }
}


/* every page's foot: after the first pass, which knows if it is cut */

static void
ngx_http_portal_pdf_letter_foot(ngx_http_portal_pdf_ctx_t *ctx)
{
    PangoFontDescription  *font;

    ngx_http_portal_pdf_letter_about(ctx);

    if (ctx->truncated) {
        ngx_http_portal_pdf_add(ctx, "\nCourrier tronqué" NBSP ": la suite "
                                "ne tient pas dans ce document.",
                                NGX_HTTP_PORTAL_PDF_BOLD);
    }

    ngx_http_portal_pdf_style(ctx, 0, NGX_HTTP_PORTAL_PDF_SMALL);

    ctx->footer = ngx_http_portal_pdf_letter_take(ctx,
                                         NGX_HTTP_PORTAL_PDF_TEXT_WIDTH - 70,
                                         1);

    /* "Page n / N", set for each page */

    ctx->folio = ngx_http_portal_pdf_letter_take(ctx,
                                         NGX_HTTP_PORTAL_PDF_TEXT_WIDTH, 0);
    pango_layout_set_alignment(ctx->folio, PANGO_ALIGN_RIGHT);

    font = pango_font_description_from_string(NGX_HTTP_PORTAL_PDF_FONT);
    pango_font_description_set_size(font, 8.5 * PANGO_SCALE);
    pango_layout_set_font_description(ctx->folio, font);
    pango_font_description_free(font);
}


/* "Ville de ... — Courrier du 12 mars 2026 — Demande 2026-000123" */

static void
ngx_http_portal_pdf_letter_about(ngx_http_portal_pdf_ctx_t *ctx)
{
    size_t  mark;

    if (ctx->town != NULL
        && ngx_http_portal_pdf_add_town(ctx, ctx->town->name, 0))
    {
        ngx_http_portal_pdf_add(ctx, " — ", 0);
    }

    ngx_http_portal_pdf_add(ctx, "Courrier", 0);

    mark = ctx->text.s->len;
    ngx_http_portal_pdf_add(ctx, " du ", 0);

    if (ngx_http_portal_pdf_letter_date(ctx) == 0) {
        g_string_truncate(ctx->text.s, mark);
    }

    mark = ctx->text.s->len;
    ngx_http_portal_pdf_add(ctx, " — Demande ", 0);

    if (ngx_http_portal_pdf_letter_reference(ctx) == 0) {
        g_string_truncate(ctx->text.s, mark);
    }
}


/* the day the letter goes: the database's words, else its due_at */

static size_t
ngx_http_portal_pdf_letter_date(ngx_http_portal_pdf_ctx_t *ctx)
{
    char                      buf[64];
    size_t                    n;
    const json_t             *v;
    ngx_http_portal_pdf_tm_t  tm;

    v = ngx_http_portal_pdf_get(ctx->doc, NGX_HTTP_PORTAL_PDF_K_DATE_TEXT);

    if (json_is_string(v)) {
        n = ngx_http_portal_pdf_add_data(ctx, v, 0, 40,
                                         NGX_HTTP_PORTAL_PDF_LINE);
        if (n) {
            return n;
        }
    }

    v = ngx_http_portal_pdf_get(ctx->doc, NGX_HTTP_PORTAL_PDF_K_DUE_AT);

    if (!json_is_string(v)
        || ngx_http_portal_pdf_parse_time(json_string_value(v),
                                          json_string_length(v), &tm) != 0)
    {
        return 0;
    }

    tm.has_time = 0;
    ngx_http_portal_pdf_french_time(buf, sizeof(buf), &tm);
    ngx_http_portal_pdf_add(ctx, buf, 0);

    return strlen(buf);
}


/*
 * "Saint-Exemple-sur-Loire, le 12 mars 2026": the town of the last line
 * of the town's address, without its postcode; "Le 12 mars 2026" without
 * an address
 */

static size_t
ngx_http_portal_pdf_letter_place(ngx_http_portal_pdf_ctx_t *ctx)
{
    int          i;
    size_t       mark;
    const char  *p;

    p = NULL;

    for (i = NGX_HTTP_PORTAL_PDF_ADDRESS_MAX - 1;
         ctx->town != NULL && i >= 0;
         i--)
    {
        p = ctx->town->address[i];

        if (p != NULL && p[0] != '\0') {
            break;
        }

        p = NULL;
    }

    if (p != NULL) {
        while ((*p >= '0' && *p <= '9') || *p == ' ') {
            p++;
        }
    }

    mark = ctx->text.s->len;

    if (p != NULL
        && ngx_http_portal_pdf_clean(ctx, p, strlen(p),
                                     NGX_HTTP_PORTAL_PDF_LETTER_LINE_MAX,
                                     NGX_HTTP_PORTAL_PDF_LINE, 0)
           != 0)
    {
        ngx_http_portal_pdf_add(ctx, ", le ", 0);

    } else {
        ngx_http_portal_pdf_add(ctx, "Le ", 0);
    }

    if (ngx_http_portal_pdf_letter_date(ctx) == 0) {
        g_string_truncate(ctx->text.s, mark);
    }

    return ctx->text.s->len - mark;
}


static size_t
ngx_http_portal_pdf_letter_reference(ngx_http_portal_pdf_ctx_t *ctx)
{
    return ngx_http_portal_pdf_add_data(ctx,
               ngx_http_portal_pdf_get(
                   ngx_http_portal_pdf_get(ctx->doc,
                                           NGX_HTTP_PORTAL_PDF_K_REQUEST),
                   NGX_HTTP_PORTAL_PDF_K_REFERENCE),
               0, 64, NGX_HTTP_PORTAL_PDF_LINE);
}


/* whether the text put together says it already, in any case */

static int
ngx_http_portal_pdf_letter_says(ngx_http_portal_pdf_ctx_t *ctx,
    size_t start, const char *what)
{
    int     found;
    gchar  *text, *key;

    text = g_utf8_casefold(ctx->text.s->str + start,
                           ctx->text.s->len - start);
    key = g_utf8_casefold(what, -1);

    found = (strstr(text, key) != NULL);

    g_free(text);
    g_free(key);

    return found;
}


/* ------------------------------------------------------------ layouts */

/* a layout of the text put together, which starts again empty */

static PangoLayout *
ngx_http_portal_pdf_letter_take(ngx_http_portal_pdf_ctx_t *ctx,
    double width, unsigned one_line)
{
    PangoLayout  *layout;

    layout = ngx_http_portal_pdf_take(ctx, width);

    /* each line of an address on one line, cut with "…" if it must be */

    if (one_line) {
        pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
    }

    return layout;
}


static double
ngx_http_portal_pdf_letter_height(PangoLayout *layout)
{
    int  width, height;

    pango_layout_get_size(layout, &width, &height);

    return (double) height / PANGO_SCALE;
}


/* page 1's fixed places, before the text flows on it */

static void
ngx_http_portal_pdf_letter_draw(ngx_http_portal_pdf_letter_t *lt)
{
    int       i;
    double    y;
    cairo_t  *cr;

    cr = lt->pdf.cr;

    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);

    if (lt->head != NULL) {
        cairo_move_to(cr, NGX_HTTP_PORTAL_PDF_LEFT, NGX_HTTP_PORTAL_PDF_TOP);
        pango_cairo_show_layout(cr, lt->head);
    }

    if (lt->from != NULL) {
        cairo_move_to(cr, NGX_HTTP_PORTAL_PDF_LEFT,
                      NGX_HTTP_PORTAL_PDF_LETTER_TO_Y);
        pango_cairo_show_layout(cr, lt->from);
    }

    if (lt->to != NULL) {
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, NGX_HTTP_PORTAL_PDF_LETTER_TO_X,
                      NGX_HTTP_PORTAL_PDF_LETTER_TO_Y);
        pango_cairo_show_layout(cr, lt->to);
    }

    /* where the sheet folds in three, for a DL envelope */

    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
    cairo_set_line_width(cr, 0.4);

    for (i = 1; i <= 2; i++) {
        y = i * NGX_HTTP_PORTAL_PDF_HEIGHT / 3;
        cairo_move_to(cr, 4 * NGX_HTTP_PORTAL_PDF_MM, y);
        cairo_line_to(cr, 9 * NGX_HTTP_PORTAL_PDF_MM, y);
        cairo_stroke(cr);
    }
}
