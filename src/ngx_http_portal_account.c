
/*
 * Portail Citoyen: citizen accounts.
 *
 *     GET   security-questions   the questions to choose from
 *     POST  accounts             create one (seed flow A)
 *     GET   me                   the account, the household
 *     PATCH me                   the holder, the contact mode
 *     POST  me/members           a member of the household
 *     GET   me/members/{id}      one member
 *     PATCH me/members/{id}
 *     DELETE me/members/{id}     the member leaves the household
 *     GET   me/export            everything held on the account
 *
 * Input is checked against the field tables of _person.c; resources are
 * built as JSON by PostgreSQL functions (sql/functions/030_accounts.sql)
 * and sent as they come.  Changes need a validated account (the router's
 * access phase).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_account.h"
#include "ngx_http_portal_captcha.h"
#include "ngx_http_portal_check.h"
#include "ngx_http_portal_credentials.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_outbox.h"
#include "ngx_http_portal_password.h"
#include "ngx_http_portal_person.h"
#include "ngx_http_portal_resource.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_signup.h"


/* the household, at sign-up and later: the same cap */
#define NGX_HTTP_PORTAL_MEMBERS_MAX  20


typedef struct {
    ngx_http_portal_person_t          holder;
    ngx_str_t                         contact_mode;
    ngx_str_t                         current_password;
    ngx_str_t                         captcha_id;
    ngx_str_t                         captcha_answer;

    /* the checked change, for portal.me_update() */
    ngx_str_t                         change;
} ngx_http_portal_me_input_t;


