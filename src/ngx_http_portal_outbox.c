
/*
 * Portail Citoyen: delivery of the mail outbox.
 *
 * Mail is queued in PostgreSQL by the transaction of the change that
 * caused it.  Every worker looks at the outbox each portal_mail_interval
 * (and at once when it just queued mail), leases due rows (SKIP LOCKED:
 * workers and hosts share the outbox), writes each as one RFC 5322 file
 * into the Maildir of portal_maildir on the thread pool, and settles it:
 * sent, or retried later with back-off, or failed for good.
 *
 * A message's file name comes from its outbox id alone, so that a message
 * delivered twice (a lease that ran out) is still one file.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_outbox.h"
#include "ngx_http_portal_thread.h"


#define NGX_HTTP_PORTAL_OUTBOX_BATCH  "16"
#define NGX_HTTP_PORTAL_OUTBOX_BATCH_N  16


typedef struct {
    ngx_event_t                   tick;
    ngx_http_portal_db_query_t    take;
    ngx_http_portal_main_conf_t  *conf;
    /* a take, or deliveries of its rows, under way */
    ngx_uint_t                    busy;
    ngx_uint_t                    pending;
    ngx_uint_t                    again;
} ngx_http_portal_outbox_t;


typedef struct {
    ngx_http_portal_db_query_t    settle;
    char                          id[NGX_INT64_LEN + 1];
    char                          error[256];
    /* in: */
    char                         *dir;
    char                         *host;
    char                         *from;
    char                         *recipient;
    char                         *subject;
    char                         *body;
    time_t                        created;
    /* the strings follow the struct */
} ngx_http_portal_mail_t;


