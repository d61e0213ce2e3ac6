
/*
 * Portail Citoyen: libFuzzer target for the multipart/form-data parser of
 * src/ngx_http_portal_multipart.c, built without nginx
 * by t/fuzz/run.
 *
 * An input is: one byte that seeds the chunk sizes, a Content-Type value up
 * to the first LF, then the body.  The body is parsed three times, in one
 * chunk, one byte at a time and in chunks of random sizes, each chunk in a
 * buffer of its own exact size so that AddressSanitizer sees any read past
 * it.  The three runs must report the same parts, the same bytes and the
 * same end: a streaming parser must not depend on where a chunk ends.  A
 * fourth run stops the parser from a callback and checks that it stays
 * stopped.  File names go through the display name rules, whose promises
 * are checked too.
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_portal_multipart.h"


#define NGX_HTTP_PORTAL_FUZZ_TYPE_MAX  512


typedef struct {
    ngx_http_portal_mp_t  *mp;
    /* FNV-1a of the events and the data bytes, whatever their chunks */
    uint64_t               hash;
    size_t                 bytes;
    unsigned               parts;
    int                    in_part;
    /* the stopping run: stop at this event, then expect no more */
    long                   stop_at;
    long                   events;
    int                    stopped;
} ngx_http_portal_fuzz_trace_t;


static void ngx_http_portal_fuzz_fail(const char *what);
static void ngx_http_portal_fuzz_hash(ngx_http_portal_fuzz_trace_t *t,
    const void *p, size_t len);
static int ngx_http_portal_fuzz_event(ngx_http_portal_fuzz_trace_t *t);
static void ngx_http_portal_fuzz_inside(ngx_http_portal_fuzz_trace_t *t,
    const u_char *p, size_t len);
static int ngx_http_portal_fuzz_begin(void *data,
    ngx_http_portal_mp_part_t *part);
static int ngx_http_portal_fuzz_data(void *data, const u_char *p,
    size_t len);
static int ngx_http_portal_fuzz_end(void *data);
static void ngx_http_portal_fuzz_name(const u_char *name, size_t len);
static int ngx_http_portal_fuzz_run(const u_char *b, size_t blen,
    const u_char *body, size_t len, size_t mode, unsigned seed,
    ngx_http_portal_fuzz_trace_t *t);
static int ngx_http_portal_fuzz_one(const uint8_t *data, size_t size,
    ngx_http_portal_fuzz_trace_t *trace);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
ngx_http_portal_fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_multipart: %s\n", what);
    abort();
}


static void
ngx_http_portal_fuzz_hash(ngx_http_portal_fuzz_trace_t *t, const void *p,
    size_t len)
{
    size_t          i;
    const u_char   *s = p;

    for (i = 0; i < len; i++) {
        t->hash = (t->hash ^ s[i]) * 0x100000001b3ULL;
    }
}


/* 1 when this callback must stop the parser */

static int
ngx_http_portal_fuzz_event(ngx_http_portal_fuzz_trace_t *t)
{
    if (t->stopped) {
        ngx_http_portal_fuzz_fail("a callback after the parser was stopped");
    }

    if (t->stop_at >= 0 && t->events++ == t->stop_at) {
        t->stopped = 1;
        return 1;
    }

    return 0;
}


/* strings of a part point into the parser's own header buffer */

static void
ngx_http_portal_fuzz_inside(ngx_http_portal_fuzz_trace_t *t, const u_char *p,
    size_t len)
{
    const u_char  *start, *end;

    if (len == 0) {
        return;
    }

    start = t->mp->header;
    end = t->mp->header + sizeof(t->mp->header);

    if (p < start || p + len > end) {
        ngx_http_portal_fuzz_fail("a part string outside the header buffer");
    }
}


