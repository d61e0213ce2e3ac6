
/*
 * Portail Citoyen: libFuzzer target for the forms of the catalog:
 * src/ngx_http_portal_form.c compiles a procedure's definition into a
 * field table, src/ngx_http_portal_check.c checks a request's data with
 * it.  t/fuzz/run builds them without the rest of nginx: three files of
 * nginx's core (pools, ngx_sprintf...: from nginx's own sources, which
 * t/fuzz/run downloads), t/fuzz/fuzz_time.c and the stand-ins below.
 *
 * An input is: the slug of a procedure of sql/007_catalog_seed.sql on its
 * first line, then the data (JSON); or a definition (JSON), a line "--",
 * then the data.  Without the line "--", all of it is the definition and
 * the request has no "data".
 *
 * What must hold, whatever the input:
 * - a definition that PostgreSQL's constraint accepts (mirrored below from
 *   portal_internal.fields_valid) compiles, into the table it says: kinds,
 *   required, lengths, options, bounds; one that is refused says why;
 * - a compiled table ends with a NULL name, every field has its messages;
 * - every error is at "data" (data that is no object) or at "data.<name>"
 *   of a field of the table, with a message;
 * - clean holds only names of the table, each value of its field's type,
 *   and checked again it gives no error and the same values;
 * - an answer is refused or kept, never both nor neither, unless empty;
 *   an empty one is refused exactly when the field is required;
 * - the 422 carries the errors; clean goes to text for SQL and back;
 * - a definition that PostgreSQL accepts takes the answers made from its
 *   own table: a text of its most characters, a date or a number at its
 *   bounds, an option, a ticked box...
 * and AddressSanitizer sees no bad access nor leak, UBSan no undefined
 * behaviour.  Pools are so small that almost every allocation is a malloc()
 * of its own, which AddressSanitizer bounds.  "Today" is a fixed day.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <math.h>
#include <jansson.h>

#include "ngx_http_portal_check.h"
#include "ngx_http_portal_form.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_text.h"

/* made by t/fuzz/run with t/fuzz/form-seeds.awk */
#include "fuzz_form_seeds.h"


/* 2026-03-16 12:00 UTC: the day of the request, whatever the clock says */
#define NGX_HTTP_PORTAL_FUZZ_NOW     1773662400

#define NGX_HTTP_PORTAL_FUZZ_NSEEDS                                          \
    (sizeof(ngx_http_portal_fuzz_seeds) / sizeof(ngx_http_portal_fuzz_seeds[0]))

/* what the stand-in of the 422 answer returns */
#define NGX_HTTP_PORTAL_FUZZ_SENT    -422

/* check.c's NGX_HTTP_PORTAL_PATH_MAX */
#define NGX_HTTP_PORTAL_FUZZ_PATH    128

/* names no longer than this make paths that are never cut */
#define NGX_HTTP_PORTAL_FUZZ_NAME    100

#define NGX_HTTP_PORTAL_FUZZ_LINE    4096

/* the bytes of a value on that line */
#define NGX_HTTP_PORTAL_FUZZ_VALUE   60


/* nginx's globals that the core files and src/ read (and ngx_alloc.c's) */
volatile ngx_cycle_t  *ngx_cycle;
volatile ngx_time_t   *ngx_cached_time;


static ngx_log_t       ngx_http_portal_fuzz_log;
static ngx_cycle_t     ngx_http_portal_fuzz_cycle;
static ngx_time_t      ngx_http_portal_fuzz_time;

/* the seed definitions, parsed once */
static json_t         *ngx_http_portal_fuzz_defs[NGX_HTTP_PORTAL_FUZZ_NSEEDS];

/* the errors that the last 422 carried */
static json_t         *ngx_http_portal_fuzz_sent;


static void ngx_http_portal_fuzz_fail(const char *fmt, ...);
static void ngx_http_portal_fuzz_init(void);
static void ngx_http_portal_fuzz_one(const u_char *data, size_t size,
    char *line);
static void ngx_http_portal_fuzz_check(ngx_pool_t *pool,
    ngx_http_portal_form_t *form, ngx_uint_t sql, json_t *data, char *line);
static void ngx_http_portal_fuzz_table(json_t *def,
    ngx_http_portal_form_t *form, ngx_uint_t sql);
static void ngx_http_portal_fuzz_errors(ngx_http_portal_form_t *form,
    json_t *data, json_t *errors);
static void ngx_http_portal_fuzz_clean(ngx_pool_t *pool,
    ngx_http_portal_form_t *form, json_t *data, json_t *errors,
    json_t *clean);
static void ngx_http_portal_fuzz_again(ngx_pool_t *pool,
    ngx_http_portal_form_t *form, json_t *clean);
static void ngx_http_portal_fuzz_answers(ngx_pool_t *pool,
    ngx_http_portal_form_t *form);
static json_t *ngx_http_portal_fuzz_answer(ngx_http_portal_field_t *f,
    ngx_uint_t n);
static json_t *ngx_http_portal_fuzz_text(ngx_http_portal_field_t *f);
static json_t *ngx_http_portal_fuzz_date(ngx_http_portal_field_t *f);
static json_t *ngx_http_portal_fuzz_number(ngx_http_portal_field_t *f,
    ngx_uint_t n);
static ngx_uint_t ngx_http_portal_fuzz_unique(ngx_http_portal_form_t *form,
    ngx_http_portal_field_t *f);
static ngx_uint_t ngx_http_portal_fuzz_blank(ngx_http_portal_field_t *f,
    json_t *v);
static void ngx_http_portal_fuzz_path(char *path, const char *name);
static ngx_uint_t ngx_http_portal_fuzz_message(const char *s);
static const char *ngx_http_portal_fuzz_sql(json_t *def);
static const char *ngx_http_portal_fuzz_sql_field(json_t *def, size_t i,
    json_t *f);
static ngx_uint_t ngx_http_portal_fuzz_sql_date(json_t *v);
static ngx_uint_t ngx_http_portal_fuzz_nul(json_t *v);
static ngx_uint_t ngx_http_portal_fuzz_whole(json_t *v, double lo,
    double hi);
static ngx_uint_t ngx_http_portal_fuzz_in(const char *s,
    const char *const *list);
