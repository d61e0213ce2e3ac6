
/*
 * Portail Citoyen: the multipart/form-data parser, the sniffing of a
 * document's type and the display name of a client's file.  Plain C: no
 * nginx type or function (t/fuzz builds it alone).
 */


#ifndef _NGX_HTTP_PORTAL_MP_H_INCLUDED_
#define _NGX_HTTP_PORTAL_MP_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>


/* RFC 2046: a boundary has 1 to 70 characters */
#define NGX_HTTP_PORTAL_MP_BOUNDARY_MAX  70
#define NGX_HTTP_PORTAL_MP_HEADER_MAX    8192
#define NGX_HTTP_PORTAL_MP_PARTS_MAX     16

/* a display name, in bytes of UTF-8 */
#define NGX_HTTP_PORTAL_MP_NAME_MAX  255


typedef enum {
    NGX_HTTP_PORTAL_MP_OK = 0,
    /* the closing delimiter was seen; what follows is ignored */
    NGX_HTTP_PORTAL_MP_DONE,
    /* a callback returned non-zero */
    NGX_HTTP_PORTAL_MP_STOPPED,
    /* Content-Type is not multipart/form-data */
    NGX_HTTP_PORTAL_MP_ERR_TYPE,
    /* no boundary parameter, or not 1-70 characters of RFC 2046 */
    NGX_HTTP_PORTAL_MP_ERR_BOUNDARY,
    /* something other than "--" or CRLF after a delimiter */
    NGX_HTTP_PORTAL_MP_ERR_DELIMITER,
    NGX_HTTP_PORTAL_MP_ERR_HEADER,
    NGX_HTTP_PORTAL_MP_ERR_HEADER_TOO_LONG,
    NGX_HTTP_PORTAL_MP_ERR_TOO_MANY_PARTS,
    /* the body ended before the closing delimiter */
    NGX_HTTP_PORTAL_MP_ERR_TRUNCATED
} ngx_http_portal_multipart_status_e;


/*
 * What a part's headers say.  The strings point into the parser's header
 * buffer (quoted-strings unescaped): valid during the begin callback only,
 * not NUL-terminated.
 */
typedef struct {
    const u_char                   *name;
    size_t                          name_len;
    const u_char                   *filename;
    size_t                          filename_len;
    const u_char                   *type;
    size_t                          type_len;
    unsigned                        has_filename:1;
} ngx_http_portal_mp_part_t;


/* each returns 0 to go on, anything else to stop the parser */
typedef int (*ngx_http_portal_mp_begin_pt)(void *data,
    ngx_http_portal_mp_part_t *part);
typedef int (*ngx_http_portal_mp_data_pt)(void *data, const u_char *p,
    size_t len);
typedef int (*ngx_http_portal_mp_end_pt)(void *data);


typedef struct {
    ngx_http_portal_mp_begin_pt     on_begin;
    ngx_http_portal_mp_data_pt      on_data;
    ngx_http_portal_mp_end_pt       on_end;
    void                           *data;

    /* private */
    int                             state;
    int                             status;
    size_t                          match;
    size_t                          delim_len;
    size_t                          header_len;
    unsigned                        parts;
    /* CRLF "--" boundary */
    u_char                          delim[4 + NGX_HTTP_PORTAL_MP_BOUNDARY_MAX];
    u_char                          header[NGX_HTTP_PORTAL_MP_HEADER_MAX];
} ngx_http_portal_mp_t;


/*
 * The boundary of a Content-Type value, quoted or not; it points into
 * type.  NGX_HTTP_PORTAL_MP_OK, _ERR_TYPE or _ERR_BOUNDARY.
 */
int ngx_http_portal_multipart_boundary(const u_char *type, size_t len,
    const u_char **boundary, size_t *boundary_len);

/* set the callbacks and data first; OK or _ERR_BOUNDARY */
int ngx_http_portal_multipart_init(ngx_http_portal_mp_t *mp,
    const u_char *boundary, size_t len);

/*
 * Chunks of any size, 1 byte included.  OK (more is expected), DONE, or an
 * error, which sticks: later calls return it again.
 */
int ngx_http_portal_multipart_feed(ngx_http_portal_mp_t *mp,
    const u_char *p, size_t len);

/* at the end of the body: DONE, or why not */
int ngx_http_portal_multipart_finish(ngx_http_portal_mp_t *mp);

const char *ngx_http_portal_multipart_strerror(int status);


/* "application/pdf", "image/jpeg", "image/png" by the first bytes, or NULL */
const char *ngx_http_portal_multipart_sniff(const u_char *p, size_t len);

/*
 * What a client called its file, fit to be shown: the last path component,
 * valid UTF-8 without control or bidirectional formatting characters, at
 * most NGX_HTTP_PORTAL_MP_NAME_MAX bytes, trimmed.  dst has room for
 * that many.  0 when nothing usable is left.  Never a path.
 */
size_t ngx_http_portal_multipart_filename(u_char *dst, const u_char *src,
    size_t len);

/* the length of the valid UTF-8 character at p that is not a control, or 0 */
size_t ngx_http_portal_multipart_utf8_char(const u_char *p, size_t len,
    uint32_t *cp);


#endif /* _NGX_HTTP_PORTAL_MP_H_INCLUDED_ */
