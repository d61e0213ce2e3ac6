
/*
 * Portail Citoyen: requests ("demandes").
 *
 *     POST   requests               start one: with the session's account,
 *                                   or without one (_request_anonymous.c)
 *     GET    requests/{id}          one, its history and its documents
 *     PUT    requests/{id}          its data, member and contact mode
 *     DELETE requests/{id}          a draft
 *     POST   requests/{id}/submit   brouillon -> en_attente,
 *                                   incomplet -> rectifie
 *     GET    me/requests            the account's, newest first (?limit=N)
 *     GET    me/messages            what the account was sent
 *
 * The data is checked against the procedure's form, compiled with the
 * catalog (_form.c): a draft's required fields may wait for the
 * submission, refused while some lack.  PostgreSQL
 * (sql/functions/090_requests.sql) fills what the account gives, keeps
 * the states' rules, writes the history and queues the acknowledgements,
 * in the same transaction.  Another household's request is as absent as
 * an unknown one.  An account not validated yet may do all of this.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_catalog.h"
#include "ngx_http_portal_check.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_person.h"
#include "ngx_http_portal_request.h"
#include "ngx_http_portal_request_anonymous.h"
#include "ngx_http_portal_request_body.h"
#include "ngx_http_portal_resource.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_session.h"


/* GET me/requests?limit=N: the home page asks for a few */
#define NGX_HTTP_PORTAL_REQUESTS_LIMIT  100


