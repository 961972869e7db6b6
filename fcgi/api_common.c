/* api_common.c: body parsing, ids, job visibility and error replies for the JSON API. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "auth.h"
#include "json.h"
#include "log.h"

/* 1 when the n bytes of s are well-formed UTF-8 (no overlongs, surrogates or NUL). */
static int
utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		size_t k;
		unsigned cp, min;

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			k = 1; cp = c & 0x1f; min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2; cp = c & 0x0f; min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3; cp = c & 0x07; min = 0x10000;
		} else {
			return 0;
		}
		for (size_t j = 1; j <= k; j++) {
			if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

int
bj_api_read(struct bj_req *req, int optional)
{
	const char *ct = bj_req_param(req, "CONTENT_TYPE");
	enum bj_err e;

	if (ct != NULL && *ct != '\0') {
		size_t n = strcspn(ct, "; ");
		if (n != 16 || strncasecmp(ct, "application/json", 16) != 0) {
			bj_reply_error(req, BJ_ERR_UNSUPPORTED_MEDIA,
			    "the body must be application/json");
			return -1;
		}
	} else if (!optional) {
		bj_reply_error(req, BJ_ERR_UNSUPPORTED_MEDIA, "the body must be application/json");
		return -1;
	}
	if ((e = bj_req_read_body(req, req->app->conf->max_body)) != BJ_OK) {
		if (e == BJ_ERR_TOO_LARGE)
			bj_reply_error(req, e, "the body is larger than %lld bytes",
			    req->app->conf->max_body);
		else
			bj_reply_error(req, e, "the body is shorter than its Content-Length");
		return -1;
	}
	if (!utf8_ok((const unsigned char *)req->body, req->body_len)) {
		bj_reply_error(req, BJ_ERR_BAD_JSON, "the body is not valid UTF-8");
		return -1;
	}
	return 0;
}

/* req->body parsed strictly into a JSON object, else -1 after 400. */
static int
parse(struct bj_req *req, struct json_object **out)
{
	char why[200];
	enum bj_err e;

	*out = bj_json_parse_object(req->body, req->body_len, req->app->conf->max_json_depth,
	    &e, why, sizeof why);
	if (*out == NULL) {
		bj_reply_error(req, e, "%s", why);
		return -1;
	}
	return 0;
}

int
bj_api_body(struct bj_req *req, int optional, struct json_object **out)
{
	*out = NULL;
	if (bj_api_read(req, optional) == -1)
		return -1;
	if (req->body_len == 0 && optional) {
		*out = json_object_new_object();
		return 0;
	}
	return parse(req, out);
}

int
bj_api_id(struct bj_req *req, const char *s, enum bj_err nf, long long *id)
{
	char *end;

	*id = 0;
	if (s == NULL || !isdigit((unsigned char)s[0]) || strlen(s) > 18)
		goto bad;
	*id = strtoll(s, &end, 10);
	if (*end != '\0' || *id <= 0)
		goto bad;
	return 0;
bad:
	bj_reply_error(req, nf, nf == BJ_ERR_ITEM_NOT_FOUND ? "no such item" : "no such job");
	return -1;
}

int
bj_api_job(struct bj_req *req, long long id, struct bj_job **out)
{
	enum bj_err e;

	/* a job made or changed through another node a moment ago is seen (Galera) */
	bj_db_sync_reads(req->app->db, 1);
	e = bj_job_get(req->app->db, id, out);
	bj_db_sync_reads(req->app->db, 0);
	if (e == BJ_OK && !bj_auth_sees(req, (*out)->owner)) {
		bj_job_free(*out);
		*out = NULL;
		e = BJ_ERR_JOB_NOT_FOUND;	/* never tell another owner's job exists */
	}
	if (e != BJ_OK) {
		bj_api_fail(req, e);
		return -1;
	}
	return 0;
}

int
bj_api_job_etag(struct bj_req *req, const struct bj_job *j)
{
	struct bj_buf b = { 0 };
	int rc;

	bj_buf_printf(&b, "%s\n%s\n%s\n%s\n%lld\n%s\n%lld\n%s", PACKAGE_VERSION, req->route,
	    req->query, req->app->conf->public_url, j->id, j->token ? j->token : "",
	    j->version, j->waiting_on ? j->waiting_on : "");
	rc = bj_req_etag(req, b.data, b.len, bj_job_poll_interval(j));
	bj_buf_free(&b);
	return rc;
}

const char *
bj_api_message(enum bj_err e)
{
	switch (e) {
	case BJ_ERR_DB_UNAVAILABLE:
		return "the database is not available; retry later";
	case BJ_ERR_JOB_NOT_FOUND:
		return "no such job";
	case BJ_ERR_ITEM_NOT_FOUND:
		return "no such item";
	case BJ_ERR_LEASE_LOST:
		return "the item is not claimed under this lease token";
	default:
		return bj_strerror(e);
	}
}

/* Server-side failures logged by a process per minute, at most; the rest are counted. */
#define FAIL_LOG_LINES	10
#define FAIL_LOG_SECONDS	60

void
bj_api_fail(struct bj_req *req, enum bj_err e)
{
	static struct bj_log_rate rate = BJ_LOG_RATE(FAIL_LOG_LINES, FAIL_LOG_SECONDS);

	if (e == BJ_ERR_INTERNAL || e == BJ_ERR_DB_UNAVAILABLE || e == BJ_ERR_CONTENDED) {
		const char *why = bj_db_error(req->app->db);

		bj_log_limited(&rate, BJ_LOG_ERR, "%s %s: %s; last database error: %s", req->method ? req->method : "-",
		    req->route ? req->route : "-", bj_err_code(e),
		    *why != '\0' ? why : "none");
	}
	bj_reply_error(req, e, "%s", bj_api_message(e));
}

const char *
bj_api_need_str(struct bj_req *req, struct json_object *o, const char *where,
    const char *name)
{
	const char *s = bj_json_str(o, name);

	if (s == NULL || *s == '\0') {
		bj_reply_error(req, BJ_ERR_VALIDATION, "%s%s: a non-empty string is required",
		    where, name);
		return NULL;
	}
	return s;
}
