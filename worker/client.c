/*
 * client.c: the worker's side of the lease protocol (docs/design.md §4) over
 * libcurl: claims, heartbeats, completions and failures.
 *
 * One curl handle per client, reused so the connection is kept. Every
 * call maps its answer to an enum bj_call that says what the loop should
 * do; the server's error code and message are kept for the log, with
 * control characters replaced.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "json.h"
#include "token.h"
#include "worker.h"

struct bj_client {
	CURL			*curl;
	char			*url;		/* no trailing slash */
	struct curl_slist	*headers;
	struct curl_slist	*call_headers;	/* this call's, when it has its own */
	char			 error[512];
	time_t			 date;		/* the last answer's Date header, 0: none */
	char			 claim_key[BJ_TOKEN_LEN + 1];	/* until a claim is answered */
};

/* A client for the API under url; NULL when the token could end a header line. */
struct bj_client *
bj_client_new(const char *url, const char *token)
{
	struct bj_client *c;
	char *auth;
	size_t n = strlen(url);

	if (strpbrk(token, "\r\n") != NULL || strpbrk(url, "\r\n") != NULL)
		return NULL;
	c = bj_xcalloc(1, sizeof *c);
	while (n > 0 && url[n - 1] == '/')
		n--;
	c->url = bj_xstrndup(url, n);
	auth = bj_xasprintf("Authorization: Bearer %s", token);
	c->headers = curl_slist_append(NULL, auth);
	free(auth);
	c->headers = curl_slist_append(c->headers, "Content-Type: application/json");
	c->headers = curl_slist_append(c->headers, "Accept: application/json");
	c->headers = curl_slist_append(c->headers, "Expect:");
	if ((c->curl = curl_easy_init()) == NULL || c->headers == NULL) {
		bj_client_free(c);
		return NULL;
	}
	return c;
}

/* Release the client; NULL is a no-op. */
void
bj_client_free(struct bj_client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->headers);
	free(c->url);
	free(c);
}

/* The last error, for logs. */
const char *
bj_client_error(const struct bj_client *c)
{
	return c->error;
}

/* libcurl's write callback: append to a bounded buffer. */
static size_t
collect(char *p, size_t sz, size_t n, void *ud)
{
	struct bj_buf *b = ud;

	/* a worker has no use for huge answers: stop at 16 MiB */
	if (b->len + sz * n > 16u * 1024 * 1024)
		return 0;
	bj_buf_add(b, p, sz * n);
	return sz * n;
}

/* libcurl's header callback: remember the server's Date, which dates lease_expires_at. */
static size_t
header(char *p, size_t sz, size_t n, void *ud)
{
	struct bj_client *c = ud;
	size_t len = sz * n;
	char line[128];

	if (len > 5 && len < sizeof line && strncasecmp(p, "Date:", 5) == 0) {
		memcpy(line, p + 5, len - 5);
		line[len - 5] = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		c->date = curl_getdate(line, NULL);
		if (c->date == -1)
			c->date = 0;
	}
	return len;
}

/* Seconds from date to the ISO 8601 UTC time iso ("2026-11-22T08:24:32.123456Z"); -1 when unknown. */
double
bj_lease_left(const char *iso, time_t date)
{
	struct tm tm;
	double frac = 0;
	int consumed = 0;
	time_t t;

	if (iso == NULL || date <= 0)
		return -1;
	memset(&tm, 0, sizeof tm);
	if (sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6)
		return -1;
	if (iso[consumed] == '.')
		frac = strtod(iso + consumed, NULL);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	return (double)(t - date) + frac;
}

/* Keep "what: text" as the error, with control characters replaced. */
static void
set_error(struct bj_client *c, const char *what, const char *text)
{
	snprintf(c->error, sizeof c->error, "%s: %s", what, text ? text : "");
	for (char *p = c->error; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = '?';
}

/* POST body to path; the reply body lands in reply. */
static enum bj_call
post(struct bj_client *c, const char *path, const char *body, struct bj_buf *reply)
{
	char *url = bj_xasprintf("%s%s", c->url, path);
	long status = 0;
	CURLcode rc;
	struct json_object *obj;
	enum bj_err jerr;
	const char *why;

	bj_buf_reset(reply);
	c->date = 0;
	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->call_headers ? c->call_headers : c->headers);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, reply);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "bulkjobs-worker/" PACKAGE_VERSION);
	rc = curl_easy_perform(c->curl);
	free(url);
	if (rc != CURLE_OK) {
		set_error(c, path, curl_easy_strerror(rc));
		return BJ_CALL_RETRY;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300) {
		c->error[0] = '\0';
		return BJ_CALL_OK;
	}
	/* {"error":{"code","message"}} when the app answered, anything else from a proxy */
	obj = reply->len ? bj_json_parse(reply->data, reply->len, 16, &jerr, &why) : NULL;
	{
		struct json_object *e = NULL;
		char what[300];

		if (obj != NULL)
			json_object_object_get_ex(obj, "error", &e);
		snprintf(what, sizeof what, "%s: HTTP %ld %s", path, status,
		    e ? (bj_json_str(e, "code") ? bj_json_str(e, "code") : "") : "");
		set_error(c, what, e ? bj_json_str(e, "message") : "(no JSON error)");
	}
	json_object_put(obj);
	if (status == 401 || status == 403)
		return BJ_CALL_AUTH;
	if (status == 409)
		return BJ_CALL_LEASE_LOST;
	if (status == 408 || status == 429 || status >= 500)
		return BJ_CALL_RETRY;
	return BJ_CALL_REFUSED;
}

