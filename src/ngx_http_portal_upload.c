
/*
 * Portail Citoyen: uploads, streamed.  The body is read unbuffered, as it
 * comes, through the multipart parser (_upload_form.c collects its
 * fields); the file's bytes fill a buffer of one chunk (256 KiB), and a
 * full buffer is stored (_store.c) before anything more of the body is
 * read: the client waits on TCP's window meanwhile, and a worker holds
 * about one chunk per upload in flight, whatever the file's size and
 * however many uploads come at once.
 *
 * The document is begun when its first chunk is ready, or at the end of a
 * smaller file: its type is found in those first bytes, and its kind goes
 * with it when it came before the file.  Its digest and size are counted
 * on the way; finish gives them to PostgreSQL with the kind (which may
 * have come last), and PostgreSQL answers with the document.  Any failure
 * after the beginning aborts it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_multipart.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_store.h"
#include "ngx_http_portal_upload.h"
#include "ngx_http_portal_upload_form.h"


/* what a form adds around its file: delimiters, part headers, "kind" */
#define NGX_HTTP_PORTAL_UPLOAD_ENVELOPE  65536

/* far over any quota; sizes are counted in size_t and integer columns */
#define NGX_HTTP_PORTAL_UPLOAD_LIMIT     (512 * 1024 * 1024)


typedef struct {
    ngx_http_portal_upload_form_t   form;
    ngx_http_portal_store_write_t  *store;
    /* the bytes of the buffer that the statement running stores */
    size_t                          sent;
    /* the document was begun; a statement runs; the body is all read */
    unsigned                        begun:1;
    unsigned                        busy:1;
    unsigned                        ended:1;
} ngx_http_portal_upload_ctx_t;


static void ngx_http_portal_upload_first(ngx_http_request_t *r);
static void ngx_http_portal_upload_more(ngx_http_request_t *r);
static ngx_int_t ngx_http_portal_upload_take(ngx_http_request_t *r,
    ngx_http_portal_upload_ctx_t *u);
static ngx_int_t ngx_http_portal_upload_step(ngx_http_request_t *r,
    ngx_http_portal_upload_ctx_t *u);
static void ngx_http_portal_upload_stored(ngx_http_request_t *r, void *data);
static void ngx_http_portal_upload_end(ngx_http_request_t *r,
    ngx_http_portal_upload_ctx_t *u);
static ngx_int_t ngx_http_portal_upload_answer(ngx_http_request_t *r,
    ngx_http_portal_upload_ctx_t *u, ngx_int_t rc);


