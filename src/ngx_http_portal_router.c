
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


#define NGX_HTTP_PORTAL_READ   (NGX_HTTP_GET|NGX_HTTP_HEAD)


typedef struct {
    ngx_uint_t                   methods;
    const char                  *pattern;
    ngx_http_portal_handler_pt   handler;
    /* the handler reads the request body itself */
    ngx_uint_t                   body;
} ngx_http_portal_route_t;


static ngx_uint_t ngx_http_portal_match(const char *pattern, ngx_str_t *path,
    ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_not_allowed(ngx_http_request_t *r,
    ngx_uint_t allowed);


static ngx_http_portal_route_t  ngx_http_portal_citizen_routes[] = {

    { NGX_HTTP_PORTAL_READ, "health",
      ngx_http_portal_health_handler, 0 },

    { 0, NULL, NULL, 0 }
};


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
    ngx_int_t                  rc;
    ngx_str_t                  path;
    ngx_uint_t                 allowed;
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

    if (!route->body) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }
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
