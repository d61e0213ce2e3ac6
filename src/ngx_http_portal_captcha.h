
/*
 * Portail Citoyen: the captcha.  Its routes (POST captcha, GET
 * captcha/{id}.png and .wav), and the check that the forms which need one
 * (sign-up, requests without an account, logins past their limit) call.
 */


#ifndef _NGX_HTTP_PORTAL_CAPTCHA_H_INCLUDED_
#define _NGX_HTTP_PORTAL_CAPTCHA_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_router.h"


/* characters of a new captcha */
#define NGX_HTTP_PORTAL_CAPTCHA_LEN  6

/*
 * The longest answer the module draws or speaks, in bytes, and so the
 * longest portal_captcha_test_answer; a longer captcha_answer is wrong.
 */
#define NGX_HTTP_PORTAL_CAPTCHA_MAX  16


/* what a captcha's answer was */
#define NGX_HTTP_PORTAL_CAPTCHA_RIGHT    0
#define NGX_HTTP_PORTAL_CAPTCHA_WRONG    1
#define NGX_HTTP_PORTAL_CAPTCHA_EXPIRED  2


/* returns as a handler does */
typedef ngx_int_t (*ngx_http_portal_captcha_pt)(ngx_http_request_t *r,
    ngx_uint_t state);


extern ngx_http_portal_route_t  ngx_http_portal_captcha_routes[];


/*
 * Checks an answer and spends the captcha, right or wrong, in one
 * statement; then done().  Returns as a handler does.
 */
ngx_int_t ngx_http_portal_captcha_check(ngx_http_request_t *r,
    ngx_str_t *id, ngx_str_t *answer, ngx_http_portal_captcha_pt done);

/* 422 "captcha": the answer was wrong (or spent), or it expired */
ngx_int_t ngx_http_portal_captcha_refused(ngx_http_request_t *r,
    ngx_uint_t state);

void ngx_http_portal_captcha_exit(void);


#endif /* _NGX_HTTP_PORTAL_CAPTCHA_H_INCLUDED_ */
