
/*
 * Portail Citoyen: the captcha of the citizen API.
 *
 * POST captcha stores a new random answer and gives the captcha's id with
 * the addresses of its picture and of its spoken version.  GET
 * captcha/{id}.png draws the answer with GD, GET captcha/{id}.wav spells it
 * with espeak-ng, both on the thread pool, as long as the captcha is
 * neither spent nor expired.  The answer is checked elsewhere, by
 * portal.captcha_check(), which spends the captcha in the same statement.
 *
 * The answer never leaves the database but as pixels and sound: it is in
 * no URL, header or log line.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <math.h>
#include <pthread.h>

#include <gd.h>
#include <espeak-ng/speak_lib.h>
#include <espeak-ng/espeak_ng.h>
#include <sodium.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_json.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_thread.h"
#include "ngx_http_portal_text.h"
#include "ngx_http_portal_captcha.h"


/* the picture: ~220x70, wider only for a long test answer */
#define NGX_HTTP_PORTAL_CAPTCHA_WIDTH     220
#define NGX_HTTP_PORTAL_CAPTCHA_HEIGHT    70
#define NGX_HTTP_PORTAL_CAPTCHA_MARGIN    12
#define NGX_HTTP_PORTAL_CAPTCHA_CELL      32
#define NGX_HTTP_PORTAL_CAPTCHA_MAX_WIDTH                                    \
    (2 * NGX_HTTP_PORTAL_CAPTCHA_MARGIN                                      \
     + NGX_HTTP_PORTAL_CAPTCHA_MAX * NGX_HTTP_PORTAL_CAPTCHA_CELL)

/* random numbers a picture uses, from the captcha's own seed */
#define NGX_HTTP_PORTAL_CAPTCHA_RANDOM    2048

/* the sound: 16-bit mono PCM, at most a minute */
#define NGX_HTTP_PORTAL_CAPTCHA_SECONDS   60
#define NGX_HTTP_PORTAL_CAPTCHA_WAV_HDR   44
#define NGX_HTTP_PORTAL_CAPTCHA_TEXT      512

#define NGX_HTTP_PORTAL_CAPTCHA_ERRLEN    256
#define NGX_HTTP_PORTAL_CAPTCHA_ALT       256


typedef struct ngx_http_portal_captcha_media_s  ngx_http_portal_captcha_media_t;


/* the thread's data block: everything work() reads, and what it made */

typedef struct {
    ngx_http_portal_captcha_media_t  *media;

    u_char                            answer[NGX_HTTP_PORTAL_CAPTCHA_MAX];
    size_t                            len;
    char                             *font;

    u_char                            seed[randombytes_SEEDBYTES];
    uint32_t                          random[NGX_HTTP_PORTAL_CAPTCHA_RANDOM];
    ngx_uint_t                        next;

    /* the file made, freed by media->free() */
    u_char                           *out;
    size_t                            out_len;
    size_t                            out_size;

    /* 0, or the status to answer with and why, for the log */
    ngx_uint_t                        status;
    u_char                            error[NGX_HTTP_PORTAL_CAPTCHA_ERRLEN];
} ngx_http_portal_captcha_job_t;


struct ngx_http_portal_captcha_media_s {
    ngx_str_t                         type;
    /* the seed's context: the picture and the sound differ */
    const char                       *name;
    ngx_http_portal_thread_work_pt    work;
    void                            (*free)(void *p);
};


/* a file sent from where it was made, freed with the request */

typedef struct {
    void                             *data;
    void                            (*free)(void *p);
} ngx_http_portal_captcha_file_t;


