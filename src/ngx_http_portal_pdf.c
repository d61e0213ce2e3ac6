
/*
 * Portail Citoyen: a request as a PDF, for the household it belongs to.
 *
 *     GET requests/{id}.pdf    the request's summary, application/pdf
 *
 * One statement, portal.request_pdf(), gives what the PDF prints as JSON:
 * NULL for a request that is not the account's (the route's 404, as an
 * unknown one), request_state in the states where the citizen may still
 * change it (409).  A thread of portal_pdf_thread_pool parses that JSON
 * and draws the PDF (_pdf_render.c, with the town's header of the
 * portal_town_* directives); the worker sends it inline, and the request's
 * pool frees it.  That pool's queue full (its max_queue), the answer is
 * 503 with Retry-After.  An account not yet validated reads its requests
 * too.  The letters' PDFs (_pdf_letter.c) go the same way, through
 * ngx_http_portal_pdf_post(), with their own renderer and file name.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <dlfcn.h>
#include <jansson.h>
#include <pango/pangocairo.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_pdf.h"
#include "ngx_http_portal_pdf_render.h"
#include "ngx_http_portal_resource.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_thread.h"


/* the part of a reference that names the file: "2026-000123" */
#define NGX_HTTP_PORTAL_PDF_REFERENCE_MAX  32


/* what the pool thread reads and writes: nothing of the request's */
typedef struct {
    const ngx_http_portal_pdf_kind_t *kind;
    ngx_http_portal_pdf_town_t        town;

    /* the SQL function's JSON, NUL-ended */
    u_char                           *doc;
    size_t                            doc_len;

    /* the PDF made, malloc()ed */
    u_char                           *pdf;
    size_t                            pdf_len;

    u_char                            reference[
                                        NGX_HTTP_PORTAL_PDF_REFERENCE_MAX];
    size_t                            reference_len;

    ngx_uint_t                        failed;
    char                              error[NGX_HTTP_PORTAL_PDF_ERRLEN];
} ngx_http_portal_pdf_job_t;


static ngx_int_t ngx_http_portal_pdf_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);
static void ngx_http_portal_pdf_found(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static ngx_http_portal_pdf_job_t *ngx_http_portal_pdf_job(
    ngx_http_request_t *r, const ngx_http_portal_pdf_kind_t *kind,
    u_char *doc, size_t len);
static const char *ngx_http_portal_pdf_copy(u_char **p, ngx_str_t *s);
static void ngx_http_portal_pdf_work(void *data);
static void ngx_http_portal_pdf_reference(ngx_http_portal_pdf_job_t *job,
    json_t *doc);
static void ngx_http_portal_pdf_made(ngx_http_request_t *r, void *data);
static ngx_int_t ngx_http_portal_pdf_send(ngx_http_request_t *r,
    ngx_http_portal_pdf_job_t *job, u_char *pdf);


static ngx_str_t  ngx_http_portal_pdf_type = ngx_string("application/pdf");


static ngx_http_portal_fault_t  ngx_http_portal_pdf_missing = {
    "not_found", NGX_HTTP_PORTAL_M_REQUEST_NOT_FOUND
};


ngx_http_portal_route_t  ngx_http_portal_pdf_routes[] = {

    { NGX_HTTP_PORTAL_READ, "requests/{uuid}.pdf",
      ngx_http_portal_pdf_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_CITIZEN, NULL,
      &ngx_http_portal_pdf_missing },

    NGX_HTTP_PORTAL_ROUTES_END
};


static ngx_http_portal_sql_t  ngx_http_portal_pdf_sql = {
    "portal_pdf_request", "SELECT portal.request_pdf($1, $2)", 2, 0
};


/* brouillon, en_attente, incomplet: the request is still the citizen's */

static const ngx_http_portal_sql_error_t  ngx_http_portal_pdf_errors[] = {

    { "P0001", "request_state", NGX_HTTP_CONFLICT, "state_conflict",
      NGX_HTTP_PORTAL_M_REQUEST_NO_PDF, NULL, NULL, 0 },

    NGX_HTTP_PORTAL_SQL_ERRORS_END
};


static const ngx_http_portal_pdf_kind_t  ngx_http_portal_pdf_request = {
    "request", "a request's PDF", "demande", NULL,
    ngx_http_portal_pdf_render
};


void
ngx_http_portal_pdf_init_process(ngx_cycle_t *cycle)
{
    char        err[NGX_HTTP_PORTAL_PDF_ERRLEN];
    Dl_info     info;
    const char *why;

    /*
     * Pango, cairo and fontconfig stay loaded for the life of the process:
     * glib keeps the types that pango registers, and a font map per pool
     * thread stays to the end (_pdf_render.c).  nginx unloads its modules
     * as it destroys the cycle's pool, at a process's exit; pango went
     * with this module then, and its caches read as leaks.  The module
     * itself is unloaded as before: the libraries of libpq (gnutls) must
     * go with the pool, since their clean-up reads the environment, whose
     * strings of "env" directives are in that pool.
     */

    if (dladdr((void *) pango_cairo_font_map_new, &info) == 0
        || info.dli_fname == NULL
        || dlopen(info.dli_fname, RTLD_NOW|RTLD_NOLOAD|RTLD_NODELETE) == NULL)
    {
        why = dlerror();
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "portal: pango could not be kept loaded: %s",
                      why ? why : "not found by dladdr()");
    }

    if (ngx_http_portal_pdf_init(err, sizeof(err)) != 0) {
        ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                      "portal: requests cannot be made into PDFs: %s", err);
    }
}


