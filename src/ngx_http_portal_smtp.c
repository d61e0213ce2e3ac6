
/*
 * Portail Citoyen: one mail to the SMTP relay, on the event loop.
 *
 * A connection per mail, one command at a time (no pipelining): the
 * greeting, EHLO, MAIL FROM, RCPT TO, DATA, the message (CRLF line ends,
 * a line that begins with a dot doubled), then QUIT.  Each reply is
 * awaited for portal_smtp_timeout at most.  The mail counts as sent only
 * when the relay answered 250 to its end: a connection lost or a timeout
 * before that leaves it to be sent again (a relay that did take it then
 * gets it twice, with the same Message-ID).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>

#include "ngx_http_portal_smtp.h"


/* a reply line longer than this is not from a relay that speaks SMTP */
#define NGX_HTTP_PORTAL_SMTP_LINE  1024


typedef enum {
    ngx_http_portal_smtp_connect = 0,
    ngx_http_portal_smtp_greeting,
    ngx_http_portal_smtp_ehlo,
    ngx_http_portal_smtp_mail,
    ngx_http_portal_smtp_rcpt,
    ngx_http_portal_smtp_data,
    ngx_http_portal_smtp_dot,
    ngx_http_portal_smtp_quit
} ngx_http_portal_smtp_state_e;


typedef struct {
    ngx_peer_connection_t          peer;
    ngx_pool_t                    *pool;
    ngx_log_t                     *log;
    ngx_msec_t                     timeout;
    ngx_http_portal_smtp_state_e   state;

    ngx_buf_t                     *in;
    ngx_buf_t                      out;

    ngx_str_t                      helo;
    ngx_str_t                      from;
    ngx_str_t                      to;
    ngx_str_t                      message;   /* CRLF, dot-stuffed, "." */

    /* the reply's code and its last line, printable */
    ngx_uint_t                     code;
    u_char                         line[128];

    ngx_int_t                      rc;
    ngx_uint_t                     sent;      /* 250 after the message */
    u_char                         error[256];

    /* a delivery that could not even start ends on the next loop */
    ngx_event_t                    later;

    ngx_http_portal_smtp_done_pt   done;
    void                          *data;
} ngx_http_portal_smtp_t;


static ngx_int_t ngx_http_portal_smtp_stuff(ngx_http_portal_smtp_t *s,
    u_char *text, size_t len);
static void ngx_http_portal_smtp_later(ngx_event_t *ev);
static void ngx_http_portal_smtp_write_handler(ngx_event_t *wev);
static void ngx_http_portal_smtp_read_handler(ngx_event_t *rev);
static ngx_int_t ngx_http_portal_smtp_reply(ngx_http_portal_smtp_t *s);
static void ngx_http_portal_smtp_next(ngx_http_portal_smtp_t *s);
static void ngx_http_portal_smtp_command(ngx_http_portal_smtp_t *s,
    ngx_http_portal_smtp_state_e state, u_char *data, size_t len);
static void ngx_http_portal_smtp_flush(ngx_http_portal_smtp_t *s);
static void ngx_http_portal_smtp_fail(ngx_http_portal_smtp_t *s,
    ngx_int_t rc, const char *what);
static void ngx_http_portal_smtp_finish(ngx_http_portal_smtp_t *s);


