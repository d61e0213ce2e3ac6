
/*
 * Portail Citoyen: the sections of a request's PDF, from the JSON of
 * portal.request_pdf(): the town and the procedure, a box with the
 * reference, the state and what it means, the applicant and the person
 * concerned, the answers, the supporting documents, the history; and the
 * file's metadata.  Each section puts its text together (_pdf_text.c)
 * and cuts it into blocks (_pdf_page.c); a missing or odd value leaves a
 * word that says so, never a failure.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ngx_http_portal_pdf_common.h"


static void ngx_http_portal_pdf_head(ngx_http_portal_pdf_ctx_t *ctx);
static void ngx_http_portal_pdf_state(ngx_http_portal_pdf_ctx_t *ctx);
static void ngx_http_portal_pdf_applicant(ngx_http_portal_pdf_ctx_t *ctx);
static void ngx_http_portal_pdf_answers(ngx_http_portal_pdf_ctx_t *ctx);
static void ngx_http_portal_pdf_documents(ngx_http_portal_pdf_ctx_t *ctx);
static void ngx_http_portal_pdf_history(ngx_http_portal_pdf_ctx_t *ctx);
static void ngx_http_portal_pdf_field(ngx_http_portal_pdf_ctx_t *ctx,
    const char *label, const json_t *v, double before);
static void ngx_http_portal_pdf_left_out(ngx_http_portal_pdf_ctx_t *ctx,
    size_t n, const char *one, const char *many);
static void ngx_http_portal_pdf_heading(ngx_http_portal_pdf_ctx_t *ctx,
    const char *title);
static void ngx_http_portal_pdf_metadata(ngx_http_portal_pdf_ctx_t *ctx);


/* the states, as the FAQ's "Avancement" explains them */

static const struct {
    const char                     *code;
    const char                     *label;
    const char                     *meaning;
} ngx_http_portal_pdf_states[] = {
    { "brouillon", "brouillon",
      "vous n’avez pas encore soumis cette demande" },
    { "en_attente", "en attente",
      "vous avez soumis votre demande, un agent va la prendre en charge" },
    { "en_traitement", "en traitement",
      "un agent a pris en charge votre demande" },
    { "incomplet", "incomplet",
      "l’agent instructeur a décelé des manques dans votre demande" },
    { "rectifie", "rectifié",
      "une action rectificative a été apportée à votre demande" },
    { "complet", "complet",
      "tous les éléments nécessaires au traitement de votre demande sont "
      "présents, elle suit son cours" },
    { "rejete", "rejeté",
      "l’agent instructeur a rejeté votre demande" },
    { "annule", "annulé",
      "l’agent instructeur a annulé votre demande" },
    { "valide", "validé",
      "votre demande a été validée, le résultat doit vous parvenir" }
};


/* ------------------------------------------------------- the contents */

int
ngx_http_portal_pdf_compose(ngx_http_portal_pdf_ctx_t *ctx)
{
    time_t         now;
    struct tm      tm;
    const json_t  *v;

    v = ngx_http_portal_pdf_get(ctx->doc, NGX_HTTP_PORTAL_PDF_K_GENERATED_AT);

    if (!json_is_string(v)
        || ngx_http_portal_pdf_parse_time(json_string_value(v),
                                          json_string_length(v),
                                          &ctx->generated_tm) != 0)
    {
        now = time(NULL);
        (void) localtime_r(&now, &tm);

        ctx->generated_tm.year = tm.tm_year + 1900;
        ctx->generated_tm.month = tm.tm_mon + 1;
        ctx->generated_tm.day = tm.tm_mday;
        ctx->generated_tm.hour = tm.tm_hour;
        ctx->generated_tm.min = tm.tm_min;
        ctx->generated_tm.sec = tm.tm_sec;
        ctx->generated_tm.offset = (int) (tm.tm_gmtoff / 60);
        ctx->generated_tm.has_time = 1;
        ctx->generated_tm.has_offset = 1;
    }

    ngx_http_portal_pdf_french_time(ctx->generated, sizeof(ctx->generated),
                                    &ctx->generated_tm);

    /* before the budget goes on the answers */

    ngx_http_portal_pdf_running(ctx);
    ngx_http_portal_pdf_metadata(ctx);

    ngx_http_portal_pdf_head(ctx);
    ngx_http_portal_pdf_state(ctx);
    ngx_http_portal_pdf_applicant(ctx);
    ngx_http_portal_pdf_answers(ctx);
    ngx_http_portal_pdf_documents(ctx);
    ngx_http_portal_pdf_history(ctx);

    if (ctx->cut) {
        ngx_http_portal_pdf_add(ctx, "Certains textes trop longs ont été "
                                "raccourcis dans ce document" NNBSP "; ils "
                                "sont complets dans votre demande en ligne.",
                                NGX_HTTP_PORTAL_PDF_SMALL
                                |NGX_HTTP_PORTAL_PDF_MUTED);
        (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA,
                                        14, 0, 0, 0);
    }

    return ctx->failed ? -1 : 0;
}


