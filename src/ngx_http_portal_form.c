
/*
 * Portail Citoyen: a procedure's form made into a field table (see the
 * header).  The catalog compiles each form once, when it is loaded; a
 * request is then checked with no work but the check itself.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_portal_form.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_text.h"


/* what a field of each type may hold when its definition sets no limit */
#define NGX_HTTP_PORTAL_FORM_TEXT      500
#define NGX_HTTP_PORTAL_FORM_TEXTAREA  5000
#define NGX_HTTP_PORTAL_FORM_EMAIL     254
#define NGX_HTTP_PORTAL_FORM_TEL       30

/* a form of more fields is not one a citizen fills */
#define NGX_HTTP_PORTAL_FORM_FIELDS    100


static ngx_int_t ngx_http_portal_form_field(ngx_pool_t *pool, json_t *def,
    ngx_http_portal_field_t *f, ngx_http_portal_form_t *form,
    const char **why);
static ngx_int_t ngx_http_portal_form_bounds(ngx_pool_t *pool, json_t *def,
    ngx_http_portal_field_t *f, const char **why);
static ngx_int_t ngx_http_portal_form_day(json_t *v, ngx_int_t *day,
    ngx_uint_t *relative);
static ngx_int_t ngx_http_portal_form_date(const char *s, ngx_int_t *day);
static ngx_int_t ngx_http_portal_form_milli(json_t *v);
static ngx_int_t ngx_http_portal_form_whole(json_t *v, ngx_int_t *n);
static ngx_int_t ngx_http_portal_form_options(ngx_pool_t *pool, json_t *def,
    ngx_http_portal_field_t *f);
static const char *ngx_http_portal_form_string(ngx_pool_t *pool,
    const char *s);
static const char *ngx_http_portal_form_printf(ngx_pool_t *pool,
    const char *fmt, ...);
static u_char *ngx_http_portal_form_decimal(u_char *p, ngx_int_t milli);


ngx_int_t
ngx_http_portal_form_compile(ngx_pool_t *pool, json_t *def,
    ngx_http_portal_form_t *form, const char **why)
{
    size_t                    i;
    json_t                   *item;
    ngx_int_t                 rc;
    ngx_http_portal_field_t  *f;

    ngx_memzero(form, sizeof(ngx_http_portal_form_t));

    if (!json_is_array(def)
        || json_array_size(def) > NGX_HTTP_PORTAL_FORM_FIELDS)
    {
        *why = "the fields are not an array of at most 100";
        return NGX_DECLINED;
    }

    form->fields = ngx_pcalloc(pool, (json_array_size(def) + 1)
                                     * sizeof(ngx_http_portal_field_t));
    if (form->fields == NULL) {
        return NGX_ERROR;
    }

    f = form->fields;

    json_array_foreach(def, i, item) {
        rc = ngx_http_portal_form_field(pool, item, f, form, why);

        if (rc == NGX_DONE) {
            /* the member picker: not a key of the data */
            continue;
        }

        if (rc != NGX_OK) {
            return rc;
        }

        f++;
        form->nfields++;
    }

    f->offset = NGX_HTTP_PORTAL_NO_OFFSET;

    return NGX_OK;
}