ngx_int_t
ngx_http_portal_smtp_send(ngx_http_portal_smtp_mail_t *mail)
{
    ngx_int_t                rc;
    ngx_pool_t              *pool;
    ngx_connection_t        *c;
    ngx_http_portal_smtp_t  *s;

    pool = ngx_create_pool(4096, mail->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    s = ngx_pcalloc(pool, sizeof(ngx_http_portal_smtp_t));
    if (s == NULL) {
        goto failed;
    }

    s->pool = pool;
    s->log = mail->log;
    s->timeout = mail->timeout;
    s->done = mail->done;
    s->data = mail->data;
    s->rc = NGX_AGAIN;

    s->helo.data = ngx_pstrdup(pool, &mail->helo);
    s->from.data = ngx_pstrdup(pool, &mail->from);
    s->to.data = ngx_pstrdup(pool, &mail->to);
    s->in = ngx_create_temp_buf(pool, NGX_HTTP_PORTAL_SMTP_LINE);

    if (s->helo.data == NULL || s->from.data == NULL || s->to.data == NULL
        || s->in == NULL
        || ngx_http_portal_smtp_stuff(s, mail->message, mail->len) != NGX_OK)
    {
        goto failed;
    }

    s->helo.len = mail->helo.len;
    s->from.len = mail->from.len;
    s->to.len = mail->to.len;

    s->later.handler = ngx_http_portal_smtp_later;
    s->later.data = s;
    s->later.log = s->log;

    s->peer.sockaddr = mail->server->sockaddr;
    s->peer.socklen = mail->server->socklen;
    s->peer.name = &mail->server->name;
    s->peer.get = ngx_event_get_peer;
    s->peer.log = s->log;
    s->peer.log_error = NGX_ERROR_ERR;

    rc = ngx_event_connect_peer(&s->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {

        /* nginx logged why; the connection, if any, is closed */

        ngx_snprintf(s->error, sizeof(s->error) - 1,
                     "cannot connect to %V%Z", s->peer.name);
        ngx_post_event(&s->later, &ngx_posted_events);
        return NGX_OK;
    }

    c = s->peer.connection;
    c->data = s;
    c->log = s->log;
    c->read->log = s->log;
    c->write->log = s->log;
    c->read->handler = ngx_http_portal_smtp_read_handler;
    c->write->handler = ngx_http_portal_smtp_write_handler;

    if (rc == NGX_AGAIN) {
        s->state = ngx_http_portal_smtp_connect;
        ngx_add_timer(c->write, s->timeout);
        return NGX_OK;
    }

    s->state = ngx_http_portal_smtp_greeting;
    ngx_add_timer(c->read, s->timeout);

    return NGX_OK;

failed:

    ngx_destroy_pool(pool);
    return NGX_ERROR;
}


/*
 * The message as DATA sends it: every line ended by CRLF, a line that
 * begins with "." gets another one (RFC 5321, 4.5.2), then ".".
 */

static ngx_int_t
ngx_http_portal_smtp_stuff(ngx_http_portal_smtp_t *s, u_char *text,
    size_t len)
{
    u_char      *p, *end;
    size_t       size;
    ngx_uint_t   bol;

    end = text + len;
    size = len + sizeof(".\r\n\r\n");

    for (p = text; p < end; p++) {
        if (*p == '\n' || *p == '.') {
            size++;
        }
    }

    s->message.data = ngx_pnalloc(s->pool, size);
    if (s->message.data == NULL) {
        return NGX_ERROR;
    }

    p = s->message.data;
    bol = 1;

    for ( /* void */ ; text < end; text++) {
        if (bol && *text == '.') {
            *p++ = '.';
        }

        if (*text == '\n') {
            if (bol || p[-1] != '\r') {
                *p++ = '\r';
            }

            *p++ = '\n';
            bol = 1;
            continue;
        }

        *p++ = *text;
        bol = 0;
    }

    if (!bol) {
        *p++ = '\r';
        *p++ = '\n';
    }

    p = ngx_cpymem(p, ".\r\n", 3);

    s->message.len = p - s->message.data;

    return NGX_OK;
}


static void
ngx_http_portal_smtp_later(ngx_event_t *ev)
{
    ngx_http_portal_smtp_finish(ev->data);
}


static void
ngx_http_portal_smtp_write_handler(ngx_event_t *wev)
{
    int                      err;
    socklen_t                len;
    ngx_connection_t        *c;
    ngx_http_portal_smtp_t  *s;

    c = wev->data;
    s = c->data;

    if (wev->timedout) {
        ngx_http_portal_smtp_fail(s, NGX_AGAIN,
                                  s->state == ngx_http_portal_smtp_connect
                                  ? "connecting timed out"
                                  : "sending timed out");
        return;
    }

    if (s->state == ngx_http_portal_smtp_connect) {
        err = 0;
        len = sizeof(int);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len)
            == -1)
        {
            err = ngx_socket_errno;
        }

        if (err) {
            ngx_snprintf(s->error, sizeof(s->error) - 1,
                         "connect() to %V failed: %s%Z", s->peer.name,
                         strerror(err));
            ngx_http_portal_smtp_finish(s);
            return;
        }

        if (wev->timer_set) {
            ngx_del_timer(wev);
        }

        s->state = ngx_http_portal_smtp_greeting;
        ngx_add_timer(c->read, s->timeout);

        if (c->read->ready) {
            ngx_http_portal_smtp_read_handler(c->read);
        }

        return;
    }

    if (s->out.pos < s->out.last) {
        ngx_http_portal_smtp_flush(s);
    }
}


