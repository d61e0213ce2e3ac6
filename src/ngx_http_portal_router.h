
/*
 * Portail Citoyen: method and path to handler.
 */


#ifndef _NGX_HTTP_PORTAL_ROUTER_H_INCLUDED_
#define _NGX_HTTP_PORTAL_ROUTER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"


/* what the router does before a route's handler */
#define NGX_HTTP_PORTAL_JSON       0x01  /* read the JSON body */
#define NGX_HTTP_PORTAL_AUTH       0x02  /* a citizen's session, checked */
#define NGX_HTTP_PORTAL_VALIDATED  0x04  /* of a validated account, or 403 */
#define NGX_HTTP_PORTAL_BODY       0x08  /* the handler reads the body */
#define NGX_HTTP_PORTAL_RESET      0x10  /* open to a temporary password */


ngx_int_t ngx_http_portal_route(ngx_http_request_t *r, ngx_uint_t api);


/* the handlers, one file a resource */

#define NGX_HTTP_PORTAL_HANDLER(name)                                        \
    ngx_int_t name(ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx)

NGX_HTTP_PORTAL_HANDLER(ngx_http_portal_health_handler);

NGX_HTTP_PORTAL_HANDLER(ngx_http_portal_session_create_handler);
NGX_HTTP_PORTAL_HANDLER(ngx_http_portal_session_get_handler);
NGX_HTTP_PORTAL_HANDLER(ngx_http_portal_session_delete_handler);

NGX_HTTP_PORTAL_HANDLER(ngx_http_portal_captcha_create_handler);
NGX_HTTP_PORTAL_HANDLER(ngx_http_portal_captcha_png_handler);
NGX_HTTP_PORTAL_HANDLER(ngx_http_portal_captcha_wav_handler);

NGX_HTTP_PORTAL_HANDLER(ngx_http_portal_questions_handler);
NGX_HTTP_PORTAL_HANDLER(ngx_http_portal_account_create_handler);
NGX_HTTP_PORTAL_HANDLER(ngx_http_portal_me_get_handler);
NGX_HTTP_PORTAL_HANDLER(ngx_http_portal_me_patch_handler);
NGX_HTTP_PORTAL_HANDLER(ngx_http_portal_member_create_handler);
NGX_HTTP_PORTAL_HANDLER(ngx_http_portal_member_get_handler);
NGX_HTTP_PORTAL_HANDLER(ngx_http_portal_member_patch_handler);
NGX_HTTP_PORTAL_HANDLER(ngx_http_portal_export_handler);

NGX_HTTP_PORTAL_HANDLER(ngx_http_portal_password_question_handler);
NGX_HTTP_PORTAL_HANDLER(ngx_http_portal_password_reset_handler);
NGX_HTTP_PORTAL_HANDLER(ngx_http_portal_password_change_handler);

NGX_HTTP_PORTAL_HANDLER(ngx_http_portal_document_upload_handler);
NGX_HTTP_PORTAL_HANDLER(ngx_http_portal_document_list_handler);
NGX_HTTP_PORTAL_HANDLER(ngx_http_portal_document_get_handler);


#endif /* _NGX_HTTP_PORTAL_ROUTER_H_INCLUDED_ */