/* Release a claim; NULL is a no-op. */
void
bj_held_free(struct bj_held *cl)
{
	if (cl == NULL)
		return;
	free(cl->kind);
	free(cl->key);
	free(cl->payload);
	free(cl->lease_token);
	free(cl->lease_expires_at);
	free(cl);
}

/* One claimed item from its JSON; NULL with *why when a field is missing. */
static struct bj_held *
claim_from(struct json_object *it, const char **why)
{
	struct bj_held *cl = bj_xcalloc(1, sizeof *cl);
	struct json_object *p = NULL;
	long long v;
	const char *s;

	*why = "an item lacks id, job_id, lease_token or has a bad field";
	if (bj_json_int(it, "id", &cl->id) != 1 || bj_json_int(it, "job_id", &cl->job_id) != 1 ||
	    (s = bj_json_str(it, "lease_token")) == NULL)
		goto bad;
	cl->lease_token = bj_xstrdup(s);
	if ((s = bj_json_str(it, "lease_expires_at")) != NULL)
		cl->lease_expires_at = bj_xstrdup(s);
	cl->lease_left = -1;
	cl->kind = bj_xstrdup(bj_json_str(it, "kind") ? bj_json_str(it, "kind") : "");
	cl->key = bj_xstrdup(bj_json_str(it, "key") ? bj_json_str(it, "key") : "");
	if (bj_json_int(it, "stage", &v) == -1 || bj_json_int(it, "attempt", &v) == -1)
		goto bad;
	if (bj_json_int(it, "stage", &v) == 1)
		cl->stage = (int)v;
	if (bj_json_int(it, "attempt", &v) == 1)
		cl->attempt = (int)v;
	json_object_object_get_ex(it, "payload", &p);
	cl->payload = bj_xstrdup(p ? json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) :
	    "null");
	return cl;
bad:
	bj_held_free(cl);
	return NULL;
}

/* Parse {"items":[…]} into claims. */
int
bj_held_parse(const char *body, size_t len, struct bj_held ***out, int *n,
    const char **why)
{
	struct json_object *obj, *items = NULL;
	struct bj_held **v = NULL;
	enum bj_err err;
	size_t count;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if ((obj = bj_json_parse(body, len, 64, &err, why)) == NULL)
		return -1;
	if (!json_object_object_get_ex(obj, "items", &items) ||
	    !json_object_is_type(items, json_type_array)) {
		*why = "the reply has no \"items\" array";
		goto out;
	}
	count = json_object_array_length(items);
	v = bj_xcalloc(count + 1, sizeof *v);
	for (size_t i = 0; i < count; i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
		if (!json_object_is_type(it, json_type_object) ||
		    (v[i] = claim_from(it, why)) == NULL) {
			if (!json_object_is_type(it, json_type_object))
				*why = "an item is not an object";
			for (size_t k = 0; k < i; k++)
				bj_held_free(v[k]);
			free(v);
			v = NULL;
			goto out;
		}
	}
	*out = v;
	*n = (int)count;
	rc = 0;
out:
	json_object_put(obj);
	return rc;
}

