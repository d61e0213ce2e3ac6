
/*
 * Portail Citoyen: a letter as a PDF to print, in the agents' API.
 *
 *     GET letters/{id}.pdf    the letter, application/pdf
 *
 * One statement, portal.agent_letter(), gives what the page prints as
 * JSON: NULL for a letter the agent may not see, or one whose time has
 * not come (the route's 404, as an unknown one).  A thread of
 * portal_pdf_thread_pool, as for a request's PDF (_pdf.c), parses it and
 * draws the letter (_pdf_letter_render.c) under the town's header of the
 * portal_town_* directives; that pool's queue full, the answer is 503
 * with Retry-After.  Reading a letter does not mark it printed: POST
 * letters/{id}/printed does (_agent_message.c), once the agent has it on
 * paper.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_agent.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_pdf.h"
#include "ngx_http_portal_pdf_letter.h"
#include "ngx_http_portal_pdf_letter_render.h"
#include "ngx_http_portal_resource.h"
#include "ngx_http_portal_router.h"


static ngx_int_t ngx_http_portal_letter_pdf_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);
static void ngx_http_portal_letter_pdf_found(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);


static ngx_http_portal_fault_t  ngx_http_portal_letter_pdf_missing = {
    "not_found", NGX_HTTP_PORTAL_M_LETTER_NOT_FOUND
};


ngx_http_portal_route_t  ngx_http_portal_letter_pdf_routes[] = {

    { NGX_HTTP_PORTAL_READ, "letters/{uuid}.pdf",
      ngx_http_portal_letter_pdf_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_AGENT, NULL,
      &ngx_http_portal_letter_pdf_missing },

    NGX_HTTP_PORTAL_ROUTES_END
};


/* (agent, letter, address): portal.agent_at() gives the audit the latter */

static ngx_http_portal_sql_t  ngx_http_portal_letter_pdf_sql = {
    "portal_letter_pdf",
    "SELECT portal.agent_letter(portal.agent_at($1, $3), $2)", 3, 0
};


static const ngx_http_portal_sql_error_t  ngx_http_portal_letter_pdf_errors[]
= {
    NGX_HTTP_PORTAL_AGENT_SQL_ERRORS,
    NGX_HTTP_PORTAL_SQL_ERRORS_END
};


/* shown in the browser to be printed, saved as "courrier-2026-000123.pdf" */

static const ngx_http_portal_pdf_kind_t  ngx_http_portal_letter_pdf_kind = {
    "letter", "a letter's PDF", "courrier", "request",
    ngx_http_portal_pdf_letter_render
};


static ngx_int_t
ngx_http_portal_letter_pdf_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    return ngx_http_portal_resource_ids_run(r, ctx,
                                            &ngx_http_portal_letter_pdf_sql,
                                            ngx_http_portal_letter_pdf_found);
}


static void
ngx_http_portal_letter_pdf_found(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    /* a letter of another's themes, one not due yet, or none: a 404 */

    if (ngx_http_portal_resource_row(q, status, res,
                                     ngx_http_portal_letter_pdf_errors)
        != NGX_OK)
    {
        return;
    }

    ngx_http_portal_pdf_post(q->request, &ngx_http_portal_letter_pdf_kind,
                             (u_char *) PQgetvalue(res, 0, 0),
                             PQgetlength(res, 0, 0));
}
