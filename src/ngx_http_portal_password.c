
/*
 * Portail Citoyen: passwords: the rules a new one must meet, and the
 * routes of a lost or changed password.
 *
 *     POST password/question   {"login"}: the account's security question
 *     POST password/reset      {"login", "answer"}: 202; a right answer
 *                              mails a temporary password
 *     POST password            {"current", "new", "new_confirm"}: a new
 *                              password ends every other session
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_captcha.h"
#include "ngx_http_portal_check.h"
#include "ngx_http_portal_cookie.h"
#include "ngx_http_portal_credentials.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_outbox.h"
#include "ngx_http_portal_password.h"
#include "ngx_http_portal_resource.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_session.h"
#include "ngx_http_portal_text.h"
#include "ngx_http_portal_thread.h"


typedef struct {
    ngx_str_t                       login;
    ngx_str_t                       answer;
    ngx_str_t                       captcha_id;
    ngx_str_t                       captcha_answer;
} ngx_http_portal_reset_input_t;


typedef struct {
    ngx_str_t                       current;
    ngx_str_t                       fresh;
    ngx_str_t                       confirm;
    ngx_str_t                       captcha_id;
    ngx_str_t                       captcha_answer;
} ngx_http_portal_change_input_t;


/* a new password, hashed */
typedef struct {
    char                            fresh[NGX_HTTP_PORTAL_SECRET_BYTES + 1];
    char                            hash[crypto_pwhash_STRBYTES];
    ngx_uint_t                      ok;
} ngx_http_portal_password_job_t;


static ngx_int_t ngx_http_portal_password_common(const char *password);
static void ngx_http_portal_password_alnum(const char *in, char *out,
    size_t size);
