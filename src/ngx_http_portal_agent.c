
/*
 * Portail Citoyen: the handler of the agents' routes: the query string
 * checked against the route's parameters (an unknown, repeated or wrong
 * one: 422 with the parameter as the field), the JSON body against its
 * field table, then the route's statement with the agent, the path's
 * ids, the client's address, the values, and portal_public_url.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_agent.h"
#include "ngx_http_portal_check.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_resource.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_text.h"


/* a list's parameters, at most */
#define NGX_HTTP_PORTAL_AGENT_ARGS  8


static ngx_int_t ngx_http_portal_agent_args(ngx_http_request_t *r,
    const ngx_http_portal_agent_arg_t *args, ngx_str_t *values,
    json_t *errors);
static ngx_int_t ngx_http_portal_agent_arg(ngx_http_request_t *r,
    const ngx_http_portal_agent_arg_t *arg, ngx_str_t *raw,
    ngx_str_t *value, const char **message);
static const char *ngx_http_portal_agent_arg_check(
    const ngx_http_portal_agent_arg_t *arg, ngx_str_t *value);
static ngx_int_t ngx_http_portal_agent_arg_error(json_t *errors,
    ngx_str_t *name, const char *message);
static ngx_uint_t ngx_http_portal_agent_digits(u_char **p, u_char *last,
    ngx_uint_t n, ngx_uint_t max);


ngx_http_portal_fault_t  ngx_http_portal_agent_document_missing = {
    "not_found", NGX_HTTP_PORTAL_M_DOCUMENT_NOT_FOUND
};


ngx_int_t
ngx_http_portal_agent_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    json_t                               *errors;
    ngx_int_t                             rc;
    ngx_str_t                             values[NGX_HTTP_PORTAL_AGENT_ARGS];
    ngx_str_t                             params[NGX_HTTP_PORTAL_DB_MAX_PARAMS];
    ngx_uint_t                            i, n, nargs;
    ngx_http_portal_check_t               ck;
    ngx_http_portal_loc_conf_t           *plcf;
    ngx_http_portal_agent_input_t        *in;
    const ngx_http_portal_agent_route_t  *route;

    route = ctx->route->data;

    /* the query string: a list's filters, nothing for the others */

    errors = json_object();
    if (errors == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    nargs = 0;

    if (route->args) {
        while (route->args[nargs].name) {
            nargs++;
        }
    }

    ngx_memzero(values, sizeof(values));

    if (ngx_http_portal_agent_args(r, route->args, values, errors) != NGX_OK)
    {
        json_decref(errors);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (json_object_size(errors)) {
        return ngx_http_portal_response_invalid(r, NGX_HTTP_PORTAL_M_INVALID,
                                                errors);
    }

    json_decref(errors);

    /* the body */

    in = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_agent_input_t));
    if (in == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (route->fields) {
        if (ngx_http_portal_check_init(&ck, r->pool) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_portal_check(&ck, ctx->json, route->fields, "", 0, in,
                              NULL);

        if (route->rule) {
            route->rule(&ck, in);
        }

        if (ngx_http_portal_check_done(r, &ck, NGX_HTTP_PORTAL_M_INVALID,
                                       &rc)
            != NGX_OK)
        {
            return rc;
        }
    }

    /* the statement's parameters */

    n = 0;

    params[n].data = ctx->session.id;
    params[n].len = ngx_strlen(ctx->session.id);
    n++;

    for (i = 0; i < ctx->nparams; i++) {
        params[n++] = ctx->params[i];
    }

    params[n++] = r->connection->addr_text;

    for (i = 0; i < nargs; i++) {
        params[n++] = values[i];
    }

    for (i = 0; i < route->nfields; i++) {
        params[n++] = in->value[i];
    }

    if (route->url) {
        plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);
        params[n++] = plcf->public_url;
    }

    return ngx_http_portal_resource_run(r,
               (ngx_http_portal_resource_t *) &route->resource, params, n);
}


/*
 * name=value&...: each value of args, unescaped, checked, in values (data
 * NULL when absent or empty); what is wrong, in errors by name.
 */

