
/*
 * Portail Citoyen: requests in the agents' API.
 *
 *     GET  requests?state=&procedure=&theme=&q=&page=&limit=   the queue
 *     GET  requests/{id}                      one request, whole
 *     GET  requests/{id}/documents/{doc}      a document (download)
 *     POST requests/{id}/transition           {"to", "from"?, "motive"?,
 *                                             "message"?}: moved, 200
 *     POST requests/{id}/messages             {"kind", "body", "motive"?,
 *                                             "send_at"?}: 201
 *
 * An instructeur limited to themes gets another theme's request as a 404,
 * as an unknown one.  The statements and what they refuse:
 * sql/functions/120_agent_requests.sql and 130_agent_messages.sql.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_agent.h"
#include "ngx_http_portal_agent_request.h"
#include "ngx_http_portal_check.h"
#include "ngx_http_portal_download.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_resource.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_store.h"


static void ngx_http_portal_agent_message_rule(ngx_http_portal_check_t *ck,
    ngx_http_portal_agent_input_t *in);


static ngx_http_portal_fault_t  ngx_http_portal_agent_request_missing = {
    "not_found", NGX_HTTP_PORTAL_M_REQUEST_NOT_FOUND
};



static const ngx_http_portal_sql_error_t
    ngx_http_portal_agent_request_errors[] =
{
    NGX_HTTP_PORTAL_AGENT_SQL_ERRORS,

    { "P0001", "agent_queue_state", NGX_HTTP_UNPROCESSABLE_ENTITY, "invalid",
      NGX_HTTP_PORTAL_M_INVALID, "state", NGX_HTTP_PORTAL_M_AGENT_QUEUE_STATE,
      0 },

    { "P0001", "agent_queue_procedure", NGX_HTTP_UNPROCESSABLE_ENTITY,
      "invalid", NGX_HTTP_PORTAL_M_INVALID, "procedure",
      NGX_HTTP_PORTAL_M_AGENT_QUEUE_PROCEDURE, 0 },

    { "P0001", "agent_queue_theme", NGX_HTTP_UNPROCESSABLE_ENTITY, "invalid",
      NGX_HTTP_PORTAL_M_INVALID, "theme", NGX_HTTP_PORTAL_M_AGENT_QUEUE_THEME,
      0 },

    { "P0001", "agent_queue_q", NGX_HTTP_UNPROCESSABLE_ENTITY, "invalid",
      NGX_HTTP_PORTAL_M_INVALID, "q", NGX_HTTP_PORTAL_M_AGENT_QUEUE_Q, 0 },

    { "P0001", "request_transition_to", NGX_HTTP_UNPROCESSABLE_ENTITY,
      "invalid", NGX_HTTP_PORTAL_M_INVALID, "to",
      NGX_HTTP_PORTAL_M_AGENT_TRANSITION_TO, 0 },

    { "P0001", "request_state", NGX_HTTP_CONFLICT, "state_conflict",
      NGX_HTTP_PORTAL_M_AGENT_REQUEST_STATE, NULL, NULL, 0 },

    { "P0001", "request_transition", NGX_HTTP_CONFLICT, "state_conflict",
      NGX_HTTP_PORTAL_M_AGENT_TRANSITION, NULL, NULL, 0 },

    { "P0001", "request_motive", NGX_HTTP_UNPROCESSABLE_ENTITY, "invalid",
      NGX_HTTP_PORTAL_M_INVALID, "motive", NGX_HTTP_PORTAL_M_AGENT_MOTIVE,
      0 },

    { "23514", "request_events_motive_check", NGX_HTTP_UNPROCESSABLE_ENTITY,
      "invalid", NGX_HTTP_PORTAL_M_INVALID, "motive",
      NGX_HTTP_PORTAL_M_AGENT_MOTIVE, 0 },

    { "P0001", "message_kind", NGX_HTTP_UNPROCESSABLE_ENTITY, "invalid",
      NGX_HTTP_PORTAL_M_INVALID, "kind", NGX_HTTP_PORTAL_M_MESSAGE_KIND, 0 },

    { "P0001", "message_body", NGX_HTTP_UNPROCESSABLE_ENTITY, "invalid",
      NGX_HTTP_PORTAL_M_INVALID, "body", NGX_HTTP_PORTAL_M_MESSAGE_BODY, 0 },

    { "P0001", "message_send_at", NGX_HTTP_UNPROCESSABLE_ENTITY, "invalid",
      NGX_HTTP_PORTAL_M_INVALID, "send_at", NGX_HTTP_PORTAL_M_MESSAGE_SEND_AT,
      0 },

    /* a time of ISO 8601's form that is no date (February 30th) */

    { "22008", NULL, NGX_HTTP_UNPROCESSABLE_ENTITY, "invalid",
      NGX_HTTP_PORTAL_M_INVALID, "send_at", NGX_HTTP_PORTAL_M_MESSAGE_SEND_AT,
      0 },

    { "22007", NULL, NGX_HTTP_UNPROCESSABLE_ENTITY, "invalid",
      NGX_HTTP_PORTAL_M_INVALID, "send_at", NGX_HTTP_PORTAL_M_MESSAGE_SEND_AT,
      0 },

    NGX_HTTP_PORTAL_SQL_ERRORS_END
};


