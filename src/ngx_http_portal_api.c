
/*
 * Portail Citoyen: the APIs, and the content handler that hands each
 * request of a portal_api location to the router with its API: the route
 * slices of every resource file, and the phases that run before a route's
 * handler.  A new resource is a new file and one line in a list here.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_api.h"
#include "ngx_http_portal_account.h"
#include "ngx_http_portal_agent_account.h"
#include "ngx_http_portal_agent_audit.h"
#include "ngx_http_portal_agent_message.h"
#include "ngx_http_portal_agent_request.h"
#include "ngx_http_portal_captcha.h"
#include "ngx_http_portal_catalog.h"
#include "ngx_http_portal_cookie.h"
#include "ngx_http_portal_document.h"
#include "ngx_http_portal_health.h"
#include "ngx_http_portal_json.h"
#include "ngx_http_portal_password.h"
#include "ngx_http_portal_pdf.h"
#include "ngx_http_portal_pdf_letter.h"
#include "ngx_http_portal_request.h"
#include "ngx_http_portal_request_document.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_session.h"


static ngx_int_t ngx_http_portal_handler(ngx_http_request_t *r);


/* the citizen API: its resources, and what runs before their handlers */

static ngx_http_portal_route_t  *ngx_http_portal_citizen_routes[] = {
    ngx_http_portal_health_routes,
    ngx_http_portal_captcha_routes,
    ngx_http_portal_account_routes,
    ngx_http_portal_session_routes,
    ngx_http_portal_password_routes,
    ngx_http_portal_document_routes,
    ngx_http_portal_catalog_routes,
    ngx_http_portal_request_routes,
    ngx_http_portal_request_document_routes,
    ngx_http_portal_pdf_routes,
    NULL
};

static ngx_http_portal_handler_pt  ngx_http_portal_citizen_phases[] = {
    ngx_http_portal_cookie_phase,
    ngx_http_portal_json_phase,
    ngx_http_portal_session_phase,
    NULL
};


/*
 * The agents' API: the captcha's and the session's routes are the
 * citizens' (an agent's statements, cookies and answer, as the location's
 * portal_api says: past the failure limits a log-in needs a captcha
 * there too), then the back-office's.
 */

static ngx_http_portal_route_t  *ngx_http_portal_agent_routes[] = {
    ngx_http_portal_health_routes,
    ngx_http_portal_captcha_routes,
    ngx_http_portal_session_routes,
    ngx_http_portal_agent_account_routes,
    ngx_http_portal_agent_request_routes,
    ngx_http_portal_agent_message_routes,
    ngx_http_portal_letter_pdf_routes,
    ngx_http_portal_agent_audit_routes,
    NULL
};

static ngx_http_portal_handler_pt  ngx_http_portal_agent_phases[] = {
    ngx_http_portal_cookie_phase,
    ngx_http_portal_json_phase,
    ngx_http_portal_session_phase,
    NULL
};


static ngx_http_portal_api_t  ngx_http_portal_apis[] = {
    { NULL, NULL },
    { ngx_http_portal_citizen_routes, ngx_http_portal_citizen_phases },
    { ngx_http_portal_agent_routes, ngx_http_portal_agent_phases }
};


ngx_conf_enum_t  ngx_http_portal_api_kinds[] = {
    { ngx_string("citizen"), NGX_HTTP_PORTAL_API_CITIZEN },
    { ngx_string("agent"), NGX_HTTP_PORTAL_API_AGENT },
    { ngx_null_string, 0 }
};


static ngx_int_t
ngx_http_portal_handler(ngx_http_request_t *r)
{
    ngx_http_portal_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    return ngx_http_portal_router_run(r, &ngx_http_portal_apis[plcf->api]);
}


char *
ngx_http_portal_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char                         *rv;
    ngx_http_core_loc_conf_t     *clcf;
    ngx_http_portal_main_conf_t  *pmcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    /* routes are found by cutting the location's prefix off the URI */

    if (clcf->named
#if (NGX_PCRE)
        || clcf->regex
#endif
        || clcf->exact_match)
    {
        return "must be in a prefix location";
    }

    rv = ngx_conf_set_enum_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    clcf->handler = ngx_http_portal_handler;

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_portal_module);

    if (pmcf->api_file == NULL) {
        pmcf->api_file = cf->conf_file->file.name.data;
        pmcf->api_line = cf->conf_file->line;
    }

    return NGX_CONF_OK;
}
