
/*
 * Portail Citoyen: an upload's form: the parts of a multipart/form-data
 * body that make a supporting document ("kind" and "file"), collected as
 * the parser gives them, what they must be, and the answers when they are
 * not.
 */


#ifndef _NGX_HTTP_PORTAL_UPLOAD_FORM_H_INCLUDED_
#define _NGX_HTTP_PORTAL_UPLOAD_FORM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_multipart.h"
#include "ngx_http_portal_store.h"


#define NGX_HTTP_PORTAL_UPLOAD_KIND_MAX  64

/*
 * The parser is fed this much at a time: it gives back at most that and a
 * delimiter's start it held back, so the file's buffer never holds more
 * than a chunk and one slice.
 */
#define NGX_HTTP_PORTAL_UPLOAD_SLICE     16384
#define NGX_HTTP_PORTAL_UPLOAD_BUFFER                                        \
    (NGX_HTTP_PORTAL_STORE_CHUNK + NGX_HTTP_PORTAL_UPLOAD_SLICE              \
     + 4 + NGX_HTTP_PORTAL_MP_BOUNDARY_MAX)


typedef struct {
    ngx_http_portal_mp_t            mp;
    ngx_log_t                      *log;
    ngx_pool_t                     *pool;

    /* portal_upload_max_size */
    size_t                          max;
    ngx_uint_t                      field;

    /* the file's bytes not stored yet, its size and digest so far */
    u_char                         *buf;
    size_t                          len;
    size_t                          size;
    crypto_hash_sha256_state        sha256;

    /* once checked: one of ngx_http_portal_multipart_sniff()'s types */
    const char                     *type;

    /* NUL-terminated once checked */
    u_char                          kind[NGX_HTTP_PORTAL_UPLOAD_KIND_MAX + 1];
    size_t                          kind_len;

    /* a display name, never a path; with the type's extension once
       checked */
    u_char                          name[NGX_HTTP_PORTAL_MP_NAME_MAX + 1];
    size_t                          name_len;

    unsigned                        has_file:1;
    unsigned                        has_kind:1;
    unsigned                        two_files:1;
    unsigned                        two_kinds:1;
    unsigned                        kind_too_long:1;
    unsigned                        too_large:1;
    unsigned                        failed:1;
} ngx_http_portal_upload_form_t;


/* the parser of the body whose boundary is b; NGX_OK or NGX_ERROR */
ngx_int_t ngx_http_portal_upload_form_init(ngx_http_request_t *r,
    ngx_http_portal_upload_form_t *f, const u_char *b, size_t len,
    size_t max);

/*
 * The fields so far, when the file's first chunk is here (complete 0: the
 * kind may come later, but what came of it must be right), or all of them
 * at the end of the body; the type is found in the file's first bytes,
 * once.  NGX_OK; or NGX_DECLINED, the answer sent (422, 415) and what the
 * content handler returns for it in *rc.  Once checked, f->kind is
 * NUL-terminated (empty when it has not come yet).
 */
ngx_int_t ngx_http_portal_upload_form_check(ngx_http_request_t *r,
    ngx_http_portal_upload_form_t *f, ngx_uint_t complete, ngx_int_t *rc);

/* the parser stopped with status: 413, 400 or 500, sent */
ngx_int_t ngx_http_portal_upload_form_refusal(ngx_http_request_t *r,
    ngx_http_portal_upload_form_t *f, int status);

/* 413 "too_large", the limit as people say it; 400 "bad_multipart" */
ngx_int_t ngx_http_portal_upload_form_too_large(ngx_http_request_t *r);
ngx_int_t ngx_http_portal_upload_form_bad(ngx_http_request_t *r);


#endif /* _NGX_HTTP_PORTAL_UPLOAD_FORM_H_INCLUDED_ */
