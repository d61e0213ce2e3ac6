
/*
 * Portail Citoyen: running blocking or CPU-heavy work on the thread pool
 * configured by portal_thread_pool (Argon2id, captcha drawing, PDF, the
 * blocking PQcancel), then resuming on the worker's event loop.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_thread.h"

#if (NGX_LINUX)
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#endif


typedef struct {
    ngx_thread_task_t                task;
    ngx_http_request_t              *r;
    ngx_pool_cleanup_t              *cleanup;
    ngx_http_portal_thread_work_pt   work;
    ngx_http_portal_thread_done_pt   done;
    ngx_event_t                      guard;
    ngx_log_t                       *log;
    size_t                           size;
    ngx_uint_t                       data[1];
} ngx_http_portal_thread_ctx_t;


static void ngx_http_portal_thread_handler(void *data, ngx_log_t *log);
static void ngx_http_portal_thread_event(ngx_event_t *ev);
static void ngx_http_portal_thread_detach(void *data);
static void ngx_http_portal_thread_guard(ngx_event_t *ev);
#if (NGX_LINUX)
static void ngx_http_portal_thread_place(ngx_log_t *log);
#endif


#define ngx_http_portal_thread_ctx(data)                                     \
    ((ngx_http_portal_thread_ctx_t *)                                        \
        ((u_char *) (data) - offsetof(ngx_http_portal_thread_ctx_t, data)))


void *
ngx_http_portal_thread_alloc(ngx_log_t *log, size_t size)
{
    ngx_http_portal_thread_ctx_t  *ctx;

    ctx = ngx_calloc(sizeof(ngx_http_portal_thread_ctx_t) + size, log);
    if (ctx == NULL) {
        return NULL;
    }

    ctx->log = log;
    ctx->size = size;

    return ctx->data;
}


void
ngx_http_portal_thread_free(void *data)
{
    ngx_http_portal_thread_ctx_t  *ctx;

    ctx = ngx_http_portal_thread_ctx(data);

    /* the block may have held passwords */
    ngx_explicit_memzero(ctx->data, ctx->size);
    ngx_free(ctx);
}


ngx_int_t
ngx_http_portal_thread_post(ngx_http_request_t *r, void *data,
    ngx_http_portal_thread_work_pt work, ngx_http_portal_thread_done_pt done)
{
    ngx_http_portal_main_conf_t  *pmcf;

    pmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_portal_module);
    if (pmcf == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_portal_thread_post_to(pmcf->threads.pool, r, data, work,
                                          done);
}


ngx_int_t
ngx_http_portal_thread_post_to(ngx_thread_pool_t *tp, ngx_http_request_t *r,
    void *data, ngx_http_portal_thread_work_pt work,
    ngx_http_portal_thread_done_pt done)
{
    ngx_http_portal_thread_ctx_t  *ctx;

    if (tp == NULL) {
        return NGX_ERROR;
    }

    ctx = ngx_http_portal_thread_ctx(data);

    ctx->r = r;
    ctx->work = work;
    ctx->done = done;

    if (r) {
        ctx->cleanup = ngx_pool_cleanup_add(r->pool, 0);
        if (ctx->cleanup == NULL) {
            return NGX_ERROR;
        }

        ctx->cleanup->handler = ngx_http_portal_thread_detach;
        ctx->cleanup->data = ctx;
        ctx->log = r->connection->log;
    }

    ctx->task.ctx = ctx;
    ctx->task.handler = ngx_http_portal_thread_handler;
    ctx->task.event.data = ctx;
    ctx->task.event.handler = ngx_http_portal_thread_event;
    ctx->task.event.log = ngx_cycle->log;

    if (ngx_thread_task_post(tp, &ctx->task) != NGX_OK) {
        if (ctx->cleanup) {
            ctx->cleanup->handler = NULL;
            ctx->cleanup = NULL;
        }

        return NGX_ERROR;
    }

    /* a graceful shutdown waits for timers only: hold one while working */

    ctx->guard.handler = ngx_http_portal_thread_guard;
    ctx->guard.data = ctx;
    ctx->guard.log = ngx_cycle->log;
    ngx_add_timer(&ctx->guard, 86400000);

    return NGX_OK;
}


