
/*
 * Portail Citoyen: the supporting documents of an account's opening.
 *
 *     POST me/documents        multipart "file" and "kind": 201, the document
 *     GET  me/documents        the account's documents, newest first
 *     GET  me/documents/{id}   the file itself, as an attachment
 *
 * Open before the account is validated: agents validate it on them.  The
 * content lives in PostgreSQL (bytea) with its size and sha256; what the
 * client called its file is kept only to be shown back.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_json.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_text.h"
#include "ngx_http_portal_upload.h"


static ngx_int_t ngx_http_portal_document_store(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_http_portal_upload_t *up);
static void ngx_http_portal_document_stored(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static void ngx_http_portal_document_listed(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static void ngx_http_portal_document_fetched(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static ngx_uint_t ngx_http_portal_document_failed(ngx_http_request_t *r,
    ngx_http_portal_db_status_e status, PGresult *res);
static json_t *ngx_http_portal_document_json(PGresult *res, int row);
static ngx_int_t ngx_http_portal_document_send(ngx_http_request_t *r,
    PGresult *res);
static ngx_int_t ngx_http_portal_document_header(ngx_http_request_t *r,
    const char *name, u_char *value, size_t len);
static ngx_int_t ngx_http_portal_document_not_found(ngx_http_request_t *r);


/* the columns of a document as JSON, in this order */

#define NGX_HTTP_PORTAL_DOCUMENT_COLUMNS                                     \
    " d.id, d.kind, d.filename, d.content_type, d.size,"                     \
    " encode(d.sha256, 'hex'),"                                              \
    " to_char(d.created_at, 'YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM')"


/* the content is a binary parameter: no escaping, no doubling in size */

static ngx_http_portal_sql_t  ngx_http_portal_document_insert_sql = {
    "portal_document_insert",
    "INSERT INTO portal.documents AS d"
    " (account_id, kind, filename, content_type, size, sha256, content)"
    " VALUES ($1::uuid, $2::text, $3::text, $4::text,"
    " octet_length($6::bytea), $5::bytea, $6::bytea)"
    " RETURNING" NGX_HTTP_PORTAL_DOCUMENT_COLUMNS,
    6, 0
};


static ngx_http_portal_sql_t  ngx_http_portal_document_list_sql = {
    "portal_document_list",
    "SELECT" NGX_HTTP_PORTAL_DOCUMENT_COLUMNS
    " FROM portal.documents d"
    " WHERE d.account_id = $1::uuid"
    " ORDER BY d.created_at DESC, d.id DESC",
    1, 0
};


/* run with binary results: the text columns come as their bytes */

static ngx_http_portal_sql_t  ngx_http_portal_document_get_sql = {
    "portal_document_get",
    "SELECT d.content, d.content_type, d.filename"
    " FROM portal.documents d"
    " WHERE d.id = $1::uuid AND d.account_id = $2::uuid",
    2, 0
};


/* RFC 8187 attr-char: what filename* may carry without percent-encoding */

static uint32_t  ngx_http_portal_document_attr_char[] = {
    0xffffffff, /* 1111 1111 1111 1111  1111 1111 1111 1111 */

                /* ?>=< ;:98 7654 3210  /.-, +*)( '&%$ #"!  */
    0xfc0097a5, /* 1111 1100 0000 0000  1001 0111 1010 0101 */

                /* _^]\ [ZYX WVUT SRQP  ONML KJIH GFED CBA@ */
    0x38000001, /* 0011 1000 0000 0000  0000 0000 0000 0001 */

                /*  ~}| {zyx wvut srqp  onml kjih gfed cba` */
    0xa8000000, /* 1010 1000 0000 0000  0000 0000 0000 0000 */

    0xffffffff, /* 1111 1111 1111 1111  1111 1111 1111 1111 */
    0xffffffff, /* 1111 1111 1111 1111  1111 1111 1111 1111 */
    0xffffffff, /* 1111 1111 1111 1111  1111 1111 1111 1111 */
    0xffffffff  /* 1111 1111 1111 1111  1111 1111 1111 1111 */
};


ngx_int_t
ngx_http_portal_document_upload_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    return ngx_http_portal_upload_read(r, ctx,
                                       ngx_http_portal_document_store);
}


