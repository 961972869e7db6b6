/* csrf.c: form tokens bound to a job and a user (see csrf.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "csrf.h"
#include "sql.h"
#include "token.h"

/*
 * The stored secret never changes once a process has read it (the row is
 * inserted once and never updated), so each process reads it once.
 */
static unsigned char stored_key[BJ_CSRF_KEYMAX];
static size_t stored_len;

/* The server secret: [http] secret, else the one stored in the database. */
enum bj_err
bj_csrf_key(struct bj_db *db, const struct bj_conf *conf,
    unsigned char key[BJ_CSRF_KEYMAX], size_t *keylen)
{
	struct bj_rows *r = NULL;
	unsigned char raw[32];
	char *fresh = NULL;
	const char *s;
	enum bj_err err = BJ_ERR_DB_UNAVAILABLE;

	if (conf->http_secret != NULL && *conf->http_secret != '\0') {
		size_t n = strlen(conf->http_secret);
		if (n > BJ_CSRF_KEYMAX)
			n = BJ_CSRF_KEYMAX;
		memcpy(key, conf->http_secret, n);
		*keylen = n;
		return BJ_OK;
	}
	if (stored_len > 0) {
		memcpy(key, stored_key, stored_len);
		*keylen = stored_len;
		return BJ_OK;
	}
	if ((r = bj_db_queryp(db, BJ_SQL_PAGES_SECRET_GET, NULL, 0)) == NULL)
		goto out;
	if (r->nrows == 0) {
		bj_rows_free(r);
		r = NULL;
		if (bj_random_bytes(raw, sizeof raw) == -1) {
			err = BJ_ERR_INTERNAL;
			goto out;
		}
		fresh = bj_base64(raw, sizeof raw, 1);
		/* INSERT IGNORE: when two processes race, both then read the winner */
		if (bj_db_execp(db, BJ_SQL_PAGES_SECRET_INSERT, NULL,
		    BJ_PARAMS(BJ_P_STR(fresh))) == -1)
			goto out;
		if ((r = bj_db_queryp(db, BJ_SQL_PAGES_SECRET_GET, NULL, 0)) == NULL)
			goto out;
	}
	s = bj_rows_get(r, 0, 0);
	if (s == NULL || *s == '\0' || strlen(s) > BJ_CSRF_KEYMAX) {
		err = BJ_ERR_INTERNAL;
		goto out;
	}
	*keylen = strlen(s);
	memcpy(key, s, *keylen);
	memcpy(stored_key, s, *keylen);
	stored_len = *keylen;
	err = BJ_OK;
out:
	bj_rows_free(r);
	free(fresh);
	return err;
}

/* HMAC over the domain tag, the job token and the user, base64url. */
void
bj_csrf_make(const unsigned char *key, size_t keylen, const char *job_token,
    const char *user, char out[BJ_CSRF_LEN])
{
	struct bj_buf msg = { 0 };
	unsigned char mac[32];
	char *b64;

	bj_buf_add(&msg, "bulkjobs-csrf", sizeof "bulkjobs-csrf");	/* with NUL */
	bj_buf_add(&msg, job_token, strlen(job_token) + 1);
	bj_buf_adds(&msg, user ? user : "");
	bj_hmac_sha256(key, keylen, msg.data, msg.len, mac);
	b64 = bj_base64(mac, sizeof mac, 1);
	snprintf(out, BJ_CSRF_LEN, "%s", b64);
	free(b64);
	bj_buf_free(&msg);
}

/* Compare the expected token with the posted one. */
int
bj_csrf_check(const unsigned char *key, size_t keylen, const char *job_token,
    const char *user, const char *given)
{
	char want[BJ_CSRF_LEN];

	if (given == NULL || strlen(given) != BJ_CSRF_LEN - 1)
		return 0;
	bj_csrf_make(key, keylen, job_token, user, want);
	return bj_ct_strcmp(want, given) == 0;
}