static const ngx_http_portal_agent_arg_t  ngx_http_portal_agent_queue_args[]
= {
    { "state", NGX_HTTP_PORTAL_ARG_TEXT, 40 },
    { "procedure", NGX_HTTP_PORTAL_ARG_TEXT, 100 },
    { "theme", NGX_HTTP_PORTAL_ARG_TEXT, 100 },
    /* 100 characters of up to 4 bytes: the statement counts them */
    { "q", NGX_HTTP_PORTAL_ARG_TEXT, 400 },
    NGX_HTTP_PORTAL_AGENT_PAGE_ARGS,
    NGX_HTTP_PORTAL_AGENT_ARGS_END
};


static const ngx_http_portal_field_t  ngx_http_portal_agent_transition_fields[]
= {
    { "to", NGX_HTTP_PORTAL_TEXT, NGX_HTTP_PORTAL_REQUIRED, 1, 40, NULL, NULL,
      NGX_HTTP_PORTAL_AGENT_FIELD(0), NGX_HTTP_PORTAL_M_AGENT_TRANSITION_TO,
      NULL },

    { "from", NGX_HTTP_PORTAL_TEXT, 0, 1, 40, NULL, NULL,
      NGX_HTTP_PORTAL_AGENT_FIELD(1), NGX_HTTP_PORTAL_M_AGENT_STATE_TEXT,
      NULL },

    { "motive", NGX_HTTP_PORTAL_LINES, 0, 0, 2000, NULL, NULL,
      NGX_HTTP_PORTAL_AGENT_FIELD(2), NGX_HTTP_PORTAL_M_AGENT_MOTIVE, NULL },

    { "message", NGX_HTTP_PORTAL_LINES, 0, 0, 5000, NULL, NULL,
      NGX_HTTP_PORTAL_AGENT_FIELD(3), NGX_HTTP_PORTAL_M_AGENT_MESSAGE_TEXT,
      NULL },

    NGX_HTTP_PORTAL_FIELDS_END
};


static const char *const  ngx_http_portal_agent_message_kinds[] = {
    "information", "decision", NULL
};

static const ngx_http_portal_field_t  ngx_http_portal_agent_message_fields[]
= {
    { "kind", NGX_HTTP_PORTAL_ENUM, NGX_HTTP_PORTAL_REQUIRED, 0, 0,
      ngx_http_portal_agent_message_kinds, NULL,
      NGX_HTTP_PORTAL_AGENT_FIELD(0), NGX_HTTP_PORTAL_M_MESSAGE_KIND, NULL },

    { "body", NGX_HTTP_PORTAL_LINES, NGX_HTTP_PORTAL_REQUIRED, 1, 5000, NULL,
      NULL, NGX_HTTP_PORTAL_AGENT_FIELD(1), NGX_HTTP_PORTAL_M_MESSAGE_BODY,
      NULL },

    { "motive", NGX_HTTP_PORTAL_LINES, 0, 0, 2000, NULL, NULL,
      NGX_HTTP_PORTAL_AGENT_FIELD(2), NGX_HTTP_PORTAL_M_AGENT_MOTIVE, NULL },

    { "send_at", NGX_HTTP_PORTAL_TEXT, 0, 1, 40, NULL, NULL,
      NGX_HTTP_PORTAL_AGENT_FIELD(3), NGX_HTTP_PORTAL_M_MESSAGE_SEND_AT,
      NULL },

    NGX_HTTP_PORTAL_FIELDS_END
};


