
/*
 * Portail Citoyen: uploads.
 *
 * The first half is plain C (no nginx type, no nginx function) so that the
 * fuzz target of t/fuzz builds it alone with -DNGX_HTTP_PORTAL_FUZZ: a
 * streaming multipart/form-data parser (RFC 7578, RFC 2046), fed chunks of
 * any size, that calls back at each part's start, data and end; the
 * recognition of PDF, JPEG and PNG by their first bytes; the display name
 * of a client's file.
 *
 * The second half reads a request body through it, whether nginx kept the
 * body in memory or wrote it to a temporary file, and collects the fields
 * "kind" and "file" of a supporting document.
 */


#ifndef NGX_HTTP_PORTAL_FUZZ

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_json.h"
#include "ngx_http_portal_upload.h"

#else

#include <string.h>

#include "ngx_http_portal_upload.h"

#endif


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
static size_t ngx_http_portal_upload_utf8_decode(const u_char *p,
    size_t len, uint32_t *cp);
static int ngx_http_portal_upload_invisible(uint32_t cp);


/* ---------------------------------------------------------- the parser */

int
ngx_http_portal_mp_boundary(const u_char *type, size_t len,
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
ngx_http_portal_mp_init(ngx_http_portal_mp_t *mp, const u_char *boundary,
    size_t len)
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
ngx_http_portal_mp_feed(ngx_http_portal_mp_t *mp, const u_char *p,
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
ngx_http_portal_mp_finish(ngx_http_portal_mp_t *mp)
{
    if (mp->status == NGX_HTTP_PORTAL_MP_OK) {
        mp->status = NGX_HTTP_PORTAL_MP_ERR_TRUNCATED;
    }

    return mp->status;
}


const char *
ngx_http_portal_mp_strerror(int status)
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
ngx_http_portal_upload_sniff(const u_char *p, size_t len)
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
ngx_http_portal_upload_display_name(u_char *dst, const u_char *src,
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
        n = ngx_http_portal_upload_utf8_char(p, last - p, &cp);

        if (n == 0) {
            /* an invalid byte or a control character: dropped */
            p++;
            continue;
        }

        if (ngx_http_portal_upload_invisible(cp)) {
            p += n;
            continue;
        }

        if (out + n > NGX_HTTP_PORTAL_UPLOAD_NAME_MAX) {
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
ngx_http_portal_upload_utf8_char(const u_char *p, size_t len, uint32_t *cp)
{
    size_t  n;

    n = ngx_http_portal_upload_utf8_decode(p, len, cp);

    if (n == 0 || *cp < 0x20 || (*cp >= 0x7f && *cp < 0xa0)) {
        return 0;
    }

    return n;
}


/* RFC 3629: no overlong form, no surrogate, nothing above U+10FFFF */

static size_t
ngx_http_portal_upload_utf8_decode(const u_char *p, size_t len,
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
ngx_http_portal_upload_invisible(uint32_t cp)
{
    return cp == 0x00ad || cp == 0x061c
           || (cp >= 0x200b && cp <= 0x200f)
           || (cp >= 0x2028 && cp <= 0x202e)
           || (cp >= 0x2060 && cp <= 0x206f)
           || cp == 0xfeff
           || (cp >= 0xfff9 && cp <= 0xfffb);
}


#ifndef NGX_HTTP_PORTAL_FUZZ

/* ------------------------------------------------------- the nginx glue */


#define NGX_HTTP_PORTAL_UPLOAD_KIND_MAX  64

/* file parts of a body are read in chunks of this size */
#define NGX_HTTP_PORTAL_UPLOAD_CHUNK     65536

/* what a form adds around its file: delimiters, part headers, "kind" */
#define NGX_HTTP_PORTAL_UPLOAD_ENVELOPE  65536

/* libpq counts in int, bytea stops at 1 GB */
#define NGX_HTTP_PORTAL_UPLOAD_LIMIT     (512 * 1024 * 1024)


typedef enum {
    NGX_HTTP_PORTAL_UPLOAD_OTHER = 0,
    NGX_HTTP_PORTAL_UPLOAD_KIND,
    NGX_HTTP_PORTAL_UPLOAD_FILE
} ngx_http_portal_upload_field_e;


typedef struct {
    ngx_http_portal_upload_t        up;
    ngx_http_portal_mp_t            mp;

    ngx_http_portal_upload_pt       next;
    /* the caller's ctx->data, given back before next() */
    void                           *data;
    ngx_log_t                      *log;
    ngx_pool_t                     *pool;

    size_t                          max;
    ngx_http_portal_upload_field_e  field;

    u_char                         *file;
    size_t                          file_len;
    size_t                          file_cap;

    u_char                          kind[NGX_HTTP_PORTAL_UPLOAD_KIND_MAX + 1];
    size_t                          kind_len;

    u_char                          name[NGX_HTTP_PORTAL_UPLOAD_NAME_MAX + 1];
    size_t                          name_len;

    unsigned                        has_file:1;
    unsigned                        has_kind:1;
    unsigned                        two_files:1;
    unsigned                        two_kinds:1;
    unsigned                        kind_too_long:1;
    unsigned                        too_large:1;
    unsigned                        failed:1;
} ngx_http_portal_upload_ctx_t;


static void ngx_http_portal_upload_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_portal_upload_feed(ngx_http_request_t *r,
    ngx_http_portal_upload_ctx_t *u, int *status);
static ngx_int_t ngx_http_portal_upload_check(ngx_http_request_t *r,
    ngx_http_portal_upload_ctx_t *u, ngx_int_t *rc);
static int ngx_http_portal_upload_begin(void *data,
    ngx_http_portal_mp_part_t *part);
static int ngx_http_portal_upload_data(void *data, const u_char *p,
    size_t len);
static int ngx_http_portal_upload_end(void *data);
static ngx_int_t ngx_http_portal_upload_too_large(ngx_http_request_t *r);
static ngx_int_t ngx_http_portal_upload_bad(ngx_http_request_t *r);


ngx_int_t
ngx_http_portal_upload_read(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_http_portal_upload_pt next)
{
    int                            st;
    size_t                         blen;
    ngx_int_t                      rc;
    ngx_str_t                     *type;
    const u_char                  *b;
    ngx_http_portal_loc_conf_t    *plcf;
    ngx_http_portal_upload_ctx_t  *u;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    type = r->headers_in.content_type ? &r->headers_in.content_type->value
                                      : NULL;

    st = (type == NULL) ? NGX_HTTP_PORTAL_MP_ERR_TYPE
                        : ngx_http_portal_mp_boundary(type->data, type->len,
                                                      &b, &blen);

    if (st == NGX_HTTP_PORTAL_MP_ERR_TYPE) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_portal_send_error(r,
                                          NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                          "unsupported_media_type",
                                          "Le document doit être envoyé"
                                          " en multipart/form-data.");
    }

    if (st != NGX_HTTP_PORTAL_MP_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "portal: upload refused: %s",
                      ngx_http_portal_mp_strerror(st));

        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_portal_upload_bad(r);
    }

    u = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_upload_ctx_t));
    if (u == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    u->max = ngx_min(plcf->upload_max_size, NGX_HTTP_PORTAL_UPLOAD_LIMIT);

    /* no need to read what cannot fit */

    if (r->headers_in.content_length_n
        > (off_t) (u->max + NGX_HTTP_PORTAL_UPLOAD_ENVELOPE))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "portal: upload refused: %O bytes announced,"
                      " portal_upload_max_size is %uz",
                      r->headers_in.content_length_n, u->max);

        /* no "100 Continue": the client need not send it at all */
        r->expect_tested = 1;

        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_portal_upload_too_large(r);
    }

    u->mp.on_begin = ngx_http_portal_upload_begin;
    u->mp.on_data = ngx_http_portal_upload_data;
    u->mp.on_end = ngx_http_portal_upload_end;
    u->mp.data = u;

    if (ngx_http_portal_mp_init(&u->mp, b, blen) != NGX_HTTP_PORTAL_MP_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    u->next = next;
    u->data = ctx->data;
    u->log = r->connection->log;
    u->pool = r->pool;

    ctx->data = u;

    rc = ngx_http_read_client_request_body(r, ngx_http_portal_upload_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        ctx->data = u->data;
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_portal_upload_body(ngx_http_request_t *r)
{
    int                            status;
    ngx_int_t                      rc;
    ngx_http_portal_ctx_t         *ctx;
    ngx_http_portal_upload_ctx_t  *u;

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    u = ctx->data;
    ctx->data = u->data;

    if (ngx_http_portal_upload_feed(r, u, &status) != NGX_OK || u->failed) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (u->too_large) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "portal: upload refused: the file is larger than"
                      " portal_upload_max_size (%uz)", u->max);

        ngx_http_finalize_request(r, ngx_http_portal_upload_too_large(r));
        return;
    }

    if (status != NGX_HTTP_PORTAL_MP_DONE) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "portal: upload refused: %s",
                      ngx_http_portal_mp_strerror(status));

        ngx_http_finalize_request(r, ngx_http_portal_upload_bad(r));
        return;
    }

    if (ngx_http_portal_upload_check(r, u, &rc) == NGX_OK) {
        rc = u->next(r, ctx, &u->up);
    }

    ngx_http_finalize_request(r, rc);
}


