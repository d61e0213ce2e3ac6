
/*
 * Portail Citoyen: an agent's session.
 *
 *     POST   /admin/api/session    log in: {"login", "password"}
 *     GET    /admin/api/session    {authenticated, login, role, name,
 *                                   themes, csrf_token}
 *     DELETE /admin/api/session    log out: every copy of the cookie dies
 *
 * The routes, the cookies and the log-in are the citizens' (_session.c,
 * _cookie.c, _credentials.c): the same attempts reserved before hashing,
 * the same captcha past the limits, counted apart (kind "agent").  Here
 * are what differs: the statements, and who the answer says is there.
 * An agent's role and themes are read at every request with its session,
 * so that a change by `make agent` applies at once.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_agent_session.h"
#include "ngx_http_portal_credentials.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_session.h"


static ngx_int_t ngx_http_portal_agent_session_read(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, PGresult *res);
static json_t *ngx_http_portal_agent_session_json(ngx_http_portal_ctx_t *ctx,
    ngx_str_t *token);


/* (a temporary password's hash: agents have none) */

static ngx_http_portal_sql_t  ngx_http_portal_agent_begin_sql = {
    "portal_agent_credentials_begin",
    "SELECT verdict, attempt, id, login, hash, NULL, epoch, role"
    " FROM portal.agent_credentials_begin($1, $2, $3, $4)",
    4, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_agent_check_sql = {
    "portal_agent_session_check",
    "SELECT c.login, c.role, c.name, portal.agent_me($1) -> 'themes'"
    " FROM portal.agent_session_check($1, $2) c",
    2, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_agent_end_sql = {
    "portal_agent_session_end",
    "SELECT portal.agent_session_end($1, $2)",
    2, 0
};

/* the success recorded, and who logged in, as the check reads it */

static ngx_http_portal_sql_t  ngx_http_portal_agent_open_sql = {
    "portal_agent_login_succeeded",
    "SELECT a ->> 'login', a ->> 'role', a ->> 'name', a -> 'themes'"
    " FROM portal.agent_login_succeeded($1), portal.agent_me($1) a",
    1, 0
};


static const ngx_http_portal_credentials_kind_t
    ngx_http_portal_agent_credentials =
{
    NULL, "failed agent login for",
    "portal: agent login \"%V\" refused: too many failures from %V",
    &ngx_http_portal_agent_begin_sql, 1
};


const ngx_http_portal_session_kind_t  ngx_http_portal_agent_session = {
    &ngx_http_portal_agent_check_sql,
    &ngx_http_portal_agent_end_sql,
    &ngx_http_portal_agent_open_sql,
    &ngx_http_portal_agent_credentials,
    ngx_http_portal_agent_session_read,
    1,
    ngx_http_portal_agent_session_json
};


static ngx_int_t
ngx_http_portal_agent_session_read(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, PGresult *res)
{
    if (ngx_http_portal_db_value(r->pool, res, 1, &ctx->session.role)
        != NGX_OK
        || ngx_http_portal_db_value(r->pool, res, 2, &ctx->session.name)
           != NGX_OK
        || ngx_http_portal_db_value(r->pool, res, 3, &ctx->session.themes)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static json_t *
ngx_http_portal_agent_session_json(ngx_http_portal_ctx_t *ctx,
    ngx_str_t *token)
{
    json_t  *themes;

    if (!ctx->auth) {
        return json_pack("{s:b, s:n, s:n, s:n, s:n, s:s}",
                         "authenticated", 0, "login", "role", "name",
                         "themes", "csrf_token", token->data);
    }

    themes = json_loadb((char *) ctx->session.themes.data,
                        ctx->session.themes.len, 0, NULL);
    if (themes == NULL) {
        themes = json_array();
    }

    return json_pack("{s:b, s:s%, s:s%, s:s%, s:o, s:s}",
                     "authenticated", 1,
                     "login", ctx->session.login.data, ctx->session.login.len,
                     "role", ctx->session.role.data, ctx->session.role.len,
                     "name", ctx->session.name.data, ctx->session.name.len,
                     "themes", themes,
                     "csrf_token", token->data);
}
