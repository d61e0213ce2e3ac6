
/*
 * Portail Citoyen: a procedure's form, as the catalog defines it (see
 * sql/005_catalog.sql), made into a field table of _check.c once per
 * catalog, so that a request's data is checked by the same machinery as
 * an account's, with the messages the page shows next to the fields.
 */


#ifndef _NGX_HTTP_PORTAL_FORM_H_INCLUDED_
#define _NGX_HTTP_PORTAL_FORM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <jansson.h>

#include "ngx_http_portal_check.h"


typedef struct {
    /* the data's fields, ended by NGX_HTTP_PORTAL_FIELDS_END */
    ngx_http_portal_field_t        *fields;
    ngx_uint_t                      nfields;

    /* the member picker (its value is the request's member_id), if any */
    const char                     *member;
    const char                     *member_kind;
    ngx_uint_t                      member_required;
} ngx_http_portal_form_t;


/*
 * The definition (an array of fields) into form, in pool: NGX_OK, or
 * NGX_DECLINED with why set when a definition is not one (PostgreSQL's
 * constraint should have refused it), or NGX_ERROR.
 */
ngx_int_t ngx_http_portal_form_compile(ngx_pool_t *pool, json_t *def,
    ngx_http_portal_form_t *form, const char **why);

/*
 * The data (a JSON object, or NULL) checked against the form under
 * "data": what is checked goes into clean; keys of no field are left out.
 * draft: a required field may be missing (a box left unticked too), what
 * is given is checked all the same; the submission asks for the rest.
 */
void ngx_http_portal_form_check(ngx_http_portal_check_t *ck,
    const ngx_http_portal_form_t *form, json_t *data, ngx_uint_t draft,
    json_t *clean);


#endif /* _NGX_HTTP_PORTAL_FORM_H_INCLUDED_ */
