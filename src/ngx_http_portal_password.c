
/*
 * Portail Citoyen: password rules, Argon2id hashing, and the routes of a
 * lost or changed password: the security question, the temporary password
 * sent by mail when the answer is right, and the change of password that
 * ends every other session.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_json.h"
#include "ngx_http_portal_outbox.h"
#include "ngx_http_portal_password.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_session.h"
#include "ngx_http_portal_text.h"
#include "ngx_http_portal_thread.h"


#define NGX_HTTP_PORTAL_TEMP_LEN  19


typedef struct {
    /* reset: the answer; change: the current password */
    char                      secret[NGX_HTTP_PORTAL_PASSWORD_BYTES + 1];
    char                      hash[crypto_pwhash_STRBYTES];
    ngx_uint_t                verify;
    /* change: the new password; reset: the temporary one, made here */
    char                      fresh[NGX_HTTP_PORTAL_PASSWORD_BYTES + 1];
    char                      fresh_hash[crypto_pwhash_STRBYTES];
    ngx_uint_t                make_temp;
    ngx_uint_t                ok;
    ngx_uint_t                hashed;
} ngx_http_portal_password_job_t;


typedef struct {
    ngx_str_t                 login;
    ngx_str_t                 addr;
    ngx_str_t                 answer;
    u_char                    id[40];
    ngx_uint_t                granted;
} ngx_http_portal_reset_t;


static ngx_int_t ngx_http_portal_common(const char *password);
static void ngx_http_portal_alnum(const char *in, char *out, size_t size);
static ngx_int_t ngx_http_portal_copy_str(ngx_http_request_t *r,
    const char *s, ngx_str_t *out);