/* Claim up to limit items. */
enum bj_call
bj_client_claim(struct bj_client *c, const char *worker, char *const *kinds,
    int nkinds, int limit, int lease_seconds, struct bj_held ***out, int *n)
{
	struct json_object *req = json_object_new_object(), *k = json_object_new_array();
	struct bj_buf reply = { 0 };
	enum bj_call rc;
	const char *why;

	*out = NULL;
	*n = 0;
	json_object_object_add(req, "worker", json_object_new_string(worker));
	for (int i = 0; i < nkinds; i++)
		json_object_array_add(k, json_object_new_string(kinds[i]));
	json_object_object_add(req, "kinds", k);
	json_object_object_add(req, "limit", json_object_new_int(limit));
	if (lease_seconds > 0)
		json_object_object_add(req, "lease_seconds", json_object_new_int(lease_seconds));
	/*
	 * One Idempotency-Key until a claim is answered: a claim retried
	 * after its answer was lost gets the items the first one took.
	 */
	if (c->claim_key[0] == '\0' && bj_token_new(c->claim_key) == -1)
		c->claim_key[0] = '\0';
	if (c->claim_key[0] != '\0') {
		char line[64];

		for (struct curl_slist *h = c->headers; h != NULL; h = h->next)
			c->call_headers = curl_slist_append(c->call_headers, h->data);
		snprintf(line, sizeof line, "Idempotency-Key: %s", c->claim_key);
		c->call_headers = curl_slist_append(c->call_headers, line);
	}
	rc = post(c, "/v1/claims", json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
	    &reply);
	curl_slist_free_all(c->call_headers);
	c->call_headers = NULL;
	if (rc != BJ_CALL_RETRY)
		c->claim_key[0] = '\0';
	if (rc == BJ_CALL_OK && bj_held_parse(reply.data, reply.len, out, n, &why) == -1) {
		set_error(c, "/v1/claims: malformed reply", why);
		rc = BJ_CALL_RETRY;
	}
	for (int i = 0; rc == BJ_CALL_OK && i < *n; i++)
		(*out)[i]->lease_left = bj_lease_left((*out)[i]->lease_expires_at, c->date);
	json_object_put(req);
	bj_buf_free(&reply);
	return rc;
}

/* POST to /v1/items/ID/verb with req (consumed). */
static enum bj_call
item_call(struct bj_client *c, const struct bj_held *cl, const char *verb,
    struct json_object *req, struct bj_buf *reply)
{
	char path[96];
	enum bj_call rc;

	json_object_object_add(req, "lease_token", json_object_new_string(cl->lease_token));
	snprintf(path, sizeof path, "/v1/items/%lld/%s", cl->id, verb);
	rc = post(c, path, json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), reply);
	json_object_put(req);
	return rc;
}

/* Extend the lease; *job_state gets the job's state from the reply ("" when absent). */
enum bj_call
bj_client_heartbeat(struct bj_client *c, struct bj_held *cl, long long done,
    long long total, char *job_state, size_t job_state_len)
{
	struct json_object *req = json_object_new_object(), *obj;
	struct bj_buf reply = { 0 };
	enum bj_call rc;
	enum bj_err err;
	const char *why, *s;

	if (total >= 0) {
		struct json_object *p = json_object_new_object();
		json_object_object_add(p, "done", json_object_new_int64(done));
		json_object_object_add(p, "total", json_object_new_int64(total));
		json_object_object_add(req, "progress", p);
	}
	rc = item_call(c, cl, "heartbeat", req, &reply);
	job_state[0] = '\0';
	if (rc == BJ_CALL_OK && reply.len > 0 &&
	    (obj = bj_json_parse(reply.data, reply.len, 16, &err, &why)) != NULL) {
		if ((s = bj_json_str(obj, "job_state")) != NULL)
			snprintf(job_state, job_state_len, "%s", s);
		cl->lease_left = bj_lease_left(bj_json_str(obj, "lease_expires_at"), c->date);
		json_object_put(obj);
	}
	bj_buf_free(&reply);
	return rc;
}

/* Complete with result (JSON text or NULL) and artifact (or NULL). */
enum bj_call
bj_client_complete(struct bj_client *c, const struct bj_held *cl, const char *result,
    const char *artifact)
{
	struct json_object *req = json_object_new_object(), *res = NULL;
	struct bj_buf reply = { 0 };
	enum bj_call rc;
	enum bj_err err;
	const char *why;

	if (result != NULL && (res = bj_json_parse(result, strlen(result), 64, &err, &why)) != NULL)
		json_object_object_add(req, "result", res);
	if (artifact != NULL)
		json_object_object_add(req, "artifact", json_object_new_string(artifact));
	rc = item_call(c, cl, "complete", req, &reply);
	bj_buf_free(&reply);
	return rc;
}

/* Fail with a message; retryable says whether another attempt may follow. */
enum bj_call
bj_client_fail(struct bj_client *c, const struct bj_held *cl, const char *error,
    int retryable)
{
	struct json_object *req = json_object_new_object();
	struct bj_buf reply = { 0 };
	char *clean = bj_utf8_clean(error, strlen(error));
	enum bj_call rc;

	json_object_object_add(req, "error", json_object_new_string(clean));
	json_object_object_add(req, "retryable", json_object_new_boolean(retryable));
	rc = item_call(c, cl, "fail", req, &reply);
	free(clean);
	bj_buf_free(&reply);
	return rc;
}