static int
ngx_http_portal_fuzz_begin(void *data, ngx_http_portal_mp_part_t *part)
{
    ngx_http_portal_fuzz_trace_t  *t = data;

    if (t->in_part) {
        ngx_http_portal_fuzz_fail("a part begins inside another");
    }

    t->in_part = 1;

    if (++t->parts > NGX_HTTP_PORTAL_MP_PARTS_MAX) {
        ngx_http_portal_fuzz_fail("more parts than the limit");
    }

    if (part->name == NULL) {
        ngx_http_portal_fuzz_fail("a part without a name");
    }

    ngx_http_portal_fuzz_inside(t, part->name, part->name_len);
    ngx_http_portal_fuzz_inside(t, part->filename, part->filename_len);
    ngx_http_portal_fuzz_inside(t, part->type, part->type_len);

    ngx_http_portal_fuzz_hash(t, "B", 1);
    ngx_http_portal_fuzz_hash(t, &part->name_len, sizeof(size_t));
    ngx_http_portal_fuzz_hash(t, part->name, part->name_len);

    if (part->has_filename) {
        ngx_http_portal_fuzz_hash(t, "F", 1);
        ngx_http_portal_fuzz_hash(t, &part->filename_len, sizeof(size_t));
        ngx_http_portal_fuzz_hash(t, part->filename, part->filename_len);
        ngx_http_portal_fuzz_name(part->filename, part->filename_len);
    }

    if (part->type) {
        ngx_http_portal_fuzz_hash(t, "T", 1);
        ngx_http_portal_fuzz_hash(t, &part->type_len, sizeof(size_t));
        ngx_http_portal_fuzz_hash(t, part->type, part->type_len);
    }

    return ngx_http_portal_fuzz_event(t);
}


static int
ngx_http_portal_fuzz_data(void *data, const u_char *p, size_t len)
{
    ngx_http_portal_fuzz_trace_t  *t = data;

    if (!t->in_part) {
        ngx_http_portal_fuzz_fail("data outside a part");
    }

    if (len == 0) {
        ngx_http_portal_fuzz_fail("an empty data callback");
    }

    /* the bytes only: the same data cut otherwise gives the same hash */

    ngx_http_portal_fuzz_hash(t, p, len);
    t->bytes += len;

    return ngx_http_portal_fuzz_event(t);
}


static int
ngx_http_portal_fuzz_end(void *data)
{
    ngx_http_portal_fuzz_trace_t  *t = data;

    if (!t->in_part) {
        ngx_http_portal_fuzz_fail("a part ends that did not begin");
    }

    t->in_part = 0;
    ngx_http_portal_fuzz_hash(t, "E", 1);

    return ngx_http_portal_fuzz_event(t);
}


/* the display name: no path, valid UTF-8, no control, bounded */

static void
ngx_http_portal_fuzz_name(const u_char *name, size_t len)
{
    u_char    *dst;
    size_t     n, i, c;
    uint32_t   cp;

    dst = malloc(NGX_HTTP_PORTAL_MP_NAME_MAX);
    if (dst == NULL) {
        ngx_http_portal_fuzz_fail("out of memory");
    }

    n = ngx_http_portal_multipart_filename(dst, name, len);

    if (n > NGX_HTTP_PORTAL_MP_NAME_MAX) {
        ngx_http_portal_fuzz_fail("a display name too long");
    }

    for (i = 0; i < n; i += c) {
        c = ngx_http_portal_multipart_utf8_char(dst + i, n - i, &cp);

        if (c == 0) {
            ngx_http_portal_fuzz_fail("a display name not valid UTF-8");
        }

        if (cp == '/' || cp == '\\') {
            ngx_http_portal_fuzz_fail("a display name with a path");
        }
    }

    if (n && (dst[0] == ' ' || dst[n - 1] == ' ')) {
        ngx_http_portal_fuzz_fail("a display name not trimmed");
    }

    if ((n == 1 && dst[0] == '.')
        || (n == 2 && dst[0] == '.' && dst[1] == '.'))
    {
        ngx_http_portal_fuzz_fail("a display name that is a directory");
    }

    free(dst);
}


