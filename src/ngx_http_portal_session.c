
/*
 * Portail Citoyen: session cookies, the anti-CSRF token, the check of a
 * citizen's session against PostgreSQL, and the session routes (log in,
 * who am I, log out).
 *
 * portal_session = base64url(payload | MAC): the payload is the account's
 * id (16 bytes), the session epoch (4), the expiry (8) and flags (1); the
 * MAC is keyed BLAKE2b with a key derived from portal_secret_file.  The
 * epoch is compared with the account's on every authenticated request, so
 * that a password change ends every other session.
 *
 * portal_csrf = a random value; the anti-CSRF token that GET session gives
 * is its MAC, and unsafe requests must send it in X-CSRF-Token.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_json.h"
#include "ngx_http_portal_password.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_session.h"
#include "ngx_http_portal_text.h"
#include "ngx_http_portal_thread.h"


#define NGX_HTTP_PORTAL_PAYLOAD_LEN   29
#define NGX_HTTP_PORTAL_MAC_LEN       32
/* base64url without padding: 61 bytes are 82 characters */
#define NGX_HTTP_PORTAL_COOKIE_LEN                                           \
    (((NGX_HTTP_PORTAL_PAYLOAD_LEN + NGX_HTTP_PORTAL_MAC_LEN) * 4 + 2) / 3)
#define NGX_HTTP_PORTAL_CSRF_RAW      18
#define NGX_HTTP_PORTAL_CSRF_LEN      24
#define NGX_HTTP_PORTAL_TOKEN_LEN     43

#define NGX_HTTP_PORTAL_RESET_TTL     (30 * 60)


typedef struct {
    char                      password[NGX_HTTP_PORTAL_PASSWORD_BYTES + 1];
    char                      hash[crypto_pwhash_STRBYTES];
    char                      temp_hash[crypto_pwhash_STRBYTES];
    /* 1: the password, 2: the temporary password */
    ngx_uint_t                ok;
} ngx_http_portal_login_job_t;


typedef struct {
    ngx_str_t                 login;
    ngx_str_t                 addr;
    u_char                    id[40];
    uint32_t                  epoch;
    ngx_uint_t                validated;
    ngx_uint_t                temp;
} ngx_http_portal_login_t;


static void ngx_http_portal_key(ngx_http_request_t *r, const char *purpose,
    u_char *key);
static ngx_int_t ngx_http_portal_cookie(ngx_http_request_t *r,
    const char *name, ngx_str_t *value);
static ngx_int_t ngx_http_portal_set_cookie(ngx_http_request_t *r,
    const char *name, ngx_str_t *value, ngx_uint_t remove);
static ngx_int_t ngx_http_portal_csrf_token(ngx_http_request_t *r,
    ngx_str_t *token);
static void ngx_http_portal_csrf_mac(ngx_http_request_t *r, ngx_str_t *value,
    u_char *token);
