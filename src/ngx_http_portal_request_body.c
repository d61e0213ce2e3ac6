
/*
 * Portail Citoyen: a request's body, its Idempotency-Key and the answer
 * of the statement that makes or changes it (see the header).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_form.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_outbox.h"
#include "ngx_http_portal_person.h"
#include "ngx_http_portal_request_body.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_text.h"


static ngx_int_t ngx_http_portal_request_body_read_key(
    ngx_http_request_t *r, ngx_http_portal_request_body_t *in, json_t *body,
    const char *route);
static ngx_int_t ngx_http_portal_request_body_required(ngx_http_request_t *r,
    PGresult *res);
static const char *ngx_http_portal_request_body_missing(
    ngx_http_portal_ctx_t *ctx, PGresult *res, const char *path);


const ngx_http_portal_sql_error_t  ngx_http_portal_request_errors[] = {

    { "P0001", "request_procedure", NGX_HTTP_UNPROCESSABLE_ENTITY,
      "invalid", NGX_HTTP_PORTAL_M_INVALID,
      "procedure", NGX_HTTP_PORTAL_M_PROCEDURE_UNKNOWN, 0 },

    { "P0001", "request_member", NGX_HTTP_UNPROCESSABLE_ENTITY,
      "invalid", NGX_HTTP_PORTAL_M_INVALID,
      "member_id", NGX_HTTP_PORTAL_M_REQUEST_MEMBER, 0 },

    { "P0001", "request_member_kind", NGX_HTTP_UNPROCESSABLE_ENTITY,
      "invalid", NGX_HTTP_PORTAL_M_INVALID,
      "member_id", NGX_HTTP_PORTAL_M_REQUEST_MEMBER_KIND, 0 },

    { "P0001", "request_phone_contact", NGX_HTTP_UNPROCESSABLE_ENTITY,
      "invalid", NGX_HTTP_PORTAL_M_INVALID,
      "contact_mode", NGX_HTTP_PORTAL_M_CONTACT_PHONE, 0 },

    { "P0001", "request_requires_account", NGX_HTTP_UNPROCESSABLE_ENTITY,
      "account_required", NGX_HTTP_PORTAL_M_REQUEST_ACCOUNT, NULL, NULL,
      0 },

    { "P0001", "request_state", NGX_HTTP_CONFLICT,
      "state_conflict", NGX_HTTP_PORTAL_M_REQUEST_STATE, NULL, NULL, 0 },

    { "P0001", "idempotency_key", NGX_HTTP_BAD_REQUEST,
      "bad_idempotency_key", NGX_HTTP_PORTAL_M_IDEMPOTENCY_KEY, NULL, NULL,
      0 },

    { "P0001", "idempotency_running", NGX_HTTP_CONFLICT,
      "idempotency_running", NGX_HTTP_PORTAL_M_IDEMPOTENCY_RUNNING, NULL,
      NULL, 1 },

    { "P0001", "idempotency_mismatch", NGX_HTTP_UNPROCESSABLE_ENTITY,
      "idempotency_mismatch", NGX_HTTP_PORTAL_M_IDEMPOTENCY_MISMATCH, NULL,
      NULL, 0 },

    { "23503", "accounts_question_id_fkey", NGX_HTTP_UNPROCESSABLE_ENTITY,
      "invalid", NGX_HTTP_PORTAL_M_INVALID,
      "security_question_id", NGX_HTTP_PORTAL_M_QUESTION, 0 },

    NGX_HTTP_PORTAL_SQL_ERRORS_END
};


ngx_int_t
ngx_http_portal_request_body_check(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_http_portal_check_t *ck,
    ngx_http_portal_request_body_t *in, ngx_str_t *slug,
    ngx_http_portal_procedure_t **proc)
{
    json_t                       *clean;
    ngx_http_portal_procedure_t  *p;

    *proc = NULL;

    if (slug->len == 0) {
        /* no procedure: the table has said so */
        return NGX_OK;
    }

    p = ngx_http_portal_catalog_procedure(ctx, slug);

    if (p == NULL) {
        ngx_http_portal_check_error(ck, "", "procedure",
                                    NGX_HTTP_PORTAL_M_PROCEDURE_UNKNOWN);
        return NGX_OK;
    }

    *proc = p;

    clean = ngx_http_portal_check_clean(ck);
    if (clean == NULL) {
        return NGX_ERROR;
    }

    ngx_http_portal_form_check(ck, &p->form, json_object_get(ctx->json,
                                                             "data"),
                               in->draft, clean);

    /* the member picker's value is the request's member_id */

    if (p->form.member == NULL) {
        if (in->member_id.len) {
            ngx_http_portal_check_error(ck, "", "member_id",
                                        NGX_HTTP_PORTAL_M_REQUEST_NO_MEMBER);
        }

    } else if (p->form.member_required && in->member_id.len == 0
               && ctx->auth && !in->draft)
    {
        ngx_http_portal_check_error(ck, "", "member_id",
                                    NGX_HTTP_PORTAL_M_REQUEST_MEMBER_MISSING);
    }

    if (ngx_http_portal_check_text(r->pool, clean, &in->data_json) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_portal_request_body_read_key(ngx_http_request_t *r,
    ngx_http_portal_request_body_t *in, json_t *body, const char *route)
{
    char             *text;
    size_t            i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    ngx_str_null(&in->key);

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len != sizeof("Idempotency-Key") - 1
            || ngx_strncasecmp(h[i].key.data, (u_char *) "Idempotency-Key",
                               sizeof("Idempotency-Key") - 1)
               != 0)
        {
            continue;
        }

        /* two keys: which one would the client mean? */

        if (in->key.data) {
            return NGX_DECLINED;
        }

        in->key = h[i].value;
    }

    if (in->key.data == NULL) {
        return NGX_OK;
    }

    if (in->key.len == 0
        || in->key.len > NGX_HTTP_PORTAL_IDEMPOTENCY_KEY_MAX)
    {
        return NGX_DECLINED;
    }

    for (i = 0; i < in->key.len; i++) {
        if (in->key.data[i] < 0x21 || in->key.data[i] > 0x7e) {
            return NGX_DECLINED;
        }
    }

    /* the body as checked, its keys in order: the same request, the same */

    if (body == NULL) {
        crypto_hash_sha256(in->fingerprint, (u_char *) route,
                           ngx_strlen(route));
        return NGX_OK;
    }

    text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    if (text == NULL) {
        return NGX_ERROR;
    }

    crypto_hash_sha256(in->fingerprint, (u_char *) text, ngx_strlen(text));
    free(text);

    return NGX_OK;
}