static void ngx_http_portal_outbox_tick(ngx_event_t *ev);
static void ngx_http_portal_outbox_taken(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static void ngx_http_portal_outbox_write(void *data);
static u_char *ngx_http_portal_outbox_text(u_char *p, const char *value,
    size_t len, ngx_uint_t encode);
static u_char *ngx_http_portal_outbox_header(u_char *p, const char *name,
    const char *value, ngx_uint_t encode);
static u_char *ngx_http_portal_outbox_address(u_char *p, const char *name,
    const char *value);
static void ngx_http_portal_outbox_written(ngx_http_request_t *r,
    void *data);
static void ngx_http_portal_outbox_settled(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static void ngx_http_portal_outbox_finish(void);


static ngx_http_portal_sql_t  ngx_http_portal_outbox_take_sql = {
    "portal_outbox_take",
    "SELECT id, recipient, subject, body,"
    " extract(epoch FROM created_at)::bigint"
    " FROM portal.outbox_take($1)",
    1, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_outbox_settle_sql = {
    "portal_outbox_settle",
    "SELECT portal.outbox_settle($1, $2)",
    2, 0
};


static ngx_http_portal_outbox_t  *ngx_http_portal_outbox;


ngx_int_t
ngx_http_portal_outbox_init(ngx_cycle_t *cycle,
    ngx_http_portal_main_conf_t *pmcf)
{
    ngx_http_portal_outbox_t  *ob;

    if (pmcf->maildir.len == 0) {
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "portal: no \"portal_maildir\": mail stays queued in"
                      " the outbox");
        return NGX_OK;
    }

    ob = ngx_pcalloc(cycle->pool, sizeof(ngx_http_portal_outbox_t));
    if (ob == NULL) {
        return NGX_ERROR;
    }

    ob->conf = pmcf;
    ob->tick.handler = ngx_http_portal_outbox_tick;
    ob->tick.data = ob;
    ob->tick.log = cycle->log;
    ob->tick.cancelable = 1;

    ngx_http_portal_outbox = ob;

    ngx_add_timer(&ob->tick, pmcf->mail_interval);

    return NGX_OK;
}


void
ngx_http_portal_outbox_kick(void)
{
    ngx_http_portal_outbox_t  *ob;

    ob = ngx_http_portal_outbox;

    if (ob == NULL) {
        return;
    }

    if (ob->busy) {
        ob->again = 1;
        return;
    }

    if (!ob->tick.posted) {
        ngx_post_event(&ob->tick, &ngx_posted_events);
    }
}


static void
ngx_http_portal_outbox_tick(ngx_event_t *ev)
{
    ngx_http_portal_outbox_t *ob = ev->data;

    if (ob->tick.timer_set) {
        ngx_del_timer(&ob->tick);
    }

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    if (ob->busy) {
        ob->again = 1;
        return;
    }

    ngx_memzero(&ob->take, sizeof(ngx_http_portal_db_query_t));

    ob->take.sql = &ngx_http_portal_outbox_take_sql;
    ob->take.handler = ngx_http_portal_outbox_taken;
    ob->take.data = ob;

    ngx_http_portal_db_param(&ob->take, NGX_HTTP_PORTAL_OUTBOX_BATCH,
                             sizeof(NGX_HTTP_PORTAL_OUTBOX_BATCH) - 1);

    ob->busy = 1;
    ob->again = 0;

    if (ngx_http_portal_db_run(&ob->take) != NGX_OK) {
        ob->busy = 0;
        ngx_add_timer(&ob->tick, ob->conf->mail_interval);
    }
}


static void
ngx_http_portal_outbox_taken(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_portal_outbox_t *ob = q->data;

    int                      i, n;
    u_char                  *p;
    size_t                   size;
    ngx_http_portal_mail_t  *mail;

    if (status != NGX_HTTP_PORTAL_DB_OK
        || PQresultStatus(res) != PGRES_TUPLES_OK)
    {
        if (status == NGX_HTTP_PORTAL_DB_OK) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "portal: reading the outbox failed: %s",
                          PQresultErrorMessage(res));
        }

        ob->busy = 0;
        ngx_add_timer(&ob->tick, ob->conf->mail_interval);
        return;
    }

    n = PQntuples(res);

    /* a full batch: more may be due, look again once it is delivered */

    if (n == NGX_HTTP_PORTAL_OUTBOX_BATCH_N) {
        ob->again = 1;
    }

    for (i = 0; i < n; i++) {
        size = sizeof(ngx_http_portal_mail_t)
               + ob->conf->maildir.len + 1
               + ngx_cycle->hostname.len + 1
               + ob->conf->mail_from.len + 1
               + PQgetlength(res, i, 1) + 1
               + PQgetlength(res, i, 2) + 1
               + PQgetlength(res, i, 3) + 1;

        mail = ngx_http_portal_thread_alloc(ngx_cycle->log, size);
        if (mail == NULL) {
            continue;
        }

        p = (u_char *) (mail + 1);

        mail->dir = (char *) p;
        p = ngx_cpymem(p, ob->conf->maildir.data, ob->conf->maildir.len);
        *p++ = '\0';

        mail->host = (char *) p;
        p = ngx_cpymem(p, ngx_cycle->hostname.data,
                       ngx_cycle->hostname.len);
        *p++ = '\0';

        mail->from = (char *) p;
        p = ngx_cpymem(p, ob->conf->mail_from.data, ob->conf->mail_from.len);
        *p++ = '\0';

        mail->recipient = (char *) p;
        p = ngx_cpymem(p, PQgetvalue(res, i, 1), PQgetlength(res, i, 1));
        *p++ = '\0';

        mail->subject = (char *) p;
        p = ngx_cpymem(p, PQgetvalue(res, i, 2), PQgetlength(res, i, 2));
        *p++ = '\0';

        mail->body = (char *) p;
        p = ngx_cpymem(p, PQgetvalue(res, i, 3), PQgetlength(res, i, 3));
        *p++ = '\0';

        ngx_cpystrn((u_char *) mail->id, (u_char *) PQgetvalue(res, i, 0),
                    sizeof(mail->id));
        mail->created = (time_t) ngx_atotm((u_char *) PQgetvalue(res, i, 4),
                                           PQgetlength(res, i, 4));

        if (ngx_http_portal_thread_post(NULL, mail,
                                        ngx_http_portal_outbox_write,
                                        ngx_http_portal_outbox_written)
            != NGX_OK)
        {
            ngx_http_portal_thread_free(mail);
            continue;
        }

        ob->pending++;
    }

    ngx_http_portal_outbox_finish();
}


