
/*
 * Portail Citoyen: a streaming multipart/form-data parser (RFC 7578, RFC
 * 2046), fed chunks of any size, that calls back at each part's start,
 * data and end; the recognition of PDF, JPEG and PNG by their first bytes;
 * the display name of a client's file.
 *
 * Plain C, with explicit lengths: no nginx type, no nginx function, so
 * that t/fuzz builds this file alone.  _upload.c reads request bodies
 * through it.
 */


#include <string.h>

#include "ngx_http_portal_multipart.h"


#define NGX_HTTP_PORTAL_MP_CR  '\r'
#define NGX_HTTP_PORTAL_MP_LF  '\n'


/* the parser's states, kept in mp->state between two chunks */
enum {
    sw_preamble = 0,
    sw_after_delimiter,
    sw_close,
    sw_padding,
    sw_delimiter_lf,
    sw_headers,
    sw_data,
    sw_epilogue
};


static int ngx_http_portal_mp_fail(ngx_http_portal_mp_t *mp, int status);
static int ngx_http_portal_mp_headers(ngx_http_portal_mp_t *mp,
    ngx_http_portal_mp_part_t *part);
static int ngx_http_portal_mp_disposition(u_char *p, u_char *last,
    ngx_http_portal_mp_part_t *part);
static int ngx_http_portal_mp_param(const u_char **pp, const u_char *last,
    const u_char **name, size_t *nlen);
static u_char *ngx_http_portal_mp_value(u_char *p, u_char *last,
    u_char **value, size_t *len);
static int ngx_http_portal_mp_tchar(u_char c);
static int ngx_http_portal_mp_bchars(const u_char *p, size_t len);
static int ngx_http_portal_mp_is(const u_char *p, size_t len,
    const char *lower);
static size_t ngx_http_portal_mp_utf8_decode(const u_char *p,
    size_t len, uint32_t *cp);
static int ngx_http_portal_mp_invisible(uint32_t cp);


/* ---------------------------------------------------------- the parser */

int
ngx_http_portal_multipart_boundary(const u_char *type, size_t len,
    const u_char **boundary, size_t *boundary_len)
{
    int            rc;
    size_t         vlen, nlen, blen;
    const u_char  *p, *last, *name, *value, *b;

    p = type;
    last = type + len;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if ((size_t) (last - p) < sizeof("multipart/form-data") - 1
        || !ngx_http_portal_mp_is(p, sizeof("multipart/form-data") - 1,
                                  "multipart/form-data"))
    {
        return NGX_HTTP_PORTAL_MP_ERR_TYPE;
    }

    p += sizeof("multipart/form-data") - 1;

    if (p < last && *p != ';' && *p != ' ' && *p != '\t') {
        return NGX_HTTP_PORTAL_MP_ERR_TYPE;
    }

    b = NULL;
    blen = 0;

    for ( ;; ) {
        rc = ngx_http_portal_mp_param(&p, last, &name, &nlen);

        if (rc == 0) {
            break;
        }

        if (rc < 0) {
            return NGX_HTTP_PORTAL_MP_ERR_BOUNDARY;
        }

        if (nlen == 0 || p == last || *p++ != '=') {
            return NGX_HTTP_PORTAL_MP_ERR_BOUNDARY;
        }

        /* the type is the request's header: read-only, no unescaping */

        if (p < last && *p == '"') {
            value = ++p;

            while (p < last && *p != '"') {
                if (*p == '\\') {
                    /* no boundary character needs escaping */
                    if (ngx_http_portal_mp_is(name, nlen, "boundary")) {
                        return NGX_HTTP_PORTAL_MP_ERR_BOUNDARY;
                    }

                    if (++p == last) {
                        break;
                    }
                }

                p++;
            }

            if (p == last) {
                return NGX_HTTP_PORTAL_MP_ERR_BOUNDARY;
            }

            vlen = p++ - value;

        } else {
            value = p;

            while (p < last && *p != ';' && *p != ' ' && *p != '\t') {
                p++;
            }

            vlen = p - value;
        }

        if (ngx_http_portal_mp_is(name, nlen, "boundary")) {
            if (b != NULL) {
                return NGX_HTTP_PORTAL_MP_ERR_BOUNDARY;
            }

            b = value;
            blen = vlen;
        }
    }

    if (b == NULL || !ngx_http_portal_mp_bchars(b, blen)) {
        return NGX_HTTP_PORTAL_MP_ERR_BOUNDARY;
    }

    *boundary = b;
    *boundary_len = blen;

    return NGX_HTTP_PORTAL_MP_OK;
}


