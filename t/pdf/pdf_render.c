
/*
 * t/pdf's driver: renders a request (a JSON file) as the module would, in
 * pool threads, without nginx; with -l, a letter (portal.agent_letter()'s
 * JSON) with the letters' renderer.
 *
 *   pdf_render in.json out.pdf           one PDF
 *   pdf_render -n N -j T in.json         N PDFs in each of T threads: PDFs/s
 *   pdf_render -s out.pdf                a hostile request made here: 300
 *                                        answers of 70 KiB, 150 documents…
 *   pdf_render -l [-n N] [-j T] in.json [out.pdf]     a letter
 */


#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ngx_http_portal_pdf_render.h"
#include "ngx_http_portal_pdf_letter_render.h"


typedef struct {
    json_t                         *doc;
    long                            n;
    /* where the first PDF goes, or NULL */
    const char                     *out;
    int                             letter;
    int                             failed;
} pdf_render_job_t;


static void *pdf_render_thread(void *data);
static int pdf_render_write(const char *path, const u_char *pdf, size_t len);
static json_t *pdf_render_stress(void);


static const ngx_http_portal_pdf_town_t  pdf_render_town = {
    "Ville de Saint-Exemple-sur-Loire",
    "Mairie — Service des démarches en ligne",
    { "Hôtel de Ville", "1 place de la République",
      "44000 Saint-Exemple-sur-Loire", NULL },
    "https://demarches.saint-exemple.fr"
};


int
main(int argc, char **argv)
{
    int                i, t, threads, stress, letter, rc;
    long               n;
    char               err[NGX_HTTP_PORTAL_PDF_ERRLEN];
    double             s;
    json_t            *doc;
    pthread_t         *tid;
    json_error_t       jerr;
    double             cpu;
    struct timespec    t0, t1, c0, c1;
    pdf_render_job_t  *jobs;

    n = 1;
    threads = 1;
    stress = 0;
    letter = 0;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-s") == 0) {
            stress = 1;

        } else if (strcmp(argv[i], "-l") == 0) {
            letter = 1;

        } else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            n = atol(argv[++i]);

        } else if (strcmp(argv[i], "-j") == 0 && i + 1 < argc) {
            threads = atoi(argv[++i]);

        } else {
            break;
        }
    }

    if (n < 1 || threads < 1 || (stress && letter)
        || argc - i < 1 - stress || argc - i > 2 - stress)
    {
        fprintf(stderr, "usage: pdf_render [-l] [-n N] [-j T] in.json"
                        " [out.pdf]\n"
                        "       pdf_render -s [-n N] [-j T] [out.pdf]\n");
        return 2;
    }

    if (stress) {
        doc = pdf_render_stress();

    } else {
        /* the module may let PostgreSQL's \u0000 through: so do we */

        doc = json_load_file(argv[i], JSON_ALLOW_NUL, &jerr);
        if (doc == NULL) {
            fprintf(stderr, "pdf_render: %s: %s\n", argv[i], jerr.text);
            return 1;
        }

        i++;
    }

    if (ngx_http_portal_pdf_init(err, sizeof(err)) != 0) {
        fprintf(stderr, "pdf_render: %s\n", err);
        json_decref(doc);
        return 1;
    }

    jobs = calloc(threads, sizeof(pdf_render_job_t));
    tid = calloc(threads, sizeof(pthread_t));

    if (jobs == NULL || tid == NULL) {
        return 1;
    }

    /* every PDF in a thread that is not main's, as in nginx's pool */

    clock_gettime(CLOCK_MONOTONIC, &t0);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);

    for (t = 0; t < threads; t++) {
        jobs[t].doc = doc;
        jobs[t].n = n;
        jobs[t].letter = letter;
        jobs[t].out = (t == 0 && i < argc) ? argv[i] : NULL;

        if (pthread_create(&tid[t], NULL, pdf_render_thread, &jobs[t]) != 0) {
            return 1;
        }
    }

    rc = 0;

    for (t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        rc |= jobs[t].failed;
    }

    clock_gettime(CLOCK_MONOTONIC, &t1);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);

    s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    cpu = (c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;

    /* CPU time too: a busy machine stretches the clock, not the work */

    if (rc == 0 && (n > 1 || stress)) {
        printf("%ld PDF%s in %d thread%s: %.2f s, %.0f PDFs/s; %.1f ms of "
               "CPU a PDF (%.0f PDFs/s a core)\n",
               n * threads, n * threads > 1 ? "s" : "",
               threads, threads > 1 ? "s" : "", s, n * threads / s,
               cpu * 1e3 / (n * threads), n * threads / cpu);
    }

    free(jobs);
    free(tid);
    json_decref(doc);

    /* the threads' font maps, as nginx frees them at a worker's exit */

    ngx_http_portal_pdf_exit();

    return rc;
}


