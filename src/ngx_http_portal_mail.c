
/*
 * Portail Citoyen: the text of a mail, the same for every way out.
 *
 * The Maildir writer (in a pool thread) and the SMTP client (in a worker)
 * both send what ngx_http_portal_mail_build() makes, so that a mail read
 * from a file is the mail a relay gets.  Its Message-ID comes from the
 * outbox id alone: a mail delivered twice (a lease that ran out) shows as
 * one message twice, not as two messages.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_portal_mail.h"


/* the input bytes of one encoded-word: 40 base64 characters */
#define NGX_HTTP_PORTAL_MAIL_WORD  30

/* quoted-printable lines: at most 76 characters, "=" included */
#define NGX_HTTP_PORTAL_MAIL_QP_LINE  75


static ngx_int_t ngx_http_portal_mail_split(const char *value,
    ngx_str_t *name, ngx_str_t *addr);
static u_char *ngx_http_portal_mail_mailbox(u_char *p, const char *header,
    ngx_str_t *name, ngx_str_t *addr);
static u_char *ngx_http_portal_mail_words(u_char *p, u_char *text,
    size_t len);
static u_char *ngx_http_portal_mail_qp(u_char *p, const u_char *s,
    size_t len);


u_char *
ngx_http_portal_mail_build(ngx_http_portal_mail_in_t *in, size_t *len,
    char *err, size_t err_len)
{
    u_char     *text, *p, *subject, *s;
    size_t      size, body_len, subject_len;
    ngx_tm_t    tm;
    ngx_str_t   from_name, from, to_name, to, domain;

    static const char  *wday[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri",
                                   "Sat" };
    static const char  *mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

    if (ngx_http_portal_mail_split(in->from, &from_name, &from) != NGX_OK) {
        ngx_cpystrn((u_char *) err, (u_char *) "invalid sender address",
                    err_len);
        return NULL;
    }

    if (ngx_http_portal_mail_split(in->recipient, &to_name, &to) != NGX_OK) {
        ngx_cpystrn((u_char *) err, (u_char *) "invalid recipient address",
                    err_len);
        return NULL;
    }

    /* the Message-ID's right part: the sender's domain, the same on every
     * host that delivers the outbox */

    domain.data = (u_char *) ngx_strlchr(from.data, from.data + from.len, '@')
                  + 1;
    domain.len = from.data + from.len - domain.data;

    subject_len = ngx_strlen(in->subject);
    body_len = ngx_strlen(in->body);

    /* quoted-printable triples a byte at worst and adds a soft break per
     * 25 such; encoded-words add a third and 15 bytes per word */

    size = 1024 + (from_name.len + to_name.len + subject_len) * 3
           + from.len + to.len + domain.len + ngx_strlen(in->id) * 2
           + body_len * 4;

    text = malloc(size);
    if (text == NULL) {
        ngx_cpystrn((u_char *) err, (u_char *) "out of memory", err_len);
        return NULL;
    }

    /* a control character in the subject becomes a space */

    subject = malloc(subject_len + 1);
    if (subject == NULL) {
        free(text);
        ngx_cpystrn((u_char *) err, (u_char *) "out of memory", err_len);
        return NULL;
    }

    ngx_memcpy(subject, in->subject, subject_len);

    for (s = subject; s < subject + subject_len; s++) {
        if (*s < 0x20 || *s == 0x7f) {
            *s = ' ';
        }
    }

    ngx_gmtime(in->date, &tm);

    p = text;
    p = ngx_sprintf(p, "Date: %s, %02d %s %4d %02d:%02d:%02d +0000\n",
                    wday[tm.ngx_tm_wday], tm.ngx_tm_mday,
                    mon[tm.ngx_tm_mon - 1], tm.ngx_tm_year, tm.ngx_tm_hour,
                    tm.ngx_tm_min, tm.ngx_tm_sec);

    p = ngx_http_portal_mail_mailbox(p, "From", &from_name, &from);
    p = ngx_http_portal_mail_mailbox(p, "To", &to_name, &to);

    p = ngx_cpymem(p, "Subject: ", sizeof("Subject: ") - 1);
    p = ngx_http_portal_mail_words(p, subject, subject_len);
    free(subject);

    p = ngx_sprintf(p, "\nMessage-ID: <portal.outbox.%s@%V>\n"
                       "MIME-Version: 1.0\n"
                       "Content-Type: text/plain; charset=UTF-8\n"
                       "Content-Transfer-Encoding: quoted-printable\n"
                       "X-Portal-Outbox-Id: %s\n\n",
                    in->id, &domain, in->id);

    p = ngx_http_portal_mail_qp(p, (u_char *) in->body, body_len);

    *len = p - text;

    return text;
}


ngx_int_t
ngx_http_portal_mail_address(const char *value, ngx_str_t *addr)
{
    ngx_str_t  name;

    return ngx_http_portal_mail_split(value, &name, addr);
}


/*
 * "Name <address>" into its name (spaces around it dropped) and its
 * address.  Nothing that could end a header line or an SMTP command gets
 * through: the name has no control character, the address is printable
 * ASCII without spaces or brackets, with one @ that is neither first nor
 * last, at most 254 bytes long.
 */