int
ngx_http_portal_multipart_init(ngx_http_portal_mp_t *mp,
    const u_char *boundary, size_t len)
{
    if (!ngx_http_portal_mp_bchars(boundary, len)) {
        mp->status = NGX_HTTP_PORTAL_MP_ERR_BOUNDARY;
        return mp->status;
    }

    mp->delim[0] = NGX_HTTP_PORTAL_MP_CR;
    mp->delim[1] = NGX_HTTP_PORTAL_MP_LF;
    mp->delim[2] = '-';
    mp->delim[3] = '-';
    memcpy(&mp->delim[4], boundary, len);
    mp->delim_len = 4 + len;

    /*
     * The first delimiter may open the body without the CRLF that belongs
     * to it: start as if the CRLF had been seen.
     */
    mp->state = sw_preamble;
    mp->match = 2;
    mp->header_len = 0;
    mp->parts = 0;
    mp->status = NGX_HTTP_PORTAL_MP_OK;

    return NGX_HTTP_PORTAL_MP_OK;
}


/*
 * The delimiter is CRLF "--" boundary, and a boundary has no CR: a failed
 * partial match can restart only at the byte that failed it, and the bytes
 * held back meanwhile are the delimiter's own first bytes, given back from
 * mp->delim.  Nothing of the input is ever copied but the headers.
 */