/*
 * nginx has the whole body, in memory buffers, in its temporary file, or
 * both; the file is read a bounded chunk at a time, as nginx itself reads
 * it to pass a body on.
 */

static ngx_int_t
ngx_http_portal_upload_feed(ngx_http_request_t *r,
    ngx_http_portal_upload_ctx_t *u, int *status)
{
    int           st;
    off_t         total, pos;
    size_t        size;
    ssize_t       n;
    u_char       *chunk;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    st = NGX_HTTP_PORTAL_MP_OK;
    total = 0;
    chunk = NULL;

    for (cl = r->request_body ? r->request_body->bufs : NULL;
         cl;
         cl = cl->next)
    {
        total += ngx_buf_size(cl->buf);
    }

    /* the file cannot be larger than the body */

    u->file_cap = (size_t) ngx_min(total, (off_t) u->max);

    for (cl = r->request_body ? r->request_body->bufs : NULL;
         cl && st == NGX_HTTP_PORTAL_MP_OK;
         cl = cl->next)
    {
        b = cl->buf;

        if (ngx_buf_in_memory(b)) {
            st = ngx_http_portal_mp_feed(&u->mp, b->pos, b->last - b->pos);
            continue;
        }

        if (!b->in_file) {
            continue;
        }

        for (pos = b->file_pos;
             pos < b->file_last && st == NGX_HTTP_PORTAL_MP_OK;
             pos += n)
        {
            if (chunk == NULL) {
                chunk = ngx_palloc(r->pool, NGX_HTTP_PORTAL_UPLOAD_CHUNK);
                if (chunk == NULL) {
                    return NGX_ERROR;
                }
            }

            size = (size_t) ngx_min(b->file_last - pos,
                                    NGX_HTTP_PORTAL_UPLOAD_CHUNK);

            n = ngx_read_file(b->file, chunk, size, pos);

            if (n == NGX_ERROR) {
                return NGX_ERROR;
            }

            if (n == 0) {
                ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                              "portal: the body's temporary file \"%V\""
                              " ends at %O, before %O",
                              &b->file->name, pos, b->file_last);
                return NGX_ERROR;
            }

            st = ngx_http_portal_mp_feed(&u->mp, chunk, n);
        }
    }

    if (chunk) {
        ngx_pfree(r->pool, chunk);
    }

    if (st == NGX_HTTP_PORTAL_MP_OK) {
        st = ngx_http_portal_mp_finish(&u->mp);
    }

    *status = st;

    return NGX_OK;
}


