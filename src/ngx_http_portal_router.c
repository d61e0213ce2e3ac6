
/*
 * Portail Citoyen: method and path to handler.  Paths are relative to the
 * portal_api location; "{name}" in a pattern matches one opaque id.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_json.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_session.h"


#define NGX_HTTP_PORTAL_READ   (NGX_HTTP_GET|NGX_HTTP_HEAD)


#define NGX_HTTP_PORTAL_UNSAFE                                               \
    (NGX_HTTP_POST|NGX_HTTP_PUT|NGX_HTTP_PATCH|NGX_HTTP_DELETE)


typedef struct {
    ngx_uint_t                   methods;
    const char                  *pattern;
    ngx_http_portal_handler_pt   handler;
    ngx_uint_t                   flags;
} ngx_http_portal_route_t;


static ngx_int_t ngx_http_portal_after_body(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_after_auth(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);
static ngx_uint_t ngx_http_portal_match(const char *pattern, ngx_str_t *path,
    ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_not_allowed(ngx_http_request_t *r,
    ngx_uint_t allowed);


#define J  NGX_HTTP_PORTAL_JSON
#define A  NGX_HTTP_PORTAL_AUTH
#define V  NGX_HTTP_PORTAL_VALIDATED
#define B  NGX_HTTP_PORTAL_BODY
#define R  NGX_HTTP_PORTAL_RESET

static ngx_http_portal_route_t  ngx_http_portal_citizen_routes[] = {

    { NGX_HTTP_PORTAL_READ, "health",
      ngx_http_portal_health_handler, 0 },

    { NGX_HTTP_PORTAL_READ, "security-questions",
      ngx_http_portal_questions_handler, 0 },

    { NGX_HTTP_POST, "captcha",
      ngx_http_portal_captcha_create_handler, 0 },
    { NGX_HTTP_PORTAL_READ, "captcha/{id}.png",
      ngx_http_portal_captcha_png_handler, 0 },
    { NGX_HTTP_PORTAL_READ, "captcha/{id}.wav",
      ngx_http_portal_captcha_wav_handler, 0 },

    { NGX_HTTP_POST, "accounts",
      ngx_http_portal_account_create_handler, J },

    { NGX_HTTP_POST, "session",
      ngx_http_portal_session_create_handler, J },
    { NGX_HTTP_PORTAL_READ, "session",
      ngx_http_portal_session_get_handler, 0 },
    { NGX_HTTP_DELETE, "session",
      ngx_http_portal_session_delete_handler, 0 },

    { NGX_HTTP_POST, "password/question",
      ngx_http_portal_password_question_handler, J },
    { NGX_HTTP_POST, "password/reset",
      ngx_http_portal_password_reset_handler, J },
    { NGX_HTTP_POST, "password",
      ngx_http_portal_password_change_handler, J|A|R },

    { NGX_HTTP_PORTAL_READ, "me",
      ngx_http_portal_me_get_handler, A },
    { NGX_HTTP_PATCH, "me",
      ngx_http_portal_me_patch_handler, J|A|V },
    { NGX_HTTP_POST, "me/members",
      ngx_http_portal_member_create_handler, J|A|V },
    { NGX_HTTP_PORTAL_READ, "me/members/{id}",
      ngx_http_portal_member_get_handler, A },
    { NGX_HTTP_PATCH, "me/members/{id}",
      ngx_http_portal_member_patch_handler, J|A|V },

    { NGX_HTTP_POST, "me/documents",
      ngx_http_portal_document_upload_handler, A|B },
    { NGX_HTTP_PORTAL_READ, "me/documents",
      ngx_http_portal_document_list_handler, A },
    { NGX_HTTP_PORTAL_READ, "me/documents/{id}",
      ngx_http_portal_document_get_handler, A },

    { NGX_HTTP_PORTAL_READ, "me/export",
      ngx_http_portal_export_handler, A },

    { 0, NULL, NULL, 0 }
};

#undef J
#undef A
#undef V
#undef B
#undef R


static ngx_http_portal_route_t  ngx_http_portal_agent_routes[] = {

    { NGX_HTTP_PORTAL_READ, "health",
      ngx_http_portal_health_handler, 0 },

    { 0, NULL, NULL, 0 }
};


static struct {
    ngx_uint_t   method;
    ngx_str_t    name;
} ngx_http_portal_methods[] = {
    { NGX_HTTP_GET, ngx_string("GET") },
    { NGX_HTTP_HEAD, ngx_string("HEAD") },
    { NGX_HTTP_POST, ngx_string("POST") },
    { NGX_HTTP_PUT, ngx_string("PUT") },
    { NGX_HTTP_PATCH, ngx_string("PATCH") },
    { NGX_HTTP_DELETE, ngx_string("DELETE") },
    { 0, ngx_null_string }
};


ngx_int_t
ngx_http_portal_route(ngx_http_request_t *r, ngx_uint_t api)
{
    u_char                    *p;
    ngx_int_t                  rc;
    ngx_str_t                  path;
    ngx_uint_t                 i, allowed;
    ngx_http_portal_ctx_t     *ctx;
    ngx_http_portal_route_t   *route;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_portal_module);

    route = NULL;
    allowed = 0;

    if (r->uri.len >= clcf->name.len) {
        path.data = r->uri.data + clcf->name.len;
        path.len = r->uri.len - clcf->name.len;

        route = (api == NGX_HTTP_PORTAL_API_AGENT)
                ? ngx_http_portal_agent_routes
                : ngx_http_portal_citizen_routes;

        for ( /* void */ ; route->pattern; route++) {

            if (!ngx_http_portal_match(route->pattern, &path, ctx)) {
                continue;
            }

            if (route->methods & r->method) {
                break;
            }

            allowed |= route->methods;
        }

        ctx->path = path;
    }

    if (route == NULL || route->pattern == NULL) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (allowed) {
            return ngx_http_portal_not_allowed(r, allowed);
        }

        return ngx_http_portal_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                          "Cette adresse ne correspond à"
                                          " aucun service du portail.");
    }

    ctx->route = route;

    /* ids go to libpq as text parameters: NUL-terminated copies */

    for (i = 0; i < ctx->nparams; i++) {
        p = ngx_pnalloc(r->pool, ctx->params[i].len + 1);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        *ngx_cpymem(p, ctx->params[i].data, ctx->params[i].len) = '\0';
        ctx->params[i].data = p;
    }

    if ((r->method & NGX_HTTP_PORTAL_UNSAFE)
        && ngx_http_portal_csrf_check(r) != NGX_OK)
    {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_portal_send_error(r, NGX_HTTP_FORBIDDEN, "csrf",
                                          "Jeton anti-falsification absent"
                                          " ou invalide : rechargez la"
                                          " page.");
    }

    if (route->flags & NGX_HTTP_PORTAL_JSON) {
        return ngx_http_portal_read_json(r, ctx, ngx_http_portal_after_body);
    }

    if (!(route->flags & NGX_HTTP_PORTAL_BODY)) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    return ngx_http_portal_after_body(r, ctx);
}


