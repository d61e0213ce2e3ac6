
/*
 * Portail Citoyen: GET health, one real round trip to PostgreSQL, for load
 * balancers and monitoring.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_health.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_router.h"


static ngx_int_t ngx_http_portal_health_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);
static void ngx_http_portal_health_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);


ngx_http_portal_route_t  ngx_http_portal_health_routes[] = {

    { NGX_HTTP_PORTAL_READ, "health", ngx_http_portal_health_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_OPEN, NULL, NULL },

    NGX_HTTP_PORTAL_ROUTES_END
};


/* a SQL function: a test may make it slow or block it on a lock */

static ngx_http_portal_sql_t  ngx_http_portal_health_sql = {
    "portal_health", "SELECT portal.health()", 0, 0
};


static ngx_int_t
ngx_http_portal_health_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_http_portal_db_query_t  *q;

    q = ngx_http_portal_db_query(r, &ngx_http_portal_health_sql,
                                 ngx_http_portal_health_done);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_portal_db_suspend(q);
}


static void
ngx_http_portal_health_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_request_t  *r;

    static ngx_str_t  health_ok =
        ngx_string("{\"status\":\"ok\",\"db\":\"ok\"}");

    r = q->request;

    if (ngx_http_portal_db_rows(q, status, res, 1) != NGX_OK) {
        return;
    }

    if (ngx_strcmp(PQgetvalue(res, 0, 0), "ok") != 0) {
        ngx_http_finalize_request(r,
            ngx_http_portal_db_error(r, NGX_HTTP_PORTAL_DB_UNAVAILABLE,
                                     NULL));
        return;
    }

    ngx_http_finalize_request(r, ngx_http_portal_response_raw(r, NGX_HTTP_OK,
                                                              &health_ok));
}
