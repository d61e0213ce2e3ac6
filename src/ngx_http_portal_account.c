
/*
 * Portail Citoyen: citizen accounts: the security questions, creation
 * (seed flow A), the "Compte" tab (the holder, the household's members)
 * and the export of everything the portal holds on an account.
 *
 * Resources are built as JSON by PostgreSQL functions (sql/002) and sent
 * as they come; the module checks input and owns crypto.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_account.h"
#include "ngx_http_portal_captcha.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_json.h"
#include "ngx_http_portal_outbox.h"
#include "ngx_http_portal_password.h"
#include "ngx_http_portal_router.h"
#include "ngx_http_portal_session.h"
#include "ngx_http_portal_text.h"
#include "ngx_http_portal_thread.h"


#define NGX_HTTP_PORTAL_MEMBERS_MAX  20


typedef struct {
    char                      password[NGX_HTTP_PORTAL_PASSWORD_BYTES + 1];
    char                      answer[512];
    char                      password_hash[crypto_pwhash_STRBYTES];
    char                      answer_hash[crypto_pwhash_STRBYTES];
    ngx_uint_t                ok;
} ngx_http_portal_signup_job_t;


typedef struct {
    ngx_str_t                 base;
    ngx_str_t                 holder;
    ngx_str_t                 members;
    ngx_str_t                 answer;
    ngx_str_t                 question;
    ngx_str_t                 password_hash;
    ngx_str_t                 answer_hash;
} ngx_http_portal_signup_t;


static ngx_int_t ngx_http_portal_dump(ngx_http_request_t *r, json_t *json,
    ngx_str_t *out);
static ngx_int_t ngx_http_portal_text_dup(ngx_http_request_t *r,
    const char *s, ngx_str_t *out);
static void ngx_http_portal_signup_captcha(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static void ngx_http_portal_signup_work(void *data);
static void ngx_http_portal_signup_hashed(ngx_http_request_t *r,
    void *data);
static void ngx_http_portal_signup_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);
static ngx_int_t ngx_http_portal_json_query(ngx_http_request_t *r,
    ngx_http_portal_sql_t *sql, ngx_uint_t created, ngx_str_t *p1,
    ngx_str_t *p2, ngx_str_t *p3);
static void ngx_http_portal_json_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res);


static ngx_http_portal_sql_t  ngx_http_portal_questions_sql = {
    "portal_questions",
    "SELECT coalesce(json_agg(json_build_object('id', id, 'label', label)"
    " ORDER BY id), '[]')::text FROM portal.security_questions",
    0, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_captcha_check_sql = {
    "portal_captcha_check",
    "SELECT portal.captcha_check($1, $2)",
    2, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_signup_sql = {
    "portal_account_create",
    "SELECT id, login FROM portal.create_account($1, $2, $3, $4, $5, $6,"
    " $7, $8)",
    8, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_me_sql = {
    "portal_me",
    "SELECT portal.me($1)",
    1, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_me_update_sql = {
    "portal_me_update",
    "SELECT portal.me_update($1, $2)",
    2, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_member_add_sql = {
    "portal_member_add",
    "SELECT portal.member_add($1, $2)",
    2, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_member_get_sql = {
    "portal_member_get",
    "SELECT portal.member_get($1, $2)",
    2, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_member_update_sql = {
    "portal_member_update",
    "SELECT portal.member_update($1, $2, $3)",
    3, 0
};

static ngx_http_portal_sql_t  ngx_http_portal_export_sql = {
    "portal_export",
    "SELECT portal.export($1)",
    1, 0
};


static void
ngx_http_portal_field(json_t *fields, const char *prefix, const char *name,
    const char *message)
{
    char  key[128];

    if (prefix && *prefix) {
        ngx_snprintf((u_char *) key, sizeof(key) - 1, "%s.%s%Z", prefix,
                     name);

    } else {
        ngx_cpystrn((u_char *) key, (u_char *) name, sizeof(key));
    }

    if (json_object_get(fields, key) == NULL) {
        json_object_set_new(fields, key, json_string(message));
    }
}


/*
 * A text field: absent is fine when partial or optional; present, it must
 * be a string of 1 to max characters of valid UTF-8.
 */

