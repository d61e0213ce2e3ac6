
/*
 * Portail Citoyen: what the captcha routes hand to a pool thread to draw
 * (_captcha_image.c) or to speak (_captcha_speech.c) a captcha's answer.
 * The picture and the sound of one captcha are made from a seed of its
 * own (a keyed hash of its id): asking again gives the same ones.
 */


#ifndef _NGX_HTTP_PORTAL_CAPTCHA_MEDIA_H_INCLUDED_
#define _NGX_HTTP_PORTAL_CAPTCHA_MEDIA_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <sodium.h>

#include "ngx_http_portal_captcha.h"


/* random numbers a picture uses, from the captcha's own seed */
#define NGX_HTTP_PORTAL_CAPTCHA_RANDOM    2048
#define NGX_HTTP_PORTAL_CAPTCHA_ERRLEN    256


typedef struct {
    u_char                            answer[NGX_HTTP_PORTAL_CAPTCHA_MAX];
    size_t                            len;
    char                             *font;

    u_char                            seed[randombytes_SEEDBYTES];
    uint32_t                          random[NGX_HTTP_PORTAL_CAPTCHA_RANDOM];
    ngx_uint_t                        next;

    /* the file made, freed with free_out() */
    u_char                           *out;
    size_t                            out_len;
    size_t                            out_size;
    void                            (*free_out)(void *p);

    /* 0, or the status to answer with and why, for the log */
    ngx_uint_t                        status;
    u_char                            error[NGX_HTTP_PORTAL_CAPTCHA_ERRLEN];
} ngx_http_portal_captcha_job_t;


/* in a pool thread: a PNG, or a WAVE in French */
void ngx_http_portal_captcha_image_draw(void *data);
void ngx_http_portal_captcha_speech_speak(void *data);

/* at a worker's exit: the libraries' process-wide state */
void ngx_http_portal_captcha_image_exit(void);
void ngx_http_portal_captcha_speech_exit(void);


/* the job's random numbers, again from the start */

static ngx_inline void
ngx_http_portal_captcha_stream(ngx_http_portal_captcha_job_t *job)
{
    randombytes_buf_deterministic(job->random, sizeof(job->random),
                                  job->seed);
    job->next = 0;
}


static ngx_inline ngx_int_t
ngx_http_portal_captcha_between(ngx_http_portal_captcha_job_t *job,
    ngx_int_t lo, ngx_int_t hi)
{
    uint32_t  v;

    v = job->random[job->next++ % NGX_HTTP_PORTAL_CAPTCHA_RANDOM];

    return lo + (ngx_int_t) (v % (uint32_t) (hi - lo + 1));
}


/* a character: a byte, or the bytes of one UTF-8 sequence */

static ngx_inline ngx_uint_t
ngx_http_portal_captcha_glyph_len(u_char *p, u_char *last)
{
    ngx_uint_t  n;

    n = 1;

    while (p + n < last && n < 4 && (p[n] & 0xc0) == 0x80) {
        n++;
    }

    return n;
}


static ngx_inline ngx_uint_t
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


/* in a thread: the routes log it, with the request's log */

static ngx_inline void
ngx_http_portal_captcha_error(ngx_http_portal_captcha_job_t *job,
    ngx_uint_t status, const char *what, const char *why)
{
    u_char  *p;

    job->status = status;

    p = ngx_snprintf(job->error, NGX_HTTP_PORTAL_CAPTCHA_ERRLEN - 1,
                     "%s%s%s", what, why ? ": " : "", why ? why : "");
    *p = '\0';
}


#endif /* _NGX_HTTP_PORTAL_CAPTCHA_MEDIA_H_INCLUDED_ */
