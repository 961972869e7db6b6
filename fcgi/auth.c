/*
 * auth.c: Bearer tokens, their scopes and owners (see auth.h).
 *
 * A read would otherwise cost three statements (look the token up, note
 * its last use, then the read itself), so each process keeps what it
 * looked up for [http] token_cache seconds, keyed by the token's SHA-256:
 * a revoked token keeps working at most that long. Unknown tokens are
 * never cached. last_used_at is informational: a process writes it at
 * most once a minute per token. The cache owns its strings.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "buf.h"
#include "clock.h"
#include "job.h"
#include "router.h"
#include "sql.h"
#include "token.h"

#define CACHE_SLOTS	16
#define TOUCH_SECONDS	60.0

struct cached_token {
	char		 hash[BJ_SHA256_HEX];	/* "" when the slot is free */
	long long	 id;
	char		*name;
	char		*owner;
	unsigned	 scopes;
	double		 fetched;	/* bj_now() of the lookup */
	double		 touched;	/* of the last last_used_at write, 0 never */
};

static struct cached_token cache[CACHE_SLOTS];

unsigned
bj_auth_scopes(const char *set)
{
	unsigned s = 0;
	const char *p = set;

	while (p != NULL && *p) {
		size_t n = strcspn(p, ",");
		if (n == 6 && strncmp(p, "submit", 6) == 0)
			s |= BJ_SCOPE_SUBMIT;
		else if (n == 4 && strncmp(p, "work", 4) == 0)
			s |= BJ_SCOPE_WORK;
		else if (n == 5 && strncmp(p, "admin", 5) == 0)
			s |= BJ_SCOPE_ADMIN;
		p += n;
		if (*p == ',')
			p++;
	}
	return s;
}

/* Empty a slot. */
static void
slot_clear(struct cached_token *c)
{
	free(c->name);
	free(c->owner);
	memset(c, 0, sizeof *c);
}

/* The slot of hash, or NULL. */
static struct cached_token *
slot_find(const char *hash)
{
	for (int i = 0; i < CACHE_SLOTS; i++)
		if (cache[i].hash[0] != '\0' && bj_ct_strcmp(cache[i].hash, hash) == 0)
			return &cache[i];
	return NULL;
}

/* A slot for a new entry: a free one, else the one looked up longest ago. */
static struct cached_token *
slot_take(void)
{
	struct cached_token *old = &cache[0];

	for (int i = 0; i < CACHE_SLOTS; i++) {
		if (cache[i].hash[0] == '\0')
			return &cache[i];
		if (cache[i].fetched < old->fetched)
			old = &cache[i];
	}
	slot_clear(old);
	return old;
}

/*
 * The live entry for hash: from the cache while fresh, else from the
 * database. NULL after replying 401 or 503.
 */
static struct cached_token *
token_lookup(struct bj_req *req, const char *hash)
{
	struct bj_db *db = req->app->db;
	struct cached_token *c = slot_find(hash);
	double now = bj_now();
	struct bj_rows *r;

	if (c != NULL && now - c->fetched < (double)req->app->conf->token_cache)
		return c;
	if ((r = bj_db_queryp(db, BJ_SQL_TOKEN_LOOKUP, BJ_PARAMS(BJ_P_STR(hash)))) == NULL) {
		bj_reply_error(req, bj_job_db_error(db), "the database is not available");
		return NULL;
	}
	if (r->nrows == 0) {
		bj_rows_free(r);
		if (c != NULL)
			slot_clear(c);		/* revoked meanwhile */
		bj_metrics_auth_failure(BJ_AUTH_INVALID);
		bj_reply_error(req, BJ_ERR_UNAUTHORIZED, "the API token is not valid");
		return NULL;
	}
	if (c == NULL) {
		c = slot_take();
		memcpy(c->hash, hash, BJ_SHA256_HEX);
	}
	c->id = bj_rows_int(r, 0, 0);
	free(c->name);
	free(c->owner);
	c->name = bj_xstrdup(bj_rows_get(r, 0, 1));
	c->scopes = bj_auth_scopes(bj_rows_get(r, 0, 2));
	c->owner = bj_xstrdup(bj_rows_get(r, 0, 3));
	c->fetched = now;
	bj_rows_free(r);
	return c;
}

int
bj_auth(struct bj_req *req, unsigned any_of)
{
	const char *h = bj_req_header(req, "HTTP_AUTHORIZATION");
	char hash[BJ_SHA256_HEX];
	struct cached_token *c;
	double now;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
		bj_metrics_auth_failure(BJ_AUTH_MISSING);
		bj_reply_error(req, BJ_ERR_UNAUTHORIZED,
		    "send Authorization: Bearer with an API token");
		return -1;
	}
	h += 7;
	while (*h == ' ')
		h++;
	if (*h == '\0' || strlen(h) > 200) {
		bj_metrics_auth_failure(BJ_AUTH_INVALID);
		bj_reply_error(req, BJ_ERR_UNAUTHORIZED, "the API token is not valid");
		return -1;
	}
	bj_sha256_hex(h, strlen(h), hash);
	if ((c = token_lookup(req, hash)) == NULL)
		return -1;
	req->token_id = c->id;
	free(req->token_name);
	free(req->token_owner);
	req->token_name = bj_xstrdup(c->name);
	req->scopes = c->scopes;
	req->token_owner = bj_xstrdup(c->owner);
	/* best effort, and rare: last use is informational */
	now = bj_now();
	if (c->touched == 0 || now - c->touched >= TOUCH_SECONDS) {
		c->touched = now;
		(void)bj_db_execp(req->app->db, BJ_SQL_TOKEN_TOUCH, NULL,
		    BJ_PARAMS(BJ_P_INT(c->id)));
	}
	if ((req->scopes & (any_of | BJ_SCOPE_ADMIN)) == 0) {
		bj_reply_error(req, BJ_ERR_FORBIDDEN, "the API token lacks the %s scope",
		    (any_of & BJ_SCOPE_WORK) ? "work" : "submit");
		return -1;
	}
	return 0;
}

int
bj_auth_sees(const struct bj_req *req, const char *owner)
{
	if (req->scopes & BJ_SCOPE_ADMIN)
		return 1;
	return owner != NULL && req->token_owner != NULL &&
	    strcmp(owner, req->token_owner) == 0;
}