static const char *
ngx_http_portal_text_field(json_t *obj, const char *name, ngx_uint_t required,
    ngx_uint_t max, json_t *fields, const char *prefix, const char *message)
{
    json_t      *v;
    ssize_t      n;
    const char  *s;

    v = json_object_get(obj, name);

    if (v == NULL || json_is_null(v)) {
        if (required) {
            ngx_http_portal_field(fields, prefix, name, message);
        }

        return NULL;
    }

    s = json_string_value(v);

    if (s == NULL) {
        ngx_http_portal_field(fields, prefix, name, message);
        return NULL;
    }

    n = ngx_http_portal_utf8_len((u_char *) s, ngx_strlen(s));

    if (n < 0 || (size_t) n > max || (required && n == 0)) {
        ngx_http_portal_field(fields, prefix, name, message);
        return NULL;
    }

    return s;
}


/*
 * Checks a person (holder or member) and copies what is known into out.
 * partial: PATCH, only the keys present are checked and copied.
 */

void
ngx_http_portal_check_person(json_t *in, ngx_uint_t kind, ngx_uint_t partial,
    const char *prefix, json_t *fields, json_t *out)
{
    json_t      *addr, *oaddr;
    ngx_uint_t   req, holder;
    const char  *s, *aprefix;
    char         abuf[64];

    holder = (kind == NGX_HTTP_PORTAL_PERSON_HOLDER);
    req = !partial;

    if (in == NULL || !json_is_object(in)) {
        ngx_http_portal_field(fields, "", prefix && *prefix ? prefix
                                                            : "holder",
                              "Ces informations sont manquantes.");
        return;
    }

    s = ngx_http_portal_text_field(in, "civility", req && holder, 3, fields,
                                   prefix, "Choisissez « M » ou « Mme ».");
    if (s) {
        if (ngx_strcmp(s, "M") == 0 || ngx_strcmp(s, "Mme") == 0
            || (*s == '\0' && !holder))
        {
            /* "" clears a member's civility */
            json_object_set_new(out, "civility", json_string(s));

        } else {
            ngx_http_portal_field(fields, prefix, "civility",
                                  "Choisissez « M » ou « Mme ».");
        }
    }

    s = ngx_http_portal_text_field(in, "first_name", req, 100, fields,
                                   prefix, "Saisissez le prénom.");
    if (s) {
        if (ngx_http_portal_valid_name((u_char *) s, ngx_strlen(s))) {
            json_object_set_new(out, "first_name", json_string(s));

        } else {
            ngx_http_portal_field(fields, prefix, "first_name",
                                  "Le prénom ne peut contenir que des"
                                  " lettres, espaces, traits d'union et"
                                  " apostrophes.");
        }
    }

    s = ngx_http_portal_text_field(in, "last_name", req && holder, 100,
                                   fields, prefix, "Saisissez le nom.");

    if (s && *s == '\0' && holder) {
        ngx_http_portal_field(fields, prefix, "last_name",
                              "Saisissez le nom.");

    } else if (s && *s) {
        if (ngx_http_portal_valid_name((u_char *) s, ngx_strlen(s))) {
            json_object_set_new(out, "last_name", json_string(s));

        } else {
            ngx_http_portal_field(fields, prefix, "last_name",
                                  "Le nom ne peut contenir que des lettres,"
                                  " espaces, traits d'union et"
                                  " apostrophes.");
        }
    }

    s = ngx_http_portal_text_field(in, "birth_date", req, 10, fields,
                                   prefix, "Saisissez la date de naissance"
                                   " (AAAA-MM-JJ).");
    if (s) {
        if (ngx_http_portal_valid_date(s, 1)) {
            json_object_set_new(out, "birth_date", json_string(s));

        } else {
            ngx_http_portal_field(fields, prefix, "birth_date",
                                  "La date de naissance doit être une date"
                                  " passée, au format AAAA-MM-JJ.");
        }
    }

    s = ngx_http_portal_text_field(in, "email", req && holder, 254, fields,
                                   prefix, "Saisissez une adresse"
                                   " électronique.");
    if (s) {
        if (ngx_http_portal_valid_email(s)) {
            json_object_set_new(out, "email", json_string(s));

        } else if (*s || holder) {
            ngx_http_portal_field(fields, prefix, "email",
                                  "L'adresse électronique n'est pas"
                                  " valide.");

        } else {
            json_object_set_new(out, "email", json_string(""));
        }
    }

    s = ngx_http_portal_text_field(in, "phone", 0, 30, fields, prefix,
                                   "Le numéro de téléphone n'est pas"
                                   " valide.");
    if (s) {
        if (*s == '\0' || ngx_http_portal_valid_phone(s)) {
            json_object_set_new(out, "phone", json_string(s));

        } else {
            ngx_http_portal_field(fields, prefix, "phone",
                                  "Le numéro de téléphone doit compter 10"
                                  " chiffres (ou l'indicatif + et 11 à 15"
                                  " chiffres).");
        }
    }

    addr = json_object_get(in, "address");

    ngx_snprintf((u_char *) abuf, sizeof(abuf) - 1, "%s%saddress%Z",
                 prefix ? prefix : "", prefix && *prefix ? "." : "");
    aprefix = abuf;

    if (addr == NULL || json_is_null(addr)) {
        if (req && holder) {
            ngx_http_portal_field(fields, prefix, "address",
                                  "Saisissez l'adresse.");
        }

        return;
    }

    if (!json_is_object(addr)) {
        ngx_http_portal_field(fields, prefix, "address",
                              "Saisissez l'adresse.");
        return;
    }

    /* a member's address is the holder's unless given whole */

    req = !partial && (holder || json_object_size(addr) > 0);

    oaddr = json_object();
    if (oaddr == NULL) {
        return;
    }

    json_object_set_new(out, "address", oaddr);

    s = ngx_http_portal_text_field(addr, "line", req, 200, fields, aprefix,
                                   "Saisissez le numéro et la rue.");
    if (s) {
        if (*s) {
            json_object_set_new(oaddr, "line", json_string(s));

        } else {
            ngx_http_portal_field(fields, aprefix, "line",
                                  "Saisissez le numéro et la rue.");
        }
    }

    s = ngx_http_portal_text_field(addr, "postcode", req, 5, fields, aprefix,
                                   "Le code postal compte 5 chiffres.");
    if (s) {
        if (ngx_strlen(s) == 5 && s[0] >= '0' && s[0] <= '9'
            && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'
            && s[3] >= '0' && s[3] <= '9' && s[4] >= '0' && s[4] <= '9')
        {
            json_object_set_new(oaddr, "postcode", json_string(s));

        } else {
            ngx_http_portal_field(fields, aprefix, "postcode",
                                  "Le code postal compte 5 chiffres.");
        }
    }

    s = ngx_http_portal_text_field(addr, "city", req, 100, fields, aprefix,
                                   "Saisissez la commune.");
    if (s) {
        if (*s) {
            json_object_set_new(oaddr, "city", json_string(s));

        } else {
            ngx_http_portal_field(fields, aprefix, "city",
                                  "Saisissez la commune.");
        }
    }
}