/*
 * A well-formed body: are the fields there and sound, and is the file one
 * of ours?  NGX_OK fills u->up; NGX_DECLINED when the answer was sent (or
 * failed), with what the content handler returns for it in *rc.
 */

static ngx_int_t
ngx_http_portal_upload_check(ngx_http_request_t *r,
    ngx_http_portal_upload_ctx_t *u, ngx_int_t *rc)
{
    size_t                     i, n;
    json_t                    *fields;
    uint32_t                   cp;
    const char                *type, *file_error, *kind_error;
    ngx_http_portal_upload_t  *up;

    file_error = NULL;
    kind_error = NULL;

    if (!u->has_file) {
        file_error = "Joignez le document (PDF, JPEG ou PNG).";

    } else if (u->two_files) {
        file_error = "Envoyez un seul document à la fois.";

    } else if (u->file_len == 0) {
        file_error = "Le document est vide.";
    }

    if (!u->has_kind || u->kind_len == 0) {
        kind_error = "Indiquez de quelle pièce il s'agit.";

    } else if (u->two_kinds || u->kind_too_long) {
        kind_error = "Le type de pièce ne peut pas dépasser"
                     " 64 caractères.";

    } else {
        for (i = 0; i < u->kind_len; i += n) {
            n = ngx_http_portal_upload_utf8_char(u->kind + i,
                                                 u->kind_len - i, &cp);
            if (n == 0) {
                kind_error = "Le type de pièce contient des caractères"
                             " invalides.";
                break;
            }
        }
    }

    if (file_error || kind_error) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

        fields = json_object();
        if (fields == NULL) {
            return NGX_DECLINED;
        }

        if ((file_error
             && json_object_set_new(fields, "file",
                                    json_string(file_error)) != 0)
            || (kind_error
                && json_object_set_new(fields, "kind",
                                       json_string(kind_error)) != 0))
        {
            json_decref(fields);
            return NGX_DECLINED;
        }

        *rc = ngx_http_portal_send_error_fields(r,
                                     NGX_HTTP_UNPROCESSABLE_ENTITY,
                                     "invalid",
                                     "Le document n'a pas pu être"
                                     " enregistré : vérifiez les champs"
                                     " signalés.",
                                     fields);
        return NGX_DECLINED;
    }

    /* what the client says the file is does not count: its bytes do */

    type = ngx_http_portal_upload_sniff(u->file, u->file_len);

    if (type == NULL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "portal: upload refused: \"%*s\" is not a PDF, JPEG"
                      " or PNG", u->name_len, u->name);

        *rc = ngx_http_portal_send_error(r,
                                         NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                         "unsupported_type",
                                         "Le document doit être un PDF,"
                                         " une image JPEG ou PNG.");
        return NGX_DECLINED;
    }

    up = &u->up;

    u->kind[u->kind_len] = '\0';
    up->kind.data = u->kind;
    up->kind.len = u->kind_len;

    if (u->name_len == 0) {
        ngx_str_set(&up->filename, "document");

    } else {
        u->name[u->name_len] = '\0';
        up->filename.data = u->name;
        up->filename.len = u->name_len;
    }

    up->content_type.data = (u_char *) type;
    up->content_type.len = ngx_strlen(type);

    up->content.data = u->file;
    up->content.len = u->file_len;

    crypto_hash_sha256(up->sha256, u->file, u->file_len);
    *ngx_hex_dump(up->sha256_hex, up->sha256, sizeof(up->sha256)) = '\0';

    return NGX_OK;
}


