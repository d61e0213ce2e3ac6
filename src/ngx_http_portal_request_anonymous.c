
/*
 * Portail Citoyen: POST requests without an account (see the header).
 *
 * The body: procedure, data, contact_mode, applicant (the holder's
 * fields), captcha_id, captcha_answer, and follow_up; with follow_up true
 * also password, password_confirm, security_question_id and
 * security_answer, as POST accounts takes them.
 *
 * Everything is checked first, then the Idempotency-Key (a retry must
 * not spend a second captcha), then the captcha, then with a follow-up
 * the password and the answer are hashed; one statement makes the request
 * (and the account).  A procedure that needs an account refuses a request
 * without a follow-up before the captcha is spent.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_captcha.h"
#include "ngx_http_portal_catalog.h"
#include "ngx_http_portal_check.h"
#include "ngx_http_portal_cookie.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_outbox.h"
#include "ngx_http_portal_person.h"
#include "ngx_http_portal_request_anonymous.h"
#include "ngx_http_portal_request_body.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_signup.h"


static ngx_int_t ngx_http_portal_request_anonymous_rules(
    ngx_http_request_t *r, ngx_http_portal_check_t *ck,
    ngx_http_portal_request_body_t *in);
static void ngx_http_portal_request_anonymous_replay(
    ngx_http_portal_db_query_t *q, ngx_http_portal_db_status_e status,
    PGresult *res);
static ngx_int_t ngx_http_portal_request_anonymous_captcha(
    ngx_http_request_t *r, ngx_uint_t state);
static void ngx_http_portal_request_anonymous_hashed(ngx_http_request_t *r,
    ngx_http_portal_signup_t *su);
static ngx_int_t ngx_http_portal_request_anonymous_make(
    ngx_http_request_t *r, ngx_http_portal_request_body_t *in);
static void ngx_http_portal_request_anonymous_made(
    ngx_http_portal_db_query_t *q, ngx_http_portal_db_status_e status,
    PGresult *res);
static ngx_int_t ngx_http_portal_request_anonymous_session(
    ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx, json_t *request);


#define NGX_HTTP_PORTAL_ANON(field)                                          \
    (ngx_int_t) offsetof(ngx_http_portal_request_body_t, field)

static const ngx_http_portal_field_t  ngx_http_portal_request_anonymous_in[] =
{
    { "procedure", NGX_HTTP_PORTAL_TEXT, NGX_HTTP_PORTAL_REQUIRED, 1, 100,
      NULL, NULL, NGX_HTTP_PORTAL_ANON(procedure),
      NGX_HTTP_PORTAL_M_PROCEDURE, NULL },

    { "contact_mode", NGX_HTTP_PORTAL_ENUM, NGX_HTTP_PORTAL_DEFAULT, 0, 0,
      ngx_http_portal_person_contact_modes, NULL,
      NGX_HTTP_PORTAL_ANON(contact_mode), NGX_HTTP_PORTAL_M_CONTACT_MODE,
      NULL },

    { "applicant", NGX_HTTP_PORTAL_OBJECT, NGX_HTTP_PORTAL_REQUIRED, 0, 0,
      NULL, ngx_http_portal_person_holder, NGX_HTTP_PORTAL_ANON(su.holder),
      NGX_HTTP_PORTAL_M_PERSON_MISSING, NULL },

    { "follow_up", NGX_HTTP_PORTAL_BOOLEAN, NGX_HTTP_PORTAL_NOCOPY, 0, 0,
      NULL, NULL, NGX_HTTP_PORTAL_ANON(follow_up),
      NGX_HTTP_PORTAL_M_FOLLOW_UP, NULL },

    { "captcha_id", NGX_HTTP_PORTAL_UUID,
      NGX_HTTP_PORTAL_REQUIRED|NGX_HTTP_PORTAL_NOCOPY, 0, 36, NULL, NULL,
      NGX_HTTP_PORTAL_ANON(su.captcha_id), NGX_HTTP_PORTAL_M_CAPTCHA_ID,
      NULL },

    { "captcha_answer", NGX_HTTP_PORTAL_SECRET, NGX_HTTP_PORTAL_REQUIRED,
      0, NGX_HTTP_PORTAL_CAPTCHA_MAX, NULL, NULL,
      NGX_HTTP_PORTAL_ANON(su.captcha_answer),
      NGX_HTTP_PORTAL_M_CAPTCHA_ANSWER, NULL },

    NGX_HTTP_PORTAL_FIELDS_END
};

/* with a follow-up: the new account's secrets */

static const ngx_http_portal_field_t  ngx_http_portal_request_follow_up[] = {

    NGX_HTTP_PORTAL_SIGNUP_SECRETS(NGX_HTTP_PORTAL_ANON(su),
                                   NGX_HTTP_PORTAL_REQUIRED),

    NGX_HTTP_PORTAL_FIELDS_END
};