ngx_int_t
ngx_http_portal_upload_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    int                            st;
    size_t                         blen, max;
    ngx_int_t                      rc;
    ngx_str_t                     *type;
    const u_char                  *b;
    ngx_http_portal_loc_conf_t    *plcf;
    ngx_http_portal_upload_ctx_t  *u;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    type = r->headers_in.content_type ? &r->headers_in.content_type->value
                                      : NULL;

    st = (type == NULL) ? NGX_HTTP_PORTAL_MP_ERR_TYPE
                        : ngx_http_portal_multipart_boundary(type->data,
                                                             type->len,
                                                             &b, &blen);

    if (st == NGX_HTTP_PORTAL_MP_ERR_TYPE) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_portal_response_error(r,
                                              NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                              "unsupported_media_type",
                                              NGX_HTTP_PORTAL_M_MULTIPART_TYPE);
    }

    if (st != NGX_HTTP_PORTAL_MP_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "portal: upload refused: %s",
                      ngx_http_portal_multipart_strerror(st));

        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_portal_upload_form_bad(r);
    }

    max = ngx_min(plcf->upload_max_size, NGX_HTTP_PORTAL_UPLOAD_LIMIT);

    /* no need to read what cannot fit */

    if (r->headers_in.content_length_n
        > (off_t) (max + NGX_HTTP_PORTAL_UPLOAD_ENVELOPE))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "portal: upload refused: %O bytes announced,"
                      " portal_upload_max_size is %uz",
                      r->headers_in.content_length_n, max);

        /* no "100 Continue": the client need not send it at all */
        r->expect_tested = 1;

        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_portal_upload_form_too_large(r);
    }

    u = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_upload_ctx_t));
    if (u == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_portal_upload_form_init(r, &u->form, b, blen, max)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    u->store = ngx_http_portal_store_write(r, ctx,
                                           ngx_http_portal_upload_stored, u);
    if (u->store == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->data = u;

    /* as it comes, never into a temporary file */
    r->request_body_no_buffering = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_portal_upload_first);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/* the first pieces have come, or the whole body */

static void
ngx_http_portal_upload_first(ngx_http_request_t *r)
{
    r->read_event_handler = ngx_http_portal_upload_more;

    ngx_http_portal_upload_more(r);
}


/*
 * Reads what the client sent, as long as it comes and no chunk is being
 * stored.  While one is, read events are left alone: the events are
 * edge-triggered, and reading goes on by itself once the chunk is stored,
 * so that data that came meanwhile, or the client's end, is seen then.
 */

static void
ngx_http_portal_upload_more(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_http_portal_ctx_t         *ctx;
    ngx_http_portal_upload_ctx_t  *u;

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    u = ctx->data;

    if (u->busy) {
        return;
    }

    for ( ;; ) {

        if (ngx_http_portal_upload_take(r, u) != NGX_OK) {
            return;
        }

        if (!r->reading_body) {
            /*
             * read in full: from now on a read event is the client going
             * away, which the database layer watches for
             */
            r->read_event_handler = ngx_http_block_reading;

            ngx_http_portal_upload_end(r, u);
            return;
        }

        rc = ngx_http_read_unbuffered_request_body(r);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            /* the client went away, or was too slow */
            (void) ngx_http_portal_upload_answer(r, u, rc);
            return;
        }

        if (rc == NGX_AGAIN && r->request_body->bufs == NULL) {
            /* nothing more for now: the next read event */
            return;
        }
    }
}


/*
 * What was read so far, through the parser, a slice at a time; a full
 * chunk is stored first.  NGX_OK when all was taken; NGX_AGAIN when a
 * statement runs (the rest waits in the body's buffers); NGX_DONE when
 * the request was answered.
 */

static ngx_int_t
ngx_http_portal_upload_take(ngx_http_request_t *r,
    ngx_http_portal_upload_ctx_t *u)
{
    int           st;
    size_t        n;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (r->request_body == NULL) {
        return NGX_OK;
    }

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        while (ngx_buf_in_memory(b) && b->pos < b->last) {

            if (u->form.len >= NGX_HTTP_PORTAL_STORE_CHUNK) {
                rc = ngx_http_portal_upload_step(r, u);
                if (rc != NGX_OK) {
                    return rc;
                }
            }

            n = ngx_min((size_t) (b->last - b->pos),
                        NGX_HTTP_PORTAL_UPLOAD_SLICE);

            st = ngx_http_portal_multipart_feed(&u->form.mp, b->pos, n);

            /* consumed: nginx may use the buffer for what comes next */
            b->pos += n;

            if (st != NGX_HTTP_PORTAL_MP_OK && st != NGX_HTTP_PORTAL_MP_DONE) {
                rc = ngx_http_portal_upload_form_refusal(r, &u->form, st);
                return ngx_http_portal_upload_answer(r, u, rc);
            }
        }
    }

    r->request_body->bufs = NULL;

    return NGX_OK;
}


/*
 * What to store next: the beginning (once the first chunk is ready, or
 * the body ended), a full chunk, at the end the last one and the finish.
 * NGX_AGAIN while its statement runs; NGX_OK when nothing is to be stored
 * yet (read on); NGX_DONE when the request was answered.
 */

