
/*
 * Portail Citoyen: method and path to a route, then the route's phases
 * and its handler, as nginx's own phase engine runs a request's phases.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_text.h"


/* how a path compares with a pattern */
#define NGX_HTTP_PORTAL_MATCH_NONE     0
#define NGX_HTTP_PORTAL_MATCH_OK       1
/* the route's shape, with an id of the wrong kind */
#define NGX_HTTP_PORTAL_MATCH_MISSING  2

#define NGX_HTTP_PORTAL_PARAM_ID       0
#define NGX_HTTP_PORTAL_PARAM_UUID     1
#define NGX_HTTP_PORTAL_PARAM_SLUG     2

/* ids are opaque, but never longer than this */
#define NGX_HTTP_PORTAL_PARAM_MAX      64


static ngx_uint_t ngx_http_portal_match(const char *pattern, ngx_str_t *path,
    ngx_str_t *params, ngx_uint_t *types, ngx_uint_t *n);
static ngx_uint_t ngx_http_portal_param_type(const char **pattern);
static ngx_uint_t ngx_http_portal_param_ok(ngx_uint_t type, ngx_str_t *s);
static ngx_int_t ngx_http_portal_params(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_uint_t *types);
static ngx_int_t ngx_http_portal_phase_run(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_not_allowed(ngx_http_request_t *r,
    ngx_uint_t allowed);


static ngx_http_portal_fault_t  ngx_http_portal_not_found = {
    "not_found", NGX_HTTP_PORTAL_M_NOT_FOUND
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
ngx_http_portal_router_run(ngx_http_request_t *r,
    const ngx_http_portal_api_t *api)
{
    ngx_str_t                   path, params[NGX_HTTP_PORTAL_MAX_PARAMS];
    ngx_uint_t                  m, n, allowed;
    ngx_uint_t                  types[NGX_HTTP_PORTAL_MAX_PARAMS];
    ngx_uint_t                  found_types[NGX_HTTP_PORTAL_MAX_PARAMS];
    ngx_http_portal_ctx_t      *ctx;
    ngx_http_portal_route_t   **slice, *route, *found, *missing;
    ngx_http_core_loc_conf_t   *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_portal_module);

    found = NULL;
    missing = NULL;
    allowed = 0;

    if (r->uri.len >= clcf->name.len) {
        path.data = r->uri.data + clcf->name.len;
        path.len = r->uri.len - clcf->name.len;
        ctx->path = path;

        for (slice = api->slices; *slice && found == NULL; slice++) {
            for (route = *slice; route->pattern; route++) {

                m = ngx_http_portal_match(route->pattern, &path, params,
                                          types, &n);

                if (m == NGX_HTTP_PORTAL_MATCH_NONE) {
                    continue;
                }

                if (!(route->methods & r->method)) {
                    allowed |= route->methods;
                    continue;
                }

                if (m == NGX_HTTP_PORTAL_MATCH_MISSING) {
                    if (missing == NULL) {
                        missing = route;
                    }

                    continue;
                }

                found = route;
                ngx_memcpy(ctx->params, params, n * sizeof(ngx_str_t));
                ngx_memcpy(found_types, types, n * sizeof(ngx_uint_t));
                ctx->nparams = n;
                break;
            }
        }
    }

    if (found == NULL) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (missing) {
            ctx->route = missing;
            return ngx_http_portal_router_missing(r, ctx);
        }

        if (allowed) {
            return ngx_http_portal_not_allowed(r, allowed);
        }

        ctx->route = NULL;
        return ngx_http_portal_router_missing(r, ctx);
    }

    ctx->route = found;
    ctx->phases = api->phases;

    if (ngx_http_portal_params(r, ctx, found_types) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_portal_phase_run(r, ctx);
}


ngx_int_t
ngx_http_portal_router_next(ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx)
{
    ctx->phase++;

    return ngx_http_portal_phase_run(r, ctx);
}


static ngx_int_t
ngx_http_portal_phase_run(ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx)
{
    ngx_int_t  rc;

    while (ctx->phases[ctx->phase]) {

        rc = ctx->phases[ctx->phase](r, ctx);

        if (rc != NGX_DECLINED) {
            return rc;
        }

        ctx->phase++;
    }

    return ctx->route->handler(r, ctx);
}


ngx_int_t
ngx_http_portal_router_missing(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    const ngx_http_portal_fault_t  *f;

    f = (ctx->route && ctx->route->missing) ? ctx->route->missing
                                            : &ngx_http_portal_not_found;

    return ngx_http_portal_response_error(r, NGX_HTTP_NOT_FOUND, f->code,
                                          f->message);
}


static ngx_uint_t
ngx_http_portal_match(const char *pattern, ngx_str_t *path,
    ngx_str_t *params, ngx_uint_t *types, ngx_uint_t *n)
{
    u_char      *s, *end, *start;
    ngx_uint_t   rc;

    s = path->data;
    end = s + path->len;
    *n = 0;
    rc = NGX_HTTP_PORTAL_MATCH_OK;

    while (*pattern) {

        if (*pattern != '{') {
            if (s == end || *s != (u_char) *pattern) {
                return NGX_HTTP_PORTAL_MATCH_NONE;
            }

            s++;
            pattern++;
            continue;
        }

        if (*n == NGX_HTTP_PORTAL_MAX_PARAMS) {
            return NGX_HTTP_PORTAL_MATCH_NONE;
        }

        types[*n] = ngx_http_portal_param_type(&pattern);

        start = s;

        while (s < end
               && ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
                   || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
        {
            s++;
        }

        if (s == start || s - start > NGX_HTTP_PORTAL_PARAM_MAX) {
            return NGX_HTTP_PORTAL_MATCH_NONE;
        }

        params[*n].data = start;
        params[*n].len = s - start;

        if (!ngx_http_portal_param_ok(types[*n], &params[*n])) {
            rc = NGX_HTTP_PORTAL_MATCH_MISSING;
        }

        (*n)++;
    }

    if (s != end) {
        return NGX_HTTP_PORTAL_MATCH_NONE;
    }

    return rc;
}


/* "{uuid}" and the like: the kind of id, the pattern past the "}" */

static ngx_uint_t
ngx_http_portal_param_type(const char **pattern)
{
    size_t       len;
    ngx_uint_t   type;
    const char  *p;

    p = *pattern + 1;

    for (len = 0; p[len] && p[len] != '}'; len++) { /* void */ }

    if (len == 4 && ngx_strncmp(p, "uuid", 4) == 0) {
        type = NGX_HTTP_PORTAL_PARAM_UUID;

    } else if (len == 4 && ngx_strncmp(p, "slug", 4) == 0) {
        type = NGX_HTTP_PORTAL_PARAM_SLUG;

    } else {
        type = NGX_HTTP_PORTAL_PARAM_ID;
    }

    *pattern = p + len + (p[len] == '}');

    return type;
}


static ngx_uint_t
ngx_http_portal_param_ok(ngx_uint_t type, ngx_str_t *s)
{
    size_t  i;

    switch (type) {

    case NGX_HTTP_PORTAL_PARAM_UUID:
        return ngx_http_portal_text_uuid(s->data, s->len);

    case NGX_HTTP_PORTAL_PARAM_SLUG:
        for (i = 0; i < s->len; i++) {
            if (!((s->data[i] >= 'a' && s->data[i] <= 'z')
                  || (s->data[i] >= '0' && s->data[i] <= '9')
                  || s->data[i] == '-'))
            {
                return 0;
            }
        }

        return 1;

    default:
        return 1;
    }
}


/*
 * A UUID has one spelling: lowercase.  (The captcha's picture is seeded
 * by its id; two spellings must not give two pictures.)
 */

static ngx_int_t
ngx_http_portal_params(ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx,
    ngx_uint_t *types)
{
    u_char      *p;
    ngx_uint_t   i;

    for (i = 0; i < ctx->nparams; i++) {

        if (types[i] != NGX_HTTP_PORTAL_PARAM_UUID) {
            continue;
        }

        p = ngx_pnalloc(r->pool, ctx->params[i].len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_strlow(p, ctx->params[i].data, ctx->params[i].len);
        ctx->params[i].data = p;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_portal_not_allowed(ngx_http_request_t *r, ngx_uint_t allowed)
{
    u_char      *p, *start;
    size_t       len;
    ngx_uint_t   i;

    len = 0;

    for (i = 0; ngx_http_portal_methods[i].method; i++) {
        if (allowed & ngx_http_portal_methods[i].method) {
            len += ngx_http_portal_methods[i].name.len + sizeof(", ") - 1;
        }
    }

    start = ngx_pnalloc(r->pool, len);
    if (start == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = start;

    for (i = 0; ngx_http_portal_methods[i].method; i++) {
        if (allowed & ngx_http_portal_methods[i].method) {
            if (p != start) {
                *p++ = ','; *p++ = ' ';
            }

            p = ngx_cpymem(p, ngx_http_portal_methods[i].name.data,
                           ngx_http_portal_methods[i].name.len);
        }
    }

    if (ngx_http_portal_response_header(r, "Allow", start, p - start)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_portal_response_error(r, NGX_HTTP_NOT_ALLOWED,
                                          "method_not_allowed",
                                          NGX_HTTP_PORTAL_M_METHOD);
}