static void
ngx_http_portal_thread_guard(ngx_event_t *ev)
{
    ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                  "portal: a thread task runs for a day");
}


ngx_int_t
ngx_http_portal_thread_post_busy(ngx_http_portal_threads_t *threads,
    ngx_http_request_t *r, void *data, ngx_http_portal_thread_work_pt work,
    ngx_http_portal_thread_done_pt done, const char *what, const char *retry)
{
    ngx_int_t  rc;

    if (ngx_http_portal_thread_post_to(threads->pool, r, data, work, done)
        == NGX_OK)
    {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "portal: %s could not go to the thread pool \"%V\"",
                  what, &threads->name);

    ngx_http_portal_thread_free(data);

    if (retry
        && ngx_http_portal_response_header(r, "Retry-After", (u_char *) retry,
                                           ngx_strlen(retry))
           != NGX_OK)
    {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

    } else {
        rc = ngx_http_portal_response_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                            "busy", NGX_HTTP_PORTAL_M_BUSY);
    }

    ngx_http_finalize_request(r, rc);

    return NGX_ERROR;
}


ngx_int_t
ngx_http_portal_thread_suspend(ngx_http_request_t *r, void *data,
    ngx_http_portal_thread_work_pt work, ngx_http_portal_thread_done_pt done)
{
    if (ngx_http_portal_thread_post(r, data, work, done) != NGX_OK) {
        ngx_http_portal_thread_free(data);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_portal_thread_handler(void *data, ngx_log_t *log)
{
    ngx_http_portal_thread_ctx_t *ctx = data;

#if (NGX_LINUX)
    static __thread ngx_uint_t  placed;

    if (!placed) {
        placed = 1;
        ngx_http_portal_thread_place(log);
    }
#endif

    ctx->work(ctx->data);
}


static void
ngx_http_portal_thread_event(ngx_event_t *ev)
{
    ngx_http_portal_thread_ctx_t *ctx = ev->data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->r;
    c = r ? r->connection : NULL;

    if (ctx->cleanup) {
        ctx->cleanup->handler = NULL;
        ctx->cleanup = NULL;
    }

    if (ctx->guard.timer_set) {
        ngx_del_timer(&ctx->guard);
    }

    if (ctx->done) {
        ctx->done(r, ctx->data);
    }

    ngx_http_portal_thread_free(ctx->data);

    /* c outlives r: connections are slots of the cycle's array */

    if (c) {
        ngx_http_run_posted_requests(c);
    }
}


static void
ngx_http_portal_thread_detach(void *data)
{
    ngx_http_portal_thread_ctx_t *ctx = data;

    ctx->r = NULL;
    ctx->cleanup = NULL;
}


#if (NGX_LINUX)

/*
 * Hashing must not delay the workers' event loops.  A priority is not
 * enough: a woken event loop waits for a busy CPU's next tick (seen on
 * virtual machines), so a pool thread keeps to the upper half of the CPUs,
 * at the lowest priority, and an event loop always finds a CPU free.
 * Measured by the login storm of ci/bench.
 */

static void
ngx_http_portal_thread_place(ngx_log_t *log)
{
    long       n, i;
    cpu_set_t  set;

    n = sysconf(_SC_NPROCESSORS_ONLN);

    if (n > 1 && n <= CPU_SETSIZE) {
        CPU_ZERO(&set);

        for (i = n / 2; i < n; i++) {
            CPU_SET(i, &set);
        }

        if (sched_setaffinity(0, sizeof(cpu_set_t), &set) != 0) {
            ngx_log_error(NGX_LOG_NOTICE, log, ngx_errno,
                          "portal: a pool thread could not keep to the"
                          " upper half of the CPUs");
        }
    }

    /* on Linux a thread has its own nice value */

    if (setpriority(PRIO_PROCESS, (id_t) syscall(SYS_gettid), 19) != 0) {
        ngx_log_error(NGX_LOG_NOTICE, log, ngx_errno,
                      "portal: a pool thread keeps its priority");
    }
}

#endif
