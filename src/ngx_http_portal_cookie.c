
/*
 * Portail Citoyen: cookies.
 *
 * portal_session = base64url(payload | MAC): the payload is the account's
 * id (16 bytes), the session epoch (4), the expiry (8) and flags (1); the
 * MAC is keyed BLAKE2b with a key derived from portal_secret_file.  The
 * epoch is compared with the account's on every authenticated request
 * (_session.c), so that a password change ends every other session.
 *
 * portal_csrf = a random value, renewed at each log-in and log-out; the
 * anti-CSRF token that GET session gives is a MAC of it and of the session
 * (the account's id and epoch), so that a token works with its own session
 * only.  Unsafe requests must send it in X-CSRF-Token.
 *
 * With portal_cookie_secure on, the cookies are __Host-portal_session and
 * __Host-portal_csrf: a browser takes them from this very host over HTTPS
 * only, so that a neighbouring subdomain cannot set them.  A request with
 * two cookies of one of these names is refused (cookie tossing).
 *
 * The agents' API (/admin/api/) has the same two cookies under names of
 * its own, portal_agent and portal_agent_csrf, MACed with keys of their
 * own: the payload's id is then the agent's.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_cookie.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_text.h"


#define NGX_HTTP_PORTAL_PAYLOAD_LEN   29
#define NGX_HTTP_PORTAL_MAC_LEN       32
/* base64url without padding: 61 bytes are 82 characters */
#define NGX_HTTP_PORTAL_COOKIE_LEN                                           \
    (((NGX_HTTP_PORTAL_PAYLOAD_LEN + NGX_HTTP_PORTAL_MAC_LEN) * 4 + 2) / 3)
#define NGX_HTTP_PORTAL_CSRF_RAW      18
#define NGX_HTTP_PORTAL_CSRF_LEN      24
#define NGX_HTTP_PORTAL_TOKEN_LEN     43

/* a temporary password's session lasts as long as the password */
#define NGX_HTTP_PORTAL_RESET_TTL     (30 * 60)

#define NGX_HTTP_PORTAL_COOKIE_SESSION  0
#define NGX_HTTP_PORTAL_COOKIE_CSRF     1


/*
 * The cookies of each API: their names (plain, and those of
 * portal_cookie_secure on) and the purposes their keys are derived for.
 * An agent's cookies have names and keys of their own: a citizen's
 * session never opens the agents' API, nor an agent's the citizens', and
 * logging in to one leaves the other's anti-CSRF cookie alone.
 */

typedef struct {
    const char                 *names[2][2];
    const char                 *session_key;
    const char                 *csrf_key;
} ngx_http_portal_cookie_api_t;

static const ngx_http_portal_cookie_api_t  ngx_http_portal_cookie_apis[2] = {
    { { { "portal_session", "__Host-portal_session" },
        { "portal_csrf", "__Host-portal_csrf" } },
      "portal session", "portal csrf" },

    { { { "portal_agent", "__Host-portal_agent" },
        { "portal_agent_csrf", "__Host-portal_agent_csrf" } },
      "portal agent session", "portal agent csrf" }
};


static const ngx_http_portal_cookie_api_t *ngx_http_portal_cookie_api(
    ngx_http_request_t *r);
static const char *ngx_http_portal_cookie_name(ngx_http_request_t *r,
    ngx_uint_t which);
static ngx_int_t ngx_http_portal_cookie_get(ngx_http_request_t *r,
    ngx_uint_t which, ngx_str_t *value);
static ngx_uint_t ngx_http_portal_cookie_count(ngx_http_request_t *r,
    ngx_uint_t which);
static ngx_int_t ngx_http_portal_cookie_put(ngx_http_request_t *r,
    ngx_uint_t which, ngx_str_t *value, ngx_uint_t remove);