ngx_int_t
ngx_http_portal_request_body_key(ngx_http_request_t *r,
    ngx_http_portal_request_body_t *in, json_t *body, const char *route)
{
    switch (ngx_http_portal_request_body_read_key(r, in, body, route)) {

    case NGX_OK:
        return NGX_DECLINED;

    case NGX_DECLINED:
        return ngx_http_portal_response_error(r, NGX_HTTP_BAD_REQUEST,
                                          "bad_idempotency_key",
                                          NGX_HTTP_PORTAL_M_IDEMPOTENCY_KEY);

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}


void
ngx_http_portal_request_body_params(ngx_http_portal_db_query_t *q,
    ngx_http_portal_request_body_t *in)
{
    if (in->key.len == 0) {
        ngx_http_portal_db_param(q, NULL, 0);
        ngx_http_portal_db_param(q, NULL, 0);
        return;
    }

    ngx_http_portal_db_param(q, (char *) in->key.data, in->key.len);
    ngx_http_portal_db_param_binary(q, in->fingerprint,
                                    sizeof(in->fingerprint));
}


void
ngx_http_portal_request_body_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    char                            *constraint;
    ngx_str_t                        text;
    ngx_http_request_t              *r;
    ngx_http_portal_ctx_t           *ctx;
    ngx_http_portal_request_body_t  *in;

    r = q->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    in = ctx->input;

    if (status == NGX_HTTP_PORTAL_DB_OK
        && PQresultStatus(res) == PGRES_FATAL_ERROR)
    {
        constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);

        if (constraint && ngx_strcmp(constraint, "request_required") == 0) {
            ngx_http_finalize_request(r,
                ngx_http_portal_request_body_required(r, res));
            return;
        }
    }

    if (ngx_http_portal_resource_row(q, status, res,
                                     ngx_http_portal_request_errors)
        != NGX_OK)
    {
        return;
    }

    ngx_http_portal_outbox_kick();

    text.data = (u_char *) PQgetvalue(res, 0, 0);
    text.len = PQgetlength(res, 0, 0);

    ngx_http_finalize_request(r, ngx_http_portal_response_raw(r, in->status,
                                                              &text));
}


/*
 * Required fields without a value: their paths in the body (data.<name>,
 * or member_id for the member field), comma-separated, in the error's
 * detail.  PostgreSQL names them: the body had them filled from the
 * account, which had nothing for them (POST, PUT), or a draft was saved
 * without them (submit, whose body has no data: each gets the message
 * that the form gives when it is left empty).
 */

static ngx_int_t
ngx_http_portal_request_body_required(ngx_http_request_t *r, PGresult *res)
{
    char                   *detail, *name, *end;
    u_char                  path[80];
    json_t                 *fields;
    ngx_http_portal_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    fields = json_object();
    if (fields == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);

    for (name = detail; name && *name; name = end + (*end == ',')) {
        end = name;

        while (*end && *end != ',') {
            end++;
        }

        if (end == name || (size_t) (end - name) >= sizeof(path)) {
            continue;
        }

        *ngx_cpymem(path, name, end - name) = '\0';

        if (json_object_set_new(fields, (char *) path,
                json_string(ngx_http_portal_request_body_missing(ctx, res,
                                                         (char *) path)))
            != 0)
        {
            json_decref(fields);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_portal_response_invalid(r, NGX_HTTP_PORTAL_M_INVALID,
                                            fields);
}


/*
 * At a submission, the form's own message for a field left empty: the
 * procedure is the error's hint (a form of the catalog that ctx holds).
 */

static const char *
ngx_http_portal_request_body_missing(ngx_http_portal_ctx_t *ctx,
    PGresult *res, const char *path)
{
    ngx_str_t                        slug;
    ngx_http_portal_field_t         *f;
    ngx_http_portal_procedure_t     *p;
    ngx_http_portal_request_body_t  *in;

    in = ctx->input;

    if (!in->submit) {
        return NGX_HTTP_PORTAL_M_REQUEST_PREFILL;
    }

    if (ngx_strcmp(path, "member_id") == 0) {
        return NGX_HTTP_PORTAL_M_REQUEST_MEMBER_MISSING;
    }

    slug.data = (u_char *) PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
    p = NULL;

    if (slug.data && ctx->catalog) {
        slug.len = ngx_strlen(slug.data);
        p = ngx_http_portal_catalog_procedure(ctx, &slug);
    }

    if (p == NULL || ngx_strncmp(path, "data.", 5) != 0) {
        /* withdrawn from the catalog since: still a field to fill */
        return NGX_HTTP_PORTAL_M_REQUEST_PREFILL;
    }

    for (f = p->form.fields; f->name; f++) {
        if (ngx_strcmp(f->name, path + 5) == 0) {
            return f->missing;
        }
    }

    return NGX_HTTP_PORTAL_M_REQUEST_PREFILL;
}