static ngx_http_portal_sql_t  ngx_http_portal_request_replay_sql = {
    "portal_idempotency_check",
    "SELECT portal.idempotency_check('anonymous', $1, 'POST requests', $2)",
    2, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_request_anonymous_sql = {
    "portal_request_create_anonymous",
    "SELECT portal.request_create_anonymous($1, $2, $3, $4, $5, $6, $7, $8)",
    8, 0
};


ngx_int_t
ngx_http_portal_request_anonymous(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    json_t                          *clean;
    ngx_int_t                        rc;
    ngx_http_portal_check_t          ck;
    ngx_http_portal_db_query_t      *q;
    ngx_http_portal_procedure_t     *p;
    ngx_http_portal_request_body_t  *in;

    in = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_request_body_t));
    if (in == NULL || ngx_http_portal_check_init(&ck, r->pool) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    clean = ngx_http_portal_check_clean(&ck);
    if (clean == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    in->follow_up = NGX_CONF_UNSET;

    ngx_http_portal_check(&ck, ctx->json,
                          ngx_http_portal_request_anonymous_in, "", 0, in,
                          clean);

    if (in->follow_up == 1) {
        ngx_http_portal_check(&ck, ctx->json,
                              ngx_http_portal_request_follow_up, "", 0, in,
                              NULL);
    }

    if (ngx_http_portal_request_body_check(r, ctx, &ck, in, &in->procedure,
                                           &p)
           != NGX_OK
        || ngx_http_portal_request_anonymous_rules(r, &ck, in) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_portal_check_done(r, &ck, NGX_HTTP_PORTAL_M_INVALID, &rc)
        != NGX_OK)
    {
        return rc;
    }

    /* before a captcha is spent on it */

    if (p->requires_account && in->follow_up != 1) {
        return ngx_http_portal_response_error(r,
                                       NGX_HTTP_UNPROCESSABLE_ENTITY,
                                       "account_required",
                                       NGX_HTTP_PORTAL_M_REQUEST_ACCOUNT);
    }

    if (ngx_http_portal_check_text(r->pool, json_object_get(clean,
                                                            "applicant"),
                                   &in->su.holder_json)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_portal_request_body_key(r, in, ctx->json, NULL);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    in->status = NGX_HTTP_CREATED;
    ctx->input = in;

    if (in->key.len == 0) {
        return ngx_http_portal_captcha_check(r, &in->su.captcha_id,
                                      &in->su.captcha_answer,
                                 ngx_http_portal_request_anonymous_captcha);
    }

    /* a retry answers what the first one did, and spends nothing */

    q = ngx_http_portal_db_query(r, &ngx_http_portal_request_replay_sql,
                                 ngx_http_portal_request_anonymous_replay);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_db_param(q, (char *) in->key.data, in->key.len);
    ngx_http_portal_db_param_binary(q, in->fingerprint,
                                    sizeof(in->fingerprint));

    return ngx_http_portal_db_suspend(q);
}


/* the applicant's phone for a phone contact; the follow-up's account */

static ngx_int_t
ngx_http_portal_request_anonymous_rules(ngx_http_request_t *r,
    ngx_http_portal_check_t *ck, ngx_http_portal_request_body_t *in)
{
    if (in->follow_up == 1) {
        in->su.contact_mode = in->contact_mode;

        return ngx_http_portal_signup_rules(r, ck, &in->su, "applicant");
    }

    if (in->contact_mode.len
        && ngx_strcmp(in->contact_mode.data, "phone") == 0
        && in->su.holder.phone.len == 0)
    {
        ngx_http_portal_check_error(ck, "", "contact_mode",
                                    NGX_HTTP_PORTAL_M_CONTACT_PHONE);
    }

    return NGX_OK;
}


static void
ngx_http_portal_request_anonymous_replay(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    json_t                          *stored, *response;
    json_int_t                       code;
    json_error_t                     err;
    ngx_http_request_t              *r;
    ngx_http_portal_ctx_t           *ctx;
    ngx_http_portal_request_body_t  *in;

    r = q->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    in = ctx->input;

    if (status == NGX_HTTP_PORTAL_DB_OK
        && PQresultStatus(res) == PGRES_FATAL_ERROR
        && ngx_http_portal_resource_error(r, ngx_http_portal_request_errors,
                                          res)
           == NGX_OK)
    {
        return;
    }

    if (ngx_http_portal_db_rows(q, status, res, 1) != NGX_OK) {
        return;
    }

    if (PQgetisnull(res, 0, 0)) {
        ngx_http_finalize_request(r,
            ngx_http_portal_captcha_check(r, &in->su.captcha_id,
                                 &in->su.captcha_answer,
                                 ngx_http_portal_request_anonymous_captcha));
        return;
    }

    stored = json_loadb(PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0), 0,
                        &err);

    response = json_object_get(stored, "response");
    code = json_integer_value(json_object_get(stored, "status"));

    if (response == NULL || code < 200 || code > 299) {
        json_decref(stored);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    json_incref(response);
    json_decref(stored);

    ngx_http_finalize_request(r,
        ngx_http_portal_response_json(r, (ngx_uint_t) code, response));
}


static ngx_int_t
ngx_http_portal_request_anonymous_captcha(ngx_http_request_t *r,
    ngx_uint_t state)
{
    ngx_http_portal_ctx_t           *ctx;
    ngx_http_portal_request_body_t  *in;

    if (state != NGX_HTTP_PORTAL_CAPTCHA_RIGHT) {
        return ngx_http_portal_captcha_refused(r, state);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    in = ctx->input;

    if (in->follow_up == 1) {
        return ngx_http_portal_signup_hash(r, &in->su,
                                   ngx_http_portal_request_anonymous_hashed);
    }

    return ngx_http_portal_request_anonymous_make(r, in);
}


static void
ngx_http_portal_request_anonymous_hashed(ngx_http_request_t *r,
    ngx_http_portal_signup_t *su)
{
    ngx_http_portal_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    ngx_http_finalize_request(r,
        ngx_http_portal_request_anonymous_make(r, ctx->input));
}


static ngx_int_t
ngx_http_portal_request_anonymous_make(ngx_http_request_t *r,
    ngx_http_portal_request_body_t *in)
{
    json_t                      *follow;
    ngx_str_t                    text;
    ngx_http_portal_db_query_t  *q;
    ngx_http_portal_loc_conf_t  *plcf;

    ngx_str_null(&text);

    if (in->follow_up == 1) {
        follow = json_pack("{s:s%, s:s, s:I, s:s}",
                           "base", in->su.base.data, in->su.base.len,
                           "password_hash", in->su.password_hash,
                           "question_id", (json_int_t) in->su.question,
                           "answer_hash", in->su.answer_hash);

        if (follow == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ngx_http_portal_check_text(r->pool, follow, &text) != NGX_OK) {
            json_decref(follow);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        json_decref(follow);
    }

    q = ngx_http_portal_db_query(r, &ngx_http_portal_request_anonymous_sql,
                                 ngx_http_portal_request_anonymous_made);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    ngx_http_portal_db_param(q, (char *) in->procedure.data,
                             in->procedure.len);
    ngx_http_portal_db_param(q, (char *) in->su.holder_json.data,
                             in->su.holder_json.len);
    ngx_http_portal_db_param(q, (char *) in->data_json.data,
                             in->data_json.len);
    ngx_http_portal_db_param(q, in->contact_mode.len
                                ? (char *) in->contact_mode.data : NULL,
                             in->contact_mode.len);
    ngx_http_portal_db_param(q, (char *) text.data, text.len);
    ngx_http_portal_request_body_params(q, in);
    ngx_http_portal_db_param(q, (char *) plcf->public_url.data,
                             plcf->public_url.len);

    return ngx_http_portal_db_suspend(q);
}


/*
 * The request made; with a follow-up, its account's session is opened
 * here, so that the citizen adds documents and submits at once.
 */

static void
ngx_http_portal_request_anonymous_made(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    json_t                          *request;
    json_error_t                     err;
    ngx_http_request_t              *r;
    ngx_http_portal_ctx_t           *ctx;
    ngx_http_portal_request_body_t  *in;

    r = q->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    in = ctx->input;

    if (in->follow_up != 1
        || status != NGX_HTTP_PORTAL_DB_OK
        || PQresultStatus(res) != PGRES_TUPLES_OK
        || PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
    {
        ngx_http_portal_request_body_done(q, status, res);
        return;
    }

    ngx_http_portal_outbox_kick();

    request = json_loadb(PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0), 0,
                         &err);
    if (request == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_finalize_request(r,
        ngx_http_portal_request_anonymous_session(r, ctx, request));
}


static ngx_int_t
ngx_http_portal_request_anonymous_session(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, json_t *request)
{
    ngx_str_t    token;
    const char  *id, *login;

    id = json_string_value(json_object_get(request, "account_id"));
    login = json_string_value(json_object_get(request, "login"));

    if (id == NULL || login == NULL || ngx_strlen(id) != 36) {
        json_decref(request);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a new account: its first session epoch, not validated */

    ngx_memcpy(ctx->session.id, id, 37);
    ctx->session.epoch = 1;
    ctx->session.flags = 0;
    ctx->session.validated = 0;
    ctx->auth = 1;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "portal: account \"%s\" created with a request", login);

    if (ngx_http_portal_cookie_session_set(r, ctx->session.id, 1, 0)
        != NGX_OK
        || ngx_http_portal_cookie_csrf_renew(r, ctx) != NGX_OK
        || ngx_http_portal_cookie_csrf_token(r, ctx, &token) != NGX_OK
        || json_object_set_new(request, "csrf_token",
                               json_stringn((char *) token.data, token.len))
           != 0)
    {
        json_decref(request);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_portal_response_json(r, NGX_HTTP_CREATED, request);
}
