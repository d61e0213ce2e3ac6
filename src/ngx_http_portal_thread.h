
/*
 * Portail Citoyen: running blocking or CPU-heavy work on the thread pool.
 */


#ifndef _NGX_HTTP_PORTAL_THREAD_H_INCLUDED_
#define _NGX_HTTP_PORTAL_THREAD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"


/* runs in a pool thread: it may only touch its own data block */
typedef void (*ngx_http_portal_thread_work_pt)(void *data);

/* runs back on the event loop; r is NULL when the request went away */
typedef void (*ngx_http_portal_thread_done_pt)(ngx_http_request_t *r,
    void *data);


/*
 * The data block is allocated off the heap, not from the request's pool:
 * a client may go away while a thread still works on it.  The caller
 * copies into it everything the thread reads.
 */
void *ngx_http_portal_thread_alloc(ngx_log_t *log, size_t size);
void ngx_http_portal_thread_free(void *data);
ngx_int_t ngx_http_portal_thread_post(ngx_http_request_t *r, void *data,
    ngx_http_portal_thread_work_pt work, ngx_http_portal_thread_done_pt done);

/* the same on another pool than portal_thread_pool's */
ngx_int_t ngx_http_portal_thread_post_to(ngx_thread_pool_t *tp,
    ngx_http_request_t *r, void *data, ngx_http_portal_thread_work_pt work,
    ngx_http_portal_thread_done_pt done);

/*
 * From a database callback: posts the work on a pool of its own (that of
 * portal_captcha_thread_pool, portal_pdf_thread_pool), so that a flood of
 * it never holds up a login's hashing.  Its queue full, the block is freed
 * and the answer is a 503 "busy", with Retry-After retry (NULL: none), the
 * request finished; what names the work in the log.  NGX_OK: the request
 * waits for done(), with the count it holds.
 */
ngx_int_t ngx_http_portal_thread_post_busy(ngx_http_portal_threads_t *threads,
    ngx_http_request_t *r, void *data, ngx_http_portal_thread_work_pt work,
    ngx_http_portal_thread_done_pt done, const char *what, const char *retry);

/*
 * From a handler (or a step that returns as one): posts the work and
 * suspends the request, NGX_DONE; on failure the block is freed and the
 * answer is a 500.  From a database callback, where the request is
 * suspended already, ngx_http_portal_thread_post() is enough.
 */
ngx_int_t ngx_http_portal_thread_suspend(ngx_http_request_t *r, void *data,
    ngx_http_portal_thread_work_pt work, ngx_http_portal_thread_done_pt done);


#endif /* _NGX_HTTP_PORTAL_THREAD_H_INCLUDED_ */
