
/*
 * Portail Citoyen: an upload's form.  The multipart parser calls back
 * with each part; "kind" is kept (64 bytes at most), "file" is appended
 * to the buffer that _upload.c stores a chunk at a time, its size and
 * digest counted on the way, other parts are read past.  The checks say
 * what the citizen must correct (422 with the fields), or that the file is
 * not a PDF, JPEG or PNG by its first bytes (415).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_text.h"
#include "ngx_http_portal_upload_form.h"


typedef enum {
    NGX_HTTP_PORTAL_UPLOAD_OTHER = 0,
    NGX_HTTP_PORTAL_UPLOAD_KIND,
    NGX_HTTP_PORTAL_UPLOAD_FILE
} ngx_http_portal_upload_form_field_e;


static int ngx_http_portal_upload_form_begin(void *data,
    ngx_http_portal_mp_part_t *part);
static int ngx_http_portal_upload_form_data(void *data, const u_char *p,
    size_t len);
static int ngx_http_portal_upload_form_end(void *data);
static void ngx_http_portal_upload_form_name(
    ngx_http_portal_upload_form_t *f, const char *type);


ngx_int_t
ngx_http_portal_upload_form_init(ngx_http_request_t *r,
    ngx_http_portal_upload_form_t *f, const u_char *b, size_t len,
    size_t max)
{
    f->mp.on_begin = ngx_http_portal_upload_form_begin;
    f->mp.on_data = ngx_http_portal_upload_form_data;
    f->mp.on_end = ngx_http_portal_upload_form_end;
    f->mp.data = f;

    if (ngx_http_portal_multipart_init(&f->mp, b, len)
        != NGX_HTTP_PORTAL_MP_OK)
    {
        return NGX_ERROR;
    }

    f->log = r->connection->log;
    f->pool = r->pool;
    f->max = max;

    crypto_hash_sha256_init(&f->sha256);

    return NGX_OK;
}


ngx_int_t
ngx_http_portal_upload_form_check(ngx_http_request_t *r,
    ngx_http_portal_upload_form_t *f, ngx_uint_t complete, ngx_int_t *rc)
{
    u_char       name[NGX_HTTP_PORTAL_MP_NAME_MAX * 4], *p;
    size_t       i, n;
    json_t      *fields;
    uint32_t     cp;
    const char  *type, *file_error, *kind_error;

    file_error = NULL;
    kind_error = NULL;

    if (!complete) {
        /* the file is coming, one chunk of it is here */

    } else if (!f->has_file) {
        file_error = NGX_HTTP_PORTAL_M_FILE_MISSING;

    } else if (f->two_files) {
        file_error = NGX_HTTP_PORTAL_M_FILE_TWICE;

    } else if (f->size == 0) {
        file_error = NGX_HTTP_PORTAL_M_FILE_EMPTY;
    }

    /*
     * The kind may come after a file of several chunks: the document is
     * begun without it then, and given it at the end.
     */

    if (!f->has_kind) {
        if (complete) {
            kind_error = NGX_HTTP_PORTAL_M_FILE_KIND;
        }

    } else if (f->kind_len == 0) {
        kind_error = NGX_HTTP_PORTAL_M_FILE_KIND;

    } else if (f->two_kinds || f->kind_too_long) {
        kind_error = NGX_HTTP_PORTAL_M_FILE_KIND_LONG;

    } else {
        for (i = 0; i < f->kind_len; i += n) {
            n = ngx_http_portal_multipart_utf8_char(f->kind + i,
                                                 f->kind_len - i, &cp);
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

    f->kind[f->kind_len] = '\0';

    if (f->type) {
        return NGX_OK;
    }

    /*
     * What the client says the file is does not count: its bytes do, the
     * first ones, still in the buffer.
     */

    type = ngx_http_portal_multipart_sniff(f->buf, f->len);

    if (type == NULL) {
        p = ngx_http_portal_text_escape_to(name, name + sizeof(name),
                                           f->name, f->name_len);

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "portal: upload refused: \"%*s\" is not a PDF, JPEG"
                      " or PNG", p - name, name);

        *rc = ngx_http_portal_response_error(r,
                                             NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                             "unsupported_type",
                                             NGX_HTTP_PORTAL_M_FILE_TYPE);
        return NGX_DECLINED;
    }

    f->type = type;

    if (f->name_len == 0) {
        f->name_len = sizeof("document") - 1;
        ngx_memcpy(f->name, "document", f->name_len);
    }

    ngx_http_portal_upload_form_name(f, type);

    f->name[f->name_len] = '\0';

    return NGX_OK;
}