static void
ngx_http_portal_pdf_head(ngx_http_portal_pdf_ctx_t *ctx)
{
    size_t         i;
    const json_t  *procedure, *v;

    /* the town hall */

    if (ctx->town != NULL) {
        if (ngx_http_portal_pdf_add_town(ctx, ctx->town->name,
                                         NGX_HTTP_PORTAL_PDF_H))
        {
            ngx_http_portal_pdf_add(ctx, "\n", 0);
        }

        if (ngx_http_portal_pdf_add_town(ctx, ctx->town->service, 0)) {
            ngx_http_portal_pdf_add(ctx, "\n", 0);
        }

        for (i = 0; i < NGX_HTTP_PORTAL_PDF_ADDRESS_MAX; i++) {
            if (ngx_http_portal_pdf_add_town(ctx, ctx->town->address[i],
                                             NGX_HTTP_PORTAL_PDF_SMALL
                                             |NGX_HTTP_PORTAL_PDF_MUTED))
            {
                ngx_http_portal_pdf_add(ctx, "\n", 0);
            }
        }

        (void) ngx_http_portal_pdf_add_town(ctx, ctx->town->url,
                                            NGX_HTTP_PORTAL_PDF_SMALL
                                            |NGX_HTTP_PORTAL_PDF_MUTED);

        (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA,
                                        0, 0, 0, 1);
    }

    /* the procedure */

    ngx_http_portal_pdf_add(ctx, "Récapitulatif de votre demande\n",
                            NGX_HTTP_PORTAL_PDF_SMALL
                            |NGX_HTTP_PORTAL_PDF_MUTED);

    procedure = ngx_http_portal_pdf_get(ctx->doc,
                                        NGX_HTTP_PORTAL_PDF_K_PROCEDURE);

    v = ngx_http_portal_pdf_get(procedure, NGX_HTTP_PORTAL_PDF_K_TITLE);

    if (ngx_http_portal_pdf_add_data(ctx, v, NGX_HTTP_PORTAL_PDF_TITLE
                                             |NGX_HTTP_PORTAL_PDF_BOLD,
                                     NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                                     NGX_HTTP_PORTAL_PDF_LINE)
        == 0)
    {
        ngx_http_portal_pdf_add(ctx, "Demande",
                                NGX_HTTP_PORTAL_PDF_TITLE
                                |NGX_HTTP_PORTAL_PDF_BOLD);
    }

    /* procedure.theme: "…", or theme: "…" or {title} */

    v = ngx_http_portal_pdf_get(procedure, NGX_HTTP_PORTAL_PDF_K_THEME);

    if (v == NULL) {
        v = ngx_http_portal_pdf_get(ctx->doc, NGX_HTTP_PORTAL_PDF_K_THEME);
    }

    if (json_is_object(v)) {
        v = ngx_http_portal_pdf_get(v, NGX_HTTP_PORTAL_PDF_K_TITLE);
    }

    if (json_is_string(v) && json_string_length(v) > 0) {
        ngx_http_portal_pdf_add(ctx, "\n", 0);
        (void) ngx_http_portal_pdf_add_data(ctx, v, NGX_HTTP_PORTAL_PDF_MUTED,
                                            NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                                            NGX_HTTP_PORTAL_PDF_LINE);
    }

    (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA,
                                    22, 0, 0, 1);
}


