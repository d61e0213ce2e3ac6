
/*
 * Portail Citoyen: the cost of the portal's Argon2id hashes, in one place
 * for the module (_credentials.c) and for tools/portal-agent.c, which
 * hashes an agent's password as the module would.  Plain C: no nginx.
 */


#ifndef _NGX_HTTP_PORTAL_ARGON2_H_INCLUDED_
#define _NGX_HTTP_PORTAL_ARGON2_H_INCLUDED_


#include <sodium.h>


/* libsodium's interactive limits: t=2, m=64 MiB, p=1 */
#define NGX_HTTP_PORTAL_ARGON2_OPSLIMIT  crypto_pwhash_OPSLIMIT_INTERACTIVE
#define NGX_HTTP_PORTAL_ARGON2_MEMLIMIT  crypto_pwhash_MEMLIMIT_INTERACTIVE


#endif /* _NGX_HTTP_PORTAL_ARGON2_H_INCLUDED_ */
