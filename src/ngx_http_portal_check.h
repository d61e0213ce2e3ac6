
/*
 * Portail Citoyen: declarative checking of input.  A form is a table of
 * fields: for each its JSON name, its kind, its bounds, whether it is
 * required, where its checked value goes in the handler's typed struct,
 * and its French messages.  The check walks a JSON object with the table;
 * every wrong field gets its message under its path ("holder.address.
 * postcode", "members.0.kind"), and one 422 carries them all.  The same
 * machinery checks a procedure's form against its definition.
 */


#ifndef _NGX_HTTP_PORTAL_CHECK_H_INCLUDED_
#define _NGX_HTTP_PORTAL_CHECK_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_portal_module.h"


/* kinds of field, and the typed value each leaves at its offset */
typedef enum {
    NGX_HTTP_PORTAL_TEXT = 1,   /* ngx_str_t: min..max characters */
    NGX_HTTP_PORTAL_LINES,      /* ngx_str_t: the same, line breaks too */
    NGX_HTTP_PORTAL_NAME,       /* ngx_str_t: a person's name */
    NGX_HTTP_PORTAL_DATE,       /* ngx_str_t: YYYY-MM-DD */
    NGX_HTTP_PORTAL_EMAIL,      /* ngx_str_t: an address of RFC 5321 */
    NGX_HTTP_PORTAL_PHONE,      /* ngx_str_t: 10 to 15 digits */
    NGX_HTTP_PORTAL_POSTCODE,   /* ngx_str_t: 5 digits */
    NGX_HTTP_PORTAL_ENUM,       /* ngx_str_t: one of options */
    NGX_HTTP_PORTAL_UUID,       /* ngx_str_t: an id (a member's...) */
    NGX_HTTP_PORTAL_SECRET,     /* ngx_str_t: bytes as sent, never echoed */
    NGX_HTTP_PORTAL_INTEGER,    /* ngx_int_t: min..max, or NGX_CONF_UNSET */
    NGX_HTTP_PORTAL_BOOLEAN,    /* ngx_int_t: 0, 1, or NGX_CONF_UNSET */
    NGX_HTTP_PORTAL_OBJECT,     /* a struct of its fields' values */
    NGX_HTTP_PORTAL_LIST,       /* up to max objects of its fields */
    NGX_HTTP_PORTAL_NUMBER      /* none: a JSON number, or "2,5" as typed */
} ngx_http_portal_check_kind_e;


/* absent, null or "" is refused (but when the check is partial: PATCH) */
#define NGX_HTTP_PORTAL_REQUIRED  0x01
/* "" is refused, with the missing message, even when not required */
#define NGX_HTTP_PORTAL_NONEMPTY  0x02
/* "" is kept as "": it clears an optional value */
#define NGX_HTTP_PORTAL_CLEAR     0x04
/* "" is left out: the stored default applies */
#define NGX_HTTP_PORTAL_DEFAULT   0x08
/* a date no later than today */
#define NGX_HTTP_PORTAL_PAST      0x10
/* an object whose fields are required once it has any */
#define NGX_HTTP_PORTAL_WHOLE     0x20
/* checked, but not copied into the clean JSON (secrets, captchas) */
#define NGX_HTTP_PORTAL_NOCOPY    0x40
/*
 * The bounds of a number (min, max in thousandths: 0.5 is 500) or of a
 * date (in days since 1970-01-01, or from today with the _DAYS flag), each
 * only when its flag is set: 0 is a bound like any other.
 */
#define NGX_HTTP_PORTAL_MIN       0x80
#define NGX_HTTP_PORTAL_MAX       0x100
#define NGX_HTTP_PORTAL_MIN_DAYS  0x200
#define NGX_HTTP_PORTAL_MAX_DAYS  0x400
/* a boolean that must be true: a checkbox to tick (missing says so) */
#define NGX_HTTP_PORTAL_TICKED    0x800

/* no typed value for this field */
#define NGX_HTTP_PORTAL_NO_OFFSET  -1


typedef struct ngx_http_portal_field_s  ngx_http_portal_field_t;

struct ngx_http_portal_field_s {
    const char                     *name;
    ngx_uint_t                      kind;
    ngx_uint_t                      flags;
    /* characters, bytes for a secret, a value, items of a list; 0: none */
    ngx_int_t                       min;
    ngx_int_t                       max;
    const char *const              *options;
    /* an object's fields, a list's items' */
    const ngx_http_portal_field_t  *fields;
    ngx_int_t                       offset;
    /* absent, of the wrong JSON type, too long, empty */
    const char                     *missing;
    /* present but not of its form (NULL: missing says it) */
    const char                     *invalid;
};

#define NGX_HTTP_PORTAL_FIELDS_END                                           \
    { NULL, 0, 0, 0, 0, NULL, NULL, NGX_HTTP_PORTAL_NO_OFFSET, NULL, NULL }


typedef struct {
    ngx_pool_t                     *pool;
    /* path -> message, the first one of a path wins */
    json_t                         *errors;
    ngx_uint_t                      failed;
} ngx_http_portal_check_t;


ngx_int_t ngx_http_portal_check_init(ngx_http_portal_check_t *ck,
    ngx_pool_t *pool);

/*
 * Checks the object in against fields, under prefix ("" at the top):
 * typed values into out (may be NULL), checked values into clean (may be
 * NULL).  partial: only the fields present are checked (PATCH).
 */
void ngx_http_portal_check(ngx_http_portal_check_t *ck, json_t *in,
    const ngx_http_portal_field_t *fields, const char *prefix,
    ngx_uint_t partial, void *out, json_t *clean);

/* an empty object for the checked values, released with the request */
json_t *ngx_http_portal_check_clean(ngx_http_portal_check_t *ck);

/* a rule of the form that a table cannot say (two fields that differ) */
void ngx_http_portal_check_error(ngx_http_portal_check_t *ck,
    const char *prefix, const char *name, const char *message);

ngx_uint_t ngx_http_portal_check_failed(ngx_http_portal_check_t *ck,
    const char *prefix, const char *name);

/*
 * NGX_OK when nothing is wrong.  Otherwise the 422 with every field is
 * sent, and *rc is what the handler returns.
 */
ngx_int_t ngx_http_portal_check_done(ngx_http_request_t *r,
    ngx_http_portal_check_t *ck, const char *message, ngx_int_t *rc);

/* a JSON document as text of the request's pool, for a SQL parameter */
ngx_int_t ngx_http_portal_check_text(ngx_pool_t *pool, json_t *json,
    ngx_str_t *text);


#endif /* _NGX_HTTP_PORTAL_CHECK_H_INCLUDED_ */
