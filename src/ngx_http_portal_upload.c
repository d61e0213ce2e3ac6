
/*
 * Portail Citoyen: uploads.  A request body is read through the multipart
 * parser, whether nginx kept it in memory or wrote it to a temporary file,
 * and the fields "kind" and "file" of a supporting document are collected;
 * the file's type is found in its bytes.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_text.h"
#include "ngx_http_portal_upload.h"




#define NGX_HTTP_PORTAL_UPLOAD_KIND_MAX  64

/* file parts of a body are read in chunks of this size */
#define NGX_HTTP_PORTAL_UPLOAD_CHUNK     65536

/* what a form adds around its file: delimiters, part headers, "kind" */
#define NGX_HTTP_PORTAL_UPLOAD_ENVELOPE  65536

/* libpq counts in int, bytea stops at 1 GB */
#define NGX_HTTP_PORTAL_UPLOAD_LIMIT     (512 * 1024 * 1024)


typedef enum {
    NGX_HTTP_PORTAL_UPLOAD_OTHER = 0,
    NGX_HTTP_PORTAL_UPLOAD_KIND,
    NGX_HTTP_PORTAL_UPLOAD_FILE
} ngx_http_portal_upload_field_e;


typedef struct {
    ngx_http_portal_upload_t        up;
    ngx_http_portal_mp_t            mp;

    ngx_http_portal_upload_pt       next;
    /* the caller's ctx->data, given back before next() */
    void                           *data;
    ngx_log_t                      *log;
    ngx_pool_t                     *pool;

    size_t                          max;
    ngx_http_portal_upload_field_e  field;

    u_char                         *file;
    size_t                          file_len;
    size_t                          file_cap;

    u_char                          kind[NGX_HTTP_PORTAL_UPLOAD_KIND_MAX + 1];
    size_t                          kind_len;

    u_char                          name[NGX_HTTP_PORTAL_MP_NAME_MAX + 1];
    size_t                          name_len;

    unsigned                        has_file:1;
    unsigned                        has_kind:1;
    unsigned                        two_files:1;
    unsigned                        two_kinds:1;
    unsigned                        kind_too_long:1;
    unsigned                        too_large:1;
    unsigned                        failed:1;
} ngx_http_portal_upload_ctx_t;


static void ngx_http_portal_upload_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_portal_upload_feed(ngx_http_request_t *r,
    ngx_http_portal_upload_ctx_t *u, int *status);
static ngx_int_t ngx_http_portal_upload_check(ngx_http_request_t *r,
    ngx_http_portal_upload_ctx_t *u, ngx_int_t *rc);
static int ngx_http_portal_upload_begin(void *data,
    ngx_http_portal_mp_part_t *part);
static int ngx_http_portal_upload_data(void *data, const u_char *p,
    size_t len);
static int ngx_http_portal_upload_end(void *data);
static void ngx_http_portal_upload_name(ngx_http_portal_upload_ctx_t *u,
    const char *type);
static ngx_int_t ngx_http_portal_upload_too_large(ngx_http_request_t *r);
static ngx_int_t ngx_http_portal_upload_bad(ngx_http_request_t *r);


ngx_int_t
ngx_http_portal_upload_read(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_http_portal_upload_pt next)
{
    int                            st;
    size_t                         blen;
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

        return ngx_http_portal_upload_bad(r);
    }

    u = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_upload_ctx_t));
    if (u == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    u->max = ngx_min(plcf->upload_max_size, NGX_HTTP_PORTAL_UPLOAD_LIMIT);

    /* no need to read what cannot fit */

    if (r->headers_in.content_length_n
        > (off_t) (u->max + NGX_HTTP_PORTAL_UPLOAD_ENVELOPE))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "portal: upload refused: %O bytes announced,"
                      " portal_upload_max_size is %uz",
                      r->headers_in.content_length_n, u->max);

        /* no "100 Continue": the client need not send it at all */
        r->expect_tested = 1;

        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_portal_upload_too_large(r);
    }

    u->mp.on_begin = ngx_http_portal_upload_begin;
    u->mp.on_data = ngx_http_portal_upload_data;
    u->mp.on_end = ngx_http_portal_upload_end;
    u->mp.data = u;

    if (ngx_http_portal_multipart_init(&u->mp, b, blen)
        != NGX_HTTP_PORTAL_MP_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    u->next = next;
    u->data = ctx->data;
    u->log = r->connection->log;
    u->pool = r->pool;

    ctx->data = u;

    rc = ngx_http_read_client_request_body(r, ngx_http_portal_upload_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        ctx->data = u->data;
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_portal_upload_body(ngx_http_request_t *r)
{
    int                            status;
    ngx_int_t                      rc;
    ngx_http_portal_ctx_t         *ctx;
    ngx_http_portal_upload_ctx_t  *u;

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    u = ctx->data;
    ctx->data = u->data;

    if (ngx_http_portal_upload_feed(r, u, &status) != NGX_OK || u->failed) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (u->too_large) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "portal: upload refused: the file is larger than"
                      " portal_upload_max_size (%uz)", u->max);

        ngx_http_finalize_request(r, ngx_http_portal_upload_too_large(r));
        return;
    }

    if (status != NGX_HTTP_PORTAL_MP_DONE) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "portal: upload refused: %s",
                      ngx_http_portal_multipart_strerror(status));

        ngx_http_finalize_request(r, ngx_http_portal_upload_bad(r));
        return;
    }

    if (ngx_http_portal_upload_check(r, u, &rc) == NGX_OK) {
        rc = u->next(r, ctx, &u->up);
    }

    ngx_http_finalize_request(r, rc);
}


