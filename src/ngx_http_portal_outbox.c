
/*
 * Portail Citoyen: delivery of the mail outbox.
 *
 * Mail is queued in PostgreSQL by the transaction of the change that
 * caused it.  Every worker looks at the outbox each portal_mail_interval
 * (and at once when it just queued mail), leases due rows (SKIP LOCKED:
 * workers and hosts share the outbox), and delivers each: to the relay of
 * portal_smtp on the event loop (ngx_http_portal_smtp.c), or as one file
 * into the Maildir of portal_maildir on the thread pool.  Either way the
 * message is the one ngx_http_portal_mail_build() makes, and it is
 * settled alike: sent, or retried later with back-off, or failed for good
 * (a relay's 5xx or an address that may not go out: at once; anything
 * else after the outbox's bound of attempts).
 *
 * A message's file name comes from its outbox id alone, so that a message
 * delivered twice (a lease that ran out) is still one file.
 *
 * On a reload or at exit, a delivery under way ends (its timers hold the
 * old worker until then, portal_smtp_timeout at most per reply) and no new
 * lease is taken; a lease whose settle never ran simply runs out, and the
 * mail is taken again.
 *
 * The mail directives' setters and checks are here too (their table stays
 * in ngx_http_portal_module.c): this file is the one that reads them.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_mail.h"
#include "ngx_http_portal_outbox.h"
#include "ngx_http_portal_smtp.h"
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
    /* refused for good: failed now, whatever the bound */
    ngx_uint_t                    permanent;
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
static u_char *ngx_http_portal_outbox_build(ngx_http_portal_mail_t *mail,
    size_t *len);
static void ngx_http_portal_outbox_write(void *data);
static void ngx_http_portal_outbox_written(ngx_http_request_t *r,
    void *data);
static ngx_int_t ngx_http_portal_outbox_smtp(ngx_http_portal_outbox_t *ob,
    ngx_http_portal_mail_t *mail);
static void ngx_http_portal_outbox_relayed(void *data, ngx_int_t rc,
    const char *error);
static void ngx_http_portal_outbox_settle(ngx_http_portal_mail_t *mail);
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
    "SELECT portal.outbox_settle($1, $2, $3)",
    3, 0
};


static ngx_http_portal_outbox_t  *ngx_http_portal_outbox;


/*
 * portal_smtp host:port: resolved now, as upstreams are, so that no
 * worker ever waits on a resolver; the first address is used.
 */

char *
ngx_http_portal_outbox_set_smtp(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_portal_main_conf_t *pmcf = conf;

    ngx_str_t  *value;
    ngx_url_t  *u;

    if (pmcf->smtp) {
        return "is duplicate";
    }

    value = cf->args->elts;

    u = ngx_pcalloc(cf->pool, sizeof(ngx_url_t));
    if (u == NULL) {
        return NGX_CONF_ERROR;
    }

    u->url = value[1];
    u->default_port = 25;

    if (ngx_parse_url(cf->pool, u) != NGX_OK) {
        if (u->err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s in \"portal_smtp\" \"%V\"", u->err,
                               &u->url);
        }

        return NGX_CONF_ERROR;
    }

    if (u->naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"portal_smtp\" \"%V\" has no address",
                           &u->url);
        return NGX_CONF_ERROR;
    }

    pmcf->smtp = u;
    pmcf->smtp_file = cf->conf_file->file.name.data;
    pmcf->smtp_line = cf->conf_file->line;

    return NGX_CONF_OK;
}


/*
 * The sender goes into every mail's headers and into the envelope: nothing
 * in it may end a line or a command.
 */

