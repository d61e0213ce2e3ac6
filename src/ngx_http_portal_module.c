
/*
 * Portail Citoyen: the module definition, its directives (their table,
 * and the setters and checks that no other file owns), its configurations
 * and its worker's start and end.  The APIs that a portal_api location
 * serves are in ngx_http_portal_api.c; the mail directives' setters and
 * checks are in ngx_http_portal_outbox.c, beside the mail's way out.
 * (The request's path through the files is drawn at the top of
 * ngx_http_portal_module.h.)
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_portal_module.h"
#include "ngx_http_portal_api.h"
#include "ngx_http_portal_captcha.h"
#include "ngx_http_portal_catalog.h"
#include "ngx_http_portal_db.h"
#include "ngx_http_portal_housekeeping.h"
#include "ngx_http_portal_outbox.h"
#include "ngx_http_portal_pdf.h"
#include "ngx_http_portal_response.h"
#include "ngx_http_portal_session.h"


#define NGX_HTTP_PORTAL_SECRET_MIN  32
#define NGX_HTTP_PORTAL_SECRET_MAX  4096


static char *ngx_http_portal_secret_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_portal_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_portal_town_address(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_portal_check_answer(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_portal_check_positive(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_portal_check_font(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_portal_check_positive_sec(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_portal_check_positive_size(ngx_conf_t *cf, void *post,
    void *data);
static void *ngx_http_portal_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_portal_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_portal_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_portal_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_portal_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_portal_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_portal_init_process(ngx_cycle_t *cycle);
static void ngx_http_portal_exit_process(ngx_cycle_t *cycle);


static ngx_conf_num_bounds_t  ngx_http_portal_pool_size_bounds = {
    ngx_conf_check_num_bounds, 1, 256
};

static ngx_conf_num_bounds_t  ngx_http_portal_queue_bounds = {
    ngx_conf_check_num_bounds, 0, 65536
};


static ngx_conf_post_t  ngx_http_portal_answer_post = {
    ngx_http_portal_check_answer
};

static ngx_conf_post_t  ngx_http_portal_mail_from_post = {
    ngx_http_portal_outbox_check_from
};

static ngx_conf_post_t  ngx_http_portal_positive_msec_post = {
    ngx_http_portal_check_positive
};

static ngx_conf_post_t  ngx_http_portal_font_post = {
    ngx_http_portal_check_font
};

static ngx_conf_post_t  ngx_http_portal_positive_sec_post = {
    ngx_http_portal_check_positive_sec
};

static ngx_conf_post_t  ngx_http_portal_positive_size_post = {
    ngx_http_portal_check_positive_size
};



static ngx_command_t  ngx_http_portal_commands[] = {

    { ngx_string("portal_db"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_portal_main_conf_t, db),
      NULL },

    { ngx_string("portal_db_pool_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_portal_main_conf_t, db_pool_size),
      &ngx_http_portal_pool_size_bounds },

    { ngx_string("portal_db_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_portal_main_conf_t, db_timeout),
      &ngx_http_portal_positive_msec_post },

    { ngx_string("portal_db_queue"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_portal_main_conf_t, db_queue),
      &ngx_http_portal_queue_bounds },

    { ngx_string("portal_secret_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_portal_secret_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("portal_session_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_portal_main_conf_t, session_timeout),
      &ngx_http_portal_positive_sec_post },

    { ngx_string("portal_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_portal_thread_pool,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_portal_main_conf_t, threads),
      NULL },

    { ngx_string("portal_captcha_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_portal_thread_pool,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_portal_main_conf_t, captcha_threads),
      NULL },

    { ngx_string("portal_pdf_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_portal_thread_pool,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_portal_main_conf_t, pdf_threads),
      NULL },

    { ngx_string("portal_captcha_font"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_portal_main_conf_t, captcha_font),
      &ngx_http_portal_font_post },

    { ngx_string("portal_captcha_test_answer"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_portal_main_conf_t, captcha_test_answer),
      &ngx_http_portal_answer_post },

    { ngx_string("portal_maildir"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_portal_main_conf_t, maildir),
      NULL },

    { ngx_string("portal_smtp"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_portal_outbox_set_smtp,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("portal_smtp_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_portal_main_conf_t, smtp_timeout),
      &ngx_http_portal_positive_msec_post },

    { ngx_string("portal_mail_from"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_portal_main_conf_t, mail_from),
      &ngx_http_portal_mail_from_post },

    { ngx_string("portal_mail_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_portal_main_conf_t, mail_interval),
      &ngx_http_portal_positive_msec_post },

    { ngx_string("portal_catalog_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_portal_main_conf_t, catalog_interval),
      &ngx_http_portal_positive_msec_post },

    { ngx_string("portal_housekeeping_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_portal_main_conf_t, housekeeping_interval),
      &ngx_http_portal_positive_msec_post },

    { ngx_string("portal_cookie_secure"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_portal_loc_conf_t, cookie_secure),
      NULL },

    { ngx_string("portal_public_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_portal_loc_conf_t, public_url),
      NULL },

    { ngx_string("portal_upload_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF
                        |NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_portal_loc_conf_t, upload_max_size),
      NULL },

    { ngx_string("portal_json_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF
                        |NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_portal_loc_conf_t, json_max_size),
      &ngx_http_portal_positive_size_post },

    { ngx_string("portal_town_name"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_portal_loc_conf_t, town_name),
      NULL },

    { ngx_string("portal_town_service"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_portal_loc_conf_t, town_service),
      NULL },

    { ngx_string("portal_town_address"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1234,
      ngx_http_portal_town_address,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_portal_loc_conf_t, town_address),
      NULL },

    { ngx_string("portal_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_portal_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_portal_loc_conf_t, api),
      &ngx_http_portal_api_kinds },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_portal_module_ctx = {
    ngx_http_portal_preconfiguration,      /* preconfiguration */
    ngx_http_portal_postconfiguration,     /* postconfiguration */

    ngx_http_portal_create_main_conf,      /* create main configuration */
    ngx_http_portal_init_main_conf,        /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_portal_create_loc_conf,       /* create location configuration */
    ngx_http_portal_merge_loc_conf         /* merge location configuration */
};


