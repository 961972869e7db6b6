/*
 * err.h: the one error enum of bulkjobs.
 *
 * Values are appended, never renumbered: scripts and logs rely on them.
 * Every value has a stable string code (used in API error replies) and an
 * HTTP status. bj_strerror() is a switch without default so that the
 * compiler reports a missing case.
 */
#ifndef BJ_ERR_H
#define BJ_ERR_H

enum bj_err {
	BJ_OK = 0,
	BJ_ERR_INTERNAL,		/* 500 */
	BJ_ERR_DB_UNAVAILABLE,		/* 503 */
	BJ_ERR_BAD_JSON,		/* 400 */
	BJ_ERR_BAD_REQUEST,		/* 400 */
	BJ_ERR_UNAUTHORIZED,		/* 401 */
	BJ_ERR_FORBIDDEN,		/* 403 */
	BJ_ERR_NOT_FOUND,		/* 404 */
	BJ_ERR_JOB_NOT_FOUND,		/* 404 */
	BJ_ERR_ITEM_NOT_FOUND,		/* 404 */
	BJ_ERR_METHOD_NOT_ALLOWED,	/* 405 */
	BJ_ERR_INVALID_TRANSITION,	/* 409 */
	BJ_ERR_LEASE_LOST,		/* 409 */
	BJ_ERR_CONFLICT,		/* 409 */
	BJ_ERR_GONE,			/* 410 */
	BJ_ERR_TOO_LARGE,		/* 413 */
	BJ_ERR_UNSUPPORTED_MEDIA,	/* 415 */
	BJ_ERR_VALIDATION,		/* 422 */
	BJ_ERR_IDEMPOTENCY_MISMATCH,	/* 422 */
	BJ_ERR_BAD_ARTIFACT_PATH,	/* 422 */
	BJ_ERR_TOO_DEEP,		/* 400 */
	BJ_ERR_CSRF,			/* 403 */
	BJ_ERR_CONFIG,			/* config file errors (no HTTP use) */
	BJ_ERR_SCHEMA_TOO_NEW,		/* database migrated by a newer bulkjobs */
	BJ_ERR_ARTIFACT_EXPIRED,	/* 410 */
	BJ_ERR_NO_ARTIFACT,		/* 404 */
	BJ_ERR_ALREADY_COMPLETED,	/* 409, code LEASE_LOST: succeeded under this very token */
	BJ_ERR_CONTENDED,		/* 503: write conflicts (Galera certification, lock waits) outlasted the retries */
	BJ_ERR_FILES_REMOVED,		/* 409: a failed job past its retention cannot be retried */
};

/* The stable upper-case code, e.g. "LEASE_LOST". */
const char *bj_err_code(enum bj_err e);
/* A short English description. */
const char *bj_strerror(enum bj_err e);
/* The HTTP status an API reply with this error carries. */
int bj_err_http_status(enum bj_err e);

#endif
