
/*
 * Portail Citoyen: checking a password or a security answer.
 *
 *   begin      portal.credentials_begin(): blocked by past failures?  What
 *              to check against (the account's hash, or nothing for an
 *              unknown login)
 *   verify     Argon2id on the thread pool, against a dummy hash for an
 *              unknown login: both cost the same
 *   record     a failure is counted for the login and the address
 *   go on      the caller's granted() or refused()
 *
 * Secrets are never logged; logins and addresses are.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_credentials.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_thread.h"


typedef struct {
    ngx_http_portal_credentials_t  *cr;
    char                            secret[NGX_HTTP_PORTAL_SECRET_BYTES + 1];
    char                            hash[crypto_pwhash_STRBYTES];
    char                            temp_hash[crypto_pwhash_STRBYTES];
    /* 1: the secret, 2: the temporary password */
    ngx_uint_t                      ok;
} ngx_http_portal_credentials_job_t;


static void ngx_http_portal_credentials_begun(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static void ngx_http_portal_credentials_work(void *data);
static void ngx_http_portal_credentials_verified(ngx_http_request_t *r,
    void *data);
static void ngx_http_portal_credentials_recorded(
    ngx_http_portal_db_query_t *q, ngx_http_portal_db_status_e status,
    PGresult *res);
static ngx_int_t ngx_http_portal_credentials_blocked(ngx_http_request_t *r);


const ngx_http_portal_credentials_kind_t  ngx_http_portal_credentials_login = {
    "password", "failed login for",
    "portal: login \"%V\" refused: too many failures"
};

const ngx_http_portal_credentials_kind_t  ngx_http_portal_credentials_answer = {
    "answer", "wrong security answer for",
    "portal: password reset for \"%V\" refused: too many wrong answers"
};

const ngx_http_portal_credentials_kind_t  ngx_http_portal_credentials_current
= {
    "current", "wrong current password for",
    "portal: password change for \"%V\" refused: too many failures"
};


/* an Argon2id hash of nothing anybody knows, for unknown logins */

static const char  *ngx_http_portal_credentials_dummy =
    "$argon2id$v=19$m=65536,t=2,p=1$0VNWN2ThcJ2tAqKwc3uLQg$"
    "0Bvok08/PaA9OgMomCXRsQZrNuhOLNBFbv6GNcQzrTc";


static ngx_http_portal_sql_t  ngx_http_portal_credentials_begin_sql = {
    "portal_credentials_begin",
    "SELECT blocked, id, login, hash, temp_hash, epoch, validated"
    " FROM portal.credentials_begin($1, $2, $3)",
    3, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_credentials_failed_sql = {
    "portal_credentials_failed",
    "SELECT portal.credentials_failed($1, $2, $3)",
    3, 0
};


ngx_int_t
ngx_http_portal_credentials_check(ngx_http_request_t *r,
    ngx_http_portal_credentials_t *cr)
{
    ngx_http_portal_db_query_t  *q;

    q = ngx_http_portal_db_query(r, &ngx_http_portal_credentials_begin_sql,
                                 ngx_http_portal_credentials_begun);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->data = cr;

    ngx_http_portal_db_param(q, cr->kind->kind, ngx_strlen(cr->kind->kind));
    ngx_http_portal_db_param(q, (char *) cr->login.data, cr->login.len);
    ngx_http_portal_db_param(q, (char *) r->connection->addr_text.data,
                             r->connection->addr_text.len);

    return ngx_http_portal_db_suspend(q);
}


static void
ngx_http_portal_credentials_begun(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    size_t                              len;
    const char                         *hash;
    ngx_http_request_t                 *r;
    ngx_http_portal_credentials_t      *cr;
    ngx_http_portal_credentials_job_t  *job;

    r = q->request;
    cr = q->data;

    if (ngx_http_portal_db_rows(q, status, res, 1) != NGX_OK) {
        return;
    }

    if (PQgetvalue(res, 0, 0)[0] == 't') {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0, cr->kind->blocked,
                      &cr->login);
        ngx_http_finalize_request(r, ngx_http_portal_credentials_blocked(r));
        return;
    }

    job = ngx_http_portal_thread_alloc(r->connection->log,
                                  sizeof(ngx_http_portal_credentials_job_t));
    if (job == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    job->cr = cr;

    /* an unknown login costs the same hashing as a known one */

    if (PQgetisnull(res, 0, 1)) {
        hash = ngx_http_portal_credentials_dummy;

    } else {
        hash = PQgetvalue(res, 0, 3);

        ngx_cpystrn(cr->id, (u_char *) PQgetvalue(res, 0, 1),
                    sizeof(cr->id));

        len = PQgetlength(res, 0, 2);
        cr->account.data = ngx_pnalloc(r->pool, len + 1);
        if (cr->account.data == NULL) {
            ngx_http_portal_thread_free(job);
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_memcpy(cr->account.data, PQgetvalue(res, 0, 2), len + 1);
        cr->account.len = len;

        cr->epoch = (uint32_t) ngx_atoi((u_char *) PQgetvalue(res, 0, 5),
                                        PQgetlength(res, 0, 5));
        cr->validated = (PQgetvalue(res, 0, 6)[0] == 't');

        if (!PQgetisnull(res, 0, 4)) {
            ngx_cpystrn((u_char *) job->temp_hash,
                        (u_char *) PQgetvalue(res, 0, 4),
                        sizeof(job->temp_hash));
        }
    }

    ngx_cpystrn((u_char *) job->hash, (u_char *) hash, sizeof(job->hash));
    ngx_cpystrn((u_char *) job->secret, cr->secret.data,
                sizeof(job->secret));

    if (ngx_http_portal_thread_post(r, job, ngx_http_portal_credentials_work,
                                    ngx_http_portal_credentials_verified)
        != NGX_OK)
    {
        ngx_http_portal_thread_free(job);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* the request waits for verified(), with the count it holds */
}


static void
ngx_http_portal_credentials_work(void *data)
{
    ngx_http_portal_credentials_job_t *job = data;

    size_t  len;

    len = ngx_strlen(job->secret);

    if (crypto_pwhash_str_verify(job->hash, job->secret, len) == 0) {
        job->ok = 1;
        return;
    }

    if (job->temp_hash[0]
        && crypto_pwhash_str_verify(job->temp_hash, job->secret, len) == 0)
    {
        job->ok = 2;
    }
}


static void
ngx_http_portal_credentials_verified(ngx_http_request_t *r, void *data)
{
    ngx_http_portal_credentials_job_t *job = data;

    ngx_http_portal_credentials_t   *cr;
    ngx_http_portal_db_query_t      *q;

    /* the client went away meanwhile */

    if (r == NULL) {
        return;
    }

    cr = job->cr;

    if (job->ok && cr->id[0]) {
        cr->temp = (job->ok == 2);
        ngx_http_finalize_request(r, cr->granted(r, cr));
        return;
    }

    cr->id[0] = '\0';

    q = ngx_http_portal_db_query(r, &ngx_http_portal_credentials_failed_sql,
                                 ngx_http_portal_credentials_recorded);
    if (q == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    q->data = cr;

    ngx_http_portal_db_param(q, cr->kind->kind, ngx_strlen(cr->kind->kind));
    ngx_http_portal_db_param(q, (char *) cr->login.data, cr->login.len);
    ngx_http_portal_db_param(q, (char *) r->connection->addr_text.data,
                             r->connection->addr_text.len);

    ngx_http_portal_db_next(q);
}


static void
ngx_http_portal_credentials_recorded(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_request_t             *r;
    ngx_http_portal_credentials_t  *cr;

    r = q->request;
    cr = q->data;

    if (ngx_http_portal_db_rows(q, status, res, 0) != NGX_OK) {
        return;
    }

    /* never the secret: the login and the address only */

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "portal: %s \"%V\" from %V", cr->kind->failed,
                  cr->account.len ? &cr->account : &cr->login,
                  &r->connection->addr_text);

    ngx_http_finalize_request(r, cr->refused(r, cr));
}


static ngx_int_t
ngx_http_portal_credentials_blocked(ngx_http_request_t *r)
{
    if (ngx_http_portal_response_header_literal(r, "Retry-After", "900")
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_portal_response_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                          "too_many_attempts",
                                          NGX_HTTP_PORTAL_M_TOO_MANY_ATTEMPTS);
}


ngx_int_t
ngx_http_portal_credentials_hash(const char *secret, char *out)
{
    if (crypto_pwhash_str(out, secret, ngx_strlen(secret),
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE)
        != 0)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