static ngx_int_t
ngx_http_portal_mail_split(const char *value, ngx_str_t *name,
    ngx_str_t *addr)
{
    u_char      *s, *lt, *end, *at;
    ngx_uint_t   ats;

    s = (u_char *) value;
    end = s + ngx_strlen(value);

    for (lt = s; lt < end; lt++) {
        if (*lt < 0x20 || *lt == 0x7f) {
            return NGX_ERROR;
        }
    }

    lt = ngx_strlchr(s, end, '<');

    if (lt == NULL) {
        name->data = s;
        name->len = 0;
        addr->data = s;
        addr->len = end - s;

    } else {
        if (end[-1] != '>') {
            return NGX_ERROR;
        }

        addr->data = lt + 1;
        addr->len = end - 1 - addr->data;

        while (s < lt && *s == ' ') {
            s++;
        }

        while (lt > s && lt[-1] == ' ') {
            lt--;
        }

        name->data = s;
        name->len = lt - s;
    }

    ats = 0;
    at = NULL;

    for (s = addr->data; s < addr->data + addr->len; s++) {
        if (*s <= 0x20 || *s >= 0x7f || *s == '<' || *s == '>') {
            return NGX_ERROR;
        }

        if (*s == '@') {
            ats++;
            at = s;
        }
    }

    /* RFC 5321, 4.5.3.1.3: a path is at most 256 octets, brackets
     * included */

    if (ats != 1 || at == addr->data || at == addr->data + addr->len - 1
        || addr->len > 254)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* "Name <address>", or the address alone */

static u_char *
ngx_http_portal_mail_mailbox(u_char *p, const char *header, ngx_str_t *name,
    ngx_str_t *addr)
{
    p = ngx_sprintf(p, "%s: ", header);

    if (name->len == 0) {
        p = ngx_cpymem(p, addr->data, addr->len);

    } else {
        p = ngx_http_portal_mail_words(p, name->data, name->len);
        p = ngx_sprintf(p, " <%V>", addr);
    }

    *p++ = '\n';

    return p;
}


/*
 * A header's text: as it is when it is printable ASCII, else RFC 2047
 * encoded-words of whole UTF-8 characters, each on a line of its own
 * (folded), short enough for the 76 characters that RFC 2047 allows.
 */

static u_char *
ngx_http_portal_mail_words(u_char *p, u_char *text, size_t len)
{
    size_t      n;
    u_char     *s, *end;
    ngx_str_t   src, dst;

    end = text + len;

    for (s = text; s < end; s++) {
        if (*s < 0x20 || *s >= 0x7f
            || (*s == '=' && s + 1 < end && s[1] == '?'))
        {
            break;
        }
    }

    if (s == end) {
        return ngx_cpymem(p, text, len);
    }

    for (s = text; s < end; s += n) {
        n = ngx_min((size_t) (end - s), NGX_HTTP_PORTAL_MAIL_WORD);

        /* never cut a character in two: back to the start of one */

        while (s + n < end && n > 1 && (s[n] & 0xc0) == 0x80) {
            n--;
        }

        if (s > text) {
            p = ngx_cpymem(p, "\n ", 2);
        }

        src.data = s;
        src.len = n;
        dst.data = p + sizeof("=?UTF-8?B?") - 1;

        p = ngx_cpymem(p, "=?UTF-8?B?", sizeof("=?UTF-8?B?") - 1);
        ngx_encode_base64(&dst, &src);
        p += dst.len;
        p = ngx_cpymem(p, "?=", 2);
    }

    return p;
}


/*
 * Quoted-printable (RFC 2045): printable ASCII stays as it is, so that a
 * French text remains readable; "=", every other byte and a space or a tab
 * at a line's end are =XX; a line longer than 76 characters is cut by
 * soft breaks.  A CR before an LF is dropped: every line ends with LF
 * here, with CRLF on the wire.
 */

static u_char *
ngx_http_portal_mail_qp(u_char *p, const u_char *s, size_t len)
{
    size_t          col, w;
    ngx_uint_t      literal;
    const u_char   *end;

    static u_char   hex[] = "0123456789ABCDEF";

    end = s + len;
    col = 0;

    for ( /* void */ ; s < end; s++) {

        if (*s == '\n' || (*s == '\r' && s + 1 < end && s[1] == '\n')) {
            if (*s == '\r') {
                s++;
            }

            *p++ = '\n';
            col = 0;
            continue;
        }

        if (*s == ' ' || *s == '\t') {
            literal = (s + 1 < end && s[1] != '\n' && s[1] != '\r');

        } else {
            literal = (*s > 0x20 && *s < 0x7f && *s != '=');
        }

        w = literal ? 1 : 3;

        if (col + w > NGX_HTTP_PORTAL_MAIL_QP_LINE) {
            p = ngx_cpymem(p, "=\n", 2);
            col = 0;
        }

        if (literal) {
            *p++ = *s;

        } else {
            *p++ = '=';
            *p++ = hex[*s >> 4];
            *p++ = hex[*s & 0xf];
        }

        col += w;
    }

    if (col) {
        *p++ = '\n';
    }

    return p;
}
