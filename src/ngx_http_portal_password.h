
/*
 * Portail Citoyen: the rules of a new password, and the routes of a lost
 * or changed one.
 */


#ifndef _NGX_HTTP_PORTAL_PASSWORD_H_INCLUDED_
#define _NGX_HTTP_PORTAL_PASSWORD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_router.h"


extern ngx_http_portal_route_t  ngx_http_portal_password_routes[];


/*
 * The French reason why a password is refused, or NULL: 12 to 128
 * characters, not among the most common, not the login or the name.
 * personal is a NULL-terminated list (login, first name, last name...).
 */
const char *ngx_http_portal_password_refused(const char *password,
    const char **personal);


#endif /* _NGX_HTTP_PORTAL_PASSWORD_H_INCLUDED_ */