/*
 * mode 0: one chunk, 1: a byte at a time, 2: chunks of sizes drawn from
 * seed.  Returns the parser's last status.
 */

static int
ngx_http_portal_fuzz_run(const u_char *b, size_t blen, const u_char *body,
    size_t len, size_t mode, unsigned seed, ngx_http_portal_fuzz_trace_t *t)
{
    int                    rc, again;
    size_t                 off, n;
    u_char                *chunk;
    ngx_http_portal_mp_t  *mp;

    mp = calloc(1, sizeof(ngx_http_portal_mp_t));
    if (mp == NULL) {
        ngx_http_portal_fuzz_fail("out of memory");
    }

    t->mp = mp;
    t->hash = 0xcbf29ce484222325ULL;

    mp->on_begin = ngx_http_portal_fuzz_begin;
    mp->on_data = ngx_http_portal_fuzz_data;
    mp->on_end = ngx_http_portal_fuzz_end;
    mp->data = t;

    if (ngx_http_portal_multipart_init(mp, b, blen) != NGX_HTTP_PORTAL_MP_OK) {
        ngx_http_portal_fuzz_fail("a boundary accepted, then refused");
    }

    rc = NGX_HTTP_PORTAL_MP_OK;

    for (off = 0; off < len && rc == NGX_HTTP_PORTAL_MP_OK; off += n) {

        if (mode == 0) {
            n = len;

        } else if (mode == 1) {
            n = 1;

        } else {
            seed = seed * 1103515245 + 12345;
            n = 1 + (seed >> 16) % ((seed & 0x100) ? 7 : 300);
        }

        if (n > len - off) {
            n = len - off;
        }

        chunk = malloc(n);
        if (chunk == NULL) {
            ngx_http_portal_fuzz_fail("out of memory");
        }

        memcpy(chunk, body + off, n);
        rc = ngx_http_portal_multipart_feed(mp, chunk, n);
        free(chunk);
    }

    if (rc == NGX_HTTP_PORTAL_MP_OK) {
        rc = ngx_http_portal_multipart_finish(mp);
    }

    /* an end sticks, whatever comes after */

    again = ngx_http_portal_multipart_feed(mp, (const u_char *) "\r\n--", 4);

    if (again != rc) {
        ngx_http_portal_fuzz_fail("a final status that does not stick");
    }

    if (rc == NGX_HTTP_PORTAL_MP_OK
        || rc == NGX_HTTP_PORTAL_MP_ERR_TYPE
        || rc == NGX_HTTP_PORTAL_MP_ERR_BOUNDARY)
    {
        ngx_http_portal_fuzz_fail("an impossible final status");
    }

    if (ngx_http_portal_multipart_strerror(rc) == NULL) {
        ngx_http_portal_fuzz_fail("a status without words");
    }

    if (rc == NGX_HTTP_PORTAL_MP_DONE && t->in_part) {
        ngx_http_portal_fuzz_fail("done inside a part");
    }

    if (t->bytes > len) {
        ngx_http_portal_fuzz_fail("more data out than in");
    }

    free(mp);

    return rc;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_http_portal_fuzz_trace_t  t;

    (void) ngx_http_portal_fuzz_one(data, size, &t);

    return 0;
}


/* the status of the one-chunk run (or of the boundary), -1 without LF */

