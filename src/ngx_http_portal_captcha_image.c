
/*
 * Portail Citoyen: a captcha's picture, drawn with GD in a pool thread:
 * its characters in DejaVu Sans Bold (portal_captcha_font), each turned
 * and moved a little, on a light background with lines and arcs, a curve
 * through the text, the whole bent by a wave, and a sprinkle of dots.  The
 * text stays dark enough to read (4.5:1 against the lightest background).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <math.h>
#include <pthread.h>

#include <gd.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_captcha_media.h"


/* the picture: ~220x70, wider only for a long test answer */
#define NGX_HTTP_PORTAL_CAPTCHA_WIDTH     220
#define NGX_HTTP_PORTAL_CAPTCHA_HEIGHT    70
#define NGX_HTTP_PORTAL_CAPTCHA_MARGIN    12
#define NGX_HTTP_PORTAL_CAPTCHA_CELL      32
#define NGX_HTTP_PORTAL_CAPTCHA_MAX_WIDTH                                    \
    (2 * NGX_HTTP_PORTAL_CAPTCHA_MARGIN                                      \
     + NGX_HTTP_PORTAL_CAPTCHA_MAX * NGX_HTTP_PORTAL_CAPTCHA_CELL)


static void ngx_http_portal_captcha_gd_init(void);
static ngx_int_t ngx_http_portal_captcha_glyphs(gdImagePtr im,
    ngx_http_portal_captcha_job_t *job, ngx_uint_t n);
static gdImagePtr ngx_http_portal_captcha_wave(gdImagePtr src,
    ngx_http_portal_captcha_job_t *job, int bg);
static int ngx_http_portal_captcha_pixel(gdImagePtr im, double x, double y,
    int bg);
static void ngx_http_portal_captcha_noise(gdImagePtr im,
    ngx_http_portal_captcha_job_t *job, ngx_uint_t lines, ngx_uint_t arcs);
static void ngx_http_portal_captcha_curve(gdImagePtr im,
    ngx_http_portal_captcha_job_t *job);


/* GD's font cache must be made before two threads draw text */

static pthread_once_t  ngx_http_portal_captcha_gd_once = PTHREAD_ONCE_INIT;
static ngx_uint_t      ngx_http_portal_captcha_gd_ready;


void
ngx_http_portal_captcha_image_draw(void *data)
{
    ngx_http_portal_captcha_job_t *job = data;

    int          size, w, h, bg, x, y, i, c;
    ngx_uint_t   n;
    gdImagePtr   im, out;

    (void) pthread_once(&ngx_http_portal_captcha_gd_once,
                        ngx_http_portal_captcha_gd_init);

    if (!ngx_http_portal_captcha_gd_ready) {
        ngx_http_portal_captcha_error(job, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "GD could not make its font cache",
                                      NULL);
        return;
    }

    ngx_http_portal_captcha_stream(job);

    n = ngx_http_portal_captcha_count(job->answer, job->len);

    w = ngx_max(NGX_HTTP_PORTAL_CAPTCHA_WIDTH,
                2 * NGX_HTTP_PORTAL_CAPTCHA_MARGIN
                + (int) n * NGX_HTTP_PORTAL_CAPTCHA_CELL);
    h = NGX_HTTP_PORTAL_CAPTCHA_HEIGHT;

    im = gdImageCreateTrueColor(w, h);
    if (im == NULL) {
        goto failed;
    }

    /* light, so that the darkest noise is still lighter than the text */

    bg = gdTrueColor(ngx_http_portal_captcha_between(job, 228, 252),
                     ngx_http_portal_captcha_between(job, 228, 252),
                     ngx_http_portal_captcha_between(job, 228, 252));

    gdImageFilledRectangle(im, 0, 0, w - 1, h - 1, bg);

    ngx_http_portal_captcha_noise(im, job, 7, 5);

    if (ngx_http_portal_captcha_glyphs(im, job, n) != NGX_OK) {
        gdImageDestroy(im);
        return;
    }

    ngx_http_portal_captcha_curve(im, job);

    /* the wave bends the text and the lines through it alike */

    out = ngx_http_portal_captcha_wave(im, job, bg);
    gdImageDestroy(im);

    if (out == NULL) {
        goto failed;
    }

    for (i = 0; i < w * h / 50; i++) {
        x = ngx_http_portal_captcha_between(job, 0, w - 1);
        y = ngx_http_portal_captcha_between(job, 0, h - 1);
        c = ngx_http_portal_captcha_between(job, 70, 200);

        gdImageSetPixel(out, x, y, gdTrueColor(c, c, c));
    }

    job->out = gdImagePngPtr(out, &size);
    job->free_out = gdFree;
    gdImageDestroy(out);

    if (job->out == NULL || size <= 0) {
        goto failed;
    }

    job->out_len = size;

    return;

failed:

    ngx_http_portal_captcha_error(job, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "GD could not make the picture", NULL);
}


