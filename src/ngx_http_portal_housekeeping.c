
/*
 * Portail Citoyen: housekeeping.  Every worker of every host runs the
 * timer, each portal_housekeeping_interval; portal.housekeeping() lets
 * only the first of them in an interval do the work, in PostgreSQL, so
 * that it runs with or without mail delivery configured.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_housekeeping.h"


typedef struct {
    ngx_event_t                   tick;
    ngx_http_portal_db_query_t    query;
    ngx_http_portal_main_conf_t  *conf;
    u_char                        interval[NGX_INT_T_LEN];
    size_t                        interval_len;
} ngx_http_portal_housekeeping_t;


static void ngx_http_portal_housekeeping_tick(ngx_event_t *ev);
static void ngx_http_portal_housekeeping_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);


/* once per interval across workers and hosts: the interval in ms */

static ngx_http_portal_sql_t  ngx_http_portal_housekeeping_sql = {
    "portal_housekeeping",
    "SELECT portal.housekeeping($1::bigint * interval '1 millisecond')",
    1, 0
};


ngx_int_t
ngx_http_portal_housekeeping_init(ngx_cycle_t *cycle,
    ngx_http_portal_main_conf_t *pmcf)
{
    ngx_http_portal_housekeeping_t  *hk;

    hk = ngx_pcalloc(cycle->pool, sizeof(ngx_http_portal_housekeeping_t));
    if (hk == NULL) {
        return NGX_ERROR;
    }

    hk->conf = pmcf;
    hk->interval_len = ngx_sprintf(hk->interval, "%M",
                                   pmcf->housekeeping_interval)
                       - hk->interval;
    hk->tick.handler = ngx_http_portal_housekeeping_tick;
    hk->tick.data = hk;
    hk->tick.log = cycle->log;

    /* a worker that stops does not wait for it */
    hk->tick.cancelable = 1;

    ngx_add_timer(&hk->tick, pmcf->housekeeping_interval);

    return NGX_OK;
}


static void
ngx_http_portal_housekeeping_tick(ngx_event_t *ev)
{
    ngx_http_portal_housekeeping_t *hk = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    ngx_memzero(&hk->query, sizeof(ngx_http_portal_db_query_t));

    hk->query.sql = &ngx_http_portal_housekeeping_sql;
    hk->query.handler = ngx_http_portal_housekeeping_done;
    hk->query.data = hk;

    ngx_http_portal_db_param(&hk->query, (char *) hk->interval,
                             hk->interval_len);

    if (ngx_http_portal_db_run(&hk->query) != NGX_OK) {
        ngx_add_timer(&hk->tick, hk->conf->housekeeping_interval);
    }
}


static void
ngx_http_portal_housekeeping_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_portal_housekeeping_t *hk = q->data;

    if (status == NGX_HTTP_PORTAL_DB_OK
        && PQresultStatus(res) != PGRES_TUPLES_OK)
    {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "portal: housekeeping failed: %s",
                      PQresultErrorMessage(res));
    }

    if (!(ngx_exiting || ngx_quit || ngx_terminate)) {
        ngx_add_timer(&hk->tick, hk->conf->housekeeping_interval);
    }
}
