
/*
 * Portail Citoyen: the text of every statement the module prepares.  No
 * statement is ever built from input: values travel as parameters.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_db.h"


ngx_http_portal_sql_t  ngx_http_portal_sql[] = {

    /* NGX_HTTP_PORTAL_SQL_HEALTH */
    { "portal_health",
      "SELECT portal.health()", 0 },

    { NULL, NULL, 0 }
};