ngx_module_t  ngx_http_portal_module = {
    NGX_MODULE_V1,
    &ngx_http_portal_module_ctx,           /* module context */
    ngx_http_portal_commands,              /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_portal_init_process,          /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_portal_exit_process,          /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};



static char *
ngx_http_portal_secret_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_portal_main_conf_t *pmcf = conf;

    u_char           *buf;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_str_t        *value;
    ngx_file_info_t   fi;

    if (pmcf->secret_file.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    pmcf->secret_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &pmcf->secret_file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(pmcf->secret_file.data, NGX_FILE_RDONLY,
                       NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%s\" failed",
                           pmcf->secret_file.data);
        return NGX_CONF_ERROR;
    }

    buf = NULL;
    n = -1;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%s\" failed",
                           pmcf->secret_file.data);
        goto done;
    }

    if (ngx_file_size(&fi) < NGX_HTTP_PORTAL_SECRET_MIN
        || ngx_file_size(&fi) > NGX_HTTP_PORTAL_SECRET_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" must hold from %d to %d random bytes",
                           pmcf->secret_file.data,
                           NGX_HTTP_PORTAL_SECRET_MIN,
                           NGX_HTTP_PORTAL_SECRET_MAX);
        goto done;
    }

    buf = ngx_alloc(NGX_HTTP_PORTAL_SECRET_MAX, cf->log);
    if (buf == NULL) {
        goto done;
    }

    n = read(fd, buf, NGX_HTTP_PORTAL_SECRET_MAX);

    if (n < NGX_HTTP_PORTAL_SECRET_MIN) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, n == -1 ? ngx_errno : 0,
                           "reading \"%s\" gave less than %d bytes",
                           pmcf->secret_file.data,
                           NGX_HTTP_PORTAL_SECRET_MIN);
        n = -1;
        goto done;
    }

    /*
     * The file's bytes are hashed into a key of fixed size, so that any
     * length of secret gives a full-strength MAC key.
     */

    if (sodium_init() < 0
        || crypto_generichash(pmcf->secret, NGX_HTTP_PORTAL_KEY_LEN,
                              buf, n, NULL, 0) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "libsodium could not derive the cookie key");
        n = -1;
    }