static void
ngx_http_portal_check_member(json_t *in, ngx_uint_t partial,
    const char *prefix, json_t *fields, json_t *out)
{
    json_t      *v;
    const char  *kind;

    v = json_object_get(in, "kind");
    kind = json_string_value(v);

    if (v || !partial) {
        if (kind && (ngx_strcmp(kind, "adult") == 0
                     || ngx_strcmp(kind, "child") == 0))
        {
            json_object_set_new(out, "kind", json_string(kind));

        } else {
            ngx_http_portal_field(fields, prefix, "kind",
                                  "Précisez s'il s'agit d'un adulte"
                                  " (adult) ou d'un enfant (child).");
        }
    }

    ngx_http_portal_check_person(in, NGX_HTTP_PORTAL_PERSON_MEMBER, partial,
                                 prefix, fields, out);
}


static ngx_int_t
ngx_http_portal_dump(ngx_http_request_t *r, json_t *json, ngx_str_t *out)
{
    char  *text;

    text = json_dumps(json, JSON_COMPACT);
    if (text == NULL) {
        return NGX_ERROR;
    }

    out->len = ngx_strlen(text);
    out->data = ngx_pnalloc(r->pool, out->len + 1);

    if (out->data == NULL) {
        free(text);
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, text, out->len + 1);
    free(text);

    return NGX_OK;
}