/* in a pool thread: one file into tmp/, then renamed into new/ */

static void
ngx_http_portal_outbox_write(void *data)
{
    ngx_http_portal_mail_t *mail = data;

    int         fd;
    char        tmp[NGX_MAX_PATH], dst[NGX_MAX_PATH];
    u_char     *text, *p, id[32], rnd[8];
    size_t      len;
    ssize_t     n;
    ngx_tm_t    tm;

    static const char  *wday[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri",
                                   "Sat" };
    static const char  *mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

    len = ngx_strlen(mail->body) + ngx_strlen(mail->subject) * 2
          + ngx_strlen(mail->from) * 2 + ngx_strlen(mail->recipient)
          + ngx_strlen(mail->host) + 1024;

    text = malloc(len);
    if (text == NULL) {
        ngx_cpystrn((u_char *) mail->error, (u_char *) "out of memory",
                    sizeof(mail->error));
        return;
    }

    ngx_gmtime(ngx_time(), &tm);

    p = text;
    p = ngx_sprintf(p, "Date: %s, %02d %s %4d %02d:%02d:%02d +0000\n",
                    wday[tm.ngx_tm_wday], tm.ngx_tm_mday,
                    mon[tm.ngx_tm_mon - 1], tm.ngx_tm_year, tm.ngx_tm_hour,
                    tm.ngx_tm_min, tm.ngx_tm_sec);
    p = ngx_http_portal_outbox_address(p, "From", mail->from);
    p = ngx_http_portal_outbox_address(p, "To", mail->recipient);
    p = ngx_http_portal_outbox_header(p, "Subject", mail->subject, 1);

    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex((char *) id, sizeof(id), rnd, sizeof(rnd));

    p = ngx_sprintf(p, "Message-ID: <portal.%s.%s@%s>\n", mail->id, id,
                    mail->host);
    p = ngx_sprintf(p, "MIME-Version: 1.0\n"
                       "Content-Type: text/plain; charset=UTF-8\n"
                       "Content-Transfer-Encoding: 8bit\n"
                       "X-Portal-Outbox-Id: %s\n\n", mail->id);
    p = ngx_cpymem(p, mail->body, ngx_strlen(mail->body));

    if (p[-1] != '\n') {
        *p++ = '\n';
    }

    ngx_snprintf((u_char *) tmp, sizeof(tmp), "%s/tmp/%T.portal-%s.%s%Z",
                 mail->dir, mail->created, mail->id, mail->host);
    ngx_snprintf((u_char *) dst, sizeof(dst), "%s/new/%T.portal-%s.%s%Z",
                 mail->dir, mail->created, mail->id, mail->host);

    fd = open(tmp, O_WRONLY|O_CREAT|O_TRUNC, 0640);
    if (fd == -1) {
        ngx_snprintf((u_char *) mail->error, sizeof(mail->error) - 1,
                     "open(\"%s\") failed: %s%Z", tmp, strerror(errno));
        free(text);
        return;
    }

    n = write(fd, text, p - text);

    if (n != p - text || fsync(fd) == -1) {
        ngx_snprintf((u_char *) mail->error, sizeof(mail->error) - 1,
                     "writing \"%s\" failed: %s%Z", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        free(text);
        return;
    }

    close(fd);
    free(text);

    if (rename(tmp, dst) == -1) {
        ngx_snprintf((u_char *) mail->error, sizeof(mail->error) - 1,
                     "rename() to \"%s\" failed: %s%Z", dst, strerror(errno));
        unlink(tmp);
    }
}


/*
 * A header's text: CR and LF never pass (no header injection), and with
 * encode a non-ASCII text becomes an RFC 2047 encoded-word.
 */

static u_char *
ngx_http_portal_outbox_text(u_char *p, const char *value, size_t len,
    ngx_uint_t encode)
{
    ngx_str_t    src, dst;
    const char  *s, *end;

    end = value + len;

    for (s = value; s < end; s++) {
        if ((u_char) *s >= 0x80) {
            break;
        }
    }

    if (encode && s < end) {
        src.data = (u_char *) value;
        src.len = len;

        p = ngx_cpymem(p, "=?UTF-8?B?", sizeof("=?UTF-8?B?") - 1);
        dst.data = p;
        ngx_encode_base64(&dst, &src);
        p += dst.len;

        return ngx_cpymem(p, "?=", 2);
    }

    for (s = value; s < end; s++) {
        *p++ = (*s == '\r' || *s == '\n') ? ' ' : (u_char) *s;
    }

    return p;
}


/* one header line */

static u_char *
ngx_http_portal_outbox_header(u_char *p, const char *name, const char *value,
    ngx_uint_t encode)
{
    p = ngx_sprintf(p, "%s: ", name);
    p = ngx_http_portal_outbox_text(p, value, ngx_strlen(value), encode);
    *p++ = '\n';

    return p;
}


/*
 * An address header: "Name <address>" or an address alone.  The address
 * is ASCII (checked when it was given, the domain in punycode); a name
 * with accents ("Mairie de Saint-Étienne") becomes an encoded-word, so
 * that every header stays ASCII.
 */

static u_char *
ngx_http_portal_outbox_address(u_char *p, const char *name,
    const char *value)
{
    const char  *lt, *end;

    lt = ngx_strchr(value, '<');

    if (lt == NULL) {
        return ngx_http_portal_outbox_header(p, name, value, 0);
    }

    end = lt;

    while (end > value && end[-1] == ' ') {
        end--;
    }

    p = ngx_sprintf(p, "%s: ", name);

    if (end > value) {
        p = ngx_http_portal_outbox_text(p, value, end - value, 1);
        *p++ = ' ';
    }

    p = ngx_http_portal_outbox_text(p, lt, ngx_strlen(lt), 0);
    *p++ = '\n';

    return p;
}


static void
ngx_http_portal_outbox_written(ngx_http_request_t *r, void *data)
{
    ngx_http_portal_mail_t *mail = data;

    ngx_http_portal_mail_t  *settle;

    /* the thread's block goes after this call: the settle keeps its own */

    settle = ngx_calloc(sizeof(ngx_http_portal_mail_t), ngx_cycle->log);
    if (settle == NULL) {
        ngx_http_portal_outbox->pending--;
        ngx_http_portal_outbox_finish();
        return;
    }

    ngx_memcpy(settle->id, mail->id, sizeof(mail->id));
    ngx_memcpy(settle->error, mail->error, sizeof(mail->error));

    if (mail->error[0]) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "portal: mail %s not delivered: %s", mail->id,
                      mail->error);
    }

    settle->settle.sql = &ngx_http_portal_outbox_settle_sql;
    settle->settle.handler = ngx_http_portal_outbox_settled;
    settle->settle.data = settle;

    ngx_http_portal_db_param(&settle->settle, settle->id,
                             ngx_strlen(settle->id));
    ngx_http_portal_db_param(&settle->settle,
                             settle->error[0] ? settle->error : NULL, 0);

    if (ngx_http_portal_db_run(&settle->settle) != NGX_OK) {

        /* the lease runs out and the message is delivered again */

        ngx_free(settle);
        ngx_http_portal_outbox->pending--;
        ngx_http_portal_outbox_finish();
    }
}


static void
ngx_http_portal_outbox_settled(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_portal_mail_t *settle = q->data;

    if (status == NGX_HTTP_PORTAL_DB_OK
        && PQresultStatus(res) != PGRES_TUPLES_OK)
    {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "portal: settling mail %s failed: %s", settle->id,
                      PQresultErrorMessage(res));
    }

    ngx_free(settle);

    ngx_http_portal_outbox->pending--;
    ngx_http_portal_outbox_finish();
}


static void
ngx_http_portal_outbox_finish(void)
{
    ngx_http_portal_outbox_t  *ob;

    ob = ngx_http_portal_outbox;

    if (ob->pending) {
        return;
    }

    ob->busy = 0;

    if (ob->again) {
        ob->again = 0;
        ngx_post_event(&ob->tick, &ngx_posted_events);
        return;
    }

    if (!ob->tick.timer_set) {
        ngx_add_timer(&ob->tick, ob->conf->mail_interval);
    }
}
