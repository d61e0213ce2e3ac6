
/*
 * Portail Citoyen: the captcha of the citizen API.  Handlers: POST captcha,
 * GET captcha/{id}.png and captcha/{id}.wav (prototypes in _router.h).
 *
 * An answer is checked, and spent by its first try, right or wrong, in one
 * statement: portal.captcha_check(id, answer) (sql/002_accounts.sql), which
 * the code that needs a captcha calls inside its own query.
 */


#ifndef _NGX_HTTP_PORTAL_CAPTCHA_H_INCLUDED_
#define _NGX_HTTP_PORTAL_CAPTCHA_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* characters of a new captcha */
#define NGX_HTTP_PORTAL_CAPTCHA_LEN  6

/*
 * The longest answer the module draws or speaks, in bytes, and so the
 * longest portal_captcha_test_answer; a longer captcha_answer is wrong.
 */
#define NGX_HTTP_PORTAL_CAPTCHA_MAX  16


void ngx_http_portal_captcha_exit(void);


#endif /* _NGX_HTTP_PORTAL_CAPTCHA_H_INCLUDED_ */