static ngx_int_t ngx_http_portal_password_question_handler(
    ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_password_reset_handler(
    ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_password_reset_granted(
    ngx_http_request_t *r, ngx_http_portal_credentials_t *cr);
static void ngx_http_portal_password_reset_done(
    ngx_http_portal_db_query_t *q, ngx_http_portal_db_status_e status,
    PGresult *res);
static ngx_int_t ngx_http_portal_password_reset_reply(ngx_http_request_t *r,
    ngx_http_portal_credentials_t *cr);
static ngx_int_t ngx_http_portal_password_change_handler(
    ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx);
static ngx_int_t ngx_http_portal_password_change_granted(
    ngx_http_request_t *r, ngx_http_portal_credentials_t *cr);
static ngx_int_t ngx_http_portal_password_change_refused(
    ngx_http_request_t *r, ngx_http_portal_credentials_t *cr);
static void ngx_http_portal_password_change_hashed(ngx_http_request_t *r,
    void *data);
static void ngx_http_portal_password_change_done(
    ngx_http_portal_db_query_t *q, ngx_http_portal_db_status_e status,
    PGresult *res);
static ngx_int_t ngx_http_portal_password_post(ngx_http_request_t *r,
    ngx_str_t *fresh, ngx_http_portal_thread_done_pt done);
static void ngx_http_portal_password_work(void *data);


ngx_http_portal_route_t  ngx_http_portal_password_routes[] = {

    { NGX_HTTP_POST, "password/question",
      ngx_http_portal_password_question_handler,
      NGX_HTTP_PORTAL_BODY_JSON, NGX_HTTP_PORTAL_OPEN, NULL, NULL },

    { NGX_HTTP_POST, "password/reset",
      ngx_http_portal_password_reset_handler,
      NGX_HTTP_PORTAL_BODY_JSON, NGX_HTTP_PORTAL_OPEN, NULL, NULL },

    { NGX_HTTP_POST, "password",
      ngx_http_portal_password_change_handler,
      NGX_HTTP_PORTAL_BODY_JSON, NGX_HTTP_PORTAL_RESET, NULL, NULL },

    NGX_HTTP_PORTAL_ROUTES_END
};


static const ngx_http_portal_field_t  ngx_http_portal_question_fields[] = {

    { "login", NGX_HTTP_PORTAL_SECRET, NGX_HTTP_PORTAL_REQUIRED, 0, 100,
      NULL, NULL, 0, NGX_HTTP_PORTAL_M_LOGIN, NULL },

    NGX_HTTP_PORTAL_FIELDS_END
};


static const ngx_http_portal_field_t  ngx_http_portal_reset_fields[] = {

    { "login", NGX_HTTP_PORTAL_SECRET, NGX_HTTP_PORTAL_REQUIRED, 0, 100,
      NULL, NULL, (ngx_int_t) offsetof(ngx_http_portal_reset_input_t, login),
      NGX_HTTP_PORTAL_M_LOGIN, NULL },

    { "answer", NGX_HTTP_PORTAL_SECRET, NGX_HTTP_PORTAL_REQUIRED, 0, 200,
      NULL, NULL,
      (ngx_int_t) offsetof(ngx_http_portal_reset_input_t, answer),
      NGX_HTTP_PORTAL_M_RESET_ANSWER, NULL },

    /* past the failure limits */

    NGX_HTTP_PORTAL_CAPTCHA_FIELDS(ngx_http_portal_reset_input_t),

    NGX_HTTP_PORTAL_FIELDS_END
};


static const ngx_http_portal_field_t  ngx_http_portal_change_fields[] = {

    { "current", NGX_HTTP_PORTAL_SECRET, 0, 0, NGX_HTTP_PORTAL_SECRET_BYTES,
      NULL, NULL,
      (ngx_int_t) offsetof(ngx_http_portal_change_input_t, current),
      NGX_HTTP_PORTAL_M_PASSWORD_CURRENT, NULL },

    { "new", NGX_HTTP_PORTAL_SECRET, 0, 0, 0, NULL, NULL,
      (ngx_int_t) offsetof(ngx_http_portal_change_input_t, fresh),
      NGX_HTTP_PORTAL_M_PASSWORD_NEW, NULL },

    { "new_confirm", NGX_HTTP_PORTAL_SECRET, 0, 0, 0, NULL, NULL,
      (ngx_int_t) offsetof(ngx_http_portal_change_input_t, confirm),
      NGX_HTTP_PORTAL_M_PASSWORD_CONFIRM, NULL },

    /* past the failure limits */

    NGX_HTTP_PORTAL_CAPTCHA_FIELDS(ngx_http_portal_change_input_t),

    NGX_HTTP_PORTAL_FIELDS_END
};


/* questions are limited per address: they tell accounts apart */

static const ngx_http_portal_sql_error_t  ngx_http_portal_question_errors[] = {

    { "P0001", "question_limit", NGX_HTTP_TOO_MANY_REQUESTS,
      "too_many_requests", NGX_HTTP_PORTAL_M_QUESTIONS_LIMIT, NULL, NULL,
      900 },

    NGX_HTTP_PORTAL_SQL_ERRORS_END
};


static ngx_http_portal_resource_t  ngx_http_portal_question_resource = {
    { "portal_password_question",
      "SELECT portal.password_question($1, $2, $3)", 3, 0 },
    NGX_HTTP_OK, NULL, ngx_http_portal_question_errors, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_reset_grant_sql = {
    "portal_reset_grant",
    "SELECT portal.reset_grant($1, $2, $3, $4)",
    4, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_password_set_sql = {
    "portal_password_set",
    "SELECT portal.password_set($1, $2, $3)",
    3, 0
};


/*
 * The most common passwords of 12 characters or more, lowercase, sorted
 * (bsearch).  Shorter ones are refused by length already.
 */

static const char  *ngx_http_portal_password_common_list[] = {
    "000000000000",
    "0123456789ab",
    "111111111111",
    "1111111111111",
    "1122334455667788",
    "123123123123",
    "123456789012",
    "1234567890123",
    "12345678901234",
    "1234567891011",
    "123456789123",
    "123456789abc",
    "1234qwerasdf",
    "123soleil123",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "222222222222",
    "987654321000",
    "987654321098",
    "aaaaaaaaaaaa",
    "abc123abc123",
    "abcd1234abcd",
    "abcdef123456",
    "abcdefghijkl",
    "azerty123456",
    "azertyazerty",
    "azertyuiop12",
    "azertyuiop123",
    "azertyuiopqsd",
    "bienvenue123",
    "bonjour12345",
    "bonjourbonjour",
    "chocolat1234",
    "football1234",
    "iloveyou1234",
    "jetaime123456",
    "jetaimejetaime",
    "loveyou12345",
    "marseille123",
    "monmotdepasse",
    "monmotdepasse1",
    "motdepasse12",
    "motdepasse123",
    "motdepasse1234",
    "motdepasseoublie",
    "motdepasseportail",
    "myspace12345",
    "nicolas12345",
    "parisparis75",
    "password1234",
    "password12345",
    "passwordpassword",
    "portailcitoyen",
    "portailcitoyen1",
    "qazwsxedcrfv",
    "qwerty123456",
    "qwertyqwerty",
    "qwertyuiop12",
    "qwertyuiop123",
    "qwertyuiopas",
    "soleil123456",
    "sunshine1234",
    "superman1234",
    "trustno1trustno1",
    "welcome12345",
    "zaq12wsxcde3"
};


const char *
ngx_http_portal_password_refused(const char *password, const char **personal)
{
    char     folded[NGX_HTTP_PORTAL_SECRET_BYTES + 1];
    char     other[NGX_HTTP_PORTAL_SECRET_BYTES + 1];
    ssize_t  n;

    if (password == NULL) {
        return NGX_HTTP_PORTAL_M_PASSWORD_NONE;
    }

    if (ngx_strlen(password) > NGX_HTTP_PORTAL_SECRET_BYTES) {
        return NGX_HTTP_PORTAL_M_PASSWORD_LONG;
    }

    n = ngx_http_portal_text_utf8_len((u_char *) password,
                                      ngx_strlen(password));

    if (n < 0) {
        return NGX_HTTP_PORTAL_M_PASSWORD_CHARS;
    }

    if (n < 12) {
        return NGX_HTTP_PORTAL_M_PASSWORD_SHORT;
    }

    if (n > 128) {
        return NGX_HTTP_PORTAL_M_PASSWORD_LONG;
    }

    if (ngx_http_portal_password_common(password)) {
        return NGX_HTTP_PORTAL_M_PASSWORD_COMMON;
    }

    /* "Jean.Dupont!" is the login "jean.dupont" all the same */

    ngx_http_portal_password_alnum(password, folded, sizeof(folded));

    for ( /* void */ ; personal && *personal; personal++) {
        ngx_http_portal_password_alnum(*personal, other, sizeof(other));

        if (other[0] && ngx_strcmp(folded, other) == 0) {
            return NGX_HTTP_PORTAL_M_PASSWORD_PERSONAL;
        }
    }

    return NULL;
}


static int
ngx_http_portal_password_strcmp(const void *a, const void *b)
{
    return ngx_strcmp(*(const char **) a, *(const char **) b);
}


static ngx_int_t
ngx_http_portal_password_common(const char *password)
{
    char         lower[NGX_HTTP_PORTAL_SECRET_BYTES + 1];
    const char  *key;
    size_t       i;

    for (i = 0; password[i] && i < sizeof(lower) - 1; i++) {
        lower[i] = (char) ngx_tolower(password[i]);
    }

    lower[i] = '\0';
    key = lower;

    return bsearch(&key, ngx_http_portal_password_common_list,
                   sizeof(ngx_http_portal_password_common_list)
                   / sizeof(ngx_http_portal_password_common_list[0]),
                   sizeof(char *), ngx_http_portal_password_strcmp)
           != NULL;
}


/* lowercase letters and digits only, accents folded */

static void
ngx_http_portal_password_alnum(const char *in, char *out, size_t size)
{
    u_char      *p, *q;
    ngx_str_t    words;
    ngx_pool_t  *pool;

    out[0] = '\0';

    pool = ngx_create_pool(1024, ngx_cycle->log);
    if (pool == NULL) {
        return;
    }

    if (ngx_http_portal_text_fold_words(pool, in, &words) == NGX_OK) {
        q = (u_char *) out;

        for (p = words.data; p < words.data + words.len; p++) {
            if (*p != ' ' && q < (u_char *) out + size - 1) {
                *q++ = *p;
            }
        }

        *q = '\0';
    }

    ngx_destroy_pool(pool);
}




/* POST password/question {"login"} -> {"question"} */

static ngx_int_t
ngx_http_portal_password_question_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    u_char                   *lower, *decoy;
    u_char                    key[NGX_HTTP_PORTAL_KEY_LEN], mac[8];
    uint32_t                  n;
    ngx_int_t                 rc;
    ngx_str_t                 login, params[3];
    ngx_http_portal_check_t   ck;

    ngx_str_null(&login);

    if (ngx_http_portal_check_init(&ck, r->pool) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_check(&ck, ctx->json, ngx_http_portal_question_fields,
                          "", 0, &login, NULL);

    if (ngx_http_portal_check_done(r, &ck, NGX_HTTP_PORTAL_M_LOGIN, &rc)
        != NGX_OK)
    {
        return rc;
    }

    /*
     * An unknown login gets a decoy question, the same every time: the
     * number it is taken by comes from a keyed MAC of the login, which
     * nobody can compute without portal_secret_file.
     */

    lower = ngx_pnalloc(r->pool, login.len);
    decoy = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (lower == NULL || decoy == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_strlow(lower, login.data, login.len);

    ngx_http_portal_cookie_key(r, "portal question", key);
    crypto_generichash(mac, sizeof(mac), lower, login.len, key, sizeof(key));
    sodium_memzero(key, sizeof(key));

    n = ((uint32_t) mac[0] << 24) | ((uint32_t) mac[1] << 16)
        | ((uint32_t) mac[2] << 8) | mac[3];

    params[0] = login;
    params[1].data = decoy;
    params[1].len = ngx_sprintf(decoy, "%uD", n) - decoy;
    params[2] = r->connection->addr_text;

    return ngx_http_portal_resource_run(r,
                                        &ngx_http_portal_question_resource,
                                        params, 3);
}


/*
 * POST password/reset {"login", "answer"} -> 202, right answer or not (no
 * account enumeration); a right one mails a temporary password.
 */

static ngx_int_t
ngx_http_portal_password_reset_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_int_t                        rc;
    ngx_str_t                        folded;
    ngx_http_portal_check_t          ck;
    ngx_http_portal_credentials_t   *cr;
    ngx_http_portal_reset_input_t   *in;

    ngx_str_null(&folded);

    in = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_reset_input_t));
    cr = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_credentials_t));

    if (in == NULL || cr == NULL
        || ngx_http_portal_check_init(&ck, r->pool) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_check(&ck, ctx->json, ngx_http_portal_reset_fields, "",
                          0, in, NULL);

    /* answers are compared as they were hashed: folded */

    if (in->answer.data
        && ngx_http_portal_text_fold_words(r->pool, (char *) in->answer.data,
                                           &folded)
           != NGX_OK)
    {
        ngx_http_portal_check_error(&ck, "", "answer",
                                    NGX_HTTP_PORTAL_M_RESET_ANSWER);
    }

    if (ngx_http_portal_check_done(r, &ck, NGX_HTTP_PORTAL_M_RESET_NEEDED,
                                   &rc)
        != NGX_OK)
    {
        return rc;
    }

    cr->kind = &ngx_http_portal_credentials_answer;
    cr->login = in->login;
    cr->secret = folded;
    cr->captcha_id = in->captcha_id;
    cr->captcha_answer = in->captcha_answer;
    cr->granted = ngx_http_portal_password_reset_granted;
    cr->refused = ngx_http_portal_password_reset_reply;

    return ngx_http_portal_credentials_check(r, cr);
}


static ngx_int_t
ngx_http_portal_password_reset_granted(ngx_http_request_t *r,
    ngx_http_portal_credentials_t *cr)
{
    u_char                      *temp, *hex;
    ngx_http_portal_ctx_t       *ctx;
    ngx_http_portal_db_query_t  *q;
    ngx_http_portal_loc_conf_t  *plcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    ctx->data = cr;
    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    temp = ngx_pnalloc(r->pool, NGX_HTTP_PORTAL_TEMP_LEN + 1);
    hex = ngx_pnalloc(r->pool, NGX_HTTP_PORTAL_TEMP_HASH + 1);
    if (temp == NULL || hex == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_credentials_temp(r, temp, hex);

    q = ngx_http_portal_db_query(r, &ngx_http_portal_reset_grant_sql,
                                 ngx_http_portal_password_reset_done);
    if (q == NULL) {
        ngx_explicit_memzero(temp, NGX_HTTP_PORTAL_TEMP_LEN);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_db_param(q, (char *) cr->id, 36);
    ngx_http_portal_db_param(q, (char *) hex, NGX_HTTP_PORTAL_TEMP_HASH);
    ngx_http_portal_db_param(q, (char *) temp, NGX_HTTP_PORTAL_TEMP_LEN);
    ngx_http_portal_db_param(q, (char *) plcf->public_url.data,
                             plcf->public_url.len);

    /* the parameter is a copy: the temporary password lives there only */

    ngx_explicit_memzero(temp, NGX_HTTP_PORTAL_TEMP_LEN);

    return ngx_http_portal_db_suspend(q);
}


static void
ngx_http_portal_password_reset_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_request_t     *r;
    ngx_http_portal_ctx_t  *ctx;

    r = q->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    /* the temporary password lived in the parameters only */

    ngx_explicit_memzero((void *) q->values[2], q->lengths[2]);

    if (ngx_http_portal_db_rows(q, status, res, 0) != NGX_OK) {
        return;
    }

    ngx_http_portal_outbox_kick();

    ngx_http_finalize_request(r,
        ngx_http_portal_password_reset_reply(r, ctx->data));
}


/* the same 202 whether the answer was right or not */

static ngx_int_t
ngx_http_portal_password_reset_reply(ngx_http_request_t *r,
    ngx_http_portal_credentials_t *cr)
{
    return ngx_http_portal_response_json(r, NGX_HTTP_ACCEPTED,
               json_pack("{s:s}", "message", NGX_HTTP_PORTAL_M_RESET_SENT));
}


/*
 * POST password {"current", "new", "new_confirm"}: a session opened with
 * the temporary password needs no "current".  The epoch moves on: every
 * other session ends, this one gets a new cookie; a mail tells the citizen.
 */

static ngx_int_t
ngx_http_portal_password_change_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    u_char                          *dot;
    ngx_int_t                        rc;
    ngx_str_t                        first;
    const char                      *why, *personal[4];
    ngx_uint_t                       temp;
    ngx_http_portal_check_t          ck;
    ngx_http_portal_credentials_t   *cr;
    ngx_http_portal_change_input_t  *in;

    in = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_change_input_t));
    cr = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_credentials_t));

    if (in == NULL || cr == NULL
        || ngx_http_portal_check_init(&ck, r->pool) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_check(&ck, ctx->json, ngx_http_portal_change_fields, "",
                          0, in, NULL);

    temp = (ctx->session.flags & NGX_HTTP_PORTAL_SESSION_RESET) != 0;

    if (!temp && in->current.len == 0) {
        ngx_http_portal_check_error(&ck, "", "current",
                                    NGX_HTTP_PORTAL_M_PASSWORD_CURRENT);
    }

    /* the login is "first.last": both parts count as the name */

    first.data = ctx->session.login.data;
    dot = (u_char *) ngx_strchr(first.data, '.');
    first.len = dot ? (size_t) (dot - first.data) : 0;

    personal[0] = (char *) ctx->session.login.data;
    personal[1] = ngx_pnalloc(r->pool, first.len + 1);
    personal[2] = dot ? (char *) dot + 1 : "";
    personal[3] = NULL;

    if (personal[1] == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *ngx_cpymem((u_char *) personal[1], first.data, first.len) = '\0';

    if (!ngx_http_portal_check_failed(&ck, "", "new")) {
        why = in->fresh.data
              ? ngx_http_portal_password_refused((char *) in->fresh.data,
                                                 personal)
              : NGX_HTTP_PORTAL_M_PASSWORD_NEW;

        if (why) {
            ngx_http_portal_check_error(&ck, "", "new", why);

        } else if (in->confirm.data == NULL
                   || ngx_strcmp(in->confirm.data, in->fresh.data) != 0)
        {
            ngx_http_portal_check_error(&ck, "", "new_confirm",
                                        NGX_HTTP_PORTAL_M_PASSWORD_CONFIRM);
        }
    }

    if (ngx_http_portal_check_done(r, &ck,
                                   NGX_HTTP_PORTAL_M_PASSWORD_UNCHANGED, &rc)
        != NGX_OK)
    {
        return rc;
    }

    ctx->input = in;

    if (temp) {
        return ngx_http_portal_password_post(r, &in->fresh,
                   ngx_http_portal_password_change_hashed);
    }

    cr->kind = &ngx_http_portal_credentials_current;
    cr->login = ctx->session.login;
    cr->secret = in->current;
    cr->captcha_id = in->captcha_id;
    cr->captcha_answer = in->captcha_answer;
    cr->granted = ngx_http_portal_password_change_granted;
    cr->refused = ngx_http_portal_password_change_refused;

    return ngx_http_portal_credentials_check(r, cr);
}


static ngx_int_t
ngx_http_portal_password_change_granted(ngx_http_request_t *r,
    ngx_http_portal_credentials_t *cr)
{
    ngx_http_portal_ctx_t           *ctx;
    ngx_http_portal_change_input_t  *in;

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    in = ctx->input;

    return ngx_http_portal_password_post(r, &in->fresh,
               ngx_http_portal_password_change_hashed);
}


static ngx_int_t
ngx_http_portal_password_change_refused(ngx_http_request_t *r,
    ngx_http_portal_credentials_t *cr)
{
    return ngx_http_portal_response_invalid(r,
               NGX_HTTP_PORTAL_M_PASSWORD_UNCHANGED,
               json_pack("{s:s}", "current",
                         NGX_HTTP_PORTAL_M_PASSWORD_CURRENT_WRONG));
}


static void
ngx_http_portal_password_change_hashed(ngx_http_request_t *r, void *data)
{
    ngx_http_portal_password_job_t *job = data;

    ngx_http_portal_ctx_t       *ctx;
    ngx_http_portal_db_query_t  *q;
    ngx_http_portal_loc_conf_t  *plcf;

    if (r == NULL) {
        return;
    }

    if (!job->ok) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    q = ngx_http_portal_db_query(r, &ngx_http_portal_password_set_sql,
                                 ngx_http_portal_password_change_done);
    if (q == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_portal_db_param(q, (char *) ctx->session.id, 36);
    ngx_http_portal_db_param(q, job->hash, ngx_strlen(job->hash));
    ngx_http_portal_db_param(q, (char *) plcf->public_url.data,
                             plcf->public_url.len);

    ngx_http_portal_db_next(q);
}


static void
ngx_http_portal_password_change_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    uint32_t                epoch;
    ngx_http_request_t     *r;
    ngx_http_portal_ctx_t  *ctx;

    r = q->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    if (ngx_http_portal_db_rows(q, status, res, 1) != NGX_OK) {
        return;
    }

    epoch = (uint32_t) ngx_atoi((u_char *) PQgetvalue(res, 0, 0),
                                PQgetlength(res, 0, 0));

    ctx->session.epoch = epoch;
    ctx->session.flags = 0;

    if (ngx_http_portal_cookie_session_set(r, ctx->session.id, epoch, 0)
        != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_portal_outbox_kick();

    ngx_http_finalize_request(r, ngx_http_portal_session_reply(r, ctx));
}


/* hashes a new password on the thread pool; returns as a handler does */

static ngx_int_t
ngx_http_portal_password_post(ngx_http_request_t *r, ngx_str_t *fresh,
    ngx_http_portal_thread_done_pt done)
{
    ngx_http_portal_password_job_t  *job;

    job = ngx_http_portal_thread_alloc(r->connection->log,
                                     sizeof(ngx_http_portal_password_job_t));
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_cpystrn((u_char *) job->fresh, fresh->data, sizeof(job->fresh));

    return ngx_http_portal_thread_suspend(r, job,
                                          ngx_http_portal_password_work,
                                          done);
}


static void
ngx_http_portal_password_work(void *data)
{
    ngx_http_portal_password_job_t *job = data;

    job->ok = (ngx_http_portal_credentials_hash(job->fresh, job->hash)
               == NGX_OK);
}
