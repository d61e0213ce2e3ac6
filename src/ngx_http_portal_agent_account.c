
/*
 * Portail Citoyen: citizens' accounts in the agents' API (any role).
 *
 *     GET  accounts?validated=false&page=&limit=   waiting for validation
 *     GET  accounts/{id}                           one account, whole
 *     GET  accounts/{id}/documents/{doc}           a document (download)
 *     POST accounts/{id}/validate                  validated, mailed: 200
 *
 * The statements and what they refuse: sql/functions/110_agent_accounts.sql.
 * Reading an account or a document, and validating, writes the audit log.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_agent.h"
#include "ngx_http_portal_agent_account.h"
#include "ngx_http_portal_download.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_resource.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_store.h"


static ngx_http_portal_fault_t  ngx_http_portal_agent_account_missing = {
    "not_found", NGX_HTTP_PORTAL_M_ACCOUNT_NOT_FOUND
};



static const ngx_http_portal_sql_error_t
    ngx_http_portal_agent_account_errors[] =
{
    NGX_HTTP_PORTAL_AGENT_SQL_ERRORS,

    { "P0001", "agent_filter", NGX_HTTP_UNPROCESSABLE_ENTITY, "invalid",
      NGX_HTTP_PORTAL_M_INVALID, "validated", NGX_HTTP_PORTAL_M_AGENT_FILTER,
      0 },

    { "P0001", "account_validated", NGX_HTTP_CONFLICT, "conflict",
      NGX_HTTP_PORTAL_M_ACCOUNT_VALIDATED, NULL, NULL, 0 },

    NGX_HTTP_PORTAL_SQL_ERRORS_END
};


static const ngx_http_portal_agent_arg_t  ngx_http_portal_agent_account_args[]
= {
    { "validated", NGX_HTTP_PORTAL_ARG_BOOLEAN, 0 },
    NGX_HTTP_PORTAL_AGENT_PAGE_ARGS,
    NGX_HTTP_PORTAL_AGENT_ARGS_END
};


static ngx_http_portal_agent_route_t  ngx_http_portal_agent_accounts = {
    { { "portal_agent_accounts",
        "SELECT portal.agent_accounts(portal.agent_at($1, $2), $3, $4, $5)",
        5, 0 },
      NGX_HTTP_OK, NULL, ngx_http_portal_agent_account_errors, 0 },
    ngx_http_portal_agent_account_args, NULL, 0, NULL, 0
};

static ngx_http_portal_agent_route_t  ngx_http_portal_agent_account = {
    { { "portal_agent_account",
        "SELECT portal.agent_account(portal.agent_at($1, $3), $2)",
        3, 0 },
      NGX_HTTP_OK, NULL, ngx_http_portal_agent_account_errors, 0 },
    NULL, NULL, 0, NULL, 0
};

static ngx_http_portal_agent_route_t  ngx_http_portal_agent_account_validate
= {
    { { "portal_agent_account_validate",
        "SELECT portal.agent_account_validate(portal.agent_at($1, $3), $2,"
        " $4)",
        4, 0 },
      NGX_HTTP_OK, NULL, ngx_http_portal_agent_account_errors, 1 },
    NULL, NULL, 0, NULL, 1
};

/* a download reads chunks only: the store's other statements are unused */

static ngx_http_portal_store_t  ngx_http_portal_agent_account_document = {
    { NULL, NULL, 0, 0 },
    { NULL, NULL, 0, 0 },
    { NULL, NULL, 0, 0 },
    { NULL, NULL, 0, 0 },
    { "portal_agent_account_document",
      "SELECT data, content_type, filename, size::text, chunks::text"
      " FROM portal.agent_account_document(portal.agent_at($1, $4), $2, $3,"
      " $5, $6)", 6, 0 },
    ngx_http_portal_agent_account_errors, 0
};


ngx_http_portal_route_t  ngx_http_portal_agent_account_routes[] = {

    { NGX_HTTP_PORTAL_READ, "accounts", ngx_http_portal_agent_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_AGENT,
      &ngx_http_portal_agent_accounts, NULL },

    { NGX_HTTP_PORTAL_READ, "accounts/{uuid}", ngx_http_portal_agent_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_AGENT,
      &ngx_http_portal_agent_account,
      &ngx_http_portal_agent_account_missing },

    { NGX_HTTP_PORTAL_READ, "accounts/{uuid}/documents/{uuid}",
      ngx_http_portal_download_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_AGENT,
      &ngx_http_portal_agent_account_document,
      &ngx_http_portal_agent_document_missing },

    { NGX_HTTP_POST, "accounts/{uuid}/validate",
      ngx_http_portal_agent_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_AGENT,
      &ngx_http_portal_agent_account_validate,
      &ngx_http_portal_agent_account_missing },

    NGX_HTTP_PORTAL_ROUTES_END
};