static int
ngx_http_portal_upload_begin(void *data, ngx_http_portal_mp_part_t *part)
{
    ngx_http_portal_upload_ctx_t  *u = data;

    u->field = NGX_HTTP_PORTAL_UPLOAD_OTHER;

    if (part->name_len == 4 && ngx_strncmp(part->name, "file", 4) == 0) {

        if (u->has_file) {
            u->two_files = 1;
            return 0;
        }

        u->has_file = 1;
        u->field = NGX_HTTP_PORTAL_UPLOAD_FILE;

        if (part->has_filename) {
            u->name_len = ngx_http_portal_upload_display_name(u->name,
                                                      part->filename,
                                                      part->filename_len);
        }

        return 0;
    }

    if (part->name_len == 4 && ngx_strncmp(part->name, "kind", 4) == 0) {

        if (u->has_kind) {
            u->two_kinds = 1;
            return 0;
        }

        u->has_kind = 1;
        u->field = NGX_HTTP_PORTAL_UPLOAD_KIND;
    }

    /* other fields are read past */

    return 0;
}


static int
ngx_http_portal_upload_data(void *data, const u_char *p, size_t len)
{
    ngx_http_portal_upload_ctx_t  *u = data;

    switch (u->field) {

    case NGX_HTTP_PORTAL_UPLOAD_KIND:
        if (u->kind_too_long) {
            return 0;
        }

        if (len > NGX_HTTP_PORTAL_UPLOAD_KIND_MAX - u->kind_len) {
            u->kind_too_long = 1;
            return 0;
        }

        ngx_memcpy(u->kind + u->kind_len, p, len);
        u->kind_len += len;

        return 0;

    case NGX_HTTP_PORTAL_UPLOAD_FILE:
        if (len > u->max - u->file_len) {
            u->too_large = 1;
            return 1;
        }

        if (u->file == NULL) {
            u->file = ngx_palloc(u->pool, u->file_cap);
            if (u->file == NULL) {
                u->failed = 1;
                return 1;
            }
        }

        if (len > u->file_cap - u->file_len) {
            ngx_log_error(NGX_LOG_ALERT, u->log, 0,
                          "portal: upload: more file data than body");
            u->failed = 1;
            return 1;
        }

        ngx_memcpy(u->file + u->file_len, p, len);
        u->file_len += len;

        return 0;

    default:
        return 0;
    }
}