static void ngx_http_portal_captcha_created(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static ngx_int_t ngx_http_portal_captcha_lookup(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_http_portal_captcha_media_t *media);
static void ngx_http_portal_captcha_found(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static void ngx_http_portal_captcha_done(ngx_http_request_t *r, void *data);
static ngx_int_t ngx_http_portal_captcha_send(ngx_http_request_t *r,
    ngx_http_portal_captcha_job_t *job);
static void ngx_http_portal_captcha_free_file(void *data);
static ngx_int_t ngx_http_portal_captcha_not_found(ngx_http_request_t *r);

static void ngx_http_portal_captcha_draw(void *data);
static void ngx_http_portal_captcha_gd_init(void);
static ngx_int_t ngx_http_portal_captcha_glyphs(gdImagePtr im,
    ngx_http_portal_captcha_job_t *job, ngx_uint_t n);
static gdImagePtr ngx_http_portal_captcha_wave(gdImagePtr src,
    ngx_http_portal_captcha_job_t *job, int bg);
static int ngx_http_portal_captcha_pixel(gdImagePtr im, double x, double y,
    int bg);
static void ngx_http_portal_captcha_noise(gdImagePtr im,
    ngx_http_portal_captcha_job_t *job, ngx_uint_t lines, ngx_uint_t arcs);
static void ngx_http_portal_captcha_curve(gdImagePtr im,
    ngx_http_portal_captcha_job_t *job);

static void ngx_http_portal_captcha_speak(void *data);
static ngx_int_t ngx_http_portal_captcha_espeak_init(
    ngx_http_portal_captcha_job_t *job);
static int ngx_http_portal_captcha_speech(short *wav, int n,
    espeak_EVENT *events);
static u_char *ngx_http_portal_captcha_spell(u_char *p, u_char *last,
    ngx_http_portal_captcha_job_t *job);
static u_char *ngx_http_portal_captcha_le(u_char *p, uint32_t v,
    ngx_uint_t bytes);
static void ngx_http_portal_captcha_wav_header(
    ngx_http_portal_captcha_job_t *job, uint32_t rate);

static ngx_uint_t ngx_http_portal_captcha_glyph_len(u_char *p, u_char *last);
static ngx_uint_t ngx_http_portal_captcha_count(u_char *p, size_t len);
static void ngx_http_portal_captcha_stream(ngx_http_portal_captcha_job_t *job);
static ngx_int_t ngx_http_portal_captcha_between(
    ngx_http_portal_captcha_job_t *job, ngx_int_t lo, ngx_int_t hi);
static void ngx_http_portal_captcha_error(ngx_http_portal_captcha_job_t *job,
    ngx_uint_t status, const char *what, const char *why);
static ngx_int_t ngx_http_portal_captcha_header(ngx_http_request_t *r,
    ngx_str_t *name, ngx_str_t *value);


/*
 * Nothing to mistake on the picture (at most one of 0/O, 1/I, 2/Z, 5/S,
 * 6/G, 8/B, U/V) nor in French speech, where the names of B, D, P, T, V
 * rhyme ("bé", "dé") and M, N sound alike: 20 characters, 20^6 answers.
 */

static u_char  ngx_http_portal_captcha_alphabet[] = "ACEFHJKLMRUWXY345789";


static ngx_http_portal_sql_t  ngx_http_portal_captcha_insert_sql = {
    "portal_captcha_insert",
    "INSERT INTO portal.captchas (answer) VALUES ($1) RETURNING id",
    1, 0
};


static ngx_http_portal_sql_t  ngx_http_portal_captcha_select_sql = {
    "portal_captcha_select",
    "SELECT answer FROM portal.captchas"
    " WHERE id = $1 AND used_at IS NULL AND expires_at > now()",
    1, 0
};


static ngx_http_portal_captcha_media_t  ngx_http_portal_captcha_png = {
    ngx_string("image/png"), "png",
    ngx_http_portal_captcha_draw, gdFree
};


static ngx_http_portal_captcha_media_t  ngx_http_portal_captcha_wav = {
    ngx_string("audio/wav"), "wav",
    ngx_http_portal_captcha_speak, free
};


static ngx_str_t  ngx_http_portal_captcha_cache_control =
    ngx_string("Cache-Control");
static ngx_str_t  ngx_http_portal_captcha_no_store = ngx_string("no-store");
static ngx_str_t  ngx_http_portal_captcha_nosniff_name =
    ngx_string("X-Content-Type-Options");
static ngx_str_t  ngx_http_portal_captcha_nosniff = ngx_string("nosniff");


/* GD's font cache must be made before two threads draw text */

static pthread_once_t  ngx_http_portal_captcha_gd_once = PTHREAD_ONCE_INIT;
static ngx_uint_t      ngx_http_portal_captcha_gd_ready;


/*
 * espeak-ng has one synthesizer per process, not thread-safe: the mutex
 * guards its initialisation, its parameters and every synthesis.  The
 * callback finds its job through ngx_http_portal_captcha_speaking.
 */

static pthread_mutex_t  ngx_http_portal_captcha_espeak_lock =
    PTHREAD_MUTEX_INITIALIZER;
static ngx_int_t        ngx_http_portal_captcha_espeak_rate;
static u_char           ngx_http_portal_captcha_espeak_error[
                            NGX_HTTP_PORTAL_CAPTCHA_ERRLEN];
static ngx_http_portal_captcha_job_t  *ngx_http_portal_captcha_speaking;


ngx_int_t
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

        if (len == 0 || len > NGX_HTTP_PORTAL_CAPTCHA_MAX) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "portal: \"portal_captcha_test_answer\" must have"
                          " from 1 to %d characters",
                          NGX_HTTP_PORTAL_CAPTCHA_MAX);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

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

    q = ngx_http_portal_db_query(r, &ngx_http_portal_captcha_insert_sql,
                                 ngx_http_portal_captcha_created);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* kept until the answer is stored, then wiped */
    q->data = answer;
    ngx_http_portal_db_param(q, (const char *) answer, len);

    return ngx_http_portal_db_suspend(q);
}