static ngx_int_t
ngx_http_portal_form_field(ngx_pool_t *pool, json_t *def,
    ngx_http_portal_field_t *f, ngx_http_portal_form_t *form,
    const char **why)
{
    json_t      *v;
    ngx_int_t    max;
    ngx_uint_t   required;
    const char  *name, *type;

    name = json_string_value(json_object_get(def, "name"));
    type = json_string_value(json_object_get(def, "type"));

    if (name == NULL || type == NULL) {
        *why = "a field without a name or a type";
        return NGX_DECLINED;
    }

    required = json_is_true(json_object_get(def, "required"));

    if (ngx_strcmp(type, "member") == 0) {
        if (form->member) {
            *why = "two member pickers";
            return NGX_DECLINED;
        }

        form->member = ngx_http_portal_form_string(pool, name);
        form->member_kind = json_string_value(json_object_get(def,
                                                              "member_kind"));
        if (form->member_kind) {
            form->member_kind = ngx_http_portal_form_string(pool,
                                                            form->member_kind);
        }

        form->member_required = required;

        return form->member ? NGX_DONE : NGX_ERROR;
    }

    f->name = ngx_http_portal_form_string(pool, name);
    f->offset = NGX_HTTP_PORTAL_NO_OFFSET;

    /* a value left out comes from the holder or the member: SQL fills it */

    if (required && json_object_get(def, "prefill") == NULL) {
        f->flags |= NGX_HTTP_PORTAL_REQUIRED;
    }

    /* "" is no value, as a field left empty */
    f->flags |= NGX_HTTP_PORTAL_DEFAULT;

    v = json_object_get(def, "max_length");
    max = 0;

    if (v && (ngx_http_portal_form_whole(v, &max) != NGX_OK || max < 0)) {
        *why = "a max_length that is no whole number of characters";
        return NGX_DECLINED;
    }

    if (ngx_strcmp(type, "text") == 0 || ngx_strcmp(type, "textarea") == 0) {
        f->kind = (type[4] == '\0') ? NGX_HTTP_PORTAL_TEXT
                                    : NGX_HTTP_PORTAL_LINES;
        f->max = max ? max : (f->kind == NGX_HTTP_PORTAL_TEXT
                              ? NGX_HTTP_PORTAL_FORM_TEXT
                              : NGX_HTTP_PORTAL_FORM_TEXTAREA);
        f->missing = ngx_http_portal_form_printf(pool,
                                                NGX_HTTP_PORTAL_M_FORM_TEXT,
                                                f->max);

    } else if (ngx_strcmp(type, "email") == 0) {
        f->kind = NGX_HTTP_PORTAL_EMAIL;
        f->max = max ? max : NGX_HTTP_PORTAL_FORM_EMAIL;
        f->missing = NGX_HTTP_PORTAL_M_EMAIL;
        f->invalid = NGX_HTTP_PORTAL_M_EMAIL_FORM;

    } else if (ngx_strcmp(type, "tel") == 0) {
        f->kind = NGX_HTTP_PORTAL_PHONE;
        f->max = max ? max : NGX_HTTP_PORTAL_FORM_TEL;
        f->missing = NGX_HTTP_PORTAL_M_FORM_TEL;
        f->invalid = NGX_HTTP_PORTAL_M_PHONE_FORM;

    } else if (ngx_strcmp(type, "date") == 0) {
        f->kind = NGX_HTTP_PORTAL_DATE;
        f->missing = NGX_HTTP_PORTAL_M_FORM_DATE;
        f->invalid = NGX_HTTP_PORTAL_M_FORM_DATE_FORM;

        if (ngx_http_portal_form_bounds(pool, def, f, why) != NGX_OK) {
            return NGX_DECLINED;
        }

    } else if (ngx_strcmp(type, "number") == 0) {
        f->kind = NGX_HTTP_PORTAL_NUMBER;
        f->missing = NGX_HTTP_PORTAL_M_FORM_NUMBER;

        if (ngx_http_portal_form_bounds(pool, def, f, why) != NGX_OK) {
            return NGX_DECLINED;
        }

    } else if (ngx_strcmp(type, "select") == 0) {
        f->kind = NGX_HTTP_PORTAL_ENUM;
        f->missing = NGX_HTTP_PORTAL_M_FORM_SELECT;

        if (ngx_http_portal_form_options(pool, def, f) != NGX_OK) {
            *why = "a select without options";
            return NGX_DECLINED;
        }

    } else if (ngx_strcmp(type, "checkbox") == 0) {
        f->kind = NGX_HTTP_PORTAL_BOOLEAN;
        f->missing = NGX_HTTP_PORTAL_M_FORM_CHECKBOX;

        if (required) {
            f->flags |= NGX_HTTP_PORTAL_TICKED;
        }

    } else {
        *why = "a field of an unknown type";
        return NGX_DECLINED;
    }

    if (f->name == NULL || f->missing == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * min and max of a number (thousandths) or of a date (a date, or days
 * from the day of the request); the number's message says them.
 */

static ngx_int_t
ngx_http_portal_form_bounds(ngx_pool_t *pool, json_t *def,
    ngx_http_portal_field_t *f, const char **why)
{
    u_char       from[32], to[32], *p, *q;
    json_t      *min, *max;
    ngx_uint_t   relative;

    min = json_object_get(def, "min");
    max = json_object_get(def, "max");

    if (f->kind == NGX_HTTP_PORTAL_DATE) {

        if (min) {
            if (ngx_http_portal_form_day(min, &f->min, &relative) != NGX_OK) {
                *why = "a date's min is neither a date nor days";
                return NGX_ERROR;
            }

            f->flags |= NGX_HTTP_PORTAL_MIN
                        | (relative ? NGX_HTTP_PORTAL_MIN_DAYS : 0);
        }

        if (max) {
            if (ngx_http_portal_form_day(max, &f->max, &relative) != NGX_OK) {
                *why = "a date's max is neither a date nor days";
                return NGX_ERROR;
            }

            f->flags |= NGX_HTTP_PORTAL_MAX
                        | (relative ? NGX_HTTP_PORTAL_MAX_DAYS : 0);
        }

        return NGX_OK;
    }

    if ((min && !json_is_number(min)) || (max && !json_is_number(max))) {
        *why = "a number's bounds are not numbers";
        return NGX_ERROR;
    }

    if (min) {
        f->min = ngx_http_portal_form_milli(min);
        f->flags |= NGX_HTTP_PORTAL_MIN;
    }

    if (max) {
        f->max = ngx_http_portal_form_milli(max);
        f->flags |= NGX_HTTP_PORTAL_MAX;
    }

    p = ngx_http_portal_form_decimal(from, f->min);
    *p = '\0';
    q = ngx_http_portal_form_decimal(to, f->max);
    *q = '\0';

    if (min && max) {
        f->invalid = ngx_http_portal_form_printf(pool,
                         NGX_HTTP_PORTAL_M_FORM_NUMBER_BETWEEN, from, to);

    } else if (min) {
        f->invalid = ngx_http_portal_form_printf(pool,
                         NGX_HTTP_PORTAL_M_FORM_NUMBER_MIN, from);

    } else if (max) {
        f->invalid = ngx_http_portal_form_printf(pool,
                         NGX_HTTP_PORTAL_M_FORM_NUMBER_MAX, to);
    }

    return NGX_OK;
}


/*
 * "2026-03-01" (a day since 1970), or a whole number of days from today,
 * as PostgreSQL's constraint takes them: 7.0 is 7 days, a bound may be
 * 100000 days away, or a date before 1900 (which no date typed is: the
 * form stands all the same rather than leave the catalog).
 */

static ngx_int_t
ngx_http_portal_form_day(json_t *v, ngx_int_t *day, ngx_uint_t *relative)
{
    const char  *s;

    if (json_is_number(v)) {
        *relative = 1;

        return (ngx_http_portal_form_whole(v, day) == NGX_OK
                && *day >= -100000 && *day <= 100000)
               ? NGX_OK : NGX_ERROR;
    }

    s = json_string_value(v);
    *relative = 0;

    return s ? ngx_http_portal_form_date(s, day) : NGX_ERROR;
}


/* "YYYY-MM-DD" of a day that exists, from year 1 */

static ngx_int_t
ngx_http_portal_form_date(const char *s, ngx_int_t *day)
{
    u_char      dmy[16];
    ngx_uint_t  i;

    if (ngx_strlen(s) != 10 || s[4] != '-' || s[7] != '-'
        || ngx_strncmp(s, "0000", 4) == 0)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) {
            return NGX_ERROR;
        }
    }

    *day = ngx_http_portal_text_date_days(s);

    /* a day that does not exist (02-30, 13-01) comes back as another */

    ngx_http_portal_text_day(*day, dmy);

    if (ngx_strncmp(dmy, s + 8, 2) != 0
        || ngx_strncmp(dmy + 3, s + 5, 2) != 0
        || ngx_strncmp(dmy + 6, s, 4) != 0)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * A number's bound in thousandths.  Answers are taken within 10^15 either
 * side of 0 (_check.c), so a bound beyond says no more than that bound:
 * it is held there, which also keeps it within an ngx_int_t (PostgreSQL's
 * constraint takes any JSON number, -1.1e188 as well).
 */

static ngx_int_t
ngx_http_portal_form_milli(json_t *v)
{
    double  d;

    d = json_number_value(v);

    if (d > 1e15) {
        d = 1e15;

    } else if (d < -1e15) {
        d = -1e15;
    }

    d *= 1000;

    return (ngx_int_t) (d < 0 ? d - 0.5 : d + 0.5);
}


/* a whole number as JSON may write it: 7, 7.0, 7e0 */

static ngx_int_t
ngx_http_portal_form_whole(json_t *v, ngx_int_t *n)
{
    double  d;

    if (!json_is_number(v)) {
        return NGX_ERROR;
    }

    d = json_number_value(v);

    if (!(d > -1e9 && d < 1e9) || d != (double) (ngx_int_t) d) {
        return NGX_ERROR;
    }

    *n = (ngx_int_t) d;

    return NGX_OK;
}


/* a select's values, the only answers it takes */

static ngx_int_t
ngx_http_portal_form_options(ngx_pool_t *pool, json_t *def,
    ngx_http_portal_field_t *f)
{
    size_t        i;
    json_t       *options, *o;
    const char  **values, *value;

    options = json_object_get(def, "options");

    if (!json_is_array(options) || json_array_size(options) == 0) {
        return NGX_ERROR;
    }

    values = ngx_pcalloc(pool, (json_array_size(options) + 1)
                               * sizeof(const char *));
    if (values == NULL) {
        return NGX_ERROR;
    }

    json_array_foreach(options, i, o) {
        value = json_string_value(json_object_get(o, "value"));

        if (value == NULL) {
            return NGX_ERROR;
        }

        values[i] = ngx_http_portal_form_string(pool, value);

        if (values[i] == NULL) {
            return NGX_ERROR;
        }
    }

    f->options = (const char *const *) values;

    return NGX_OK;
}


void
ngx_http_portal_form_check(ngx_http_portal_check_t *ck,
    const ngx_http_portal_form_t *form, json_t *data, ngx_uint_t draft,
    json_t *clean)
{
    json_t  *empty;

    if (data == NULL || json_is_null(data)) {
        empty = json_object();
        if (empty == NULL) {
            ck->failed = 1;
            return;
        }

        ngx_http_portal_check(ck, empty, form->fields, "data", draft, NULL,
                              clean);
        json_decref(empty);
        return;
    }

    if (!json_is_object(data)) {
        ngx_http_portal_check_error(ck, "", "data",
                                    NGX_HTTP_PORTAL_M_FORM_DATA);
        return;
    }

    ngx_http_portal_check(ck, data, form->fields, "data", draft, NULL,
                          clean);
}


static const char *
ngx_http_portal_form_string(ngx_pool_t *pool, const char *s)
{
    size_t   len;
    u_char  *p;

    len = ngx_strlen(s);

    p = ngx_pnalloc(pool, len + 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, s, len + 1);

    return (const char *) p;
}


/* a message of the form's own, in the catalog's pool */

static const char *
ngx_http_portal_form_printf(ngx_pool_t *pool, const char *fmt, ...)
{
    u_char   buf[256], *last;
    va_list  args;

    va_start(args, fmt);
    last = ngx_vslprintf(buf, buf + sizeof(buf) - 1, fmt, args);
    va_end(args);

    *last = '\0';

    return ngx_http_portal_form_string(pool, (char *) buf);
}


/* thousandths as a French decimal: 500 -> "0,5", 5000 -> "5" */

static u_char *
ngx_http_portal_form_decimal(u_char *p, ngx_int_t milli)
{
    ngx_int_t  frac;

    if (milli < 0) {
        *p++ = '-';
        milli = -milli;
    }

    p = ngx_sprintf(p, "%i", milli / 1000);
    frac = milli % 1000;

    if (frac == 0) {
        return p;
    }

    *p++ = ',';

    while (frac) {
        *p++ = (u_char) ('0' + frac / 100);
        frac = (frac % 100) * 10;
    }

    return p;
}