static void
ngx_http_portal_pdf_state(ngx_http_portal_pdf_ctx_t *ctx)
{
    char           c;
    size_t         i, len, n;
    const char    *code, *label, *meaning;
    const json_t  *v, *created, *submitted;

    ngx_http_portal_pdf_add(ctx, "Référence" NBSP ": ", 0);

    v = ngx_http_portal_pdf_get(ctx->doc, NGX_HTTP_PORTAL_PDF_K_REFERENCE);

    if (ngx_http_portal_pdf_add_data(ctx, v, NGX_HTTP_PORTAL_PDF_BOLD
                                             |NGX_HTTP_PORTAL_PDF_LARGE,
                                     64, NGX_HTTP_PORTAL_PDF_LINE)
        == 0)
    {
        ngx_http_portal_pdf_add(ctx, "non attribuée",
                                NGX_HTTP_PORTAL_PDF_MUTED);
    }

    /* the label and meaning given, else the FAQ's for the code */

    label = NULL;
    meaning = NULL;

    code = ngx_http_portal_pdf_string(ctx->doc, NGX_HTTP_PORTAL_PDF_K_STATE,
                                      &len);

    if (code != NULL) {
        n = sizeof(ngx_http_portal_pdf_states)
            / sizeof(ngx_http_portal_pdf_states[0]);

        for (i = 0; i < n; i++) {
            if (strlen(ngx_http_portal_pdf_states[i].code) == len
                && memcmp(ngx_http_portal_pdf_states[i].code, code, len) == 0)
            {
                label = ngx_http_portal_pdf_states[i].label;
                meaning = ngx_http_portal_pdf_states[i].meaning;
                break;
            }
        }
    }

    ngx_http_portal_pdf_add(ctx, "\nÉtat" NBSP ": ", 0);

    v = ngx_http_portal_pdf_get(ctx->doc, NGX_HTTP_PORTAL_PDF_K_STATE_LABEL);

    if (json_is_string(v) && json_string_length(v) > 0) {
        ngx_http_portal_pdf_add(ctx, "«" NBSP, NGX_HTTP_PORTAL_PDF_BOLD);
        (void) ngx_http_portal_pdf_add_data(ctx, v, NGX_HTTP_PORTAL_PDF_BOLD,
                                            NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                                            NGX_HTTP_PORTAL_PDF_LINE);
        ngx_http_portal_pdf_add(ctx, NBSP "»", NGX_HTTP_PORTAL_PDF_BOLD);

    } else if (label != NULL) {
        ngx_http_portal_pdf_add(ctx, "«" NBSP, NGX_HTTP_PORTAL_PDF_BOLD);
        ngx_http_portal_pdf_add(ctx, label, NGX_HTTP_PORTAL_PDF_BOLD);
        ngx_http_portal_pdf_add(ctx, NBSP "»", NGX_HTTP_PORTAL_PDF_BOLD);

    } else if (code != NULL && len > 0) {
        (void) ngx_http_portal_pdf_add_data(ctx,
                     ngx_http_portal_pdf_get(ctx->doc,
                                             NGX_HTTP_PORTAL_PDF_K_STATE),
                     NGX_HTTP_PORTAL_PDF_BOLD, 64, NGX_HTTP_PORTAL_PDF_LINE);

    } else {
        ngx_http_portal_pdf_add(ctx, "inconnu", NGX_HTTP_PORTAL_PDF_MUTED);
    }

    /* the meaning as a sentence: "Un agent a pris en charge…." */

    v = ngx_http_portal_pdf_get(ctx->doc,
                                NGX_HTTP_PORTAL_PDF_K_STATE_MEANING);

    if (json_is_string(v) && json_string_length(v) > 0) {
        meaning = json_string_value(v);
        n = json_string_length(v);

    } else {
        n = (meaning != NULL) ? strlen(meaning) : 0;
    }

    if (n > 0) {
        ngx_http_portal_pdf_add(ctx, "\n", 0);

        if (ngx_http_portal_pdf_clean(ctx, meaning, n,
                                      NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                                      NGX_HTTP_PORTAL_PDF_LINE, 1)
            > 0)
        {
            c = ctx->text.s->str[ctx->text.s->len - 1];

            if (c != '.' && c != '!' && c != '?') {
                ngx_http_portal_pdf_add(ctx, ".", 0);
            }
        }
    }

    created = ngx_http_portal_pdf_get(ctx->doc,
                                      NGX_HTTP_PORTAL_PDF_K_CREATED_AT);
    submitted = ngx_http_portal_pdf_get(ctx->doc,
                                        NGX_HTTP_PORTAL_PDF_K_SUBMITTED_AT);

    if (json_is_string(created)) {
        ngx_http_portal_pdf_add(ctx, "\nCréée le ",
                                NGX_HTTP_PORTAL_PDF_SMALL
                                |NGX_HTTP_PORTAL_PDF_MUTED);
        ngx_http_portal_pdf_add_time(ctx, created,
                                     NGX_HTTP_PORTAL_PDF_SMALL
                                     |NGX_HTTP_PORTAL_PDF_MUTED);
    }

    if (json_is_string(submitted)) {
        ngx_http_portal_pdf_add(ctx, json_is_string(created)
                                     ? " · déposée le " : "\nDéposée le ",
                                NGX_HTTP_PORTAL_PDF_SMALL
                                |NGX_HTTP_PORTAL_PDF_MUTED);
        ngx_http_portal_pdf_add_time(ctx, submitted,
                                     NGX_HTTP_PORTAL_PDF_SMALL
                                     |NGX_HTTP_PORTAL_PDF_MUTED);
    }

    (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_BOX,
                                    14, 0, 0, 0);
}