static void
ngx_http_portal_smtp_read_handler(ngx_event_t *rev)
{
    size_t                   rest;
    ssize_t                  n;
    ngx_int_t                rc;
    ngx_connection_t        *c;
    ngx_http_portal_smtp_t  *s;

    c = rev->data;
    s = c->data;

    if (rev->timedout) {
        ngx_http_portal_smtp_fail(s, NGX_AGAIN,
                                  s->state == ngx_http_portal_smtp_greeting
                                  ? "no greeting in time"
                                  : "no reply in time");
        return;
    }

    if (s->state == ngx_http_portal_smtp_connect) {
        return;
    }

    for ( ;; ) {
        if (s->in->last == s->in->end) {
            rest = s->in->last - s->in->pos;

            if (rest == (size_t) (s->in->end - s->in->start)) {
                ngx_http_portal_smtp_fail(s, NGX_AGAIN,
                                          "reply line too long");
                return;
            }

            ngx_memmove(s->in->start, s->in->pos, rest);
            s->in->pos = s->in->start;
            s->in->last = s->in->start + rest;
        }

        n = c->recv(c, s->in->last, s->in->end - s->in->last);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0 || n == NGX_ERROR) {
            ngx_http_portal_smtp_fail(s, NGX_AGAIN,
                                      "connection closed by the relay");
            return;
        }

        s->in->last += n;

        rc = ngx_http_portal_smtp_reply(s);

        if (rc == NGX_ERROR) {
            ngx_http_portal_smtp_fail(s, NGX_AGAIN, "malformed reply");
            return;
        }

        if (rc == NGX_OK) {
            if (rev->timer_set) {
                ngx_del_timer(rev);
            }

            ngx_http_portal_smtp_next(s);
            return;
        }
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_http_portal_smtp_fail(s, NGX_AGAIN, "event error");
    }
}


/*
 * A whole reply read: NGX_OK with its code and last line.  Its lines are
 * "250-..." but the last, "250 ..." or "250" alone (RFC 5321, 4.2.1).
 */

static ngx_int_t
ngx_http_portal_smtp_reply(ngx_http_portal_smtp_t *s)
{
    u_char  *p, *lf, *d, *end;

    for ( ;; ) {
        p = s->in->pos;
        lf = ngx_strlchr(p, s->in->last, '\n');

        if (lf == NULL) {
            return NGX_AGAIN;
        }

        s->in->pos = lf + 1;

        end = lf;

        if (end > p && end[-1] == '\r') {
            end--;
        }

        if (end - p < 3
            || p[0] < '2' || p[0] > '5'
            || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9'
            || (end - p > 3 && p[3] != ' ' && p[3] != '-'))
        {
            return NGX_ERROR;
        }

        if (end - p > 3 && p[3] == '-') {
            continue;
        }

        s->code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');

        /* kept for last_error: printable, as the relay's text may not be
         * UTF-8 */

        d = s->line;

        while (p < end && d < s->line + sizeof(s->line) - 1) {
            *d++ = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
            p++;
        }

        *d = '\0';

        if (s->in->pos == s->in->last) {
            s->in->pos = s->in->start;
            s->in->last = s->in->start;
        }

        return NGX_OK;
    }
}


