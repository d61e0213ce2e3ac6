
/*
 * Portail Citoyen: what agents send, print and call, in the agents' API.
 *
 *     DELETE messages/{id}              a scheduled message cancelled
 *     GET    letters?printed=&page=&limit=
 *     GET    letters/{id}
 *     POST   letters/{id}/printed
 *     GET    calls?done=&page=&limit=
 *     POST   calls/{id}/done            {"note"?}
 *     GET    outbox?state=&page=&limit= (admin)
 *     POST   outbox/{id}/retry          (admin)
 *
 * (GET letters/{id}.pdf, the letter to print, is _pdf_letter.c's.)  The
 * statements and what they refuse: sql/functions/130_agent_messages.sql.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_agent.h"
#include "ngx_http_portal_agent_message.h"
#include "ngx_http_portal_check.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_resource.h"
#include "ngx_http_portal_router.h"


static ngx_http_portal_fault_t  ngx_http_portal_agent_message_missing = {
    "not_found", NGX_HTTP_PORTAL_M_MESSAGE_NOT_FOUND
};

static ngx_http_portal_fault_t  ngx_http_portal_agent_letter_missing = {
    "not_found", NGX_HTTP_PORTAL_M_LETTER_NOT_FOUND
};

static ngx_http_portal_fault_t  ngx_http_portal_agent_call_missing = {
    "not_found", NGX_HTTP_PORTAL_M_CALL_NOT_FOUND
};

static ngx_http_portal_fault_t  ngx_http_portal_agent_mail_missing = {
    "not_found", NGX_HTTP_PORTAL_M_MAIL_NOT_FOUND
};


static const ngx_http_portal_sql_error_t
    ngx_http_portal_agent_message_errors[] =
{
    NGX_HTTP_PORTAL_AGENT_SQL_ERRORS,

    { "P0001", "message_sent", NGX_HTTP_CONFLICT, "conflict",
      NGX_HTTP_PORTAL_M_MESSAGE_SENT, NULL, NULL, 0 },

    { "P0001", "letter_printed", NGX_HTTP_CONFLICT, "conflict",
      NGX_HTTP_PORTAL_M_LETTER_PRINTED, NULL, NULL, 0 },

    { "P0001", "call_done", NGX_HTTP_CONFLICT, "conflict",
      NGX_HTTP_PORTAL_M_CALL_DONE, NULL, NULL, 0 },

    { "23514", "calls_note_check", NGX_HTTP_UNPROCESSABLE_ENTITY, "invalid",
      NGX_HTTP_PORTAL_M_INVALID, "note", NGX_HTTP_PORTAL_M_CALL_NOTE, 0 },

    { "P0001", "agent_filter", NGX_HTTP_UNPROCESSABLE_ENTITY, "invalid",
      NGX_HTTP_PORTAL_M_INVALID, "state", NGX_HTTP_PORTAL_M_OUTBOX_FILTER,
      0 },

    { "P0001", "outbox_state", NGX_HTTP_CONFLICT, "conflict",
      NGX_HTTP_PORTAL_M_OUTBOX_STATE, NULL, NULL, 0 },

    NGX_HTTP_PORTAL_SQL_ERRORS_END
};

/* an outbox id is a number: another word, or a huge one, is no mail */

static const ngx_http_portal_sql_error_t
    ngx_http_portal_agent_outbox_errors[] =
{
    NGX_HTTP_PORTAL_AGENT_SQL_ERRORS,

    { "P0001", "outbox_state", NGX_HTTP_CONFLICT, "conflict",
      NGX_HTTP_PORTAL_M_OUTBOX_STATE, NULL, NULL, 0 },

    { "22P02", NULL, NGX_HTTP_NOT_FOUND, "not_found",
      NGX_HTTP_PORTAL_M_MAIL_NOT_FOUND, NULL, NULL, 0 },

    { "22003", NULL, NGX_HTTP_NOT_FOUND, "not_found",
      NGX_HTTP_PORTAL_M_MAIL_NOT_FOUND, NULL, NULL, 0 },

    NGX_HTTP_PORTAL_SQL_ERRORS_END
};


static const ngx_http_portal_agent_arg_t  ngx_http_portal_agent_letter_args[]
= {
    { "printed", NGX_HTTP_PORTAL_ARG_BOOLEAN, 0 },
    NGX_HTTP_PORTAL_AGENT_PAGE_ARGS,
    NGX_HTTP_PORTAL_AGENT_ARGS_END
};

static const ngx_http_portal_agent_arg_t  ngx_http_portal_agent_call_args[] = {
    { "done", NGX_HTTP_PORTAL_ARG_BOOLEAN, 0 },
    NGX_HTTP_PORTAL_AGENT_PAGE_ARGS,
    NGX_HTTP_PORTAL_AGENT_ARGS_END
};

static const ngx_http_portal_agent_arg_t  ngx_http_portal_agent_outbox_args[]
= {
    { "state", NGX_HTTP_PORTAL_ARG_TEXT, 20 },
    NGX_HTTP_PORTAL_AGENT_PAGE_ARGS,
    NGX_HTTP_PORTAL_AGENT_ARGS_END
};