static void ngx_http_portal_fuzz_list(char *line, size_t size, json_t *obj);

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/* what the fuzzer never reaches, or reaches only to log */

void
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    const char *fmt, ...)
{
    u_char   buf[NGX_MAX_ERROR_STR], *p;
    va_list  args;

    (void) level;
    (void) log;
    (void) err;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf) - 1, fmt, args);
    va_end(args);

    *p = '\0';

    fprintf(stderr, "fuzz_form: nginx logs: %s\n", buf);
}


ngx_int_t
ngx_http_portal_response_error_fields(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *message,
    json_t *fields)
{
    (void) r;

    if (status != NGX_HTTP_UNPROCESSABLE_ENTITY
        || ngx_strcmp(code, "invalid") != 0
        || !ngx_http_portal_fuzz_message(message)
        || json_object_size(fields) == 0)
    {
        ngx_http_portal_fuzz_fail("a 422 without its fields");
    }

    ngx_http_portal_fuzz_sent = fields;
    json_decref(fields);

    return NGX_HTTP_PORTAL_FUZZ_SENT;
}


/* nginx's formats: %s, %i, %ui, %uz... */

static void
ngx_http_portal_fuzz_fail(const char *fmt, ...)
{
    u_char   buf[NGX_MAX_ERROR_STR], *p;
    va_list  args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf) - 1, fmt, args);
    va_end(args);

    *p = '\0';

    fprintf(stderr, "fuzz_form: %s\n", buf);
    abort();
}


static void
ngx_http_portal_fuzz_init(void)
{
    size_t        i;
    const char   *why;
    json_error_t  err;

    ngx_pagesize = getpagesize();

    ngx_http_portal_fuzz_log.log_level = NGX_LOG_ERR;
    ngx_http_portal_fuzz_cycle.log = &ngx_http_portal_fuzz_log;
    ngx_cycle = &ngx_http_portal_fuzz_cycle;

    ngx_http_portal_fuzz_time.sec = NGX_HTTP_PORTAL_FUZZ_NOW;
    ngx_cached_time = &ngx_http_portal_fuzz_time;

    /* the same hash tables for every run of an input */
    json_object_seed(1);

    /* the mirror of fields_valid must agree with PostgreSQL on them */

    for (i = 0; i < NGX_HTTP_PORTAL_FUZZ_NSEEDS; i++) {
        ngx_http_portal_fuzz_defs[i] = json_loads(
                                          ngx_http_portal_fuzz_seeds[i][1],
                                          0, &err);

        if (ngx_http_portal_fuzz_defs[i] == NULL) {
            ngx_http_portal_fuzz_fail("%s: not JSON: %s",
                                      ngx_http_portal_fuzz_seeds[i][0],
                                      err.text);
        }

        why = ngx_http_portal_fuzz_sql(ngx_http_portal_fuzz_defs[i]);

        if (why) {
            ngx_http_portal_fuzz_fail("%s: the mirror of fields_valid"
                                      " refuses it: %s",
                                      ngx_http_portal_fuzz_seeds[i][0], why);
        }
    }
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;

    ngx_http_portal_fuzz_init();

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char  line[NGX_HTTP_PORTAL_FUZZ_LINE];

    ngx_http_portal_fuzz_one(data, size, line);

    return 0;
}


/* one input, and in line what came of it */

static void
ngx_http_portal_fuzz_one(const u_char *data, size_t size, char *line)
{
    size_t                   i, n, dlen;
    json_t                  *def, *json;
    ngx_int_t                rc;
    ngx_pool_t              *pool;
    ngx_uint_t               sql;
    const char              *why, *mirror;
    const u_char            *lf, *sep, *d;
    json_error_t             err;
    ngx_http_portal_form_t   form;

    def = NULL;
    d = NULL;
    dlen = 0;

    lf = memchr(data, '\n', size);

    for (i = 0; lf && i < NGX_HTTP_PORTAL_FUZZ_NSEEDS; i++) {
        n = ngx_strlen(ngx_http_portal_fuzz_seeds[i][0]);

        if ((size_t) (lf - data) == n
            && ngx_strncmp(data, ngx_http_portal_fuzz_seeds[i][0], n) == 0)
        {
            def = json_incref(ngx_http_portal_fuzz_defs[i]);
            d = lf + 1;
            dlen = size - n - 1;
            break;
        }
    }

    if (def == NULL) {
        sep = NULL;

        for (i = 0; i + 4 <= size; i++) {
            if (ngx_strncmp(data + i, "\n--\n", 4) == 0) {
                sep = data + i;
                break;
            }
        }

        n = sep ? (size_t) (sep - data) : size;

        if (sep) {
            d = sep + 4;
            dlen = size - n - 4;
        }

        /* the catalog's JSON holds the fields: any JSON value */

        def = json_loadb((const char *) data, n, JSON_DECODE_ANY, &err);

        if (def == NULL) {
            ngx_snprintf((u_char *) line, NGX_HTTP_PORTAL_FUZZ_LINE,
                         "definition not JSON%Z");
            return;
        }
    }

    mirror = ngx_http_portal_fuzz_sql(def);
    sql = (mirror == NULL);

    pool = ngx_create_pool(sizeof(ngx_pool_t), &ngx_http_portal_fuzz_log);
    if (pool == NULL) {
        ngx_http_portal_fuzz_fail("out of memory");
    }

    why = NULL;
    rc = ngx_http_portal_form_compile(pool, def, &form, &why);

    if (rc == NGX_DECLINED) {
        if (why == NULL || *why == '\0') {
            ngx_http_portal_fuzz_fail("a definition refused without why");
        }

        if (sql) {
            ngx_http_portal_fuzz_fail("a definition that PostgreSQL accepts"
                                      " is left out of the catalog: %s", why);
        }

        ngx_snprintf((u_char *) line, NGX_HTTP_PORTAL_FUZZ_LINE,
                     "refused: %s; mirror: refused: %s%Z", why, mirror);
        goto done;
    }

    if (rc != NGX_OK) {
        ngx_http_portal_fuzz_fail("a compile that failed: %i", rc);
    }

    ngx_http_portal_fuzz_table(def, &form, sql);

    json = NULL;

    if (d && dlen) {
        /* as the module reads a body; "data" may be any value in it */

        json = json_loadb((const char *) d, dlen,
                          JSON_DECODE_ANY|JSON_REJECT_DUPLICATES, &err);

        if (json == NULL) {
            ngx_snprintf((u_char *) line, NGX_HTTP_PORTAL_FUZZ_LINE,
                         "%ui fields; data not JSON%Z", form.nfields);
            goto done;
        }
    }

    ngx_http_portal_fuzz_check(pool, &form, sql, json, line);

    if (json) {
        json_decref(json);
    }

done:

    ngx_destroy_pool(pool);
    json_decref(def);
}