static ngx_http_portal_agent_route_t  ngx_http_portal_agent_requests = {
    { { "portal_agent_requests",
        "SELECT portal.agent_requests(portal.agent_at($1, $2), $3, $4, $5,"
        " $6, $7, $8)",
        8, 0 },
      NGX_HTTP_OK, NULL, ngx_http_portal_agent_request_errors, 0 },
    ngx_http_portal_agent_queue_args, NULL, 0, NULL, 0
};

static ngx_http_portal_agent_route_t  ngx_http_portal_agent_request = {
    { { "portal_agent_request",
        "SELECT portal.agent_request(portal.agent_at($1, $3), $2)",
        3, 0 },
      NGX_HTTP_OK, NULL, ngx_http_portal_agent_request_errors, 0 },
    NULL, NULL, 0, NULL, 0
};

static ngx_http_portal_agent_route_t  ngx_http_portal_agent_transition = {
    { { "portal_agent_request_transition",
        "SELECT portal.agent_request_transition(portal.agent_at($1, $3), $2,"
        " $4, $5, $6, $7, $8)",
        8, 0 },
      NGX_HTTP_OK, NULL, ngx_http_portal_agent_request_errors, 1 },
    NULL, ngx_http_portal_agent_transition_fields, 4, NULL, 1
};

static ngx_http_portal_agent_route_t  ngx_http_portal_agent_message_send = {
    { { "portal_agent_message_send",
        "SELECT portal.agent_message_send(portal.agent_at($1, $3), $2, $4,"
        " $5, $6, $7, $8)",
        8, 0 },
      NGX_HTTP_CREATED, NULL, ngx_http_portal_agent_request_errors, 1 },
    NULL, ngx_http_portal_agent_message_fields, 4,
    ngx_http_portal_agent_message_rule, 1
};

static ngx_http_portal_store_t  ngx_http_portal_agent_request_document = {
    { NULL, NULL, 0, 0 },
    { NULL, NULL, 0, 0 },
    { NULL, NULL, 0, 0 },
    { NULL, NULL, 0, 0 },
    { "portal_agent_request_document",
      "SELECT data, content_type, filename, size::text, chunks::text"
      " FROM portal.agent_request_document(portal.agent_at($1, $4), $2, $3,"
      " $5, $6)", 6, 0 },
    ngx_http_portal_agent_request_errors, 0
};


ngx_http_portal_route_t  ngx_http_portal_agent_request_routes[] = {

    { NGX_HTTP_PORTAL_READ, "requests", ngx_http_portal_agent_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_AGENT,
      &ngx_http_portal_agent_requests, NULL },

    { NGX_HTTP_PORTAL_READ, "requests/{uuid}", ngx_http_portal_agent_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_AGENT,
      &ngx_http_portal_agent_request,
      &ngx_http_portal_agent_request_missing },

    { NGX_HTTP_PORTAL_READ, "requests/{uuid}/documents/{uuid}",
      ngx_http_portal_download_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_AGENT,
      &ngx_http_portal_agent_request_document,
      &ngx_http_portal_agent_document_missing },

    { NGX_HTTP_POST, "requests/{uuid}/transition",
      ngx_http_portal_agent_handler,
      NGX_HTTP_PORTAL_BODY_JSON, NGX_HTTP_PORTAL_AGENT,
      &ngx_http_portal_agent_transition,
      &ngx_http_portal_agent_request_missing },

    { NGX_HTTP_POST, "requests/{uuid}/messages",
      ngx_http_portal_agent_handler,
      NGX_HTTP_PORTAL_BODY_JSON, NGX_HTTP_PORTAL_AGENT,
      &ngx_http_portal_agent_message_send,
      &ngx_http_portal_agent_request_missing },

    NGX_HTTP_PORTAL_ROUTES_END
};


/* send_at: a time of ISO 8601 with its offset, which PostgreSQL reads */

static void
ngx_http_portal_agent_message_rule(ngx_http_portal_check_t *ck,
    ngx_http_portal_agent_input_t *in)
{
    if (in->value[3].data
        && !ngx_http_portal_check_failed(ck, "", "send_at")
        && !ngx_http_portal_agent_iso8601(&in->value[3]))
    {
        ngx_http_portal_check_error(ck, "", "send_at",
                                    NGX_HTTP_PORTAL_M_MESSAGE_SEND_AT);
    }
}
