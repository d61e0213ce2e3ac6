
/*
 * Portail Citoyen: the one flow that checks a secret against its Argon2id
 * hash, for logging in, answering the security question, changing the
 * password, and agents' logins: the attempt counted in PostgreSQL
 * before anything is hashed (past the limits it needs a solved captcha),
 * the hash checked on the thread pool (a dummy one for an unknown login,
 * so that every path costs the same), then the caller's next step.
 */


#ifndef _NGX_HTTP_PORTAL_CREDENTIALS_H_INCLUDED_
#define _NGX_HTTP_PORTAL_CREDENTIALS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_db.h"


typedef struct ngx_http_portal_credentials_s  ngx_http_portal_credentials_t;

/* returns as a handler does */
typedef ngx_int_t (*ngx_http_portal_credentials_pt)(ngx_http_request_t *r,
    ngx_http_portal_credentials_t *cr);


/*
 * What is checked, and how the error log says a failure.  begin: the
 * statement that counts the attempt, with kind as its first parameter
 * when it is not NULL, then the login, the address, the captcha's id and
 * answer; its row: verdict, attempt, id, login, hash, temp_hash, epoch,
 * and the validated flag of a citizen or the role of an agent.
 */
typedef struct {
    const char                        *kind;
    const char                        *failed;
    const char                        *blocked;
    ngx_http_portal_sql_t             *begin;
    ngx_uint_t                         agent;
} ngx_http_portal_credentials_kind_t;

/* a password to log in; the security answer; a logged-in password */
extern const ngx_http_portal_credentials_kind_t
    ngx_http_portal_credentials_login;
extern const ngx_http_portal_credentials_kind_t
    ngx_http_portal_credentials_answer;
extern const ngx_http_portal_credentials_kind_t
    ngx_http_portal_credentials_current;


struct ngx_http_portal_credentials_s {
    const ngx_http_portal_credentials_kind_t  *kind;
    /* as typed, and the secret (NUL-terminated, at most SECRET_BYTES) */
    ngx_str_t                          login;
    ngx_str_t                          secret;
    /* a captcha, needed past the limits (data NULL: none sent) */
    ngx_str_t                          captcha_id;
    ngx_str_t                          captcha_answer;

    /* right: the caller goes on; wrong (recorded already): it answers */
    ngx_http_portal_credentials_pt     granted;
    ngx_http_portal_credentials_pt     refused;
    void                              *data;

    /* the account, when the secret was right */
    u_char                             id[40];
    ngx_str_t                          account;
    uint32_t                           epoch;
    ngx_uint_t                         validated;
    /* an agent's role */
    ngx_str_t                          role;
    /* the temporary password was the one typed */
    ngx_uint_t                         temp;

    /* private: the attempt, as PostgreSQL numbered it */
    ngx_str_t                          attempt;
};


/*
 * The two optional fields of a captcha, for the field table of a route
 * that checks credentials: type is its input struct, which has the
 * ngx_str_t members captcha_id and captcha_answer.
 */
#define NGX_HTTP_PORTAL_CAPTCHA_FIELDS(type)                                  \
    { "captcha_id", NGX_HTTP_PORTAL_UUID, 0, 0, 36, NULL, NULL,               \
      (ngx_int_t) offsetof(type, captcha_id),                                 \
      NGX_HTTP_PORTAL_M_CAPTCHA_ID, NULL },                                   \
    { "captcha_answer", NGX_HTTP_PORTAL_SECRET, 0, 0,                         \
      NGX_HTTP_PORTAL_CAPTCHA_MAX, NULL, NULL,                                \
      (ngx_int_t) offsetof(type, captcha_answer),                             \
      NGX_HTTP_PORTAL_M_CAPTCHA_ANSWER, NULL }


/* returns as a handler does */
ngx_int_t ngx_http_portal_credentials_check(ngx_http_request_t *r,
    ngx_http_portal_credentials_t *cr);

/* Argon2id with the portal's cost: in a pool thread only */
ngx_int_t ngx_http_portal_credentials_hash(const char *secret, char *out);

/*
 * A temporary password: random letters and digits, and its keyed hash in
 * hex (it is random: a keyed hash is enough, and costs nothing).  temp has
 * room for NGX_HTTP_PORTAL_TEMP_LEN + 1, hex for NGX_HTTP_PORTAL_TEMP_HASH
 * + 1.
 */
#define NGX_HTTP_PORTAL_TEMP_LEN   19
#define NGX_HTTP_PORTAL_TEMP_HASH  64

void ngx_http_portal_credentials_temp(ngx_http_request_t *r, u_char *temp,
    u_char *hex);


#endif /* _NGX_HTTP_PORTAL_CREDENTIALS_H_INCLUDED_ */