static void
ngx_http_portal_fuzz_check(ngx_pool_t *pool, ngx_http_portal_form_t *form,
    ngx_uint_t sql, json_t *data, char *line)
{
    char                     *p, *end;
    json_t                   *clean, *back;
    ngx_int_t                 rc, status;
    ngx_str_t                 text;
    ngx_http_request_t        r;
    ngx_http_portal_check_t   ck;

    if (ngx_http_portal_check_init(&ck, pool) != NGX_OK) {
        ngx_http_portal_fuzz_fail("out of memory");
    }

    clean = ngx_http_portal_check_clean(&ck);
    if (clean == NULL) {
        ngx_http_portal_fuzz_fail("out of memory");
    }

    ngx_http_portal_form_check(&ck, form, data, 0, clean);

    /* a message of an error is cut at a byte: then only a 500 */

    if (ck.failed) {
        if (sql) {
            ngx_http_portal_fuzz_fail("a check that failed, of a definition"
                                      " that PostgreSQL accepts");
        }

        ngx_snprintf((u_char *) line, NGX_HTTP_PORTAL_FUZZ_LINE,
                     "%ui fields; check failed%Z", form->nfields);
        return;
    }

    ngx_http_portal_fuzz_errors(form, data, ck.errors);
    ngx_http_portal_fuzz_clean(pool, form, data, ck.errors, clean);

    /* the answer of the handler */

    ngx_memzero(&r, sizeof(ngx_http_request_t));
    ngx_http_portal_fuzz_sent = NULL;
    status = 0;

    rc = ngx_http_portal_check_done(&r, &ck, "Le formulaire est à corriger.",
                                    &status);

    if (json_object_size(ck.errors) == 0) {
        if (rc != NGX_OK) {
            ngx_http_portal_fuzz_fail("no error, yet no go");
        }

    } else if (rc != NGX_ERROR || status != NGX_HTTP_PORTAL_FUZZ_SENT
               || ngx_http_portal_fuzz_sent != ck.errors)
    {
        ngx_http_portal_fuzz_fail("errors, yet not their 422");
    }

    /* the text that the SQL function receives */

    if (ngx_http_portal_check_text(pool, clean, &text) != NGX_OK) {
        ngx_http_portal_fuzz_fail("clean that does not go to text");
    }

    back = json_loadb((char *) text.data, text.len, JSON_REJECT_DUPLICATES,
                      NULL);

    if (back == NULL || !json_equal(back, clean)
        || text.data[text.len] != '\0')
    {
        ngx_http_portal_fuzz_fail("clean that does not come back from its"
                                  " text: %s", text.data);
    }

    json_decref(back);

    if (sql) {
        ngx_http_portal_fuzz_answers(pool, form);
    }

    p = line;
    end = line + NGX_HTTP_PORTAL_FUZZ_LINE;

    p += snprintf(p, end - p, "%u fields%s%s; mirror: %s; ",
                  (unsigned) form->nfields,
                  form->member ? " + member " : "",
                  form->member ? form->member : "",
                  sql ? "accepted" : "refused");

    if (data == NULL) {
        p += snprintf(p, end - p, "no data; ");
    }

    if (json_object_size(ck.errors)) {
        p += snprintf(p, end - p, "errors");
        ngx_http_portal_fuzz_list(p, end - p, ck.errors);
        p += strlen(p);

    } else {
        p += snprintf(p, end - p, "no error");
    }

    p += snprintf(p, end - p, "; clean");

    if (json_object_size(clean)) {
        ngx_http_portal_fuzz_list(p, end - p, clean);

    } else {
        snprintf(p, end - p, " empty");
    }
}


/* the table: what every table holds, and what PostgreSQL's check says */

