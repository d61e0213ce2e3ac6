
/*
 * Portail Citoyen: the citizen's session.
 *
 *     POST   session    log in: {"login", "password"}
 *     GET    session    who is logged in, and the anti-CSRF token
 *     DELETE session    log out
 *
 * A route that needs a citizen has its session checked here, in
 * PostgreSQL, on every request: the cookie's epoch must still be the
 * account's (a password change or a log-out moves it on).  The agents'
 * API has the same routes and the same check, with the agent's statements
 * and answer (_agent_session.c): ngx_http_portal_session_kind() tells
 * which by the location's portal_api.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_agent_session.h"
#include "ngx_http_portal_captcha.h"
#include "ngx_http_portal_check.h"
#include "ngx_http_portal_cookie.h"
#include "ngx_http_portal_credentials.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_session.h"


typedef struct {
    ngx_str_t                          login;
    ngx_str_t                          password;
    ngx_str_t                          captcha_id;
    ngx_str_t                          captcha_answer;
} ngx_http_portal_login_input_t;


static const ngx_http_portal_session_kind_t *ngx_http_portal_session_kind(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_portal_citizen_read(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, PGresult *res);
static json_t *ngx_http_portal_citizen_json(ngx_http_portal_ctx_t *ctx,
    ngx_str_t *token);
static ngx_int_t ngx_http_portal_session_read(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, PGresult *res);
static ngx_int_t ngx_http_portal_session_check(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_http_portal_handler_pt next);
static void ngx_http_portal_session_checked(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static ngx_int_t ngx_http_portal_session_access(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_session_again(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_session_refuse(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_session_send(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_session_get_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_session_delete_handler(
    ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx);
static void ngx_http_portal_session_ended(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static ngx_int_t ngx_http_portal_session_create_handler(
    ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_session_granted(ngx_http_request_t *r,
    ngx_http_portal_credentials_t *cr);
static void ngx_http_portal_session_opened(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static ngx_int_t ngx_http_portal_session_refused(ngx_http_request_t *r,
    ngx_http_portal_credentials_t *cr);
static ngx_int_t ngx_http_portal_session_login_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);


ngx_http_portal_route_t  ngx_http_portal_session_routes[] = {

    { NGX_HTTP_POST, "session", ngx_http_portal_session_create_handler,
      NGX_HTTP_PORTAL_BODY_JSON, NGX_HTTP_PORTAL_OPEN, NULL, NULL },

    { NGX_HTTP_PORTAL_READ, "session", ngx_http_portal_session_get_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_OPEN, NULL, NULL },

    { NGX_HTTP_DELETE, "session", ngx_http_portal_session_delete_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_OPEN, NULL, NULL },

    NGX_HTTP_PORTAL_ROUTES_END
};


static const ngx_http_portal_field_t  ngx_http_portal_login_fields[] = {

    { "login", NGX_HTTP_PORTAL_SECRET, NGX_HTTP_PORTAL_REQUIRED, 0, 100,
      NULL, NULL, (ngx_int_t) offsetof(ngx_http_portal_login_input_t, login),
      NGX_HTTP_PORTAL_M_LOGIN, NULL },

    { "password", NGX_HTTP_PORTAL_SECRET, NGX_HTTP_PORTAL_REQUIRED, 0,
      NGX_HTTP_PORTAL_SECRET_BYTES, NULL, NULL,
      (ngx_int_t) offsetof(ngx_http_portal_login_input_t, password),
      NGX_HTTP_PORTAL_M_PASSWORD, NULL },

    /* past the failure limits */

    NGX_HTTP_PORTAL_CAPTCHA_FIELDS(ngx_http_portal_login_input_t),

    NGX_HTTP_PORTAL_FIELDS_END
};


