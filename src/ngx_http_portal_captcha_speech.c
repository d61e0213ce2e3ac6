
/*
 * Portail Citoyen: a captcha's answer spoken in French by espeak-ng, in a
 * pool thread, as a WAVE file: the non-visual alternative that French
 * public sites must offer (RGAA 1.5).  Each character is spelled slowly,
 * the whole said twice, in a pitch of the captcha's own.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <pthread.h>

#include <espeak-ng/speak_lib.h>
#include <espeak-ng/espeak_ng.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_captcha_media.h"


/* the sound: 16-bit mono PCM, at most a minute */
#define NGX_HTTP_PORTAL_CAPTCHA_SECONDS   60
#define NGX_HTTP_PORTAL_CAPTCHA_WAV_HDR   44
#define NGX_HTTP_PORTAL_CAPTCHA_TEXT      512


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


void
ngx_http_portal_captcha_speech_speak(void *data)
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
    job->free_out = free;

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


/*
 * At a worker's exit (the pool's threads are joined by then): espeak-ng's
 * process-wide state is given back, so that memory checkers see nothing
 * left behind.
 */

void
ngx_http_portal_captcha_speech_exit(void)
{
    (void) pthread_mutex_lock(&ngx_http_portal_captcha_espeak_lock);

    if (ngx_http_portal_captcha_espeak_rate > 0) {
        (void) espeak_ng_Terminate();
        ngx_http_portal_captcha_espeak_rate = 0;
    }

    (void) pthread_mutex_unlock(&ngx_http_portal_captcha_espeak_lock);
}
