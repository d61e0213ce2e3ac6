
/*
 * Portail Citoyen: checking a password or a security answer.
 *
 *   begin      portal.credentials_begin() counts the attempt for the login
 *              and the address before anything is hashed, under locks, so
 *              that attempts at once cannot pass the limits together; past
 *              them it needs a solved captcha (spent in the same
 *              statement); it gives what to check against
 *   verify     Argon2id on the thread pool, against a dummy hash for an
 *              unknown login; a pending temporary password is compared
 *              too (a keyed hash): every path costs one Argon2id
 *   go on      right: the attempt is forgotten, then the caller's
 *              granted(); wrong: the attempt stays counted, refused()
 *
 * Secrets are never logged; logins (escaped) and addresses are.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_argon2.h"
#include "ngx_http_portal_captcha.h"
#include "ngx_http_portal_cookie.h"
#include "ngx_http_portal_credentials.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_text.h"
#include "ngx_http_portal_thread.h"


typedef struct {
    ngx_http_portal_credentials_t  *cr;
    char                            secret[NGX_HTTP_PORTAL_SECRET_BYTES + 1];
    char                            hash[crypto_pwhash_STRBYTES];
    u_char                          temp_hash[NGX_HTTP_PORTAL_TEMP_HASH + 1];
    u_char                          temp_key[NGX_HTTP_PORTAL_KEY_LEN];
    /* 1: the secret, 2: the temporary password */
    ngx_uint_t                      ok;
} ngx_http_portal_credentials_job_t;


static void ngx_http_portal_credentials_begun(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static ngx_int_t ngx_http_portal_credentials_verdict(ngx_http_request_t *r,
    ngx_http_portal_credentials_t *cr, const char *verdict);
static ngx_int_t ngx_http_portal_credentials_post(ngx_http_request_t *r,
    ngx_http_portal_credentials_t *cr, PGresult *res);
static void ngx_http_portal_credentials_work(void *data);
static void ngx_http_portal_credentials_verified(ngx_http_request_t *r,
    void *data);
static void ngx_http_portal_credentials_forgotten(
    ngx_http_portal_db_query_t *q, ngx_http_portal_db_status_e status,
    PGresult *res);
static void ngx_http_portal_credentials_temp_mac(const u_char *key,
    const u_char *temp, size_t len, u_char *hex);




/* an Argon2id hash of nothing anybody knows, for unknown logins */

static const char  *ngx_http_portal_credentials_dummy =
    "$argon2id$v=19$m=65536,t=2,p=1$0VNWN2ThcJ2tAqKwc3uLQg$"
    "0Bvok08/PaA9OgMomCXRsQZrNuhOLNBFbv6GNcQzrTc";


static ngx_http_portal_sql_t  ngx_http_portal_credentials_begin_sql = {
    "portal_credentials_begin",
    "SELECT verdict, attempt, id, login, hash, temp_hash, epoch, validated"
    " FROM portal.credentials_begin($1, $2, $3, $4, $5)",
    5, 0
};

const ngx_http_portal_credentials_kind_t  ngx_http_portal_credentials_login = {
    "password", "failed login for",
    "portal: login \"%V\" refused: too many failures from %V",
    &ngx_http_portal_credentials_begin_sql, 0
};

const ngx_http_portal_credentials_kind_t  ngx_http_portal_credentials_answer = {
    "answer", "wrong security answer for",
    "portal: password reset for \"%V\" refused: too many wrong answers"
    " from %V",
    &ngx_http_portal_credentials_begin_sql, 0
};

const ngx_http_portal_credentials_kind_t  ngx_http_portal_credentials_current
= {
    "current", "wrong current password for",
    "portal: password change for \"%V\" refused: too many failures from %V",
    &ngx_http_portal_credentials_begin_sql, 0
};


static ngx_http_portal_sql_t  ngx_http_portal_credentials_granted_sql = {
    "portal_credentials_granted",
    "SELECT portal.credentials_granted($1)",
    1, 0
};


ngx_int_t
ngx_http_portal_credentials_check(ngx_http_request_t *r,
    ngx_http_portal_credentials_t *cr)
{
    ngx_http_portal_db_query_t  *q;

    q = ngx_http_portal_db_query(r, cr->kind->begin,
                                 ngx_http_portal_credentials_begun);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->data = cr;

    if (cr->kind->kind) {
        ngx_http_portal_db_param(q, cr->kind->kind,
                                 ngx_strlen(cr->kind->kind));
    }

    ngx_http_portal_db_param(q, (char *) cr->login.data, cr->login.len);
    ngx_http_portal_db_param(q, (char *) r->connection->addr_text.data,
                             r->connection->addr_text.len);
    ngx_http_portal_db_param(q, (char *) cr->captcha_id.data,
                             cr->captcha_id.len);
    ngx_http_portal_db_param(q, (char *) cr->captcha_answer.data,
                             cr->captcha_answer.len);

    return ngx_http_portal_db_suspend(q);
}


static void
ngx_http_portal_credentials_begun(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_int_t                       rc;
    ngx_http_request_t             *r;
    ngx_http_portal_credentials_t  *cr;

    r = q->request;
    cr = q->data;

    if (ngx_http_portal_db_rows(q, status, res, 1) != NGX_OK) {
        return;
    }

    if (ngx_strcmp(PQgetvalue(res, 0, 0), "go") != 0) {
        ngx_http_finalize_request(r,
            ngx_http_portal_credentials_verdict(r, cr, PQgetvalue(res, 0, 0)));
        return;
    }

    rc = ngx_http_portal_credentials_post(r, cr, res);

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, rc);
    }

    /* the request waits for verified(), with the count it holds */
}