static const ngx_http_portal_field_t  ngx_http_portal_agent_call_fields[] = {

    { "note", NGX_HTTP_PORTAL_LINES, 0, 0, 500, NULL, NULL,
      NGX_HTTP_PORTAL_AGENT_FIELD(0), NGX_HTTP_PORTAL_M_CALL_NOTE, NULL },

    NGX_HTTP_PORTAL_FIELDS_END
};


/* an id's statement: (agent, id, address) */

#define NGX_HTTP_PORTAL_AGENT_BY_ID(name, function, errors)                  \
    { { { name,                                                              \
          "SELECT portal." function "(portal.agent_at($1, $3), $2)",         \
          3, 0 },                                                            \
        NGX_HTTP_OK, NULL, errors, 0 },                                      \
      NULL, NULL, 0, NULL, 0 }

/* a list's statement: (agent, address, filter, page, limit) */

#define NGX_HTTP_PORTAL_AGENT_LIST(name, function, args)                     \
    { { { name,                                                              \
          "SELECT portal." function "(portal.agent_at($1, $2), $3, $4, $5)", \
          5, 0 },                                                            \
        NGX_HTTP_OK, NULL, ngx_http_portal_agent_message_errors, 0 },        \
      args, NULL, 0, NULL, 0 }


static ngx_http_portal_agent_route_t  ngx_http_portal_agent_message_cancel =
    NGX_HTTP_PORTAL_AGENT_BY_ID("portal_agent_message_cancel",
                                "agent_message_cancel",
                                ngx_http_portal_agent_message_errors);

static ngx_http_portal_agent_route_t  ngx_http_portal_agent_letters =
    NGX_HTTP_PORTAL_AGENT_LIST("portal_agent_letters", "agent_letters",
                               ngx_http_portal_agent_letter_args);

static ngx_http_portal_agent_route_t  ngx_http_portal_agent_letter =
    NGX_HTTP_PORTAL_AGENT_BY_ID("portal_agent_letter", "agent_letter",
                                ngx_http_portal_agent_message_errors);

static ngx_http_portal_agent_route_t  ngx_http_portal_agent_letter_printed =
    NGX_HTTP_PORTAL_AGENT_BY_ID("portal_agent_letter_printed",
                                "agent_letter_printed",
                                ngx_http_portal_agent_message_errors);

static ngx_http_portal_agent_route_t  ngx_http_portal_agent_calls =
    NGX_HTTP_PORTAL_AGENT_LIST("portal_agent_calls", "agent_calls",
                               ngx_http_portal_agent_call_args);

static ngx_http_portal_agent_route_t  ngx_http_portal_agent_call_done = {
    { { "portal_agent_call_done",
        "SELECT portal.agent_call_done(portal.agent_at($1, $3), $2, $4)",
        4, 0 },
      NGX_HTTP_OK, NULL, ngx_http_portal_agent_message_errors, 0 },
    NULL, ngx_http_portal_agent_call_fields, 1, NULL, 0
};

static ngx_http_portal_agent_route_t  ngx_http_portal_agent_outbox =
    NGX_HTTP_PORTAL_AGENT_LIST("portal_agent_outbox", "agent_outbox",
                               ngx_http_portal_agent_outbox_args);

static ngx_http_portal_agent_route_t  ngx_http_portal_agent_outbox_retry =
    NGX_HTTP_PORTAL_AGENT_BY_ID("portal_agent_outbox_retry",
                                "agent_outbox_retry",
                                ngx_http_portal_agent_outbox_errors);


ngx_http_portal_route_t  ngx_http_portal_agent_message_routes[] = {

    { NGX_HTTP_DELETE, "messages/{uuid}", ngx_http_portal_agent_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_AGENT,
      &ngx_http_portal_agent_message_cancel,
      &ngx_http_portal_agent_message_missing },

    { NGX_HTTP_PORTAL_READ, "letters", ngx_http_portal_agent_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_AGENT,
      &ngx_http_portal_agent_letters, NULL },

    { NGX_HTTP_PORTAL_READ, "letters/{uuid}", ngx_http_portal_agent_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_AGENT,
      &ngx_http_portal_agent_letter, &ngx_http_portal_agent_letter_missing },

    { NGX_HTTP_POST, "letters/{uuid}/printed", ngx_http_portal_agent_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_AGENT,
      &ngx_http_portal_agent_letter_printed,
      &ngx_http_portal_agent_letter_missing },

    { NGX_HTTP_PORTAL_READ, "calls", ngx_http_portal_agent_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_AGENT,
      &ngx_http_portal_agent_calls, NULL },

    { NGX_HTTP_POST, "calls/{uuid}/done", ngx_http_portal_agent_handler,
      NGX_HTTP_PORTAL_BODY_JSON, NGX_HTTP_PORTAL_AGENT,
      &ngx_http_portal_agent_call_done, &ngx_http_portal_agent_call_missing },

    { NGX_HTTP_PORTAL_READ, "outbox", ngx_http_portal_agent_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_AGENT,
      &ngx_http_portal_agent_outbox, NULL },

    { NGX_HTTP_POST, "outbox/{id}/retry", ngx_http_portal_agent_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_AGENT,
      &ngx_http_portal_agent_outbox_retry,
      &ngx_http_portal_agent_mail_missing },

    NGX_HTTP_PORTAL_ROUTES_END
};