static ngx_int_t ngx_http_portal_account_create_handler(
    ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_account_captcha(ngx_http_request_t *r,
    ngx_uint_t state);
static void ngx_http_portal_account_hashed(ngx_http_request_t *r,
    ngx_http_portal_signup_t *su);
static void ngx_http_portal_account_created(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static ngx_int_t ngx_http_portal_account_me_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);
static void ngx_http_portal_account_email_checked(
    ngx_http_portal_db_query_t *q, ngx_http_portal_db_status_e status,
    PGresult *res);
static ngx_int_t ngx_http_portal_account_email_granted(
    ngx_http_request_t *r, ngx_http_portal_credentials_t *cr);
static ngx_int_t ngx_http_portal_account_email_refused(
    ngx_http_request_t *r, ngx_http_portal_credentials_t *cr);
static ngx_int_t ngx_http_portal_account_me_change(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_account_member_handler(
    ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx);


static ngx_http_portal_fault_t  ngx_http_portal_account_missing = {
    "not_found", NGX_HTTP_PORTAL_M_RECORD_NOT_FOUND
};


#define NGX_HTTP_PORTAL_SIGNUP(field)                                        \
    (ngx_int_t) offsetof(ngx_http_portal_signup_t, field)

static const ngx_http_portal_field_t  ngx_http_portal_account_signup[] = {

    { "holder", NGX_HTTP_PORTAL_OBJECT, NGX_HTTP_PORTAL_REQUIRED, 0, 0,
      NULL, ngx_http_portal_person_holder, NGX_HTTP_PORTAL_SIGNUP(holder),
      NGX_HTTP_PORTAL_M_PERSON_MISSING, NULL },

    { "members", NGX_HTTP_PORTAL_LIST, 0, 0, NGX_HTTP_PORTAL_MEMBERS_MAX,
      NULL, ngx_http_portal_person_member, NGX_HTTP_PORTAL_NO_OFFSET,
      NGX_HTTP_PORTAL_M_MEMBERS, NGX_HTTP_PORTAL_M_PERSON_MISSING },

    { "contact_mode", NGX_HTTP_PORTAL_ENUM, NGX_HTTP_PORTAL_REQUIRED, 0, 0,
      ngx_http_portal_person_contact_modes, NULL,
      NGX_HTTP_PORTAL_SIGNUP(contact_mode),
      NGX_HTTP_PORTAL_M_CONTACT_MODE, NULL },

    NGX_HTTP_PORTAL_SIGNUP_SECRETS(0, NGX_HTTP_PORTAL_REQUIRED),

    { "captcha_id", NGX_HTTP_PORTAL_UUID,
      NGX_HTTP_PORTAL_REQUIRED|NGX_HTTP_PORTAL_NOCOPY, 0, 36, NULL, NULL,
      NGX_HTTP_PORTAL_SIGNUP(captcha_id), NGX_HTTP_PORTAL_M_CAPTCHA_ID,
      NULL },

    { "captcha_answer", NGX_HTTP_PORTAL_SECRET, NGX_HTTP_PORTAL_REQUIRED,
      0, NGX_HTTP_PORTAL_CAPTCHA_MAX, NULL, NULL,
      NGX_HTTP_PORTAL_SIGNUP(captcha_answer),
      NGX_HTTP_PORTAL_M_CAPTCHA_ANSWER, NULL },

    NGX_HTTP_PORTAL_FIELDS_END
};


static const ngx_http_portal_field_t  ngx_http_portal_account_me[] = {

    { "holder", NGX_HTTP_PORTAL_OBJECT, 0, 0, 0,
      NULL, ngx_http_portal_person_holder,
      (ngx_int_t) offsetof(ngx_http_portal_me_input_t, holder),
      NGX_HTTP_PORTAL_M_PERSON_MISSING, NULL },

    { "contact_mode", NGX_HTTP_PORTAL_ENUM, 0, 0, 0,
      ngx_http_portal_person_contact_modes, NULL,
      (ngx_int_t) offsetof(ngx_http_portal_me_input_t, contact_mode),
      NGX_HTTP_PORTAL_M_CONTACT_MODE, NULL },

    /* a new e-mail address needs it */
    { "current_password", NGX_HTTP_PORTAL_SECRET, 0, 0,
      NGX_HTTP_PORTAL_SECRET_BYTES, NULL, NULL,
      (ngx_int_t) offsetof(ngx_http_portal_me_input_t, current_password),
      NGX_HTTP_PORTAL_M_EMAIL_PASSWORD, NULL },

    /* with it, past the failure limits */

    NGX_HTTP_PORTAL_CAPTCHA_FIELDS(ngx_http_portal_me_input_t),

    NGX_HTTP_PORTAL_FIELDS_END
};


/*
 * A phone contact without a phone: the constraint of the accounts; a
 * household full.
 */

static const ngx_http_portal_sql_error_t  ngx_http_portal_account_errors[] = {

    { "23514", "accounts_phone_contact", NGX_HTTP_UNPROCESSABLE_ENTITY,
      "invalid", NGX_HTTP_PORTAL_M_INVALID,
      "contact_mode", NGX_HTTP_PORTAL_M_CONTACT_PHONE, 0 },

    { "P0001", "members_limit", NGX_HTTP_UNPROCESSABLE_ENTITY,
      "limit_reached", NGX_HTTP_PORTAL_M_MEMBERS_LIMIT, NULL, NULL, 0 },

    NGX_HTTP_PORTAL_SQL_ERRORS_END
};

/* no such security question: found by PostgreSQL */

static const ngx_http_portal_sql_error_t  ngx_http_portal_signup_errors[] = {

    { "23503", NULL, NGX_HTTP_UNPROCESSABLE_ENTITY,
      "invalid", NGX_HTTP_PORTAL_M_INVALID,
      "security_question_id", NGX_HTTP_PORTAL_M_QUESTION, 0 },

    NGX_HTTP_PORTAL_SQL_ERRORS_END
};


static ngx_http_portal_resource_t  ngx_http_portal_account_questions = {
    { "portal_security_questions", "SELECT portal.security_questions()",
      0, 0 },
    NGX_HTTP_OK, NULL, NULL, 0
};

/* the login, for the log, and the new account */

static ngx_http_portal_sql_t  ngx_http_portal_account_create_sql = {
    "portal_account_create",
    "SELECT login, account"
    " FROM portal.account_create($1, $2, $3, $4, $5, $6, $7, $8)",
    8, 0
};

static ngx_http_portal_resource_t  ngx_http_portal_account_get = {
    { "portal_me", "SELECT portal.me($1)", 1, 0 },
    NGX_HTTP_OK, NULL, NULL, 0
};

static ngx_http_portal_resource_t  ngx_http_portal_account_update = {
    { "portal_me_update", "SELECT portal.me_update($1, $2, $3)", 3, 0 },
    NGX_HTTP_OK, NULL, ngx_http_portal_account_errors, 1
};

static ngx_http_portal_sql_t  ngx_http_portal_account_email_sql = {
    "portal_me_email_changes",
    "SELECT portal.me_email_changes($1, $2)",
    2, 0
};

static ngx_http_portal_resource_t  ngx_http_portal_account_export = {
    { "portal_export", "SELECT portal.export($1)", 1, 0 },
    NGX_HTTP_OK, "mon-compte-citoyen.json", NULL, 0
};

static ngx_http_portal_resource_t  ngx_http_portal_member_add = {
    { "portal_member_add", "SELECT portal.member_add($1, $2)", 2, 0 },
    NGX_HTTP_CREATED, NULL, ngx_http_portal_account_errors, 0
};

static ngx_http_portal_resource_t  ngx_http_portal_member_get = {
    { "portal_member_get", "SELECT portal.member_get($1, $2)", 2, 0 },
    NGX_HTTP_OK, NULL, NULL, 0
};

static ngx_http_portal_resource_t  ngx_http_portal_member_remove = {
    { "portal_member_remove", "SELECT portal.member_remove($1, $2)", 2, 0 },
    NGX_HTTP_NO_CONTENT, NULL, NULL, 0
};

static ngx_http_portal_resource_t  ngx_http_portal_member_update = {
    { "portal_member_update", "SELECT portal.member_update($1, $2, $3)",
      3, 0 },
    NGX_HTTP_OK, NULL, ngx_http_portal_account_errors, 0
};


ngx_http_portal_route_t  ngx_http_portal_account_routes[] = {

    { NGX_HTTP_PORTAL_READ, "security-questions",
      ngx_http_portal_resource_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_OPEN,
      &ngx_http_portal_account_questions, NULL },

    { NGX_HTTP_POST, "accounts", ngx_http_portal_account_create_handler,
      NGX_HTTP_PORTAL_BODY_JSON, NGX_HTTP_PORTAL_OPEN, NULL, NULL },

    { NGX_HTTP_PORTAL_READ, "me", ngx_http_portal_resource_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_CITIZEN,
      &ngx_http_portal_account_get, NULL },

    { NGX_HTTP_PATCH, "me", ngx_http_portal_account_me_handler,
      NGX_HTTP_PORTAL_BODY_JSON, NGX_HTTP_PORTAL_VALIDATED, NULL, NULL },

    { NGX_HTTP_POST, "me/members", ngx_http_portal_account_member_handler,
      NGX_HTTP_PORTAL_BODY_JSON, NGX_HTTP_PORTAL_VALIDATED,
      &ngx_http_portal_member_add, NULL },

    { NGX_HTTP_PORTAL_READ, "me/members/{uuid}",
      ngx_http_portal_resource_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_CITIZEN,
      &ngx_http_portal_member_get, &ngx_http_portal_account_missing },

    { NGX_HTTP_PATCH, "me/members/{uuid}",
      ngx_http_portal_account_member_handler,
      NGX_HTTP_PORTAL_BODY_JSON, NGX_HTTP_PORTAL_VALIDATED,
      &ngx_http_portal_member_update, &ngx_http_portal_account_missing },

    { NGX_HTTP_DELETE, "me/members/{uuid}",
      ngx_http_portal_resource_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_VALIDATED,
      &ngx_http_portal_member_remove, &ngx_http_portal_account_missing },

    { NGX_HTTP_PORTAL_READ, "me/export", ngx_http_portal_resource_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_CITIZEN,
      &ngx_http_portal_account_export, NULL },

    NGX_HTTP_PORTAL_ROUTES_END
};


/* POST accounts: seed flow A */

static ngx_int_t
ngx_http_portal_account_create_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    json_t                    *clean, *members;
    ngx_int_t                  rc;
    ngx_http_portal_check_t    ck;
    ngx_http_portal_signup_t  *su;

    su = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_signup_t));
    if (su == NULL || ngx_http_portal_check_init(&ck, r->pool) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    clean = ngx_http_portal_check_clean(&ck);
    if (clean == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_check(&ck, ctx->json, ngx_http_portal_account_signup, "",
                          0, su, clean);

    if (ngx_http_portal_signup_rules(r, &ck, su, "holder") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_portal_check_done(r, &ck, NGX_HTTP_PORTAL_M_INVALID, &rc)
        != NGX_OK)
    {
        return rc;
    }

    members = json_object_get(clean, "members");

    if (members == NULL) {
        ngx_str_set(&su->members_json, "[]");

    } else if (ngx_http_portal_check_text(r->pool, members,
                                          &su->members_json)
               != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_portal_check_text(r->pool, json_object_get(clean, "holder"),
                                   &su->holder_json)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->input = su;

    /* the captcha first: wrong ones must not cost two Argon2id hashes */

    return ngx_http_portal_captcha_check(r, &su->captcha_id,
                                         &su->captcha_answer,
                                         ngx_http_portal_account_captcha);
}


static ngx_int_t
ngx_http_portal_account_captcha(ngx_http_request_t *r, ngx_uint_t state)
{
    ngx_http_portal_ctx_t  *ctx;

    if (state != NGX_HTTP_PORTAL_CAPTCHA_RIGHT) {
        return ngx_http_portal_captcha_refused(r, state);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    return ngx_http_portal_signup_hash(r, ctx->input,
                                       ngx_http_portal_account_hashed);
}


static void
ngx_http_portal_account_hashed(ngx_http_request_t *r,
    ngx_http_portal_signup_t *su)
{
    u_char                      *question;
    ngx_http_portal_db_query_t  *q;
    ngx_http_portal_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    question = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    q = ngx_http_portal_db_query(r, &ngx_http_portal_account_create_sql,
                                 ngx_http_portal_account_created);

    if (question == NULL || q == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_portal_db_param(q, (char *) su->holder_json.data,
                             su->holder_json.len);
    ngx_http_portal_db_param(q, (char *) su->base.data, su->base.len);
    ngx_http_portal_db_param(q, su->password_hash,
                             ngx_strlen(su->password_hash));
    ngx_http_portal_db_param(q, (char *) question,
                             ngx_sprintf(question, "%i", su->question)
                             - question);
    ngx_http_portal_db_param(q, su->answer_hash,
                             ngx_strlen(su->answer_hash));
    ngx_http_portal_db_param(q, (char *) su->contact_mode.data,
                             su->contact_mode.len);
    ngx_http_portal_db_param(q, (char *) su->members_json.data,
                             su->members_json.len);
    ngx_http_portal_db_param(q, (char *) plcf->public_url.data,
                             plcf->public_url.len);

    ngx_http_portal_db_next(q);
}


static void
ngx_http_portal_account_created(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_str_t            account;
    ngx_http_request_t  *r;

    r = q->request;

    if (status == NGX_HTTP_PORTAL_DB_OK
        && PQresultStatus(res) == PGRES_FATAL_ERROR
        && ngx_http_portal_resource_error(r, ngx_http_portal_signup_errors,
                                          res)
           == NGX_OK)
    {
        return;
    }

    if (ngx_http_portal_db_rows(q, status, res, 1) != NGX_OK) {
        return;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "portal: account \"%s\" created", PQgetvalue(res, 0, 0));

    ngx_http_portal_outbox_kick();

    account.data = (u_char *) PQgetvalue(res, 0, 1);
    account.len = PQgetlength(res, 0, 1);

    ngx_http_finalize_request(r,
        ngx_http_portal_response_raw(r, NGX_HTTP_CREATED, &account));
}


/* PATCH me {"holder": {...}, "contact_mode"} */

static ngx_int_t
ngx_http_portal_account_me_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    json_t                      *clean, *holder;
    ngx_int_t                    rc;
    ngx_http_portal_check_t      ck;
    ngx_http_portal_db_query_t  *q;
    ngx_http_portal_me_input_t  *in;

    in = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_me_input_t));
    if (in == NULL || ngx_http_portal_check_init(&ck, r->pool) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    clean = ngx_http_portal_check_clean(&ck);
    if (clean == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_check(&ck, ctx->json, ngx_http_portal_account_me, "", 1,
                          in, clean);

    holder = json_object_get(clean, "holder");

    if ((holder == NULL || json_object_size(holder) == 0)
        && in->contact_mode.data == NULL
        && json_object_size(ck.errors) == 0)
    {
        ngx_http_portal_check_error(&ck, "", "holder",
                                    NGX_HTTP_PORTAL_M_NOTHING_TO_CHANGE);
    }

    if (ngx_http_portal_check_done(r, &ck, NGX_HTTP_PORTAL_M_INVALID, &rc)
        != NGX_OK)
    {
        return rc;
    }

    if (ngx_http_portal_check_text(r->pool, clean, &in->change) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->input = in;

    if (in->holder.email.data == NULL) {
        return ngx_http_portal_account_me_change(r, ctx);
    }

    /* is it another address?  Then it needs the password */

    q = ngx_http_portal_db_query(r, &ngx_http_portal_account_email_sql,
                                 ngx_http_portal_account_email_checked);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_db_param(q, (char *) ctx->session.id, 36);
    ngx_http_portal_db_param(q, (char *) in->holder.email.data,
                             in->holder.email.len);

    return ngx_http_portal_db_suspend(q);
}


static void
ngx_http_portal_account_email_checked(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_request_t              *r;
    ngx_http_portal_ctx_t           *ctx;
    ngx_http_portal_me_input_t      *in;
    ngx_http_portal_credentials_t   *cr;

    r = q->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    in = ctx->input;

    if (ngx_http_portal_db_rows(q, status, res, 1) != NGX_OK) {
        return;
    }

    if (PQgetvalue(res, 0, 0)[0] != 't') {
        ngx_http_finalize_request(r, ngx_http_portal_account_me_change(r, ctx));
        return;
    }

    if (in->current_password.len == 0) {
        ngx_http_finalize_request(r,
            ngx_http_portal_response_invalid(r, NGX_HTTP_PORTAL_M_INVALID,
                json_pack("{s:s}", "current_password",
                          NGX_HTTP_PORTAL_M_EMAIL_PASSWORD)));
        return;
    }

    cr = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_credentials_t));
    if (cr == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    cr->kind = &ngx_http_portal_credentials_current;
    cr->login = ctx->session.login;
    cr->secret = in->current_password;
    cr->captcha_id = in->captcha_id;
    cr->captcha_answer = in->captcha_answer;
    cr->granted = ngx_http_portal_account_email_granted;
    cr->refused = ngx_http_portal_account_email_refused;

    ngx_http_finalize_request(r, ngx_http_portal_credentials_check(r, cr));
}


static ngx_int_t
ngx_http_portal_account_email_granted(ngx_http_request_t *r,
    ngx_http_portal_credentials_t *cr)
{
    ngx_http_portal_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    return ngx_http_portal_account_me_change(r, ctx);
}


static ngx_int_t
ngx_http_portal_account_email_refused(ngx_http_request_t *r,
    ngx_http_portal_credentials_t *cr)
{
    return ngx_http_portal_response_invalid(r, NGX_HTTP_PORTAL_M_INVALID,
               json_pack("{s:s}", "current_password",
                         NGX_HTTP_PORTAL_M_PASSWORD_CURRENT_WRONG));
}


/* the checked change, made; the old address is told of a new one */

static ngx_int_t
ngx_http_portal_account_me_change(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_str_t                    params[3];
    ngx_http_portal_me_input_t  *in;
    ngx_http_portal_loc_conf_t  *plcf;

    in = ctx->input;
    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    params[0].data = ctx->session.id;
    params[0].len = 36;
    params[1] = in->change;
    params[2] = plcf->public_url;

    return ngx_http_portal_resource_run(r, &ngx_http_portal_account_update,
                                        params, 3);
}


/* POST me/members, PATCH me/members/{id}: the member checked, then SQL */

static ngx_int_t
ngx_http_portal_account_member_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    json_t                   *clean;
    ngx_int_t                 rc;
    ngx_str_t                 params[3];
    ngx_uint_t                n, partial;
    ngx_http_portal_check_t   ck;
    ngx_http_portal_person_t  member;

    if (ngx_http_portal_check_init(&ck, r->pool) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    clean = ngx_http_portal_check_clean(&ck);
    if (clean == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(&member, sizeof(ngx_http_portal_person_t));

    partial = (r->method == NGX_HTTP_PATCH);

    ngx_http_portal_check(&ck, ctx->json, ngx_http_portal_person_member, "",
                          partial, &member, clean);

    if (ngx_http_portal_check_done(r, &ck, NGX_HTTP_PORTAL_M_INVALID, &rc)
        != NGX_OK)
    {
        return rc;
    }

    n = 0;
    params[n].data = ctx->session.id;
    params[n++].len = 36;

    if (partial) {
        params[n++] = ctx->params[0];
    }

    if (ngx_http_portal_check_text(r->pool, clean, &params[n++]) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_portal_resource_run(r,
               (ngx_http_portal_resource_t *) ctx->route->data, params, n);
}
