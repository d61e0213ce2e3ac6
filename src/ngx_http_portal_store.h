
/*
 * Portail Citoyen: supporting documents kept in PostgreSQL in chunks.
 * An upload is written as begin, chunks 0, 1, 2..., finish (abort on any
 * failure), one statement a round trip (_upload.c, here); a download is
 * read back a few chunks a round trip (_download.c).  The account's
 * documents and a request's are two sets of the same statements
 * (sql/functions/050_documents.sql, 090_requests.sql).
 */


#ifndef _NGX_HTTP_PORTAL_STORE_H_INCLUDED_
#define _NGX_HTTP_PORTAL_STORE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_resource.h"


/* what an upload sends a round trip (the last chunk may be shorter) */
#define NGX_HTTP_PORTAL_STORE_CHUNK  (256 * 1024)


/*
 * A route's data: the statements of one kind of document.  "ids" are the
 * account's, then the route's path ids in order.
 */
typedef struct {
    /* (ids..., kind or NULL, filename) -> uuid; NULL: the route's 404 */
    ngx_http_portal_sql_t               begin;
    /* (account, document, n, data) -> bytes so far | NULL */
    ngx_http_portal_sql_t               chunk;
    /* (account, document, type, sha256, size [, portal_public_url],
       kind) -> the document's JSON (201) | NULL */
    ngx_http_portal_sql_t               finish;
    /* (account, document) -> boolean */
    ngx_http_portal_sql_t               abort;
    /* (ids..., first, count) -> n, data, content_type, filename, size,
       chunks of a complete document; no rows: the route's 404 */
    ngx_http_portal_sql_t               content;
    /* the refusals of begin, chunk and finish */
    const ngx_http_portal_sql_error_t  *errors;
    /* finish takes portal_public_url and queues mail */
    ngx_uint_t                          mail;
} ngx_http_portal_store_t;


typedef struct ngx_http_portal_store_write_s  ngx_http_portal_store_write_t;

/* a statement of the write answered as it should: the upload goes on */
typedef void (*ngx_http_portal_store_pt)(ngx_http_request_t *r, void *data);


/*
 * The write of one document for the route's store.  A document begun and
 * neither finished nor aborted when the request ends is aborted then.
 */
ngx_http_portal_store_write_t *ngx_http_portal_store_write(
    ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx,
    ngx_http_portal_store_pt next, void *data);

/*
 * Each runs one statement: NGX_OK, and next() is called once it answered
 * as it should; when it does not, the document is aborted, the request
 * answered (the store's errors, the route's 404, 503) and finalized.  An
 * HTTP status when nothing could start (the caller answers).  data must
 * stay as it is until next() (it is not copied).
 */
/* kind: empty while it has not come (it may follow the file) */
ngx_int_t ngx_http_portal_store_begin(ngx_http_portal_store_write_t *w,
    ngx_str_t *kind, ngx_str_t *filename);
ngx_int_t ngx_http_portal_store_chunk(ngx_http_portal_store_write_t *w,
    u_char *data, size_t len);

/* the last one: the request is answered with the document (201) */
ngx_int_t ngx_http_portal_store_finish(ngx_http_portal_store_write_t *w,
    ngx_str_t *kind, const char *type, u_char *sha256, off_t size);

/*
 * A document begun is taken back, on the side: the request may answer at
 * once, or end, without waiting for it.
 */
void ngx_http_portal_store_abort(ngx_http_portal_store_write_t *w);


/* a number as a parameter */
void ngx_http_portal_store_num(ngx_http_portal_db_query_t *q, off_t n);


#endif /* _NGX_HTTP_PORTAL_STORE_H_INCLUDED_ */
