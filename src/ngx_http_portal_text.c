
/*
 * Portail Citoyen: text rules of the portal: UTF-8, accent folding, the
 * login "prénom.nom", security answers, names and the common checks of
 * citizens' data.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <idn2.h>

#include "ngx_http_portal_text.h"


static ssize_t ngx_http_portal_utf8_count(const u_char *p, size_t len,
    ngx_uint_t lines);
static ngx_uint_t ngx_http_portal_text_domain(const u_char *p, size_t len);
static uint32_t ngx_http_portal_utf8_next(const u_char **p,
    const u_char *last);
static const char *ngx_http_portal_fold_char(uint32_t ch, char *ascii);


/* U+00C0 to U+017F, folded to ASCII; "" for signs that are not letters */

static const char  *ngx_http_portal_latin[] = {
    /* U+00C0 */
    "A", "A", "A", "A", "A", "A", "AE", "C",
    "E", "E", "E", "E", "I", "I", "I", "I",
    "D", "N", "O", "O", "O", "O", "O", "",
    "O", "U", "U", "U", "U", "Y", "TH", "ss",
    /* U+00E0 */
    "a", "a", "a", "a", "a", "a", "ae", "c",
    "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "",
    "o", "u", "u", "u", "u", "y", "th", "y",
    /* U+0100 */
    "A", "a", "A", "a", "A", "a", "C", "c",
    "C", "c", "C", "c", "C", "c", "D", "d",
    "D", "d", "E", "e", "E", "e", "E", "e",
    "E", "e", "E", "e", "G", "g", "G", "g",
    /* U+0120 */
    "G", "g", "G", "g", "H", "h", "H", "h",
    "I", "i", "I", "i", "I", "i", "I", "i",
    "I", "i", "IJ", "ij", "J", "j", "K", "k",
    "k", "L", "l", "L", "l", "L", "l", "L",
    /* U+0140 */
    "l", "L", "l", "N", "n", "N", "n", "N",
    "n", "n", "N", "n", "O", "o", "O", "o",
    "O", "o", "OE", "oe", "R", "r", "R", "r",
    "R", "r", "S", "s", "S", "s", "S", "s",
    /* U+0160 */
    "S", "s", "T", "t", "T", "t", "T", "t",
    "U", "u", "U", "u", "U", "u", "U", "u",
    "U", "u", "U", "u", "W", "w", "Y", "y",
    "Y", "Z", "z", "Z", "z", "Z", "z", "s"
};


static uint32_t
ngx_http_portal_utf8_next(const u_char **p, const u_char *last)
{
    uint32_t  ch;

    /* ngx_utf8_decode() is for non-ASCII bytes only */

    if (**p < 0x80) {
        return *(*p)++;
    }

    ch = ngx_utf8_decode((u_char **) p, last - *p);

    if (ch == 0xfffffffe) {
        /* truncated sequence: it does not advance */
        *p = last;
    }

    return ch;
}


ssize_t
ngx_http_portal_text_utf8_len(const u_char *p, size_t len)
{
    return ngx_http_portal_utf8_count(p, len, 0);
}


ssize_t
ngx_http_portal_text_lines_len(const u_char *p, size_t len)
{
    return ngx_http_portal_utf8_count(p, len, 1);
}


static ssize_t
ngx_http_portal_utf8_count(const u_char *p, size_t len, ngx_uint_t lines)
{
    ssize_t        n;
    uint32_t       ch;
    const u_char  *last;

    last = p + len;
    n = 0;

    while (p < last) {
        ch = ngx_http_portal_utf8_next(&p, last);

        if (lines && (ch == '\n' || ch == '\r' || ch == '\t')) {
            n++;
            continue;
        }

        if (ch > 0x10ffff || ch < 0x20 || (ch >= 0x7f && ch < 0xa0)) {
            return -1;
        }

        n++;
    }

    return n;
}


static const char *
ngx_http_portal_fold_char(uint32_t ch, char *ascii)
{
    if (ch < 0x80) {
        ascii[0] = (char) ch;
        ascii[1] = '\0';
        return ascii;
    }

    if (ch >= 0xc0 && ch <= 0x17f) {
        return ngx_http_portal_latin[ch - 0xc0];
    }

    return NULL;
}


