
/*
 * Portail Citoyen: what makes a new account (see the header).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_credentials.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_password.h"
#include "ngx_http_portal_signup.h"
#include "ngx_http_portal_text.h"
#include "ngx_http_portal_thread.h"


/* what a pool thread reads and writes: its own copy, off the heap */
typedef struct {
    char                              password[NGX_HTTP_PORTAL_SECRET_BYTES
                                               + 1];
    char                              answer[NGX_HTTP_PORTAL_SECRET_BYTES
                                             + 1];
    char                              password_hash[crypto_pwhash_STRBYTES];
    char                              answer_hash[crypto_pwhash_STRBYTES];
    ngx_uint_t                        ok;

    /* for the event loop only */
    ngx_http_portal_signup_t         *su;
    ngx_http_portal_signup_done_pt    done;
} ngx_http_portal_signup_job_t;


static void ngx_http_portal_signup_work(void *data);
static void ngx_http_portal_signup_hashed(ngx_http_request_t *r,
    void *data);


ngx_int_t
ngx_http_portal_signup_rules(ngx_http_request_t *r,
    ngx_http_portal_check_t *ck, ngx_http_portal_signup_t *su,
    const char *holder)
{
    ngx_int_t                  n;
    ngx_uint_t                 i;
    const char                *why, *personal[5];
    ngx_http_portal_person_t  *h;

    h = &su->holder;

    if (su->contact_mode.data
        && ngx_strcmp(su->contact_mode.data, "phone") == 0
        && h->phone.len == 0)
    {
        ngx_http_portal_check_error(ck, "", "contact_mode",
                                    NGX_HTTP_PORTAL_M_CONTACT_PHONE);
    }

    if (su->answer.data
        && ngx_http_portal_text_fold_words(r->pool, (char *) su->answer.data,
                                           &su->folded)
           != NGX_OK)
    {
        ngx_http_portal_check_error(ck, "", "security_answer",
                                    NGX_HTTP_PORTAL_M_ANSWER);
    }

    /* the login as it will be, unless a homonym came first */

    if (h->first_name.data && h->last_name.data) {
        n = ngx_http_portal_text_login_base(r->pool,
                                            (char *) h->first_name.data,
                                            (char *) h->last_name.data,
                                            &su->base);

        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (n == NGX_DECLINED) {
            ngx_http_portal_check_error(ck, holder, "last_name",
                                        NGX_HTTP_PORTAL_M_LOGIN_LETTERS);
        }
    }

    /* neither the login nor the name nor the address as a password */

    i = 0;
    personal[i++] = "";

    if (su->base.len) {
        personal[0] = ngx_pnalloc(r->pool, su->base.len + 1);
        if (personal[0] == NULL) {
            return NGX_ERROR;
        }

        *ngx_cpymem((u_char *) personal[0], su->base.data, su->base.len) =
            '\0';
    }

    if (h->first_name.data) {
        personal[i++] = (char *) h->first_name.data;
    }

    if (h->last_name.data) {
        personal[i++] = (char *) h->last_name.data;
    }

    if (h->email.data) {
        personal[i++] = (char *) h->email.data;
    }

    personal[i] = NULL;

    if (ngx_http_portal_check_failed(ck, "", "password")) {
        return NGX_OK;
    }

    why = ngx_http_portal_password_refused((char *) su->password.data,
                                           personal);

    if (why) {
        ngx_http_portal_check_error(ck, "", "password", why);

    } else if (su->password_confirm.data == NULL
               || ngx_strcmp(su->password_confirm.data, su->password.data)
                  != 0)
    {
        ngx_http_portal_check_error(ck, "", "password_confirm",
                                    NGX_HTTP_PORTAL_M_PASSWORD_CONFIRM);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_portal_signup_hash(ngx_http_request_t *r,
    ngx_http_portal_signup_t *su, ngx_http_portal_signup_done_pt done)
{
    ngx_http_portal_signup_job_t  *job;

    job = ngx_http_portal_thread_alloc(r->connection->log,
                                       sizeof(ngx_http_portal_signup_job_t));
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_cpystrn((u_char *) job->password, su->password.data,
                sizeof(job->password));
    ngx_cpystrn((u_char *) job->answer, su->folded.data,
                sizeof(job->answer));

    job->su = su;
    job->done = done;

    return ngx_http_portal_thread_suspend(r, job, ngx_http_portal_signup_work,
                                          ngx_http_portal_signup_hashed);
}


static void
ngx_http_portal_signup_work(void *data)
{
    ngx_http_portal_signup_job_t *job = data;

    job->ok = (ngx_http_portal_credentials_hash(job->password,
                                                job->password_hash)
               == NGX_OK
               && ngx_http_portal_credentials_hash(job->answer,
                                                   job->answer_hash)
                  == NGX_OK);

    sodium_memzero(job->password, sizeof(job->password));
    sodium_memzero(job->answer, sizeof(job->answer));
}


static void
ngx_http_portal_signup_hashed(ngx_http_request_t *r, void *data)
{
    ngx_http_portal_signup_job_t *job = data;

    if (r == NULL) {
        return;
    }

    if (!job->ok) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memcpy(job->su->password_hash, job->password_hash,
               sizeof(job->password_hash));
    ngx_memcpy(job->su->answer_hash, job->answer_hash,
               sizeof(job->answer_hash));

    job->done(r, job->su);
}
