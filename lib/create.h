/*
 * create.h: POST /v1/jobs in the model: validate a job spec and insert the
 * job, its items and its notification targets in one transaction, so a job
 * appears whole or not at all. The spec and its strings are borrowed.
 */
#ifndef BJ_CREATE_H
#define BJ_CREATE_H

#include <stddef.h>

#include "db.h"
#include "err.h"
#include "token.h"

#define BJ_PAYLOAD_MAX	(1 << 20)	/* bytes of one item's payload JSON */
#define BJ_STAGE_MAX	1000		/* items[].stage: 0..BJ_STAGE_MAX */

struct bj_item_spec {
	const char	*key;
	long long	 stage;
	const char	*payload;		/* JSON text or NULL */
};

struct bj_job_spec {
	const char	*kind, *owner, *title, *params, *language;
	const char	*idempotency_key;	/* NULL: none */
	char		 request_hash[BJ_SHA256_HEX];	/* of the body, for the key */
	int		 max_attempts, lease_seconds, on_item_failure;
	long long	 priority;		/* BJ_PRIORITY_MIN..BJ_PRIORITY_MAX */
	long long	 max_concurrency;	/* 0: no limit */
	long long	 deadline_seconds, retention_seconds;
	struct bj_item_spec *items;
	size_t		 nitems;
	const char	**emails;
	size_t		 nemails;
	const char	**webhooks;
	size_t		 nwebhooks;
};

/*
 * Check the spec; BJ_OK or BJ_ERR_VALIDATION with *why (static or in
 * buf, of size len) naming the field.
 */
enum bj_err bj_job_spec_check(const struct bj_job_spec *spec, int max_items, char *why,
    size_t len);

/*
 * Create the job (after bj_job_spec_check). With an Idempotency-Key that
 * the owner used before: the same request hash gives that job's id and
 * *existed = 1; another gives BJ_ERR_IDEMPOTENCY_MISMATCH. A deadlock or
 * a lock wait time-out is tried again (bj_job_in_tx).
 */
enum bj_err bj_job_create(struct bj_db *db, const struct bj_job_spec *spec, long long *id,
    int *existed);

/* 1 when s is an acceptable email address for notifications. */
int bj_email_ok(const char *s);
/*
 * 1 when s is an acceptable http(s) webhook URL; 0 with a static *why
 * (what is wrong, for a validation message) otherwise.
 */
int bj_webhook_ok(const char *s, const char **why);

#endif
