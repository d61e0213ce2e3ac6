
/*
 * Portail Citoyen: declarative checking of input (see the header).  The
 * walk is the same for every form: for each field of the table, is it
 * there, of the right JSON type, of the right length, of its form; its
 * value goes to the handler's struct and to the clean JSON that the SQL
 * function receives, so that nothing unchecked ever reaches PostgreSQL.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_check.h"
#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_text.h"


/* "holder.address.postcode": deep enough for every form of the portal */
#define NGX_HTTP_PORTAL_PATH_MAX  128


static void ngx_http_portal_check_field(ngx_http_portal_check_t *ck,
    json_t *in, const ngx_http_portal_field_t *f, const char *prefix,
    ngx_uint_t partial, void *out, json_t *clean);
static void ngx_http_portal_check_object(ngx_http_portal_check_t *ck,
    json_t *v, const ngx_http_portal_field_t *f, const char *prefix,
    ngx_uint_t partial, void *out, json_t *clean);
static void ngx_http_portal_check_list(ngx_http_portal_check_t *ck,
    json_t *v, const ngx_http_portal_field_t *f, const char *prefix,
    ngx_uint_t partial, json_t *clean);
static void ngx_http_portal_check_string(ngx_http_portal_check_t *ck,
    json_t *v, const ngx_http_portal_field_t *f, const char *prefix,
    ngx_uint_t required, void *out, json_t *clean);
static ngx_uint_t ngx_http_portal_check_form(
    const ngx_http_portal_field_t *f, const char *s, size_t len,
    ssize_t n);
static void ngx_http_portal_check_number(ngx_http_portal_check_t *ck,
    json_t *v, const ngx_http_portal_field_t *f, const char *prefix,
    ngx_uint_t required, json_t *clean);
static ngx_uint_t ngx_http_portal_check_date(ngx_http_portal_check_t *ck,
    const ngx_http_portal_field_t *f, const char *prefix, const char *s);
static void ngx_http_portal_check_keep(ngx_http_portal_check_t *ck,
    const ngx_http_portal_field_t *f, const char *s, size_t len, void *out,
    json_t *clean);
static void ngx_http_portal_check_path(char *path, const char *prefix,
    const char *name);
static void ngx_http_portal_check_free(void *data);


