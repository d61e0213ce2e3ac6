
/*
 * Portail Citoyen: one mail to the SMTP relay, on the event loop.
 */


#ifndef _NGX_HTTP_PORTAL_SMTP_H_INCLUDED_
#define _NGX_HTTP_PORTAL_SMTP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>


/*
 * How a delivery ended: NGX_OK, the relay answered 250 to the message's
 * end; NGX_AGAIN, try again later (no relay, a timeout, a 4xx, a lost
 * connection); NGX_DECLINED, the relay refused it for good (a 5xx to
 * MAIL, RCPT or DATA).  error says why in printable ASCII.
 */
typedef void (*ngx_http_portal_smtp_done_pt)(void *data, ngx_int_t rc,
    const char *error);


typedef struct {
    ngx_addr_t                    *server;
    ngx_msec_t                     timeout;
    ngx_str_t                      helo;
    ngx_str_t                      from;        /* addresses, no brackets */
    ngx_str_t                      to;
    u_char                        *message;     /* lines ended by LF */
    size_t                         len;
    ngx_log_t                     *log;
    ngx_http_portal_smtp_done_pt   done;
    void                          *data;
} ngx_http_portal_smtp_mail_t;


/*
 * Starts a delivery: done is called once, later, never from within this
 * call.  The mail's strings are copied.  NGX_ERROR (out of memory): done
 * is not called.
 */
ngx_int_t ngx_http_portal_smtp_send(ngx_http_portal_smtp_mail_t *mail);


#endif /* _NGX_HTTP_PORTAL_SMTP_H_INCLUDED_ */