static void
ngx_http_portal_pdf_applicant(ngx_http_portal_pdf_ctx_t *ctx)
{
    size_t         start;
    const json_t  *a, *address, *member, *v;

    a = ngx_http_portal_pdf_get(ctx->doc, NGX_HTTP_PORTAL_PDF_K_APPLICANT);

    if (json_is_object(a)) {
        ngx_http_portal_pdf_heading(ctx, "Demandeur");

        /* "Mme Anne Dupont": the pieces there are, one space apart */

        ngx_http_portal_pdf_add(ctx, "Nom" NBSP ": ",
                                NGX_HTTP_PORTAL_PDF_BOLD);

        start = ctx->text.s->len;

        if (ngx_http_portal_pdf_add_data(ctx,
                ngx_http_portal_pdf_get(a, NGX_HTTP_PORTAL_PDF_K_CIVILITY),
                0, NGX_HTTP_PORTAL_PDF_FIELD_MAX, NGX_HTTP_PORTAL_PDF_LINE))
        {
            ngx_http_portal_pdf_add(ctx, " ", 0);
        }

        if (ngx_http_portal_pdf_add_data(ctx,
                ngx_http_portal_pdf_get(a, NGX_HTTP_PORTAL_PDF_K_FIRST_NAME),
                0, NGX_HTTP_PORTAL_PDF_FIELD_MAX, NGX_HTTP_PORTAL_PDF_LINE))
        {
            ngx_http_portal_pdf_add(ctx, " ", 0);
        }

        if (ngx_http_portal_pdf_add_data(ctx,
                ngx_http_portal_pdf_get(a, NGX_HTTP_PORTAL_PDF_K_LAST_NAME),
                0, NGX_HTTP_PORTAL_PDF_FIELD_MAX, NGX_HTTP_PORTAL_PDF_LINE)
            == 0)
        {
            /* else the name as one */

            (void) ngx_http_portal_pdf_add_data(ctx,
                    ngx_http_portal_pdf_get(a, NGX_HTTP_PORTAL_PDF_K_NAME),
                    0, NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                    NGX_HTTP_PORTAL_PDF_LINE);
        }

        if (ctx->text.s->len == start) {
            ngx_http_portal_pdf_add(ctx, "non renseigné",
                                    NGX_HTTP_PORTAL_PDF_MUTED);
        }

        (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA,
                                        0, 0, 0, 0);

        address = ngx_http_portal_pdf_get(a, NGX_HTTP_PORTAL_PDF_K_ADDRESS);

        if (json_is_string(address)) {
            ngx_http_portal_pdf_field(ctx, "Adresse", address, 3);

        } else if (json_is_object(address)) {
            ngx_http_portal_pdf_add(ctx, "Adresse" NBSP ": ",
                                    NGX_HTTP_PORTAL_PDF_BOLD);

            start = ctx->text.s->len;

            if (ngx_http_portal_pdf_add_data(ctx,
                    ngx_http_portal_pdf_get(address,
                                            NGX_HTTP_PORTAL_PDF_K_LINE),
                    0, NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                    NGX_HTTP_PORTAL_PDF_LINES))
            {
                ngx_http_portal_pdf_add(ctx, "\n", 0);
            }

            if (ngx_http_portal_pdf_add_data(ctx,
                    ngx_http_portal_pdf_get(address,
                                            NGX_HTTP_PORTAL_PDF_K_POSTCODE),
                    0, 32, NGX_HTTP_PORTAL_PDF_LINE))
            {
                ngx_http_portal_pdf_add(ctx, " ", 0);
            }

            (void) ngx_http_portal_pdf_add_data(ctx,
                    ngx_http_portal_pdf_get(address,
                                            NGX_HTTP_PORTAL_PDF_K_CITY),
                    0, NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                    NGX_HTTP_PORTAL_PDF_LINE);

            if (ctx->text.s->len == start) {
                ngx_http_portal_pdf_reset(ctx);

            } else {
                (void) ngx_http_portal_pdf_push(ctx,
                                                NGX_HTTP_PORTAL_PDF_PARA,
                                                3, 0, 0, 0);
            }
        }

        v = ngx_http_portal_pdf_get(a, NGX_HTTP_PORTAL_PDF_K_EMAIL);
        ngx_http_portal_pdf_field(ctx, "Courriel", v, 3);

        v = ngx_http_portal_pdf_get(a, NGX_HTTP_PORTAL_PDF_K_PHONE);
        ngx_http_portal_pdf_field(ctx, "Téléphone", v, 3);
    }

    member = ngx_http_portal_pdf_get(ctx->doc, NGX_HTTP_PORTAL_PDF_K_MEMBER);
    v = ngx_http_portal_pdf_get(member, NGX_HTTP_PORTAL_PDF_K_NAME);

    if (v != NULL) {
        ngx_http_portal_pdf_heading(ctx, "Personne concernée");
        ngx_http_portal_pdf_field(ctx, "Nom", v, 0);
    }
}