static ngx_int_t ngx_http_portal_cookie_csrf_check(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);
static void ngx_http_portal_cookie_csrf_mac(ngx_http_request_t *r,
    ngx_str_t *value, ngx_http_portal_session_t *session, u_char *token);
static ngx_int_t ngx_http_portal_cookie_uuid_parse(const u_char *text,
    u_char *bin);
static void ngx_http_portal_cookie_uuid_text(const u_char *bin,
    u_char *text);


void
ngx_http_portal_cookie_key(ngx_http_request_t *r, const char *purpose,
    u_char *key)
{
    ngx_http_portal_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_portal_module);

    /* one key per purpose: a CSRF token can never pass for a session */

    crypto_generichash(key, NGX_HTTP_PORTAL_KEY_LEN, (u_char *) purpose,
                       ngx_strlen(purpose), pmcf->secret,
                       NGX_HTTP_PORTAL_KEY_LEN);
}


static const ngx_http_portal_cookie_api_t *
ngx_http_portal_cookie_api(ngx_http_request_t *r)
{
    ngx_http_portal_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    return &ngx_http_portal_cookie_apis[plcf->api == NGX_HTTP_PORTAL_API_AGENT];
}


static const char *
ngx_http_portal_cookie_name(ngx_http_request_t *r, ngx_uint_t which)
{
    ngx_http_portal_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    return ngx_http_portal_cookie_api(r)->names[which]
                                                [plcf->cookie_secure ? 1 : 0];
}


static ngx_int_t
ngx_http_portal_cookie_get(ngx_http_request_t *r, ngx_uint_t which,
    ngx_str_t *value)
{
    ngx_str_t  n;

    n.data = (u_char *) ngx_http_portal_cookie_name(r, which);
    n.len = ngx_strlen(n.data);

    if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, &n, value)
        == NGX_DECLINED)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* how many cookies of that name the request has, in all its headers */

static ngx_uint_t
ngx_http_portal_cookie_count(ngx_http_request_t *r, ngx_uint_t which)
{
    u_char            *p, *last, *start;
    size_t             len;
    ngx_uint_t         i, n;
    const char        *name;
    ngx_table_elt_t  **h;

    name = ngx_http_portal_cookie_name(r, which);
    len = ngx_strlen(name);
    h = r->headers_in.cookies.elts;
    n = 0;

    for (i = 0; i < r->headers_in.cookies.nelts; i++) {
        p = h[i]->value.data;
        last = p + h[i]->value.len;

        while (p < last) {

            while (p < last && (*p == ' ' || *p == '\t' || *p == ';')) {
                p++;
            }

            start = p;

            while (p < last && *p != ';') {
                p++;
            }

            if ((size_t) (p - start) > len && start[len] == '='
                && ngx_strncmp(start, name, len) == 0)
            {
                n++;
            }
        }
    }

    return n;
}


static ngx_int_t
ngx_http_portal_cookie_put(ngx_http_request_t *r, ngx_uint_t which,
    ngx_str_t *value, ngx_uint_t remove)
{
    u_char                      *p, *start;
    size_t                       len;
    const char                  *name;
    ngx_http_portal_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);
    name = ngx_http_portal_cookie_name(r, which);

    len = ngx_strlen(name) + 1 + value->len
          + sizeof("; Path=/; HttpOnly; SameSite=Lax") - 1
          + sizeof("; Max-Age=0") - 1 + sizeof("; Secure") - 1;

    start = ngx_pnalloc(r->pool, len);
    if (start == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(start, "%s=%V; Path=/; HttpOnly; SameSite=Lax", name,
                    value);

    if (remove) {
        p = ngx_cpymem(p, "; Max-Age=0", sizeof("; Max-Age=0") - 1);
    }

    if (plcf->cookie_secure) {
        p = ngx_cpymem(p, "; Secure", sizeof("; Secure") - 1);
    }

    return ngx_http_portal_response_header(r, "Set-Cookie", start,
                                           p - start);
}