static void
ngx_http_portal_fuzz_table(json_t *def, ngx_http_portal_form_t *form,
    ngx_uint_t sql)
{
    size_t                    i, j, n;
    json_t                   *e, *v, *min, *max, *options;
    double                    d;
    ngx_int_t                 length, day;
    ngx_uint_t                kind, flags, required, prefill;
    const char               *name, *type;
    ngx_http_portal_field_t  *f;

    for (n = 0, f = form->fields; f->name; n++, f++) {

        if (n >= json_array_size(def)) {
            ngx_http_portal_fuzz_fail("a table of more fields than its"
                                      " definition");
        }

        if (f->kind < NGX_HTTP_PORTAL_TEXT
            || f->kind > NGX_HTTP_PORTAL_NUMBER
            || f->kind == NGX_HTTP_PORTAL_OBJECT
            || f->kind == NGX_HTTP_PORTAL_LIST
            || f->fields != NULL
            || f->offset != NGX_HTTP_PORTAL_NO_OFFSET)
        {
            ngx_http_portal_fuzz_fail("field %s: a kind of no form", f->name);
        }

        if (!ngx_http_portal_fuzz_message(f->missing)
            || (f->invalid && !ngx_http_portal_fuzz_message(f->invalid)))
        {
            ngx_http_portal_fuzz_fail("field %s: a message that is none",
                                      f->name);
        }

        if (f->kind == NGX_HTTP_PORTAL_ENUM
            && (f->options == NULL || f->options[0] == NULL))
        {
            ngx_http_portal_fuzz_fail("field %s: a select of no option",
                                      f->name);
        }
    }

    if (n != form->nfields
        || n + (form->member != NULL) != json_array_size(def))
    {
        ngx_http_portal_fuzz_fail("%uz fields in the table, %uz in the"
                                  " definition", n, json_array_size(def));
    }

    if (!sql) {
        return;
    }

    /* as the definition says it */

    f = form->fields;

    json_array_foreach(def, i, e) {
        name = json_string_value(json_object_get(e, "name"));
        type = json_string_value(json_object_get(e, "type"));
        required = json_is_true(json_object_get(e, "required"));
        prefill = (json_object_get(e, "prefill") != NULL);

        if (ngx_strcmp(type, "member") == 0) {
            v = json_object_get(e, "member_kind");

            if (form->member == NULL || ngx_strcmp(form->member, name) != 0
                || form->member_required != required
                || (v == NULL) != (form->member_kind == NULL)
                || (v && ngx_strcmp(form->member_kind,
                                    json_string_value(v)) != 0))
            {
                ngx_http_portal_fuzz_fail("member %s: not as defined", name);
            }

            continue;
        }

        if (ngx_strcmp(f->name, name) != 0) {
            ngx_http_portal_fuzz_fail("field %s: %s in the table", name,
                                      f->name);
        }

        length = -1;

        if (ngx_strcmp(type, "text") == 0) {
            kind = NGX_HTTP_PORTAL_TEXT;
            length = 500;

        } else if (ngx_strcmp(type, "textarea") == 0) {
            kind = NGX_HTTP_PORTAL_LINES;
            length = 5000;

        } else if (ngx_strcmp(type, "email") == 0) {
            kind = NGX_HTTP_PORTAL_EMAIL;
            length = 254;

        } else if (ngx_strcmp(type, "tel") == 0) {
            kind = NGX_HTTP_PORTAL_PHONE;
            length = 30;

        } else if (ngx_strcmp(type, "date") == 0) {
            kind = NGX_HTTP_PORTAL_DATE;

        } else if (ngx_strcmp(type, "number") == 0) {
            kind = NGX_HTTP_PORTAL_NUMBER;

        } else if (ngx_strcmp(type, "select") == 0) {
            kind = NGX_HTTP_PORTAL_ENUM;

        } else {
            kind = NGX_HTTP_PORTAL_BOOLEAN;
        }

        v = json_object_get(e, "max_length");

        if (v) {
            length = (ngx_int_t) json_number_value(v);
        }

        flags = NGX_HTTP_PORTAL_DEFAULT;

        if (required && !prefill) {
            flags |= NGX_HTTP_PORTAL_REQUIRED;
        }

        if (required && kind == NGX_HTTP_PORTAL_BOOLEAN) {
            flags |= NGX_HTTP_PORTAL_TICKED;
        }

        min = json_object_get(e, "min");
        max = json_object_get(e, "max");

        if (min) {
            flags |= NGX_HTTP_PORTAL_MIN;
        }

        if (max) {
            flags |= NGX_HTTP_PORTAL_MAX;
        }

        if (kind == NGX_HTTP_PORTAL_DATE && json_is_number(min)) {
            flags |= NGX_HTTP_PORTAL_MIN_DAYS;
        }

        if (kind == NGX_HTTP_PORTAL_DATE && json_is_number(max)) {
            flags |= NGX_HTTP_PORTAL_MAX_DAYS;
        }

        if (f->kind != kind || f->flags != flags
            || (length >= 0 && f->max != length))
        {
            ngx_http_portal_fuzz_fail("field %s: kind %ui, flags %ui, max %i;"
                                      " defined: kind %ui, flags %ui,"
                                      " max %i", name, f->kind, f->flags,
                                      f->max, kind, flags, length);
        }

        /* the bounds, in thousandths or in days */

        for (j = 0; j < 2; j++) {
            v = j ? max : min;

            if (v == NULL) {
                continue;
            }

            if (kind == NGX_HTTP_PORTAL_NUMBER) {
                d = json_number_value(v) * 1000;

                if (d > -1e15 && d < 1e15
                    && fabs(d - (double) (j ? f->max : f->min)) > 0.5)
                {
                    ngx_http_portal_fuzz_fail("field %s: a bound of %i"
                                              " thousandths, not as defined",
                                              name, j ? f->max : f->min);
                }

                continue;
            }

            day = json_is_number(v)
                  ? (ngx_int_t) json_number_value(v)
                  : ngx_http_portal_text_date_days(json_string_value(v));

            if (day != (j ? f->max : f->min)) {
                ngx_http_portal_fuzz_fail("field %s: a bound of day %i for"
                                          " %i", name, j ? f->max : f->min,
                                          day);
            }
        }

        if (kind == NGX_HTTP_PORTAL_ENUM) {
            options = json_object_get(e, "options");

            for (j = 0; f->options[j]; j++) {
                v = json_array_get(options, j);

                if (v == NULL
                    || ngx_strcmp(f->options[j],
                                  json_string_value(json_object_get(v,
                                                             "value"))) != 0)
                {
                    ngx_http_portal_fuzz_fail("field %s: option %uz is not"
                                              " as defined", name, j);
                }
            }

            if (j != json_array_size(options)) {
                ngx_http_portal_fuzz_fail("field %s: %uz options of %uz",
                                          name, j,
                                          json_array_size(options));
            }
        }

        f++;
    }
}


/* every error at "data", or at the path of a field */

static void
ngx_http_portal_fuzz_errors(ngx_http_portal_form_t *form, json_t *data,
    json_t *errors)
{
    char                      path[NGX_HTTP_PORTAL_FUZZ_PATH];
    json_t                   *v;
    const char               *key;
    ngx_http_portal_field_t  *f;

    json_object_foreach(errors, key, v) {

        if (!ngx_http_portal_fuzz_message(json_string_value(v))) {
            ngx_http_portal_fuzz_fail("%s: an error without a message", key);
        }

        if (ngx_strcmp(key, "data") == 0) {
            if (data == NULL || json_is_null(data) || json_is_object(data)) {
                ngx_http_portal_fuzz_fail("an error at data, which is an"
                                          " object or none");
            }

            continue;
        }

        for (f = form->fields; f->name; f++) {
            ngx_http_portal_fuzz_path(path, f->name);

            if (ngx_strcmp(path, key) == 0) {
                break;
            }
        }

        if (f->name == NULL) {
            ngx_http_portal_fuzz_fail("an error at %s, of no field", key);
        }
    }

    if (data && !json_is_null(data) && !json_is_object(data)
        && (json_object_size(errors) != 1
            || json_object_get(errors, "data") == NULL))
    {
        ngx_http_portal_fuzz_fail("data that is no object, not said so");
    }
}


/* what clean holds, field by field */