/*
 * nginx has the whole body, in memory buffers, in its temporary file, or
 * both; the file is read a bounded chunk at a time, as nginx itself reads
 * it to pass a body on.
 */

static ngx_int_t
ngx_http_portal_upload_feed(ngx_http_request_t *r,
    ngx_http_portal_upload_ctx_t *u, int *status)
{
    int           st;
    off_t         total, pos;
    size_t        size;
    ssize_t       n;
    u_char       *chunk;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    st = NGX_HTTP_PORTAL_MP_OK;
    total = 0;
    chunk = NULL;

    for (cl = r->request_body ? r->request_body->bufs : NULL;
         cl;
         cl = cl->next)
    {
        total += ngx_buf_size(cl->buf);
    }

    /* the file cannot be larger than the body */

    u->file_cap = (size_t) ngx_min(total, (off_t) u->max);

    for (cl = r->request_body ? r->request_body->bufs : NULL;
         cl && st == NGX_HTTP_PORTAL_MP_OK;
         cl = cl->next)
    {
        b = cl->buf;

        if (ngx_buf_in_memory(b)) {
            st = ngx_http_portal_multipart_feed(&u->mp, b->pos,
                                                b->last - b->pos);
            continue;
        }

        if (!b->in_file) {
            continue;
        }

        for (pos = b->file_pos;
             pos < b->file_last && st == NGX_HTTP_PORTAL_MP_OK;
             pos += n)
        {
            if (chunk == NULL) {
                chunk = ngx_palloc(r->pool, NGX_HTTP_PORTAL_UPLOAD_CHUNK);
                if (chunk == NULL) {
                    return NGX_ERROR;
                }
            }

            size = (size_t) ngx_min(b->file_last - pos,
                                    NGX_HTTP_PORTAL_UPLOAD_CHUNK);

            n = ngx_read_file(b->file, chunk, size, pos);

            if (n == NGX_ERROR) {
                return NGX_ERROR;
            }

            if (n == 0) {
                ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                              "portal: the body's temporary file \"%V\""
                              " ends at %O, before %O",
                              &b->file->name, pos, b->file_last);
                return NGX_ERROR;
            }

            st = ngx_http_portal_multipart_feed(&u->mp, chunk, n);
        }
    }

    if (chunk) {
        ngx_pfree(r->pool, chunk);
    }

    if (st == NGX_HTTP_PORTAL_MP_OK) {
        st = ngx_http_portal_multipart_finish(&u->mp);
    }

    *status = st;

    return NGX_OK;
}


/*
 * A well-formed body: are the fields there and sound, and is the file one
 * of ours?  NGX_OK fills u->up; NGX_DECLINED when the answer was sent (or
 * failed), with what the content handler returns for it in *rc.
 */