static void
ngx_http_portal_pdf_answers(ngx_http_portal_pdf_ctx_t *ctx)
{
    size_t         i, n;
    const json_t  *answers, *a;

    ngx_http_portal_pdf_heading(ctx, "Réponses");

    answers = ngx_http_portal_pdf_get(ctx->doc, NGX_HTTP_PORTAL_PDF_K_ANSWERS);
    n = json_is_array(answers) ? json_array_size(answers) : 0;

    if (n == 0) {
        ngx_http_portal_pdf_add(ctx, "Aucune réponse.",
                                NGX_HTTP_PORTAL_PDF_MUTED);
        (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA,
                                        0, 0, 0, 0);
        return;
    }

    for (i = 0; i < n && i < NGX_HTTP_PORTAL_PDF_ANSWERS_MAX; i++) {
        a = json_array_get(answers, i);

        if (!json_is_object(a)) {
            continue;
        }

        /* the question, kept with the first lines of its answer */

        if (ngx_http_portal_pdf_add_data(ctx,
                ngx_http_portal_pdf_get(a, NGX_HTTP_PORTAL_PDF_K_LABEL),
                NGX_HTTP_PORTAL_PDF_BOLD, NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                NGX_HTTP_PORTAL_PDF_LINE)
            == 0)
        {
            ngx_http_portal_pdf_add(ctx, "Question sans intitulé",
                                    NGX_HTTP_PORTAL_PDF_BOLD
                                    |NGX_HTTP_PORTAL_PDF_MUTED);
        }

        (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA,
                                        i == 0 ? 0 : 9, 0, 0, 1);

        if (ngx_http_portal_pdf_add_data(ctx,
                ngx_http_portal_pdf_get(a, NGX_HTTP_PORTAL_PDF_K_VALUE),
                0, NGX_HTTP_PORTAL_PDF_VALUE_MAX, NGX_HTTP_PORTAL_PDF_LINES)
            == 0)
        {
            ngx_http_portal_pdf_add(ctx, "non renseigné",
                                    NGX_HTTP_PORTAL_PDF_MUTED);
        }

        (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA,
                                        2, NGX_HTTP_PORTAL_PDF_HANG, 0, 0);
    }

    ngx_http_portal_pdf_left_out(ctx, n - i, "réponse non reproduite",
                                 "réponses non reproduites");
}


