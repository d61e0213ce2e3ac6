
/*
 * Portail Citoyen: the supporting documents of a request.
 *
 *     POST requests/{id}/documents         multipart "file" and "kind":
 *                                          201, the document
 *     GET  requests/{id}/documents         the list, as GET requests/{id}
 *                                          gives it
 *     GET  requests/{id}/documents/{doc}   the file, as an attachment
 *     DELETE requests/{id}/documents/{doc} taken back: 204
 *
 * A citizen's session, validated account or not.  A document is added or
 * taken back while the request may change (brouillon, en_attente,
 * incomplet: 409 state_conflict otherwise), read back in any state; the
 * kinds are the procedure's, or "autre".  20 documents and 50 MiB per
 * request.  A document added or taken back outside brouillon is
 * acknowledged by mail, in the same transaction.  The
 * statements and what they refuse are in sql/functions/090_requests.sql;
 * the content is streamed in chunks as an account's documents are
 * (_upload.c, _store.c, _download.c).  Another household's request or
 * document is a 404.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_download.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_request_document.h"
#include "ngx_http_portal_resource.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_store.h"
#include "ngx_http_portal_upload.h"


static ngx_int_t ngx_http_portal_request_document_remove_handler(
    ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx);


static ngx_http_portal_fault_t  ngx_http_portal_request_document_no_request = {
    "not_found", NGX_HTTP_PORTAL_M_REQUEST_NOT_FOUND
};

static ngx_http_portal_fault_t  ngx_http_portal_request_document_missing = {
    "not_found", NGX_HTTP_PORTAL_M_DOCUMENT_NOT_FOUND
};


static const ngx_http_portal_sql_error_t
    ngx_http_portal_request_document_errors[] =
{
    { "P0001", "request_state", NGX_HTTP_CONFLICT, "state_conflict",
      NGX_HTTP_PORTAL_M_REQUEST_STATE, NULL, NULL, 0 },

    { "P0001", "request_document_kind", NGX_HTTP_UNPROCESSABLE_ENTITY,
      "invalid", NGX_HTTP_PORTAL_M_FILE_INVALID,
      "kind", NGX_HTTP_PORTAL_M_REQUEST_DOCUMENT_KIND, 0 },

    { "P0001", "request_documents_limit", NGX_HTTP_UNPROCESSABLE_ENTITY,
      "limit_reached", NGX_HTTP_PORTAL_M_REQUEST_DOCUMENTS_LIMIT,
      NULL, NULL, 0 },

    { "P0001", "request_document_chunk", NGX_HTTP_CONFLICT,
      "conflict", NGX_HTTP_PORTAL_M_DOCUMENT_CHANGED, NULL, NULL, 0 },

    { "P0001", "request_document_size", NGX_HTTP_UNPROCESSABLE_ENTITY,
      "invalid", NGX_HTTP_PORTAL_M_FILE_INVALID,
      "file", NGX_HTTP_PORTAL_M_DOCUMENT_CHANGED, 0 },

    NGX_HTTP_PORTAL_SQL_ERRORS_END
};


/* finish takes portal_public_url: "pièce reçue" is mailed (not for a
   draft) */

static ngx_http_portal_store_t  ngx_http_portal_request_document_store = {
    { "portal_request_document_begin",
      "SELECT portal.request_document_begin($1, $2, $3, $4)", 4, 0 },
    { "portal_request_document_chunk",
      "SELECT portal.request_document_chunk($1, $2, $3, $4)", 4, 0 },
    { "portal_request_document_finish",
      "SELECT portal.request_document_finish($1, $2, $3, $4, $5, $6, $7)",
      7, 0 },
    { "portal_request_document_abort",
      "SELECT portal.request_document_abort($1, $2)", 2, 0 },
    { "portal_request_document_content",
      "SELECT data, content_type, filename, size::text, chunks::text"
      " FROM portal.request_document_content($1, $2, $3, $4, $5)", 5, 0 },
    ngx_http_portal_request_document_errors, 1
};

static ngx_http_portal_resource_t  ngx_http_portal_request_document_list = {
    { "portal_request_documents",
      "SELECT portal.request_documents($1, $2)", 2, 0 },
    NGX_HTTP_OK, NULL, NULL, 0
};

/* remove takes portal_public_url too: "pièce retirée" (not for a draft) */

static ngx_http_portal_resource_t  ngx_http_portal_request_document_remove = {
    { "portal_request_document_remove",
      "SELECT portal.request_document_remove($1, $2, $3, $4)", 4, 0 },
    NGX_HTTP_NO_CONTENT, NULL, ngx_http_portal_request_document_errors, 1
};


ngx_http_portal_route_t  ngx_http_portal_request_document_routes[] = {

    { NGX_HTTP_POST, "requests/{uuid}/documents",
      ngx_http_portal_upload_handler,
      NGX_HTTP_PORTAL_BODY_STREAM, NGX_HTTP_PORTAL_CITIZEN,
      &ngx_http_portal_request_document_store,
      &ngx_http_portal_request_document_no_request },

    { NGX_HTTP_PORTAL_READ, "requests/{uuid}/documents",
      ngx_http_portal_resource_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_CITIZEN,
      &ngx_http_portal_request_document_list,
      &ngx_http_portal_request_document_no_request },

    { NGX_HTTP_PORTAL_READ, "requests/{uuid}/documents/{uuid}",
      ngx_http_portal_download_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_CITIZEN,
      &ngx_http_portal_request_document_store,
      &ngx_http_portal_request_document_missing },

    { NGX_HTTP_DELETE, "requests/{uuid}/documents/{uuid}",
      ngx_http_portal_request_document_remove_handler,
      NGX_HTTP_PORTAL_BODY_NONE, NGX_HTTP_PORTAL_CITIZEN,
      &ngx_http_portal_request_document_remove,
      &ngx_http_portal_request_document_missing },

    NGX_HTTP_PORTAL_ROUTES_END
};


/* DELETE requests/{id}/documents/{doc}: the ids, and where mails point to */

static ngx_int_t
ngx_http_portal_request_document_remove_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_str_t                    params[4];
    ngx_http_portal_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    params[0].data = ctx->session.id;
    params[0].len = ngx_strlen(ctx->session.id);
    params[1] = ctx->params[0];
    params[2] = ctx->params[1];
    params[3] = plcf->public_url;

    return ngx_http_portal_resource_run(r,
               &ngx_http_portal_request_document_remove, params, 4);
}