static ngx_int_t
ngx_http_portal_text_dup(ngx_http_request_t *r, const char *s, ngx_str_t *out)
{
    out->len = ngx_strlen(s);
    out->data = ngx_pnalloc(r->pool, out->len + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, s, out->len + 1);

    return NGX_OK;
}


/* GET security-questions */

ngx_int_t
ngx_http_portal_questions_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    return ngx_http_portal_json_query(r, &ngx_http_portal_questions_sql, 0,
                                      NULL, NULL, NULL);
}


/* POST accounts: seed flow A */

ngx_int_t
ngx_http_portal_account_create_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    json_t                      *fields, *holder, *members, *m, *om, *v;
    size_t                       i;
    ngx_int_t                    rc;
    const char                  *password, *confirm, *answer, *contact;
    const char                  *captcha_id, *captcha_answer, *why;
    const char                  *personal[5];
    char                         prefix[32];
    json_int_t                   question;
    ngx_http_portal_signup_t    *su;
    ngx_http_portal_db_query_t  *q;

    su = ngx_pcalloc(r->pool, sizeof(ngx_http_portal_signup_t));
    fields = json_object();
    holder = json_object();
    members = json_array();

    if (su == NULL || fields == NULL || holder == NULL || members == NULL) {
        json_decref(fields);
        json_decref(holder);
        json_decref(members);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->data = su;

    ngx_http_portal_check_person(json_object_get(ctx->json, "holder"),
                                 NGX_HTTP_PORTAL_PERSON_HOLDER, 0, "holder",
                                 fields, holder);

    v = json_object_get(ctx->json, "members");

    if (v && !json_is_null(v)) {
        if (!json_is_array(v)
            || json_array_size(v) > NGX_HTTP_PORTAL_MEMBERS_MAX)
        {
            ngx_http_portal_field(fields, "", "members",
                                  "Les membres du foyer sont une liste"
                                  " (20 au plus).");

        } else {
            json_array_foreach(v, i, m) {
                om = json_object();
                if (om == NULL) {
                    break;
                }

                ngx_snprintf((u_char *) prefix, sizeof(prefix) - 1,
                             "members.%uz%Z", i);
                ngx_http_portal_check_member(m, 0, prefix, fields, om);
                json_array_append_new(members, om);
            }
        }
    }

    contact = json_string_value(json_object_get(ctx->json, "contact_mode"));

    if (contact == NULL
        || (ngx_strcmp(contact, "email") != 0
            && ngx_strcmp(contact, "phone") != 0
            && ngx_strcmp(contact, "post") != 0))
    {
        ngx_http_portal_field(fields, "", "contact_mode",
                              "Choisissez un mode de contact : courriel,"
                              " téléphone ou courrier.");
        contact = NULL;

    } else if (ngx_strcmp(contact, "phone") == 0
               && (json_string_value(json_object_get(holder, "phone"))
                   == NULL
                   || *json_string_value(json_object_get(holder, "phone"))
                      == '\0'))
    {
        ngx_http_portal_field(fields, "", "contact_mode",
                              "Le contact par téléphone demande un numéro"
                              " de téléphone.");
    }

    v = json_object_get(ctx->json, "security_question_id");
    question = json_is_integer(v) ? json_integer_value(v) : 0;

    if (question < 1 || question > 32767) {
        ngx_http_portal_field(fields, "", "security_question_id",
                              "Choisissez une question dans la liste.");
    }

    answer = json_string_value(json_object_get(ctx->json,
                                               "security_answer"));

    if (answer == NULL || ngx_strlen(answer) > 200
        || ngx_http_portal_fold_words(r->pool, answer, &su->answer)
           != NGX_OK)
    {
        ngx_http_portal_field(fields, "", "security_answer",
                              "Saisissez la réponse à la question choisie.");
    }

    /* the login as it will be, unless a homonym came first */

    if (json_object_get(holder, "first_name")
        && json_object_get(holder, "last_name"))
    {
        rc = ngx_http_portal_login_base(r->pool,
                 json_string_value(json_object_get(holder, "first_name")),
                 json_string_value(json_object_get(holder, "last_name")),
                 &su->base);

        if (rc == NGX_ERROR) {
            goto failed;
        }

        if (rc == NGX_DECLINED) {
            ngx_http_portal_field(fields, "holder", "last_name",
                                  "Le prénom et le nom doivent contenir des"
                                  " lettres.");
        }
    }

    password = json_string_value(json_object_get(ctx->json, "password"));
    confirm = json_string_value(json_object_get(ctx->json,
                                                "password_confirm"));

    /* login_base() gives no NUL: a C string for the password check */

    personal[0] = "";

    if (su->base.len) {
        personal[0] = ngx_pnalloc(r->pool, su->base.len + 1);
        if (personal[0] != NULL) {
            *ngx_cpymem((u_char *) personal[0], su->base.data,
                        su->base.len) = '\0';
        }
    }
    personal[1] = json_string_value(json_object_get(holder, "first_name"));
    personal[2] = json_string_value(json_object_get(holder, "last_name"));
    personal[3] = json_string_value(json_object_get(holder, "email"));
    personal[4] = NULL;

    if (personal[0] == NULL) {
        goto failed;
    }

    why = ngx_http_portal_password_refused(password, personal);

    if (why) {
        ngx_http_portal_field(fields, "", "password", why);

    } else if (confirm == NULL || ngx_strcmp(confirm, password) != 0) {
        ngx_http_portal_field(fields, "", "password_confirm",
                              "Les deux mots de passe saisis diffèrent.");
    }

    captcha_id = json_string_value(json_object_get(ctx->json, "captcha_id"));
    captcha_answer = json_string_value(json_object_get(ctx->json,
                                                       "captcha_answer"));

    if (captcha_id == NULL
        || !ngx_http_portal_valid_uuid((u_char *) captcha_id,
                                       ngx_strlen(captcha_id)))
    {
        ngx_http_portal_field(fields, "", "captcha_id",
                              "Le cryptogramme manque : demandez-en un.");
    }

    if (captcha_answer == NULL || *captcha_answer == '\0'
        || ngx_strlen(captcha_answer) > NGX_HTTP_PORTAL_CAPTCHA_MAX)
    {
        ngx_http_portal_field(fields, "", "captcha_answer",
                              "Recopiez le texte de l'image.");
    }

    if (json_object_size(fields)) {
        json_decref(holder);
        json_decref(members);

        return ngx_http_portal_send_error_fields(r,
                   NGX_HTTP_UNPROCESSABLE_ENTITY, "invalid",
                   "Certaines informations sont à corriger.", fields);
    }

    if (ngx_http_portal_dump(r, holder, &su->holder) != NGX_OK
        || ngx_http_portal_dump(r, members, &su->members) != NGX_OK)
    {
        goto failed;
    }

    json_decref(fields);
    json_decref(holder);
    json_decref(members);

    su->question.data = ngx_pnalloc(r->pool, NGX_INT_T_LEN + 1);
    if (su->question.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    su->question.len = ngx_sprintf(su->question.data, "%L%Z",
                                   (int64_t) question)
                       - su->question.data - 1;

    /* the captcha first: wrong ones must not cost two Argon2id hashes */

    q = ngx_http_portal_db_query(r, &ngx_http_portal_captcha_check_sql,
                                 ngx_http_portal_signup_captcha);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_portal_db_param(q, captcha_id, ngx_strlen(captcha_id));
    ngx_http_portal_db_param(q, captcha_answer, ngx_strlen(captcha_answer));

    return ngx_http_portal_db_suspend(q);

failed:

    json_decref(fields);
    json_decref(holder);
    json_decref(members);

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


static void
ngx_http_portal_signup_captcha(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    ngx_http_request_t            *r;
    ngx_http_portal_ctx_t         *ctx;
    ngx_http_portal_signup_t      *su;
    ngx_http_portal_signup_job_t  *job;

    r = q->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    su = ctx->data;

    if (ngx_http_portal_db_rows(q, status, res, 1) != NGX_OK) {
        return;
    }

    if (PQgetvalue(res, 0, 0)[0] != 't') {
        ngx_http_finalize_request(r, ngx_http_portal_captcha_refused(r));
        return;
    }

    job = ngx_http_portal_thread_alloc(r->connection->log,
                                       sizeof(ngx_http_portal_signup_job_t));
    if (job == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_cpystrn((u_char *) job->password,
                (u_char *) json_string_value(json_object_get(ctx->json,
                                                             "password")),
                sizeof(job->password));
    ngx_cpystrn((u_char *) job->answer, su->answer.data,
                sizeof(job->answer));

    if (ngx_http_portal_thread_post(r, job, ngx_http_portal_signup_work,
                                    ngx_http_portal_signup_hashed)
        != NGX_OK)
    {
        ngx_http_portal_thread_free(job);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }
}


ngx_int_t
ngx_http_portal_captcha_refused(ngx_http_request_t *r)
{
    return ngx_http_portal_send_error_fields(r,
               NGX_HTTP_UNPROCESSABLE_ENTITY, "captcha",
               "Le texte recopié ne correspond pas à l'image, ou l'image a"
               " expiré.",
               json_pack("{s:s}", "captcha_answer",
                         "Le texte recopié ne correspond pas à l'image :"
                         " recopiez le nouveau cryptogramme."));
}


static void
ngx_http_portal_signup_work(void *data)
{
    ngx_http_portal_signup_job_t *job = data;

    job->ok = (ngx_http_portal_password_hash(job->password,
                                             job->password_hash) == NGX_OK
               && ngx_http_portal_password_hash(job->answer,
                                                job->answer_hash) == NGX_OK);
}


static void
ngx_http_portal_signup_hashed(ngx_http_request_t *r, void *data)
{
    ngx_http_portal_signup_job_t *job = data;

    ngx_str_t                     url;
    const char                   *contact;
    ngx_http_portal_ctx_t        *ctx;
    ngx_http_portal_signup_t     *su;
    ngx_http_portal_db_query_t   *q;
    ngx_http_portal_loc_conf_t   *plcf;

    if (r == NULL) {
        return;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_portal_module);
    su = ctx->data;
    plcf = ngx_http_get_module_loc_conf(r, ngx_http_portal_module);

    if (!job->ok
        || ngx_http_portal_text_dup(r, job->password_hash,
                                    &su->password_hash) != NGX_OK
        || ngx_http_portal_text_dup(r, job->answer_hash, &su->answer_hash)
           != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    q = ngx_http_portal_db_query(r, &ngx_http_portal_signup_sql,
                                 ngx_http_portal_signup_done);
    if (q == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    url = plcf->public_url;

    ngx_http_portal_db_param(q, (char *) su->holder.data, su->holder.len);
    ngx_http_portal_db_param(q, (char *) su->base.data, su->base.len);
    ngx_http_portal_db_param(q, (char *) su->password_hash.data,
                             su->password_hash.len);
    ngx_http_portal_db_param(q, (char *) su->question.data,
                             su->question.len);
    ngx_http_portal_db_param(q, (char *) su->answer_hash.data,
                             su->answer_hash.len);
    contact = json_string_value(json_object_get(ctx->json, "contact_mode"));
    ngx_http_portal_db_param(q, contact, ngx_strlen(contact));
    ngx_http_portal_db_param(q, (char *) su->members.data, su->members.len);
    ngx_http_portal_db_param(q, (char *) url.data, url.len);

    ngx_http_portal_db_next(q);
}


static void
ngx_http_portal_signup_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    char                *state;
    ngx_http_request_t  *r;

    r = q->request;

    if (status == NGX_HTTP_PORTAL_DB_OK
        && PQresultStatus(res) == PGRES_FATAL_ERROR)
    {
        state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

        /* 23503: no such security question */

        if (state && ngx_strcmp(state, "23503") == 0) {
            ngx_http_finalize_request(r,
                ngx_http_portal_send_error_fields(r,
                    NGX_HTTP_UNPROCESSABLE_ENTITY, "invalid",
                    "Certaines informations sont à corriger.",
                    json_pack("{s:s}", "security_question_id",
                              "Choisissez une question dans la liste.")));
            return;
        }
    }

    if (ngx_http_portal_db_rows(q, status, res, 1) != NGX_OK) {
        return;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "portal: account \"%s\" created", PQgetvalue(res, 0, 1));

    ngx_http_portal_outbox_kick();

    ngx_http_finalize_request(r,
        ngx_http_portal_send_json(r, NGX_HTTP_CREATED,
                                  json_pack("{s:s, s:s, s:b}",
                                            "id", PQgetvalue(res, 0, 0),
                                            "login", PQgetvalue(res, 0, 1),
                                            "validated", 0)));
}


/*
 * A statement whose one column is a JSON document, sent as it comes; no
 * row, or NULL, is a 404.
 */

static ngx_int_t
ngx_http_portal_json_query(ngx_http_request_t *r, ngx_http_portal_sql_t *sql,
    ngx_uint_t created, ngx_str_t *p1, ngx_str_t *p2, ngx_str_t *p3)
{
    ngx_http_portal_db_query_t  *q;

    q = ngx_http_portal_db_query(r, sql, ngx_http_portal_json_done);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->data = (void *) created;

    if (p1) {
        ngx_http_portal_db_param(q, (char *) p1->data, p1->len);
    }

    if (p2) {
        ngx_http_portal_db_param(q, (char *) p2->data, p2->len);
    }

    if (p3) {
        ngx_http_portal_db_param(q, (char *) p3->data, p3->len);
    }

    return ngx_http_portal_db_suspend(q);
}


static void
ngx_http_portal_json_done(ngx_http_portal_db_query_t *q,
    ngx_http_portal_db_status_e status, PGresult *res)
{
    char                *state;
    ngx_str_t            text;
    ngx_http_request_t  *r;

    r = q->request;

    if (status == NGX_HTTP_PORTAL_DB_OK
        && PQresultStatus(res) == PGRES_FATAL_ERROR)
    {
        state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

        /* a CHECK the module's checks let through: contact by phone */

        if (state && ngx_strcmp(state, "23514") == 0) {
            ngx_http_finalize_request(r,
                ngx_http_portal_send_error_fields(r,
                    NGX_HTTP_UNPROCESSABLE_ENTITY, "invalid",
                    "Certaines informations sont à corriger.",
                    json_pack("{s:s}", "contact_mode",
                              "Le contact par téléphone demande un numéro"
                              " de téléphone.")));
            return;
        }
    }

    if (ngx_http_portal_db_rows(q, status, res, 0) != NGX_OK) {
        return;
    }

    if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
        ngx_http_finalize_request(r,
            ngx_http_portal_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                       "Cette fiche n'existe pas."));
        return;
    }

    text.data = (u_char *) PQgetvalue(res, 0, 0);
    text.len = PQgetlength(res, 0, 0);

    ngx_http_finalize_request(r,
        ngx_http_portal_send_raw(r, q->data ? NGX_HTTP_CREATED : NGX_HTTP_OK,
                                 &text));
}


/* GET me, GET me/export */

static ngx_str_t *
ngx_http_portal_account_id(ngx_http_portal_ctx_t *ctx, ngx_str_t *id)
{
    id->data = ctx->session.id;
    id->len = 36;

    return id;
}


ngx_int_t
ngx_http_portal_me_get_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_str_t  id;

    return ngx_http_portal_json_query(r, &ngx_http_portal_me_sql, 0,
                                      ngx_http_portal_account_id(ctx, &id),
                                      NULL, NULL);
}


ngx_int_t
ngx_http_portal_export_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_str_t         id;
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Content-Disposition");
    ngx_str_set(&h->value,
                "attachment; filename=\"mon-compte-citoyen.json\"");

    return ngx_http_portal_json_query(r, &ngx_http_portal_export_sql, 0,
                                      ngx_http_portal_account_id(ctx, &id),
                                      NULL, NULL);
}