static void
ngx_http_portal_fuzz_clean(ngx_pool_t *pool, ngx_http_portal_form_t *form,
    json_t *data, json_t *errors, json_t *clean)
{
    char                      path[NGX_HTTP_PORTAL_FUZZ_PATH];
    json_t                   *v, *c;
    ssize_t                   n;
    ngx_uint_t                unique, error, kept, blank, type;
    const char               *key, *const *o;
    ngx_http_portal_field_t  *f;

    json_object_foreach(clean, key, v) {
        for (f = form->fields; f->name; f++) {
            if (ngx_strcmp(f->name, key) == 0) {
                break;
            }
        }

        if (f->name == NULL) {
            ngx_http_portal_fuzz_fail("%s in clean, of no field", key);
        }
    }

    if (!json_is_object(data)) {
        if (json_object_size(clean)
            && data && !json_is_null(data))
        {
            ngx_http_portal_fuzz_fail("clean from data that is no object");
        }
    }

    unique = 1;

    for (f = form->fields; f->name; f++) {

        if (!ngx_http_portal_fuzz_unique(form, f)) {
            unique = 0;
            continue;
        }

        v = json_is_object(data) ? json_object_get(data, f->name) : NULL;
        c = json_object_get(clean, f->name);

        ngx_http_portal_fuzz_path(path, f->name);

        error = (json_object_get(errors, path) != NULL);
        kept = (c != NULL);

        if (data && !json_is_null(data) && !json_is_object(data)) {
            continue;
        }

        blank = ngx_http_portal_fuzz_blank(f, v);

        if (blank) {
            if (kept) {
                ngx_http_portal_fuzz_fail("%s: an empty answer kept",
                                          f->name);
            }

            if (error != ((f->flags & NGX_HTTP_PORTAL_REQUIRED) != 0)) {
                ngx_http_portal_fuzz_fail(error
                                          ? "%s: an empty answer refused"
                                          : "%s: a required answer missing,"
                                            " not said so", f->name);
            }

            continue;
        }

        if (error == kept) {
            ngx_http_portal_fuzz_fail(error ? "%s: an answer refused and kept"
                                            : "%s: an answer neither refused"
                                              " nor kept", f->name);
        }

        if (!kept) {
            continue;
        }

        /* of the type of its field */

        switch (f->kind) {

        case NGX_HTTP_PORTAL_NUMBER:
            type = json_is_number(c);
            break;

        case NGX_HTTP_PORTAL_BOOLEAN:
            type = json_is_boolean(c)
                   && !((f->flags & NGX_HTTP_PORTAL_TICKED)
                        && (f->flags & NGX_HTTP_PORTAL_REQUIRED)
                        && !json_is_true(c));
            break;

        case NGX_HTTP_PORTAL_ENUM:
            type = 0;

            for (o = f->options; json_is_string(c) && *o; o++) {
                if (ngx_strcmp(*o, json_string_value(c)) == 0) {
                    type = 1;
                }
            }

            break;

        default:
            n = json_is_string(c)
                ? ngx_http_portal_text_lines_len(
                                  (u_char *) json_string_value(c),
                                  json_string_length(c))
                : -1;

            /*
             * an address is as long as typed, its ASCII form longer; a
             * date's max is a day
             */

            type = n > 0 && (f->kind == NGX_HTTP_PORTAL_EMAIL
                             || f->kind == NGX_HTTP_PORTAL_DATE
                             || n <= f->max);
            break;
        }

        if (!type) {
            ngx_http_portal_fuzz_fail("%s: a value of clean not of its"
                                      " field", f->name);
        }
    }

    if (unique) {
        ngx_http_portal_fuzz_again(pool, form, clean);
    }
}


/* clean, checked again: no error, the same values */

static void
ngx_http_portal_fuzz_again(ngx_pool_t *pool, ngx_http_portal_form_t *form,
    json_t *clean)
{
    json_t                   *again;
    ngx_uint_t                n;
    ngx_http_portal_field_t  *fields, *f;
    ngx_http_portal_check_t   ck;

    if (ngx_http_portal_check_init(&ck, pool) != NGX_OK) {
        ngx_http_portal_fuzz_fail("out of memory");
    }

    again = ngx_http_portal_check_clean(&ck);
    if (again == NULL) {
        ngx_http_portal_fuzz_fail("out of memory");
    }

    /* the limit of an address counts what was typed, not its ASCII form */

    fields = ngx_pcalloc(pool, (form->nfields + 1)
                               * sizeof(ngx_http_portal_field_t));
    if (fields == NULL) {
        ngx_http_portal_fuzz_fail("out of memory");
    }

    for (n = 0, f = form->fields; f->name; n++, f++) {
        fields[n] = *f;

        if (f->kind == NGX_HTTP_PORTAL_EMAIL) {
            fields[n].max = 0;
        }
    }

    fields[n].offset = NGX_HTTP_PORTAL_NO_OFFSET;

    /* partial: what a required field lacks was said the first time */

    ngx_http_portal_check(&ck, clean, fields, "data", 1, NULL, again);

    if (json_object_size(ck.errors) || ck.failed) {
        ngx_http_portal_fuzz_fail("clean refused when checked again: %s",
                                  ck.failed ? "failed"
                                  : json_object_iter_key(
                                        json_object_iter(ck.errors)));
    }

    if (!json_equal(clean, again)) {
        ngx_http_portal_fuzz_fail("clean changed when checked again");
    }
}


/* the answers that a definition allows, made from its table */

static void
ngx_http_portal_fuzz_answers(ngx_pool_t *pool, ngx_http_portal_form_t *form)
{
    char                      path[NGX_HTTP_PORTAL_FUZZ_PATH];
    json_t                   *data, *v, *clean, *error;
    ngx_uint_t                n;
    ngx_http_portal_field_t  *f;
    ngx_http_portal_check_t   ck;

    data = json_object();
    if (data == NULL) {
        ngx_http_portal_fuzz_fail("out of memory");
    }

    for (n = 0, f = form->fields; f->name; n++, f++) {
        v = ngx_http_portal_fuzz_answer(f, n);

        if (v && json_object_set_new(data, f->name, v) != 0) {
            ngx_http_portal_fuzz_fail("out of memory");
        }
    }

    if (ngx_http_portal_check_init(&ck, pool) != NGX_OK) {
        ngx_http_portal_fuzz_fail("out of memory");
    }

    clean = ngx_http_portal_check_clean(&ck);
    if (clean == NULL) {
        ngx_http_portal_fuzz_fail("out of memory");
    }

    ngx_http_portal_form_check(&ck, form, data, 0, clean);

    for (f = form->fields; f->name; f++) {
        v = json_object_get(data, f->name);

        if (v == NULL) {
            continue;
        }

        ngx_http_portal_fuzz_path(path, f->name);
        error = json_object_get(ck.errors, path);

        if (error || json_object_get(clean, f->name) == NULL) {
            ngx_http_portal_fuzz_fail("%s: an answer that its definition"
                                      " allows is refused: %s (%s)",
                                      f->name,
                                      json_is_string(v) ? json_string_value(v)
                                                        : "not a string",
                                      error ? json_string_value(error)
                                            : "not kept");
        }
    }

    json_decref(data);
}