/* nothing was counted nor hashed: why */

static ngx_int_t
ngx_http_portal_credentials_verdict(ngx_http_request_t *r,
    ngx_http_portal_credentials_t *cr, const char *verdict)
{
    ngx_str_t  login;

    if (ngx_strcmp(verdict, "captcha_required") == 0) {
        if (ngx_http_portal_text_escape(r->pool, &cr->login, &login)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "portal: a captcha is needed for \"%V\" from %V:"
                      " too many failures", &login,
                      &r->connection->addr_text);

        return ngx_http_portal_response_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                       "captcha_required",
                                       NGX_HTTP_PORTAL_M_CAPTCHA_REQUIRED);
    }

    if (ngx_strcmp(verdict, "captcha_expired") == 0) {
        return ngx_http_portal_captcha_refused(r,
                                               NGX_HTTP_PORTAL_CAPTCHA_EXPIRED);
    }

    if (ngx_strncmp(verdict, "captcha_", 8) == 0) {
        return ngx_http_portal_captcha_refused(r,
                                               NGX_HTTP_PORTAL_CAPTCHA_WRONG);
    }

    if (ngx_http_portal_text_escape(r->pool, &cr->login, &login) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0, cr->kind->blocked,
                  &login, &r->connection->addr_text);

    if (ngx_http_portal_response_header_literal(r, "Retry-After", "900")
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_portal_response_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                          "too_many_attempts",
                                          NGX_HTTP_PORTAL_M_TOO_MANY_ATTEMPTS);
}


/* the attempt is counted: its secret goes to a pool thread */