static ngx_int_t
ngx_http_portal_upload_check(ngx_http_request_t *r,
    ngx_http_portal_upload_ctx_t *u, ngx_int_t *rc)
{
    u_char                     name[NGX_HTTP_PORTAL_MP_NAME_MAX * 4], *p;
    size_t                     i, n;
    json_t                    *fields;
    uint32_t                   cp;
    const char                *type, *file_error, *kind_error;
    ngx_http_portal_upload_t  *up;

    file_error = NULL;
    kind_error = NULL;

    if (!u->has_file) {
        file_error = NGX_HTTP_PORTAL_M_FILE_MISSING;

    } else if (u->two_files) {
        file_error = NGX_HTTP_PORTAL_M_FILE_TWICE;

    } else if (u->file_len == 0) {
        file_error = NGX_HTTP_PORTAL_M_FILE_EMPTY;
    }

    if (!u->has_kind || u->kind_len == 0) {
        kind_error = NGX_HTTP_PORTAL_M_FILE_KIND;

    } else if (u->two_kinds || u->kind_too_long) {
        kind_error = NGX_HTTP_PORTAL_M_FILE_KIND_LONG;

    } else {
        for (i = 0; i < u->kind_len; i += n) {
            n = ngx_http_portal_multipart_utf8_char(u->kind + i,
                                                 u->kind_len - i, &cp);
            if (n == 0) {
                kind_error = NGX_HTTP_PORTAL_M_FILE_KIND_CHARS;
                break;
            }
        }
    }

    if (file_error || kind_error) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

        fields = json_object();
        if (fields == NULL) {
            return NGX_DECLINED;
        }

        if ((file_error
             && json_object_set_new(fields, "file",
                                    json_string(file_error)) != 0)
            || (kind_error
                && json_object_set_new(fields, "kind",
                                       json_string(kind_error)) != 0))
        {
            json_decref(fields);
            return NGX_DECLINED;
        }

        *rc = ngx_http_portal_response_invalid(r,
                                               NGX_HTTP_PORTAL_M_FILE_INVALID,
                                               fields);
        return NGX_DECLINED;
    }

    /* what the client says the file is does not count: its bytes do */

    type = ngx_http_portal_multipart_sniff(u->file, u->file_len);

    if (type == NULL) {
        p = ngx_http_portal_text_escape_to(name, name + sizeof(name),
                                           u->name, u->name_len);

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "portal: upload refused: \"%*s\" is not a PDF, JPEG"
                      " or PNG", p - name, name);

        *rc = ngx_http_portal_response_error(r,
                                             NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                             "unsupported_type",
                                             NGX_HTTP_PORTAL_M_FILE_TYPE);
        return NGX_DECLINED;
    }

    up = &u->up;

    u->kind[u->kind_len] = '\0';
    up->kind.data = u->kind;
    up->kind.len = u->kind_len;

    if (u->name_len == 0) {
        u->name_len = sizeof("document") - 1;
        ngx_memcpy(u->name, "document", u->name_len);
    }

    ngx_http_portal_upload_name(u, type);

    u->name[u->name_len] = '\0';
    up->filename.data = u->name;
    up->filename.len = u->name_len;

    up->content_type.data = (u_char *) type;
    up->content_type.len = ngx_strlen(type);

    up->content.data = u->file;
    up->content.len = u->file_len;

    crypto_hash_sha256(up->sha256, u->file, u->file_len);
    *ngx_hex_dump(up->sha256_hex, up->sha256, sizeof(up->sha256)) = '\0';

    return NGX_OK;
}


static int
ngx_http_portal_upload_begin(void *data, ngx_http_portal_mp_part_t *part)
{
    ngx_http_portal_upload_ctx_t  *u = data;

    u->field = NGX_HTTP_PORTAL_UPLOAD_OTHER;

    if (part->name_len == 4 && ngx_strncmp(part->name, "file", 4) == 0) {

        if (u->has_file) {
            u->two_files = 1;
            return 0;
        }

        u->has_file = 1;
        u->field = NGX_HTTP_PORTAL_UPLOAD_FILE;

        if (part->has_filename) {
            u->name_len = ngx_http_portal_multipart_filename(u->name,
                                                      part->filename,
                                                      part->filename_len);
        }

        return 0;
    }

    if (part->name_len == 4 && ngx_strncmp(part->name, "kind", 4) == 0) {

        if (u->has_kind) {
            u->two_kinds = 1;
            return 0;
        }

        u->has_kind = 1;
        u->field = NGX_HTTP_PORTAL_UPLOAD_KIND;
    }

    /* other fields are read past */

    return 0;
}


static int
ngx_http_portal_upload_data(void *data, const u_char *p, size_t len)
{
    ngx_http_portal_upload_ctx_t  *u = data;

    switch (u->field) {

    case NGX_HTTP_PORTAL_UPLOAD_KIND:
        if (u->kind_too_long) {
            return 0;
        }

        if (len > NGX_HTTP_PORTAL_UPLOAD_KIND_MAX - u->kind_len) {
            u->kind_too_long = 1;
            return 0;
        }

        ngx_memcpy(u->kind + u->kind_len, p, len);
        u->kind_len += len;

        return 0;

    case NGX_HTTP_PORTAL_UPLOAD_FILE:
        if (len > u->max - u->file_len) {
            u->too_large = 1;
            return 1;
        }

        if (u->file == NULL) {
            u->file = ngx_palloc(u->pool, u->file_cap);
            if (u->file == NULL) {
                u->failed = 1;
                return 1;
            }
        }

        if (len > u->file_cap - u->file_len) {
            ngx_log_error(NGX_LOG_ALERT, u->log, 0,
                          "portal: upload: more file data than body");
            u->failed = 1;
            return 1;
        }

        ngx_memcpy(u->file + u->file_len, p, len);
        u->file_len += len;

        return 0;

    default:
        return 0;
    }
}


