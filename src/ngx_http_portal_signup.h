
/*
 * Portail Citoyen: what makes a new account, wherever a citizen asks for
 * one: POST accounts (seed flow A) and a request made without an account
 * that asks for a follow-up (seed flow B).  The rules a field table cannot
 * say (the login, the password's policy, the answer's folding), and the
 * Argon2id hashes of the password and the answer, on the thread pool.
 */


#ifndef _NGX_HTTP_PORTAL_SIGNUP_H_INCLUDED_
#define _NGX_HTTP_PORTAL_SIGNUP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_check.h"
#include "ngx_http_portal_person.h"


typedef struct {
    ngx_http_portal_person_t          holder;
    ngx_str_t                         password;
    ngx_str_t                         password_confirm;
    ngx_int_t                         question;
    ngx_str_t                         answer;
    ngx_str_t                         contact_mode;
    ngx_str_t                         captcha_id;
    ngx_str_t                         captcha_answer;

    /* made from the above */
    ngx_str_t                         base;
    ngx_str_t                         folded;
    ngx_str_t                         holder_json;
    ngx_str_t                         members_json;

    /* set by ngx_http_portal_signup_hash() */
    char                              password_hash[crypto_pwhash_STRBYTES];
    char                              answer_hash[crypto_pwhash_STRBYTES];
} ngx_http_portal_signup_t;


typedef void (*ngx_http_portal_signup_done_pt)(ngx_http_request_t *r,
    ngx_http_portal_signup_t *su);


/*
 * The security question, its answer and the password twice, for the field
 * table of a form whose struct holds a signup at offset base.
 */
#define NGX_HTTP_PORTAL_SIGNUP_AT(base, field)                                \
    ((ngx_int_t) (base) + (ngx_int_t) offsetof(ngx_http_portal_signup_t,      \
                                               field))

#define NGX_HTTP_PORTAL_SIGNUP_SECRETS(base, flags)                           \
    { "security_question_id", NGX_HTTP_PORTAL_INTEGER, flags, 1, 32767,       \
      NULL, NULL, NGX_HTTP_PORTAL_SIGNUP_AT(base, question),                  \
      NGX_HTTP_PORTAL_M_QUESTION, NULL },                                     \
    { "security_answer", NGX_HTTP_PORTAL_SECRET, flags, 0, 200, NULL, NULL,   \
      NGX_HTTP_PORTAL_SIGNUP_AT(base, answer), NGX_HTTP_PORTAL_M_ANSWER,      \
      NULL },                                                                 \
    { "password", NGX_HTTP_PORTAL_SECRET, 0, 0, 0, NULL, NULL,                \
      NGX_HTTP_PORTAL_SIGNUP_AT(base, password),                              \
      NGX_HTTP_PORTAL_M_PASSWORD_NONE, NULL },                                \
    { "password_confirm", NGX_HTTP_PORTAL_SECRET, 0, 0, 0, NULL, NULL,        \
      NGX_HTTP_PORTAL_SIGNUP_AT(base, password_confirm),                      \
      NGX_HTTP_PORTAL_M_PASSWORD_CONFIRM, NULL }


/*
 * What the tables cannot say, once they were checked: the login that the
 * holder's names make (errors under holder, "holder" or "applicant"), the
 * answer folded, the password's policy and its confirmation.  NGX_ERROR
 * only when memory runs out.
 */
ngx_int_t ngx_http_portal_signup_rules(ngx_http_request_t *r,
    ngx_http_portal_check_t *ck, ngx_http_portal_signup_t *su,
    const char *holder);

/*
 * Hashes the password and the folded answer on the thread pool, then
 * calls done on the event loop (a request gone meanwhile: never).  It
 * returns as a handler does (NGX_DONE, or a 500).
 */
ngx_int_t ngx_http_portal_signup_hash(ngx_http_request_t *r,
    ngx_http_portal_signup_t *su, ngx_http_portal_signup_done_pt done);


#endif /* _NGX_HTTP_PORTAL_SIGNUP_H_INCLUDED_ */
