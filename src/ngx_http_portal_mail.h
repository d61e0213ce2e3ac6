
/*
 * Portail Citoyen: the text of a mail, the same for every way out.
 */


#ifndef _NGX_HTTP_PORTAL_MAIL_H_INCLUDED_
#define _NGX_HTTP_PORTAL_MAIL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct {
    const char   *id;           /* the outbox id, in decimal */
    const char   *from;         /* "Name <address>" or an address */
    const char   *recipient;    /* the same */
    const char   *subject;      /* UTF-8 */
    const char   *body;         /* UTF-8, lines ended by LF */
    time_t        date;
} ngx_http_portal_mail_in_t;


/*
 * The RFC 5322 message, lines ended by LF, in malloc()ed memory (it is
 * built in pool threads as well as in workers): headers in ASCII (RFC 2047
 * encoded-words), the body quoted-printable.  NULL when an address may not
 * go out (a CR, an LF, a space...), with why in err: such a mail is
 * refused for good.
 */
u_char *ngx_http_portal_mail_build(ngx_http_portal_mail_in_t *in,
    size_t *len, char *err, size_t err_len);

/*
 * The address of "Name <address>" (or of an address alone), without the
 * brackets: NGX_ERROR when it is empty, has no @ or holds a byte that has
 * no place in an envelope (controls, CR and LF among them, spaces, <>).
 */
ngx_int_t ngx_http_portal_mail_address(const char *value, ngx_str_t *addr);


#endif /* _NGX_HTTP_PORTAL_MAIL_H_INCLUDED_ */