static void
ngx_http_portal_pdf_documents(ngx_http_portal_pdf_ctx_t *ctx)
{
    char           size[64];
    size_t         i, n;
    const json_t  *documents, *d, *v;

    ngx_http_portal_pdf_heading(ctx, "Pièces justificatives");

    documents = ngx_http_portal_pdf_get(ctx->doc,
                                        NGX_HTTP_PORTAL_PDF_K_DOCUMENTS);
    n = json_is_array(documents) ? json_array_size(documents) : 0;

    if (n == 0) {
        ngx_http_portal_pdf_add(ctx, "Aucune pièce justificative n’a été "
                                "déposée en ligne.",
                                NGX_HTTP_PORTAL_PDF_MUTED);
        (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA,
                                        0, 0, 0, 0);
        return;
    }

    for (i = 0; i < n && i < NGX_HTTP_PORTAL_PDF_DOCUMENTS_MAX; i++) {
        d = json_array_get(documents, i);

        if (!json_is_object(d)) {
            continue;
        }

        ngx_http_portal_pdf_add(ctx, "•" NBSP " ", NGX_HTTP_PORTAL_PDF_ACCENT);

        if (ngx_http_portal_pdf_add_data(ctx,
                ngx_http_portal_pdf_get(d, NGX_HTTP_PORTAL_PDF_K_LABEL),
                NGX_HTTP_PORTAL_PDF_BOLD, NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                NGX_HTTP_PORTAL_PDF_LINE)
            == 0)
        {
            ngx_http_portal_pdf_add(ctx, "Document", NGX_HTTP_PORTAL_PDF_BOLD);
        }

        v = ngx_http_portal_pdf_get(d, NGX_HTTP_PORTAL_PDF_K_FILENAME);

        if (!ngx_http_portal_pdf_empty(v)) {
            ngx_http_portal_pdf_add(ctx, NBSP ": ", 0);
            (void) ngx_http_portal_pdf_add_data(ctx, v, 0,
                                                NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                                                NGX_HTTP_PORTAL_PDF_LINE);
        }

        v = ngx_http_portal_pdf_get(d, NGX_HTTP_PORTAL_PDF_K_SIZE);

        if (json_is_number(v)) {
            ngx_http_portal_pdf_french_size(size, sizeof(size), v);
            ngx_http_portal_pdf_add(ctx, " (", NGX_HTTP_PORTAL_PDF_MUTED);
            ngx_http_portal_pdf_add(ctx, size, NGX_HTTP_PORTAL_PDF_MUTED);
            ngx_http_portal_pdf_add(ctx, ")", NGX_HTTP_PORTAL_PDF_MUTED);
        }

        (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA,
                                        i == 0 ? 0 : 3, 0,
                                        NGX_HTTP_PORTAL_PDF_HANG, 0);
    }

    ngx_http_portal_pdf_left_out(ctx, n - i, "document non reproduit",
                                 "documents non reproduits");
}