static ngx_int_t
ngx_http_portal_agent_args(ngx_http_request_t *r,
    const ngx_http_portal_agent_arg_t *args, ngx_str_t *values,
    json_t *errors)
{
    u_char      *p, *last, *start, *eq;
    ngx_str_t    name, raw;
    ngx_uint_t   i, seen;
    const char  *message;

    p = r->args.data;
    last = p + r->args.len;
    seen = 0;

    while (p < last) {
        start = p;

        while (p < last && *p != '&') {
            p++;
        }

        if (p == start) {
            p++;
            continue;
        }

        eq = ngx_strlchr(start, p, '=');

        name.data = start;
        name.len = (eq ? eq : p) - start;
        raw.data = eq ? eq + 1 : p;
        raw.len = p - raw.data;

        for (i = 0; args && args[i].name; i++) {
            if (name.len == ngx_strlen(args[i].name)
                && ngx_strncmp(name.data, args[i].name, name.len) == 0)
            {
                break;
            }
        }

        if (args == NULL || args[i].name == NULL) {
            message = NGX_HTTP_PORTAL_M_AGENT_ARG_UNKNOWN;

        } else if (seen & (1 << i)) {
            message = NGX_HTTP_PORTAL_M_AGENT_ARG_TWICE;

        } else {
            seen |= 1 << i;

            if (ngx_http_portal_agent_arg(r, &args[i], &raw, &values[i],
                                          &message)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        if (message
            && ngx_http_portal_agent_arg_error(errors, &name, message)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        p++;
    }

    return NGX_OK;
}


/*
 * The value unescaped; *message NULL when it is right (or empty: absent),
 * what is wrong otherwise.  NGX_ERROR: no memory.
 */

static ngx_int_t
ngx_http_portal_agent_arg(ngx_http_request_t *r,
    const ngx_http_portal_agent_arg_t *arg, ngx_str_t *raw, ngx_str_t *value,
    const char **message)
{
    u_char  *s, *d;
    size_t   i;

    *message = NULL;

    if (raw->len == 0) {
        return NGX_OK;
    }

    /* a form's "+" is a space; then %XX */

    s = ngx_pnalloc(r->pool, raw->len);
    d = ngx_pnalloc(r->pool, raw->len + 1);
    if (s == NULL || d == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < raw->len; i++) {
        s[i] = (raw->data[i] == '+') ? ' ' : raw->data[i];
    }

    value->data = d;
    ngx_unescape_uri(&d, &s, raw->len, 0);
    value->len = d - value->data;
    *d = '\0';

    *message = ngx_http_portal_agent_arg_check(arg, value);

    return NGX_OK;
}


/* NULL when the value is right, its message otherwise */

static const char *
ngx_http_portal_agent_arg_check(const ngx_http_portal_agent_arg_t *arg,
    ngx_str_t *value)
{
    ngx_int_t  n;

    switch (arg->kind) {

    case NGX_HTTP_PORTAL_ARG_BOOLEAN:
        if ((value->len == 4 && ngx_strncmp(value->data, "true", 4) == 0)
            || (value->len == 5 && ngx_strncmp(value->data, "false", 5) == 0))
        {
            return NULL;
        }

        return NGX_HTTP_PORTAL_M_AGENT_ARG_BOOLEAN;

    case NGX_HTTP_PORTAL_ARG_LIMIT:
        n = ngx_atoi(value->data, value->len);
        return (n >= 1 && n <= 200) ? NULL
                                    : NGX_HTTP_PORTAL_M_AGENT_ARG_LIMIT;

    case NGX_HTTP_PORTAL_ARG_UUID:
        if (!ngx_http_portal_text_uuid(value->data, value->len)) {
            return NGX_HTTP_PORTAL_M_AGENT_ARG_UUID;
        }

        ngx_strlow(value->data, value->data, value->len);
        return NULL;

    default: /* NGX_HTTP_PORTAL_ARG_TEXT */
        /* valid UTF-8 without control characters */

        if (value->len > arg->max
            || ngx_http_portal_text_utf8_len(value->data, value->len) < 0)
        {
            return NGX_HTTP_PORTAL_M_AGENT_ARG_TEXT;
        }

        return NULL;
    }
}


/* the field is the parameter's name, when it can be one */

static ngx_int_t
ngx_http_portal_agent_arg_error(json_t *errors, ngx_str_t *name,
    const char *message)
{
    char        key[33];
    ngx_uint_t  i;

    for (i = 0; i < name->len && i < 32; i++) {
        if (!((name->data[i] >= 'a' && name->data[i] <= 'z')
              || (name->data[i] >= 'A' && name->data[i] <= 'Z')
              || (name->data[i] >= '0' && name->data[i] <= '9')
              || name->data[i] == '_' || name->data[i] == '-'))
        {
            break;
        }

        key[i] = name->data[i];
    }

    if (i == 0 || i < name->len) {
        ngx_memcpy(key, "query", sizeof("query"));

    } else {
        key[i] = '\0';
    }

    if (json_object_get(errors, key)) {
        return NGX_OK;
    }

    return json_object_set_new(errors, key, json_string(message)) == 0
           ? NGX_OK : NGX_ERROR;
}


/* YYYY-MM-DDTHH:MM[:SS[.fraction]] then Z or +HH:MM or -HH:MM */

ngx_uint_t
ngx_http_portal_agent_iso8601(ngx_str_t *text)
{
    u_char  *p, *last;

    p = text->data;
    last = p + text->len;

    if (!ngx_http_portal_agent_digits(&p, last, 4, 9999)
        || p == last || *p++ != '-'
        || !ngx_http_portal_agent_digits(&p, last, 2, 12)
        || p == last || *p++ != '-'
        || !ngx_http_portal_agent_digits(&p, last, 2, 31)
        || p == last || *p++ != 'T'
        || !ngx_http_portal_agent_digits(&p, last, 2, 23)
        || p == last || *p++ != ':'
        || !ngx_http_portal_agent_digits(&p, last, 2, 59))
    {
        return 0;
    }

    if (p < last && *p == ':') {
        p++;

        if (!ngx_http_portal_agent_digits(&p, last, 2, 59)) {
            return 0;
        }

        if (p < last && *p == '.') {
            p++;

            if (p == last || *p < '0' || *p > '9') {
                return 0;
            }

            while (p < last && *p >= '0' && *p <= '9') {
                p++;
            }
        }
    }

    if (p < last && *p == 'Z') {
        return p + 1 == last;
    }

    if (p == last || (*p != '+' && *p != '-')) {
        return 0;
    }

    p++;

    return ngx_http_portal_agent_digits(&p, last, 2, 14)
           && p < last && *p++ == ':'
           && ngx_http_portal_agent_digits(&p, last, 2, 59)
           && p == last;
}


/* n digits, at most max (and not 0 where the bound is 12 or 31) */

static ngx_uint_t
ngx_http_portal_agent_digits(u_char **p, u_char *last, ngx_uint_t n,
    ngx_uint_t max)
{
    ngx_uint_t  i, v;

    if ((size_t) (last - *p) < n) {
        return 0;
    }

    for (i = 0, v = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9') {
            return 0;
        }

        v = v * 10 + ((*p)[i] - '0');
    }

    *p += n;

    return v <= max && !((max == 12 || max == 31) && v == 0);
}