static void
ngx_http_portal_captcha_created(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    u_char                 *answer, *png, *wav, *alt, *p;
    size_t                  len, prefix;
    ngx_uint_t              n;
    ngx_http_request_t     *r;
    ngx_http_portal_ctx_t  *ctx;

    r = q->request;
    answer = q->data;

    n = ngx_http_portal_captcha_count(answer, ngx_strlen(answer));
    ngx_explicit_memzero(answer, NGX_HTTP_PORTAL_CAPTCHA_MAX + 1);

    if (status != NGX_HTTP_PORTAL_DB_OK
        || PQresultStatus(res) != PGRES_TUPLES_OK
        || PQntuples(res) != 1
        || PQgetlength(res, 0, 0) == 0)
    {
        ngx_http_finalize_request(r, ngx_http_portal_db_error(r, status,
                          status == NGX_HTTP_PORTAL_DB_OK
                          && PQresultStatus(res) == PGRES_FATAL_ERROR
                          ? res : NULL));
        return;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    /* the addresses are under the API's location, whatever its name */

    prefix = r->uri.len - ctx->path.len;
    len = prefix + sizeof("captcha/.png") + PQgetlength(res, 0, 0);

    png = ngx_pnalloc(r->pool, 2 * len + NGX_HTTP_PORTAL_CAPTCHA_ALT);
    if (png == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_cpymem(png, r->uri.data, prefix);
    p = ngx_sprintf(p, "captcha/%s.png%Z", PQgetvalue(res, 0, 0));

    wav = p;
    p = ngx_cpymem(wav, r->uri.data, prefix);
    p = ngx_sprintf(p, "captcha/%s.wav%Z", PQgetvalue(res, 0, 0));

    /* what it is and what to do, for screen readers: never the answer */

    alt = p;
    p = ngx_sprintf(alt, "Image de vérification (captcha) : %ui caractères"
                    " déformés, lettres majuscules et chiffres, à recopier"
                    " dans le champ prévu. Ils peuvent aussi être écoutés."
                    "%Z", n);

    ngx_http_finalize_request(r,
        ngx_http_portal_send_json(r, NGX_HTTP_CREATED,
            json_pack("{s:s, s:s, s:s, s:s}",
                      "captcha_id", PQgetvalue(res, 0, 0),
                      "image", png,
                      "audio", wav,
                      "alt", alt)));
}


ngx_int_t
ngx_http_portal_captcha_png_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    return ngx_http_portal_captcha_lookup(r, ctx,
                                          &ngx_http_portal_captcha_png);
}


ngx_int_t
ngx_http_portal_captcha_wav_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    return ngx_http_portal_captcha_lookup(r, ctx,
                                          &ngx_http_portal_captcha_wav);
}


