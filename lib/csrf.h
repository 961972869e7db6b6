/*
 * csrf.h: the tokens that the status page's forms carry in field "csrf".
 *
 * A token is base64url(HMAC-SHA256(key, "bulkjobs-csrf" NUL job-token NUL
 * user)): bound to one job and one signed-in user ("" for nobody), so a
 * page from another site cannot forge one and a token copied from one job
 * does not work on another. The key is [http] secret or, when that is
 * empty, a random secret generated once and kept in the database table
 * http_secrets (the first process to need it inserts it; the others read
 * the row that won). A process reads the stored secret once and keeps it.
 *
 * Ownership: the key and token buffers belong to the caller.
 */
#ifndef BJ_CSRF_H
#define BJ_CSRF_H

#include <stddef.h>

#include "conf.h"
#include "db.h"
#include "err.h"

#define BJ_CSRF_LEN	44	/* 43 base64url chars for 32 bytes, and NUL */
#define BJ_CSRF_KEYMAX	256

/* Fill key with the secret (config, else database); *keylen set. */
enum bj_err bj_csrf_key(struct bj_db *db, const struct bj_conf *conf,
    unsigned char key[BJ_CSRF_KEYMAX], size_t *keylen);
/* The token for (job token, user) under key. */
void bj_csrf_make(const unsigned char *key, size_t keylen, const char *job_token,
    const char *user, char out[BJ_CSRF_LEN]);
/* 1 when given is the right token for (job token, user); constant time. */
int bj_csrf_check(const unsigned char *key, size_t keylen, const char *job_token,
    const char *user, const char *given);

#endif
