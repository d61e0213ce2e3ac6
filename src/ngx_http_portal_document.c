
/*
 * Portail Citoyen: the supporting documents of an account's opening.
 *
 *     POST me/documents        multipart "file" and "kind": 201, the document
 *     GET  me/documents        the account's documents, newest first
 *     GET  me/documents/{id}   the file itself, as an attachment
 *     DELETE me/documents/{id} the document is not kept any more
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
#include "ngx_http_portal_document.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_resource.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_upload.h"


static ngx_int_t ngx_http_portal_document_upload_handler(
    ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_document_store(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_http_portal_upload_t *up);
static ngx_int_t ngx_http_portal_document_get_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);
static void ngx_http_portal_document_fetched(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static ngx_int_t ngx_http_portal_document_send(ngx_http_request_t *r,
    PGresult *res);


static ngx_http_portal_fault_t  ngx_http_portal_document_missing = {
    "not_found", NGX_HTTP_PORTAL_M_DOCUMENT_NOT_FOUND
};


/* 20 documents and 50 MiB per account */

static const ngx_http_portal_sql_error_t  ngx_http_portal_document_errors[] = {

    { "P0001", "documents_limit", NGX_HTTP_UNPROCESSABLE_ENTITY,
      "limit_reached", NGX_HTTP_PORTAL_M_DOCUMENTS_LIMIT, NULL, NULL, 0 },

    NGX_HTTP_PORTAL_SQL_ERRORS_END
};


/* the content is a binary parameter: no escaping, no doubling in size */

static ngx_http_portal_resource_t  ngx_http_portal_document_add = {
    { "portal_document_add",
      "SELECT portal.document_add($1, $2, $3, $4, $5, $6)", 6, 0 },
    NGX_HTTP_CREATED, NULL, ngx_http_portal_document_errors, 0
};

static ngx_http_portal_resource_t  ngx_http_portal_document_remove = {
    { "portal_document_remove", "SELECT portal.document_remove($1, $2)",
      2, 0 },
    NGX_HTTP_NO_CONTENT, NULL, NULL, 0
};

static ngx_http_portal_resource_t  ngx_http_portal_document_list = {
    { "portal_documents_of", "SELECT portal.documents_of($1)", 1, 0 },
    NGX_HTTP_OK, NULL, NULL, 0
};


/* run with binary results: the text columns come as their bytes */

static ngx_http_portal_sql_t  ngx_http_portal_document_content_sql = {
    "portal_document_content",
    "SELECT content, content_type, filename"
    " FROM portal.document_content($1, $2)",
    2, 0
};


ngx_http_portal_route_t  ngx_http_portal_document_routes[] = {

    { NGX_HTTP_POST, "me/documents", ngx_http_portal_document_upload_handler,
      NGX_HTTP_PORTAL_BODY_STREAM, NGX_HTTP_PORTAL_CITIZEN, NULL, NULL },

    { NGX_HTTP_PORTAL_READ, "me/documents",
      ngx_http_portal_resource_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_CITIZEN,
      &ngx_http_portal_document_list, NULL },

    { NGX_HTTP_PORTAL_READ, "me/documents/{uuid}",
      ngx_http_portal_document_get_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_CITIZEN, NULL,
      &ngx_http_portal_document_missing },

    { NGX_HTTP_DELETE, "me/documents/{uuid}",
      ngx_http_portal_resource_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_CITIZEN,
      &ngx_http_portal_document_remove, &ngx_http_portal_document_missing },

    NGX_HTTP_PORTAL_ROUTES_END
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


static ngx_int_t
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
    ngx_http_portal_db_query_t  *q;

    q = ngx_http_portal_resource_query(r, &ngx_http_portal_document_add);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_db_param(q, (char *) ctx->session.id,
                             ngx_strlen(ctx->session.id));
    ngx_http_portal_db_param(q, (char *) up->kind.data, up->kind.len);
    ngx_http_portal_db_param(q, (char *) up->filename.data,
                             up->filename.len);
    ngx_http_portal_db_param(q, (char *) up->content_type.data,
                             up->content_type.len);
    ngx_http_portal_db_param_binary(q, up->sha256, sizeof(up->sha256));
    ngx_http_portal_db_param_binary(q, up->content.data, up->content.len);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "portal: storing a document of %uz bytes, %V, sha256 %s",
                   up->content.len, &up->content_type, up->sha256_hex);

    return ngx_http_portal_db_suspend(q);
}


/* another account's document is as absent as an unknown one */

static ngx_int_t
ngx_http_portal_document_get_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_http_portal_db_query_t  *q;

    q = ngx_http_portal_db_query(r, &ngx_http_portal_document_content_sql,
                                 ngx_http_portal_document_fetched);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_db_param(q, (char *) ctx->session.id,
                             ngx_strlen(ctx->session.id));
    ngx_http_portal_db_param(q, (char *) ctx->params[0].data,
                             ctx->params[0].len);

    q->binary = 1;

    return ngx_http_portal_db_suspend(q);
}


static void
ngx_http_portal_document_fetched(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_request_t     *r;
    ngx_http_portal_ctx_t  *ctx;

    r = q->request;

    if (ngx_http_portal_db_rows(q, status, res, 0) != NGX_OK) {
        return;
    }

    if (PQntuples(res) != 1) {
        ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
        ngx_http_finalize_request(r, ngx_http_portal_router_missing(r, ctx));
        return;
    }

    ngx_http_finalize_request(r, ngx_http_portal_document_send(r, res));
}


/*
 * The file, with the type found in its bytes, as an attachment: the
 * browser saves it rather than render what a citizen sent.
 */

static ngx_int_t
ngx_http_portal_document_send(ngx_http_request_t *r, PGresult *res)
{
    u_char       *p, *value, *name, *last;
    size_t        len, name_len;
    ngx_str_t     type;
    ngx_buf_t    *b;

    static u_char  hex[] = "0123456789ABCDEF";

    len = PQgetlength(res, 0, 0);
    name = (u_char *) PQgetvalue(res, 0, 2);
    name_len = PQgetlength(res, 0, 2);

    /* the result is freed when we return: copy what the response needs */

    b = ngx_create_temp_buf(r->pool, len ? len : 1);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, PQgetvalue(res, 0, 0), len);

    type.len = PQgetlength(res, 0, 1);
    type.data = ngx_pnalloc(r->pool, type.len);
    if (type.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(type.data, PQgetvalue(res, 0, 1), type.len);

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

    if (ngx_http_portal_response_header(r, "Content-Disposition", value,
                                        p - value)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_portal_response_send(r, NGX_HTTP_OK, &type,
                                         "private, no-store", b);
}