ngx_uint_t
ngx_http_portal_text_name(const u_char *p, size_t len)
{
    char           ascii[2];
    uint32_t       ch;
    ngx_uint_t     letters;
    const char    *f;
    const u_char  *last;

    last = p + len;
    letters = 0;

    if (ngx_http_portal_text_utf8_len(p, len) > 100) {
        return 0;
    }

    while (p < last) {
        ch = ngx_http_portal_utf8_next(&p, last);

        if (ch == ' ' || ch == '-' || ch == '\'' || ch == 0x2019) {
            continue;
        }

        if (ch < 0x80) {
            if ((ch | 0x20) < 'a' || (ch | 0x20) > 'z') {
                return 0;
            }

            letters++;
            continue;
        }

        f = ngx_http_portal_fold_char(ch, ascii);

        if (f == NULL || *f == '\0') {
            return 0;
        }

        letters++;
    }

    return letters > 0;
}


ngx_int_t
ngx_http_portal_text_login_base(ngx_pool_t *pool, const char *first,
    const char *last, ngx_str_t *out)
{
    char            ascii[2];
    u_char         *p, *start, *end;
    size_t          len;
    uint32_t        ch;
    ngx_uint_t      part;
    const char     *f, *src;
    const u_char   *s, *send;

    len = ngx_strlen(first) + ngx_strlen(last);

    /* a code point folds to two letters at most, from two bytes at least */

    p = ngx_pnalloc(pool, len * 2 + 2);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

    for (part = 0; part < 2; part++) {
        src = part ? last : first;
        s = (const u_char *) src;
        send = s + ngx_strlen(src);
        start = p;

        while (s < send) {
            ch = ngx_http_portal_utf8_next(&s, send);

            if (ch == ' ' || ch == '-' || ch == '\'' || ch == 0x2019) {
                if (p > start && p[-1] != '-') {
                    *p++ = '-';
                }

                continue;
            }

            f = ngx_http_portal_fold_char(ch, ascii);
            if (f == NULL) {
                continue;
            }

            for ( /* void */ ; *f; f++) {
                if ((*f | 0x20) >= 'a' && (*f | 0x20) <= 'z') {
                    *p++ = (u_char) (*f | 0x20);
                }
            }
        }

        while (p > start && p[-1] == '-') {
            p--;
        }

        if (p == start) {
            return NGX_DECLINED;
        }

        if (part == 0) {
            *p++ = '.';
        }
    }

    end = p;
    out->len = end - out->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_portal_text_fold_words(ngx_pool_t *pool, const char *in,
    ngx_str_t *out)
{
    char           ascii[2];
    u_char        *p;
    size_t         len;
    uint32_t       ch;
    const char    *f;
    const u_char  *s, *send;

    len = ngx_strlen(in);

    p = ngx_pnalloc(pool, len * 2 + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    s = (const u_char *) in;
    send = s + len;

    while (s < send) {
        ch = ngx_http_portal_utf8_next(&s, send);

        f = ngx_http_portal_fold_char(ch, ascii);
        if (f == NULL || *f == '\0') {
            f = " ";
        }

        for ( /* void */ ; *f; f++) {
            if ((*f >= '0' && *f <= '9')
                || ((*f | 0x20) >= 'a' && (*f | 0x20) <= 'z'))
            {
                *p++ = (u_char) ((*f >= 'A' && *f <= 'Z') ? (*f | 0x20)
                                                          : *f);

            } else if (p > out->data && p[-1] != ' ') {
                *p++ = ' ';
            }
        }
    }

    while (p > out->data && p[-1] == ' ') {
        p--;
    }

    *p = '\0';
    out->len = p - out->data;

    return out->len ? NGX_OK : NGX_DECLINED;
}


ngx_uint_t
ngx_http_portal_text_date(const char *s, ngx_uint_t past)
{
    ngx_int_t   y, m, d, days;
    ngx_tm_t    tm;
    ngx_uint_t  i;

    static ngx_int_t  mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
                                  30, 31 };

    if (ngx_strlen(s) != 10 || s[4] != '-' || s[7] != '-') {
        return 0;
    }

    for (i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) {
            return 0;
        }
    }

    y = ngx_atoi((u_char *) s, 4);
    m = ngx_atoi((u_char *) s + 5, 2);
    d = ngx_atoi((u_char *) s + 8, 2);

    if (y < 1900 || m < 1 || m > 12 || d < 1) {
        return 0;
    }

    days = mdays[m - 1];

    if (m == 2 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        days = 28;
    }

    if (d > days) {
        return 0;
    }

    if (past) {
        ngx_gmtime(ngx_time(), &tm);

        if (y * 10000 + m * 100 + d
            > tm.ngx_tm_year * 10000 + tm.ngx_tm_mon * 100 + tm.ngx_tm_mday)
        {
            return 0;
        }
    }

    return 1;
}