static int
ngx_http_portal_fuzz_one(const uint8_t *data, size_t size,
    ngx_http_portal_fuzz_trace_t *trace)
{
    int                            rc[3], stop;
    size_t                         i, tlen, blen, len;
    u_char                        *type;
    unsigned                       seed;
    const u_char                  *lf, *body, *b;
    ngx_http_portal_fuzz_trace_t   t[3], s;

    memset(trace, 0, sizeof(ngx_http_portal_fuzz_trace_t));

    if (size < 1) {
        return -1;
    }

    seed = data[0];
    data++;
    size--;

    lf = memchr(data, '\n', size < NGX_HTTP_PORTAL_FUZZ_TYPE_MAX
                            ? size : NGX_HTTP_PORTAL_FUZZ_TYPE_MAX);
    if (lf == NULL) {
        return -1;
    }

    /* the Content-Type in a buffer of its own: reads past it are caught */

    tlen = lf - data;
    body = lf + 1;
    len = size - tlen - 1;

    type = malloc(tlen ? tlen : 1);
    if (type == NULL) {
        ngx_http_portal_fuzz_fail("out of memory");
    }

    memcpy(type, data, tlen);

    (void) ngx_http_portal_multipart_sniff(body, len);

    rc[0] = ngx_http_portal_multipart_boundary(type, tlen, &b, &blen);

    if (rc[0] != NGX_HTTP_PORTAL_MP_OK) {
        free(type);
        return rc[0];
    }

    if (blen < 1 || blen > NGX_HTTP_PORTAL_MP_BOUNDARY_MAX
        || b < type || b + blen > type + tlen)
    {
        ngx_http_portal_fuzz_fail("a boundary out of bounds");
    }

    for (i = 0; i < 3; i++) {
        memset(&t[i], 0, sizeof(ngx_http_portal_fuzz_trace_t));
        t[i].stop_at = -1;
        rc[i] = ngx_http_portal_fuzz_run(b, blen, body, len, i, seed, &t[i]);
    }

    for (i = 1; i < 3; i++) {
        if (rc[i] != rc[0] || t[i].hash != t[0].hash
            || t[i].bytes != t[0].bytes || t[i].parts != t[0].parts)
        {
            fprintf(stderr, "run %zu: status %d, %zu bytes, %u parts;"
                    " run 0: status %d, %zu bytes, %u parts\n",
                    i, rc[i], t[i].bytes, t[i].parts,
                    rc[0], t[0].bytes, t[0].parts);
            ngx_http_portal_fuzz_fail("chunking changed the result");
        }
    }

    /* stopped from a callback: it says so, and calls nothing more */

    memset(&s, 0, sizeof(ngx_http_portal_fuzz_trace_t));
    s.stop_at = seed % 5;

    stop = ngx_http_portal_fuzz_run(b, blen, body, len, 2, seed, &s);

    if (s.stopped && stop != NGX_HTTP_PORTAL_MP_STOPPED) {
        ngx_http_portal_fuzz_fail("a stop that the parser did not report");
    }

    if (!s.stopped && stop != rc[0]) {
        ngx_http_portal_fuzz_fail("a run that was not stopped differs");
    }

    free(type);

    *trace = t[0];

    return rc[0];
}


#ifdef NGX_HTTP_PORTAL_FUZZ_REPLAY

/*
 * Without libFuzzer: "file: status, N parts, M bytes" for each file, which
 * t/fuzz/run compares with t/fuzz/expected.
 */

int
main(int argc, char **argv)
{
    int                            i, rc;
    long                           size;
    FILE                          *f;
    uint8_t                       *data;
    const char                    *name;
    ngx_http_portal_fuzz_trace_t   t;

    for (i = 1; i < argc; i++) {
        f = fopen(argv[i], "rb");
        if (f == NULL || fseek(f, 0, SEEK_END) != 0
            || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        {
            perror(argv[i]);
            return 2;
        }

        data = malloc(size ? size : 1);
        if (data == NULL || fread(data, 1, size, f) != (size_t) size) {
            perror(argv[i]);
            return 2;
        }

        fclose(f);

        rc = ngx_http_portal_fuzz_one(data, size, &t);
        free(data);

        name = strrchr(argv[i], '/');
        name = name ? name + 1 : argv[i];

        printf("%s: %s, %u parts, %zu bytes\n", name,
               rc < 0 ? "no Content-Type line"
                      : ngx_http_portal_multipart_strerror(rc),
               t.parts, t.bytes);
    }

    return 0;
}

#endif
