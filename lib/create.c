/*
 * create.c: checking a job spec and inserting a job whole: the job row,
 * its items in multi-row batches, its notification targets and its
 * "created" event, all in one transaction. An Idempotency-Key is unique
 * per owner; the request hash tells a retry from a different request.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "claim.h"
#include "create.h"
#include "job.h"
#include "sql.h"

/* 1 when s has a byte below 0x20 or DEL. */
static int
has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* 1 when s is 1..max chars of [A-Za-z0-9._-]. */
static int
is_name(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == n;
}

int
bj_email_ok(const char *s)
{
	const char *at = strchr(s, '@');
	size_t n = strlen(s);

	if (n < 3 || n > 254 || at == NULL || at == s || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL || has_control(s))
		return 0;
	return strpbrk(s, " <>,;:\"()[]\\") == NULL;
}

int
bj_webhook_ok(const char *s, const char **why)
{
	size_t n = strlen(s), p, auth;

	*why = "not an http or https URL of at most 2048 characters";
	if (n > 2048 || has_control(s) || strpbrk(s, " <>\"\\") != NULL)
		return 0;
	if (strncmp(s, "https://", 8) == 0)
		p = 8;
	else if (strncmp(s, "http://", 7) == 0)
		p = 7;
	else
		return 0;
	if (s[p] == '\0' || s[p] == '/' || s[p] == '?' || s[p] == '#')
		return 0;
	/* credentials would travel as Basic auth to whoever the host turns out to be */
	auth = strcspn(s + p, "/?#");
	if (memchr(s + p, '@', auth) != NULL) {
		*why = "user info (user:password@) is not allowed in a webhook URL";
		return 0;
	}
	return 1;
}

/*
 * Two items of one job with the same key: 1 and their indexes, else 0.
 * An open-addressing table of item indexes, twice the item count, so the
 * check stays linear for a million items.
 */
static int
duplicate_key(const struct bj_job_spec *s, size_t *first, size_t *second)
{
	size_t cap = 2, mask, *slot;
	int found = 0;

	while (cap < 2 * s->nitems)
		cap *= 2;
	mask = cap - 1;
	slot = bj_xmalloc(cap * sizeof *slot);
	memset(slot, 0xff, cap * sizeof *slot);	/* (size_t)-1: empty */
	for (size_t i = 0; i < s->nitems && !found; i++) {
		size_t h = 14695981039346656037ULL;	/* FNV-1a */

		for (const unsigned char *p = (const unsigned char *)s->items[i].key; *p; p++)
			h = (h ^ *p) * 1099511628211ULL;
		for (h &= mask; slot[h] != (size_t)-1; h = (h + 1) & mask)
			if (strcmp(s->items[slot[h]].key, s->items[i].key) == 0) {
				*first = slot[h];
				*second = i;
				found = 1;
				break;
			}
		slot[h] = i;
	}
	free(slot);
	return found;
}

