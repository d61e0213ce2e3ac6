
/*
 * Portail Citoyen: citizen accounts, shared with the procedures (a request
 * without an account creates one) and the agents' API.
 */


#ifndef _NGX_HTTP_PORTAL_ACCOUNT_H_INCLUDED_
#define _NGX_HTTP_PORTAL_ACCOUNT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>


#define NGX_HTTP_PORTAL_PERSON_HOLDER  1
#define NGX_HTTP_PORTAL_PERSON_MEMBER  2


/* checks a person into out; the French message of each bad field */
void ngx_http_portal_check_person(json_t *in, ngx_uint_t kind,
    ngx_uint_t partial, const char *prefix, json_t *fields, json_t *out);

/* 422 "captcha": the captcha was wrong, expired or spent */
ngx_int_t ngx_http_portal_captcha_refused(ngx_http_request_t *r);


#endif /* _NGX_HTTP_PORTAL_ACCOUNT_H_INCLUDED_ */