static ngx_int_t
ngx_http_portal_after_body(ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx)
{
    ngx_http_portal_route_t  *route;

    route = ctx->route;

    if (route->flags & NGX_HTTP_PORTAL_AUTH) {
        return ngx_http_portal_auth(r, ctx, ngx_http_portal_after_auth);
    }

    return route->handler(r, ctx);
}


static ngx_int_t
ngx_http_portal_after_auth(ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx)
{
    ngx_http_portal_route_t  *route;

    route = ctx->route;

    /* a temporary password's session may only set a new password */

    if ((ctx->session.flags & NGX_HTTP_PORTAL_SESSION_RESET)
        && !(route->flags & NGX_HTTP_PORTAL_RESET))
    {
        return ngx_http_portal_send_error(r, NGX_HTTP_FORBIDDEN,
                                          "password_change_required",
                                          "Choisissez d'abord un nouveau"
                                          " mot de passe.");
    }

    if ((route->flags & NGX_HTTP_PORTAL_VALIDATED)
        && !ctx->session.validated)
    {
        return ngx_http_portal_send_error(r, NGX_HTTP_FORBIDDEN,
                                          "account_not_validated",
                                          "Votre compte n'est pas encore"
                                          " validé par la mairie : il ne"
                                          " peut pas être modifié pour"
                                          " l'instant. Vos démarches restent"
                                          " possibles.");
    }

    return route->handler(r, ctx);
}


static ngx_uint_t
ngx_http_portal_match(const char *pattern, ngx_str_t *path,
    ngx_http_portal_ctx_t *ctx)
{
    u_char      *s, *end, *start;
    ngx_uint_t   n;

    s = path->data;
    end = s + path->len;
    n = 0;

    while (*pattern) {

        if (*pattern != '{') {
            if (s == end || *s != (u_char) *pattern) {
                return 0;
            }

            s++;
            pattern++;
            continue;
        }

        while (*pattern && *pattern != '}') {
            pattern++;
        }

        if (*pattern == '}') {
            pattern++;
        }

        /* ids are opaque, but never more than these characters */

        start = s;

        while (s < end
               && ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
                   || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
        {
            s++;
        }

        if (s == start || s - start > 64
            || n == NGX_HTTP_PORTAL_MAX_PARAMS)
        {
            return 0;
        }

        ctx->params[n].data = start;
        ctx->params[n].len = s - start;
        n++;
    }

    if (s != end) {
        return 0;
    }

    ctx->nparams = n;

    return 1;
}


static ngx_int_t
ngx_http_portal_not_allowed(ngx_http_request_t *r, ngx_uint_t allowed)
{
    u_char           *p;
    size_t            len;
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    len = 0;

    for (i = 0; ngx_http_portal_methods[i].method; i++) {
        if (allowed & ngx_http_portal_methods[i].method) {
            len += ngx_http_portal_methods[i].name.len + sizeof(", ") - 1;
        }
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Allow");
    h->value.data = p;

    for (i = 0; ngx_http_portal_methods[i].method; i++) {
        if (allowed & ngx_http_portal_methods[i].method) {
            if (p != h->value.data) {
                *p++ = ','; *p++ = ' ';
            }

            p = ngx_cpymem(p, ngx_http_portal_methods[i].name.data,
                           ngx_http_portal_methods[i].name.len);
        }
    }

    h->value.len = p - h->value.data;

    return ngx_http_portal_send_error(r, NGX_HTTP_NOT_ALLOWED,
                                      "method_not_allowed",
                                      "Cette méthode n'est pas acceptée"
                                      " à cette adresse.");
}