static void *
pdf_render_thread(void *data)
{
    pdf_render_job_t *job = data;

    long     i;
    char     err[NGX_HTTP_PORTAL_PDF_ERRLEN];
    u_char  *pdf;
    size_t   len;

    for (i = 0; i < job->n; i++) {
        if ((job->letter
             ? ngx_http_portal_pdf_letter_render(job->doc, &pdf_render_town,
                                                 &pdf, &len, err,
                                                 sizeof(err))
             : ngx_http_portal_pdf_render(job->doc, &pdf_render_town, &pdf,
                                          &len, err, sizeof(err)))
            != 0)
        {
            fprintf(stderr, "pdf_render: %s\n", err);
            job->failed = 1;
            break;
        }

        if (i == 0 && job->out != NULL
            && pdf_render_write(job->out, pdf, len) != 0)
        {
            job->failed = 1;
        }

        free(pdf);
    }

    return NULL;
}


static int
pdf_render_write(const char *path, const u_char *pdf, size_t len)
{
    FILE  *f;

    f = fopen(path, "wb");

    if (f == NULL || fwrite(pdf, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        return 1;
    }

    return 0;
}


/* the caps' test: far more than any form, and long words, blank lines */

static json_t *
pdf_render_stress(void)
{
    int      i;
    char     label[64];
    char    *value, *p;
    size_t   k;
    json_t  *doc, *answers, *documents, *history;

    value = malloc(70 * 1024 + 1);
    if (value == NULL) {
        exit(1);
    }

    p = value;

    for (k = 0; p < value + 70 * 1024 - 400; k++) {
        switch (k % 7) {
        case 0:
            p += sprintf(p, "\n\n\n\n");
            break;
        case 1:
            memset(p, 'W', 300);
            p += 300;
            break;
        default:
            p += sprintf(p, "élève <b>&amp; ");
        }
    }

    *p = '\0';

    answers = json_array();
    documents = json_array();
    history = json_array();

    for (i = 0; i < 300; i++) {
        snprintf(label, sizeof(label), "Question n°%d", i + 1);
        json_array_append_new(answers, json_pack("{s:s, s:s}",
                                                 "label", label,
                                                 "value", value));
        json_array_append_new(history, json_pack("{s:s, s:s, s:s}",
                                    "at", "2026-03-14T09:26:41+01:00",
                                    "label", "en traitement",
                                    "motive", value));
    }

    for (i = 0; i < 150; i++) {
        json_array_append_new(documents, json_pack("{s:s, s:s, s:i}",
                                                   "label", value,
                                                   "filename", value,
                                                   "size", i * 100000));
    }

    doc = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:o, s:o, s:o}",
                    "reference", "2026-999999",
                    "state", "en_traitement",
                    "state_label", value,
                    "state_meaning", value,
                    "procedure", "title", value, "theme", "Stress",
                    "answers", answers,
                    "documents", documents,
                    "history", history);

    free(value);

    return doc;
}