/* PATCH me {"holder": {...}, "contact_mode"} */

ngx_int_t
ngx_http_portal_me_patch_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    json_t      *fields, *patch, *holder, *v;
    ngx_str_t    id, text;
    const char  *contact;

    fields = json_object();
    patch = json_object();
    holder = json_object();

    if (fields == NULL || patch == NULL || holder == NULL) {
        goto failed;
    }

    json_object_set_new(patch, "holder", holder);

    v = json_object_get(ctx->json, "holder");

    if (v) {
        ngx_http_portal_check_person(v, NGX_HTTP_PORTAL_PERSON_HOLDER, 1,
                                     "holder", fields, holder);
    }

    v = json_object_get(ctx->json, "contact_mode");

    if (v) {
        contact = json_string_value(v);

        if (contact
            && (ngx_strcmp(contact, "email") == 0
                || ngx_strcmp(contact, "phone") == 0
                || ngx_strcmp(contact, "post") == 0))
        {
            json_object_set_new(patch, "contact_mode", json_string(contact));

        } else {
            ngx_http_portal_field(fields, "", "contact_mode",
                                  "Choisissez un mode de contact : courriel,"
                                  " téléphone ou courrier.");
        }
    }

    if (json_object_size(holder) == 0
        && json_object_get(patch, "contact_mode") == NULL
        && json_object_size(fields) == 0)
    {
        ngx_http_portal_field(fields, "", "holder",
                              "Rien à modifier : envoyez « holder » ou"
                              " « contact_mode ».");
    }

    if (json_object_size(fields)) {
        json_decref(patch);
        return ngx_http_portal_send_error_fields(r,
                   NGX_HTTP_UNPROCESSABLE_ENTITY, "invalid",
                   "Certaines informations sont à corriger.", fields);
    }

    json_decref(fields);

    if (ngx_http_portal_dump(r, patch, &text) != NGX_OK) {
        json_decref(patch);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json_decref(patch);

    return ngx_http_portal_json_query(r, &ngx_http_portal_me_update_sql, 0,
                                      ngx_http_portal_account_id(ctx, &id),
                                      &text, NULL);

failed:

    json_decref(fields);
    json_decref(patch);
    json_decref(holder);

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


/* POST me/members, GET and PATCH me/members/{id} */

/*
 * NGX_OK: text holds the checked member.  Otherwise *rc is what the
 * handler returns (the 422 was sent, or an error).
 */

static ngx_int_t
ngx_http_portal_member_body(ngx_http_request_t *r, ngx_http_portal_ctx_t *ctx,
    ngx_uint_t partial, ngx_str_t *text, ngx_int_t *rc)
{
    json_t  *fields, *out;

    fields = json_object();
    out = json_object();

    if (fields == NULL || out == NULL) {
        json_decref(fields);
        json_decref(out);
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_ERROR;
    }

    ngx_http_portal_check_member(ctx->json, partial, "", fields, out);

    if (json_object_size(fields)) {
        json_decref(out);
        *rc = ngx_http_portal_send_error_fields(r,
                  NGX_HTTP_UNPROCESSABLE_ENTITY, "invalid",
                  "Certaines informations sont à corriger.", fields);
        return NGX_ERROR;
    }

    json_decref(fields);

    if (ngx_http_portal_dump(r, out, text) != NGX_OK) {
        json_decref(out);
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_ERROR;
    }

    json_decref(out);

    return NGX_OK;
}


ngx_int_t
ngx_http_portal_member_create_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_int_t  rc;
    ngx_str_t  id, text;

    if (ngx_http_portal_member_body(r, ctx, 0, &text, &rc) != NGX_OK) {
        return rc;
    }

    return ngx_http_portal_json_query(r, &ngx_http_portal_member_add_sql, 1,
                                      ngx_http_portal_account_id(ctx, &id),
                                      &text, NULL);
}