static ngx_int_t
ngx_http_portal_upload_step(ngx_http_request_t *r,
    ngx_http_portal_upload_ctx_t *u)
{
    ngx_int_t                rc;
    ngx_str_t                kind, name;
    ngx_http_portal_upload_form_t  *f;
    u_char                   digest[crypto_hash_sha256_BYTES];

    f = &u->form;

    if (!u->begun) {
        if (!u->ended
            && ngx_http_portal_upload_form_check(r, f, 0, &rc) != NGX_OK)
        {
            return ngx_http_portal_upload_answer(r, u, rc);
        }

        kind.data = f->kind;
        kind.len = f->kind_len;
        name.data = f->name;
        name.len = f->name_len;

        u->begun = 1;

        rc = ngx_http_portal_store_begin(u->store, &kind, &name);

    } else if (f->len >= NGX_HTTP_PORTAL_STORE_CHUNK) {
        u->sent = NGX_HTTP_PORTAL_STORE_CHUNK;
        rc = ngx_http_portal_store_chunk(u->store, f->buf, u->sent);

    } else if (!u->ended) {
        return NGX_OK;

    } else if (f->len) {
        u->sent = f->len;
        rc = ngx_http_portal_store_chunk(u->store, f->buf, u->sent);

    } else {
        crypto_hash_sha256_final(&f->sha256, digest);

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "portal: storing a document of %uz bytes, %s",
                       f->size, f->type);

        kind.data = f->kind;
        kind.len = f->kind_len;

        /* the digest is copied into the statement's parameters at once */
        rc = ngx_http_portal_store_finish(u->store, &kind, f->type, digest,
                                          f->size);
    }

    if (rc != NGX_OK) {
        return ngx_http_portal_upload_answer(r, u,
                   ngx_http_portal_db_error(r, NGX_HTTP_PORTAL_DB_UNAVAILABLE,
                                            NULL));
    }

    u->busy = 1;

    /* the client is not late while we store: no client_body_timeout */

    if (r->connection->read->timer_set) {
        ngx_del_timer(r->connection->read);
    }

    return NGX_AGAIN;
}


/* a statement answered as it should: what it stored leaves the buffer */

static void
ngx_http_portal_upload_stored(ngx_http_request_t *r, void *data)
{
    ngx_http_portal_upload_ctx_t *u = data;

    ngx_http_portal_upload_form_t  *f;

    f = &u->form;
    u->busy = 0;

    if (u->sent) {
        ngx_memmove(f->buf, f->buf + u->sent, f->len - u->sent);
        f->len -= u->sent;
        u->sent = 0;
    }

    if (ngx_http_portal_upload_step(r, u) == NGX_OK) {
        ngx_http_portal_upload_more(r);
    }
}


static void
ngx_http_portal_upload_end(ngx_http_request_t *r,
    ngx_http_portal_upload_ctx_t *u)
{
    int        st;
    ngx_int_t  rc;

    u->ended = 1;

    st = ngx_http_portal_multipart_finish(&u->form.mp);

    if (st != NGX_HTTP_PORTAL_MP_DONE) {
        (void) ngx_http_portal_upload_answer(r, u,
                   ngx_http_portal_upload_form_refusal(r, &u->form, st));
        return;
    }

    if (ngx_http_portal_upload_form_check(r, &u->form, 1, &rc) != NGX_OK) {
        (void) ngx_http_portal_upload_answer(r, u, rc);
        return;
    }

    (void) ngx_http_portal_upload_step(r, u);
}


/*
 * The request ends with rc (an answer sent, or why not): a document begun
 * is taken back first.  What is left of the body, nginx reads and drops
 * (lingering close).
 */

static ngx_int_t
ngx_http_portal_upload_answer(ngx_http_request_t *r,
    ngx_http_portal_upload_ctx_t *u, ngx_int_t rc)
{
    ngx_http_portal_store_abort(u->store);

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}
