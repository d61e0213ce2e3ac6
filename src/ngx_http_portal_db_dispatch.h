
/*
 * Portail Citoyen: statements over the PostgreSQL pool's connections, for
 * the pool's files only: what _db_dispatch.c offers _db_pool.c.
 */


#ifndef _NGX_HTTP_PORTAL_DB_DISPATCH_H_INCLUDED_
#define _NGX_HTTP_PORTAL_DB_DISPATCH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_db_conn.h"


/* the handler of every connection's socket, whatever it is doing */
void ngx_http_portal_db_event(ngx_event_t *ev);

/* q sent on an idle connection (NGX_ERROR: the connection is unusable) */
ngx_int_t ngx_http_portal_db_start(ngx_http_portal_db_conn_t *conn,
    ngx_http_portal_db_query_t *q);

/* waiting statements given to idle connections */
void ngx_http_portal_db_dispatch(ngx_http_portal_db_pool_t *pool);

/* a running statement's request is gone or timed out */
void ngx_http_portal_db_detach(ngx_http_portal_db_query_t *q);


#endif /* _NGX_HTTP_PORTAL_DB_DISPATCH_H_INCLUDED_ */