done:

    if (buf) {
        sodium_memzero(buf, NGX_HTTP_PORTAL_SECRET_MAX);
        ngx_free(buf);
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%s\" failed",
                           pmcf->secret_file.data);
    }

    return n == -1 ? NGX_CONF_ERROR : NGX_CONF_OK;
}


static char *
ngx_http_portal_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_portal_threads_t  *t;

    ngx_str_t  *value;

    t = (ngx_http_portal_threads_t *) ((u_char *) conf + cmd->offset);

    if (t->pool) {
        return "is duplicate";
    }

    value = cf->args->elts;
    t->name = value[1];

    /* an unknown name fails at init with "unknown thread pool" and line */

    t->pool = ngx_thread_pool_add(cf, &value[1]);
    if (t->pool == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* the lines of the address, each an argument: at most 4, by the parser */

static char *
ngx_http_portal_town_address(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t     *value, *line;
    ngx_uint_t     i;
    ngx_array_t  **a;

    a = (ngx_array_t **) (p + cmd->offset);

    if (*a != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    *a = ngx_array_create(cf->pool, cf->args->nelts - 1, sizeof(ngx_str_t));
    if (*a == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0) {
            return "takes lines that are not empty";
        }

        line = ngx_array_push(*a);
        if (line == NULL) {
            return NGX_CONF_ERROR;
        }

        *line = value[i];
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_portal_check_answer(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *answer = data;

    ngx_uint_t  i;

    if (answer->len < 4 || answer->len > NGX_HTTP_PORTAL_CAPTCHA_MAX) {
        return "must have from 4 to 16 letters or digits";
    }

    for (i = 0; i < answer->len; i++) {
        if (!((answer->data[i] >= 'a' && answer->data[i] <= 'z')
              || (answer->data[i] >= 'A' && answer->data[i] <= 'Z')
              || (answer->data[i] >= '0' && answer->data[i] <= '9')))
        {
            return "must have from 4 to 16 letters or digits";
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_portal_check_positive(ngx_conf_t *cf, void *post, void *data)
{
    ngx_msec_t  *ms = data;

    if (*ms == 0) {
        return "must be more than 0";
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_portal_check_font(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *font = data;

    if (ngx_conf_full_name(cf->cycle, font, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (access((char *) font->data, R_OK) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%V\" cannot be read", font);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_portal_check_positive_sec(ngx_conf_t *cf, void *post, void *data)
{
    time_t  *sec = data;

    if (*sec <= 0) {
        return "must be more than 0";
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_portal_check_positive_size(ngx_conf_t *cf, void *post, void *data)
{
    size_t  *size = data;

    if (*size == 0) {
        return "must be more than 0";
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_portal_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_portal_main_conf_t  *pmcf;

    pmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_portal_main_conf_t));
    if (pmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     pmcf->db = { 0, NULL };
     *     pmcf->secret_file = { 0, NULL };
     *     pmcf->threads.name = { 0, NULL };
     *     pmcf->threads.pool = NULL;
     *     pmcf->api_file = NULL;
     *     pmcf->smtp = NULL;
     *     pmcf->smtp_file = NULL;
     *     pmcf->db_pool = NULL;
     */

    pmcf->db_pool_size = NGX_CONF_UNSET_UINT;
    pmcf->db_timeout = NGX_CONF_UNSET_MSEC;
    pmcf->db_queue = NGX_CONF_UNSET_UINT;
    pmcf->mail_interval = NGX_CONF_UNSET_MSEC;
    pmcf->smtp_timeout = NGX_CONF_UNSET_MSEC;
    pmcf->housekeeping_interval = NGX_CONF_UNSET_MSEC;
    pmcf->catalog_interval = NGX_CONF_UNSET_MSEC;
    pmcf->session_timeout = NGX_CONF_UNSET;

    return pmcf;
}


static char *
ngx_http_portal_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_portal_main_conf_t *pmcf = conf;

    static ngx_str_t  default_pool = ngx_string("default");

    ngx_conf_init_uint_value(pmcf->db_pool_size, 4);
    ngx_conf_init_msec_value(pmcf->db_timeout, 5000);
    ngx_conf_init_uint_value(pmcf->db_queue, 256);
    ngx_conf_init_msec_value(pmcf->mail_interval, 1000);
    ngx_conf_init_msec_value(pmcf->smtp_timeout, 30000);
    ngx_conf_init_msec_value(pmcf->housekeeping_interval, 600000);
    ngx_conf_init_msec_value(pmcf->catalog_interval, 5000);
    ngx_conf_init_value(pmcf->session_timeout, 12 * 3600);

    if (pmcf->captcha_font.data == NULL) {
        ngx_str_set(&pmcf->captcha_font,
                    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf");
    }

    if (pmcf->db.len && access((char *) pmcf->captcha_font.data, R_OK) != 0)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, ngx_errno,
                      "\"portal_captcha_font\" \"%V\" cannot be read",
                      &pmcf->captcha_font);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_portal_outbox_init_conf(cf, pmcf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (pmcf->db.data && pmcf->db.len == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"portal_db\" must not be empty");
        return NGX_CONF_ERROR;
    }

    if (pmcf->captcha_test_answer.data) {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "\"portal_captcha_test_answer\" is set: every captcha"
                      " has the same answer, which is for tests only");
    }

    if (pmcf->threads.pool == NULL) {
        pmcf->threads.name = default_pool;
        pmcf->threads.pool = ngx_thread_pool_add(cf, &default_pool);
        if (pmcf->threads.pool == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (pmcf->captcha_threads.pool == NULL) {
        pmcf->captcha_threads = pmcf->threads;
    }

    if (pmcf->pdf_threads.pool == NULL) {
        pmcf->pdf_threads = pmcf->threads;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_portal_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_portal_loc_conf_t  *plcf;

    plcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_portal_loc_conf_t));
    if (plcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     plcf->public_url = { 0, NULL };
     *     plcf->town_name = { 0, NULL };
     *     plcf->town_service = { 0, NULL };
     */

    plcf->api = NGX_CONF_UNSET_UINT;
    plcf->cookie_secure = NGX_CONF_UNSET;
    plcf->upload_max_size = NGX_CONF_UNSET_SIZE;
    plcf->json_max_size = NGX_CONF_UNSET_SIZE;
    plcf->town_address = NGX_CONF_UNSET_PTR;

    return plcf;
}


static char *
ngx_http_portal_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_portal_loc_conf_t *prev = parent;
    ngx_http_portal_loc_conf_t *conf = child;

    ngx_conf_merge_uint_value(conf->api, prev->api, 0);
    ngx_conf_merge_value(conf->cookie_secure, prev->cookie_secure, 1);
    ngx_conf_merge_str_value(conf->public_url, prev->public_url, "");
    ngx_conf_merge_size_value(conf->upload_max_size, prev->upload_max_size,
                              10 * 1024 * 1024);

    ngx_conf_merge_size_value(conf->json_max_size, prev->json_max_size,
                              64 * 1024);

    /* no town by default: a PDF names none rather than a wrong one */

    ngx_conf_merge_str_value(conf->town_name, prev->town_name, "");
    ngx_conf_merge_str_value(conf->town_service, prev->town_service, "");
    ngx_conf_merge_ptr_value(conf->town_address, prev->town_address, NULL);

    if (conf->upload_max_size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"portal_upload_max_size\" must be more than 0");
        return NGX_CONF_ERROR;
    }

    if (conf->public_url.len
        && ngx_strncmp(conf->public_url.data, "http://", 7) != 0
        && ngx_strncmp(conf->public_url.data, "https://", 8) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"portal_public_url\" must start with http://"
                           " or https://");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* $portal_login, $portal_nosniff: each file keeps its own table */

static ngx_int_t
ngx_http_portal_preconfiguration(ngx_conf_t *cf)
{
    ngx_uint_t            i;
    ngx_http_variable_t  *var, *v;

    static ngx_http_variable_t  *tables[] = {
        ngx_http_portal_session_variables,
        ngx_http_portal_response_variables
    };

    for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        for (v = tables[i]; v->name.len; v++) {
            var = ngx_http_add_variable(cf, &v->name, v->flags);
            if (var == NULL) {
                return NGX_ERROR;
            }

            var->get_handler = v->get_handler;
            var->data = v->data;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_portal_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_portal_main_conf_t  *pmcf;

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_portal_module);

    if (pmcf->api_file == NULL) {
        return NGX_OK;
    }

    if (pmcf->db.len == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"portal_api\" needs \"portal_db\" in the http block"
                      " in %s:%ui", pmcf->api_file, pmcf->api_line);
        return NGX_ERROR;
    }

    if (pmcf->secret_file.data == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"portal_api\" needs \"portal_secret_file\" in the"
                      " http block in %s:%ui", pmcf->api_file,
                      pmcf->api_line);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_portal_init_process(ngx_cycle_t *cycle)
{
    ngx_http_portal_main_conf_t  *pmcf;

    pmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_portal_module);

    if (pmcf == NULL || pmcf->db.len == 0) {
        return NGX_OK;
    }

    pmcf->threads.pool = ngx_thread_pool_get(cycle, &pmcf->threads.name);
    pmcf->captcha_threads.pool = ngx_thread_pool_get(cycle,
                                                &pmcf->captcha_threads.name);
    pmcf->pdf_threads.pool = ngx_thread_pool_get(cycle,
                                                 &pmcf->pdf_threads.name);

    if (pmcf->threads.pool == NULL || pmcf->captcha_threads.pool == NULL
        || pmcf->pdf_threads.pool == NULL)
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "thread pool \"%V\" not found",
                      pmcf->threads.pool == NULL ? &pmcf->threads.name
                      : pmcf->captcha_threads.pool == NULL
                        ? &pmcf->captcha_threads.name
                        : &pmcf->pdf_threads.name);
        return NGX_ERROR;
    }

    pmcf->db_pool = ngx_http_portal_db_pool_create(cycle, pmcf);
    if (pmcf->db_pool == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_portal_outbox_init(cycle, pmcf) != NGX_OK
        || ngx_http_portal_housekeeping_init(cycle, pmcf) != NGX_OK
        || ngx_http_portal_catalog_init(cycle, pmcf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* pango starts a thread to load the fonts: in a worker, not before */

    ngx_http_portal_pdf_init_process(cycle);

    return NGX_OK;
}


static void
ngx_http_portal_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_portal_main_conf_t  *pmcf;

    pmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_portal_module);

    if (pmcf && pmcf->db_pool) {
        ngx_http_portal_db_pool_destroy(pmcf->db_pool);
        pmcf->db_pool = NULL;
    }

    ngx_http_portal_captcha_exit();
    ngx_http_portal_catalog_exit();

    /* the thread pools, a core module's, have ended before */

    ngx_http_portal_pdf_exit_process(cycle);
}
