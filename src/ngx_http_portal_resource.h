
/*
 * Portail Citoyen: one way to serve a resource.  A SQL function of
 * sql/functions/ returns the resource as JSON (one column, one row; NULL
 * when there is no such thing: the route's 404); the module sends it as it
 * comes.  What the function refuses (a SQLSTATE, and the name of the
 * constraint it raised) the route maps to an answer, as data.
 */


#ifndef _NGX_HTTP_PORTAL_RESOURCE_H_INCLUDED_
#define _NGX_HTTP_PORTAL_RESOURCE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_db.h"


typedef struct {
    /* the SQLSTATE, and the constraint's name (NULL: any) */
    const char                         *sqlstate;
    const char                         *constraint;
    /* the answer */
    ngx_uint_t                          status;
    const char                         *code;
    const char                         *message;
    /* a 422's field and what it says (NULL: no fields) */
    const char                         *field;
    const char                         *field_message;
    /* a limit: Retry-After in seconds (0: none) */
    ngx_uint_t                          retry;
} ngx_http_portal_sql_error_t;

#define NGX_HTTP_PORTAL_SQL_ERRORS_END                                       \
    { NULL, NULL, 0, NULL, NULL, NULL, NULL, 0 }


typedef struct {
    ngx_http_portal_sql_t               sql;
    /* of a success: 200, 201 */
    ngx_uint_t                          status;
    /* a download: the Content-Disposition's file name, or NULL */
    const char                         *attachment;
    const ngx_http_portal_sql_error_t  *errors;
    /* the statement queues mail: the outbox is looked at after it */
    ngx_uint_t                          mail;
} ngx_http_portal_resource_t;


/*
 * Runs the resource's statement with params (n of them; a NULL data is SQL
 * NULL) and answers with its JSON.  From a handler: NGX_DONE, or an answer
 * at once.
 */
ngx_int_t ngx_http_portal_resource_run(ngx_http_request_t *r,
    ngx_http_portal_resource_t *res, ngx_str_t *params, ngx_uint_t n);

/*
 * The statement of a resource, to give it parameters of other kinds
 * (binary ones) before ngx_http_portal_db_suspend().
 */
ngx_http_portal_db_query_t *ngx_http_portal_resource_query(
    ngx_http_request_t *r, ngx_http_portal_resource_t *res);

/* the same from a callback: the request is finished either way */
void ngx_http_portal_resource_next(ngx_http_request_t *r,
    ngx_http_portal_resource_t *res, ngx_str_t *params, ngx_uint_t n);

/*
 * The handler of a route whose data is a resource: its parameters are the
 * session's account (when the route needs one) and its epoch (when the
 * statement checks the session itself: NGX_HTTP_PORTAL_CITIZEN_INLINE),
 * then the path's ids, then for an agent's route the client's address
 * (for the audit log).
 */
ngx_int_t ngx_http_portal_resource_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);

/*
 * The first parameters of a route's statement, into params: none for an
 * open route, the session's account, and its epoch for a route whose
 * statement checks the session.  Their number, or NGX_ERROR.
 */
ngx_int_t ngx_http_portal_resource_session(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_str_t *params);

/*
 * Parameters of a route's statement: the session's account, then the path's
 * ids, then for an agent's route the client's address.  (Not for a route
 * whose statement checks the session: ngx_http_portal_resource_session().)
 */
void ngx_http_portal_resource_ids(ngx_http_portal_db_query_t *q,
    ngx_http_portal_ctx_t *ctx);

/*
 * From a handler: the statement sql with those parameters alone, its
 * result to handler.  NGX_DONE, or an answer at once.
 */
ngx_int_t ngx_http_portal_resource_ids_run(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_http_portal_sql_t *sql,
    ngx_http_portal_db_handler_pt handler);

/*
 * From a database callback: the one value of a statement, an error of it
 * that errors maps (NULL: none) answered, NULL the route's 404; for a
 * route whose statement checks the session, no row is a session over
 * (401) and the row's last column the login.  NGX_OK: the value is
 * there; otherwise the request is finished.
 */
ngx_int_t ngx_http_portal_resource_row(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res,
    const ngx_http_portal_sql_error_t *errors);

/* a SQL error the resource maps: answered here, NGX_OK */
ngx_int_t ngx_http_portal_resource_error(ngx_http_request_t *r,
    const ngx_http_portal_sql_error_t *errors, PGresult *res);


#endif /* _NGX_HTTP_PORTAL_RESOURCE_H_INCLUDED_ */