static ngx_http_portal_sql_t  ngx_http_portal_session_check_sql = {
    "portal_session_check",
    "SELECT login, validated FROM portal.session_check($1, $2)",
    2, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_session_end_sql = {
    "portal_session_end",
    "SELECT portal.session_end($1, $2)",
    2, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_session_open_sql = {
    "portal_login_succeeded",
    "SELECT portal.login_succeeded($1)",
    1, 0
};


static const ngx_http_portal_session_kind_t  ngx_http_portal_citizen_session
= {
    &ngx_http_portal_session_check_sql,
    &ngx_http_portal_session_end_sql,
    &ngx_http_portal_session_open_sql,
    &ngx_http_portal_credentials_login,
    ngx_http_portal_citizen_read,
    0,
    ngx_http_portal_citizen_json
};


ngx_http_variable_t  ngx_http_portal_session_variables[] = {

    { ngx_string("portal_login"), NULL,
      ngx_http_portal_session_login_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_portal_session_phase(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    if (ctx->route->access == NGX_HTTP_PORTAL_OPEN
        || (ctx->route->access == NGX_HTTP_PORTAL_ANYONE
            && !ngx_http_portal_cookie_has_session(r)))
    {
        return NGX_DECLINED;
    }

    if (!ctx->has_session
        && ngx_http_portal_cookie_session(r, ctx) != NGX_OK)
    {
        return ngx_http_portal_response_error(r, NGX_HTTP_UNAUTHORIZED,
                                   "unauthenticated",
                                   (ctx->route->access == NGX_HTTP_PORTAL_AGENT)
                                   ? NGX_HTTP_PORTAL_M_AGENT_UNAUTHENTICATED
                                   : NGX_HTTP_PORTAL_M_UNAUTHENTICATED);
    }

    /*
     * The route's statement checks the session itself, in the same round
     * trip.  A temporary password's session takes the separate check,
     * whose answer (403, or 401 once over) comes before the route's.
     */

    if (ngx_http_portal_session_inline(r, ctx)) {
        return NGX_DECLINED;
    }

    return ngx_http_portal_session_check(r, ctx,
                                         ngx_http_portal_session_access);
}


/*
 * A citizen's route whose statement checks the session (router.h): only
 * in the citizens' API, where the cookie is a citizen's.
 */

ngx_uint_t
ngx_http_portal_session_inline(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_http_portal_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    return ctx->route->access == NGX_HTTP_PORTAL_CITIZEN_INLINE
           && plcf->api == NGX_HTTP_PORTAL_API_CITIZEN
           && !(ctx->session.flags & NGX_HTTP_PORTAL_SESSION_RESET);
}


/*
 * For such a route whose handler answers before its statement (bad
 * input): the separate check first, then the handler again, so that a
 * session over is told as on every other route.
 */

ngx_int_t
ngx_http_portal_session_require(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    return ngx_http_portal_session_check(r, ctx,
                                         ngx_http_portal_session_again);
}


static const ngx_http_portal_session_kind_t *
ngx_http_portal_session_kind(ngx_http_request_t *r)
{
    ngx_http_portal_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    return (plcf->api == NGX_HTTP_PORTAL_API_AGENT)
           ? &ngx_http_portal_agent_session : &ngx_http_portal_citizen_session;
}


/* after the check: what the route allows this session, then the next phase */

static ngx_int_t
ngx_http_portal_session_access(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_int_t  rc;

    rc = ngx_http_portal_session_refuse(r, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    return ngx_http_portal_router_next(r, ctx);
}


/* ... or the route's handler, that asked for the check (_require()) */

static ngx_int_t
ngx_http_portal_session_again(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_int_t  rc;

    rc = ngx_http_portal_session_refuse(r, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    return ctx->route->handler(r, ctx);
}


/* NGX_DECLINED: the route is this session's; otherwise its 401 or 403 */

static ngx_int_t
ngx_http_portal_session_refuse(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_http_portal_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    /* an agent's session opens agents' routes only, and the reverse */

    if (!ctx->auth
        || ((plcf->api == NGX_HTTP_PORTAL_API_AGENT)
            != (ctx->route->access == NGX_HTTP_PORTAL_AGENT)))
    {
        return ngx_http_portal_response_error(r, NGX_HTTP_UNAUTHORIZED,
                                              "unauthenticated",
                                              NGX_HTTP_PORTAL_M_SESSION_OVER);
    }

    /* a temporary password's session may only set a new password */

    if ((ctx->session.flags & NGX_HTTP_PORTAL_SESSION_RESET)
        && ctx->route->access != NGX_HTTP_PORTAL_RESET)
    {
        return ngx_http_portal_response_error(r, NGX_HTTP_FORBIDDEN,
                                       "password_change_required",
                                       NGX_HTTP_PORTAL_M_CHANGE_PASSWORD);
    }

    if (ctx->route->access == NGX_HTTP_PORTAL_VALIDATED
        && !ctx->session.validated)
    {
        return ngx_http_portal_response_error(r, NGX_HTTP_FORBIDDEN,
                                              "account_not_validated",
                                              NGX_HTTP_PORTAL_M_NOT_VALIDATED);
    }

    return NGX_DECLINED;
}


/*
 * The session read from its cookie, checked in PostgreSQL, then next():
 * with ctx->auth set when it still opens the account; otherwise the
 * cookie is removed.
 */

static ngx_int_t
ngx_http_portal_session_check(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_http_portal_handler_pt next)
{
    ngx_str_t                    epoch;
    ngx_http_portal_db_query_t  *q;

    if (ngx_http_portal_cookie_session_epoch(r, ctx, &epoch) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q = ngx_http_portal_db_query(r, ngx_http_portal_session_kind(r)->check,
                                 ngx_http_portal_session_checked);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->data = (void *) next;

    ngx_http_portal_db_param(q, (char *) ctx->session.id, 36);
    ngx_http_portal_db_param(q, (char *) epoch.data, epoch.len);

    return ngx_http_portal_db_suspend(q);
}


static void
ngx_http_portal_session_checked(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_request_t          *r;
    ngx_http_portal_ctx_t       *ctx;
    ngx_http_portal_handler_pt   next;

    r = q->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    next = (ngx_http_portal_handler_pt) q->data;

    if (ngx_http_portal_db_rows(q, status, res, 0) != NGX_OK) {
        return;
    }

    if (PQntuples(res) != 1) {

        /* the password changed since, or a log-out: this session is over */

        ctx->has_session = 0;

        if (ngx_http_portal_cookie_session_clear(r) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_http_finalize_request(r, next(r, ctx));
        return;
    }

    if (ngx_http_portal_session_read(r, ctx, res) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->auth = 1;

    ngx_http_finalize_request(r, next(r, ctx));
}


/* a row of the check: the login, then what the kind reads */

static ngx_int_t
ngx_http_portal_session_read(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, PGresult *res)
{
    if (ngx_http_portal_db_value(r->pool, res, 0, &ctx->session.login)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_portal_session_kind(r)->read(r, ctx, res);
}


static ngx_int_t
ngx_http_portal_citizen_read(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, PGresult *res)
{
    ctx->session.validated = (PQgetvalue(res, 0, 1)[0] == 't');

    return NGX_OK;
}


ngx_int_t
ngx_http_portal_session_reply(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    return ngx_http_portal_session_send(r, ctx);
}


static ngx_int_t
ngx_http_portal_session_send(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_str_t   token;

    if (ngx_http_portal_cookie_csrf_token(r, ctx, &token) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_portal_response_json(r, NGX_HTTP_OK,
                              ngx_http_portal_session_kind(r)->json(ctx,
                                                                    &token));
}


/* {"authenticated", "login", "validated", "csrf_token", ...} */

static json_t *
ngx_http_portal_citizen_json(ngx_http_portal_ctx_t *ctx, ngx_str_t *token)
{
    json_t  *json;

    if (ctx->auth) {
        json = json_pack("{s:b, s:s%, s:b, s:s, s:b}",
                         "authenticated", 1,
                         "login", ctx->session.login.data,
                         ctx->session.login.len,
                         "validated", (int) ctx->session.validated,
                         "csrf_token", token->data,
                         "password_change_required",
                         (ctx->session.flags & NGX_HTTP_PORTAL_SESSION_RESET)
                         != 0);

    } else {
        json = json_pack("{s:b, s:n, s:n, s:s}",
                         "authenticated", 0, "login", "validated",
                         "csrf_token", token->data);
    }

    return json;
}


/* GET session: always 200; a cookie that no longer opens anything goes */

static ngx_int_t
ngx_http_portal_session_get_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    if (ngx_http_portal_cookie_session(r, ctx) == NGX_OK) {
        return ngx_http_portal_session_check(r, ctx,
                                             ngx_http_portal_session_send);
    }

    if (ngx_http_portal_cookie_has_session(r)
        && ngx_http_portal_cookie_session_clear(r) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_portal_session_send(r, ctx);
}


/*
 * Log out.  The cookie is signed, not stored: for a copy of it (a shared
 * computer) to open nothing more, the account's epoch moves on, which
 * also ends the account's sessions elsewhere.
 */

static ngx_int_t
ngx_http_portal_session_delete_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_str_t                    epoch;
    ngx_http_portal_db_query_t  *q;

    if (ngx_http_portal_cookie_session_clear(r) != NGX_OK
        || ngx_http_portal_cookie_csrf_renew(r, ctx) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->auth = 0;

    if (!ctx->has_session && ngx_http_portal_cookie_session(r, ctx) != NGX_OK)
    {
        return ngx_http_portal_session_send(r, ctx);
    }

    if (ngx_http_portal_cookie_session_epoch(r, ctx, &epoch) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q = ngx_http_portal_db_query(r, ngx_http_portal_session_kind(r)->end,
                                 ngx_http_portal_session_ended);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_db_param(q, (char *) ctx->session.id, 36);
    ngx_http_portal_db_param(q, (char *) epoch.data, epoch.len);

    return ngx_http_portal_db_suspend(q);
}


static void
ngx_http_portal_session_ended(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_request_t     *r;
    ngx_http_portal_ctx_t  *ctx;

    r = q->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    if (ngx_http_portal_db_rows(q, status, res, 0) != NGX_OK) {
        return;
    }

    ctx->has_session = 0;
    ctx->auth = 0;

    ngx_http_finalize_request(r, ngx_http_portal_session_send(r, ctx));
}


/* POST session {"login", "password"} */

static ngx_int_t
ngx_http_portal_session_create_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_http_portal_check_t         ck;
    ngx_http_portal_credentials_t  *cr;
    ngx_http_portal_login_input_t  *in;

    in = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_login_input_t));
    cr = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_credentials_t));

    if (in == NULL || cr == NULL
        || ngx_http_portal_check_init(&ck, r->pool) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_check(&ck, ctx->json, ngx_http_portal_login_fields, "",
                          0, in, NULL);

    if (ngx_http_portal_check_done(r, &ck, NGX_HTTP_PORTAL_M_LOGIN_NEEDED,
                                   &rc)
        != NGX_OK)
    {
        return rc;
    }

    cr->kind = ngx_http_portal_session_kind(r)->credentials;
    cr->login = in->login;
    cr->secret = in->password;
    cr->captcha_id = in->captcha_id;
    cr->captcha_answer = in->captcha_answer;
    cr->granted = ngx_http_portal_session_granted;
    cr->refused = ngx_http_portal_session_refused;

    return ngx_http_portal_credentials_check(r, cr);
}


static ngx_int_t
ngx_http_portal_session_granted(ngx_http_request_t *r,
    ngx_http_portal_credentials_t *cr)
{
    ngx_http_portal_ctx_t       *ctx;
    ngx_http_portal_db_query_t  *q;

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    ngx_memcpy(ctx->session.id, cr->id, sizeof(cr->id));
    ctx->session.epoch = cr->epoch;
    ctx->session.flags = cr->temp ? NGX_HTTP_PORTAL_SESSION_RESET : 0;
    ctx->session.login = cr->account;
    ctx->session.validated = cr->validated;
    ctx->session.role = cr->role;

    q = ngx_http_portal_db_query(r, ngx_http_portal_session_kind(r)->open,
                                 ngx_http_portal_session_opened);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_db_param(q, (char *) cr->id, 36);

    return ngx_http_portal_db_suspend(q);
}


static void
ngx_http_portal_session_opened(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_request_t     *r;
    ngx_http_portal_ctx_t  *ctx;

    r = q->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    if (ngx_http_portal_db_rows(q, status, res, 0) != NGX_OK) {
        return;
    }

    if (ngx_http_portal_session_kind(r)->open_reads
        && (PQntuples(res) != 1
            || ngx_http_portal_session_read(r, ctx, res) != NGX_OK))
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->auth = 1;

    if (ngx_http_portal_cookie_session_set(r, ctx->session.id,
                                           ctx->session.epoch,
                                           ctx->session.flags)
        != NGX_OK
        || ngx_http_portal_cookie_csrf_renew(r, ctx) != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_finalize_request(r, ngx_http_portal_session_send(r, ctx));
}


static ngx_int_t
ngx_http_portal_session_refused(ngx_http_request_t *r,
    ngx_http_portal_credentials_t *cr)
{
    return ngx_http_portal_response_error(r, NGX_HTTP_UNAUTHORIZED,
                                          "bad_credentials",
                                          NGX_HTTP_PORTAL_M_BAD_CREDENTIALS);
}


static ngx_int_t
ngx_http_portal_session_login_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_portal_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    if (ctx == NULL || !ctx->auth || ctx->session.login.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = ctx->session.login.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = ctx->session.login.data;

    return NGX_OK;
}