static void
ngx_http_portal_pdf_history(ngx_http_portal_pdf_ctx_t *ctx)
{
    size_t         i, n;
    const json_t  *history, *e, *v;

    history = ngx_http_portal_pdf_get(ctx->doc, NGX_HTTP_PORTAL_PDF_K_HISTORY);
    n = json_is_array(history) ? json_array_size(history) : 0;

    if (n == 0) {
        return;
    }

    ngx_http_portal_pdf_heading(ctx, "Historique");

    for (i = 0; i < n && i < NGX_HTTP_PORTAL_PDF_HISTORY_MAX; i++) {
        e = json_array_get(history, i);

        if (!json_is_object(e)) {
            continue;
        }

        v = ngx_http_portal_pdf_get(e, NGX_HTTP_PORTAL_PDF_K_AT);

        if (json_is_string(v)) {
            ngx_http_portal_pdf_add_time(ctx, v, NGX_HTTP_PORTAL_PDF_BOLD);

        } else {
            ngx_http_portal_pdf_add(ctx, "Date inconnue",
                                    NGX_HTTP_PORTAL_PDF_BOLD);
        }

        v = ngx_http_portal_pdf_get(e, NGX_HTTP_PORTAL_PDF_K_LABEL);

        if (v == NULL) {
            v = ngx_http_portal_pdf_get(e, NGX_HTTP_PORTAL_PDF_K_TO_LABEL);
        }

        if (!ngx_http_portal_pdf_empty(v)) {
            ngx_http_portal_pdf_add(ctx, " — ", 0);
            (void) ngx_http_portal_pdf_add_data(ctx, v, 0,
                                                NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                                                NGX_HTTP_PORTAL_PDF_LINE);
        }

        v = ngx_http_portal_pdf_get(e, NGX_HTTP_PORTAL_PDF_K_MOTIVE);

        if (!ngx_http_portal_pdf_empty(v)) {
            ngx_http_portal_pdf_add(ctx, "\nMotif" NBSP ": ",
                                    NGX_HTTP_PORTAL_PDF_MUTED);
            (void) ngx_http_portal_pdf_add_data(ctx, v, 0,
                                                NGX_HTTP_PORTAL_PDF_VALUE_MAX,
                                                NGX_HTTP_PORTAL_PDF_LINES);
        }

        (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA,
                                        i == 0 ? 0 : 4, 0,
                                        NGX_HTTP_PORTAL_PDF_HANG, 0);
    }

    ngx_http_portal_pdf_left_out(ctx, n - i, "événement non reproduit",
                                 "événements non reproduits");
}


/* "Label : value", when there is a value */

static void
ngx_http_portal_pdf_field(ngx_http_portal_pdf_ctx_t *ctx, const char *label,
    const json_t *v, double before)
{
    if (ngx_http_portal_pdf_empty(v)) {
        return;
    }

    ngx_http_portal_pdf_add(ctx, label, NGX_HTTP_PORTAL_PDF_BOLD);
    ngx_http_portal_pdf_add(ctx, NBSP ": ", NGX_HTTP_PORTAL_PDF_BOLD);
    (void) ngx_http_portal_pdf_add_data(ctx, v, 0,
                                        NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                                        NGX_HTTP_PORTAL_PDF_LINES);
    (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA, before,
                                    0, 0, 0);
}