ngx_int_t
ngx_http_portal_cookie_phase(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_int_t  rc;

    /* cookie tossing: a second cookie of a name, from elsewhere */

    if (ngx_http_portal_cookie_count(r, NGX_HTTP_PORTAL_COOKIE_SESSION) > 1
        || ngx_http_portal_cookie_count(r, NGX_HTTP_PORTAL_COOKIE_CSRF) > 1)
    {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "portal: a request with two cookies of one name"
                      " refused");

        return ngx_http_portal_response_error(r, NGX_HTTP_BAD_REQUEST,
                                              "bad_cookie",
                                              NGX_HTTP_PORTAL_M_BAD_COOKIE);
    }

    if (!(r->method & NGX_HTTP_PORTAL_UNSAFE)
        || ngx_http_portal_cookie_csrf_check(r, ctx) == NGX_OK)
    {
        return NGX_DECLINED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_portal_response_error(r, NGX_HTTP_FORBIDDEN, "csrf",
                                          NGX_HTTP_PORTAL_M_CSRF);
}


/* the token: a MAC of the cookie's value and of the session, if any */

static void
ngx_http_portal_cookie_csrf_mac(ngx_http_request_t *r, ngx_str_t *value,
    ngx_http_portal_session_t *session, u_char *token)
{
    u_char                        key[NGX_HTTP_PORTAL_KEY_LEN], mac[32];
    u_char                        epoch[NGX_INT32_LEN + 1], *p;
    ngx_str_t                     src, dst;
    crypto_generichash_state      st;

    ngx_http_portal_cookie_key(r, ngx_http_portal_cookie_api(r)->csrf_key,
                               key);

    crypto_generichash_init(&st, key, sizeof(key), sizeof(mac));
    crypto_generichash_update(&st, value->data, value->len);

    if (session) {
        p = ngx_sprintf(epoch, ":%uD", session->epoch);

        crypto_generichash_update(&st, (u_char *) " ", 1);
        crypto_generichash_update(&st, session->id, 36);
        crypto_generichash_update(&st, epoch, p - epoch);
    }

    crypto_generichash_final(&st, mac, sizeof(mac));

    src.data = mac;
    src.len = sizeof(mac);
    dst.data = token;

    ngx_encode_base64url(&dst, &src);

    sodium_memzero(key, sizeof(key));
}


ngx_int_t
ngx_http_portal_cookie_csrf_renew(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    u_char     raw[NGX_HTTP_PORTAL_CSRF_RAW];
    ngx_str_t  src;

    ctx->csrf.data = ngx_pnalloc(r->pool, NGX_HTTP_PORTAL_CSRF_LEN);
    if (ctx->csrf.data == NULL) {
        return NGX_ERROR;
    }

    randombytes_buf(raw, sizeof(raw));

    src.data = raw;
    src.len = sizeof(raw);

    ngx_encode_base64url(&ctx->csrf, &src);

    return ngx_http_portal_cookie_put(r, NGX_HTTP_PORTAL_COOKIE_CSRF,
                                      &ctx->csrf, 0);
}


ngx_int_t
ngx_http_portal_cookie_csrf_token(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_str_t *token)
{
    if (ctx->csrf.len == 0
        && (ngx_http_portal_cookie_get(r, NGX_HTTP_PORTAL_COOKIE_CSRF,
                                       &ctx->csrf)
            != NGX_OK
            || ctx->csrf.len != NGX_HTTP_PORTAL_CSRF_LEN)
        && ngx_http_portal_cookie_csrf_renew(r, ctx) != NGX_OK)
    {
        return NGX_ERROR;
    }

    token->data = ngx_pnalloc(r->pool, NGX_HTTP_PORTAL_TOKEN_LEN + 1);
    if (token->data == NULL) {
        return NGX_ERROR;
    }

    ngx_http_portal_cookie_csrf_mac(r, &ctx->csrf,
                                    ctx->auth ? &ctx->session : NULL,
                                    token->data);
    token->len = NGX_HTTP_PORTAL_TOKEN_LEN;
    token->data[token->len] = '\0';

    return NGX_OK;
}