static void ngx_http_portal_question_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static void ngx_http_portal_reset_begun(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static void ngx_http_portal_password_work(void *data);
static void ngx_http_portal_reset_checked(ngx_http_request_t *r, void *data);
static void ngx_http_portal_reset_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static ngx_int_t ngx_http_portal_change_checked_body(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx);
static void ngx_http_portal_change_loaded(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static void ngx_http_portal_change_checked(ngx_http_request_t *r,
    void *data);
static void ngx_http_portal_change_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);


const char  *ngx_http_portal_password_dummy =
    "$argon2id$v=19$m=65536,t=2,p=1$0VNWN2ThcJ2tAqKwc3uLQg$"
    "0Bvok08/PaA9OgMomCXRsQZrNuhOLNBFbv6GNcQzrTc";


/*
 * The most common passwords of 12 characters or more, lowercase, sorted
 * (bsearch).  Shorter ones are refused by length already.
 */

static const char  *ngx_http_portal_common_passwords[] = {
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
    char     folded[NGX_HTTP_PORTAL_PASSWORD_BYTES + 1];
    char     other[NGX_HTTP_PORTAL_PASSWORD_BYTES + 1];
    ssize_t  n;

    if (password == NULL) {
        return "Choisissez un mot de passe.";
    }

    if (ngx_strlen(password) > NGX_HTTP_PORTAL_PASSWORD_BYTES) {
        return "Le mot de passe ne peut dépasser 128 caractères.";
    }

    n = ngx_http_portal_utf8_len((u_char *) password, ngx_strlen(password));

    if (n < 0) {
        return "Le mot de passe contient des caractères non admis.";
    }

    if (n < 12) {
        return "Le mot de passe doit compter au moins 12 caractères.";
    }

    if (n > 128) {
        return "Le mot de passe ne peut dépasser 128 caractères.";
    }

    if (ngx_http_portal_common(password)) {
        return "Ce mot de passe fait partie des plus courants :"
               " choisissez-en un autre.";
    }

    /* "Jean.Dupont!" is the login "jean.dupont" all the same */

    ngx_http_portal_alnum(password, folded, sizeof(folded));

    for ( /* void */ ; personal && *personal; personal++) {
        ngx_http_portal_alnum(*personal, other, sizeof(other));

        if (other[0] && ngx_strcmp(folded, other) == 0) {
            return "Le mot de passe ne doit être ni votre identifiant ni"
                   " votre nom.";
        }
    }

    return NULL;
}


static int
ngx_http_portal_strcmp(const void *a, const void *b)
{
    return ngx_strcmp(*(const char **) a, *(const char **) b);
}


static ngx_int_t
ngx_http_portal_common(const char *password)
{
    char         lower[NGX_HTTP_PORTAL_PASSWORD_BYTES + 1];
    const char  *key;
    size_t       i;

    for (i = 0; password[i] && i < sizeof(lower) - 1; i++) {
        lower[i] = (char) ngx_tolower(password[i]);
    }

    lower[i] = '\0';
    key = lower;

    return bsearch(&key, ngx_http_portal_common_passwords,
                   sizeof(ngx_http_portal_common_passwords)
                   / sizeof(ngx_http_portal_common_passwords[0]),
                   sizeof(char *), ngx_http_portal_strcmp)
           != NULL;
}


/* lowercase letters and digits only, accents folded */

static void
ngx_http_portal_alnum(const char *in, char *out, size_t size)
{
    u_char      *p, *q;
    ngx_str_t    words;
    ngx_pool_t  *pool;

    out[0] = '\0';

    pool = ngx_create_pool(1024, ngx_cycle->log);
    if (pool == NULL) {
        return;
    }

    if (ngx_http_portal_fold_words(pool, in, &words) == NGX_OK) {
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


ngx_int_t
ngx_http_portal_password_hash(const char *password, char *out)
{
    if (crypto_pwhash_str(out, password, ngx_strlen(password),
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE)
        != 0)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a wrong password or answer, counted for its login and the address */

static ngx_http_portal_sql_t  ngx_http_portal_auth_failed_sql = {
    "portal_auth_failed",
    "SELECT portal.auth_failed($1, $2, $3)",
    3, 0
};


ngx_http_portal_db_query_t *
ngx_http_portal_auth_failed(ngx_http_request_t *r, ngx_str_t *login,
    const char *kind, ngx_http_portal_db_handler_pt handler)
{
    ngx_http_portal_db_query_t  *q;

    q = ngx_http_portal_db_query(r, &ngx_http_portal_auth_failed_sql,
                                 handler);
    if (q == NULL) {
        return NULL;
    }

    ngx_http_portal_db_param(q, (char *) login->data, login->len);
    ngx_http_portal_db_param(q, (char *) r->connection->addr_text.data,
                             r->connection->addr_text.len);
    ngx_http_portal_db_param(q, kind, ngx_strlen(kind));

    return q;
}


ngx_int_t
ngx_http_portal_too_many(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Retry-After");
    ngx_str_set(&h->value, "900");

    return ngx_http_portal_send_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                      "too_many_attempts",
                                      "Trop de tentatives : réessayez dans"
                                      " un quart d'heure.");
}


static ngx_int_t
ngx_http_portal_copy_str(ngx_http_request_t *r, const char *s,
    ngx_str_t *out)
{
    out->len = ngx_strlen(s);
    out->data = ngx_pnalloc(r->pool, out->len + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, s, out->len + 1);

    return NGX_OK;
}


/* POST password/question {"login"} -> {"question"} */

static ngx_http_portal_sql_t  ngx_http_portal_question_sql = {
    "portal_password_question",
    "SELECT portal.password_question($1)",
    1, 0
};


ngx_int_t
ngx_http_portal_password_question_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    const char                  *login;
    ngx_http_portal_db_query_t  *q;

    login = json_string_value(json_object_get(ctx->json, "login"));

    if (login == NULL || *login == '\0' || ngx_strlen(login) > 100) {
        return ngx_http_portal_send_error_fields(r,
                   NGX_HTTP_UNPROCESSABLE_ENTITY, "invalid",
                   "Saisissez votre identifiant.",
                   json_pack("{s:s}", "login",
                             "Saisissez votre identifiant."));
    }

    q = ngx_http_portal_db_query(r, &ngx_http_portal_question_sql,
                                 ngx_http_portal_question_done);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_db_param(q, login, ngx_strlen(login));

    return ngx_http_portal_db_suspend(q);
}


static void
ngx_http_portal_question_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_request_t  *r;

    r = q->request;

    if (ngx_http_portal_db_rows(q, status, res, 1) != NGX_OK) {
        return;
    }

    ngx_http_finalize_request(r,
        ngx_http_portal_send_json(r, NGX_HTTP_OK,
                                  json_pack("{s:s}", "question",
                                            PQgetvalue(res, 0, 0))));
}


/*
 * POST password/reset {"login", "answer"} -> 202, right answer or not (no
 * account enumeration); a right one mails a temporary password.
 */

static ngx_http_portal_sql_t  ngx_http_portal_reset_begin_sql = {
    "portal_reset_begin",
    "SELECT blocked, id, answer_hash FROM portal.reset_begin($1, $2)",
    2, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_reset_grant_sql = {
    "portal_reset_grant",
    "SELECT portal.reset_grant($1, $2, $3, $4)",
    4, 0
};


ngx_int_t
ngx_http_portal_password_reset_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    json_t                      *fields;
    const char                  *login, *answer;
    ngx_http_portal_reset_t     *rs;
    ngx_http_portal_db_query_t  *q;

    login = json_string_value(json_object_get(ctx->json, "login"));
    answer = json_string_value(json_object_get(ctx->json, "answer"));

    rs = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_reset_t));
    if (rs == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    fields = json_object();
    if (fields == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (login == NULL || *login == '\0' || ngx_strlen(login) > 100) {
        json_object_set_new(fields, "login",
                            json_string("Saisissez votre identifiant."));
    }

    if (answer == NULL || ngx_strlen(answer) > 200
        || ngx_http_portal_fold_words(r->pool, answer, &rs->answer)
           != NGX_OK)
    {
        json_object_set_new(fields, "answer",
                            json_string("Saisissez la réponse à votre"
                                        " question."));
    }

    if (json_object_size(fields)) {
        return ngx_http_portal_send_error_fields(r,
                   NGX_HTTP_UNPROCESSABLE_ENTITY, "invalid",
                   "Identifiant et réponse sont nécessaires.", fields);
    }

    json_decref(fields);

    if (ngx_http_portal_copy_str(r, login, &rs->login) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rs->addr = r->connection->addr_text;
    ctx->data = rs;

    q = ngx_http_portal_db_query(r, &ngx_http_portal_reset_begin_sql,
                                 ngx_http_portal_reset_begun);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_db_param(q, (char *) rs->login.data, rs->login.len);
    ngx_http_portal_db_param(q, (char *) rs->addr.data, rs->addr.len);

    return ngx_http_portal_db_suspend(q);
}


static void
ngx_http_portal_reset_begun(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_request_t              *r;
    ngx_http_portal_ctx_t           *ctx;
    ngx_http_portal_reset_t         *rs;
    ngx_http_portal_password_job_t  *job;

    r = q->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    rs = ctx->data;

    if (ngx_http_portal_db_rows(q, status, res, 1) != NGX_OK) {
        return;
    }

    if (PQgetvalue(res, 0, 0)[0] == 't') {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "portal: password reset for \"%V\" refused: too many"
                      " wrong answers", &rs->login);
        ngx_http_finalize_request(r, ngx_http_portal_too_many(r));
        return;
    }

    job = ngx_http_portal_thread_alloc(r->connection->log,
                                     sizeof(ngx_http_portal_password_job_t));
    if (job == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    job->verify = 1;
    job->make_temp = 1;
    ngx_cpystrn((u_char *) job->secret, rs->answer.data, sizeof(job->secret));

    if (PQgetisnull(res, 0, 1)) {
        ngx_cpystrn((u_char *) job->hash,
                    (u_char *) ngx_http_portal_password_dummy,
                    sizeof(job->hash));

    } else {
        ngx_cpystrn(rs->id, (u_char *) PQgetvalue(res, 0, 1),
                    sizeof(rs->id));
        ngx_cpystrn((u_char *) job->hash, (u_char *) PQgetvalue(res, 0, 2),
                    sizeof(job->hash));
    }

    if (ngx_http_portal_thread_post(r, job, ngx_http_portal_password_work,
                                    ngx_http_portal_reset_checked)
        != NGX_OK)
    {
        ngx_http_portal_thread_free(job);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }
}


static void
ngx_http_portal_password_work(void *data)
{
    ngx_http_portal_password_job_t *job = data;

    ngx_uint_t  i;

    static const char  alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";

    if (job->verify) {
        job->ok = (crypto_pwhash_str_verify(job->hash, job->secret,
                                            ngx_strlen(job->secret))
                   == 0);

        if (!job->ok) {
            return;
        }

    } else {
        job->ok = 1;
    }

    if (job->make_temp) {

        /* 16 letters and digits that cannot be mistaken, in groups */

        for (i = 0; i < NGX_HTTP_PORTAL_TEMP_LEN; i++) {
            job->fresh[i] = (i % 5 == 4)
                            ? '-'
                            : alphabet[randombytes_uniform(
                                           sizeof(alphabet) - 1)];
        }

        job->fresh[NGX_HTTP_PORTAL_TEMP_LEN] = '\0';
    }

    if (job->fresh[0]) {
        job->hashed = (ngx_http_portal_password_hash(job->fresh,
                                                     job->fresh_hash)
                       == NGX_OK);
    }
}


static void
ngx_http_portal_reset_checked(ngx_http_request_t *r, void *data)
{
    ngx_http_portal_password_job_t *job = data;

    ngx_http_portal_ctx_t        *ctx;
    ngx_http_portal_reset_t      *rs;
    ngx_http_portal_db_query_t   *q;
    ngx_http_portal_loc_conf_t   *plcf;

    if (r == NULL) {
        return;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    rs = ctx->data;
    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    if (job->ok && job->hashed && rs->id[0]) {
        rs->granted = 1;

        q = ngx_http_portal_db_query(r, &ngx_http_portal_reset_grant_sql,
                                     ngx_http_portal_reset_done);
        if (q == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        /* copied by ngx_http_portal_db_param(): the job goes after this */

        ngx_http_portal_db_param(q, (char *) rs->id, 36);
        ngx_http_portal_db_param(q, job->fresh_hash,
                                 ngx_strlen(job->fresh_hash));
        ngx_http_portal_db_param(q, job->fresh, ngx_strlen(job->fresh));
        ngx_http_portal_db_param(q, (char *) plcf->public_url.data,
                                 plcf->public_url.len);

    } else {
        q = ngx_http_portal_auth_failed(r, &rs->login, "answer",
                                        ngx_http_portal_reset_done);
        if (q == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    ngx_http_portal_db_next(q);
}


static void
ngx_http_portal_reset_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_request_t       *r;
    ngx_http_portal_ctx_t    *ctx;
    ngx_http_portal_reset_t  *rs;

    r = q->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    rs = ctx->data;

    /* the temporary password lived in the parameters only */

    if (rs->granted) {
        ngx_explicit_memzero((void *) q->values[2], q->lengths[2]);
    }

    if (ngx_http_portal_db_rows(q, status, res, 0) != NGX_OK) {
        return;
    }

    if (rs->granted) {
        ngx_http_portal_outbox_kick();

    } else {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "portal: wrong security answer for \"%V\" from %V",
                      &rs->login, &rs->addr);
    }

    ngx_http_finalize_request(r,
        ngx_http_portal_send_json(r, NGX_HTTP_ACCEPTED,
                                  json_pack("{s:s}", "message",
                                            "Si la réponse est juste, un"
                                            " courriel vous apporte un mot"
                                            " de passe temporaire, valable"
                                            " 30 minutes.")));
}


/*
 * POST password {"current", "new", "new_confirm"}: a session opened with
 * the temporary password needs no "current".  The epoch moves on: every
 * other session ends, this one gets a new cookie; a mail tells the citizen.
 */

static ngx_http_portal_sql_t  ngx_http_portal_change_load_sql = {
    "portal_password_load",
    "SELECT password_hash FROM portal.accounts WHERE id = $1",
    1, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_change_set_sql = {
    "portal_password_set",
    "SELECT portal.password_set($1, $2, $3)",
    3, 0
};


ngx_int_t
ngx_http_portal_password_change_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    u_char                      *dot;
    json_t                      *fields;
    ngx_str_t                    first, last;
    const char                  *current, *fresh, *confirm, *why;
    const char                  *personal[4];
    ngx_http_portal_db_query_t  *q;

    current = json_string_value(json_object_get(ctx->json, "current"));
    fresh = json_string_value(json_object_get(ctx->json, "new"));
    confirm = json_string_value(json_object_get(ctx->json, "new_confirm"));

    fields = json_object();
    if (fields == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!(ctx->session.flags & NGX_HTTP_PORTAL_SESSION_RESET)
        && (current == NULL || *current == '\0'
            || ngx_strlen(current) > NGX_HTTP_PORTAL_PASSWORD_BYTES))
    {
        json_object_set_new(fields, "current",
                            json_string("Saisissez votre mot de passe"
                                        " actuel."));
    }

    /* the login is "first.last": both parts count as the name */

    first.data = ctx->session.login.data;
    dot = (u_char *) ngx_strchr(first.data, '.');
    first.len = dot ? (size_t) (dot - first.data) : 0;
    last.data = dot ? dot + 1 : (u_char *) "";

    personal[0] = (char *) ctx->session.login.data;
    personal[1] = ngx_pnalloc(r->pool, first.len + 1);
    personal[2] = (char *) last.data;
    personal[3] = NULL;

    if (personal[1] == NULL) {
        json_decref(fields);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *ngx_cpymem((u_char *) personal[1], first.data, first.len) = '\0';

    why = fresh ? ngx_http_portal_password_refused(fresh, personal)
                : "Choisissez un nouveau mot de passe.";

    if (why) {
        json_object_set_new(fields, "new", json_string(why));

    } else if (confirm == NULL || ngx_strcmp(confirm, fresh) != 0) {
        json_object_set_new(fields, "new_confirm",
                            json_string("Les deux mots de passe saisis"
                                        " diffèrent."));
    }

    if (json_object_size(fields)) {
        return ngx_http_portal_send_error_fields(r,
                   NGX_HTTP_UNPROCESSABLE_ENTITY, "invalid",
                   "Le mot de passe n'a pas été changé.", fields);
    }

    json_decref(fields);

    if (ctx->session.flags & NGX_HTTP_PORTAL_SESSION_RESET) {
        return ngx_http_portal_change_checked_body(r, ctx);
    }

    q = ngx_http_portal_db_query(r, &ngx_http_portal_change_load_sql,
                                 ngx_http_portal_change_loaded);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_db_param(q, (char *) ctx->session.id, 36);

    return ngx_http_portal_db_suspend(q);
}


/* posts the hashing (and the check of the current password) */

static ngx_int_t
ngx_http_portal_change_post(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx, const char *hash)
{
    ngx_http_portal_password_job_t  *job;

    job = ngx_http_portal_thread_alloc(r->connection->log,
                                     sizeof(ngx_http_portal_password_job_t));
    if (job == NULL) {
        return NGX_ERROR;
    }

    if (hash) {
        job->verify = 1;
        ngx_cpystrn((u_char *) job->hash, (u_char *) hash, sizeof(job->hash));
        ngx_cpystrn((u_char *) job->secret,
                    (u_char *) json_string_value(
                        json_object_get(ctx->json, "current")),
                    sizeof(job->secret));
    }

    ngx_cpystrn((u_char *) job->fresh,
                (u_char *) json_string_value(json_object_get(ctx->json,
                                                             "new")),
                sizeof(job->fresh));

    if (ngx_http_portal_thread_post(r, job, ngx_http_portal_password_work,
                                    ngx_http_portal_change_checked)
        != NGX_OK)
    {
        ngx_http_portal_thread_free(job);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_portal_change_checked_body(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    if (ngx_http_portal_change_post(r, ctx, NULL) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_portal_change_loaded(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_request_t     *r;
    ngx_http_portal_ctx_t  *ctx;

    r = q->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    if (ngx_http_portal_db_rows(q, status, res, 1) != NGX_OK) {
        return;
    }

    if (ngx_http_portal_change_post(r, ctx, PQgetvalue(res, 0, 0))
        != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }
}


static void
ngx_http_portal_change_checked(ngx_http_request_t *r, void *data)
{
    ngx_http_portal_password_job_t *job = data;

    u_char                      *hash;
    ngx_http_portal_ctx_t       *ctx;
    ngx_http_portal_db_query_t  *q;
    ngx_http_portal_loc_conf_t  *plcf;

    if (r == NULL) {
        return;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    if (!job->ok) {
        ctx->data = NULL;

        q = ngx_http_portal_auth_failed(r, &ctx->session.login, "password",
                                        ngx_http_portal_change_done);
        if (q == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

    } else {
        if (!job->hashed) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        hash = ngx_pnalloc(r->pool, sizeof(job->fresh_hash));
        if (hash == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_cpystrn(hash, (u_char *) job->fresh_hash,
                    sizeof(job->fresh_hash));

        ctx->data = hash;

        q = ngx_http_portal_db_query(r, &ngx_http_portal_change_set_sql,
                                     ngx_http_portal_change_done);
        if (q == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_http_portal_db_param(q, (char *) ctx->session.id, 36);
        ngx_http_portal_db_param(q, (char *) hash, ngx_strlen(hash));
        ngx_http_portal_db_param(q, (char *) plcf->public_url.data,
                                 plcf->public_url.len);
    }

    ngx_http_portal_db_next(q);
}


static void
ngx_http_portal_change_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    uint32_t                epoch;
    ngx_http_request_t     *r;
    ngx_http_portal_ctx_t  *ctx;

    r = q->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);

    if (ngx_http_portal_db_rows(q, status, res, 0) != NGX_OK) {
        return;
    }

    if (ctx->data == NULL) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "portal: wrong current password for \"%V\" from %V",
                      &ctx->session.login, &r->connection->addr_text);

        ngx_http_finalize_request(r,
            ngx_http_portal_send_error_fields(r,
                NGX_HTTP_UNPROCESSABLE_ENTITY, "invalid",
                "Le mot de passe n'a pas été changé.",
                json_pack("{s:s}", "current",
                          "Mot de passe actuel incorrect.")));
        return;
    }

    epoch = (uint32_t) ngx_atoi((u_char *) PQgetvalue(res, 0, 0),
                                PQgetlength(res, 0, 0));

    ctx->session.epoch = epoch;
    ctx->session.flags = 0;

    if (ngx_http_portal_session_set(r, ctx->session.id, epoch, 0) != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_portal_outbox_kick();

    ngx_http_finalize_request(r, ngx_http_portal_session_reply(r, ctx));
}
