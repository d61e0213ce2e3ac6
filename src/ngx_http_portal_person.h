
/*
 * Portail Citoyen: a person as the portal knows one: the holder of an
 * account, a member of the household (and, later, the applicant of a
 * request made without an account).  The field tables are shared by every
 * form that carries a person.
 */


#ifndef _NGX_HTTP_PORTAL_PERSON_H_INCLUDED_
#define _NGX_HTTP_PORTAL_PERSON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_portal_check.h"


typedef struct {
    ngx_str_t                       line;
    ngx_str_t                       postcode;
    ngx_str_t                       city;
} ngx_http_portal_address_t;


/* the checked values; data is NULL for what was not sent */
typedef struct {
    ngx_str_t                       kind;
    ngx_str_t                       civility;
    ngx_str_t                       first_name;
    ngx_str_t                       last_name;
    ngx_str_t                       birth_date;
    ngx_str_t                       email;
    ngx_str_t                       phone;
    ngx_http_portal_address_t       address;
} ngx_http_portal_person_t;


/* the holder of an account: everything but the phone is required */
extern const ngx_http_portal_field_t  ngx_http_portal_person_holder[];

/*
 * A member of the household: its kind, first name and birth date; the
 * last name and the address are the holder's unless given ("" clears an
 * optional value).
 */
extern const ngx_http_portal_field_t  ngx_http_portal_person_member[];

/* "email", "phone" or "post" */
extern const char *const  ngx_http_portal_person_contact_modes[];


#endif /* _NGX_HTTP_PORTAL_PERSON_H_INCLUDED_ */