static int
ngx_http_portal_upload_end(void *data)
{
    ngx_http_portal_upload_ctx_t  *u = data;

    u->field = NGX_HTTP_PORTAL_UPLOAD_OTHER;

    return 0;
}


/*
 * A document's name says what it is: the client's, with the extension of
 * the type found in its bytes ("x.html" holding a PDF is kept as
 * "x.pdf"), so that whoever downloads it later opens what it really is.
 */

static void
ngx_http_portal_upload_name(ngx_http_portal_upload_ctx_t *u,
    const char *type)
{
    u_char       *dot, *p;
    size_t        len, ext_len, base;
    ngx_uint_t    i;
    const char  **e;

    static const char  *pdf[] = { "pdf", NULL };
    static const char  *jpeg[] = { "jpg", "jpeg", NULL };
    static const char  *png[] = { "png", NULL };

    e = (ngx_strcmp(type, "application/pdf") == 0) ? pdf
        : (ngx_strcmp(type, "image/jpeg") == 0) ? jpeg : png;

    dot = NULL;

    for (p = u->name + u->name_len - 1; p > u->name; p--) {
        if (*p == '.') {
            dot = p;
            break;
        }
    }

    base = u->name_len;

    if (dot) {
        ext_len = u->name + u->name_len - dot - 1;

        for (i = 0; e[i]; i++) {
            if (ext_len == ngx_strlen(e[i])
                && ngx_strncasecmp(dot + 1, (u_char *) e[i], ext_len) == 0)
            {
                return;
            }
        }

        /* an extension of another type goes; a dot in a name stays */

        for (i = 0; i < ext_len; i++) {
            if (!((dot[1 + i] >= 'a' && dot[1 + i] <= 'z')
                  || (dot[1 + i] >= 'A' && dot[1 + i] <= 'Z')
                  || (dot[1 + i] >= '0' && dot[1 + i] <= '9')))
            {
                break;
            }
        }

        if (ext_len >= 1 && ext_len <= 5 && i == ext_len) {
            base = dot - u->name;
        }
    }

    len = ngx_strlen(e[0]);

    /* room for the extension: cut the name, but not inside a character */

    while (base + 1 + len > NGX_HTTP_PORTAL_MP_NAME_MAX) {
        base--;

        while (base && (u->name[base] & 0xc0) == 0x80) {
            base--;
        }
    }

    p = u->name + base;
    *p++ = '.';
    p = ngx_cpymem(p, e[0], len);

    u->name_len = p - u->name;
}


static ngx_int_t
ngx_http_portal_upload_too_large(ngx_http_request_t *r)
{
    u_char                      *p;
    ngx_http_portal_loc_conf_t  *plcf;
    u_char                       message[128];

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    /* the limit as people say it: "10 Mo" */

    if (plcf->upload_max_size >= 1024 * 1024
        && plcf->upload_max_size % (1024 * 1024) == 0)
    {
        p = ngx_snprintf(message, sizeof(message) - 1,
                         NGX_HTTP_PORTAL_M_FILE_TOO_LARGE,
                         plcf->upload_max_size >> 20, "Mo");

    } else if (plcf->upload_max_size >= 1024
               && plcf->upload_max_size % 1024 == 0)
    {
        p = ngx_snprintf(message, sizeof(message) - 1,
                         NGX_HTTP_PORTAL_M_FILE_TOO_LARGE,
                         plcf->upload_max_size >> 10, "Ko");

    } else {
        p = ngx_snprintf(message, sizeof(message) - 1,
                         NGX_HTTP_PORTAL_M_FILE_TOO_LARGE,
                         plcf->upload_max_size, "octets");
    }

    *p = '\0';

    return ngx_http_portal_response_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                          "too_large", (char *) message);
}


static ngx_int_t
ngx_http_portal_upload_bad(ngx_http_request_t *r)
{
    return ngx_http_portal_response_error(r, NGX_HTTP_BAD_REQUEST,
                                          "bad_multipart",
                                          NGX_HTTP_PORTAL_M_BAD_MULTIPART);
}