static void
ngx_http_portal_captcha_gd_init(void)
{
    ngx_http_portal_captcha_gd_ready = (gdFontCacheSetup() == 0);
}


static ngx_int_t
ngx_http_portal_captcha_glyphs(gdImagePtr im,
    ngx_http_portal_captcha_job_t *job, ngx_uint_t n)
{
    int          brect[8], ink, x, y, h, minx, maxx, miny, maxy, k;
    char        *err, glyph[8];
    u_char      *s, *last, *e;
    double       size, angle, cell;
    ngx_uint_t   i, len;

    h = gdImageSY(im);
    cell = (double) (gdImageSX(im) - 2 * NGX_HTTP_PORTAL_CAPTCHA_MARGIN) / n;

    s = job->answer;
    last = s + job->len;

    for (i = 0; s < last; i++) {
        len = ngx_http_portal_captcha_glyph_len(s, last);

        ngx_memcpy(glyph, s, len);
        glyph[len] = '\0';
        s += len;

        size = (double) ngx_http_portal_captcha_between(job, 23, 28);
        angle = ngx_http_portal_captcha_between(job, -30, 30) / 100.0;

        /* dark: at least 4.5:1 against the lightest background */

        ink = gdTrueColor(ngx_http_portal_captcha_between(job, 0, 90),
                          ngx_http_portal_captcha_between(job, 0, 90),
                          ngx_http_portal_captcha_between(job, 0, 90));

        /* measured first, to centre the turned glyph in its cell */

        err = gdImageStringFT(NULL, brect, ink, job->font, size, angle, 0, 0,
                              glyph);
        if (err) {
            goto failed;
        }

        minx = maxx = brect[0];
        miny = maxy = brect[1];

        for (k = 2; k < 8; k += 2) {
            minx = ngx_min(minx, brect[k]);
            maxx = ngx_max(maxx, brect[k]);
            miny = ngx_min(miny, brect[k + 1]);
            maxy = ngx_max(maxy, brect[k + 1]);
        }

        x = NGX_HTTP_PORTAL_CAPTCHA_MARGIN + (int) (cell * i + cell / 2)
            - (minx + maxx) / 2 + ngx_http_portal_captcha_between(job, -3, 3);
        y = h / 2 - (miny + maxy) / 2
            + ngx_http_portal_captcha_between(job, -7, 7);

        /* whole, with room for the wave */

        y = ngx_max(y, 6 - miny);
        y = ngx_min(y, h - 7 - maxy);

        err = gdImageStringFT(im, brect, ink, job->font, size, angle, x, y,
                              glyph);
        if (err) {
            goto failed;
        }
    }

    return NGX_OK;

failed:

    job->status = NGX_HTTP_INTERNAL_SERVER_ERROR;

    e = ngx_snprintf(job->error, NGX_HTTP_PORTAL_CAPTCHA_ERRLEN - 1,
                     "GD could not draw with portal_captcha_font \"%s\": %s",
                     job->font, err);
    *e = '\0';

    return NGX_ERROR;
}


#define NGX_HTTP_PORTAL_CAPTCHA_TAU  6.283185307179586


static gdImagePtr
ngx_http_portal_captcha_wave(gdImagePtr src,
    ngx_http_portal_captcha_job_t *job, int bg)
{
    int          x, y, w, h;
    double       ax, ay, px, py, fx, fy;
    double       dx[NGX_HTTP_PORTAL_CAPTCHA_HEIGHT];
    double       dy[NGX_HTTP_PORTAL_CAPTCHA_MAX_WIDTH];
    gdImagePtr   dst;

    w = gdImageSX(src);
    h = gdImageSY(src);

    dst = gdImageCreateTrueColor(w, h);
    if (dst == NULL) {
        return NULL;
    }

    /* rows slide sideways a little, columns up and down more */

    ax = ngx_http_portal_captcha_between(job, 10, 20) / 10.0;
    px = ngx_http_portal_captcha_between(job, 36, 60);
    fx = ngx_http_portal_captcha_between(job, 0, 628) / 100.0;

    ay = ngx_http_portal_captcha_between(job, 30, 50) / 10.0;
    py = ngx_http_portal_captcha_between(job, 80, 130);
    fy = ngx_http_portal_captcha_between(job, 0, 628) / 100.0;

    for (y = 0; y < h; y++) {
        dx[y] = ax * sin(NGX_HTTP_PORTAL_CAPTCHA_TAU * y / px + fx);
    }

    for (x = 0; x < w; x++) {
        dy[x] = ay * sin(NGX_HTTP_PORTAL_CAPTCHA_TAU * x / py + fy);
    }

    for (y = 0; y < h; y++) {
        for (x = 0; x < w; x++) {
            gdImageTrueColorPixel(dst, x, y) =
                ngx_http_portal_captcha_pixel(src, x + dx[y], y + dy[x], bg);
        }
    }

    return dst;
}