int
ngx_http_portal_multipart_feed(ngx_http_portal_mp_t *mp, const u_char *p,
    size_t len)
{
    u_char                     ch;
    size_t                     n;
    const u_char              *last, *cr;
    ngx_http_portal_mp_part_t  part;
    int                        rc;

    if (mp->status != NGX_HTTP_PORTAL_MP_OK) {
        return mp->status;
    }

    last = p + len;

    while (p < last) {

        switch (mp->state) {

        case sw_preamble:
            ch = *p++;

            if (ch == mp->delim[mp->match]) {
                if (++mp->match == mp->delim_len) {
                    mp->match = 0;
                    mp->state = sw_after_delimiter;
                }

                break;
            }

            mp->match = (ch == NGX_HTTP_PORTAL_MP_CR) ? 1 : 0;
            break;

        case sw_after_delimiter:
            ch = *p++;

            if (ch == '-') {
                mp->state = sw_close;

            } else if (ch == NGX_HTTP_PORTAL_MP_CR) {
                mp->state = sw_delimiter_lf;

            } else if (ch == ' ' || ch == '\t') {
                mp->state = sw_padding;

            } else {
                return ngx_http_portal_mp_fail(mp,
                                       NGX_HTTP_PORTAL_MP_ERR_DELIMITER);
            }

            break;

        case sw_close:
            if (*p++ != '-') {
                return ngx_http_portal_mp_fail(mp,
                                       NGX_HTTP_PORTAL_MP_ERR_DELIMITER);
            }

            /* the epilogue, whatever it is, is not ours */
            mp->state = sw_epilogue;
            mp->status = NGX_HTTP_PORTAL_MP_DONE;
            return mp->status;

        case sw_padding:
            ch = *p++;

            if (ch == ' ' || ch == '\t') {
                break;
            }

            if (ch != NGX_HTTP_PORTAL_MP_CR) {
                return ngx_http_portal_mp_fail(mp,
                                       NGX_HTTP_PORTAL_MP_ERR_DELIMITER);
            }

            mp->state = sw_delimiter_lf;
            break;

        case sw_delimiter_lf:
            if (*p++ != NGX_HTTP_PORTAL_MP_LF) {
                return ngx_http_portal_mp_fail(mp,
                                       NGX_HTTP_PORTAL_MP_ERR_DELIMITER);
            }

            if (++mp->parts > NGX_HTTP_PORTAL_MP_PARTS_MAX) {
                return ngx_http_portal_mp_fail(mp,
                                       NGX_HTTP_PORTAL_MP_ERR_TOO_MANY_PARTS);
            }

            mp->header_len = 0;
            mp->state = sw_headers;
            break;

        case sw_headers:
            if (mp->header_len == NGX_HTTP_PORTAL_MP_HEADER_MAX) {
                return ngx_http_portal_mp_fail(mp,
                                       NGX_HTTP_PORTAL_MP_ERR_HEADER_TOO_LONG);
            }

            ch = *p++;
            mp->header[mp->header_len++] = ch;

            /* the header section ends with an empty line */

            n = mp->header_len;

            if (ch != NGX_HTTP_PORTAL_MP_LF
                || n < 2
                || mp->header[n - 2] != NGX_HTTP_PORTAL_MP_CR
                || (n != 2
                    && (n < 4
                        || mp->header[n - 3] != NGX_HTTP_PORTAL_MP_LF
                        || mp->header[n - 4] != NGX_HTTP_PORTAL_MP_CR)))
            {
                break;
            }

            rc = ngx_http_portal_mp_headers(mp, &part);
            if (rc != NGX_HTTP_PORTAL_MP_OK) {
                return ngx_http_portal_mp_fail(mp, rc);
            }

            mp->match = 0;
            mp->state = sw_data;

            if (mp->on_begin && mp->on_begin(mp->data, &part) != 0) {
                return ngx_http_portal_mp_fail(mp,
                                               NGX_HTTP_PORTAL_MP_STOPPED);
            }

            break;

        case sw_data:
            if (mp->match == 0) {
                cr = memchr(p, NGX_HTTP_PORTAL_MP_CR, last - p);
                n = (cr ? cr : last) - p;

                if (n) {
                    if (mp->on_data && mp->on_data(mp->data, p, n) != 0) {
                        return ngx_http_portal_mp_fail(mp,
                                               NGX_HTTP_PORTAL_MP_STOPPED);
                    }

                    p += n;
                    break;
                }

                /* a CR: perhaps a delimiter, held back until we know */
                mp->match = 1;
                p++;
                break;
            }

            if (*p == mp->delim[mp->match]) {
                p++;

                if (++mp->match < mp->delim_len) {
                    break;
                }

                mp->match = 0;
                mp->state = sw_after_delimiter;

                if (mp->on_end && mp->on_end(mp->data) != 0) {
                    return ngx_http_portal_mp_fail(mp,
                                               NGX_HTTP_PORTAL_MP_STOPPED);
                }

                break;
            }

            /* not a delimiter: what was held back was data; *p is next */

            n = mp->match;
            mp->match = 0;

            if (mp->on_data && mp->on_data(mp->data, mp->delim, n) != 0) {
                return ngx_http_portal_mp_fail(mp,
                                               NGX_HTTP_PORTAL_MP_STOPPED);
            }

            break;

        default: /* sw_epilogue */
            return NGX_HTTP_PORTAL_MP_DONE;
        }
    }

    return NGX_HTTP_PORTAL_MP_OK;
}


int
ngx_http_portal_multipart_finish(ngx_http_portal_mp_t *mp)
{
    if (mp->status == NGX_HTTP_PORTAL_MP_OK) {
        mp->status = NGX_HTTP_PORTAL_MP_ERR_TRUNCATED;
    }

    return mp->status;
}


const char *
ngx_http_portal_multipart_strerror(int status)
{
    switch (status) {
    case NGX_HTTP_PORTAL_MP_OK:
        return "incomplete";
    case NGX_HTTP_PORTAL_MP_DONE:
        return "complete";
    case NGX_HTTP_PORTAL_MP_STOPPED:
        return "stopped";
    case NGX_HTTP_PORTAL_MP_ERR_TYPE:
        return "not multipart/form-data";
    case NGX_HTTP_PORTAL_MP_ERR_BOUNDARY:
        return "missing or invalid boundary";
    case NGX_HTTP_PORTAL_MP_ERR_DELIMITER:
        return "garbage after a boundary";
    case NGX_HTTP_PORTAL_MP_ERR_HEADER:
        return "invalid part header";
    case NGX_HTTP_PORTAL_MP_ERR_HEADER_TOO_LONG:
        return "part header too long";
    case NGX_HTTP_PORTAL_MP_ERR_TOO_MANY_PARTS:
        return "too many parts";
    case NGX_HTTP_PORTAL_MP_ERR_TRUNCATED:
        return "body ends before the closing boundary";
    default:
        return "unknown error";
    }
}