/*
 * Days since 1970-01-01 of a civil date (of the proleptic Gregorian
 * calendar), and back: the bounds of a form's dates are compared and
 * written with them.
 */

ngx_int_t
ngx_http_portal_text_days(ngx_int_t y, ngx_int_t m, ngx_int_t d)
{
    ngx_int_t  era, yoe, doy, doe;

    y -= (m <= 2);
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}


/* "DD/MM/YYYY" of a day since 1970-01-01, into buf (11 bytes) */

void
ngx_http_portal_text_day(ngx_int_t days, u_char *buf)
{
    ngx_int_t  era, doe, yoe, y, doy, mp, d, m;

    days += 719468;
    era = (days >= 0 ? days : days - 146096) / 146097;
    doe = days - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp + (mp < 10 ? 3 : -9);
    y += (m <= 2);

    *ngx_sprintf(buf, "%02i/%02i/%04i", d, m, y) = '\0';
}


/* today, in days since 1970-01-01, as the server's clock says (UTC) */

ngx_int_t
ngx_http_portal_text_today(void)
{
    return (ngx_int_t) (ngx_time() / 86400);
}


/* the day of a checked "YYYY-MM-DD" */

ngx_int_t
ngx_http_portal_text_date_days(const char *s)
{
    return ngx_http_portal_text_days(ngx_atoi((u_char *) s, 4),
                                     ngx_atoi((u_char *) s + 5, 2),
                                     ngx_atoi((u_char *) s + 8, 2));
}


/*
 * An address of RFC 5321 as people give one: a dot-atom local part of
 * ASCII (no quoted string, no comment, no display name, no group), then a
 * domain of two labels or more; a domain with accents goes to punycode
 * (IDNA 2008), so that every header of every mail stays ASCII.
 */

ngx_int_t
ngx_http_portal_text_email(ngx_pool_t *pool, const char *s, ngx_str_t *ascii)
{
    int            rc;
    char          *idn;
    size_t         local, len;
    u_char        *p;
    const char    *at, *domain;
    ngx_int_t      result;
    ngx_uint_t     i, ascii_only;

    static u_char  atext[] = "!#$%&'*+-/=?^_`{|}~";

    at = ngx_strchr(s, '@');

    if (at == NULL || ngx_strchr(at + 1, '@') != NULL) {
        return NGX_DECLINED;
    }

    local = at - s;

    if (local == 0 || local > 64 || s[0] == '.' || at[-1] == '.') {
        return NGX_DECLINED;
    }

    for (i = 0; i < local; i++) {
        if (s[i] == '.') {
            if (s[i + 1] == '.') {
                return NGX_DECLINED;
            }

            continue;
        }

        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9')
              || ngx_strlchr(atext, atext + sizeof(atext) - 1, s[i])))
        {
            return NGX_DECLINED;
        }
    }

    domain = at + 1;
    ascii_only = 1;

    for (i = 0; domain[i]; i++) {
        if ((u_char) domain[i] >= 0x80) {
            ascii_only = 0;
        }
    }

    idn = NULL;

    if (!ascii_only) {
        rc = idn2_to_ascii_8z(domain, &idn,
                              IDN2_NONTRANSITIONAL|IDN2_NFC_INPUT);
        if (rc != IDN2_OK) {
            return NGX_DECLINED;
        }

        domain = idn;
    }

    result = NGX_DECLINED;
    len = ngx_strlen(domain);

    if (ngx_http_portal_text_domain((u_char *) domain, len)
        && local + 1 + len <= 254)
    {
        p = ngx_pnalloc(pool, local + 1 + len + 1);

        if (p == NULL) {
            result = NGX_ERROR;

        } else {
            ascii->data = p;
            p = ngx_cpymem(p, s, local);
            *p++ = '@';
            p = ngx_cpymem(p, domain, len);
            *p = '\0';
            ascii->len = p - ascii->data;
            result = NGX_OK;
        }
    }

    if (idn) {
        idn2_free(idn);
    }

    return result;
}