/* bilinear: the bent strokes stay smooth */

#define ngx_http_portal_captcha_mix(get)                                     \
    (int) ((get(c00) * (1 - fx) + get(c10) * fx) * (1 - fy)                  \
           + (get(c01) * (1 - fx) + get(c11) * fx) * fy + 0.5)

static int
ngx_http_portal_captcha_pixel(gdImagePtr im, double x, double y, int bg)
{
    int     x0, y0, c00, c10, c01, c11;
    double  fx, fy;

    if (x < 0 || y < 0
        || x >= gdImageSX(im) - 1 || y >= gdImageSY(im) - 1)
    {
        return bg;
    }

    x0 = (int) x;
    y0 = (int) y;
    fx = x - x0;
    fy = y - y0;

    c00 = gdImageTrueColorPixel(im, x0, y0);
    c10 = gdImageTrueColorPixel(im, x0 + 1, y0);
    c01 = gdImageTrueColorPixel(im, x0, y0 + 1);
    c11 = gdImageTrueColorPixel(im, x0 + 1, y0 + 1);

    return gdTrueColor(ngx_http_portal_captcha_mix(gdTrueColorGetRed),
                       ngx_http_portal_captcha_mix(gdTrueColorGetGreen),
                       ngx_http_portal_captcha_mix(gdTrueColorGetBlue));
}


static void
ngx_http_portal_captcha_noise(gdImagePtr im,
    ngx_http_portal_captcha_job_t *job, ngx_uint_t lines, ngx_uint_t arcs)
{
    int         w, h, c;
    ngx_uint_t  i;

    w = gdImageSX(im);
    h = gdImageSY(im);

    for (i = 0; i < lines + arcs; i++) {
        c = gdTrueColor(ngx_http_portal_captcha_between(job, 130, 210),
                        ngx_http_portal_captcha_between(job, 130, 210),
                        ngx_http_portal_captcha_between(job, 130, 210));

        gdImageSetThickness(im, ngx_http_portal_captcha_between(job, 1, 2));

        if (i < lines) {
            gdImageLine(im,
                        ngx_http_portal_captcha_between(job, 0, w - 1),
                        ngx_http_portal_captcha_between(job, 0, h - 1),
                        ngx_http_portal_captcha_between(job, 0, w - 1),
                        ngx_http_portal_captcha_between(job, 0, h - 1), c);
            continue;
        }

        gdImageArc(im,
                   ngx_http_portal_captcha_between(job, 0, w - 1),
                   ngx_http_portal_captcha_between(job, 0, h - 1),
                   ngx_http_portal_captcha_between(job, 40, w),
                   ngx_http_portal_captcha_between(job, 30, 2 * h),
                   ngx_http_portal_captcha_between(job, 0, 359),
                   ngx_http_portal_captcha_between(job, 0, 359), c);
    }

    gdImageSetThickness(im, 1);
}


/* a line through the text, which a program must first tell from it */

static void
ngx_http_portal_captcha_curve(gdImagePtr im,
    ngx_http_portal_captcha_job_t *job)
{
    int     x, y, px, py, w, h, c, start, end, y0;
    double  a, period, phase;

    w = gdImageSX(im);
    h = gdImageSY(im);

    start = ngx_http_portal_captcha_between(job, 0, w / 5);
    end = ngx_http_portal_captcha_between(job, w - w / 5, w);
    y0 = ngx_http_portal_captcha_between(job, h / 2 - 8, h / 2 + 8);

    a = ngx_http_portal_captcha_between(job, 6, 14);
    period = ngx_http_portal_captcha_between(job, 90, 180);
    phase = ngx_http_portal_captcha_between(job, 0, 628) / 100.0;

    /* lighter than the text: people tell one from the other */

    c = gdTrueColor(ngx_http_portal_captcha_between(job, 110, 165),
                    ngx_http_portal_captcha_between(job, 110, 165),
                    ngx_http_portal_captcha_between(job, 110, 165));

    gdImageSetThickness(im, 2);

    px = start;
    py = y0 + (int) (a * sin(NGX_HTTP_PORTAL_CAPTCHA_TAU * px / period
                             + phase));

    for (x = start + 4; x <= end; x += 4) {
        y = y0 + (int) (a * sin(NGX_HTTP_PORTAL_CAPTCHA_TAU * x / period
                                + phase));
        gdImageLine(im, px, py, x, y, c);
        px = x;
        py = y;
    }

    gdImageSetThickness(im, 1);
}


void
ngx_http_portal_captcha_image_exit(void)
{
    if (ngx_http_portal_captcha_gd_ready) {
        gdFontCacheShutdown();
        ngx_http_portal_captcha_gd_ready = 0;
    }
}
