
/*
 * Portail Citoyen: a letter as a PDF to print, in the agents' API.
 *
 *     GET letters/{id}.pdf    the letter, application/pdf
 *
 * One statement, portal.agent_letter(), gives what the page prints as
 * JSON: NULL for a letter the agent may not see, or one whose time has
 * not come (the route's 404, as an unknown one).  A thread of
 * portal_pdf_thread_pool, as for a request's PDF (_pdf.c), parses it and
 * draws the letter (_pdf_letter_render.c) under the town's header of the
 * portal_town_* directives; that pool's queue full, the answer is 503
 * with Retry-After.  Reading a letter does not mark it printed: POST
 * letters/{id}/printed does (_agent_message.c), once the agent has it on
 * paper.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_agent.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_pdf_letter.h"
#include "ngx_http_portal_pdf_letter_render.h"
#include "ngx_http_portal_resource.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_thread.h"


/* the part of a request's reference that names the file */
#define NGX_HTTP_PORTAL_LETTER_PDF_REFERENCE_MAX  32


/* what the pool thread reads and writes: nothing of the request's */
typedef struct {
    ngx_http_portal_pdf_town_t        town;

    /* portal.agent_letter()'s JSON, NUL-ended */
    u_char                           *doc;
    size_t                            doc_len;

    /* the PDF made, malloc()ed */
    u_char                           *pdf;
    size_t                            pdf_len;

    u_char                            reference[
                                    NGX_HTTP_PORTAL_LETTER_PDF_REFERENCE_MAX];
    size_t                            reference_len;

    ngx_uint_t                        failed;
    char                              error[NGX_HTTP_PORTAL_PDF_ERRLEN];
} ngx_http_portal_letter_pdf_job_t;


static ngx_int_t ngx_http_portal_letter_pdf_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);
static void ngx_http_portal_letter_pdf_found(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static ngx_http_portal_letter_pdf_job_t *ngx_http_portal_letter_pdf_job(
    ngx_http_request_t *r, u_char *doc, size_t len);
static const char *ngx_http_portal_letter_pdf_copy(u_char **p,
    ngx_str_t *s);
static void ngx_http_portal_letter_pdf_work(void *data);
static void ngx_http_portal_letter_pdf_reference(
    ngx_http_portal_letter_pdf_job_t *job, json_t *doc);
static void ngx_http_portal_letter_pdf_made(ngx_http_request_t *r,
    void *data);
static ngx_int_t ngx_http_portal_letter_pdf_send(ngx_http_request_t *r,
    ngx_http_portal_letter_pdf_job_t *job, u_char *pdf);


static ngx_str_t  ngx_http_portal_letter_pdf_type =
    ngx_string("application/pdf");


static ngx_http_portal_fault_t  ngx_http_portal_letter_pdf_missing = {
    "not_found", NGX_HTTP_PORTAL_M_LETTER_NOT_FOUND
};


ngx_http_portal_route_t  ngx_http_portal_letter_pdf_routes[] = {

    { NGX_HTTP_PORTAL_READ, "letters/{uuid}.pdf",
      ngx_http_portal_letter_pdf_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_AGENT, NULL,
      &ngx_http_portal_letter_pdf_missing },

    NGX_HTTP_PORTAL_ROUTES_END
};


/* (agent, letter, address): portal.agent_at() gives the audit the latter */

static ngx_http_portal_sql_t  ngx_http_portal_letter_pdf_sql = {
    "portal_letter_pdf",
    "SELECT portal.agent_letter(portal.agent_at($1, $3), $2)", 3, 0
};


static const ngx_http_portal_sql_error_t  ngx_http_portal_letter_pdf_errors[]
= {
    NGX_HTTP_PORTAL_AGENT_SQL_ERRORS,
    NGX_HTTP_PORTAL_SQL_ERRORS_END
};


static ngx_int_t
ngx_http_portal_letter_pdf_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    return ngx_http_portal_resource_ids_run(r, ctx,
                                            &ngx_http_portal_letter_pdf_sql,
                                            ngx_http_portal_letter_pdf_found);
}


static void
ngx_http_portal_letter_pdf_found(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_request_t                *r;
    ngx_http_portal_ctx_t             *ctx;
    ngx_http_portal_main_conf_t       *pmcf;
    ngx_http_portal_letter_pdf_job_t  *job;

    r = q->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    pmcf = ngx_http_get_module_main_conf(r, ngx_http_portal_module);

    /* a letter of another's themes, one not due yet, or none: a 404 */

    if (ngx_http_portal_resource_row(q, status, res,
                                     ngx_http_portal_letter_pdf_errors)
        != NGX_OK)
    {
        return;
    }

    /* the result is cleared when we return: the thread gets a copy */

    job = ngx_http_portal_letter_pdf_job(r,
                                         (u_char *) PQgetvalue(res, 0, 0),
                                         PQgetlength(res, 0, 0));
    if (job == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "portal: the PDF of letter %V goes to the thread pool",
                   &ctx->params[0]);

    /* the queue full, the agent is told to try again in a moment */

    (void) ngx_http_portal_thread_post_busy(&pmcf->pdf_threads, r, job,
                                            ngx_http_portal_letter_pdf_work,
                                            ngx_http_portal_letter_pdf_made,
                                            "a letter's PDF", "2");
}