static int
ngx_http_portal_mp_fail(ngx_http_portal_mp_t *mp, int status)
{
    mp->status = status;
    return status;
}


/*
 * The header section in mp->header: CRLF-terminated lines, then an empty
 * line.  Folded lines are refused (no form sender folds); every part must
 * have Content-Disposition: form-data with a name (RFC 7578, 4.2).
 */

static int
ngx_http_portal_mp_headers(ngx_http_portal_mp_t *mp,
    ngx_http_portal_mp_part_t *part)
{
    u_char  *p, *last, *line, *colon, *value, *end;
    int      disposition, type;

    memset(part, 0, sizeof(ngx_http_portal_mp_part_t));

    disposition = 0;
    type = 0;

    p = mp->header;
    last = mp->header + mp->header_len - 2;

    while (p < last) {
        line = p;

        /*
         * Browsers escape only CR, LF and '"' in a file name: other control
         * characters arrive as they are, for the display name to drop.
         */

        while (p < last && *p != NGX_HTTP_PORTAL_MP_CR) {
            if (*p == NGX_HTTP_PORTAL_MP_LF) {
                return NGX_HTTP_PORTAL_MP_ERR_HEADER;
            }

            p++;
        }

        if (p == last || p[1] != NGX_HTTP_PORTAL_MP_LF || p == line
            || *line == ' ' || *line == '\t')
        {
            return NGX_HTTP_PORTAL_MP_ERR_HEADER;
        }

        end = p;
        p += 2;

        colon = memchr(line, ':', end - line);
        if (colon == NULL || colon == line) {
            return NGX_HTTP_PORTAL_MP_ERR_HEADER;
        }

        for (value = line; value < colon; value++) {
            if (!ngx_http_portal_mp_tchar(*value)) {
                return NGX_HTTP_PORTAL_MP_ERR_HEADER;
            }
        }

        value = colon + 1;

        while (value < end && (*value == ' ' || *value == '\t')) {
            value++;
        }

        while (end > value && (end[-1] == ' ' || end[-1] == '\t')) {
            end--;
        }

        if (ngx_http_portal_mp_is(line, colon - line, "content-disposition")) {
            if (disposition++) {
                return NGX_HTTP_PORTAL_MP_ERR_HEADER;
            }

            if (ngx_http_portal_mp_disposition(value, end, part)
                != NGX_HTTP_PORTAL_MP_OK)
            {
                return NGX_HTTP_PORTAL_MP_ERR_HEADER;
            }

        } else if (ngx_http_portal_mp_is(line, colon - line, "content-type")) {
            if (type++) {
                return NGX_HTTP_PORTAL_MP_ERR_HEADER;
            }

            part->type = value;
            part->type_len = end - value;
        }

        /* other headers (Content-Transfer-Encoding...) are ignored */
    }

    if (!disposition) {
        return NGX_HTTP_PORTAL_MP_ERR_HEADER;
    }

    return NGX_HTTP_PORTAL_MP_OK;
}


/*
 * form-data; name="..."; filename="...".  A parameter given twice is
 * refused: two readers of the same body must not see two different files.
 */

