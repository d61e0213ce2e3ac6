
/*
 * Portail Citoyen: the text of a request's PDF, put together piece by
 * piece with the look of each piece (pango attributes).  Our own text
 * goes as it is; the database's and the configuration's is made safe to
 * print and capped (ngx_http_portal_pdf_clean()), French typography
 * applied (no-break spaces, a decimal comma, "oui" and "non"); dates as
 * "1er mars 2026 à 09 h 26", sizes as "1,2 Mo".
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_portal_pdf_common.h"


static const char  *ngx_http_portal_pdf_months[] = {
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet",
    "août", "septembre", "octobre", "novembre", "décembre"
};


void
ngx_http_portal_pdf_reset(ngx_http_portal_pdf_ctx_t *ctx)
{
    g_string_truncate(ctx->text.s, 0);

    pango_attr_list_unref(ctx->text.attrs);
    ctx->text.attrs = pango_attr_list_new();
}


int
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

void
ngx_http_portal_pdf_add(ngx_http_portal_pdf_ctx_t *ctx, const char *s,
    unsigned style)
{
    size_t  start;

    start = ctx->text.s->len;
    g_string_append(ctx->text.s, s);

    ngx_http_portal_pdf_style(ctx, start, style);
}


/* the configuration's text: checked as the database's, for UTF-8 */

size_t
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

size_t
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

size_t
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


void
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


void
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


/* ------------------------------------------------------ dates, numbers */

/*
 * ISO 8601 as PostgreSQL writes it: "2026-03-14", "2026-03-14T09:26:41",
 * with a space for the T, a fraction, "Z", "+01", "+01:00" or "+0100".
 * The time printed is the wall clock of the offset given: the database
 * writes it in the town's time zone.
 */

int
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

void
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

void
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

const json_t *
ngx_http_portal_pdf_get(const json_t *o, const char *key)
{
    const json_t  *v;

    if (!json_is_object(o)) {
        return NULL;
    }

    v = json_object_get(o, key);

    return json_is_null(v) ? NULL : v;
}


const char *
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