enum bj_err
bj_job_spec_check(const struct bj_job_spec *s, int max_items, char *why, size_t len)
{
#define BAD(...) do { snprintf(why, len, __VA_ARGS__); return BJ_ERR_VALIDATION; } while (0)
	if (s->kind == NULL || !is_name(s->kind, 64))
		BAD("kind: required, 1-64 characters of A-Z a-z 0-9 . _ -");
	if (s->owner == NULL || *s->owner == '\0' || strlen(s->owner) > 191 ||
	    has_control(s->owner))
		BAD("owner: required, 1-191 characters without control characters");
	if (s->title != NULL && (strlen(s->title) > 500 || has_control(s->title)))
		BAD("title: at most 500 characters without control characters");
	if (s->language != NULL && !is_name(s->language, 35))
		BAD("language: a language tag such as en or pt-BR");
	if (s->idempotency_key != NULL && (*s->idempotency_key == '\0' ||
	    strlen(s->idempotency_key) > 255 || has_control(s->idempotency_key)))
		BAD("Idempotency-Key: 1-255 characters without control characters");
	if (s->max_attempts < 1 || s->max_attempts > 100)
		BAD("max_attempts: between 1 and 100");
	if (s->lease_seconds < 1 || s->lease_seconds > BJ_LEASE_MAX_SECONDS)
		BAD("lease_seconds: between 1 and %d", BJ_LEASE_MAX_SECONDS);
	if (s->priority < BJ_PRIORITY_MIN || s->priority > BJ_PRIORITY_MAX)
		BAD("priority: an integer from %d to %d", BJ_PRIORITY_MIN, BJ_PRIORITY_MAX);
	if (s->max_concurrency < 0 || s->max_concurrency > BJ_MAX_CONCURRENCY)
		BAD("max_concurrency: an integer from 1 to %d (0 or absent: no limit)",
		    BJ_MAX_CONCURRENCY);
	if (s->deadline_seconds < 1 || s->deadline_seconds > BJ_DEADLINE_MAX_SECONDS)
		BAD("deadline_seconds: between 1 and %lld", BJ_DEADLINE_MAX_SECONDS);
	if (s->retention_seconds < 0 || s->retention_seconds > BJ_RETENTION_MAX_SECONDS)
		BAD("retention_seconds: between 0 and %lld", BJ_RETENTION_MAX_SECONDS);
	if (s->params != NULL && strlen(s->params) > BJ_PAYLOAD_MAX)
		BAD("params: at most %d bytes of JSON", BJ_PAYLOAD_MAX);
	if (s->nitems == 0)
		BAD("items: at least one item is required");
	if (s->nitems > (size_t)max_items)
		BAD("items: at most %d items per job", max_items);
	for (size_t i = 0; i < s->nitems; i++) {
		const struct bj_item_spec *it = &s->items[i];

		if (it->key == NULL || *it->key == '\0' || strlen(it->key) > 255 ||
		    has_control(it->key))
			BAD("items[%zu].key: required, 1-255 characters without control characters", i);
		if (it->stage < 0 || it->stage > BJ_STAGE_MAX)
			BAD("items[%zu].stage: between 0 and %d", i, BJ_STAGE_MAX);
		if (it->payload != NULL && strlen(it->payload) > BJ_PAYLOAD_MAX)
			BAD("items[%zu].payload: at most %d bytes of JSON", i, BJ_PAYLOAD_MAX);
	}
	{
		size_t a, b;

		if (duplicate_key(s, &a, &b))
			BAD("items[%zu].key: \"%.64s\" is already the key of items[%zu]; keys are"
			    " unique within a job", b, s->items[b].key, a);
	}
	for (size_t i = 0; i < s->nemails; i++)
		if (!bj_email_ok(s->emails[i]))
			BAD("notify.email[%zu]: not a plain email address", i);
	for (size_t i = 0; i < s->nwebhooks; i++) {
		const char *whyurl;

		if (!bj_webhook_ok(s->webhooks[i], &whyurl))
			BAD("notify.webhooks[%zu]: %s", i, whyurl);
	}
	return BJ_OK;
#undef BAD
}

/* Look up the owner's job with this key: BJ_OK (*id set), JOB_NOT_FOUND, MISMATCH. */
static enum bj_err
find_idem(struct bj_db *db, const struct bj_job_spec *s, long long *id)
{
	struct bj_rows *r = bj_db_queryp(db, BJ_SQL_JOB_BY_IDEM, BJ_PARAMS(BJ_P_STR(s->owner),
	    BJ_P_STR(s->idempotency_key)));
	enum bj_err e;

	if (r == NULL)
		return bj_job_db_error(db);
	if (r->nrows == 0) {
		e = BJ_ERR_JOB_NOT_FOUND;
	} else if (bj_rows_get(r, 0, 1) == NULL ||
	    strcmp(bj_rows_get(r, 0, 1), s->request_hash) != 0) {
		e = BJ_ERR_IDEMPOTENCY_MISMATCH;
	} else {
		*id = bj_rows_int(r, 0, 0);
		e = BJ_OK;
	}
	bj_rows_free(r);
	return e;
}