static int
ngx_http_portal_mp_disposition(u_char *p, u_char *last,
    ngx_http_portal_mp_part_t *part)
{
    u_char  *name, *value;
    size_t   nlen, vlen;
    int      has_name, rc;

    if ((size_t) (last - p) < sizeof("form-data") - 1
        || !ngx_http_portal_mp_is(p, sizeof("form-data") - 1, "form-data"))
    {
        return NGX_HTTP_PORTAL_MP_ERR_HEADER;
    }

    p += sizeof("form-data") - 1;

    if (p < last && *p != ';' && *p != ' ' && *p != '\t') {
        return NGX_HTTP_PORTAL_MP_ERR_HEADER;
    }

    has_name = 0;

    for ( ;; ) {
        rc = ngx_http_portal_mp_param((const u_char **) &p, last,
                                      (const u_char **) &name, &nlen);

        if (rc == 0) {
            break;
        }

        if (rc < 0) {
            return NGX_HTTP_PORTAL_MP_ERR_HEADER;
        }

        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (nlen == 0 || p == last || *p++ != '=') {
            return NGX_HTTP_PORTAL_MP_ERR_HEADER;
        }

        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        p = ngx_http_portal_mp_value(p, last, &value, &vlen);
        if (p == NULL) {
            return NGX_HTTP_PORTAL_MP_ERR_HEADER;
        }

        if (ngx_http_portal_mp_is(name, nlen, "name")) {
            if (has_name) {
                return NGX_HTTP_PORTAL_MP_ERR_HEADER;
            }

            has_name = 1;
            part->name = value;
            part->name_len = vlen;

        } else if (ngx_http_portal_mp_is(name, nlen, "filename")) {
            if (part->has_filename) {
                return NGX_HTTP_PORTAL_MP_ERR_HEADER;
            }

            part->has_filename = 1;
            part->filename = value;
            part->filename_len = vlen;
        }

        /* filename* (RFC 5987) is not for form-data: RFC 7578, 4.2 */
    }

    if (!has_name) {
        return NGX_HTTP_PORTAL_MP_ERR_HEADER;
    }

    return NGX_HTTP_PORTAL_MP_OK;
}


/*
 * The next "; name" of a header's parameters: 1 with the name (p after
 * it), 0 at the end of the header, -1 when something else stands there.
 */

static int
ngx_http_portal_mp_param(const u_char **pp, const u_char *last,
    const u_char **name, size_t *nlen)
{
    const u_char  *p;

    p = *pp;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (p == last) {
        *pp = p;
        return 0;
    }

    if (*p++ != ';') {
        return -1;
    }

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (p == last) {
        *pp = p;
        return 0;
    }

    *name = p;

    while (p < last && ngx_http_portal_mp_tchar(*p)) {
        p++;
    }

    *nlen = p - *name;
    *pp = p;

    return 1;
}


/*
 * A token or a quoted-string, unescaped in place (the output never runs
 * ahead of the input).  Only \" and \\ are escapes: browsers send Windows
 * paths with bare backslashes.  Returns where the value ends, or NULL.
 */

static u_char *
ngx_http_portal_mp_value(u_char *p, u_char *last, u_char **value,
    size_t *len)
{
    u_char  *w;

    if (p < last && *p == '"') {
        w = ++p;
        *value = w;

        while (p < last && *p != '"') {
            if (*p == '\\' && p + 1 < last
                && (p[1] == '"' || p[1] == '\\'))
            {
                p++;
            }

            *w++ = *p++;
        }

        if (p == last) {
            return NULL;
        }

        *len = w - *value;

        return p + 1;
    }

    *value = p;

    while (p < last && *p != ';' && *p != ' ' && *p != '\t' && *p != '"') {
        p++;
    }

    *len = p - *value;

    return (*len == 0) ? NULL : p;
}


static int
ngx_http_portal_mp_tchar(u_char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9'))
    {
        return 1;
    }

    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}


/* RFC 2046, 5.1.1: bchars, 1 to 70 of them, not ending with a space */

static int
ngx_http_portal_mp_bchars(const u_char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > NGX_HTTP_PORTAL_MP_BOUNDARY_MAX
        || p[len - 1] == ' ')
    {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')
            || (p[i] >= '0' && p[i] <= '9'))
        {
            continue;
        }

        if (p[i] == '\0' || strchr("'()+_,-./:=? ", p[i]) == NULL) {
            return 0;
        }
    }

    return 1;
}


/* p[0..len) equals the lowercase ASCII text, whatever its case */