static ngx_int_t
ngx_http_portal_cookie_csrf_check(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    u_char            expected[NGX_HTTP_PORTAL_TOKEN_LEN + 1];
    ngx_str_t         value;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *header;

    if (ngx_http_portal_cookie_get(r, NGX_HTTP_PORTAL_COOKIE_CSRF, &value)
        != NGX_OK
        || value.len != NGX_HTTP_PORTAL_CSRF_LEN)
    {
        return NGX_DECLINED;
    }

    header = NULL;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("X-CSRF-Token") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "X-CSRF-Token",
                               sizeof("X-CSRF-Token") - 1) == 0)
        {
            header = &h[i];
            break;
        }
    }

    if (header == NULL || header->value.len != NGX_HTTP_PORTAL_TOKEN_LEN) {
        return NGX_DECLINED;
    }

    /* with a session, the token must be the one made for it */

    ngx_http_portal_cookie_csrf_mac(r, &value,
                                    (ctx->has_session
                                     || ngx_http_portal_cookie_session(r,
                                                                       ctx)
                                        == NGX_OK)
                                    ? &ctx->session : NULL,
                                    expected);

    /* constant time comparison */

    if (sodium_memcmp(expected, header->value.data,
                      NGX_HTTP_PORTAL_TOKEN_LEN) != 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_portal_cookie_uuid_parse(const u_char *text, u_char *bin)
{
    size_t      bin_len;
    u_char      hex[33];
    ngx_uint_t  i, n;

    if (!ngx_http_portal_text_uuid(text, 36)) {
        return NGX_ERROR;
    }

    for (i = 0, n = 0; i < 36; i++) {
        if (text[i] != '-') {
            hex[n++] = text[i];
        }
    }

    hex[n] = '\0';

    if (sodium_hex2bin(bin, 16, (char *) hex, 32, NULL, &bin_len, NULL) != 0
        || bin_len != 16)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_portal_cookie_uuid_text(const u_char *bin, u_char *text)
{
    u_char      hex[33];
    ngx_uint_t  i, n;

    sodium_bin2hex((char *) hex, sizeof(hex), bin, 16);

    for (i = 0, n = 0; i < 36; i++) {
        text[i] = (i == 8 || i == 13 || i == 18 || i == 23) ? '-' : hex[n++];
    }

    text[36] = '\0';
}


ngx_uint_t
ngx_http_portal_cookie_has_session(ngx_http_request_t *r)
{
    ngx_str_t  value;

    return ngx_http_portal_cookie_get(r, NGX_HTTP_PORTAL_COOKIE_SESSION,
                                      &value)
           == NGX_OK;
}


ngx_int_t
ngx_http_portal_cookie_session(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    u_char     key[NGX_HTTP_PORTAL_KEY_LEN];
    u_char     raw[NGX_HTTP_PORTAL_PAYLOAD_LEN + NGX_HTTP_PORTAL_MAC_LEN];
    u_char      mac[NGX_HTTP_PORTAL_MAC_LEN], *p;
    uint64_t    expires;
    ngx_str_t   value, dst;
    ngx_uint_t  i;

    if (ngx_http_portal_cookie_get(r, NGX_HTTP_PORTAL_COOKIE_SESSION, &value)
        != NGX_OK
        || value.len != NGX_HTTP_PORTAL_COOKIE_LEN)
    {
        return NGX_DECLINED;
    }

    dst.data = raw;

    if (ngx_decode_base64url(&dst, &value) != NGX_OK
        || dst.len != sizeof(raw))
    {
        return NGX_DECLINED;
    }

    ngx_http_portal_cookie_key(r, ngx_http_portal_cookie_api(r)->session_key,
                               key);

    crypto_generichash(mac, sizeof(mac), raw, NGX_HTTP_PORTAL_PAYLOAD_LEN,
                       key, sizeof(key));

    sodium_memzero(key, sizeof(key));

    if (sodium_memcmp(mac, raw + NGX_HTTP_PORTAL_PAYLOAD_LEN, sizeof(mac))
        != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "portal: session cookie with a wrong MAC");
        return NGX_DECLINED;
    }

    p = raw + 16;

    ctx->session.epoch = ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
                         | ((uint32_t) p[2] << 8) | p[3];
    p += 4;

    expires = 0;

    for (i = 0; i < 8; i++) {
        expires = (expires << 8) | p[i];
    }

    p += 8;

    if ((time_t) expires < ngx_time()) {
        return NGX_DECLINED;
    }

    ctx->session.expires = (time_t) expires;
    ctx->session.flags = *p;
    ngx_http_portal_cookie_uuid_text(raw, ctx->session.id);
    ctx->has_session = 1;

    return NGX_OK;
}


ngx_int_t
ngx_http_portal_cookie_session_set(ngx_http_request_t *r,
    const u_char *account_id, uint32_t epoch, ngx_uint_t flags)
{
    u_char                        key[NGX_HTTP_PORTAL_KEY_LEN], *p;
    u_char                        raw[NGX_HTTP_PORTAL_PAYLOAD_LEN
                                      + NGX_HTTP_PORTAL_MAC_LEN];
    uint64_t                      expires;
    ngx_int_t                     i;
    ngx_str_t                     src, value;
    ngx_http_portal_main_conf_t  *pmcf;

    if (ngx_http_portal_cookie_uuid_parse(account_id, raw) != NGX_OK) {
        return NGX_ERROR;
    }

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_portal_module);

    expires = ngx_time() + ((flags & NGX_HTTP_PORTAL_SESSION_RESET)
                            ? ngx_min(NGX_HTTP_PORTAL_RESET_TTL,
                                      pmcf->session_timeout)
                            : pmcf->session_timeout);

    p = raw + 16;
    *p++ = (u_char) (epoch >> 24);
    *p++ = (u_char) (epoch >> 16);
    *p++ = (u_char) (epoch >> 8);
    *p++ = (u_char) epoch;

    for (i = 7; i >= 0; i--) {
        *p++ = (u_char) (expires >> (i * 8));
    }

    *p++ = (u_char) flags;

    ngx_http_portal_cookie_key(r, ngx_http_portal_cookie_api(r)->session_key,
                               key);

    crypto_generichash(p, NGX_HTTP_PORTAL_MAC_LEN, raw,
                       NGX_HTTP_PORTAL_PAYLOAD_LEN, key, sizeof(key));

    sodium_memzero(key, sizeof(key));

    value.data = ngx_pnalloc(r->pool, NGX_HTTP_PORTAL_COOKIE_LEN);
    if (value.data == NULL) {
        return NGX_ERROR;
    }

    src.data = raw;
    src.len = sizeof(raw);

    ngx_encode_base64url(&value, &src);

    return ngx_http_portal_cookie_put(r, NGX_HTTP_PORTAL_COOKIE_SESSION,
                                      &value, 0);
}


ngx_int_t
ngx_http_portal_cookie_session_clear(ngx_http_request_t *r)
{
    ngx_str_t  empty = ngx_null_string;

    return ngx_http_portal_cookie_put(r, NGX_HTTP_PORTAL_COOKIE_SESSION,
                                      &empty, 1);
}


ngx_int_t
ngx_http_portal_cookie_session_epoch(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_str_t *epoch)
{
    epoch->data = ngx_pnalloc(r->pool, NGX_INT32_LEN);
    if (epoch->data == NULL) {
        return NGX_ERROR;
    }

    epoch->len = ngx_sprintf(epoch->data, "%uD", ctx->session.epoch)
                 - epoch->data;

    return NGX_OK;
}