/* Add targets of one channel. */
static enum bj_err
add_targets(struct bj_db *db, long long id, const char *channel, const char **t, size_t n)
{
	char hash[BJ_SHA256_HEX];

	for (size_t i = 0; i < n; i++) {
		bj_sha256_hex(t[i], strlen(t[i]), hash);
		if (bj_db_execp(db, BJ_SQL_TARGET_INSERT, NULL, BJ_PARAMS(BJ_P_INT(id),
		    BJ_P_STR(channel), BJ_P_STR(hash), BJ_P_STR(t[i]))) == -1)
			return bj_job_db_error(db);
	}
	return BJ_OK;
}

/* The insert itself, inside an open transaction. */
static enum bj_err
insert_tx(struct bj_db *db, const struct bj_job_spec *s, long long *id)
{
	char token[BJ_TOKEN_LEN + 1];
	long long first = s->items[0].stage, remaining = 0, stages = 0;
	unsigned char seen[BJ_STAGE_MAX + 1] = { 0 };	/* stages were checked */
	enum bj_err e;

	for (size_t i = 0; i < s->nitems; i++) {
		long long st = s->items[i].stage;
		if (!seen[st]) {
			seen[st] = 1;
			stages++;
		}
		if (st < first)
			first = st;
	}
	for (size_t i = 0; i < s->nitems; i++)
		if (s->items[i].stage == first)
			remaining++;
	if (bj_token_new(token) == -1)
		return BJ_ERR_INTERNAL;
	if (bj_db_execp(db, BJ_SQL_JOB_INSERT, NULL, BJ_PARAMS(BJ_P_STR(token),
	    BJ_P_STR(s->kind), BJ_P_STR(s->owner), BJ_P_STR(s->title ? s->title : ""),
	    BJ_P_STR(s->params), BJ_P_INT(first), BJ_P_INT(stages), BJ_P_INT(remaining),
	    BJ_P_INT((long long)s->nitems), BJ_P_INT((long long)s->nitems),
	    BJ_P_INT(s->deadline_seconds), BJ_P_INT(s->retention_seconds),
	    BJ_P_STR(s->idempotency_key), BJ_P_STR(s->idempotency_key ? s->request_hash : NULL),
	    BJ_P_INT((long long)s->max_attempts), BJ_P_INT((long long)s->lease_seconds),
	    BJ_P_STR(s->on_item_failure == BJ_ON_FAIL_CONTINUE ? "continue" : "fail_job"),
	    BJ_P_STR(s->language ? s->language : "en"), BJ_P_INT(s->priority),
	    BJ_P_INT(s->max_concurrency))) == -1) {
		if (bj_db_duplicate(db))
			return BJ_ERR_CONFLICT;		/* the key raced us */
		return bj_job_db_error(db);
	}
	*id = (long long)bj_db_insert_id(db);
	if (bj_sql_items_bulk(db, *id, s->items, s->nitems) == -1)
		return bj_job_db_error(db);
	if ((e = bj_claim_queue_join(db, *id)) != BJ_OK ||
	    (e = add_targets(db, *id, "email", s->emails, s->nemails)) != BJ_OK ||
	    (e = add_targets(db, *id, "webhook", s->webhooks, s->nwebhooks)) != BJ_OK)
		return e;
	return bj_event_add(db, *id, "created", NULL);
}

struct create {
	const struct bj_job_spec	*spec;
	long long			 id;
};

/* insert_tx for bj_job_in_tx, which tries it again after a deadlock. */
static enum bj_err
create_tx(struct bj_db *db, void *arg)
{
	struct create *c = arg;

	c->id = 0;
	return insert_tx(db, c->spec, &c->id);
}

enum bj_err
bj_job_create(struct bj_db *db, const struct bj_job_spec *s, long long *id, int *existed)
{
	struct create c = { s, 0 };
	enum bj_err e;

	*existed = 0;
	*id = 0;
	for (int round = 0; round < 2; round++) {
		if (s->idempotency_key != NULL) {
			e = find_idem(db, s, id);
			if (e == BJ_OK) {
				*existed = 1;
				return BJ_OK;
			}
			if (e != BJ_ERR_JOB_NOT_FOUND)
				return e;
		}
		e = bj_job_in_tx(db, create_tx, &c);
		if (e == BJ_OK)
			*id = c.id;
		if (e != BJ_ERR_CONFLICT)
			return e;
	}
	return BJ_ERR_CONFLICT;
}