void
ngx_http_portal_pdf_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_portal_pdf_exit();
}


static ngx_int_t
ngx_http_portal_pdf_handler(ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx)
{
    return ngx_http_portal_resource_ids_run(r, ctx, &ngx_http_portal_pdf_sql,
                                            ngx_http_portal_pdf_found);
}


static void
ngx_http_portal_pdf_found(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    /* another household's request, or none: a 404 */

    if (ngx_http_portal_resource_row(q, status, res,
                                     ngx_http_portal_pdf_errors)
        != NGX_OK)
    {
        return;
    }

    ngx_http_portal_pdf_post(q->request, &ngx_http_portal_pdf_request,
                             (u_char *) PQgetvalue(res, 0, 0),
                             PQgetlength(res, 0, 0));
}


void
ngx_http_portal_pdf_post(ngx_http_request_t *r,
    const ngx_http_portal_pdf_kind_t *kind, u_char *doc, size_t len)
{
    ngx_http_portal_ctx_t        *ctx;
    ngx_http_portal_pdf_job_t    *job;
    ngx_http_portal_main_conf_t  *pmcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    pmcf = ngx_http_get_module_main_conf(r, ngx_http_portal_module);

    /* the result is cleared when the caller returns: the thread gets a copy */

    job = ngx_http_portal_pdf_job(r, kind, doc, len);
    if (job == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "portal: the PDF of %s %V goes to the thread pool",
                   kind->noun, &ctx->params[0]);

    /* the queue full, the client is told to try again in a moment */

    (void) ngx_http_portal_thread_post_busy(&pmcf->pdf_threads, r, job,
                                            ngx_http_portal_pdf_work,
                                            ngx_http_portal_pdf_made,
                                            kind->what, "2");
}


/* one block: the job, the JSON, the town's lines, each NUL-ended */

static ngx_http_portal_pdf_job_t *
ngx_http_portal_pdf_job(ngx_http_request_t *r,
    const ngx_http_portal_pdf_kind_t *kind, u_char *doc, size_t len)
{
    u_char                      *p;
    size_t                       size;
    ngx_str_t                   *address;
    ngx_uint_t                   i, n;
    ngx_http_portal_pdf_job_t   *job;
    ngx_http_portal_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    if (plcf->town_address) {
        address = plcf->town_address->elts;
        n = ngx_min(plcf->town_address->nelts,
                    NGX_HTTP_PORTAL_PDF_ADDRESS_MAX);

    } else {
        address = NULL;
        n = 0;
    }

    size = sizeof(ngx_http_portal_pdf_job_t) + len + 1
           + plcf->town_name.len + 1 + plcf->town_service.len + 1
           + plcf->public_url.len + 1;

    for (i = 0; i < n; i++) {
        size += address[i].len + 1;
    }

    job = ngx_http_portal_thread_alloc(r->connection->log, size);
    if (job == NULL) {
        return NULL;
    }

    p = (u_char *) (job + 1);

    job->kind = kind;
    job->doc = p;
    job->doc_len = len;
    p = ngx_cpymem(p, doc, len);
    *p++ = '\0';

    /* what is not configured is not printed */

    job->town.name = plcf->town_name.len
                     ? ngx_http_portal_pdf_copy(&p, &plcf->town_name) : NULL;
    job->town.service = plcf->town_service.len
                        ? ngx_http_portal_pdf_copy(&p, &plcf->town_service)
                        : NULL;

    for (i = 0; i < n; i++) {
        job->town.address[i] = ngx_http_portal_pdf_copy(&p, &address[i]);
    }

    job->town.url = plcf->public_url.len
                    ? ngx_http_portal_pdf_copy(&p, &plcf->public_url) : NULL;

    return job;
}