static ngx_int_t ngx_http_portal_request_create_handler(
    ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_request_create(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_request_update_handler(
    ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx);
static void ngx_http_portal_request_found(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static ngx_int_t ngx_http_portal_request_update(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_request_submit_handler(
    ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_request_submit(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_request_list_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);
static void ngx_http_portal_request_url(ngx_http_portal_db_query_t *q,
    ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx);
static void ngx_http_portal_request_optional(ngx_http_portal_db_query_t *q,
    ngx_str_t *value);


static ngx_http_portal_fault_t  ngx_http_portal_request_missing = {
    "not_found", NGX_HTTP_PORTAL_M_REQUEST_NOT_FOUND
};


#define NGX_HTTP_PORTAL_BODY(field)                                          \
    (ngx_int_t) offsetof(ngx_http_portal_request_body_t, field)

/* POST requests with a session: the data is the form's (_form.c) */

static const ngx_http_portal_field_t  ngx_http_portal_request_create_in[] = {

    { "procedure", NGX_HTTP_PORTAL_TEXT, NGX_HTTP_PORTAL_REQUIRED, 1, 100,
      NULL, NULL, NGX_HTTP_PORTAL_BODY(procedure),
      NGX_HTTP_PORTAL_M_PROCEDURE, NULL },

    { "member_id", NGX_HTTP_PORTAL_UUID, NGX_HTTP_PORTAL_DEFAULT, 0, 36,
      NULL, NULL, NGX_HTTP_PORTAL_BODY(member_id),
      NGX_HTTP_PORTAL_M_REQUEST_MEMBER, NULL },

    { "contact_mode", NGX_HTTP_PORTAL_ENUM, NGX_HTTP_PORTAL_DEFAULT, 0, 0,
      ngx_http_portal_person_contact_modes, NULL,
      NGX_HTTP_PORTAL_BODY(contact_mode), NGX_HTTP_PORTAL_M_CONTACT_MODE,
      NULL },

    NGX_HTTP_PORTAL_FIELDS_END
};

/* PUT requests/{id}: the procedure is the request's */

static const ngx_http_portal_field_t  ngx_http_portal_request_update_in[] = {

    { "member_id", NGX_HTTP_PORTAL_UUID, NGX_HTTP_PORTAL_DEFAULT, 0, 36,
      NULL, NULL, NGX_HTTP_PORTAL_BODY(member_id),
      NGX_HTTP_PORTAL_M_REQUEST_MEMBER, NULL },

    { "contact_mode", NGX_HTTP_PORTAL_ENUM, NGX_HTTP_PORTAL_DEFAULT, 0, 0,
      ngx_http_portal_person_contact_modes, NULL,
      NGX_HTTP_PORTAL_BODY(contact_mode), NGX_HTTP_PORTAL_M_CONTACT_MODE,
      NULL },

    NGX_HTTP_PORTAL_FIELDS_END
};


static ngx_http_portal_sql_t  ngx_http_portal_request_create_sql = {
    "portal_request_create",
    "SELECT portal.request_create($1, $2, $3, $4, $5, $6, $7, $8)",
    8, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_request_find_sql = {
    "portal_request_find",
    "SELECT r->'procedure'->>'slug', (r->>'editable')::boolean,"
    " r->>'state' = 'brouillon'"
    " FROM portal.request_get($1, $2) r",
    2, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_request_update_sql = {
    "portal_request_update",
    "SELECT portal.request_update($1, $2, $3, $4, $5, $6)",
    6, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_request_submit_sql = {
    "portal_request_submit",
    "SELECT portal.request_submit($1, $2, $3, $4, $5)",
    5, 0
};

static ngx_http_portal_resource_t  ngx_http_portal_request_get = {
    { "portal_request_get", "SELECT portal.request_get($1, $2)", 2, 0 },
    NGX_HTTP_OK, NULL, NULL, 0
};

/* false (no such draft of the account) is the route's 404 */

static ngx_http_portal_resource_t  ngx_http_portal_request_delete = {
    { "portal_request_delete",
      "SELECT CASE WHEN portal.request_delete($1, $2) THEN 'true'::json END",
      2, 0 },
    NGX_HTTP_NO_CONTENT, NULL, ngx_http_portal_request_errors, 0
};

/*
 * The list every page of the citizen asks for first: the session is
 * checked in the same statement (one round trip); me_requests() runs only
 * on session_check()'s row, and none means the session is over.
 */

static ngx_http_portal_resource_t  ngx_http_portal_request_list = {
    { "portal_me_requests",
      "SELECT portal.me_requests($1, $3), s.login"
      " FROM portal.session_check($1, $2) s", 3, 0 },
    NGX_HTTP_OK, NULL, NULL, 0
};

static ngx_http_portal_resource_t  ngx_http_portal_request_messages = {
    { "portal_me_messages", "SELECT portal.me_messages($1)", 1, 0 },
    NGX_HTTP_OK, NULL, NULL, 0
};


ngx_http_portal_route_t  ngx_http_portal_request_routes[] = {

    { NGX_HTTP_POST, "requests", ngx_http_portal_request_create_handler,
      NGX_HTTP_PORTAL_BODY_JSON, NGX_HTTP_PORTAL_ANYONE, NULL, NULL },

    { NGX_HTTP_PORTAL_READ, "requests/{uuid}",
      ngx_http_portal_resource_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_CITIZEN,
      &ngx_http_portal_request_get, &ngx_http_portal_request_missing },

    { NGX_HTTP_PUT, "requests/{uuid}",
      ngx_http_portal_request_update_handler,
      NGX_HTTP_PORTAL_BODY_JSON, NGX_HTTP_PORTAL_CITIZEN, NULL,
      &ngx_http_portal_request_missing },

    { NGX_HTTP_DELETE, "requests/{uuid}", ngx_http_portal_resource_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_CITIZEN,
      &ngx_http_portal_request_delete, &ngx_http_portal_request_missing },

    { NGX_HTTP_POST, "requests/{uuid}/submit",
      ngx_http_portal_request_submit_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_CITIZEN, NULL,
      &ngx_http_portal_request_missing },

    { NGX_HTTP_PORTAL_READ, "me/requests",
      ngx_http_portal_request_list_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_CITIZEN_INLINE, NULL, NULL },

    { NGX_HTTP_PORTAL_READ, "me/messages", ngx_http_portal_resource_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_CITIZEN,
      &ngx_http_portal_request_messages, NULL },

    NGX_HTTP_PORTAL_ROUTES_END
};


/* POST requests: with the session's account, or flow B without one */

static ngx_int_t
ngx_http_portal_request_create_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    if (!ctx->auth) {
        return ngx_http_portal_catalog_hold(r, ctx,
                                       ngx_http_portal_request_anonymous);
    }

    return ngx_http_portal_catalog_hold(r, ctx,
                                        ngx_http_portal_request_create);
}


static ngx_int_t
ngx_http_portal_request_create(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_int_t                        rc;
    ngx_http_portal_check_t          ck;
    ngx_http_portal_db_query_t      *q;
    ngx_http_portal_procedure_t     *p;
    ngx_http_portal_request_body_t  *in;

    in = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_request_body_t));
    if (in == NULL || ngx_http_portal_check_init(&ck, r->pool) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_check(&ck, ctx->json, ngx_http_portal_request_create_in,
                          "", 0, in, NULL);

    /* a new request is a draft: it may wait for its required fields */

    in->draft = 1;

    if (ngx_http_portal_request_body_check(r, ctx, &ck, in, &in->procedure,
                                           &p)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_portal_check_done(r, &ck, NGX_HTTP_PORTAL_M_INVALID, &rc)
        != NGX_OK)
    {
        return rc;
    }

    rc = ngx_http_portal_request_body_key(r, in, ctx->json, NULL);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    in->status = NGX_HTTP_CREATED;
    ctx->input = in;

    q = ngx_http_portal_db_query(r, &ngx_http_portal_request_create_sql,
                                 ngx_http_portal_request_body_done);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_db_param(q, (char *) ctx->session.id,
                             ngx_strlen(ctx->session.id));
    ngx_http_portal_db_param(q, (char *) in->procedure.data,
                             in->procedure.len);
    ngx_http_portal_request_optional(q, &in->member_id);
    ngx_http_portal_db_param(q, (char *) in->data_json.data,
                             in->data_json.len);
    ngx_http_portal_request_optional(q, &in->contact_mode);
    ngx_http_portal_request_body_params(q, in);
    ngx_http_portal_request_url(q, r, ctx);

    return ngx_http_portal_db_suspend(q);
}


/* PUT requests/{id}: the request's procedure first, to check its form */

static ngx_int_t
ngx_http_portal_request_update_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_http_portal_request_body_t  *in;

    in = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_request_body_t));
    if (in == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    in->status = NGX_HTTP_OK;
    ctx->input = in;

    return ngx_http_portal_resource_ids_run(r, ctx,
                                            &ngx_http_portal_request_find_sql,
                                            ngx_http_portal_request_found);
}


static void
ngx_http_portal_request_found(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_request_t              *r;
    ngx_http_portal_ctx_t           *ctx;
    ngx_http_portal_request_body_t  *in;

    r = q->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    in = ctx->input;

    if (ngx_http_portal_resource_row(q, status, res, NULL) != NGX_OK) {
        return;
    }

    /* a state the citizen may not change: before the form is checked */

    if (PQgetvalue(res, 0, 1)[0] != 't') {
        ngx_http_finalize_request(r,
            ngx_http_portal_response_error(r, NGX_HTTP_CONFLICT,
                                           "state_conflict",
                                           NGX_HTTP_PORTAL_M_REQUEST_STATE));
        return;
    }

    in->procedure.len = PQgetlength(res, 0, 0);
    in->procedure.data = ngx_pnalloc(r->pool, in->procedure.len + 1);

    if (in->procedure.data == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    *ngx_cpymem(in->procedure.data, PQgetvalue(res, 0, 0),
                in->procedure.len) = '\0';

    /*
     * En attente or incomplet, the request is in the town's hands: it
     * stays complete.  Should it be submitted meanwhile, SQL (which
     * decides by the state it locks) refuses what it would lack.
     */

    in->draft = (PQgetvalue(res, 0, 2)[0] == 't');

    ngx_http_finalize_request(r,
        ngx_http_portal_catalog_hold(r, ctx, ngx_http_portal_request_update));
}


static ngx_int_t
ngx_http_portal_request_update(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_int_t                        rc;
    ngx_http_portal_check_t          ck;
    ngx_http_portal_db_query_t      *q;
    ngx_http_portal_procedure_t     *p;
    ngx_http_portal_request_body_t  *in;

    in = ctx->input;

    if (ngx_http_portal_check_init(&ck, r->pool) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_check(&ck, ctx->json, ngx_http_portal_request_update_in,
                          "", 0, in, NULL);

    if (ngx_http_portal_request_body_check(r, ctx, &ck, in, &in->procedure,
                                           &p)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_portal_check_done(r, &ck, NGX_HTTP_PORTAL_M_INVALID, &rc)
        != NGX_OK)
    {
        return rc;
    }

    q = ngx_http_portal_db_query(r, &ngx_http_portal_request_update_sql,
                                 ngx_http_portal_request_body_done);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_resource_ids(q, ctx);
    ngx_http_portal_request_optional(q, &in->member_id);
    ngx_http_portal_db_param(q, (char *) in->data_json.data,
                             in->data_json.len);
    ngx_http_portal_request_optional(q, &in->contact_mode);
    ngx_http_portal_request_url(q, r, ctx);

    return ngx_http_portal_db_suspend(q);
}


/*
 * POST requests/{id}/submit, an Idempotency-Key allowed.  The catalog is
 * held for the messages of the fields that a draft still lacks.
 */

static ngx_int_t
ngx_http_portal_request_submit_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    return ngx_http_portal_catalog_hold(r, ctx,
                                        ngx_http_portal_request_submit);
}


static ngx_int_t
ngx_http_portal_request_submit(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    u_char                          *route;
    ngx_int_t                        rc;
    ngx_http_portal_db_query_t      *q;
    ngx_http_portal_request_body_t  *in;

    in = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_request_body_t));
    route = ngx_pnalloc(r->pool, sizeof("POST requests//submit")
                                 + ctx->params[0].len);

    if (in == NULL || route == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *ngx_sprintf(route, "POST requests/%V/submit", &ctx->params[0]) = '\0';

    rc = ngx_http_portal_request_body_key(r, in, NULL, (char *) route);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    in->status = NGX_HTTP_OK;
    in->submit = 1;
    ctx->input = in;

    q = ngx_http_portal_db_query(r, &ngx_http_portal_request_submit_sql,
                                 ngx_http_portal_request_body_done);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_resource_ids(q, ctx);
    ngx_http_portal_request_body_params(q, in);
    ngx_http_portal_request_url(q, r, ctx);

    return ngx_http_portal_db_suspend(q);
}


/* GET me/requests, ?limit=N for the home page's latest ones */

static ngx_int_t
ngx_http_portal_request_list_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_int_t   n;
    ngx_str_t   limit, params[3];

    /* the session's account and epoch, then the limit (NULL: all) */

    if (ngx_http_portal_resource_session(r, ctx, params) != 2) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_null(&params[2]);

    if (ngx_http_arg(r, (u_char *) "limit", sizeof("limit") - 1, &limit)
        == NGX_OK)
    {
        n = ngx_atoi(limit.data, limit.len);

        if (n < 1 || n > NGX_HTTP_PORTAL_REQUESTS_LIMIT) {

            /* a session over is told first, as on every route */

            if (!ctx->auth) {
                return ngx_http_portal_session_require(r, ctx);
            }

            return ngx_http_portal_response_invalid(r,
                       NGX_HTTP_PORTAL_M_INVALID,
                       json_pack("{s:s}", "limit",
                                 NGX_HTTP_PORTAL_M_REQUESTS_LIMIT));
        }

        params[2] = limit;
    }

    return ngx_http_portal_resource_run(r, &ngx_http_portal_request_list,
                                        params, 3);
}


/* the last parameter of every change: where mails point to */

static void
ngx_http_portal_request_url(ngx_http_portal_db_query_t *q,
    ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx)
{
    ngx_http_portal_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    ngx_http_portal_db_param(q, (char *) plcf->public_url.data,
                             plcf->public_url.len);
}


/* a value left out is SQL's NULL */

static void
ngx_http_portal_request_optional(ngx_http_portal_db_query_t *q,
    ngx_str_t *value)
{
    ngx_http_portal_db_param(q, value->len ? (char *) value->data : NULL,
                             value->len);
}