static ngx_int_t
ngx_http_portal_member_not_found(ngx_http_request_t *r)
{
    return ngx_http_portal_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                      "Cette fiche n'existe pas.");
}


ngx_int_t
ngx_http_portal_member_get_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_str_t  id;

    if (!ngx_http_portal_valid_uuid(ctx->params[0].data,
                                    ctx->params[0].len))
    {
        return ngx_http_portal_member_not_found(r);
    }

    return ngx_http_portal_json_query(r, &ngx_http_portal_member_get_sql, 0,
                                      ngx_http_portal_account_id(ctx, &id),
                                      &ctx->params[0], NULL);
}


ngx_int_t
ngx_http_portal_member_patch_handler(ngx_http_request_t *r,
    ngx_http_portal_ctx_t *ctx)
{
    ngx_int_t  rc;
    ngx_str_t  id, text, member;

    if (!ngx_http_portal_valid_uuid(ctx->params[0].data,
                                    ctx->params[0].len))
    {
        return ngx_http_portal_member_not_found(r);
    }

    if (ngx_http_portal_member_body(r, ctx, 1, &text, &rc) != NGX_OK) {
        return rc;
    }

    member = ctx->params[0];

    return ngx_http_portal_json_query(r, &ngx_http_portal_member_update_sql,
                                      0, ngx_http_portal_account_id(ctx, &id),
                                      &member, &text);
}