ngx_int_t
ngx_http_portal_check_init(ngx_http_portal_check_t *ck, ngx_pool_t *pool)
{
    ngx_pool_cleanup_t  *cln;

    ngx_memzero(ck, sizeof(ngx_http_portal_check_t));

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    ck->errors = json_object();
    if (ck->errors == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_portal_check_free;
    cln->data = ck->errors;

    ck->pool = pool;

    return NGX_OK;
}


static void
ngx_http_portal_check_free(void *data)
{
    json_decref(data);
}


json_t *
ngx_http_portal_check_clean(ngx_http_portal_check_t *ck)
{
    json_t              *clean;
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(ck->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    clean = json_object();
    if (clean == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_portal_check_free;
    cln->data = clean;

    return clean;
}


void
ngx_http_portal_check(ngx_http_portal_check_t *ck, json_t *in,
    const ngx_http_portal_field_t *fields, const char *prefix,
    ngx_uint_t partial, void *out, json_t *clean)
{
    const ngx_http_portal_field_t  *f;

    for (f = fields; f->name; f++) {
        ngx_http_portal_check_field(ck, in, f, prefix, partial, out, clean);
    }
}


static void
ngx_http_portal_check_field(ngx_http_portal_check_t *ck, json_t *in,
    const ngx_http_portal_field_t *f, const char *prefix, ngx_uint_t partial,
    void *out, json_t *clean)
{
    json_t      *v;
    ngx_int_t   *num;
    ngx_uint_t   required;
    json_int_t   i;

    v = json_object_get(in, f->name);
    required = (f->flags & NGX_HTTP_PORTAL_REQUIRED) && !partial;

    if (v == NULL || json_is_null(v)) {
        if (required) {
            ngx_http_portal_check_error(ck, prefix, f->name, f->missing);
        }

        return;
    }

    num = (out && f->offset >= 0) ? (ngx_int_t *) ((u_char *) out + f->offset)
                                  : NULL;

    switch (f->kind) {

    case NGX_HTTP_PORTAL_OBJECT:
        ngx_http_portal_check_object(ck, v, f, prefix, partial,
                                     (out && f->offset >= 0)
                                     ? (u_char *) out + f->offset : NULL,
                                     clean);
        return;

    case NGX_HTTP_PORTAL_LIST:
        ngx_http_portal_check_list(ck, v, f, prefix, partial, clean);
        return;

    case NGX_HTTP_PORTAL_INTEGER:
        i = json_is_integer(v) ? json_integer_value(v) : 0;

        if (!json_is_integer(v) || i < f->min || i > f->max) {
            ngx_http_portal_check_error(ck, prefix, f->name, f->missing);
            return;
        }

        if (num) {
            *num = (ngx_int_t) i;
        }

        if (clean && !(f->flags & NGX_HTTP_PORTAL_NOCOPY)
            && json_object_set_new(clean, f->name, json_integer(i)) != 0)
        {
            ck->failed = 1;
        }

        return;

    case NGX_HTTP_PORTAL_NUMBER:
        ngx_http_portal_check_number(ck, v, f, prefix, required, clean);
        return;

    case NGX_HTTP_PORTAL_BOOLEAN:
        if (!json_is_boolean(v)
            || ((f->flags & NGX_HTTP_PORTAL_TICKED) && !json_is_true(v)
                && required))
        {
            ngx_http_portal_check_error(ck, prefix, f->name, f->missing);
            return;
        }

        if (num) {
            *num = json_is_true(v);
        }

        if (clean && !(f->flags & NGX_HTTP_PORTAL_NOCOPY)
            && json_object_set(clean, f->name, v) != 0)
        {
            ck->failed = 1;
        }

        return;

    default:
        ngx_http_portal_check_string(ck, v, f, prefix, required, out, clean);
        return;
    }
}


static void
ngx_http_portal_check_object(ngx_http_portal_check_t *ck, json_t *v,
    const ngx_http_portal_field_t *f, const char *prefix, ngx_uint_t partial,
    void *out, json_t *clean)
{
    json_t  *sub;
    char     path[NGX_HTTP_PORTAL_PATH_MAX];

    if (!json_is_object(v)) {
        ngx_http_portal_check_error(ck, prefix, f->name, f->missing);
        return;
    }

    /* an optional object's fields are required once it has any */

    if (!(f->flags & NGX_HTTP_PORTAL_REQUIRED)
        && !((f->flags & NGX_HTTP_PORTAL_WHOLE) && json_object_size(v) > 0))
    {
        partial = 1;
    }

    sub = NULL;

    if (clean && !(f->flags & NGX_HTTP_PORTAL_NOCOPY)) {
        sub = json_object();

        if (sub == NULL || json_object_set_new(clean, f->name, sub) != 0) {
            ck->failed = 1;
            return;
        }
    }

    ngx_http_portal_check_path(path, prefix, f->name);
    ngx_http_portal_check(ck, v, f->fields, path, partial, out, sub);
}


static void
ngx_http_portal_check_list(ngx_http_portal_check_t *ck, json_t *v,
    const ngx_http_portal_field_t *f, const char *prefix, ngx_uint_t partial,
    json_t *clean)
{
    size_t   i;
    json_t  *list, *item, *sub;
    char     path[NGX_HTTP_PORTAL_PATH_MAX];
    char     item_path[NGX_HTTP_PORTAL_PATH_MAX];
    char     index[NGX_INT_T_LEN + 1];

    if (!json_is_array(v)
        || (f->max && json_array_size(v) > (size_t) f->max))
    {
        ngx_http_portal_check_error(ck, prefix, f->name, f->missing);
        return;
    }

    list = NULL;

    if (clean && !(f->flags & NGX_HTTP_PORTAL_NOCOPY)) {
        list = json_array();

        if (list == NULL || json_object_set_new(clean, f->name, list) != 0) {
            ck->failed = 1;
            return;
        }
    }

    ngx_http_portal_check_path(path, prefix, f->name);

    json_array_foreach(v, i, item) {
        *ngx_sprintf((u_char *) index, "%uz", i) = '\0';

        if (!json_is_object(item)) {
            ngx_http_portal_check_error(ck, path, index,
                                        f->invalid ? f->invalid
                                                   : f->missing);
            continue;
        }

        sub = NULL;

        if (list) {
            sub = json_object();

            if (sub == NULL || json_array_append_new(list, sub) != 0) {
                ck->failed = 1;
                return;
            }
        }

        ngx_http_portal_check_path(item_path, path, index);
        ngx_http_portal_check(ck, item, f->fields, item_path, partial, NULL,
                              sub);
    }
}


static void
ngx_http_portal_check_string(ngx_http_portal_check_t *ck, json_t *v,
    const ngx_http_portal_field_t *f, const char *prefix, ngx_uint_t required,
    void *out, json_t *clean)
{
    size_t       len;
    ssize_t      n;
    ngx_str_t    ascii;
    const char  *s;

    s = json_string_value(v);

    /* a NUL inside a string would cut it short in C: it is refused */

    if (s == NULL || (len = json_string_length(v)) != ngx_strlen(s)) {
        ngx_http_portal_check_error(ck, prefix, f->name, f->missing);
        return;
    }

    if (f->kind == NGX_HTTP_PORTAL_SECRET) {
        n = (ssize_t) len;

    } else if (f->kind == NGX_HTTP_PORTAL_LINES) {
        n = ngx_http_portal_text_lines_len((u_char *) s, len);

    } else {
        n = ngx_http_portal_text_utf8_len((u_char *) s, len);
    }

    /*
     * jansson gives valid UTF-8 only: what is not counted is a control
     * character, that no one sees; its own message says so, not a length
     */

    if (n < 0) {
        ngx_http_portal_check_error(ck, prefix, f->name,
                                    NGX_HTTP_PORTAL_M_CONTROL_CHAR);
        return;
    }

    /* the max of a date with bounds is a day, not a length */

    if (f->max && !(f->flags & NGX_HTTP_PORTAL_MAX) && n > f->max) {
        ngx_http_portal_check_error(ck, prefix, f->name, f->missing);
        return;
    }

    if (n == 0) {
        if (required || (f->flags & NGX_HTTP_PORTAL_NONEMPTY)) {
            ngx_http_portal_check_error(ck, prefix, f->name, f->missing);
            return;
        }

        if (f->flags & NGX_HTTP_PORTAL_CLEAR) {
            ngx_http_portal_check_keep(ck, f, s, 0, out, clean);
            return;
        }

        if (f->flags & NGX_HTTP_PORTAL_DEFAULT) {
            return;
        }
    }

    if (f->kind == NGX_HTTP_PORTAL_EMAIL) {

        /* the address as it will be stored and mailed to: in ASCII */

        switch (ngx_http_portal_text_email(ck->pool, s, &ascii)) {

        case NGX_OK:
            ngx_http_portal_check_keep(ck, f, (char *) ascii.data, ascii.len,
                                       out, clean);
            return;

        case NGX_DECLINED:
            break;

        default:
            ck->failed = 1;
            return;
        }

    } else if (ngx_http_portal_check_form(f, s, len, n)) {

        if (f->kind == NGX_HTTP_PORTAL_DATE
            && !ngx_http_portal_check_date(ck, f, prefix, s))
        {
            return;
        }

        ngx_http_portal_check_keep(ck, f, s, len, out, clean);
        return;
    }

    ngx_http_portal_check_error(ck, prefix, f->name,
                                f->invalid ? f->invalid : f->missing);
}


static ngx_uint_t
ngx_http_portal_check_form(const ngx_http_portal_field_t *f, const char *s,
    size_t len, ssize_t n)
{
    size_t              i;
    const char *const  *o;

    switch (f->kind) {

    case NGX_HTTP_PORTAL_NAME:
        return ngx_http_portal_text_name((u_char *) s, len);

    case NGX_HTTP_PORTAL_DATE:
        return ngx_http_portal_text_date(s,
                                          f->flags & NGX_HTTP_PORTAL_PAST);

    case NGX_HTTP_PORTAL_PHONE:
        return ngx_http_portal_text_phone(s);

    case NGX_HTTP_PORTAL_POSTCODE:
        if (len != 5) {
            return 0;
        }

        for (i = 0; i < 5; i++) {
            if (s[i] < '0' || s[i] > '9') {
                return 0;
            }
        }

        return 1;

    case NGX_HTTP_PORTAL_ENUM:
        for (o = f->options; o && *o; o++) {
            if (ngx_strcmp(*o, s) == 0) {
                return 1;
            }
        }

        return 0;

    case NGX_HTTP_PORTAL_UUID:
        return ngx_http_portal_text_uuid((u_char *) s, len);

    default:
        return n >= f->min;
    }
}


/*
 * A number as JSON gives it, or as a person types it ("2,5", " 12 "): a
 * decimal of up to 15 digits, kept as a JSON number.  Its bounds are
 * compared in thousandths, as they are given.
 */

static void
ngx_http_portal_check_number(ngx_http_portal_check_t *ck, json_t *v,
    const ngx_http_portal_field_t *f, const char *prefix, ngx_uint_t required,
    json_t *clean)
{
    char         buf[32], *end;
    double       d;
    size_t       len, i;
    json_t      *num;
    ngx_uint_t   digits;
    const char  *s;

    if (json_is_number(v)) {
        d = json_number_value(v);

    } else if (json_is_string(v)) {
        s = json_string_value(v);
        len = json_string_length(v);

        while (len && s[0] == ' ') {
            s++;
            len--;
        }

        while (len && s[len - 1] == ' ') {
            len--;
        }

        /* "" is no answer: refused unless the check is partial (a draft) */

        if (len == 0) {
            if (required) {
                ngx_http_portal_check_error(ck, prefix, f->name, f->missing);
            }

            return;
        }

        digits = 0;

        for (i = 0; i < len && i < sizeof(buf) - 1; i++) {
            buf[i] = (s[i] == ',') ? '.' : s[i];

            if (buf[i] >= '0' && buf[i] <= '9') {
                digits++;

            } else if (!(buf[i] == '.' || (buf[i] == '-' && i == 0))) {
                goto invalid;
            }
        }

        if (i != len || digits == 0 || digits > 15) {
            goto invalid;
        }

        buf[i] = '\0';
        d = strtod(buf, &end);

        if (*end != '\0') {
            goto invalid;
        }

    } else {
        goto invalid;
    }

    if (d != d || d > 1e15 || d < -1e15
        || ((f->flags & NGX_HTTP_PORTAL_MIN) && d * 1000 < (double) f->min)
        || ((f->flags & NGX_HTTP_PORTAL_MAX) && d * 1000 > (double) f->max))
    {
        goto invalid;
    }

    if (clean == NULL || (f->flags & NGX_HTTP_PORTAL_NOCOPY)) {
        return;
    }

    num = (d == (double) (json_int_t) d) ? json_integer((json_int_t) d)
                                         : json_real(d);

    if (num == NULL || json_object_set_new(clean, f->name, num) != 0) {
        ck->failed = 1;
    }

    return;

invalid:

    ngx_http_portal_check_error(ck, prefix, f->name,
                                f->invalid ? f->invalid : f->missing);
}


/*
 * A date within its bounds; otherwise the error says which dates are
 * allowed, as the calendar says them today.
 */

static ngx_uint_t
ngx_http_portal_check_date(ngx_http_portal_check_t *ck,
    const ngx_http_portal_field_t *f, const char *prefix, const char *s)
{
    u_char      from[16], to[16], msg[160];
    ngx_int_t   day, today, min, max;
    ngx_uint_t  has_min, has_max;

    has_min = f->flags & NGX_HTTP_PORTAL_MIN;
    has_max = f->flags & NGX_HTTP_PORTAL_MAX;

    if (!has_min && !has_max) {
        return 1;
    }

    day = ngx_http_portal_text_date_days(s);
    today = ngx_http_portal_text_today();

    min = f->min + ((f->flags & NGX_HTTP_PORTAL_MIN_DAYS) ? today : 0);
    max = f->max + ((f->flags & NGX_HTTP_PORTAL_MAX_DAYS) ? today : 0);

    if ((!has_min || day >= min) && (!has_max || day <= max)) {
        return 1;
    }

    ngx_http_portal_text_day(min, from);
    ngx_http_portal_text_day(max, to);

    if (has_min && has_max) {
        ngx_snprintf(msg, sizeof(msg) - 1, NGX_HTTP_PORTAL_M_DATE_BETWEEN
                     "%Z", from, to);

    } else if (has_max && max == today) {
        ngx_cpystrn(msg, (u_char *) NGX_HTTP_PORTAL_M_DATE_NOT_FUTURE,
                    sizeof(msg));

    } else if (has_max) {
        ngx_snprintf(msg, sizeof(msg) - 1, NGX_HTTP_PORTAL_M_DATE_UNTIL "%Z",
                     to);

    } else if (min == today) {
        ngx_cpystrn(msg, (u_char *) NGX_HTTP_PORTAL_M_DATE_NOT_PAST,
                    sizeof(msg));

    } else {
        ngx_snprintf(msg, sizeof(msg) - 1, NGX_HTTP_PORTAL_M_DATE_FROM "%Z",
                     from);
    }

    ngx_http_portal_check_error(ck, prefix, f->name, (char *) msg);

    return 0;
}


static void
ngx_http_portal_check_keep(ngx_http_portal_check_t *ck,
    const ngx_http_portal_field_t *f, const char *s, size_t len, void *out,
    json_t *clean)
{
    u_char     *p;
    ngx_str_t  *str;

    if (out && f->offset >= 0) {
        p = ngx_pnalloc(ck->pool, len + 1);
        if (p == NULL) {
            ck->failed = 1;
            return;
        }

        *ngx_cpymem(p, s, len) = '\0';

        str = (ngx_str_t *) ((u_char *) out + f->offset);
        str->data = p;
        str->len = len;
    }

    if (clean && f->kind != NGX_HTTP_PORTAL_SECRET
        && !(f->flags & NGX_HTTP_PORTAL_NOCOPY)
        && json_object_set_new(clean, f->name, json_stringn(s, len)) != 0)
    {
        ck->failed = 1;
    }
}


void
ngx_http_portal_check_error(ngx_http_portal_check_t *ck, const char *prefix,
    const char *name, const char *message)
{
    char  path[NGX_HTTP_PORTAL_PATH_MAX];

    ngx_http_portal_check_path(path, prefix, name);

    if (json_object_get(ck->errors, path) == NULL
        && json_object_set_new(ck->errors, path, json_string(message)) != 0)
    {
        ck->failed = 1;
    }
}


ngx_uint_t
ngx_http_portal_check_failed(ngx_http_portal_check_t *ck, const char *prefix,
    const char *name)
{
    char  path[NGX_HTTP_PORTAL_PATH_MAX];

    ngx_http_portal_check_path(path, prefix, name);

    return json_object_get(ck->errors, path) != NULL;
}


static void
ngx_http_portal_check_path(char *path, const char *prefix, const char *name)
{
    if (prefix && *prefix) {
        *ngx_snprintf((u_char *) path, NGX_HTTP_PORTAL_PATH_MAX - 1, "%s.%s",
                      prefix, name) = '\0';

    } else {
        ngx_cpystrn((u_char *) path, (u_char *) name,
                    NGX_HTTP_PORTAL_PATH_MAX);
    }
}


ngx_int_t
ngx_http_portal_check_done(ngx_http_request_t *r, ngx_http_portal_check_t *ck,
    const char *message, ngx_int_t *rc)
{
    if (ck->failed) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_ERROR;
    }

    if (json_object_size(ck->errors) == 0) {
        return NGX_OK;
    }

    *rc = ngx_http_portal_response_invalid(r, message, json_incref(ck->errors));

    return NGX_ERROR;
}


ngx_int_t
ngx_http_portal_check_text(ngx_pool_t *pool, json_t *json, ngx_str_t *text)
{
    char  *s;

    s = json_dumps(json, JSON_COMPACT);
    if (s == NULL) {
        return NGX_ERROR;
    }

    text->len = ngx_strlen(s);
    text->data = ngx_pnalloc(pool, text->len + 1);

    if (text->data == NULL) {
        free(s);
        return NGX_ERROR;
    }

    ngx_memcpy(text->data, s, text->len + 1);
    free(s);

    return NGX_OK;
}