/* one block: the job, the JSON, the town's lines, each NUL-ended */

static ngx_http_portal_letter_pdf_job_t *
ngx_http_portal_letter_pdf_job(ngx_http_request_t *r, u_char *doc,
    size_t len)
{
    u_char                            *p;
    size_t                             size;
    ngx_str_t                         *address;
    ngx_uint_t                         i, n;
    ngx_http_portal_loc_conf_t        *plcf;
    ngx_http_portal_letter_pdf_job_t  *job;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    if (plcf->town_address) {
        address = plcf->town_address->elts;
        n = ngx_min(plcf->town_address->nelts,
                    NGX_HTTP_PORTAL_PDF_ADDRESS_MAX);

    } else {
        address = NULL;
        n = 0;
    }

    size = sizeof(ngx_http_portal_letter_pdf_job_t) + len + 1
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

    job->doc = p;
    job->doc_len = len;
    p = ngx_cpymem(p, doc, len);
    *p++ = '\0';

    /* what is not configured is not printed */

    job->town.name = plcf->town_name.len
                     ? ngx_http_portal_letter_pdf_copy(&p, &plcf->town_name)
                     : NULL;
    job->town.service = plcf->town_service.len
                        ? ngx_http_portal_letter_pdf_copy(&p,
                                                      &plcf->town_service)
                        : NULL;

    for (i = 0; i < n; i++) {
        job->town.address[i] = ngx_http_portal_letter_pdf_copy(&p,
                                                               &address[i]);
    }

    job->town.url = plcf->public_url.len
                    ? ngx_http_portal_letter_pdf_copy(&p, &plcf->public_url)
                    : NULL;

    return job;
}


static const char *
ngx_http_portal_letter_pdf_copy(u_char **p, ngx_str_t *s)
{
    u_char  *start;

    start = *p;
    *p = ngx_cpymem(*p, s->data, s->len);
    *(*p)++ = '\0';

    return (const char *) start;
}


/* in a pool thread */

static void
ngx_http_portal_letter_pdf_work(void *data)
{
    ngx_http_portal_letter_pdf_job_t *job = data;

    json_t        *doc;
    json_error_t   jerr;

    /* PostgreSQL's json may carry \u0000: the renderer drops it */

    doc = json_loadb((char *) job->doc, job->doc_len, JSON_ALLOW_NUL, &jerr);

    if (doc == NULL) {
        /* the position only: the text may quote the letter */

        job->failed = 1;
        (void) ngx_snprintf((u_char *) job->error, sizeof(job->error) - 1,
                            "the letter is not JSON (line %d, column"
                            " %d)%Z", jerr.line, jerr.column);
        return;
    }

    ngx_http_portal_letter_pdf_reference(job, doc);

    if (ngx_http_portal_pdf_letter_render(doc, &job->town, &job->pdf,
                                          &job->pdf_len, job->error,
                                          sizeof(job->error))
        != 0)
    {
        job->failed = 1;
    }

    json_decref(doc);
}


/* the file's name: the request's reference, letters, digits and dashes */

static void
ngx_http_portal_letter_pdf_reference(ngx_http_portal_letter_pdf_job_t *job,
    json_t *doc)
{
    u_char      *s, c;
    size_t       i, len;
    json_t      *v;

    v = json_object_get(json_object_get(doc, "request"), "reference");

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

        if (job->reference_len == NGX_HTTP_PORTAL_LETTER_PDF_REFERENCE_MAX) {
            break;
        }

        job->reference[job->reference_len++] = c;
    }
}


/* back on the event loop */

static void
ngx_http_portal_letter_pdf_made(ngx_http_request_t *r, void *data)
{
    ngx_http_portal_letter_pdf_job_t *job = data;

    u_char  *pdf;

    /* the client went away meanwhile */

    if (r == NULL) {
        free(job->pdf);
        job->pdf = NULL;

        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "portal: a letter's PDF was made for a client that"
                      " has gone");
        return;
    }

    if (job->failed) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "portal: no PDF of the letter: %s", job->error);
        free(job->pdf);
        job->pdf = NULL;

        ngx_http_finalize_request(r, ngx_http_portal_response_internal(r));
        return;
    }

    pdf = job->pdf;
    job->pdf = NULL;

    ngx_http_finalize_request(r, ngx_http_portal_letter_pdf_send(r, job,
                                                                 pdf));
}


/* shown in the browser to be printed, saved as "courrier-2026-000123.pdf" */

static ngx_int_t
ngx_http_portal_letter_pdf_send(ngx_http_request_t *r,
    ngx_http_portal_letter_pdf_job_t *job, u_char *pdf)
{
    u_char  *p, *value;
    size_t   len;

    len = sizeof("inline; filename=\"courrier-.pdf\"") - 1
          + job->reference_len;

    value = ngx_pnalloc(r->pool, len);

    if (value == NULL) {
        free(pdf);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (job->reference_len) {
        p = ngx_sprintf(value, "inline; filename=\"courrier-%*s.pdf\"",
                        job->reference_len, job->reference);

    } else {
        p = ngx_sprintf(value, "inline; filename=\"courrier.pdf\"");
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
                                           &ngx_http_portal_letter_pdf_type,
                                           pdf, job->pdf_len, free);
}