static ngx_int_t
ngx_http_portal_captcha_lookup(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_http_portal_captcha_media_t *media)
{
    u_char                      *id;
    ngx_str_t                   *param;
    ngx_http_portal_db_query_t  *q;

    param = &ctx->params[0];

    if (ctx->nparams != 1
        || !ngx_http_portal_valid_uuid(param->data, param->len))
    {
        return ngx_http_portal_captcha_not_found(r);
    }

    /*
     * Lowercase: the picture's seed hashes the id, and one captcha must
     * not give other pictures under other spellings of its id.
     */

    id = ngx_pnalloc(r->pool, param->len + 1);
    if (id == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_strlow(id, param->data, param->len);
    id[param->len] = '\0';

    param->data = id;

    q = ngx_http_portal_db_query(r, &ngx_http_portal_captcha_select_sql,
                                 ngx_http_portal_captcha_found);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->data = media;
    ngx_http_portal_db_param(q, (const char *) id, param->len);

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

    if (status != NGX_HTTP_PORTAL_DB_OK
        || PQresultStatus(res) != PGRES_TUPLES_OK)
    {
        ngx_http_finalize_request(r, ngx_http_portal_db_error(r, status,
                          status == NGX_HTTP_PORTAL_DB_OK
                          && PQresultStatus(res) == PGRES_FATAL_ERROR
                          ? res : NULL));
        return;
    }

    /* spent or expired: the page asks for a new one */

    if (PQntuples(res) == 0) {
        ngx_http_finalize_request(r, ngx_http_portal_captcha_not_found(r));
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
    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    id = &ctx->params[0];

    job = ngx_http_portal_thread_alloc(r->connection->log,
                                       sizeof(ngx_http_portal_captcha_job_t)
                                       + pmcf->captcha_font.len + 1);
    if (job == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    job->media = media;
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

    if (ngx_http_portal_thread_post(r, job, media->work,
                                    ngx_http_portal_captcha_done)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "portal: the captcha could not go to the thread"
                      " pool \"%V\"", &pmcf->thread_pool_name);
        ngx_http_portal_thread_free(job);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* the request waits for done(), with the count of the handler */
}


static void
ngx_http_portal_captcha_done(ngx_http_request_t *r, void *data)
{
    ngx_http_portal_captcha_job_t *job = data;

    ngx_int_t  rc;

    if (r == NULL || job->status) {
        if (job->out) {
            job->media->free(job->out);
            job->out = NULL;
        }
    }

    /* the client went away meanwhile */

    if (r == NULL) {
        return;
    }

    if (job->status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "portal: no spoken captcha: %s", job->error);

        ngx_http_finalize_request(r,
            ngx_http_portal_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "audio_unavailable",
                                       "La version audio est"
                                       " momentanément indisponible."
                                       " Merci de réessayer plus tard."));
        return;
    }

    if (job->status) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "portal: no captcha %s: %s", job->media->name,
                      job->error);

        ngx_http_finalize_request(r,
            ngx_http_portal_send_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                       "internal",
                                       "Une erreur interne est survenue."
                                       " Merci de réessayer plus tard."));
        return;
    }

    rc = ngx_http_portal_captcha_send(r, job);

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_http_portal_captcha_send(ngx_http_request_t *r,
    ngx_http_portal_captcha_job_t *job)
{
    ngx_int_t                        rc;
    ngx_buf_t                       *b;
    ngx_chain_t                      out;
    ngx_pool_cleanup_t              *cln;
    ngx_http_portal_captcha_file_t  *file;

    /* the file goes out as it is: the request's pool frees it */

    cln = ngx_pool_cleanup_add(r->pool,
                               sizeof(ngx_http_portal_captcha_file_t));
    if (cln == NULL) {
        job->media->free(job->out);
        job->out = NULL;
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    file = cln->data;
    file->data = job->out;
    file->free = job->media->free;

    cln->handler = ngx_http_portal_captcha_free_file;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = job->out;
    b->last = job->out + job->out_len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    job->out = NULL;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_type = job->media->type;
    r->headers_out.content_type_len = job->media->type.len;
    r->headers_out.content_length_n = b->last - b->pos;

    if (ngx_http_portal_captcha_header(r,
                                       &ngx_http_portal_captcha_cache_control,
                                       &ngx_http_portal_captcha_no_store)
        != NGX_OK
        || ngx_http_portal_captcha_header(r,
                                       &ngx_http_portal_captcha_nosniff_name,
                                       &ngx_http_portal_captcha_nosniff)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static void
ngx_http_portal_captcha_free_file(void *data)
{
    ngx_http_portal_captcha_file_t *file = data;

    file->free(file->data);
}


static ngx_int_t
ngx_http_portal_captcha_not_found(ngx_http_request_t *r)
{
    return ngx_http_portal_send_error(r, NGX_HTTP_NOT_FOUND,
                                      "captcha_not_found",
                                      "Ce code de vérification a expiré ou"
                                      " a déjà servi : demandez-en un"
                                      " nouveau.");
}


/* the picture, in a pool thread */

static void
ngx_http_portal_captcha_draw(void *data)
{
    ngx_http_portal_captcha_job_t *job = data;

    int          size, w, h, bg, x, y, i, c;
    ngx_uint_t   n;
    gdImagePtr   im, out;

    (void) pthread_once(&ngx_http_portal_captcha_gd_once,
                        ngx_http_portal_captcha_gd_init);

    if (!ngx_http_portal_captcha_gd_ready) {
        ngx_http_portal_captcha_error(job, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "GD could not make its font cache",
                                      NULL);
        return;
    }

    ngx_http_portal_captcha_stream(job);

    n = ngx_http_portal_captcha_count(job->answer, job->len);

    w = ngx_max(NGX_HTTP_PORTAL_CAPTCHA_WIDTH,
                2 * NGX_HTTP_PORTAL_CAPTCHA_MARGIN
                + (int) n * NGX_HTTP_PORTAL_CAPTCHA_CELL);
    h = NGX_HTTP_PORTAL_CAPTCHA_HEIGHT;

    im = gdImageCreateTrueColor(w, h);
    if (im == NULL) {
        goto failed;
    }

    /* light, so that the darkest noise is still lighter than the text */

    bg = gdTrueColor(ngx_http_portal_captcha_between(job, 228, 252),
                     ngx_http_portal_captcha_between(job, 228, 252),
                     ngx_http_portal_captcha_between(job, 228, 252));

    gdImageFilledRectangle(im, 0, 0, w - 1, h - 1, bg);

    ngx_http_portal_captcha_noise(im, job, 7, 5);

    if (ngx_http_portal_captcha_glyphs(im, job, n) != NGX_OK) {
        gdImageDestroy(im);
        return;
    }

    ngx_http_portal_captcha_curve(im, job);

    /* the wave bends the text and the lines through it alike */

    out = ngx_http_portal_captcha_wave(im, job, bg);
    gdImageDestroy(im);

    if (out == NULL) {
        goto failed;
    }

    for (i = 0; i < w * h / 50; i++) {
        x = ngx_http_portal_captcha_between(job, 0, w - 1);
        y = ngx_http_portal_captcha_between(job, 0, h - 1);
        c = ngx_http_portal_captcha_between(job, 70, 200);

        gdImageSetPixel(out, x, y, gdTrueColor(c, c, c));
    }

    job->out = gdImagePngPtr(out, &size);
    gdImageDestroy(out);

    if (job->out == NULL || size <= 0) {
        goto failed;
    }

    job->out_len = size;

    return;

failed:

    ngx_http_portal_captcha_error(job, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "GD could not make the picture", NULL);
}


static void
ngx_http_portal_captcha_gd_init(void)
{
    ngx_http_portal_captcha_gd_ready = (gdFontCacheSetup() == 0);
}


static ngx_int_t
ngx_http_portal_captcha_glyphs(gdImagePtr im,
    ngx_http_portal_captcha_job_t *job, ngx_uint_t n)
{
    int          brect[8], ink, x, y, h, minx, maxx, miny, maxy, k;
    char        *err, glyph[8];
    u_char      *s, *last, *e;
    double       size, angle, cell;
    ngx_uint_t   i, len;

    h = gdImageSY(im);
    cell = (double) (gdImageSX(im) - 2 * NGX_HTTP_PORTAL_CAPTCHA_MARGIN) / n;

    s = job->answer;
    last = s + job->len;

    for (i = 0; s < last; i++) {
        len = ngx_http_portal_captcha_glyph_len(s, last);

        ngx_memcpy(glyph, s, len);
        glyph[len] = '\0';
        s += len;

        size = (double) ngx_http_portal_captcha_between(job, 23, 28);
        angle = ngx_http_portal_captcha_between(job, -30, 30) / 100.0;

        /* dark: at least 4.5:1 against the lightest background */

        ink = gdTrueColor(ngx_http_portal_captcha_between(job, 0, 90),
                          ngx_http_portal_captcha_between(job, 0, 90),
                          ngx_http_portal_captcha_between(job, 0, 90));

        /* measured first, to centre the turned glyph in its cell */

        err = gdImageStringFT(NULL, brect, ink, job->font, size, angle, 0, 0,
                              glyph);
        if (err) {
            goto failed;
        }

        minx = maxx = brect[0];
        miny = maxy = brect[1];

        for (k = 2; k < 8; k += 2) {
            minx = ngx_min(minx, brect[k]);
            maxx = ngx_max(maxx, brect[k]);
            miny = ngx_min(miny, brect[k + 1]);
            maxy = ngx_max(maxy, brect[k + 1]);
        }

        x = NGX_HTTP_PORTAL_CAPTCHA_MARGIN + (int) (cell * i + cell / 2)
            - (minx + maxx) / 2 + ngx_http_portal_captcha_between(job, -3, 3);
        y = h / 2 - (miny + maxy) / 2
            + ngx_http_portal_captcha_between(job, -7, 7);

        /* whole, with room for the wave */

        y = ngx_max(y, 6 - miny);
        y = ngx_min(y, h - 7 - maxy);

        err = gdImageStringFT(im, brect, ink, job->font, size, angle, x, y,
                              glyph);
        if (err) {
            goto failed;
        }
    }

    return NGX_OK;

failed:

    job->status = NGX_HTTP_INTERNAL_SERVER_ERROR;

    e = ngx_snprintf(job->error, NGX_HTTP_PORTAL_CAPTCHA_ERRLEN - 1,
                     "GD could not draw with portal_captcha_font \"%s\": %s",
                     job->font, err);
    *e = '\0';

    return NGX_ERROR;
}


#define NGX_HTTP_PORTAL_CAPTCHA_TAU  6.283185307179586


static gdImagePtr
ngx_http_portal_captcha_wave(gdImagePtr src,
    ngx_http_portal_captcha_job_t *job, int bg)
{
    int          x, y, w, h;
    double       ax, ay, px, py, fx, fy;
    double       dx[NGX_HTTP_PORTAL_CAPTCHA_HEIGHT];
    double       dy[NGX_HTTP_PORTAL_CAPTCHA_MAX_WIDTH];
    gdImagePtr   dst;

    w = gdImageSX(src);
    h = gdImageSY(src);

    dst = gdImageCreateTrueColor(w, h);
    if (dst == NULL) {
        return NULL;
    }

    /* rows slide sideways a little, columns up and down more */

    ax = ngx_http_portal_captcha_between(job, 10, 20) / 10.0;
    px = ngx_http_portal_captcha_between(job, 36, 60);
    fx = ngx_http_portal_captcha_between(job, 0, 628) / 100.0;

    ay = ngx_http_portal_captcha_between(job, 30, 50) / 10.0;
    py = ngx_http_portal_captcha_between(job, 80, 130);
    fy = ngx_http_portal_captcha_between(job, 0, 628) / 100.0;

    for (y = 0; y < h; y++) {
        dx[y] = ax * sin(NGX_HTTP_PORTAL_CAPTCHA_TAU * y / px + fx);
    }

    for (x = 0; x < w; x++) {
        dy[x] = ay * sin(NGX_HTTP_PORTAL_CAPTCHA_TAU * x / py + fy);
    }

    for (y = 0; y < h; y++) {
        for (x = 0; x < w; x++) {
            gdImageTrueColorPixel(dst, x, y) =
                ngx_http_portal_captcha_pixel(src, x + dx[y], y + dy[x], bg);
        }
    }

    return dst;
}


/* bilinear: the bent strokes stay smooth */

#define ngx_http_portal_captcha_mix(get)                                     \
    (int) ((get(c00) * (1 - fx) + get(c10) * fx) * (1 - fy)                  \
           + (get(c01) * (1 - fx) + get(c11) * fx) * fy + 0.5)

static int
ngx_http_portal_captcha_pixel(gdImagePtr im, double x, double y, int bg)
{
    int     x0, y0, c00, c10, c01, c11;
    double  fx, fy;

    if (x < 0 || y < 0
        || x >= gdImageSX(im) - 1 || y >= gdImageSY(im) - 1)
    {
        return bg;
    }

    x0 = (int) x;
    y0 = (int) y;
    fx = x - x0;
    fy = y - y0;

    c00 = gdImageTrueColorPixel(im, x0, y0);
    c10 = gdImageTrueColorPixel(im, x0 + 1, y0);
    c01 = gdImageTrueColorPixel(im, x0, y0 + 1);
    c11 = gdImageTrueColorPixel(im, x0 + 1, y0 + 1);

    return gdTrueColor(ngx_http_portal_captcha_mix(gdTrueColorGetRed),
                       ngx_http_portal_captcha_mix(gdTrueColorGetGreen),
                       ngx_http_portal_captcha_mix(gdTrueColorGetBlue));
}


static void
ngx_http_portal_captcha_noise(gdImagePtr im,
    ngx_http_portal_captcha_job_t *job, ngx_uint_t lines, ngx_uint_t arcs)
{
    int         w, h, c;
    ngx_uint_t  i;

    w = gdImageSX(im);
    h = gdImageSY(im);

    for (i = 0; i < lines + arcs; i++) {
        c = gdTrueColor(ngx_http_portal_captcha_between(job, 130, 210),
                        ngx_http_portal_captcha_between(job, 130, 210),
                        ngx_http_portal_captcha_between(job, 130, 210));

        gdImageSetThickness(im, ngx_http_portal_captcha_between(job, 1, 2));

        if (i < lines) {
            gdImageLine(im,
                        ngx_http_portal_captcha_between(job, 0, w - 1),
                        ngx_http_portal_captcha_between(job, 0, h - 1),
                        ngx_http_portal_captcha_between(job, 0, w - 1),
                        ngx_http_portal_captcha_between(job, 0, h - 1), c);
            continue;
        }

        gdImageArc(im,
                   ngx_http_portal_captcha_between(job, 0, w - 1),
                   ngx_http_portal_captcha_between(job, 0, h - 1),
                   ngx_http_portal_captcha_between(job, 40, w),
                   ngx_http_portal_captcha_between(job, 30, 2 * h),
                   ngx_http_portal_captcha_between(job, 0, 359),
                   ngx_http_portal_captcha_between(job, 0, 359), c);
    }

    gdImageSetThickness(im, 1);
}


/* a line through the text, which a program must first tell from it */

static void
ngx_http_portal_captcha_curve(gdImagePtr im,
    ngx_http_portal_captcha_job_t *job)
{
    int     x, y, px, py, w, h, c, start, end, y0;
    double  a, period, phase;

    w = gdImageSX(im);
    h = gdImageSY(im);

    start = ngx_http_portal_captcha_between(job, 0, w / 5);
    end = ngx_http_portal_captcha_between(job, w - w / 5, w);
    y0 = ngx_http_portal_captcha_between(job, h / 2 - 8, h / 2 + 8);

    a = ngx_http_portal_captcha_between(job, 6, 14);
    period = ngx_http_portal_captcha_between(job, 90, 180);
    phase = ngx_http_portal_captcha_between(job, 0, 628) / 100.0;

    /* lighter than the text: people tell one from the other */

    c = gdTrueColor(ngx_http_portal_captcha_between(job, 110, 165),
                    ngx_http_portal_captcha_between(job, 110, 165),
                    ngx_http_portal_captcha_between(job, 110, 165));

    gdImageSetThickness(im, 2);

    px = start;
    py = y0 + (int) (a * sin(NGX_HTTP_PORTAL_CAPTCHA_TAU * px / period
                             + phase));

    for (x = start + 4; x <= end; x += 4) {
        y = y0 + (int) (a * sin(NGX_HTTP_PORTAL_CAPTCHA_TAU * x / period
                                + phase));
        gdImageLine(im, px, py, x, y, c);
        px = x;
        py = y;
    }

    gdImageSetThickness(im, 1);
}


/* the sound, in a pool thread */

static void
ngx_http_portal_captcha_speak(void *data)
{
    ngx_http_portal_captcha_job_t *job = data;

    char               message[NGX_HTTP_PORTAL_CAPTCHA_ERRLEN];
    u_char             text[NGX_HTTP_PORTAL_CAPTCHA_TEXT], *p, *last;
    uint32_t           rate;
    ngx_uint_t         n;
    espeak_ng_STATUS   status;

    ngx_http_portal_captcha_stream(job);

    n = ngx_http_portal_captcha_count(job->answer, job->len);
    last = text + sizeof(text) - 1;

    /* one character a sentence: each is spelled, with a pause after it */

    p = ngx_slprintf(text, last, "Recopiez les %ui caractères suivants. ",
                     n);
    p = ngx_http_portal_captcha_spell(p, last, job);
    p = ngx_slprintf(p, last, "Je répète. ");
    p = ngx_http_portal_captcha_spell(p, last, job);
    *p = '\0';

    if (pthread_mutex_lock(&ngx_http_portal_captcha_espeak_lock) != 0) {
        ngx_http_portal_captcha_error(job, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "pthread_mutex_lock() failed", NULL);
        goto done;
    }

    if (ngx_http_portal_captcha_espeak_init(job) != NGX_OK) {
        (void) pthread_mutex_unlock(&ngx_http_portal_captcha_espeak_lock);
        goto done;
    }

    rate = (uint32_t) ngx_http_portal_captcha_espeak_rate;

    /* slow, and each captcha in a voice of its own */

    (void) espeak_ng_SetParameter(espeakRATE, 130, 0);
    (void) espeak_ng_SetParameter(espeakPITCH,
                                  ngx_http_portal_captcha_between(job, 35, 65),
                                  0);

    job->out_len = NGX_HTTP_PORTAL_CAPTCHA_WAV_HDR;
    job->out_size = 0;

    ngx_http_portal_captcha_speaking = job;

    status = espeak_ng_Synthesize(text, p - text + 1, 0, POS_CHARACTER, 0,
                                  espeakCHARS_UTF8|espeakENDPAUSE, NULL,
                                  NULL);

    ngx_http_portal_captcha_speaking = NULL;

    (void) pthread_mutex_unlock(&ngx_http_portal_captcha_espeak_lock);

    if (job->status) {
        goto done;
    }

    if (status != ENS_OK) {
        espeak_ng_GetStatusCodeMessage(status, message, sizeof(message));
        ngx_http_portal_captcha_error(job, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "espeak-ng failed", message);
        goto done;
    }

    if (job->out == NULL) {
        ngx_http_portal_captcha_error(job, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "espeak-ng gave no sound", NULL);
        goto done;
    }

    ngx_http_portal_captcha_wav_header(job, rate);

done:

    ngx_explicit_memzero(text, sizeof(text));
}


static ngx_int_t
ngx_http_portal_captcha_espeak_init(ngx_http_portal_captcha_job_t *job)
{
    espeak_ng_STATUS         status;
    espeak_ng_ERROR_CONTEXT  context;

    if (ngx_http_portal_captcha_espeak_rate > 0) {
        return NGX_OK;
    }

    /* tried once a process: a broken installation stays broken */

    if (ngx_http_portal_captcha_espeak_rate == 0) {
        context = NULL;

        espeak_ng_InitializePath(NULL);
        status = espeak_ng_Initialize(&context);
        espeak_ng_ClearErrorContext(&context);

        if (status == ENS_OK) {
            status = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0,
                                                NULL);
        }

        if (status == ENS_OK) {
            status = espeak_ng_SetVoiceByName("fr");
        }

        if (status == ENS_OK) {
            espeak_SetSynthCallback(ngx_http_portal_captcha_speech);
            ngx_http_portal_captcha_espeak_rate = espeak_ng_GetSampleRate();
        }

        if (status != ENS_OK || ngx_http_portal_captcha_espeak_rate <= 0) {
            espeak_ng_GetStatusCodeMessage(status,
                (char *) ngx_http_portal_captcha_espeak_error,
                sizeof(ngx_http_portal_captcha_espeak_error));
            ngx_http_portal_captcha_espeak_rate = -1;
        }

        if (ngx_http_portal_captcha_espeak_rate > 0) {
            return NGX_OK;
        }
    }

    ngx_http_portal_captcha_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
        "espeak-ng with its French voice could not start (is"
        " espeak-ng-data installed? restart nginx after fixing it)",
        (char *) ngx_http_portal_captcha_espeak_error);

    return NGX_ERROR;
}


static int
ngx_http_portal_captcha_speech(short *wav, int n, espeak_EVENT *events)
{
    int                             i;
    u_char                         *p;
    size_t                          need, size, max;
    ngx_http_portal_captcha_job_t  *job;

    job = ngx_http_portal_captcha_speaking;

    if (job == NULL) {
        return 1;
    }

    if (wav == NULL || n <= 0) {
        return 0;
    }

    need = job->out_len + (size_t) n * 2;
    max = NGX_HTTP_PORTAL_CAPTCHA_WAV_HDR
          + (size_t) ngx_http_portal_captcha_espeak_rate
            * NGX_HTTP_PORTAL_CAPTCHA_SECONDS * 2;

    if (need > max) {
        ngx_http_portal_captcha_error(job, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "the spoken captcha is too long",
                                      NULL);
        return 1;
    }

    if (need > job->out_size) {
        size = ngx_max(need, 2 * job->out_size);
        size = ngx_max(size, 256 * 1024);

        p = realloc(job->out, size);
        if (p == NULL) {
            ngx_http_portal_captcha_error(job, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                          "no memory for the spoken captcha",
                                          NULL);
            return 1;
        }

        job->out = p;
        job->out_size = size;
    }

    /* WAVE is little-endian, whatever the host */

    p = job->out + job->out_len;

    for (i = 0; i < n; i++) {
        *p++ = (u_char) ((uint16_t) wav[i] & 0xff);
        *p++ = (u_char) ((uint16_t) wav[i] >> 8);
    }

    job->out_len = need;

    return 0;
}


static u_char *
ngx_http_portal_captcha_spell(u_char *p, u_char *last,
    ngx_http_portal_captcha_job_t *job)
{
    u_char      *s, *end;
    ngx_uint_t   len;

    s = job->answer;
    end = s + job->len;

    while (s < end) {
        len = ngx_http_portal_captcha_glyph_len(s, end);

        if ((size_t) (last - p) < len + 2) {
            break;
        }

        p = ngx_cpymem(p, s, len);
        *p++ = '.';
        *p++ = ' ';
        s += len;
    }

    return p;
}


static u_char *
ngx_http_portal_captcha_le(u_char *p, uint32_t v, ngx_uint_t bytes)
{
    while (bytes--) {
        *p++ = (u_char) (v & 0xff);
        v >>= 8;
    }

    return p;
}


static void
ngx_http_portal_captcha_wav_header(ngx_http_portal_captcha_job_t *job,
    uint32_t rate)
{
    u_char    *p;
    uint32_t   len;

    len = (uint32_t) (job->out_len - NGX_HTTP_PORTAL_CAPTCHA_WAV_HDR);

    /* RIFF, then the "fmt " chunk (PCM, mono, 16 bits), then "data" */

    p = ngx_cpymem(job->out, "RIFF", 4);
    p = ngx_http_portal_captcha_le(p, 36 + len, 4);
    p = ngx_cpymem(p, "WAVEfmt ", 8);
    p = ngx_http_portal_captcha_le(p, 16, 4);
    p = ngx_http_portal_captcha_le(p, 1, 2);
    p = ngx_http_portal_captcha_le(p, 1, 2);
    p = ngx_http_portal_captcha_le(p, rate, 4);
    p = ngx_http_portal_captcha_le(p, rate * 2, 4);
    p = ngx_http_portal_captcha_le(p, 2, 2);
    p = ngx_http_portal_captcha_le(p, 16, 2);
    p = ngx_cpymem(p, "data", 4);
    (void) ngx_http_portal_captcha_le(p, len, 4);
}


/* a character: a byte, or the bytes of one UTF-8 sequence */

static ngx_uint_t
ngx_http_portal_captcha_glyph_len(u_char *p, u_char *last)
{
    ngx_uint_t  n;

    n = 1;

    while (p + n < last && n < 4 && (p[n] & 0xc0) == 0x80) {
        n++;
    }

    return n;
}


static ngx_uint_t
ngx_http_portal_captcha_count(u_char *p, size_t len)
{
    u_char      *last;
    ngx_uint_t   n;

    last = p + len;

    for (n = 0; p < last; n++) {
        p += ngx_http_portal_captcha_glyph_len(p, last);
    }

    return n;
}


static void
ngx_http_portal_captcha_stream(ngx_http_portal_captcha_job_t *job)
{
    randombytes_buf_deterministic(job->random, sizeof(job->random),
                                  job->seed);
    job->next = 0;
}


static ngx_int_t
ngx_http_portal_captcha_between(ngx_http_portal_captcha_job_t *job,
    ngx_int_t lo, ngx_int_t hi)
{
    uint32_t  v;

    v = job->random[job->next++ % NGX_HTTP_PORTAL_CAPTCHA_RANDOM];

    return lo + (ngx_int_t) (v % (uint32_t) (hi - lo + 1));
}


/* in a thread: done() logs it, with the request's log */

static void
ngx_http_portal_captcha_error(ngx_http_portal_captcha_job_t *job,
    ngx_uint_t status, const char *what, const char *why)
{
    u_char  *p;

    job->status = status;

    p = ngx_snprintf(job->error, NGX_HTTP_PORTAL_CAPTCHA_ERRLEN - 1,
                     "%s%s%s", what, why ? ": " : "", why ? why : "");
    *p = '\0';
}


static ngx_int_t
ngx_http_portal_captcha_header(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key = *name;
    h->value = *value;

    return NGX_OK;
}


/*
 * At a worker's exit (the pool's threads are joined by then): the
 * libraries' process-wide state is given back, so that memory checkers
 * see nothing left behind.
 */

void
ngx_http_portal_captcha_exit(void)
{
    (void) pthread_mutex_lock(&ngx_http_portal_captcha_espeak_lock);

    if (ngx_http_portal_captcha_espeak_rate > 0) {
        (void) espeak_ng_Terminate();
        ngx_http_portal_captcha_espeak_rate = 0;
    }

    (void) pthread_mutex_unlock(&ngx_http_portal_captcha_espeak_lock);

    if (ngx_http_portal_captcha_gd_ready) {
        gdFontCacheShutdown();
        ngx_http_portal_captcha_gd_ready = 0;
    }
}
