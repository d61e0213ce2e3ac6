
/*
 * Portail Citoyen: the captcha of the citizen API.
 *
 *     POST captcha              a new answer: {captcha_id, image, audio, alt}
 *     GET  captcha/{id}.png     its picture (_captcha_image.c)
 *     GET  captcha/{id}.wav     its sound (_captcha_speech.c)
 *
 * Picture and sound are made on the thread pool, as long as the captcha is
 * neither spent nor expired.  An answer is checked, and the captcha spent
 * by its first try, right or wrong, in one statement.
 *
 * The answer never leaves the database but as pixels and sound: it is in
 * no URL, header or log line.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_captcha.h"
#include "ngx_http_portal_captcha_media.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_resource.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_thread.h"


#define NGX_HTTP_PORTAL_CAPTCHA_ALT       256


typedef struct {
    ngx_str_t                         type;
    /* the seed's context: the picture and the sound differ */
    const char                       *name;
    ngx_http_portal_thread_work_pt    work;
} ngx_http_portal_captcha_media_t;


static ngx_int_t ngx_http_portal_captcha_create_handler(
    ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx);
static void ngx_http_portal_captcha_created(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static ngx_int_t ngx_http_portal_captcha_media_handler(
    ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx);
static void ngx_http_portal_captcha_found(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static void ngx_http_portal_captcha_made(ngx_http_request_t *r, void *data);
static void ngx_http_portal_captcha_checked(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);


/*
 * Nothing to mistake on the picture (at most one of 0/O, 1/I, 2/Z, 5/S,
 * 6/G, 8/B, U/V) nor in French speech, where the names of B, D, P, T, V
 * rhyme ("bé", "dé") and M, N sound alike: 20 characters, 20^6 answers.
 */

static u_char  ngx_http_portal_captcha_alphabet[] = "ACEFHJKLMRUWXY345789";


static ngx_http_portal_captcha_media_t  ngx_http_portal_captcha_png = {
    ngx_string("image/png"), "png", ngx_http_portal_captcha_image_draw
};

static ngx_http_portal_captcha_media_t  ngx_http_portal_captcha_wav = {
    ngx_string("audio/wav"), "wav", ngx_http_portal_captcha_speech_speak
};


static ngx_http_portal_fault_t  ngx_http_portal_captcha_gone = {
    "captcha_not_found", NGX_HTTP_PORTAL_M_CAPTCHA_GONE
};


ngx_http_portal_route_t  ngx_http_portal_captcha_routes[] = {

    { NGX_HTTP_POST, "captcha", ngx_http_portal_captcha_create_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_OPEN, NULL, NULL },

    { NGX_HTTP_PORTAL_READ, "captcha/{uuid}.png",
      ngx_http_portal_captcha_media_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_OPEN,
      &ngx_http_portal_captcha_png, &ngx_http_portal_captcha_gone },

    { NGX_HTTP_PORTAL_READ, "captcha/{uuid}.wav",
      ngx_http_portal_captcha_media_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_OPEN,
      &ngx_http_portal_captcha_wav, &ngx_http_portal_captcha_gone },

    NGX_HTTP_PORTAL_ROUTES_END
};


static ngx_http_portal_sql_t  ngx_http_portal_captcha_new_sql = {
    "portal_captcha_new",
    "SELECT portal.captcha_new($1)",
    1, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_captcha_answer_sql = {
    "portal_captcha_answer",
    "SELECT portal.captcha_answer($1, $2)",
    2, 0
};


/* a picture or a sound asked for too often */

static const ngx_http_portal_sql_error_t  ngx_http_portal_captcha_errors[] = {

    { "P0001", "fetch_limit", NGX_HTTP_TOO_MANY_REQUESTS,
      "too_many_requests", NGX_HTTP_PORTAL_M_CAPTCHA_FETCHES, NULL, NULL, 0 },

    NGX_HTTP_PORTAL_SQL_ERRORS_END
};

static ngx_http_portal_sql_t  ngx_http_portal_captcha_check_sql = {
    "portal_captcha_check",
    "SELECT portal.captcha_check($1, $2)",
    2, 0
};


static ngx_int_t
ngx_http_portal_captcha_create_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    u_char                       *answer;
    size_t                        len;
    ngx_uint_t                    i, n;
    ngx_http_portal_db_query_t   *q;
    ngx_http_portal_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_portal_module);

    answer = ngx_pnalloc(r->pool, NGX_HTTP_PORTAL_CAPTCHA_MAX + 1);
    if (answer == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (pmcf->captcha_test_answer.data) {
        len = pmcf->captcha_test_answer.len;

        for (i = 0; i < len; i++) {
            answer[i] = ngx_toupper(pmcf->captcha_test_answer.data[i]);
        }

    } else {
        len = NGX_HTTP_PORTAL_CAPTCHA_LEN;
        n = sizeof(ngx_http_portal_captcha_alphabet) - 1;

        for (i = 0; i < len; i++) {
            answer[i] = ngx_http_portal_captcha_alphabet[
                            randombytes_uniform((uint32_t) n)];
        }
    }

    answer[len] = '\0';

    q = ngx_http_portal_db_query(r, &ngx_http_portal_captcha_new_sql,
                                 ngx_http_portal_captcha_created);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_db_param(q, (const char *) answer, len);

    /* counted now, then wiped: the parameter is a copy of its own */

    q->data = (void *) ngx_http_portal_captcha_count(answer, len);
    ngx_explicit_memzero(answer, NGX_HTTP_PORTAL_CAPTCHA_MAX + 1);

    return ngx_http_portal_db_suspend(q);
}


static void
ngx_http_portal_captcha_created(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    u_char                 *png, *wav, *alt, *p, *id;
    size_t                  len, prefix;
    ngx_uint_t              n;
    ngx_http_request_t     *r;
    ngx_http_portal_ctx_t  *ctx;

    r = q->request;
    n = (ngx_uint_t) q->data;

    /* the statement's copy of the answer is no longer needed either */

    if (q->values[0]) {
        ngx_explicit_memzero((void *) q->values[0], q->lengths[0]);
    }

    if (ngx_http_portal_db_rows(q, status, res, 1) != NGX_OK) {
        return;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    id = (u_char *) PQgetvalue(res, 0, 0);

    /* the addresses are under the API's location, whatever its name */

    prefix = r->uri.len - ctx->path.len;
    len = prefix + sizeof("captcha/.png") + PQgetlength(res, 0, 0);

    png = ngx_pnalloc(r->pool, 2 * len + NGX_HTTP_PORTAL_CAPTCHA_ALT);
    if (png == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_cpymem(png, r->uri.data, prefix);
    p = ngx_sprintf(p, "captcha/%s.png%Z", id);

    wav = p;
    p = ngx_cpymem(wav, r->uri.data, prefix);
    p = ngx_sprintf(p, "captcha/%s.wav%Z", id);

    /* what it is and what to do, for screen readers: never the answer */

    alt = p;
    p = ngx_sprintf(alt, NGX_HTTP_PORTAL_M_CAPTCHA_ALT "%Z", n);

    ngx_http_finalize_request(r,
        ngx_http_portal_response_json(r, NGX_HTTP_CREATED,
            json_pack("{s:s, s:s, s:s, s:s}",
                      "captcha_id", id, "image", png, "audio", wav,
                      "alt", alt)));
}


static ngx_int_t
ngx_http_portal_captcha_media_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_http_portal_db_query_t       *q;
    ngx_http_portal_captcha_media_t  *media;

    q = ngx_http_portal_db_query(r, &ngx_http_portal_captcha_answer_sql,
                                 ngx_http_portal_captcha_found);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    media = (ngx_http_portal_captcha_media_t *) ctx->route->data;

    q->data = media;
    ngx_http_portal_db_param(q, (char *) ctx->params[0].data,
                             ctx->params[0].len);
    ngx_http_portal_db_param(q, media->name, ngx_strlen(media->name));

    return ngx_http_portal_db_suspend(q);
}


static void
ngx_http_portal_captcha_found(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    u_char                           *p, msg[64];
    size_t                            len;
    ngx_str_t                        *id;
    ngx_http_request_t               *r;
    ngx_http_portal_ctx_t            *ctx;
    ngx_http_portal_main_conf_t      *pmcf;
    ngx_http_portal_captcha_job_t    *job;
    ngx_http_portal_captcha_media_t  *media;

    r = q->request;
    media = q->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    /* spent or expired, a 404: the page asks for a new one */

    if (ngx_http_portal_resource_row(q, status, res,
                                     ngx_http_portal_captcha_errors)
        != NGX_OK)
    {
        return;
    }

    len = PQgetlength(res, 0, 0);

    if (len == 0 || len > NGX_HTTP_PORTAL_CAPTCHA_MAX) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "portal: a captcha's answer has %uz bytes, not from 1"
                      " to %d", len, NGX_HTTP_PORTAL_CAPTCHA_MAX);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_portal_module);
    id = &ctx->params[0];

    job = ngx_http_portal_thread_alloc(r->connection->log,
                                       sizeof(ngx_http_portal_captcha_job_t)
                                       + pmcf->captcha_font.len + 1);
    if (job == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    job->len = len;
    ngx_memcpy(job->answer, PQgetvalue(res, 0, 0), len);

    job->font = (char *) (job + 1);
    ngx_memcpy(job->font, pmcf->captcha_font.data, pmcf->captcha_font.len);
    job->font[pmcf->captcha_font.len] = '\0';

    /*
     * The same captcha always gives the same picture (and pitch): asking
     * for it again and again gives nothing to average the noise away.
     * The key is secret, so its noise cannot be foreseen either.
     */

    p = ngx_snprintf(msg, sizeof(msg), "portal captcha %s %V", media->name,
                     id);

    if (crypto_generichash(job->seed, sizeof(job->seed), msg, p - msg,
                           pmcf->secret, NGX_HTTP_PORTAL_KEY_LEN)
        != 0)
    {
        ngx_http_portal_thread_free(job);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* the queue full, the page is told to try again in a moment */

    (void) ngx_http_portal_thread_post_busy(&pmcf->captcha_threads, r, job,
                                            media->work,
                                            ngx_http_portal_captcha_made,
                                            "the captcha", NULL);
}


static void
ngx_http_portal_captcha_made(ngx_http_request_t *r, void *data)
{
    ngx_http_portal_captcha_job_t *job = data;

    u_char                           *out;
    ngx_http_portal_ctx_t            *ctx;
    ngx_http_portal_captcha_media_t  *media;

    if (r == NULL || job->status) {
        if (job->out) {
            job->free_out(job->out);
            job->out = NULL;
        }
    }

    /* the client went away meanwhile */

    if (r == NULL) {
        return;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    media = (ngx_http_portal_captcha_media_t *) ctx->route->data;

    if (job->status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "portal: no spoken captcha: %s", job->error);

        ngx_http_finalize_request(r,
            ngx_http_portal_response_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     "audio_unavailable",
                                     NGX_HTTP_PORTAL_M_AUDIO_UNAVAILABLE));
        return;
    }

    if (job->status) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "portal: no captcha %s: %s", media->name, job->error);

        ngx_http_finalize_request(r, ngx_http_portal_response_internal(r));
        return;
    }

    /* the file goes out as it is: the request's pool frees it */

    out = job->out;
    job->out = NULL;

    ngx_http_finalize_request(r,
        ngx_http_portal_response_memory(r, NGX_HTTP_OK, &media->type, out,
                                        job->out_len, job->free_out));
}