char *
ngx_http_portal_outbox_check_from(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t *from = data;

    ngx_str_t  addr;

    /* the arguments of a directive end with a NUL */

    if (ngx_http_portal_mail_address((char *) from->data, &addr) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"portal_mail_from\" \"%V\" is not"
                           " \"Name <address>\" or an address", from);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The mail directives once the http block is read: mail goes one way
 * out, and a relay and a Maildir both set is a mistake to say.
 */

char *
ngx_http_portal_outbox_init_conf(ngx_conf_t *cf,
    ngx_http_portal_main_conf_t *pmcf)
{
    if (pmcf->maildir.len
        && ngx_conf_full_name(cf->cycle, &pmcf->maildir, 0) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (pmcf->mail_from.data == NULL) {
        ngx_str_set(&pmcf->mail_from,
                    "Mairie - Mon Compte Citoyen <ne-pas-repondre@localhost>");
    }

    if (pmcf->smtp && pmcf->maildir.len) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"portal_smtp\" and \"portal_maildir\" are both"
                      " set: mail goes one way, choose one in %s:%ui",
                      pmcf->smtp_file, pmcf->smtp_line);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_portal_outbox_init(ngx_cycle_t *cycle,
    ngx_http_portal_main_conf_t *pmcf)
{
    ngx_http_portal_outbox_t  *ob;

    if (pmcf->maildir.len == 0 && pmcf->smtp == NULL) {
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "portal: neither \"portal_smtp\" nor"
                      " \"portal_maildir\": mail stays queued in the"
                      " outbox");
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

    /* the batch holds itself until every mail is on its way: a settle
     * that fails at once must not end it early */

    ob->pending++;

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

        mail->permanent = 0;
        mail->error[0] = '\0';

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

        /* counted first: a mail may be settled before its call returns */

        ob->pending++;

        if (ob->conf->smtp) {
            if (ngx_http_portal_outbox_smtp(ob, mail) != NGX_OK) {
                ngx_http_portal_thread_free(mail);
                ob->pending--;
            }

        } else if (ngx_http_portal_thread_post(NULL, mail,
                                               ngx_http_portal_outbox_write,
                                               ngx_http_portal_outbox_written)
                   != NGX_OK)
        {
            ngx_http_portal_thread_free(mail);
            ob->pending--;
        }
    }

    ob->pending--;

    ngx_http_portal_outbox_finish();
}


/*
 * The message of mail, malloc()ed, for the files and the relay alike;
 * NULL and mail->error on a failure, permanent unless memory ran out.
 * In a pool thread too: it writes nothing but mail.
 */

static u_char *
ngx_http_portal_outbox_build(ngx_http_portal_mail_t *mail, size_t *len)
{
    u_char                     *text;
    ngx_http_portal_mail_in_t   in;

    in.id = mail->id;
    in.from = mail->from;
    in.recipient = mail->recipient;
    in.subject = mail->subject;
    in.body = mail->body;
    in.date = ngx_time();

    text = ngx_http_portal_mail_build(&in, len, mail->error,
                                      sizeof(mail->error));
    if (text == NULL) {
        mail->permanent = (ngx_strcmp(mail->error, "out of memory") != 0);
    }

    return text;
}


/* in a pool thread: one file into tmp/, then renamed into new/ */

static void
ngx_http_portal_outbox_write(void *data)
{
    ngx_http_portal_mail_t *mail = data;

    int       fd;
    char      tmp[NGX_MAX_PATH], dst[NGX_MAX_PATH];
    u_char   *text;
    size_t    len;
    ssize_t   n;

    text = ngx_http_portal_outbox_build(mail, &len);
    if (text == NULL) {
        return;
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

    n = write(fd, text, len);

    if (n != (ssize_t) len || fsync(fd) == -1) {
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


static void
ngx_http_portal_outbox_written(ngx_http_request_t *r, void *data)
{
    /* the thread's block goes after this call: the settle keeps its own */

    ngx_http_portal_outbox_settle(data);
}


/*
 * To the relay: the message is built here, on the event loop (a few
 * kilobytes), and sent by ngx_http_portal_smtp.c, which keeps its own
 * copy; mail waits for its end.
 */

static ngx_int_t
ngx_http_portal_outbox_smtp(ngx_http_portal_outbox_t *ob,
    ngx_http_portal_mail_t *mail)
{
    size_t                        len;
    u_char                       *text;
    ngx_int_t                     rc;
    ngx_http_portal_smtp_mail_t   sm;

    text = ngx_http_portal_outbox_build(mail, &len);
    if (text == NULL) {
        ngx_http_portal_outbox_settle(mail);
        ngx_http_portal_thread_free(mail);

        /* counted as pending until its settle ends */
        return NGX_OK;
    }

    ngx_memzero(&sm, sizeof(ngx_http_portal_smtp_mail_t));

    /* both were checked by the builder */

    (void) ngx_http_portal_mail_address(mail->from, &sm.from);
    (void) ngx_http_portal_mail_address(mail->recipient, &sm.to);

    sm.server = &ob->conf->smtp->addrs[0];
    sm.timeout = ob->conf->smtp_timeout;
    sm.helo = ngx_cycle->hostname;
    sm.message = text;
    sm.len = len;
    sm.log = ngx_cycle->log;
    sm.done = ngx_http_portal_outbox_relayed;
    sm.data = mail;

    rc = ngx_http_portal_smtp_send(&sm);

    free(text);

    return rc;
}


static void
ngx_http_portal_outbox_relayed(void *data, ngx_int_t rc, const char *error)
{
    ngx_http_portal_mail_t *mail = data;

    if (rc != NGX_OK) {
        ngx_cpystrn((u_char *) mail->error, (u_char *) error,
                    sizeof(mail->error));
        mail->permanent = (rc == NGX_DECLINED);
    }

    ngx_http_portal_outbox_settle(mail);
    ngx_http_portal_thread_free(mail);
}


/* mail may go once this returns */

static void
ngx_http_portal_outbox_settle(ngx_http_portal_mail_t *mail)
{
    ngx_http_portal_mail_t  *settle;

    settle = ngx_calloc(sizeof(ngx_http_portal_mail_t), ngx_cycle->log);
    if (settle == NULL) {
        ngx_http_portal_outbox->pending--;
        ngx_http_portal_outbox_finish();
        return;
    }

    ngx_memcpy(settle->id, mail->id, sizeof(mail->id));
    ngx_memcpy(settle->error, mail->error, sizeof(mail->error));
    settle->permanent = mail->permanent;

    if (mail->error[0]) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "portal: mail %s not delivered%s: %s", mail->id,
                      mail->permanent ? " (for good)" : "", mail->error);
    }

    settle->settle.sql = &ngx_http_portal_outbox_settle_sql;
    settle->settle.handler = ngx_http_portal_outbox_settled;
    settle->settle.data = settle;

    ngx_http_portal_db_param(&settle->settle, settle->id,
                             ngx_strlen(settle->id));
    ngx_http_portal_db_param(&settle->settle,
                             settle->error[0] ? settle->error : NULL, 0);
    ngx_http_portal_db_param(&settle->settle,
                             settle->permanent ? "true" : "false",
                             settle->permanent ? 4 : 5);

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
