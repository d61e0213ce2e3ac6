
/*
 * Portail Citoyen: the pages of a request's PDF.  The text put together
 * becomes a block, one pango layout, as wide as its kind allows: a
 * paragraph, a heading (ruled, and a bookmark), a box (shaded).  The
 * blocks are then placed line by line: a page ends between two lines; a
 * block kept with the next (a heading, a question) moves to a new page
 * with the next one's first lines; a box is never cut.  Pages after the
 * first carry the town and the reference above; every page the date and
 * "Page n / N" below.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_portal_pdf_common.h"


static void ngx_http_portal_pdf_place(ngx_http_portal_pdf_ctx_t *ctx,
    size_t i);
static double ngx_http_portal_pdf_need(ngx_http_portal_pdf_ctx_t *ctx,
    size_t i);
static double ngx_http_portal_pdf_lines_height(PangoLayout *layout, int n);
static int ngx_http_portal_pdf_new_page(ngx_http_portal_pdf_ctx_t *ctx);
static void ngx_http_portal_pdf_foot(ngx_http_portal_pdf_ctx_t *ctx);


/* ------------------------------------------------------ text to blocks */

ngx_http_portal_pdf_block_t *
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

PangoLayout *
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


/* ----------------------------------------------------------- the pages */

int
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

void
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

void
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
