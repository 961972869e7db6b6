/*
 * auth.h: API tokens on requests. A request carries
 * "Authorization: Bearer bj_…"; the token's SHA-256 is looked up in
 * api_tokens. Scopes: submit (jobs), work (claims and items), admin (both,
 * and every owner). A non-admin token sees only its owner's jobs.
 */
#ifndef BJ_AUTH_H
#define BJ_AUTH_H

#include "http.h"

#define BJ_SCOPE_SUBMIT	0x1u
#define BJ_SCOPE_WORK	0x2u
#define BJ_SCOPE_ADMIN	0x4u

/*
 * Authenticate req and require one of the scopes in any_of (admin always
 * passes). Returns 0, or -1 after replying 401, 403 or 503.
 */
int bj_auth(struct bj_req *req, unsigned any_of);

/* 1 when the authenticated token may see jobs of owner. */
int bj_auth_sees(const struct bj_req *req, const char *owner);

/* The scope bits of an api_tokens.scopes SET value ("submit,work"). */
unsigned bj_auth_scopes(const char *set);

#endif