static const char *
ngx_http_portal_pdf_copy(u_char **p, ngx_str_t *s)
{
    u_char  *start;

    start = *p;
    *p = ngx_cpymem(*p, s->data, s->len);
    *(*p)++ = '\0';

    return (const char *) start;
}


/* in a pool thread */

static void
ngx_http_portal_pdf_work(void *data)
{
    ngx_http_portal_pdf_job_t *job = data;

    json_t        *doc;
    json_error_t   jerr;

    /* PostgreSQL's json may carry \u0000: the renderer drops it */

    doc = json_loadb((char *) job->doc, job->doc_len, JSON_ALLOW_NUL, &jerr);

    if (doc == NULL) {
        /* the position only: the text may quote the citizen's data */

        job->failed = 1;
        (void) ngx_snprintf((u_char *) job->error, sizeof(job->error) - 1,
                            "the %s is not JSON (line %d, column %d)%Z",
                            job->kind->noun, jerr.line, jerr.column);
        return;
    }

    ngx_http_portal_pdf_reference(job, doc);

    if (job->kind->render(doc, &job->town, &job->pdf, &job->pdf_len,
                          job->error, sizeof(job->error))
        != 0)
    {
        job->failed = 1;
    }

    json_decref(doc);
}


/* the file's name: the reference's letters, digits and dashes */

static void
ngx_http_portal_pdf_reference(ngx_http_portal_pdf_job_t *job, json_t *doc)
{
    u_char      *s, c;
    size_t       i, len;
    json_t      *v;

    if (job->kind->holder) {
        doc = json_object_get(doc, job->kind->holder);
    }

    v = json_object_get(doc, "reference");

    if (!json_is_string(v)) {
        return;
    }

    s = (u_char *) json_string_value(v);
    len = json_string_length(v);

    for (i = 0; i < len; i++) {
        c = s[i];

        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')
              || (c >= 'a' && c <= 'z') || c == '-' || c == '_'))
        {
            continue;
        }

        if (job->reference_len == NGX_HTTP_PORTAL_PDF_REFERENCE_MAX) {
            break;
        }

        job->reference[job->reference_len++] = c;
    }
}


/* back on the event loop */

static void
ngx_http_portal_pdf_made(ngx_http_request_t *r, void *data)
{
    ngx_http_portal_pdf_job_t *job = data;

    u_char  *pdf;

    /* the client went away meanwhile */

    if (r == NULL) {
        free(job->pdf);
        job->pdf = NULL;

        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "portal: %s was made for a client that has gone",
                      job->kind->what);
        return;
    }

    if (job->failed) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "portal: no PDF of the %s: %s", job->kind->noun,
                      job->error);
        free(job->pdf);
        job->pdf = NULL;

        ngx_http_finalize_request(r, ngx_http_portal_response_internal(r));
        return;
    }

    /* the answer's from now on */

    pdf = job->pdf;
    job->pdf = NULL;

    ngx_http_finalize_request(r, ngx_http_portal_pdf_send(r, job, pdf));
}


/* shown in the browser, saved as "demande-2026-000123.pdf" */

static ngx_int_t
ngx_http_portal_pdf_send(ngx_http_request_t *r, ngx_http_portal_pdf_job_t *job,
    u_char *pdf)
{
    u_char  *p, *value;
    size_t   len;

    len = sizeof("inline; filename=\"-.pdf\"") - 1
          + ngx_strlen(job->kind->file) + job->reference_len;

    value = ngx_pnalloc(r->pool, len);

    if (value == NULL) {
        free(pdf);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (job->reference_len) {
        p = ngx_sprintf(value, "inline; filename=\"%s-%*s.pdf\"",
                        job->kind->file, job->reference_len,
                        job->reference);

    } else {
        p = ngx_sprintf(value, "inline; filename=\"%s.pdf\"",
                        job->kind->file);
    }

    if (ngx_http_portal_response_header(r, "Content-Disposition", value,
                                        p - value)
        != NGX_OK)
    {
        free(pdf);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* freed with the request's pool, or at once on a failure */

    return ngx_http_portal_response_memory(r, NGX_HTTP_OK,
                                           &ngx_http_portal_pdf_type,
                                           pdf, job->pdf_len, free);
}