static json_t *
ngx_http_portal_fuzz_answer(ngx_http_portal_field_t *f, ngx_uint_t n)
{
    switch (f->kind) {

    case NGX_HTTP_PORTAL_TEXT:
    case NGX_HTTP_PORTAL_LINES:
        return ngx_http_portal_fuzz_text(f);

    case NGX_HTTP_PORTAL_EMAIL:
        /* counted as typed, in characters */
        return json_string(f->max >= 11 ? "a@écoles.fr"
                           : f->max >= 6 ? "a@b.fr" : NULL);

    case NGX_HTTP_PORTAL_PHONE:
        return json_string(f->max >= 17 ? "+33 1 23 45 67 89"
                           : f->max >= 10 ? "0123456789" : NULL);

    case NGX_HTTP_PORTAL_DATE:
        return ngx_http_portal_fuzz_date(f);

    case NGX_HTTP_PORTAL_NUMBER:
        return ngx_http_portal_fuzz_number(f, n);

    case NGX_HTTP_PORTAL_ENUM:
        return json_string(f->options[0]);

    case NGX_HTTP_PORTAL_BOOLEAN:
        return json_true();

    default:
        return NULL;
    }
}


/* as many characters as allowed, some of two bytes, a line break */

static json_t *
ngx_http_portal_fuzz_text(ngx_http_portal_field_t *f)
{
    u_char     *s, *p;
    json_t     *v;
    ngx_int_t   i;

    if (f->max < 1 || f->max > 100000) {
        return NULL;
    }

    s = malloc(f->max * 2 + 1);
    if (s == NULL) {
        ngx_http_portal_fuzz_fail("out of memory");
    }

    for (p = s, i = 0; i < f->max; i++) {
        if (i % 3 == 2) {
            p = ngx_cpymem(p, "é", 2);

        } else {
            *p++ = (f->kind == NGX_HTTP_PORTAL_LINES && i == 1) ? '\n' : 'a';
        }
    }

    *p = '\0';

    v = json_string((char *) s);
    free(s);

    return v;
}


/* a date at its lower bound, else at its upper one, else today */

static json_t *
ngx_http_portal_fuzz_date(ngx_http_portal_field_t *f)
{
    u_char     dmy[16], ymd[16];
    ngx_int_t  today, lo, hi, day;

    today = ngx_http_portal_text_today();
    lo = ngx_http_portal_text_days(1900, 1, 1);
    hi = ngx_http_portal_text_days(9999, 12, 31);

    if (f->flags & NGX_HTTP_PORTAL_MIN) {
        day = f->min + ((f->flags & NGX_HTTP_PORTAL_MIN_DAYS) ? today : 0);
        lo = ngx_max(lo, day);
    }

    if (f->flags & NGX_HTTP_PORTAL_MAX) {
        day = f->max + ((f->flags & NGX_HTTP_PORTAL_MAX_DAYS) ? today : 0);
        hi = ngx_min(hi, day);
    }

    if (lo > hi) {
        return NULL;
    }

    day = (f->flags & NGX_HTTP_PORTAL_MIN) ? lo
          : (f->flags & NGX_HTTP_PORTAL_MAX) ? hi
          : ngx_min(ngx_max(today, lo), hi);

    /* "DD/MM/YYYY" to "YYYY-MM-DD" */

    ngx_http_portal_text_day(day, dmy);
    ngx_sprintf(ymd, "%*s-%*s-%*s%Z", (size_t) 4, dmy + 6, (size_t) 2, dmy + 3,
                (size_t) 2, dmy);

    return json_string((char *) ymd);
}


/* a number at a bound, as JSON gives it or as a person types it */

static json_t *
ngx_http_portal_fuzz_number(ngx_http_portal_field_t *f, ngx_uint_t n)
{
    char        buf[64];
    ngx_int_t   v, a;
    ngx_uint_t  min, max;

    min = f->flags & NGX_HTTP_PORTAL_MIN;
    max = f->flags & NGX_HTTP_PORTAL_MAX;

    if (min && max && f->min > f->max) {
        return NULL;
    }

    v = min ? f->min : max ? f->max : 2500;

    /* the check takes up to 15 digits */

    if (v > 999999999999 || v < -999999999999) {
        return NULL;
    }

    if (n % 2 == 0) {
        return json_real((double) v / 1000);
    }

    a = v < 0 ? -v : v;

    snprintf(buf, sizeof(buf), "%s%lld,%03lld", v < 0 ? "-" : "",
             (long long) (a / 1000), (long long) (a % 1000));

    return json_string(buf);
}


/* one field of this name, whose paths are never cut */

static ngx_uint_t
ngx_http_portal_fuzz_unique(ngx_http_portal_form_t *form,
    ngx_http_portal_field_t *f)
{
    ngx_http_portal_field_t  *o;

    if (ngx_strlen(f->name) > NGX_HTTP_PORTAL_FUZZ_NAME) {
        return 0;
    }

    for (o = form->fields; o->name; o++) {
        if (o != f && ngx_strcmp(o->name, f->name) == 0) {
            return 0;
        }
    }

    return 1;
}


/* no answer: left out, null, "" (a number: spaces) */

