
/*
 * Portail Citoyen: `make agent`, an agent made or updated by an operator.
 *
 *     PORTAL_AGENT_DB="host=.../var/pg/run dbname=portal user=postgres" \
 *     PORTAL_AGENT_PASSWORD=... portal-agent LOGIN ROLE [NAME [THEMES]]
 *
 * The password comes from the environment (PORTAL_AGENT_PASSWORD, which
 * `make agent` fills from its PASSWORD without writing it in a command),
 * or else from the first line of the standard input; never from the
 * command line, which other users of the machine may read.  It is hashed
 * with Argon2id at the module's own cost (ngx_http_portal_argon2.h), then
 * portal.agent_upsert() runs as portal_owner, the owner of the schema,
 * with the hash as a parameter: neither the password nor its hash is in
 * a command, a statement's text or a log.  THEMES: the slugs an
 * instructeur is limited to, separated by commas; "-" for none (all
 * themes); absent or empty, the agent's themes are kept.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "../src/ngx_http_portal_argon2.h"


/* as the module's passwords: 12 characters at least, 512 bytes at most */
#define PORTAL_AGENT_PASSWORD_MIN  12
#define PORTAL_AGENT_PASSWORD_MAX  512


static int portal_agent_password(char *buf, size_t size);
static size_t portal_agent_chars(const char *s);


int
main(int argc, char **argv)
{
    int          rc;
    char         password[PORTAL_AGENT_PASSWORD_MAX + 2];
    char         hash[crypto_pwhash_STRBYTES];
    const char  *db, *themes, *values[5];
    PGconn      *pg;
    PGresult    *res;

    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: PORTAL_AGENT_PASSWORD=... %s LOGIN"
                " admin|instructeur [NAME [THEMES]]\n", argv[0]);
        return 2;
    }

    if (sodium_init() < 0) {
        fprintf(stderr, "portal-agent: libsodium does not start\n");
        return 1;
    }

    if (portal_agent_password(password, sizeof(password)) != 0) {
        return 2;
    }

    if (crypto_pwhash_str(hash, password, strlen(password),
                          NGX_HTTP_PORTAL_ARGON2_OPSLIMIT,
                          NGX_HTTP_PORTAL_ARGON2_MEMLIMIT)
        != 0)
    {
        sodium_memzero(password, sizeof(password));
        fprintf(stderr, "portal-agent: hashing failed (memory?)\n");
        return 1;
    }

    sodium_memzero(password, sizeof(password));

    db = getenv("PORTAL_AGENT_DB");
    if (db == NULL || db[0] == '\0') {
        fprintf(stderr, "portal-agent: PORTAL_AGENT_DB (a libpq conninfo)"
                " is not set\n");
        return 2;
    }

    pg = PQconnectdb(db);
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "portal-agent: %s", PQerrorMessage(pg));
        PQfinish(pg);
        return 1;
    }

    res = PQexec(pg, "SET ROLE portal_owner");
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        fprintf(stderr, "portal-agent: %s", PQerrorMessage(pg));
        PQclear(res);
        PQfinish(pg);
        return 1;
    }

    PQclear(res);

    themes = (argc > 4 && argv[4][0]) ? argv[4] : NULL;

    values[0] = argv[1];
    values[1] = argv[2];
    values[2] = hash;
    values[3] = (argc > 3 && argv[3][0]) ? argv[3] : NULL;
    values[4] = (themes && strcmp(themes, "-") == 0) ? "" : themes;

    res = PQexecParams(pg,
                       "SELECT portal.agent_upsert($1, $2, $3, $4,"
                       " CASE WHEN $5 = '' THEN '{}'::text[]"
                       " ELSE string_to_array($5, ',') END)",
                       5, NULL, values, NULL, NULL, 0);

    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        printf("%s\n", PQgetvalue(res, 0, 0));
        rc = 0;

    } else {
        fprintf(stderr, "portal-agent: %s", PQerrorMessage(pg));
        rc = 1;
    }

    sodium_memzero(hash, sizeof(hash));
    PQclear(res);
    PQfinish(pg);

    return rc;
}


/* the password from the environment, or a line of the standard input */

static int
portal_agent_password(char *buf, size_t size)
{
    int             tty;
    size_t          len, n;
    const char     *env;
    struct termios  old, quiet;

    env = getenv("PORTAL_AGENT_PASSWORD");

    if (env && env[0]) {
        len = strlen(env);

        if (len >= size) {
            fprintf(stderr, "portal-agent: a password of %d bytes at"
                    " most\n", PORTAL_AGENT_PASSWORD_MAX);
            return -1;
        }

        memcpy(buf, env, len + 1);
        unsetenv("PORTAL_AGENT_PASSWORD");

    } else {
        tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;

        if (tty) {
            fprintf(stderr, "Mot de passe de l'agent : ");
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t) ECHO;
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        }

        n = (fgets(buf, (int) size, stdin) != NULL);

        if (tty) {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
            fprintf(stderr, "\n");
        }

        if (!n) {
            buf[0] = '\0';
        }

        len = strcspn(buf, "\r\n");

        if (buf[len] == '\0' && len == size - 1) {
            fprintf(stderr, "portal-agent: a password of %d bytes at"
                    " most\n", PORTAL_AGENT_PASSWORD_MAX);
            return -1;
        }

        buf[len] = '\0';
    }

    n = portal_agent_chars(buf);

    if (n < PORTAL_AGENT_PASSWORD_MIN || len > PORTAL_AGENT_PASSWORD_MAX) {
        sodium_memzero(buf, size);
        fprintf(stderr, "portal-agent: a password of %d to %d characters,"
                " please (PASSWORD=... or on the standard input)\n",
                PORTAL_AGENT_PASSWORD_MIN, 128);
        return -1;
    }

    return 0;
}


/* characters of UTF-8 text: bytes that do not continue one */

static size_t
portal_agent_chars(const char *s)
{
    size_t  n;

    for (n = 0; *s; s++) {
        if (((unsigned char) *s & 0xc0) != 0x80) {
            n++;
        }
    }

    return n;
}