ngx_int_t
ngx_http_portal_captcha_check(ngx_http_request_t *r, ngx_str_t *id,
    ngx_str_t *answer, ngx_http_portal_captcha_pt done)
{
    ngx_http_portal_db_query_t  *q;

    q = ngx_http_portal_db_query(r, &ngx_http_portal_captcha_check_sql,
                                 ngx_http_portal_captcha_checked);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->data = (void *) done;

    ngx_http_portal_db_param(q, (char *) id->data, id->len);
    ngx_http_portal_db_param(q, (char *) answer->data, answer->len);

    return ngx_http_portal_db_suspend(q);
}


static void
ngx_http_portal_captcha_checked(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    char                        *verdict;
    ngx_uint_t                   state;
    ngx_http_request_t          *r;
    ngx_http_portal_captcha_pt   done;

    r = q->request;
    done = (ngx_http_portal_captcha_pt) q->data;

    if (ngx_http_portal_db_rows(q, status, res, 1) != NGX_OK) {
        return;
    }

    verdict = PQgetvalue(res, 0, 0);

    state = (ngx_strcmp(verdict, "right") == 0)
            ? NGX_HTTP_PORTAL_CAPTCHA_RIGHT
            : (ngx_strcmp(verdict, "expired") == 0)
              ? NGX_HTTP_PORTAL_CAPTCHA_EXPIRED
              : NGX_HTTP_PORTAL_CAPTCHA_WRONG;

    ngx_http_finalize_request(r, done(r, state));
}


ngx_int_t
ngx_http_portal_captcha_refused(ngx_http_request_t *r, ngx_uint_t state)
{
    ngx_uint_t  expired;

    expired = (state == NGX_HTTP_PORTAL_CAPTCHA_EXPIRED);

    return ngx_http_portal_response_error_fields(r,
               NGX_HTTP_UNPROCESSABLE_ENTITY, "captcha",
               expired ? NGX_HTTP_PORTAL_M_CAPTCHA_EXPIRED
                       : NGX_HTTP_PORTAL_M_CAPTCHA_WRONG,
               json_pack("{s:s}", "captcha_answer",
                         expired ? NGX_HTTP_PORTAL_M_CAPTCHA_EXPIRED_FIELD
                                 : NGX_HTTP_PORTAL_M_CAPTCHA_WRONG_FIELD));
}


void
ngx_http_portal_captcha_exit(void)
{
    ngx_http_portal_captcha_speech_exit();
    ngx_http_portal_captcha_image_exit();
}
