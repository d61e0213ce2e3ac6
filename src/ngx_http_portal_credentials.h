
/*
 * Portail Citoyen: the one flow that checks a secret against its Argon2id
 * hash, for logging in, answering the security question, changing the
 * password (and, later, agents' logins): the failure limits, the hash
 * checked on the thread pool (a dummy one for an unknown login, so that it
 * costs the same), the failure recorded, then the caller's next step.
 */


#ifndef _NGX_HTTP_PORTAL_CREDENTIALS_H_INCLUDED_
#define _NGX_HTTP_PORTAL_CREDENTIALS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_portal_module.h"


typedef struct ngx_http_portal_credentials_s  ngx_http_portal_credentials_t;

/* returns as a handler does */
typedef ngx_int_t (*ngx_http_portal_credentials_pt)(ngx_http_request_t *r,
    ngx_http_portal_credentials_t *cr);


/* what is checked, and how the error log says a failure */
typedef struct {
    const char                        *kind;
    const char                        *failed;
    const char                        *blocked;
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

    /* right: the caller goes on; wrong (recorded already): it answers */
    ngx_http_portal_credentials_pt     granted;
    ngx_http_portal_credentials_pt     refused;
    void                              *data;

    /* the account, when the secret was right */
    u_char                             id[40];
    ngx_str_t                          account;
    uint32_t                           epoch;
    ngx_uint_t                         validated;
    /* the temporary password was the one typed */
    ngx_uint_t                         temp;
};


/* returns as a handler does */
ngx_int_t ngx_http_portal_credentials_check(ngx_http_request_t *r,
    ngx_http_portal_credentials_t *cr);

/* Argon2id with the portal's cost: in a pool thread only */
ngx_int_t ngx_http_portal_credentials_hash(const char *secret, char *out);


#endif /* _NGX_HTTP_PORTAL_CREDENTIALS_H_INCLUDED_ */