static int
ngx_http_portal_mp_is(const u_char *p, size_t len, const char *lower)
{
    size_t  i;
    u_char  c;

    for (i = 0; i < len; i++) {
        c = p[i];

        if (c >= 'A' && c <= 'Z') {
            c |= 0x20;
        }

        if (lower[i] == '\0' || c != (u_char) lower[i]) {
            return 0;
        }
    }

    return lower[len] == '\0';
}


/* ----------------------------------------------- content and file names */

const char *
ngx_http_portal_multipart_sniff(const u_char *p, size_t len)
{
    static const u_char  png[] = { 0x89, 'P', 'N', 'G', 0x0d, 0x0a,
                                   0x1a, 0x0a };

    if (len >= 5 && memcmp(p, "%PDF-", 5) == 0) {
        return "application/pdf";
    }

    if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) {
        return "image/jpeg";
    }

    if (len >= sizeof(png) && memcmp(p, png, sizeof(png)) == 0) {
        return "image/png";
    }

    return NULL;
}


size_t
ngx_http_portal_multipart_filename(u_char *dst, const u_char *src,
    size_t len)
{
    size_t         n, out, start;
    uint32_t       cp;
    const u_char  *p, *last;

    /* only the last path component: "C:\Users\x\a.pdf", "../../a.pdf" */

    last = src + len;

    for (p = last; p > src; p--) {
        if (p[-1] == '/' || p[-1] == '\\') {
            break;
        }
    }

    out = 0;

    while (p < last) {
        n = ngx_http_portal_multipart_utf8_char(p, last - p, &cp);

        if (n == 0) {
            /* an invalid byte or a control character: dropped */
            p++;
            continue;
        }

        if (ngx_http_portal_mp_invisible(cp)) {
            p += n;
            continue;
        }

        if (out + n > NGX_HTTP_PORTAL_MP_NAME_MAX) {
            break;
        }

        memcpy(dst + out, p, n);
        out += n;
        p += n;
    }

    while (out && dst[out - 1] == ' ') {
        out--;
    }

    for (start = 0; start < out && dst[start] == ' '; start++) {
        /* void */
    }

    out -= start;
    memmove(dst, dst + start, out);

    if ((out == 1 && dst[0] == '.')
        || (out == 2 && dst[0] == '.' && dst[1] == '.'))
    {
        return 0;
    }

    return out;
}


size_t
ngx_http_portal_multipart_utf8_char(const u_char *p, size_t len, uint32_t *cp)
{
    size_t  n;

    n = ngx_http_portal_mp_utf8_decode(p, len, cp);

    if (n == 0 || *cp < 0x20 || (*cp >= 0x7f && *cp < 0xa0)) {
        return 0;
    }

    return n;
}


/* RFC 3629: no overlong form, no surrogate, nothing above U+10FFFF */

static size_t
ngx_http_portal_mp_utf8_decode(const u_char *p, size_t len,
    uint32_t *cp)
{
    size_t    n, i;
    u_char    lo, hi;
    uint32_t  c;

    if (len == 0) {
        return 0;
    }

    c = p[0];
    lo = 0x80;
    hi = 0xbf;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        c &= 0x1f;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;

        if (c == 0xe0) {
            lo = 0xa0;

        } else if (c == 0xed) {
            hi = 0x9f;
        }

        c &= 0x0f;

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;

        if (c == 0xf0) {
            lo = 0x90;

        } else if (c == 0xf4) {
            hi = 0x8f;
        }

        c &= 0x07;

    } else {
        return 0;
    }

    if (len < n || p[1] < lo || p[1] > hi) {
        return 0;
    }

    c = (c << 6) | (p[1] & 0x3f);

    for (i = 2; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }

        c = (c << 6) | (p[i] & 0x3f);
    }

    *cp = c;

    return n;
}


/*
 * Characters that change how a name is shown without being seen: bidi
 * overrides make "gpj.exe" look like "exe.jpg".
 */

static int
ngx_http_portal_mp_invisible(uint32_t cp)
{
    return cp == 0x00ad || cp == 0x061c
           || (cp >= 0x200b && cp <= 0x200f)
           || (cp >= 0x2028 && cp <= 0x202e)
           || (cp >= 0x2060 && cp <= 0x206f)
           || cp == 0xfeff
           || (cp >= 0xfff9 && cp <= 0xfffb);
}
