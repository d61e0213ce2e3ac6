
/*
 * Portail Citoyen: what every way of starting or changing a request
 * shares: its body checked (the procedure, the member, the contact mode,
 * the data against the procedure's form), its Idempotency-Key, and the
 * answer of the SQL function that makes the change.
 */


#ifndef _NGX_HTTP_PORTAL_REQUEST_BODY_H_INCLUDED_
#define _NGX_HTTP_PORTAL_REQUEST_BODY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>
#include <sodium.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_catalog.h"
#include "ngx_http_portal_check.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_resource.h"
#include "ngx_http_portal_signup.h"


/* the most an Idempotency-Key may be: visible ASCII */
#define NGX_HTTP_PORTAL_IDEMPOTENCY_KEY_MAX  255


typedef struct {
    /* the applicant (flow B), the follow-up's account, the captcha */
    ngx_http_portal_signup_t          su;
    ngx_int_t                         follow_up;

    ngx_str_t                         procedure;
    ngx_str_t                         member_id;
    ngx_str_t                         contact_mode;

    /* the checked data and applicant, as SQL parameters */
    ngx_str_t                         data_json;

    /* Idempotency-Key (len 0: none), and the body's SHA-256 */
    ngx_str_t                         key;
    u_char                            fingerprint[crypto_hash_sha256_BYTES];

    /* status of the answer: 201 or 200 */
    ngx_uint_t                        status;
    /*
     * a draft is saved as it is: required fields may wait for the
     * submission, which names those still missing with the form's words
     */
    unsigned                          draft:1;
    unsigned                          submit:1;
} ngx_http_portal_request_body_t;


/* what the request functions of sql/functions/090_requests.sql refuse */
extern const ngx_http_portal_sql_error_t  ngx_http_portal_request_errors[];


/*
 * The procedure, the member and the contact mode of the body (the route
 * decides which fields it takes), and the data against the procedure's
 * form into in->data_json (in->draft: required fields may be missing).
 * Errors go to ck; the procedure found in the catalog held by ctx into
 * *proc (NULL when unknown).  NGX_ERROR when memory runs out.
 */
ngx_int_t ngx_http_portal_request_body_check(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_http_portal_check_t *ck,
    ngx_http_portal_request_body_t *in, ngx_str_t *slug,
    ngx_http_portal_procedure_t **proc);

/*
 * The Idempotency-Key header (in->key, len 0 without one) and the
 * fingerprint of the body as checked (NULL: of the route alone).  As a
 * phase does: NGX_DECLINED to go on, or what the handler returns once the
 * answer is sent (400 "bad_idempotency_key" for a key that is not 1 to
 * 255 visible characters).
 */
ngx_int_t ngx_http_portal_request_body_key(ngx_http_request_t *r,
    ngx_http_portal_request_body_t *in, json_t *body, const char *route);


/*
 * The callback of the statement that makes or changes a request: the
 * request's JSON with in->status, or the answer of what SQL refused
 * (request_required: the fields to fill, by name; at a submission, with
 * the messages of the form of the catalog that ctx holds).
 */
void ngx_http_portal_request_body_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);

/* the key and fingerprint parameters of a statement (NULL: none) */
void ngx_http_portal_request_body_params(ngx_http_portal_db_query_t *q,
    ngx_http_portal_request_body_t *in);


#endif /* _NGX_HTTP_PORTAL_REQUEST_BODY_H_INCLUDED_ */