static ngx_int_t
ngx_http_portal_credentials_post(ngx_http_request_t *r,
    ngx_http_portal_credentials_t *cr, PGresult *res)
{
    const char                         *hash;
    ngx_http_portal_credentials_job_t  *job;

    if (ngx_http_portal_db_value(r->pool, res, 1, &cr->attempt) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    job = ngx_http_portal_thread_alloc(r->connection->log,
                                  sizeof(ngx_http_portal_credentials_job_t));
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    job->cr = cr;

    /* an unknown login costs the same hashing as a known one */

    if (PQgetisnull(res, 0, 2)) {
        hash = ngx_http_portal_credentials_dummy;

    } else {
        hash = PQgetvalue(res, 0, 4);

        ngx_cpystrn(cr->id, (u_char *) PQgetvalue(res, 0, 2),
                    sizeof(cr->id));

        if (ngx_http_portal_db_value(r->pool, res, 3, &cr->account)
            != NGX_OK
            || (cr->kind->agent
                && ngx_http_portal_db_value(r->pool, res, 7, &cr->role)
                   != NGX_OK))
        {
            ngx_http_portal_thread_free(job);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cr->epoch = (uint32_t) ngx_atoi((u_char *) PQgetvalue(res, 0, 6),
                                        PQgetlength(res, 0, 6));
        cr->validated = !cr->kind->agent
                        && PQgetvalue(res, 0, 7)[0] == 't';

        if (PQgetlength(res, 0, 5) == NGX_HTTP_PORTAL_TEMP_HASH) {
            ngx_memcpy(job->temp_hash, PQgetvalue(res, 0, 5),
                       NGX_HTTP_PORTAL_TEMP_HASH);
            ngx_http_portal_cookie_key(r, "portal temporary password",
                                       job->temp_key);
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
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_portal_credentials_work(void *data)
{
    ngx_http_portal_credentials_job_t *job = data;

    size_t  len;
    u_char  hex[NGX_HTTP_PORTAL_TEMP_HASH + 1];

    len = ngx_strlen(job->secret);

    if (crypto_pwhash_str_verify(job->hash, job->secret, len) == 0) {
        job->ok = 1;
    }

    if (job->temp_hash[0]) {
        ngx_http_portal_credentials_temp_mac(job->temp_key,
                                             (u_char *) job->secret, len,
                                             hex);

        /* constant time comparison */

        if (sodium_memcmp(hex, job->temp_hash, NGX_HTTP_PORTAL_TEMP_HASH)
            == 0)
        {
            job->ok = 2;
        }
    }
}


static void
ngx_http_portal_credentials_verified(ngx_http_request_t *r, void *data)
{
    ngx_http_portal_credentials_job_t *job = data;

    ngx_str_t                       login;
    ngx_http_portal_db_query_t     *q;
    ngx_http_portal_credentials_t  *cr;

    /* the client went away meanwhile: the attempt stays counted */

    if (r == NULL) {
        return;
    }

    cr = job->cr;

    if (job->ok && cr->id[0]) {
        cr->temp = (job->ok == 2);

        q = ngx_http_portal_db_query(r,
                                     &ngx_http_portal_credentials_granted_sql,
                                     ngx_http_portal_credentials_forgotten);
        if (q == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        q->data = cr;
        ngx_http_portal_db_param(q, (char *) cr->attempt.data,
                                 cr->attempt.len);
        ngx_http_portal_db_next(q);
        return;
    }

    cr->id[0] = '\0';

    /* never the secret: the login (escaped) and the address only */

    if (ngx_http_portal_text_escape(r->pool,
                                    cr->account.len ? &cr->account
                                                    : &cr->login,
                                    &login)
        != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "portal: %s \"%V\" from %V", cr->kind->failed, &login,
                  &r->connection->addr_text);

    ngx_http_finalize_request(r, cr->refused(r, cr));
}


static void
ngx_http_portal_credentials_forgotten(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_request_t             *r;
    ngx_http_portal_credentials_t  *cr;

    r = q->request;
    cr = q->data;

    if (ngx_http_portal_db_rows(q, status, res, 0) != NGX_OK) {
        return;
    }

    ngx_http_finalize_request(r, cr->granted(r, cr));
}


void
ngx_http_portal_credentials_temp(ngx_http_request_t *r, u_char *temp,
    u_char *hex)
{
    u_char      key[NGX_HTTP_PORTAL_KEY_LEN];
    ngx_uint_t  i;

    static const char  alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";

    /* 16 letters and digits that cannot be mistaken, in groups of 4 */

    for (i = 0; i < NGX_HTTP_PORTAL_TEMP_LEN; i++) {
        temp[i] = (i % 5 == 4) ? '-'
                               : alphabet[randombytes_uniform(
                                              sizeof(alphabet) - 1)];
    }

    temp[NGX_HTTP_PORTAL_TEMP_LEN] = '\0';

    ngx_http_portal_cookie_key(r, "portal temporary password", key);
    ngx_http_portal_credentials_temp_mac(key, temp, NGX_HTTP_PORTAL_TEMP_LEN,
                                         hex);
    sodium_memzero(key, sizeof(key));
}


static void
ngx_http_portal_credentials_temp_mac(const u_char *key, const u_char *temp,
    size_t len, u_char *hex)
{
    u_char  mac[NGX_HTTP_PORTAL_TEMP_HASH / 2];

    crypto_generichash(mac, sizeof(mac), temp, len, key,
                       NGX_HTTP_PORTAL_KEY_LEN);
    sodium_bin2hex((char *) hex, NGX_HTTP_PORTAL_TEMP_HASH + 1, mac,
                   sizeof(mac));
}


ngx_int_t
ngx_http_portal_credentials_hash(const char *secret, char *out)
{
    if (crypto_pwhash_str(out, secret, ngx_strlen(secret),
                          NGX_HTTP_PORTAL_ARGON2_OPSLIMIT,
                          NGX_HTTP_PORTAL_ARGON2_MEMLIMIT)
        != 0)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