static ngx_int_t ngx_http_portal_uuid_parse(const u_char *text, u_char *bin);
static void ngx_http_portal_uuid_text(const u_char *bin, u_char *text);
static void ngx_http_portal_auth_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static ngx_int_t ngx_http_portal_session_send(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, ngx_uint_t status);
static void ngx_http_portal_login_begun(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static void ngx_http_portal_login_work(void *data);
static void ngx_http_portal_login_checked(ngx_http_request_t *r, void *data);
static void ngx_http_portal_login_recorded(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static void ngx_http_portal_logout_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static ngx_int_t ngx_http_portal_login_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_portal_sql_t  ngx_http_portal_session_check_sql = {
    "portal_session_check",
    "SELECT login, validated FROM portal.accounts"
    " WHERE id = $1 AND session_epoch = $2",
    2, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_login_begin_sql = {
    "portal_login_begin",
    "SELECT blocked, id, login, password_hash, temp_hash, epoch, validated"
    " FROM portal.login_begin($1, $2)",
    2, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_login_ok_sql = {
    "portal_login_ok",
    "SELECT portal.login_succeeded($1, $2)",
    2, 0
};


static ngx_http_portal_sql_t  ngx_http_portal_logout_sql = {
    "portal_logout",
    "UPDATE portal.accounts SET session_epoch = session_epoch + 1"
    " WHERE id = $1 AND session_epoch = $2",
    2, 0
};


static ngx_http_variable_t  ngx_http_portal_vars[] = {

    { ngx_string("portal_login"), NULL, ngx_http_portal_login_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_portal_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_portal_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_portal_login_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_portal_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    if (ctx == NULL || !ctx->auth || ctx->session.login.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = ctx->session.login.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = ctx->session.login.data;

    return NGX_OK;
}


static void
ngx_http_portal_key(ngx_http_request_t *r, const char *purpose, u_char *key)
{
    ngx_http_portal_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_portal_module);

    /* one key per purpose: a CSRF token can never pass for a session */

    crypto_generichash(key, NGX_HTTP_PORTAL_KEY_LEN, (u_char *) purpose,
                       ngx_strlen(purpose), pmcf->secret,
                       NGX_HTTP_PORTAL_KEY_LEN);
}


static ngx_int_t
ngx_http_portal_cookie(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    ngx_str_t  n;

    n.data = (u_char *) name;
    n.len = ngx_strlen(name);

    if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, &n, value)
        == NGX_DECLINED)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_portal_set_cookie(ngx_http_request_t *r, const char *name,
    ngx_str_t *value, ngx_uint_t remove)
{
    u_char                      *p;
    size_t                       len;
    ngx_table_elt_t             *h;
    ngx_http_portal_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    len = ngx_strlen(name) + 1 + value->len
          + sizeof("; Path=/; HttpOnly; SameSite=Lax") - 1
          + sizeof("; Max-Age=0") - 1 + sizeof("; Secure") - 1;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Set-Cookie");
    h->value.data = p;

    p = ngx_sprintf(p, "%s=%V; Path=/; HttpOnly; SameSite=Lax", name, value);

    if (remove) {
        p = ngx_cpymem(p, "; Max-Age=0", sizeof("; Max-Age=0") - 1);
    }

    if (plcf->cookie_secure) {
        p = ngx_cpymem(p, "; Secure", sizeof("; Secure") - 1);
    }

    h->value.len = p - h->value.data;

    return NGX_OK;
}


static void
ngx_http_portal_csrf_mac(ngx_http_request_t *r, ngx_str_t *value,
    u_char *token)
{
    u_char     key[NGX_HTTP_PORTAL_KEY_LEN], mac[32];
    ngx_str_t  src, dst;

    ngx_http_portal_key(r, "portal csrf", key);

    crypto_generichash(mac, sizeof(mac), value->data, value->len,
                       key, sizeof(key));

    src.data = mac;
    src.len = sizeof(mac);
    dst.data = token;

    ngx_encode_base64url(&dst, &src);

    sodium_memzero(key, sizeof(key));
}


/* the token of the request's portal_csrf cookie; a new cookie if none */

static ngx_int_t
ngx_http_portal_csrf_token(ngx_http_request_t *r, ngx_str_t *token)
{
    u_char     raw[NGX_HTTP_PORTAL_CSRF_RAW];
    ngx_str_t  value, src;

    if (ngx_http_portal_cookie(r, "portal_csrf", &value) != NGX_OK
        || value.len != NGX_HTTP_PORTAL_CSRF_LEN)
    {
        value.data = ngx_pnalloc(r->pool, NGX_HTTP_PORTAL_CSRF_LEN);
        if (value.data == NULL) {
            return NGX_ERROR;
        }

        randombytes_buf(raw, sizeof(raw));

        src.data = raw;
        src.len = sizeof(raw);

        ngx_encode_base64url(&value, &src);

        if (ngx_http_portal_set_cookie(r, "portal_csrf", &value, 0)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    token->data = ngx_pnalloc(r->pool, NGX_HTTP_PORTAL_TOKEN_LEN + 1);
    if (token->data == NULL) {
        return NGX_ERROR;
    }

    ngx_http_portal_csrf_mac(r, &value, token->data);
    token->len = NGX_HTTP_PORTAL_TOKEN_LEN;
    token->data[token->len] = '\0';

    return NGX_OK;
}


ngx_int_t
ngx_http_portal_csrf_check(ngx_http_request_t *r)
{
    u_char            expected[NGX_HTTP_PORTAL_TOKEN_LEN + 1];
    ngx_str_t         value;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *header;

    if (ngx_http_portal_cookie(r, "portal_csrf", &value) != NGX_OK
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

    ngx_http_portal_csrf_mac(r, &value, expected);

    /* constant time comparison */

    if (sodium_memcmp(expected, header->value.data,
                      NGX_HTTP_PORTAL_TOKEN_LEN) != 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_portal_uuid_parse(const u_char *text, u_char *bin)
{
    size_t      bin_len;
    u_char      hex[33];
    ngx_uint_t  i, n;

    if (!ngx_http_portal_valid_uuid(text, 36)) {
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
ngx_http_portal_uuid_text(const u_char *bin, u_char *text)
{
    u_char      hex[33];
    ngx_uint_t  i, n;

    sodium_bin2hex((char *) hex, sizeof(hex), bin, 16);

    for (i = 0, n = 0; i < 36; i++) {
        text[i] = (i == 8 || i == 13 || i == 18 || i == 23) ? '-' : hex[n++];
    }

    text[36] = '\0';
}


ngx_int_t
ngx_http_portal_session_read(ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx)
{
    u_char     key[NGX_HTTP_PORTAL_KEY_LEN];
    u_char     raw[NGX_HTTP_PORTAL_PAYLOAD_LEN + NGX_HTTP_PORTAL_MAC_LEN];
    u_char      mac[NGX_HTTP_PORTAL_MAC_LEN], *p;
    uint64_t    expires;
    ngx_str_t   value, dst;
    ngx_uint_t  i;

    if (ngx_http_portal_cookie(r, "portal_session", &value) != NGX_OK
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

    ngx_http_portal_key(r, "portal session", key);

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
    ngx_http_portal_uuid_text(raw, ctx->session.id);
    ctx->has_session = 1;

    return NGX_OK;
}


ngx_int_t
ngx_http_portal_session_set(ngx_http_request_t *r, const u_char *account_id,
    uint32_t epoch, ngx_uint_t flags)
{
    u_char                       key[NGX_HTTP_PORTAL_KEY_LEN], *p;
    u_char                       raw[NGX_HTTP_PORTAL_PAYLOAD_LEN
                                     + NGX_HTTP_PORTAL_MAC_LEN];
    uint64_t                     expires;
    ngx_int_t                    i;
    ngx_str_t                    src, value;
    ngx_http_portal_main_conf_t  *pmcf;

    if (ngx_http_portal_uuid_parse(account_id, raw) != NGX_OK) {
        return NGX_ERROR;
    }

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_portal_module);

    /* a temporary password's session lasts as long as the password */

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

    ngx_http_portal_key(r, "portal session", key);

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

    return ngx_http_portal_set_cookie(r, "portal_session", &value, 0);
}


ngx_int_t
ngx_http_portal_session_clear(ngx_http_request_t *r)
{
    ngx_str_t  empty = ngx_null_string;

    return ngx_http_portal_set_cookie(r, "portal_session", &empty, 1);
}


ngx_int_t
ngx_http_portal_auth(ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx,
    ngx_http_portal_handler_pt next)
{
    u_char                      *epoch;
    ngx_http_portal_db_query_t  *q;

    if (!ctx->has_session && ngx_http_portal_session_read(r, ctx) != NGX_OK)
    {
        return ngx_http_portal_send_error(r, NGX_HTTP_UNAUTHORIZED,
                                          "unauthenticated",
                                          "Vous devez vous connecter à votre"
                                          " compte citoyen.");
    }

    epoch = ngx_pnalloc(r->pool, NGX_INT32_LEN + 1);
    if (epoch == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *ngx_sprintf(epoch, "%uD", ctx->session.epoch) = '\0';

    q = ngx_http_portal_db_query(r, &ngx_http_portal_session_check_sql,
                                 ngx_http_portal_auth_done);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->data = (void *) next;

    ngx_http_portal_db_param(q, (char *) ctx->session.id, 36);
    ngx_http_portal_db_param(q, (char *) epoch, ngx_strlen(epoch));

    return ngx_http_portal_db_suspend(q);
}


static void
ngx_http_portal_auth_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_int_t                    rc;
    ngx_http_request_t          *r;
    ngx_http_portal_ctx_t       *ctx;
    ngx_http_portal_handler_pt   next;

    r = q->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    next = (ngx_http_portal_handler_pt) q->data;

    if (ngx_http_portal_db_rows(q, status, res, 0) != NGX_OK) {
        return;
    }

    if (PQntuples(res) != 1) {

        /* the password changed since: this session is over */

        ctx->has_session = 0;

        if (ngx_http_portal_session_clear(r) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        /* GET session always answers: nobody is logged in */

        if (next == ngx_http_portal_session_reply) {
            ngx_http_finalize_request(r, next(r, ctx));
            return;
        }

        ngx_http_finalize_request(r,
            ngx_http_portal_send_error(r, NGX_HTTP_UNAUTHORIZED,
                                       "unauthenticated",
                                       "Votre session a pris fin :"
                                       " reconnectez-vous."));
        return;
    }

    ctx->session.login.len = PQgetlength(res, 0, 0);
    ctx->session.login.data = ngx_pnalloc(r->pool,
                                          ctx->session.login.len + 1);
    if (ctx->session.login.data == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_cpystrn(ctx->session.login.data, (u_char *) PQgetvalue(res, 0, 0),
                ctx->session.login.len + 1);

    ctx->session.validated = (PQgetvalue(res, 0, 1)[0] == 't');
    ctx->auth = 1;

    rc = next(r, ctx);

    ngx_http_finalize_request(r, rc);
}


/* {"authenticated", "login", "validated", "csrf_token", ...} */

static ngx_int_t
ngx_http_portal_session_send(ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx,
    ngx_uint_t status)
{
    json_t     *json;
    ngx_str_t   token;

    if (ngx_http_portal_csrf_token(r, &token) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->auth) {
        json = json_pack("{s:b, s:s%, s:b, s:s, s:b}",
                         "authenticated", 1,
                         "login", ctx->session.login.data,
                         ctx->session.login.len,
                         "validated", (int) ctx->session.validated,
                         "csrf_token", token.data,
                         "password_change_required",
                         (ctx->session.flags & NGX_HTTP_PORTAL_SESSION_RESET)
                         != 0);

    } else {
        json = json_pack("{s:b, s:n, s:n, s:s}",
                         "authenticated", 0, "login", "validated",
                         "csrf_token", token.data);
    }

    return ngx_http_portal_send_json(r, status, json);
}


ngx_int_t
ngx_http_portal_session_reply(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    return ngx_http_portal_session_send(r, ctx, NGX_HTTP_OK);
}


ngx_int_t
ngx_http_portal_session_get_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_str_t  value;

    if (ngx_http_portal_session_read(r, ctx) == NGX_OK) {
        return ngx_http_portal_auth(r, ctx, ngx_http_portal_session_reply);
    }

    /* a cookie that no longer opens anything is removed */

    if (ngx_http_portal_cookie(r, "portal_session", &value) == NGX_OK
        && ngx_http_portal_session_clear(r) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_portal_session_send(r, ctx, NGX_HTTP_OK);
}


/*
 * Log out.  The cookie is signed, not stored: for a copy of it (a shared
 * computer) to open nothing more, the account's epoch moves on, which
 * also ends the account's sessions elsewhere.
 */

ngx_int_t
ngx_http_portal_session_delete_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    u_char                      *epoch;
    ngx_http_portal_db_query_t  *q;

    if (ngx_http_portal_session_clear(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->auth = 0;

    if (ngx_http_portal_session_read(r, ctx) != NGX_OK) {
        return ngx_http_portal_session_send(r, ctx, NGX_HTTP_OK);
    }

    epoch = ngx_pnalloc(r->pool, NGX_INT32_LEN + 1);
    if (epoch == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *ngx_sprintf(epoch, "%uD", ctx->session.epoch) = '\0';

    q = ngx_http_portal_db_query(r, &ngx_http_portal_logout_sql,
                                 ngx_http_portal_logout_done);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_db_param(q, (char *) ctx->session.id, 36);
    ngx_http_portal_db_param(q, (char *) epoch, ngx_strlen(epoch));

    return ngx_http_portal_db_suspend(q);
}


static void
ngx_http_portal_logout_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_request_t     *r;
    ngx_http_portal_ctx_t  *ctx;

    r = q->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    if (status != NGX_HTTP_PORTAL_DB_OK
        || PQresultStatus(res) != PGRES_COMMAND_OK)
    {
        ngx_http_finalize_request(r, ngx_http_portal_db_error(r, status,
                                                              res));
        return;
    }

    ctx->has_session = 0;

    ngx_http_finalize_request(r,
                              ngx_http_portal_session_send(r, ctx,
                                                           NGX_HTTP_OK));
}


ngx_int_t
ngx_http_portal_session_create_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    size_t                       len;
    json_t                      *fields;
    const char                  *login, *password;
    ngx_http_portal_login_t     *lg;
    ngx_http_portal_db_query_t  *q;

    login = json_string_value(json_object_get(ctx->json, "login"));
    password = json_string_value(json_object_get(ctx->json, "password"));

    fields = json_object();
    if (fields == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (login == NULL || *login == '\0' || ngx_strlen(login) > 100) {
        json_object_set_new(fields, "login",
                            json_string("Saisissez votre identifiant."));
    }

    if (password == NULL || *password == '\0'
        || ngx_strlen(password) > NGX_HTTP_PORTAL_PASSWORD_BYTES)
    {
        json_object_set_new(fields, "password",
                            json_string("Saisissez votre mot de passe."));
    }

    if (json_object_size(fields)) {
        return ngx_http_portal_send_error_fields(r,
                   NGX_HTTP_UNPROCESSABLE_ENTITY, "invalid",
                   "Identifiant et mot de passe sont nécessaires.", fields);
    }

    json_decref(fields);

    lg = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_login_t));
    if (lg == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_strlen(login);
    lg->login.data = ngx_pnalloc(r->pool, len + 1);
    if (lg->login.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_cpystrn(lg->login.data, (u_char *) login, len + 1);
    lg->login.len = len;

    lg->addr.data = ngx_pnalloc(r->pool, r->connection->addr_text.len + 1);
    if (lg->addr.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_cpystrn(lg->addr.data, r->connection->addr_text.data,
                r->connection->addr_text.len + 1);
    lg->addr.len = r->connection->addr_text.len;

    ctx->data = lg;

    q = ngx_http_portal_db_query(r, &ngx_http_portal_login_begin_sql,
                                 ngx_http_portal_login_begun);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_db_param(q, (char *) lg->login.data, lg->login.len);
    ngx_http_portal_db_param(q, (char *) lg->addr.data, lg->addr.len);

    return ngx_http_portal_db_suspend(q);
}


static void
ngx_http_portal_login_begun(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    const char                   *hash;
    ngx_http_request_t           *r;
    ngx_http_portal_ctx_t        *ctx;
    ngx_http_portal_login_t      *lg;
    ngx_http_portal_login_job_t  *job;

    r = q->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    lg = ctx->data;

    if (ngx_http_portal_db_rows(q, status, res, 1) != NGX_OK) {
        return;
    }

    if (PQgetvalue(res, 0, 0)[0] == 't') {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "portal: login \"%V\" refused: too many failures",
                      &lg->login);
        ngx_http_finalize_request(r, ngx_http_portal_too_many(r));
        return;
    }

    job = ngx_http_portal_thread_alloc(r->connection->log,
                                       sizeof(ngx_http_portal_login_job_t));
    if (job == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* an unknown login costs the same hashing as a known one */

    if (PQgetisnull(res, 0, 1)) {
        hash = ngx_http_portal_password_dummy;

    } else {
        hash = PQgetvalue(res, 0, 3);

        ngx_cpystrn(lg->id, (u_char *) PQgetvalue(res, 0, 1),
                    sizeof(lg->id));
        ngx_cpystrn(lg->login.data, (u_char *) PQgetvalue(res, 0, 2),
                    lg->login.len + 1);
        lg->login.len = ngx_strlen(lg->login.data);
        lg->epoch = (uint32_t) ngx_atoi((u_char *) PQgetvalue(res, 0, 5),
                                        PQgetlength(res, 0, 5));
        lg->validated = (PQgetvalue(res, 0, 6)[0] == 't');

        if (!PQgetisnull(res, 0, 4)) {
            ngx_cpystrn((u_char *) job->temp_hash,
                        (u_char *) PQgetvalue(res, 0, 4),
                        sizeof(job->temp_hash));
        }
    }

    ngx_cpystrn((u_char *) job->hash, (u_char *) hash, sizeof(job->hash));
    ngx_cpystrn((u_char *) job->password,
                (u_char *) json_string_value(json_object_get(ctx->json,
                                                             "password")),
                sizeof(job->password));

    if (ngx_http_portal_thread_post(r, job, ngx_http_portal_login_work,
                                    ngx_http_portal_login_checked)
        != NGX_OK)
    {
        ngx_http_portal_thread_free(job);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* the request stays suspended until ngx_http_portal_login_checked() */
}


static void
ngx_http_portal_login_work(void *data)
{
    ngx_http_portal_login_job_t *job = data;

    size_t  len;

    len = ngx_strlen(job->password);

    if (crypto_pwhash_str_verify(job->hash, job->password, len) == 0) {
        job->ok = 1;
        return;
    }

    if (job->temp_hash[0]
        && crypto_pwhash_str_verify(job->temp_hash, job->password, len) == 0)
    {
        job->ok = 2;
    }
}


static void
ngx_http_portal_login_checked(ngx_http_request_t *r, void *data)
{
    ngx_http_portal_login_job_t *job = data;

    ngx_http_portal_ctx_t        *ctx;
    ngx_http_portal_login_t      *lg;
    ngx_http_portal_db_query_t   *q;

    if (r == NULL) {
        return;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    lg = ctx->data;

    if (job->ok && lg->id[0]) {
        lg->temp = (job->ok == 2);

        q = ngx_http_portal_db_query(r, &ngx_http_portal_login_ok_sql,
                                     ngx_http_portal_login_recorded);
        if (q == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_http_portal_db_param(q, (char *) lg->id, 36);
        ngx_http_portal_db_param(q, lg->temp ? "t" : "f", 1);

    } else {
        lg->id[0] = '\0';

        q = ngx_http_portal_auth_failed(r, &lg->login, "password",
                                        ngx_http_portal_login_recorded);
        if (q == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    ngx_http_portal_db_next(q);
}


static void
ngx_http_portal_login_recorded(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_request_t       *r;
    ngx_http_portal_ctx_t    *ctx;
    ngx_http_portal_login_t  *lg;

    r = q->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    lg = ctx->data;

    if (ngx_http_portal_db_rows(q, status, res, 0) != NGX_OK) {
        return;
    }

    if (lg->id[0] == '\0') {

        /* never the password: the login and the address only */

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "portal: failed login for \"%V\" from %V",
                      &lg->login, &lg->addr);

        ngx_http_finalize_request(r,
            ngx_http_portal_send_error(r, NGX_HTTP_UNAUTHORIZED,
                                       "bad_credentials",
                                       "Identifiant ou mot de passe"
                                       " incorrect."));
        return;
    }

    ngx_memcpy(ctx->session.id, lg->id, sizeof(lg->id));
    ctx->session.epoch = lg->epoch;
    ctx->session.flags = lg->temp ? NGX_HTTP_PORTAL_SESSION_RESET : 0;
    ctx->session.login = lg->login;
    ctx->session.validated = lg->validated;
    ctx->auth = 1;

    if (ngx_http_portal_session_set(r, lg->id, lg->epoch,
                                    ctx->session.flags)
        != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_finalize_request(r,
                              ngx_http_portal_session_send(r, ctx,
                                                           NGX_HTTP_OK));
}
