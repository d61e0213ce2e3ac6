
/*
 * Portail Citoyen: password rules, Argon2id and the lost-password routes.
 */


#ifndef _NGX_HTTP_PORTAL_PASSWORD_H_INCLUDED_
#define _NGX_HTTP_PORTAL_PASSWORD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_portal_db.h"


/* 128 characters of up to 4 bytes */
#define NGX_HTTP_PORTAL_PASSWORD_BYTES  512


/* an Argon2id hash of nothing anybody knows, for unknown logins */
extern const char  *ngx_http_portal_password_dummy;


/*
 * The French reason why a password is refused, or NULL: 12 to 128
 * characters, not among the most common, not the login or the name.
 * personal is a NULL-terminated list (login, first name, last name...).
 */
const char *ngx_http_portal_password_refused(const char *password,
    const char **personal);

/* Argon2id with the portal's cost; in a pool thread only */
ngx_int_t ngx_http_portal_password_hash(const char *password,
    char *out);

/* the statement that counts a failure ("password" or "answer") */
ngx_http_portal_db_query_t *ngx_http_portal_auth_failed(
    ngx_http_request_t *r, ngx_str_t *login, const char *kind,
    ngx_http_portal_db_handler_pt handler);

/* 429 with Retry-After */
ngx_int_t ngx_http_portal_too_many(ngx_http_request_t *r);


#endif /* _NGX_HTTP_PORTAL_PASSWORD_H_INCLUDED_ */