static ngx_uint_t
ngx_http_portal_fuzz_blank(ngx_http_portal_field_t *f, json_t *v)
{
    size_t       i, len;
    const char  *s;

    if (v == NULL || json_is_null(v)) {
        return 1;
    }

    if (!json_is_string(v) || f->kind == NGX_HTTP_PORTAL_BOOLEAN) {
        return 0;
    }

    s = json_string_value(v);
    len = json_string_length(v);

    if (f->kind != NGX_HTTP_PORTAL_NUMBER) {
        return len == 0;
    }

    for (i = 0; i < len; i++) {
        if (s[i] != ' ') {
            return 0;
        }
    }

    return 1;
}


static void
ngx_http_portal_fuzz_path(char *path, const char *name)
{
    /* as check.c makes it: cut at NGX_HTTP_PORTAL_PATH_MAX - 1 bytes */
    snprintf(path, NGX_HTTP_PORTAL_FUZZ_PATH, "data.%s", name);
}


/* a message for the page: UTF-8 text, not empty */

static ngx_uint_t
ngx_http_portal_fuzz_message(const char *s)
{
    return s && ngx_http_portal_text_utf8_len((u_char *) s, ngx_strlen(s)) > 0;
}


/*
 * portal_internal.fields_valid of sql/005_catalog.sql, in C: NULL when it
 * accepts the definition, else why not.  Two differences, said where they
 * are: the compiler's own limit of 100 fields, and a name must be a JSON
 * string (SQL takes true and false as names).
 */

static const char *
ngx_http_portal_fuzz_sql(json_t *def)
{
    size_t       i, members;
    json_t      *f;
    const char  *why;

    if (!json_is_array(def)) {
        return "the fields are not an array";
    }

    /* the compiler's limit, which PostgreSQL does not check */

    if (json_array_size(def) > 100) {
        return "more than 100 fields";
    }

    /* jsonb refuses \u0000 */

    if (ngx_http_portal_fuzz_nul(def)) {
        return "a NUL in a string";
    }

    members = 0;

    json_array_foreach(def, i, f) {
        why = ngx_http_portal_fuzz_sql_field(def, i, f);

        if (why) {
            return why;
        }

        members += (ngx_strcmp(json_string_value(json_object_get(f, "type")),
                               "member") == 0);
    }

    if (members > 1) {
        return "a form has one member field at most";
    }

    return NULL;
}


static const char *
ngx_http_portal_fuzz_sql_field(json_t *def, size_t i, json_t *f)
{
    size_t       j, k, len;
    json_t      *v, *o, *min, *max, *options;
    ngx_uint_t   select, number, date;
    const char  *key, *name, *t, *s;

    static const char *const  keys[] = {
        "name", "label", "type", "required", "options", "min", "max",
        "max_length", "member_kind", "prefill", "hint", NULL
    };

    static const char *const  types[] = {
        "text", "textarea", "date", "email", "tel", "number", "select",
        "checkbox", "member", NULL
    };

    static const char *const  texts[] = {
        "text", "textarea", "date", "email", "tel", NULL
    };

    static const char *const  lengths[] = {
        "text", "textarea", "email", "tel", NULL
    };

    static const char *const  kinds[] = { "adult", "child", NULL };

    static const char *const  prefills[] = {
        "holder.first_name", "holder.last_name", "holder.birth_date",
        "holder.email", "holder.phone", "holder.address",
        "member.first_name", "member.last_name", "member.birth_date", NULL
    };

    if (!json_is_object(f)) {
        return "a field is not an object";
    }

    json_object_foreach(f, key, v) {
        if (!ngx_http_portal_fuzz_in(key, keys)) {
            return "unknown keys";
        }
    }

    /* ^[a-z][a-z0-9_]{0,62}$, of a string (SQL's ->> makes true "true") */

    name = json_string_value(json_object_get(f, "name"));
    len = name ? ngx_strlen(name) : 0;

    if (len < 1 || len > 63 || name[0] < 'a' || name[0] > 'z') {
        return "a name is [a-z][a-z0-9_]*";
    }

    for (j = 1; j < len; j++) {
        if (!((name[j] >= 'a' && name[j] <= 'z')
              || (name[j] >= '0' && name[j] <= '9') || name[j] == '_'))
        {
            return "a name is [a-z][a-z0-9_]*";
        }
    }

    for (j = 0; j < i; j++) {
        s = json_string_value(json_object_get(json_array_get(def, j),
                                              "name"));

        if (s && ngx_strcmp(s, name) == 0) {
            return "its name is taken";
        }
    }

    v = json_object_get(f, "label");

    if (!json_is_string(v) || json_string_length(v) == 0) {
        return "no label";
    }

    t = json_string_value(json_object_get(f, "type"));

    if (t == NULL || !ngx_http_portal_fuzz_in(t, types)) {
        return "unknown type";
    }

    if (!json_is_boolean(json_object_get(f, "required"))) {
        return "required is true or false";
    }

    v = json_object_get(f, "hint");

    if (v && !json_is_string(v)) {
        return "a hint is text";
    }

    select = (ngx_strcmp(t, "select") == 0);
    number = (ngx_strcmp(t, "number") == 0);
    date = (ngx_strcmp(t, "date") == 0);

    options = json_object_get(f, "options");

    if (select != (options != NULL)) {
        return "options are for a select, which needs them";
    }

    if (select) {
        if (!json_is_array(options) || json_array_size(options) == 0) {
            return "options are a non-empty array";
        }

        json_array_foreach(options, j, o) {
            if (!json_is_object(o) || json_object_size(o) != 2
                || !json_is_string(json_object_get(o, "value"))
                || !json_is_string(json_object_get(o, "label"))
                || json_string_length(json_object_get(o, "value")) == 0
                || json_string_length(json_object_get(o, "label")) == 0)
            {
                return "an option is {value, label}, both text";
            }

            for (k = 0; k < j; k++) {
                if (ngx_strcmp(json_string_value(json_object_get(o, "value")),
                               json_string_value(json_object_get(
                                   json_array_get(options, k), "value")))
                    == 0)
                {
                    return "option values repeat";
                }
            }
        }
    }

    min = json_object_get(f, "min");
    max = json_object_get(f, "max");

    if ((min || max) && !number && !date) {
        return "min and max are for numbers and dates";
    }

    if (number
        && ((min && !json_is_number(min)) || (max && !json_is_number(max))
            || (min && max
                && json_number_value(min) > json_number_value(max))))
    {
        return "min and max of a number are numbers, min <= max";
    }

    if (date) {
        if ((min && !ngx_http_portal_fuzz_sql_date(min))
            || (max && !ngx_http_portal_fuzz_sql_date(max)))
        {
            return "min and max of a date are YYYY-MM-DD or whole days";
        }

        if (min && max && json_is_number(min) && json_is_number(max)
            && json_number_value(min) > json_number_value(max))
        {
            return "the min of a date comes after its max";
        }

        if (min && max && json_is_string(min) && json_is_string(max)
            && ngx_strcmp(json_string_value(min), json_string_value(max)) > 0)
        {
            return "the min of a date comes after its max";
        }
    }

    v = json_object_get(f, "max_length");

    if (v && (!ngx_http_portal_fuzz_in(t, lengths)
              || !ngx_http_portal_fuzz_whole(v, 1, 10000)))
    {
        return "max_length is a whole number of 1 to 10000 for text";
    }

    v = json_object_get(f, "member_kind");

    if (v && (ngx_strcmp(t, "member") != 0 || !json_is_string(v)
              || !ngx_http_portal_fuzz_in(json_string_value(v), kinds)))
    {
        return "member_kind is adult or child, for a member";
    }

    v = json_object_get(f, "prefill");

    if (v) {
        s = json_string_value(v);
        len = s ? ngx_strlen(s) : 0;

        if (!ngx_http_portal_fuzz_in(t, texts) || s == NULL
            || !ngx_http_portal_fuzz_in(s, prefills)
            || date != (len > 11
                        && ngx_strcmp(s + len - 11, ".birth_date") == 0))
        {
            return "prefill names a known value of the same kind";
        }
    }

    return NULL;
}


