/* err.c: stable codes, messages and HTTP statuses for enum bj_err. */
#include "config.h"

#include "err.h"

/* Stable code used in {"error":{"code":...}}; never change an existing one. */
const char *
bj_err_code(enum bj_err e)
{
	switch (e) {
	case BJ_OK: return "OK";
	case BJ_ERR_INTERNAL: return "INTERNAL";
	case BJ_ERR_DB_UNAVAILABLE: return "DB_UNAVAILABLE";
	case BJ_ERR_BAD_JSON: return "BAD_JSON";
	case BJ_ERR_BAD_REQUEST: return "BAD_REQUEST";
	case BJ_ERR_UNAUTHORIZED: return "UNAUTHORIZED";
	case BJ_ERR_FORBIDDEN: return "FORBIDDEN";
	case BJ_ERR_NOT_FOUND: return "NOT_FOUND";
	case BJ_ERR_JOB_NOT_FOUND: return "JOB_NOT_FOUND";
	case BJ_ERR_ITEM_NOT_FOUND: return "ITEM_NOT_FOUND";
	case BJ_ERR_METHOD_NOT_ALLOWED: return "METHOD_NOT_ALLOWED";
	case BJ_ERR_INVALID_TRANSITION: return "INVALID_TRANSITION";
	case BJ_ERR_LEASE_LOST: return "LEASE_LOST";
	case BJ_ERR_CONFLICT: return "CONFLICT";
	case BJ_ERR_GONE: return "GONE";
	case BJ_ERR_TOO_LARGE: return "PAYLOAD_TOO_LARGE";
	case BJ_ERR_UNSUPPORTED_MEDIA: return "UNSUPPORTED_MEDIA_TYPE";
	case BJ_ERR_VALIDATION: return "VALIDATION_FAILED";
	case BJ_ERR_IDEMPOTENCY_MISMATCH: return "IDEMPOTENCY_MISMATCH";
	case BJ_ERR_BAD_ARTIFACT_PATH: return "BAD_ARTIFACT_PATH";
	case BJ_ERR_TOO_DEEP: return "JSON_TOO_DEEP";
	case BJ_ERR_CSRF: return "CSRF_FAILED";
	case BJ_ERR_CONFIG: return "CONFIG";
	case BJ_ERR_SCHEMA_TOO_NEW: return "SCHEMA_TOO_NEW";
	case BJ_ERR_ARTIFACT_EXPIRED: return "ARTIFACT_EXPIRED";
	case BJ_ERR_NO_ARTIFACT: return "NO_ARTIFACT";
	/* a lease that was spent by its own completion: still a lost lease to clients */
	case BJ_ERR_ALREADY_COMPLETED: return "LEASE_LOST";
	case BJ_ERR_CONTENDED: return "CONTENDED";
	case BJ_ERR_FILES_REMOVED: return "FILES_REMOVED";
	}
	return "INTERNAL";
}

/* English text for logs and the default API message. */
const char *
bj_strerror(enum bj_err e)
{
	switch (e) {
	case BJ_OK: return "success";
	case BJ_ERR_INTERNAL: return "internal error";
	case BJ_ERR_DB_UNAVAILABLE: return "the database is unavailable";
	case BJ_ERR_BAD_JSON: return "the body is not valid JSON";
	case BJ_ERR_BAD_REQUEST: return "bad request";
	case BJ_ERR_UNAUTHORIZED: return "a valid bearer token is required";
	case BJ_ERR_FORBIDDEN: return "the token lacks the scope for this request";
	case BJ_ERR_NOT_FOUND: return "no such resource";
	case BJ_ERR_JOB_NOT_FOUND: return "no such job";
	case BJ_ERR_ITEM_NOT_FOUND: return "no such item";
	case BJ_ERR_METHOD_NOT_ALLOWED: return "method not allowed";
	case BJ_ERR_INVALID_TRANSITION: return "that state change is not allowed";
	case BJ_ERR_LEASE_LOST: return "the lease is no longer held";
	case BJ_ERR_CONFLICT: return "conflict";
	case BJ_ERR_GONE: return "gone";
	case BJ_ERR_TOO_LARGE: return "the request body is too large";
	case BJ_ERR_UNSUPPORTED_MEDIA: return "the body must be application/json";
	case BJ_ERR_VALIDATION: return "validation failed";
	case BJ_ERR_IDEMPOTENCY_MISMATCH: return "the Idempotency-Key was used with a different body";
	case BJ_ERR_BAD_ARTIFACT_PATH: return "the artifact path is not allowed";
	case BJ_ERR_TOO_DEEP: return "the JSON is nested too deeply";
	case BJ_ERR_CSRF: return "the form token is missing or wrong";
	case BJ_ERR_CONFIG: return "configuration error";
	case BJ_ERR_SCHEMA_TOO_NEW: return "the database schema is newer than this program";
	case BJ_ERR_ARTIFACT_EXPIRED: return "the artifact has expired";
	case BJ_ERR_NO_ARTIFACT: return "the job has no artifact";
	case BJ_ERR_ALREADY_COMPLETED:
		return "the item was already completed under this lease token";
	case BJ_ERR_CONTENDED:
		return "the change met other writers' changes too many times; retry later";
	case BJ_ERR_FILES_REMOVED:
		return "the job's files were removed at the end of its retention; it cannot be retried";
	}
	return "internal error";
}

/* HTTP status for an API reply carrying this error. */
int
bj_err_http_status(enum bj_err e)
{
	switch (e) {
	case BJ_OK: return 200;
	case BJ_ERR_INTERNAL: return 500;
	case BJ_ERR_DB_UNAVAILABLE: return 503;
	case BJ_ERR_BAD_JSON: return 400;
	case BJ_ERR_BAD_REQUEST: return 400;
	case BJ_ERR_UNAUTHORIZED: return 401;
	case BJ_ERR_FORBIDDEN: return 403;
	case BJ_ERR_NOT_FOUND: return 404;
	case BJ_ERR_JOB_NOT_FOUND: return 404;
	case BJ_ERR_ITEM_NOT_FOUND: return 404;
	case BJ_ERR_METHOD_NOT_ALLOWED: return 405;
	case BJ_ERR_INVALID_TRANSITION: return 409;
	case BJ_ERR_LEASE_LOST: return 409;
	case BJ_ERR_CONFLICT: return 409;
	case BJ_ERR_GONE: return 410;
	case BJ_ERR_TOO_LARGE: return 413;
	case BJ_ERR_UNSUPPORTED_MEDIA: return 415;
	case BJ_ERR_VALIDATION: return 422;
	case BJ_ERR_IDEMPOTENCY_MISMATCH: return 422;
	case BJ_ERR_BAD_ARTIFACT_PATH: return 422;
	case BJ_ERR_TOO_DEEP: return 400;
	case BJ_ERR_CSRF: return 403;
	case BJ_ERR_CONFIG: return 500;
	case BJ_ERR_SCHEMA_TOO_NEW: return 503;
	case BJ_ERR_ARTIFACT_EXPIRED: return 410;
	case BJ_ERR_NO_ARTIFACT: return 404;
	case BJ_ERR_ALREADY_COMPLETED: return 409;
	case BJ_ERR_CONTENDED: return 503;
	case BJ_ERR_FILES_REMOVED: return 409;
	}
	return 500;
}
