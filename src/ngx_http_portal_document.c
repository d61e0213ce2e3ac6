
/*
 * Portail Citoyen: the supporting documents of an account's opening.
 *
 *     POST me/documents        multipart "file" and "kind": 201, the document
 *     GET  me/documents        the account's documents, newest first
 *     GET  me/documents/{id}   the file itself, as an attachment
 *     DELETE me/documents/{id} the document is not kept any more
 *
 * Open before the account is validated: agents validate it on them.  The
 * content lives in PostgreSQL in chunks (_store.c), streamed in by
 * _upload.c and out by _download.c, with its size and sha256; what the
 * client called its file is kept only to be shown back.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_document.h"
#include "ngx_http_portal_download.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_resource.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_store.h"
#include "ngx_http_portal_upload.h"


static ngx_http_portal_fault_t  ngx_http_portal_document_missing = {
    "not_found", NGX_HTTP_PORTAL_M_DOCUMENT_NOT_FOUND
};


/* 20 documents and 50 MiB per account, those still coming included */

static const ngx_http_portal_sql_error_t  ngx_http_portal_document_errors[] = {

    { "P0001", "documents_limit", NGX_HTTP_UNPROCESSABLE_ENTITY,
      "limit_reached", NGX_HTTP_PORTAL_M_DOCUMENTS_LIMIT, NULL, NULL, 0 },

    { "P0001", "document_chunk", NGX_HTTP_CONFLICT,
      "conflict", NGX_HTTP_PORTAL_M_DOCUMENT_CHANGED, NULL, NULL, 0 },

    { "P0001", "document_size", NGX_HTTP_UNPROCESSABLE_ENTITY,
      "invalid", NGX_HTTP_PORTAL_M_FILE_INVALID,
      "file", NGX_HTTP_PORTAL_M_DOCUMENT_CHANGED, 0 },

    NGX_HTTP_PORTAL_SQL_ERRORS_END
};


/* the chunks are binary parameters, and come back as binary results */

static ngx_http_portal_store_t  ngx_http_portal_document_store = {
    { "portal_document_begin", "SELECT portal.document_begin($1, $2, $3)",
      3, 0 },
    { "portal_document_chunk",
      "SELECT portal.document_chunk($1, $2, $3, $4)", 4, 0 },
    { "portal_document_finish",
      "SELECT portal.document_finish($1, $2, $3, $4, $5, $6)", 6, 0 },
    { "portal_document_abort", "SELECT portal.document_abort($1, $2)",
      2, 0 },
    { "portal_document_content",
      "SELECT data, content_type, filename, size::text, chunks::text"
      " FROM portal.document_content($1, $2, $3, $4)", 4, 0 },
    ngx_http_portal_document_errors, 0
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


ngx_http_portal_route_t  ngx_http_portal_document_routes[] = {

    { NGX_HTTP_POST, "me/documents", ngx_http_portal_upload_handler,
      NGX_HTTP_PORTAL_BODY_STREAM, NGX_HTTP_PORTAL_CITIZEN,
      &ngx_http_portal_document_store, NULL },

    { NGX_HTTP_PORTAL_READ, "me/documents",
      ngx_http_portal_resource_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_CITIZEN,
      &ngx_http_portal_document_list, NULL },

    /* another account's document is as absent as an unknown one */

    { NGX_HTTP_PORTAL_READ, "me/documents/{uuid}",
      ngx_http_portal_download_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_CITIZEN,
      &ngx_http_portal_document_store, &ngx_http_portal_document_missing },

    { NGX_HTTP_DELETE, "me/documents/{uuid}",
      ngx_http_portal_resource_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_CITIZEN,
      &ngx_http_portal_document_remove, &ngx_http_portal_document_missing },

    NGX_HTTP_PORTAL_ROUTES_END
};
