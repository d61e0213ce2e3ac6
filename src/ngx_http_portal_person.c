
/*
 * Portail Citoyen: the field tables of a person (see the header).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_portal_messages.h"
#include "ngx_http_portal_person.h"


#define NGX_HTTP_PORTAL_AT(field)                                            \
    (ngx_int_t) offsetof(ngx_http_portal_person_t, field)


static const char *const  ngx_http_portal_person_civilities[] = {
    "M", "Mme", NULL
};

static const char *const  ngx_http_portal_person_kinds[] = {
    "adult", "child", NULL
};

const char *const  ngx_http_portal_person_contact_modes[] = {
    "email", "phone", "post", NULL
};


static const ngx_http_portal_field_t  ngx_http_portal_person_address[] = {

    { "line", NGX_HTTP_PORTAL_TEXT,
      NGX_HTTP_PORTAL_REQUIRED|NGX_HTTP_PORTAL_NONEMPTY, 1, 200, NULL, NULL,
      (ngx_int_t) offsetof(ngx_http_portal_address_t, line),
      NGX_HTTP_PORTAL_M_ADDRESS_LINE, NULL },

    { "postcode", NGX_HTTP_PORTAL_POSTCODE, NGX_HTTP_PORTAL_REQUIRED, 0, 5,
      NULL, NULL, (ngx_int_t) offsetof(ngx_http_portal_address_t, postcode),
      NGX_HTTP_PORTAL_M_POSTCODE, NULL },

    { "city", NGX_HTTP_PORTAL_TEXT,
      NGX_HTTP_PORTAL_REQUIRED|NGX_HTTP_PORTAL_NONEMPTY, 1, 100, NULL, NULL,
      (ngx_int_t) offsetof(ngx_http_portal_address_t, city),
      NGX_HTTP_PORTAL_M_CITY, NULL },

    NGX_HTTP_PORTAL_FIELDS_END
};


const ngx_http_portal_field_t  ngx_http_portal_person_holder[] = {

    { "civility", NGX_HTTP_PORTAL_ENUM, NGX_HTTP_PORTAL_REQUIRED, 0, 3,
      ngx_http_portal_person_civilities, NULL, NGX_HTTP_PORTAL_AT(civility),
      NGX_HTTP_PORTAL_M_CIVILITY, NULL },

    { "first_name", NGX_HTTP_PORTAL_NAME, NGX_HTTP_PORTAL_REQUIRED, 0, 100,
      NULL, NULL, NGX_HTTP_PORTAL_AT(first_name),
      NGX_HTTP_PORTAL_M_FIRST_NAME, NGX_HTTP_PORTAL_M_FIRST_NAME_FORM },

    { "last_name", NGX_HTTP_PORTAL_NAME,
      NGX_HTTP_PORTAL_REQUIRED|NGX_HTTP_PORTAL_NONEMPTY, 0, 100, NULL, NULL,
      NGX_HTTP_PORTAL_AT(last_name),
      NGX_HTTP_PORTAL_M_LAST_NAME, NGX_HTTP_PORTAL_M_LAST_NAME_FORM },

    { "birth_date", NGX_HTTP_PORTAL_DATE,
      NGX_HTTP_PORTAL_REQUIRED|NGX_HTTP_PORTAL_PAST, 0, 10, NULL, NULL,
      NGX_HTTP_PORTAL_AT(birth_date),
      NGX_HTTP_PORTAL_M_BIRTH_DATE, NGX_HTTP_PORTAL_M_BIRTH_DATE_FORM },

    { "email", NGX_HTTP_PORTAL_EMAIL, NGX_HTTP_PORTAL_REQUIRED, 0, 254,
      NULL, NULL, NGX_HTTP_PORTAL_AT(email),
      NGX_HTTP_PORTAL_M_EMAIL, NGX_HTTP_PORTAL_M_EMAIL_FORM },

    { "phone", NGX_HTTP_PORTAL_PHONE, NGX_HTTP_PORTAL_CLEAR, 0, 30,
      NULL, NULL, NGX_HTTP_PORTAL_AT(phone),
      NGX_HTTP_PORTAL_M_PHONE, NGX_HTTP_PORTAL_M_PHONE_FORM },

    { "address", NGX_HTTP_PORTAL_OBJECT, NGX_HTTP_PORTAL_REQUIRED, 0, 0,
      NULL, ngx_http_portal_person_address, NGX_HTTP_PORTAL_AT(address),
      NGX_HTTP_PORTAL_M_ADDRESS, NULL },

    NGX_HTTP_PORTAL_FIELDS_END
};


const ngx_http_portal_field_t  ngx_http_portal_person_member[] = {

    { "kind", NGX_HTTP_PORTAL_ENUM, NGX_HTTP_PORTAL_REQUIRED, 0, 0,
      ngx_http_portal_person_kinds, NULL, NGX_HTTP_PORTAL_AT(kind),
      NGX_HTTP_PORTAL_M_KIND, NULL },

    { "civility", NGX_HTTP_PORTAL_ENUM, NGX_HTTP_PORTAL_CLEAR, 0, 3,
      ngx_http_portal_person_civilities, NULL, NGX_HTTP_PORTAL_AT(civility),
      NGX_HTTP_PORTAL_M_CIVILITY, NULL },

    { "first_name", NGX_HTTP_PORTAL_NAME, NGX_HTTP_PORTAL_REQUIRED, 0, 100,
      NULL, NULL, NGX_HTTP_PORTAL_AT(first_name),
      NGX_HTTP_PORTAL_M_FIRST_NAME, NGX_HTTP_PORTAL_M_FIRST_NAME_FORM },

    { "last_name", NGX_HTTP_PORTAL_NAME, NGX_HTTP_PORTAL_DEFAULT, 0, 100,
      NULL, NULL, NGX_HTTP_PORTAL_AT(last_name),
      NGX_HTTP_PORTAL_M_LAST_NAME, NGX_HTTP_PORTAL_M_LAST_NAME_FORM },

    { "birth_date", NGX_HTTP_PORTAL_DATE,
      NGX_HTTP_PORTAL_REQUIRED|NGX_HTTP_PORTAL_PAST, 0, 10, NULL, NULL,
      NGX_HTTP_PORTAL_AT(birth_date),
      NGX_HTTP_PORTAL_M_BIRTH_DATE, NGX_HTTP_PORTAL_M_BIRTH_DATE_FORM },

    { "email", NGX_HTTP_PORTAL_EMAIL, NGX_HTTP_PORTAL_CLEAR, 0, 254,
      NULL, NULL, NGX_HTTP_PORTAL_AT(email),
      NGX_HTTP_PORTAL_M_EMAIL, NGX_HTTP_PORTAL_M_EMAIL_FORM },

    { "phone", NGX_HTTP_PORTAL_PHONE, NGX_HTTP_PORTAL_CLEAR, 0, 30,
      NULL, NULL, NGX_HTTP_PORTAL_AT(phone),
      NGX_HTTP_PORTAL_M_PHONE, NGX_HTTP_PORTAL_M_PHONE_FORM },

    { "address", NGX_HTTP_PORTAL_OBJECT, NGX_HTTP_PORTAL_WHOLE, 0, 0,
      NULL, ngx_http_portal_person_address, NGX_HTTP_PORTAL_AT(address),
      NGX_HTTP_PORTAL_M_ADDRESS, NULL },

    NGX_HTTP_PORTAL_FIELDS_END
};