ngx_int_t
ngx_http_portal_upload_form_refusal(ngx_http_request_t *r,
    ngx_http_portal_upload_form_t *f, int status)
{
    if (f->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (f->too_large) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "portal: upload refused: the file is larger than"
                      " portal_upload_max_size (%uz)", f->max);

        return ngx_http_portal_upload_form_too_large(r);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "portal: upload refused: %s",
                  ngx_http_portal_multipart_strerror(status));

    return ngx_http_portal_upload_form_bad(r);
}


static int
ngx_http_portal_upload_form_begin(void *data, ngx_http_portal_mp_part_t *part)
{
    ngx_http_portal_upload_form_t *f = data;

    f->field = NGX_HTTP_PORTAL_UPLOAD_OTHER;

    if (part->name_len == 4 && ngx_strncmp(part->name, "file", 4) == 0) {

        if (f->has_file) {
            f->two_files = 1;
            return 0;
        }

        f->has_file = 1;
        f->field = NGX_HTTP_PORTAL_UPLOAD_FILE;

        if (part->has_filename) {
            f->name_len = ngx_http_portal_multipart_filename(f->name,
                                                      part->filename,
                                                      part->filename_len);
        }

        return 0;
    }

    if (part->name_len == 4 && ngx_strncmp(part->name, "kind", 4) == 0) {

        if (f->has_kind) {
            f->two_kinds = 1;
            return 0;
        }

        f->has_kind = 1;
        f->field = NGX_HTTP_PORTAL_UPLOAD_KIND;
    }

    /* other fields are read past */

    return 0;
}


static int
ngx_http_portal_upload_form_data(void *data, const u_char *p, size_t len)
{
    ngx_http_portal_upload_form_t *f = data;

    switch (f->field) {

    case NGX_HTTP_PORTAL_UPLOAD_KIND:
        if (f->kind_too_long) {
            return 0;
        }

        if (len > NGX_HTTP_PORTAL_UPLOAD_KIND_MAX - f->kind_len) {
            f->kind_too_long = 1;
            return 0;
        }

        ngx_memcpy(f->kind + f->kind_len, p, len);
        f->kind_len += len;

        return 0;

    case NGX_HTTP_PORTAL_UPLOAD_FILE:
        if (len > f->max - f->size) {
            f->too_large = 1;
            return 1;
        }

        if (f->buf == NULL) {
            f->buf = ngx_palloc(f->pool, NGX_HTTP_PORTAL_UPLOAD_BUFFER);
            if (f->buf == NULL) {
                f->failed = 1;
                return 1;
            }
        }

        if (len > NGX_HTTP_PORTAL_UPLOAD_BUFFER - f->len) {
            ngx_log_error(NGX_LOG_ALERT, f->log, 0,
                          "portal: upload: more file data than a slice");
            f->failed = 1;
            return 1;
        }

        ngx_memcpy(f->buf + f->len, p, len);
        f->len += len;
        f->size += len;

        crypto_hash_sha256_update(&f->sha256, p, len);

        return 0;

    default:
        return 0;
    }
}


static int
ngx_http_portal_upload_form_end(void *data)
{
    ngx_http_portal_upload_form_t *f = data;

    f->field = NGX_HTTP_PORTAL_UPLOAD_OTHER;

    return 0;
}


/*
 * A document's name says what it is: the client's, with the extension of
 * the type found in its bytes ("x.html" holding a PDF is kept as
 * "x.pdf"), so that whoever downloads it later opens what it really is.
 */

static void
ngx_http_portal_upload_form_name(ngx_http_portal_upload_form_t *f,
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

    for (p = f->name + f->name_len - 1; p > f->name; p--) {
        if (*p == '.') {
            dot = p;
            break;
        }
    }

    base = f->name_len;

    if (dot) {
        ext_len = f->name + f->name_len - dot - 1;

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
            base = dot - f->name;
        }
    }

    len = ngx_strlen(e[0]);

    /* room for the extension: cut the name, but not inside a character */

    while (base + 1 + len > NGX_HTTP_PORTAL_MP_NAME_MAX) {
        base--;

        while (base && (f->name[base] & 0xc0) == 0x80) {
            base--;
        }
    }

    p = f->name + base;
    *p++ = '.';
    p = ngx_cpymem(p, e[0], len);

    f->name_len = p - f->name;
}


ngx_int_t
ngx_http_portal_upload_form_too_large(ngx_http_request_t *r)
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


ngx_int_t
ngx_http_portal_upload_form_bad(ngx_http_request_t *r)
{
    return ngx_http_portal_response_error(r, NGX_HTTP_BAD_REQUEST,
                                          "bad_multipart",
                                          NGX_HTTP_PORTAL_M_BAD_MULTIPART);
}