static void
ngx_http_portal_pdf_left_out(ngx_http_portal_pdf_ctx_t *ctx, size_t n,
    const char *one, const char *many)
{
    char  buf[128];

    if (n == 0) {
        return;
    }

    snprintf(buf, sizeof(buf), "… et %zu %s dans ce document.",
             n, n == 1 ? one : many);

    ngx_http_portal_pdf_add(ctx, buf, NGX_HTTP_PORTAL_PDF_MUTED);
    (void) ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_PARA, 8, 0, 0, 0);
    ctx->cut = 1;
}


static void
ngx_http_portal_pdf_heading(ngx_http_portal_pdf_ctx_t *ctx, const char *title)
{
    ngx_http_portal_pdf_block_t  *b;

    ngx_http_portal_pdf_add(ctx, title, NGX_HTTP_PORTAL_PDF_H);

    b = ngx_http_portal_pdf_push(ctx, NGX_HTTP_PORTAL_PDF_HEADING, 18,
                                 0, 0, 1);
    if (b != NULL) {
        b->outline = title;
        b->after = 7;
    }
}

/* the file's title, author, subject and dates, for readers and indexes */

static void
ngx_http_portal_pdf_metadata(ngx_http_portal_pdf_ctx_t *ctx)
{
    ngx_http_portal_pdf_add(ctx, "Demande ", 0);

    (void) ngx_http_portal_pdf_add_data(ctx,
               ngx_http_portal_pdf_get(ctx->doc,
                                       NGX_HTTP_PORTAL_PDF_K_REFERENCE),
               0, 64, NGX_HTTP_PORTAL_PDF_LINE);

    ngx_http_portal_pdf_describe(ctx,
        ngx_http_portal_pdf_get(
                     ngx_http_portal_pdf_get(ctx->doc,
                                             NGX_HTTP_PORTAL_PDF_K_PROCEDURE),
                     NGX_HTTP_PORTAL_PDF_K_TITLE),
        "Récapitulatif d’une demande faite en ligne", &ctx->generated_tm);
}


void
ngx_http_portal_pdf_describe(ngx_http_portal_pdf_ctx_t *ctx,
    const json_t *title, const char *subject,
    const ngx_http_portal_pdf_tm_t *tm)
{
    char  date[64];

    if (!ngx_http_portal_pdf_empty(title)) {
        ngx_http_portal_pdf_add(ctx, " — ", 0);
        (void) ngx_http_portal_pdf_add_data(ctx, title, 0,
                                            NGX_HTTP_PORTAL_PDF_FIELD_MAX,
                                            NGX_HTTP_PORTAL_PDF_LINE);
    }

    cairo_pdf_surface_set_metadata(ctx->surface, CAIRO_PDF_METADATA_TITLE,
                                   ctx->text.s->str);
    ngx_http_portal_pdf_reset(ctx);

    if (ctx->town != NULL
        && ngx_http_portal_pdf_add_town(ctx, ctx->town->name, 0))
    {
        cairo_pdf_surface_set_metadata(ctx->surface,
                                       CAIRO_PDF_METADATA_AUTHOR,
                                       ctx->text.s->str);
        ngx_http_portal_pdf_reset(ctx);
    }

    cairo_pdf_surface_set_metadata(ctx->surface, CAIRO_PDF_METADATA_SUBJECT,
                                   subject);
    cairo_pdf_surface_set_metadata(ctx->surface, CAIRO_PDF_METADATA_CREATOR,
                                   "Portail Citoyen");

    if (tm->has_time) {
        if (tm->has_offset) {
            snprintf(date, sizeof(date),
                     "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
                     tm->year, tm->month, tm->day, tm->hour, tm->min,
                     tm->sec, tm->offset < 0 ? '-' : '+',
                     abs(tm->offset) / 60, abs(tm->offset) % 60);

        } else {
            snprintf(date, sizeof(date), "%04d-%02d-%02dT%02d:%02d:%02d",
                     tm->year, tm->month, tm->day, tm->hour, tm->min,
                     tm->sec);
        }

        cairo_pdf_surface_set_metadata(ctx->surface,
                                       CAIRO_PDF_METADATA_CREATE_DATE, date);
    }
}