/*
 * Whole days (|n| <= 100000), or what portal_internal.is_date takes: a
 * date that PostgreSQL writes back the same as YYYY-MM-DD (years of four
 * digits here: "10000-01-01" too is one for PostgreSQL).
 */

static ngx_uint_t
ngx_http_portal_fuzz_sql_date(json_t *v)
{
    size_t       i;
    ngx_int_t    y, m, d, days;
    const char  *s;

    static const ngx_int_t  mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
                                        31, 30, 31 };

    if (json_is_number(v)) {
        return ngx_http_portal_fuzz_whole(v, -100000, 100000);
    }

    s = json_string_value(v);

    if (s == NULL || ngx_strlen(s) != 10 || s[4] != '-' || s[7] != '-') {
        return 0;
    }

    for (i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) {
            return 0;
        }
    }

    y = ngx_atoi((u_char *) s, 4);
    m = ngx_atoi((u_char *) s + 5, 2);
    d = ngx_atoi((u_char *) s + 8, 2);

    if (y < 1 || m < 1 || m > 12 || d < 1) {
        return 0;
    }

    days = mdays[m - 1];

    if (m == 2 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        days = 28;
    }

    return d <= days;
}


/* a NUL in a string or a key, anywhere */

static ngx_uint_t
ngx_http_portal_fuzz_nul(json_t *v)
{
    size_t       i, len;
    json_t      *e;
    const char  *key;

    if (json_is_string(v)) {
        return json_string_length(v) != ngx_strlen(json_string_value(v));
    }

    if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            if (ngx_http_portal_fuzz_nul(e)) {
                return 1;
            }
        }
    }

    if (json_is_object(v)) {
        json_object_keylen_foreach(v, key, len, e) {
            if (len != ngx_strlen(key) || ngx_http_portal_fuzz_nul(e)) {
                return 1;
            }
        }
    }

    return 0;
}


static ngx_uint_t
ngx_http_portal_fuzz_whole(json_t *v, double lo, double hi)
{
    double  d;

    if (!json_is_number(v)) {
        return 0;
    }

    d = json_number_value(v);

    return d >= lo && d <= hi && d == floor(d);
}


static ngx_uint_t
ngx_http_portal_fuzz_in(const char *s, const char *const *list)
{
    for ( /* void */ ; *list; list++) {
        if (ngx_strcmp(s, *list) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * " key=value key=value ...": an object on the line, each value as JSON
 * cut at NGX_HTTP_PORTAL_FUZZ_VALUE bytes (at a character) with "...", so
 * that t/fuzz/expected-form says what was refused and what was kept.
 */

static void
ngx_http_portal_fuzz_list(char *line, size_t size, json_t *obj)
{
    int          n;
    char        *s;
    size_t       len;
    json_t      *v;
    const char  *key, *more;

    json_object_foreach(obj, key, v) {
        s = json_dumps(v, JSON_ENCODE_ANY|JSON_COMPACT);
        if (s == NULL) {
            ngx_http_portal_fuzz_fail("out of memory");
        }

        len = strlen(s);
        more = "";

        if (len > NGX_HTTP_PORTAL_FUZZ_VALUE) {
            len = NGX_HTTP_PORTAL_FUZZ_VALUE;

            while (len && ((u_char) s[len] & 0xc0) == 0x80) {
                len--;
            }

            more = "...";
        }

        n = snprintf(line, size, " %s=%.*s%s", key, (int) len, s, more);
        free(s);

        if (n < 0 || (size_t) n >= size) {
            return;
        }

        line += n;
        size -= n;
    }
}


#ifdef NGX_HTTP_PORTAL_FUZZ_REPLAY

/*
 * Without libFuzzer: "file: what came of it" for each file, which
 * t/fuzz/run compares with t/fuzz/expected-form.
 */

int
main(int argc, char **argv)
{
    int          i;
    long         size;
    char         line[NGX_HTTP_PORTAL_FUZZ_LINE];
    FILE        *f;
    u_char      *data;
    const char  *name;

    ngx_http_portal_fuzz_init();

    for (i = 1; i < argc; i++) {
        f = fopen(argv[i], "rb");
        if (f == NULL || fseek(f, 0, SEEK_END) != 0
            || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        {
            perror(argv[i]);
            return 2;
        }

        data = malloc(size ? size : 1);
        if (data == NULL || fread(data, 1, size, f) != (size_t) size) {
            perror(argv[i]);
            return 2;
        }

        fclose(f);

        ngx_http_portal_fuzz_one(data, size, line);
        free(data);

        name = strrchr(argv[i], '/');
        name = name ? name + 1 : argv[i];

        printf("%s: %s\n", name, line);
    }

    return 0;
}

#endif