static ngx_int_t
ngx_http_portal_document_store(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_http_portal_upload_t *up)
{
    ngx_int_t                    rc;
    ngx_http_portal_db_query_t  *q;

    q = ngx_http_portal_db_query(r, &ngx_http_portal_document_insert_sql,
                                 ngx_http_portal_document_stored);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* text parameters are NUL-terminated, as libpq wants them */

    ngx_http_portal_db_param(q, (char *) ctx->session.id,
                             ngx_strlen(ctx->session.id));
    ngx_http_portal_db_param(q, (char *) up->kind.data, up->kind.len);
    ngx_http_portal_db_param(q, (char *) up->filename.data,
                             up->filename.len);
    ngx_http_portal_db_param(q, (char *) up->content_type.data,
                             up->content_type.len);
    ngx_http_portal_db_param_binary(q, up->sha256, sizeof(up->sha256));
    ngx_http_portal_db_param_binary(q, up->content.data, up->content.len);


    rc = ngx_http_portal_db_run(q);
    if (rc != NGX_OK) {
        return ngx_http_portal_db_error(r, NGX_HTTP_PORTAL_DB_UNAVAILABLE,
                                        NULL);
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "portal: storing a document of %uz bytes, %V, sha256 %s",
                   up->content.len, &up->content_type, up->sha256_hex);

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_portal_document_stored(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_request_t  *r;

    r = q->request;

    if (ngx_http_portal_document_failed(r, status, res)) {
        return;
    }

    if (PQntuples(res) != 1) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_finalize_request(r,
                              ngx_http_portal_send_json(r, NGX_HTTP_CREATED,
                                  ngx_http_portal_document_json(res, 0)));
}


ngx_int_t
ngx_http_portal_document_list_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_http_portal_db_query_t  *q;

    q = ngx_http_portal_db_query(r, &ngx_http_portal_document_list_sql,
                                 ngx_http_portal_document_listed);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_db_param(q, (char *) ctx->session.id,
                             ngx_strlen(ctx->session.id));

    return ngx_http_portal_db_suspend(q);
}