static void
ngx_http_portal_smtp_next(ngx_http_portal_smtp_t *s)
{
    u_char      *p, cmd[NGX_HTTP_PORTAL_SMTP_LINE];
    ngx_int_t    rc;
    const char  *what;

    what = NULL;

    switch (s->state) {

    case ngx_http_portal_smtp_greeting:
        if (s->code != 220) {
            what = "greeting";
            break;
        }

        p = ngx_snprintf(cmd, sizeof(cmd), "EHLO %V\r\n", &s->helo);
        ngx_http_portal_smtp_command(s, ngx_http_portal_smtp_ehlo, cmd,
                                     p - cmd);
        return;

    case ngx_http_portal_smtp_ehlo:
        if (s->code != 250) {
            what = "EHLO";
            break;
        }

        p = ngx_snprintf(cmd, sizeof(cmd), "MAIL FROM:<%V>\r\n", &s->from);
        ngx_http_portal_smtp_command(s, ngx_http_portal_smtp_mail, cmd,
                                     p - cmd);
        return;

    case ngx_http_portal_smtp_mail:
        if (s->code != 250) {
            what = "MAIL FROM";
            break;
        }

        p = ngx_snprintf(cmd, sizeof(cmd), "RCPT TO:<%V>\r\n", &s->to);
        ngx_http_portal_smtp_command(s, ngx_http_portal_smtp_rcpt, cmd,
                                     p - cmd);
        return;

    case ngx_http_portal_smtp_rcpt:
        if (s->code != 250 && s->code != 251) {
            what = "RCPT TO";
            break;
        }

        ngx_http_portal_smtp_command(s, ngx_http_portal_smtp_data,
                                     (u_char *) "DATA\r\n", 6);
        return;

    case ngx_http_portal_smtp_data:
        if (s->code != 354) {
            what = "DATA";
            break;
        }

        ngx_http_portal_smtp_command(s, ngx_http_portal_smtp_dot,
                                     s->message.data, s->message.len);
        return;

    case ngx_http_portal_smtp_dot:
        if (s->code != 250) {
            what = "the message";
            break;
        }

        s->sent = 1;
        s->rc = NGX_OK;

        ngx_http_portal_smtp_command(s, ngx_http_portal_smtp_quit,
                                     (u_char *) "QUIT\r\n", 6);
        return;

    default: /* ngx_http_portal_smtp_quit */
        ngx_http_portal_smtp_finish(s);
        return;
    }

    /*
     * Refused.  A 5xx to the envelope or the message is for good: the
     * relay will not take this mail.  A 5xx to the greeting or to EHLO
     * says the relay (or the portal's configuration) is wrong, not the
     * mail: it is tried again, up to the outbox's bound.
     */

    rc = NGX_AGAIN;

    if (s->code >= 500 && s->state >= ngx_http_portal_smtp_mail) {
        rc = NGX_DECLINED;
    }

    ngx_snprintf(s->error, sizeof(s->error) - 1, "%s: %s%Z", what, s->line);
    ngx_http_portal_smtp_fail(s, rc, NULL);
}


static void
ngx_http_portal_smtp_command(ngx_http_portal_smtp_t *s,
    ngx_http_portal_smtp_state_e state, u_char *data, size_t len)
{
    u_char  *copy;

    if (data == s->message.data) {
        copy = data;

    } else {
        copy = ngx_pnalloc(s->pool, len);
        if (copy == NULL) {
            ngx_http_portal_smtp_fail(s, NGX_AGAIN, "out of memory");
            return;
        }

        ngx_memcpy(copy, data, len);
    }

    s->state = state;
    s->out.pos = copy;
    s->out.last = copy + len;

    ngx_http_portal_smtp_flush(s);
}


static void
ngx_http_portal_smtp_flush(ngx_http_portal_smtp_t *s)
{
    ssize_t            n;
    ngx_connection_t  *c;

    c = s->peer.connection;

    while (s->out.pos < s->out.last) {
        n = c->send(c, s->out.pos, s->out.last - s->out.pos);

        if (n == NGX_ERROR) {
            ngx_http_portal_smtp_fail(s, NGX_AGAIN, "sending failed");
            return;
        }

        if (n == NGX_AGAIN) {
            ngx_add_timer(c->write, s->timeout);

            if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
                ngx_http_portal_smtp_fail(s, NGX_AGAIN, "event error");
            }

            return;
        }

        s->out.pos += n;
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    /* all sent: the reply is awaited */

    ngx_add_timer(c->read, s->timeout);

    if (c->read->ready) {
        ngx_http_portal_smtp_read_handler(c->read);
        return;
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_portal_smtp_fail(s, NGX_AGAIN, "event error");
    }
}


/* what: why, when s->error does not say it already */

static void
ngx_http_portal_smtp_fail(ngx_http_portal_smtp_t *s, ngx_int_t rc,
    const char *what)
{
    /* once the message was taken, whatever QUIT meets changes nothing */

    if (!s->sent) {
        s->rc = rc;

        if (what) {
            ngx_snprintf(s->error, sizeof(s->error) - 1, "%s (%V)%Z", what,
                         s->peer.name);
        }
    }

    ngx_http_portal_smtp_finish(s);
}


static void
ngx_http_portal_smtp_finish(ngx_http_portal_smtp_t *s)
{
    if (s->peer.connection) {
        ngx_close_connection(s->peer.connection);
        s->peer.connection = NULL;
    }

    if (s->sent) {
        s->rc = NGX_OK;
        s->error[0] = '\0';

    } else if (s->error[0] == '\0') {
        ngx_cpystrn(s->error, (u_char *) "not delivered", sizeof(s->error));
    }

    s->done(s->data, s->rc, (const char *) s->error);

    ngx_destroy_pool(s->pool);
}