static int
ngx_http_portal_upload_end(void *data)
{
    ngx_http_portal_upload_ctx_t  *u = data;

    u->field = NGX_HTTP_PORTAL_UPLOAD_OTHER;

    return 0;
}


static ngx_int_t
ngx_http_portal_upload_too_large(ngx_http_request_t *r)
{
    u_char                      *p;
    ngx_http_portal_loc_conf_t  *plcf;
    u_char                       message[128];

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    /* the limit as people say it: "10 Mo" */

    if (plcf->upload_max_size >= 1024 * 1024
        && plcf->upload_max_size % (1024 * 1024) == 0)
    {
        p = ngx_snprintf(message, sizeof(message) - 1,
                         "Le document dépasse la taille maximale"
                         " de %uz Mo.", plcf->upload_max_size >> 20);

    } else if (plcf->upload_max_size >= 1024
               && plcf->upload_max_size % 1024 == 0)
    {
        p = ngx_snprintf(message, sizeof(message) - 1,
                         "Le document dépasse la taille maximale"
                         " de %uz Ko.", plcf->upload_max_size >> 10);

    } else {
        p = ngx_snprintf(message, sizeof(message) - 1,
                         "Le document dépasse la taille maximale"
                         " de %uz octets.", plcf->upload_max_size);
    }

    *p = '\0';

    return ngx_http_portal_send_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                      "too_large", (char *) message);
}


static ngx_int_t
ngx_http_portal_upload_bad(ngx_http_request_t *r)
{
    return ngx_http_portal_send_error(r, NGX_HTTP_BAD_REQUEST,
                                      "bad_multipart",
                                      "L'envoi du document est mal formé :"
                                      " merci de réessayer depuis le"
                                      " formulaire.");
}

#endif /* NGX_HTTP_PORTAL_FUZZ */