static void
ngx_http_portal_document_listed(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    int                  i, n;
    json_t              *list, *doc;
    ngx_http_request_t  *r;

    r = q->request;

    if (ngx_http_portal_document_failed(r, status, res)) {
        return;
    }

    list = json_array();
    if (list == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    n = PQntuples(res);

    for (i = 0; i < n; i++) {
        doc = ngx_http_portal_document_json(res, i);

        if (doc == NULL || json_array_append_new(list, doc) != 0) {
            json_decref(list);
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    ngx_http_finalize_request(r, ngx_http_portal_send_json(r, NGX_HTTP_OK,
                                                           list));
}


ngx_int_t
ngx_http_portal_document_get_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    u_char                      *id;
    ngx_http_portal_db_query_t  *q;

    /* anything but a UUID would be a SQL error: it is simply not there */

    if (ctx->nparams != 1
        || !ngx_http_portal_valid_uuid(ctx->params[0].data,
                                       ctx->params[0].len))
    {
        return ngx_http_portal_document_not_found(r);
    }

    id = ngx_pnalloc(r->pool, ctx->params[0].len + 1);
    if (id == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_cpystrn(id, ctx->params[0].data, ctx->params[0].len + 1);

    q = ngx_http_portal_db_query(r, &ngx_http_portal_document_get_sql,
                                 ngx_http_portal_document_fetched);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* another account's document is as absent as an unknown one */

    ngx_http_portal_db_param(q, (char *) id, ctx->params[0].len);
    ngx_http_portal_db_param(q, (char *) ctx->session.id,
                             ngx_strlen(ctx->session.id));

    q->binary = 1;

    return ngx_http_portal_db_suspend(q);
}


static void
ngx_http_portal_document_fetched(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_request_t  *r;

    r = q->request;

    if (ngx_http_portal_document_failed(r, status, res)) {
        return;
    }

    if (PQntuples(res) != 1) {
        ngx_http_finalize_request(r, ngx_http_portal_document_not_found(r));
        return;
    }

    ngx_http_finalize_request(r, ngx_http_portal_document_send(r, res));
}


/* a query that did not give rows: answered here, 1 */

static ngx_uint_t
ngx_http_portal_document_failed(ngx_http_request_t *r,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    if (status == NGX_HTTP_PORTAL_DB_OK
        && PQresultStatus(res) == PGRES_TUPLES_OK)
    {
        return 0;
    }

    ngx_http_finalize_request(r, ngx_http_portal_db_error(r, status,
                      status == NGX_HTTP_PORTAL_DB_OK
                      && PQresultStatus(res) == PGRES_FATAL_ERROR
                      ? res : NULL));

    return 1;
}


static json_t *
ngx_http_portal_document_json(PGresult *res, int row)
{
    ngx_int_t  size;

    size = ngx_atoi((u_char *) PQgetvalue(res, row, 4),
                    PQgetlength(res, row, 4));
    if (size == NGX_ERROR) {
        return NULL;
    }

    return json_pack("{s:s%, s:s%, s:s%, s:s%, s:I, s:s%, s:s%}",
                     "id", PQgetvalue(res, row, 0),
                     (size_t) PQgetlength(res, row, 0),
                     "kind", PQgetvalue(res, row, 1),
                     (size_t) PQgetlength(res, row, 1),
                     "filename", PQgetvalue(res, row, 2),
                     (size_t) PQgetlength(res, row, 2),
                     "content_type", PQgetvalue(res, row, 3),
                     (size_t) PQgetlength(res, row, 3),
                     "size", (json_int_t) size,
                     "sha256", PQgetvalue(res, row, 5),
                     (size_t) PQgetlength(res, row, 5),
                     "created_at", PQgetvalue(res, row, 6),
                     (size_t) PQgetlength(res, row, 6));
}


/*
 * The file, with the type found in its bytes, as an attachment: the
 * browser saves it rather than render what a citizen sent.
 */

static ngx_int_t
ngx_http_portal_document_send(ngx_http_request_t *r, PGresult *res)
{
    u_char       *p, *value, *name, *last;
    size_t        len, type_len, name_len;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    static u_char  hex[] = "0123456789ABCDEF";

    len = PQgetlength(res, 0, 0);
    type_len = PQgetlength(res, 0, 1);
    name = (u_char *) PQgetvalue(res, 0, 2);
    name_len = PQgetlength(res, 0, 2);

    /* the result is freed when we return: copy what the response needs */

    b = ngx_create_temp_buf(r->pool, len ? len : 1);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, PQgetvalue(res, 0, 0), len);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.content_type.data = ngx_pnalloc(r->pool, type_len);
    if (r->headers_out.content_type.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(r->headers_out.content_type.data, PQgetvalue(res, 0, 1),
               type_len);
    r->headers_out.content_type.len = type_len;
    r->headers_out.content_type_len = type_len;
    r->headers_out.content_type_lowcase = NULL;

    /* attachment; filename*=UTF-8''<RFC 8187 percent-encoding> */

    value = ngx_pnalloc(r->pool, sizeof("attachment; filename*=UTF-8''") - 1
                                 + 3 * name_len);
    if (value == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(value, "attachment; filename*=UTF-8''",
                   sizeof("attachment; filename*=UTF-8''") - 1);

    for (last = name + name_len; name < last; name++) {
        if (ngx_http_portal_document_attr_char[*name >> 5]
            & (1U << (*name & 0x1f)))
        {
            *p++ = '%';
            *p++ = hex[*name >> 4];
            *p++ = hex[*name & 0xf];

        } else {
            *p++ = *name;
        }
    }

    if (ngx_http_portal_document_header(r, "Content-Disposition", value,
                                        p - value)
        != NGX_OK
        || ngx_http_portal_document_header(r, "Cache-Control",
                                           (u_char *) "private, no-store",
                                           sizeof("private, no-store") - 1)
           != NGX_OK
        || ngx_http_portal_document_header(r, "X-Content-Type-Options",
                                           (u_char *) "nosniff",
                                           sizeof("nosniff") - 1)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static ngx_int_t
ngx_http_portal_document_header(ngx_http_request_t *r, const char *name,
    u_char *value, size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = value;
    h->value.len = len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_portal_document_not_found(ngx_http_request_t *r)
{
    return ngx_http_portal_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                      "Ce document est introuvable.");
}