/* labels of letters, digits and hyphens, two of them at least */

static ngx_uint_t
ngx_http_portal_text_domain(const u_char *p, size_t len)
{
    size_t         n;
    ngx_uint_t     labels, digits;
    const u_char  *label, *dot, *c, *last;

    if (len == 0 || len > 253) {
        return 0;
    }

    last = p + len;
    labels = 0;

    for (label = p; /* void */ ; label = dot + 1) {

        dot = ngx_strlchr((u_char *) label, (u_char *) last, '.');
        if (dot == NULL) {
            dot = last;
        }

        n = dot - label;

        if (n == 0 || n > 63 || label[0] == '-' || dot[-1] == '-') {
            return 0;
        }

        digits = 1;

        for (c = label; c < dot; c++) {
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')
                  || (*c >= '0' && *c <= '9') || *c == '-'))
            {
                return 0;
            }

            if (*c < '0' || *c > '9') {
                digits = 0;
            }
        }

        labels++;

        /* a top-level domain is never all digits */

        if (dot == last) {
            return labels >= 2 && !digits;
        }
    }
}


ngx_uint_t
ngx_http_portal_text_phone(const char *s)
{
    ngx_uint_t   digits;
    const char  *p;

    if (ngx_strlen(s) > 30) {
        return 0;
    }

    digits = 0;

    for (p = s; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            digits++;

        } else if (!(*p == ' ' || *p == '.' || *p == '-'
                     || (*p == '+' && p == s)))
        {
            return 0;
        }
    }

    /* a French number, or the international form with its "+" */
    return (s[0] == '+') ? (digits >= 11 && digits <= 15) : (digits == 10);
}


ngx_uint_t
ngx_http_portal_text_uuid(const u_char *p, size_t len)
{
    size_t  i;

    if (len != 36) {
        return 0;
    }

    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (p[i] != '-') {
                return 0;
            }

            continue;
        }

        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')
              || (p[i] >= 'A' && p[i] <= 'F')))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * A value for the error log: control characters, the backslash and the
 * double quote as \xHH, so that nothing a client sent can end a line or
 * a quoted value and pass for a line of nginx's.
 */

ngx_int_t
ngx_http_portal_text_escape(ngx_pool_t *pool, ngx_str_t *in, ngx_str_t *out)
{
    u_char      *s, *last;
    ngx_uint_t   n;

    n = 0;
    last = in->data + in->len;

    for (s = in->data; s < last; s++) {
        if (*s < 0x20 || *s == 0x7f || *s == '"' || *s == '\\') {
            n++;
        }
    }

    if (n == 0) {
        *out = *in;
        return NGX_OK;
    }

    out->data = ngx_pnalloc(pool, in->len + 3 * n);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = ngx_http_portal_text_escape_to(out->data,
                                              out->data + in->len + 3 * n,
                                              in->data, in->len)
               - out->data;

    return NGX_OK;
}


u_char *
ngx_http_portal_text_escape_to(u_char *dst, u_char *end, const u_char *src,
    size_t len)
{
    const u_char  *last;

    static u_char  hex[] = "0123456789ABCDEF";

    for (last = src + len; src < last; src++) {

        if (*src < 0x20 || *src == 0x7f || *src == '"' || *src == '\\') {
            if (end - dst < 4) {
                break;
            }

            *dst++ = '\\';
            *dst++ = 'x';
            *dst++ = hex[*src >> 4];
            *dst++ = hex[*src & 0xf];
            continue;
        }

        if (dst == end) {
            break;
        }

        *dst++ = *src;
    }

    return dst;
}
