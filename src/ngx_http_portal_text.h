
/*
 * Portail Citoyen: text rules of the portal: UTF-8, accent folding, the
 * login "prénom.nom", security answers, names and the common checks of
 * citizens' data.
 */


#ifndef _NGX_HTTP_PORTAL_TEXT_H_INCLUDED_
#define _NGX_HTTP_PORTAL_TEXT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* code points of valid UTF-8 without control characters, or -1 */
ssize_t ngx_http_portal_text_utf8_len(const u_char *p, size_t len);

/* the same, line breaks and tabs allowed (a textarea) */
ssize_t ngx_http_portal_text_lines_len(const u_char *p, size_t len);

/* a person's name: Latin letters, spaces, hyphens, apostrophes */
ngx_uint_t ngx_http_portal_text_name(const u_char *p, size_t len);

/*
 * "Jean-Éric" "D'Ormesson" -> "jean-eric.d-ormesson": lowercase ASCII,
 * accents folded (é -> e, ç -> c, œ -> oe, ß -> ss), spaces and
 * apostrophes -> "-".  NGX_DECLINED when a part folds to nothing.
 */
ngx_int_t ngx_http_portal_text_login_base(ngx_pool_t *pool, const char *first,
    const char *last, ngx_str_t *out);

/*
 * Lowercase ASCII letters and digits, accents folded, every other run of
 * characters one space, trimmed: "  Saint-Étienne " -> "saint etienne".
 * The form in which security answers are hashed and compared.
 */
ngx_int_t ngx_http_portal_text_fold_words(ngx_pool_t *pool, const char *in,
    ngx_str_t *out);

ngx_uint_t ngx_http_portal_text_date(const char *s, ngx_uint_t past);

/*
 * Dates as days since 1970-01-01: of Y-M-D, of a checked "YYYY-MM-DD",
 * today's (UTC); and a day as "DD/MM/YYYY" into 11 bytes.
 */
ngx_int_t ngx_http_portal_text_days(ngx_int_t y, ngx_int_t m, ngx_int_t d);
ngx_int_t ngx_http_portal_text_date_days(const char *s);
ngx_int_t ngx_http_portal_text_today(void);
void ngx_http_portal_text_day(ngx_int_t days, u_char *buf);

/*
 * NGX_OK with the address to store and mail to (the domain in punycode),
 * NGX_DECLINED when it is no plain address, NGX_ERROR.
 */
ngx_int_t ngx_http_portal_text_email(ngx_pool_t *pool, const char *s,
    ngx_str_t *ascii);
ngx_uint_t ngx_http_portal_text_phone(const char *s);
ngx_uint_t ngx_http_portal_text_uuid(const u_char *p, size_t len);

/* for the error log: control characters, '"' and '\\' as \xHH */
ngx_int_t ngx_http_portal_text_escape(ngx_pool_t *pool, ngx_str_t *in,
    ngx_str_t *out);

/* the same into dst (up to end, cut there); the end of what was written */
u_char *ngx_http_portal_text_escape_to(u_char *dst, u_char *end,
    const u_char *src, size_t len);


#endif /* _NGX_HTTP_PORTAL_TEXT_H_INCLUDED_ */
