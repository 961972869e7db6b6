/*
 * test_api.c: the JSON API through nginx: a two-stage job from submission
 * to success by claims and completions, batch completions, and every
 * documented error status.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "harness.h"

static struct bj_e2e e2e;
static char *submit_tok, *work_tok, *admin_tok, *bob_tok;

static int
init(void)
{
	if (bj_e2e_start(&e2e, "api", "[http]\nmax_body = 2097152\nmax_json_depth = 8\n"
	    "token_cache = 1\n") == -1)
		return -1;
	submit_tok = bj_e2e_token(&e2e, "alice-submit", "submit", "alice");
	work_tok = bj_e2e_token(&e2e, "worker", "work", NULL);
	admin_tok = bj_e2e_token(&e2e, "root", "admin", NULL);
	bob_tok = bj_e2e_token(&e2e, "bob-submit", "submit", "bob");
	return submit_tok && work_tok && admin_tok && bob_tok ? 0 : -1;
}

static int
clean(void)
{
	bj_e2e_stop(&e2e);
	free(submit_tok);
	free(work_tok);
	free(admin_tok);
	free(bob_tok);
	return 0;
}

/*
 * One request: tok (or NULL) as Bearer, extra header (or NULL), body
 * JSON (or NULL). Returns the status; *out gets the parsed body if wanted.
 */
static long
call(const char *method, const char *path, const char *tok, const char *extra,
    const char *body, struct json_object **out)
{
	return bj_e2e_call(&e2e, method, path, tok, extra, body, body ? strlen(body) : 0, out);
}

/* The error code of an error reply, or "". */
static const char *
code(struct json_object *o)
{
	return bj_test_error_code(o);
}

/* A member of o by dotted path ("counts.total"), or NULL. */
static struct json_object *
get(struct json_object *o, const char *path)
{
	return bj_test_json_get(o, path);
}

static long long
geti(struct json_object *o, const char *path)
{
	struct json_object *v = get(o, path);
	return v ? json_object_get_int64(v) : -1;
}

static const char *
gets_(struct json_object *o, const char *path)
{
	struct json_object *v = get(o, path);
	return v ? json_object_get_string(v) : "";
}

static const char JOB2[] =
    "{\"kind\":\"export\",\"owner\":\"alice\",\"title\":\"Orders 2026\","
    "\"params\":{\"year\":2026},\"max_attempts\":2,"
    "\"notify\":{\"email\":[\"alice@example.org\"],\"webhooks\":[\"http://127.0.0.1:9/h\"]},"
    "\"items\":[{\"key\":\"a\",\"stage\":0,\"payload\":{\"n\":1}},"
    "{\"key\":\"b\",\"stage\":0},{\"key\":\"merge\",\"stage\":1}]}";

/* Claim for the worker: returns the items array (owned by *root). */
static struct json_object *
claim(const char *kind, int limit, struct json_object **root)
{
	char body[200];
	long st;

	snprintf(body, sizeof body, "{\"worker\":\"w1\",\"kinds\":[\"%s\"],\"limit\":%d}",
	    kind, limit);
	st = call("POST", "/v1/claims", work_tok, NULL, body, root);
	CU_ASSERT_EQUAL(st, 200);
	return get(*root, "items");
}

/* POST /v1/items/ID/what with body. */
static long
item_post(long long id, const char *what, const char *body, struct json_object **out)
{
	char path[128];

	snprintf(path, sizeof path, "/v1/items/%lld/%s", id, what);
	return call("POST", path, work_tok, NULL, body, out);
}

static void
test_two_stage_job_to_success(void)
{
	struct json_object *job = NULL, *again = NULL, *cl = NULL, *items, *r = NULL;
	char path[128], body[300], tok0[64], tok1[64];
	long long id, i0, i1;

	CU_ASSERT_EQUAL_FATAL(call("POST", "/v1/jobs", submit_tok, "Idempotency-Key: k-1", JOB2,
	    &job), 201);
	id = geti(job, "id");
	CU_ASSERT_STRING_EQUAL(gets_(job, "state"), "queued");
	CU_ASSERT_EQUAL(geti(job, "counts.total"), 3);
	CU_ASSERT_EQUAL(geti(job, "counts.pending"), 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(gets_(job, "links.self"), "/v1/jobs/"));
	CU_ASSERT_PTR_NOT_NULL(strstr(gets_(job, "links.status_page"), "/jobs/"));
	CU_ASSERT_EQUAL(geti(job, "params.year"), 2026);

	/* the idempotent retry: same job, 200 */
	CU_ASSERT_EQUAL(call("POST", "/v1/jobs", submit_tok, "Idempotency-Key: k-1", JOB2,
	    &again), 200);
	CU_ASSERT_EQUAL(geti(again, "id"), id);
	json_object_put(again);
	/* the same key with another body */
	CU_ASSERT_EQUAL(call("POST", "/v1/jobs", submit_tok, "Idempotency-Key: k-1",
	    "{\"kind\":\"export\",\"owner\":\"alice\",\"items\":[{\"key\":\"z\"}]}", &again), 422);
	CU_ASSERT_STRING_EQUAL(code(again), "IDEMPOTENCY_MISMATCH");
	json_object_put(again);

	/* stage 0: two items; stage 1 waits */
	items = claim("export", 10, &cl);
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(items), 2);
	i0 = geti(json_object_array_get_idx(items, 0), "id");
	i1 = geti(json_object_array_get_idx(items, 1), "id");
	snprintf(tok0, sizeof tok0, "%s", gets_(json_object_array_get_idx(items, 0), "lease_token"));
	snprintf(tok1, sizeof tok1, "%s", gets_(json_object_array_get_idx(items, 1), "lease_token"));
	CU_ASSERT_EQUAL(geti(json_object_array_get_idx(items, 0), "attempt"), 1);
	CU_ASSERT_EQUAL(geti(json_object_array_get_idx(items, 0), "stage"), 0);
	json_object_put(cl);

	snprintf(body, sizeof body, "{\"lease_token\":\"%s\",\"progress\":{\"done\":1,\"total\":2}}", tok0);
	CU_ASSERT_EQUAL(item_post(i0, "heartbeat", body, &r), 200);
	CU_ASSERT_STRING_EQUAL(gets_(r, "job_state"), "running");
	CU_ASSERT_PTR_NOT_NULL(strchr(gets_(r, "lease_expires_at"), 'Z'));
	json_object_put(r);

	snprintf(body, sizeof body, "{\"lease_token\":\"%s\",\"result\":{\"rows\":10}}", tok0);
	CU_ASSERT_EQUAL(item_post(i0, "complete", body, &r), 200);
	CU_ASSERT_STRING_EQUAL(gets_(r, "state"), "succeeded");
	CU_ASSERT_EQUAL(geti(r, "result.rows"), 10);
	json_object_put(r);
	/*
	 * the second completion, and a stale token: 409 LEASE_LOST; the first
	 * says it already counted (a retry after a lost answer learns so)
	 */
	CU_ASSERT_EQUAL(item_post(i0, "complete", body, &r), 409);
	CU_ASSERT_STRING_EQUAL(code(r), "LEASE_LOST");
	CU_ASSERT_STRING_EQUAL(gets_(r, "error.message"),
	    "the item was already completed under this lease token");
	json_object_put(r);
	CU_ASSERT_EQUAL(item_post(i1, "complete",
	    "{\"lease_token\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}", &r), 409);
	CU_ASSERT_STRING_EQUAL(code(r), "LEASE_LOST");
	CU_ASSERT_STRING_EQUAL(gets_(r, "error.message"),
	    "the item is not claimed under this lease token");
	json_object_put(r);
	/* a bad artifact path is refused and changes nothing */
	snprintf(body, sizeof body, "{\"lease_token\":\"%s\",\"artifact\":\"../../etc/passwd\"}", tok1);
	CU_ASSERT_EQUAL(item_post(i1, "complete", body, &r), 422);
	CU_ASSERT_STRING_EQUAL(code(r), "BAD_ARTIFACT_PATH");
	json_object_put(r);
	snprintf(body, sizeof body, "{\"lease_token\":\"%s\"}", tok1);
	CU_ASSERT_EQUAL(item_post(i1, "complete", body, &r), 200);
	json_object_put(r);

	/* stage 1 is open now */
	items = claim("export", 10, &cl);
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(items), 1);
	CU_ASSERT_EQUAL(geti(json_object_array_get_idx(items, 0), "stage"), 1);
	CU_ASSERT_STRING_EQUAL(gets_(json_object_array_get_idx(items, 0), "key"), "merge");
	i0 = geti(json_object_array_get_idx(items, 0), "id");
	snprintf(body, sizeof body, "{\"lease_token\":\"%s\",\"artifact\":\"./exports//orders.csv\"}",
	    gets_(json_object_array_get_idx(items, 0), "lease_token"));
	json_object_put(cl);
	CU_ASSERT_EQUAL(item_post(i0, "complete", body, &r), 200);
	CU_ASSERT_STRING_EQUAL(gets_(r, "artifact"), "exports/orders.csv");
	json_object_put(r);

	snprintf(path, sizeof path, "/v1/jobs/%lld", id);
	CU_ASSERT_EQUAL(call("GET", path, submit_tok, NULL, NULL, &r), 200);
	CU_ASSERT_STRING_EQUAL(gets_(r, "state"), "succeeded");
	CU_ASSERT_EQUAL(geti(r, "counts.succeeded"), 3);
	CU_ASSERT_EQUAL(geti(r, "counts.pending"), 0);
	CU_ASSERT_STRING_EQUAL(gets_(r, "artifact"), "exports/orders.csv");
	CU_ASSERT_PTR_NOT_NULL(get(r, "finished_at"));
	json_object_put(r);

	/* a forbidden transition: a finished job cannot be cancelled */
	snprintf(path, sizeof path, "/v1/jobs/%lld/cancel", id);
	CU_ASSERT_EQUAL(call("POST", path, submit_tok, NULL, NULL, &r), 409);
	CU_ASSERT_STRING_EQUAL(code(r), "INVALID_TRANSITION");
	json_object_put(r);

	/* items and events */
	snprintf(path, sizeof path, "/v1/jobs/%lld/items?limit=2", id);
	CU_ASSERT_EQUAL(call("GET", path, submit_tok, NULL, NULL, &r), 200);
	CU_ASSERT_EQUAL(json_object_array_length(get(r, "items")), 2);
	CU_ASSERT_STRING_EQUAL(gets_(json_object_array_get_idx(get(r, "items"), 0), "key"), "a");
	snprintf(path, sizeof path, "/v1/jobs/%lld/items?limit=2&after=%s", id, gets_(r, "next"));
	json_object_put(r);
	CU_ASSERT_EQUAL(call("GET", path, submit_tok, NULL, NULL, &r), 200);
	CU_ASSERT_EQUAL(json_object_array_length(get(r, "items")), 1);
	CU_ASSERT_PTR_NULL(get(r, "next"));
	json_object_put(r);
	/* a page that holds exactly the rest is the last one: next is null */
	snprintf(path, sizeof path, "/v1/jobs/%lld/items?limit=3", id);
	CU_ASSERT_EQUAL(call("GET", path, submit_tok, NULL, NULL, &r), 200);
	CU_ASSERT_EQUAL(json_object_array_length(get(r, "items")), 3);
	CU_ASSERT_PTR_NULL(get(r, "next"));
	json_object_put(r);
	snprintf(path, sizeof path, "/v1/jobs/%lld/events", id);
	CU_ASSERT_EQUAL(call("GET", path, submit_tok, NULL, NULL, &r), 200);
	{
		struct json_object *ev = get(r, "events");
		int created = 0, started = 0, advanced = 0, finished = 0;
		for (size_t i = 0; ev && i < json_object_array_length(ev); i++) {
			const char *t = gets_(json_object_array_get_idx(ev, i), "type");
			created += strcmp(t, "created") == 0;
			started += strcmp(t, "started") == 0;
			advanced += strcmp(t, "stage_advanced") == 0;
			finished += strcmp(t, "finished") == 0;
		}
		CU_ASSERT(created == 1 && started == 1 && advanced == 1 && finished == 1);
	}
	json_object_put(r);
	json_object_put(job);
}

static void
test_reply_headers(void)
{
	struct bj_http_reply r;
	char url[300], auth[128], *h;
	const char *hs[3];

	snprintf(url, sizeof url, "%s/v1/jobs", e2e.url);
	CU_ASSERT_EQUAL_FATAL(bj_http("GET", url, NULL, NULL, 0, &r), 0);
	CU_ASSERT_EQUAL(r.status, 401);
	h = bj_http_header(&r, "WWW-Authenticate");
	CU_ASSERT_PTR_NOT_NULL(h);
	free(h);
	h = bj_http_header(&r, "Content-Length");
	CU_ASSERT_PTR_NOT_NULL(h);
	if (h)
		CU_ASSERT_EQUAL((size_t)atol(h), r.len);
	free(h);
	bj_http_reply_free(&r);

	snprintf(auth, sizeof auth, "Authorization: Bearer %s", submit_tok);
	hs[0] = auth;
	hs[1] = "Content-Type: application/json";
	hs[2] = NULL;
	CU_ASSERT_EQUAL_FATAL(bj_http("POST", url, hs,
	    "{\"kind\":\"hdr\",\"owner\":\"alice\",\"items\":[{\"key\":\"a\"}]}", 52, &r), 0);
	CU_ASSERT_EQUAL(r.status, 201);
	h = bj_http_header(&r, "Location");
	CU_ASSERT_PTR_NOT_NULL(h && strstr(h, "/bulkjobs/v1/jobs/"));
	free(h);
	bj_http_reply_free(&r);
}

static void
test_auth_and_scopes(void)
{
	struct json_object *r = NULL, *job = NULL;
	char path[64];
	long long id;

	CU_ASSERT_EQUAL(call("GET", "/v1/jobs", NULL, NULL, NULL, &r), 401);
	CU_ASSERT_STRING_EQUAL(code(r), "UNAUTHORIZED");
	json_object_put(r);
	CU_ASSERT_EQUAL(call("GET", "/v1/jobs", "bj_nottherightthingatall000000000", NULL, NULL, &r), 401);
	json_object_put(r);
	CU_ASSERT_EQUAL(call("POST", "/v1/jobs", work_tok, NULL, JOB2, &r), 403);
	CU_ASSERT_STRING_EQUAL(code(r), "FORBIDDEN");
	json_object_put(r);
	CU_ASSERT_EQUAL(call("POST", "/v1/claims", submit_tok, NULL,
	    "{\"worker\":\"w\",\"kinds\":[\"x\"]}", &r), 403);
	json_object_put(r);
	/* bob may not submit for alice, nor see her jobs */
	CU_ASSERT_EQUAL(call("POST", "/v1/jobs", bob_tok, NULL, JOB2, &r), 403);
	json_object_put(r);
	CU_ASSERT_EQUAL_FATAL(call("POST", "/v1/jobs", submit_tok, NULL,
	    "{\"kind\":\"private\",\"owner\":\"alice\",\"items\":[{\"key\":\"p\"}]}", &job), 201);
	id = geti(job, "id");
	json_object_put(job);
	snprintf(path, sizeof path, "/v1/jobs/%lld", id);
	CU_ASSERT_EQUAL(call("GET", path, bob_tok, NULL, NULL, &r), 404);
	CU_ASSERT_STRING_EQUAL(code(r), "JOB_NOT_FOUND");
	json_object_put(r);
	CU_ASSERT_EQUAL(call("GET", "/v1/jobs/99999999", bob_tok, NULL, NULL, &r), 404);
	CU_ASSERT_STRING_EQUAL(code(r), "JOB_NOT_FOUND");
	json_object_put(r);
	CU_ASSERT_EQUAL(call("GET", path, admin_tok, NULL, NULL, &r), 200);
	json_object_put(r);
	/* lists show only the token's owner */
	CU_ASSERT_EQUAL(call("GET", "/v1/jobs?limit=100", bob_tok, NULL, NULL, &r), 200);
	CU_ASSERT_EQUAL(json_object_array_length(get(r, "jobs")), 0);
	json_object_put(r);
	CU_ASSERT_EQUAL(call("GET", "/v1/jobs?owner=alice", bob_tok, NULL, NULL, &r), 403);
	json_object_put(r);
	CU_ASSERT_EQUAL(call("GET", "/v1/jobs?kind=private", submit_tok, NULL, NULL, &r), 200);
	CU_ASSERT_EQUAL(json_object_array_length(get(r, "jobs")), 1);
	CU_ASSERT_PTR_NULL(get(r, "next"));	/* the only page */
	json_object_put(r);
	CU_ASSERT_EQUAL(call("GET", "/v1/jobs?kind=private&limit=1", submit_tok, NULL, NULL, &r), 200);
	CU_ASSERT_EQUAL(json_object_array_length(get(r, "jobs")), 1);
	CU_ASSERT_PTR_NULL(get(r, "next"));	/* a full page that is also the last */
	json_object_put(r);
}

/*
 * Processes keep a looked-up token for [http] token_cache seconds (1 here):
 * once that has passed, a revoked token is refused by every process, and
 * the token's last use was recorded.
 */
static void
test_revoked_token_refused(void)
{
	char *tok = bj_e2e_token(&e2e, "short-lived", "submit", "alice"), *out;
	struct json_object *r = NULL;
	int st = -1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
	for (int i = 0; i < 8; i++)		/* more requests than processes */
		CU_ASSERT_EQUAL(call("GET", "/v1/jobs?limit=1", tok, NULL, NULL, NULL), 200);
	out = bj_e2e_ctl(&e2e, "token list | grep short-lived", &st);
	CU_ASSERT_EQUAL(st, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	{
		const char *line = strstr(out, "short-lived");
		int dates = 0;
		CU_ASSERT_PTR_NOT_NULL_FATAL(line);
		/* CREATED and LAST USED are both dates, REVOKED is "-" */
		for (const char *p = line; *p; p++)
			if (p[0] == 'Z' && (p[1] == ' ' || p[1] == '\0'))
				dates++;
		CU_ASSERT_EQUAL(dates, 2);
	}
	free(out);
	out = bj_e2e_ctl(&e2e, "token revoke short-lived", &st);
	CU_ASSERT_EQUAL(st, 0);
	free(out);
	usleep(1100000);
	for (int i = 0; i < 8; i++) {
		CU_ASSERT_EQUAL(call("GET", "/v1/jobs?limit=1", tok, NULL, NULL, &r), 401);
		CU_ASSERT_STRING_EQUAL(code(r), "UNAUTHORIZED");
		json_object_put(r);
		r = NULL;
	}
	free(tok);
}

static void
test_bad_bodies(void)
{
	struct json_object *r = NULL;
	struct bj_buf big = { 0 };
	char url[300];
	struct bj_http_reply hr;
	char auth[128];
	const char *h[3];

	CU_ASSERT_EQUAL(call("POST", "/v1/jobs", submit_tok, NULL, "{\"kind\":", &r), 400);
	CU_ASSERT_STRING_EQUAL(code(r), "BAD_JSON");
	json_object_put(r);
	CU_ASSERT_EQUAL(call("POST", "/v1/jobs", submit_tok, NULL, "{} trailing", &r), 400);
	json_object_put(r);
	CU_ASSERT_EQUAL(call("POST", "/v1/jobs", submit_tok, NULL,
	    "{\"kind\":\"export\",\"owner\":\"alice\",\"items\":[{\"key\":\"\xc3\x28\"}]}", &r), 400);
	CU_ASSERT_STRING_EQUAL(code(r), "BAD_JSON");
	json_object_put(r);
	CU_ASSERT_EQUAL(call("POST", "/v1/jobs", submit_tok, NULL,
	    "{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]}", &r), 400);
	CU_ASSERT_STRING_EQUAL(code(r), "JSON_TOO_DEEP");
	json_object_put(r);
	CU_ASSERT_EQUAL(call("POST", "/v1/jobs", submit_tok, NULL,
	    "{\"kind\":\"x\",\"owner\":\"alice\",\"items\":[{\"key\":\"a\",\"payload\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]}]}", &r), 400);
	CU_ASSERT_STRING_EQUAL(code(r), "JSON_TOO_DEEP");
	json_object_put(r);
	CU_ASSERT_EQUAL(call("POST", "/v1/jobs", submit_tok, NULL,
	    "{\"kind\":\"x\",\"owner\":\"alice\",\"items\":[{\"key\":\"a\"}],\"items\":[{\"key\":\"b\"}]}", &r), 422);
	json_object_put(r);
	CU_ASSERT_EQUAL(call("POST", "/v1/jobs", submit_tok, NULL,
	    "{\"kind\":\"x\",\"owner\":\"alice\",\"items\":[{\"key\":\"a\"},]}", &r), 400);
	json_object_put(r);
	CU_ASSERT_EQUAL(call("POST", "/v1/jobs", submit_tok, NULL,
	    "{\"kind\":\"export\",\"owner\":\"alice\",\"items\":[{\"key\":\"a\",\"stage\":\"x\"}]}", &r), 422);
	CU_ASSERT_STRING_EQUAL(code(r), "VALIDATION_FAILED");
	CU_ASSERT_PTR_NOT_NULL(strstr(gets_(r, "error.message"), "items[0].stage"));
	json_object_put(r);
	CU_ASSERT_EQUAL(call("POST", "/v1/jobs", submit_tok, NULL,
	    "{\"kind\":\"export\",\"owner\":\"alice\",\"items\":[{\"key\":\"a\"}],"
	    "\"notify\":{\"webhooks\":[\"javascript:alert(1)\"]}}", &r), 422);
	CU_ASSERT_PTR_NOT_NULL(strstr(gets_(r, "error.message"), "notify.webhooks[0]"));
	json_object_put(r);
	/* credentials in a webhook URL would go out as Basic auth: refused at submission */
	CU_ASSERT_EQUAL(call("POST", "/v1/jobs", submit_tok, NULL,
	    "{\"kind\":\"export\",\"owner\":\"alice\",\"items\":[{\"key\":\"a\"}],"
	    "\"notify\":{\"webhooks\":[\"https://example.org/ok\",\"http://user:pw@127.0.0.1/h\"]}}",
	    &r), 422);
	CU_ASSERT_STRING_EQUAL(code(r), "VALIDATION_FAILED");
	CU_ASSERT_STRING_EQUAL(gets_(r, "error.message"),
	    "notify.webhooks[1]: user info (user:password@) is not allowed in a webhook URL");
	json_object_put(r);
	CU_ASSERT_EQUAL(call("POST", "/v1/jobs", submit_tok, NULL,
	    "{\"owner\":\"alice\",\"items\":[{\"key\":\"a\"}]}", &r), 422);
	CU_ASSERT_PTR_NOT_NULL(strstr(gets_(r, "error.message"), "kind"));
	json_object_put(r);

	/* wrong Content-Type: 415 */
	snprintf(url, sizeof url, "%s/v1/jobs", e2e.url);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", submit_tok);
	h[0] = auth;
	h[1] = "Content-Type: text/plain";
	h[2] = NULL;
	CU_ASSERT_EQUAL_FATAL(bj_http("POST", url, h, "{}", 2, &hr), 0);
	CU_ASSERT_EQUAL(hr.status, 415);
	CU_ASSERT_PTR_NOT_NULL(strstr(hr.body, "\"UNSUPPORTED_MEDIA_TYPE\""));
	bj_http_reply_free(&hr);

	/* over [http] max_body: 413 */
	bj_buf_adds(&big, "{\"kind\":\"export\",\"owner\":\"alice\",\"title\":\"");
	for (int i = 0; i < 2200000; i++)
		bj_buf_addc(&big, 'x');
	bj_buf_adds(&big, "\",\"items\":[{\"key\":\"a\"}]}");
	CU_ASSERT_EQUAL(call("POST", "/v1/jobs", submit_tok, NULL, big.data, &r), 413);
	CU_ASSERT_STRING_EQUAL(code(r), "PAYLOAD_TOO_LARGE");
	json_object_put(r);
	bj_buf_free(&big);
}

static void
test_heartbeat_learns_of_cancel(void)
{
	struct json_object *job = NULL, *cl = NULL, *items, *r = NULL;
	char path[64], body[200];
	long long id, item;

	CU_ASSERT_EQUAL_FATAL(call("POST", "/v1/jobs", submit_tok, NULL,
	    "{\"kind\":\"cancelme\",\"owner\":\"alice\",\"items\":[{\"key\":\"a\"},{\"key\":\"b\"}]}",
	    &job), 201);
	id = geti(job, "id");
	json_object_put(job);
	items = claim("cancelme", 1, &cl);
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(items), 1);
	item = geti(json_object_array_get_idx(items, 0), "id");
	snprintf(body, sizeof body, "{\"lease_token\":\"%s\",\"progress\":3}",
	    gets_(json_object_array_get_idx(items, 0), "lease_token"));
	json_object_put(cl);

	/* pause, resume twice (the second is a forbidden transition), cancel */
	snprintf(path, sizeof path, "/v1/jobs/%lld/pause", id);
	CU_ASSERT_EQUAL(call("POST", path, submit_tok, NULL, NULL, &r), 200);
	CU_ASSERT_STRING_EQUAL(gets_(r, "state"), "paused");
	json_object_put(r);
	items = claim("cancelme", 1, &cl);	/* paused: nothing handed out */
	CU_ASSERT_EQUAL(json_object_array_length(items), 0);
	json_object_put(cl);
	snprintf(path, sizeof path, "/v1/jobs/%lld/resume", id);
	CU_ASSERT_EQUAL(call("POST", path, submit_tok, NULL, NULL, &r), 200);
	CU_ASSERT_STRING_EQUAL(gets_(r, "state"), "running");
	json_object_put(r);
	CU_ASSERT_EQUAL(call("POST", path, submit_tok, NULL, NULL, &r), 409);
	CU_ASSERT_STRING_EQUAL(code(r), "INVALID_TRANSITION");
	json_object_put(r);
	snprintf(path, sizeof path, "/v1/jobs/%lld/cancel", id);
	CU_ASSERT_EQUAL(call("POST", path, submit_tok, NULL, NULL, &r), 200);
	CU_ASSERT_STRING_EQUAL(gets_(r, "state"), "cancelled");
	CU_ASSERT_EQUAL(geti(r, "counts.cancelled"), 2);
	json_object_put(r);

	CU_ASSERT_EQUAL(item_post(item, "heartbeat", body, &r), 409);
	CU_ASSERT_STRING_EQUAL(code(r), "LEASE_LOST");
	CU_ASSERT_STRING_EQUAL(gets_(r, "job_state"), "cancelled");
	json_object_put(r);
	CU_ASSERT_EQUAL(item_post(99999999, "heartbeat", body, &r), 404);
	json_object_put(r);
}

static void
test_fail_and_retry(void)
{
	struct json_object *job = NULL, *cl = NULL, *items, *r = NULL;
	char body[200];
	long long item;

	CU_ASSERT_EQUAL_FATAL(call("POST", "/v1/jobs", submit_tok, NULL,
	    "{\"kind\":\"flaky\",\"owner\":\"alice\",\"max_attempts\":1,"
	    "\"items\":[{\"key\":\"a\"}]}", &job), 201);
	items = claim("flaky", 1, &cl);
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(items), 1);
	item = geti(json_object_array_get_idx(items, 0), "id");
	snprintf(body, sizeof body, "{\"lease_token\":\"%s\",\"error\":\"disk full\",\"retryable\":true}",
	    gets_(json_object_array_get_idx(items, 0), "lease_token"));
	json_object_put(cl);
	CU_ASSERT_EQUAL(item_post(item, "fail", body, &r), 200);
	CU_ASSERT_STRING_EQUAL(gets_(r, "state"), "failed");	/* no attempts left */
	CU_ASSERT_STRING_EQUAL(gets_(r, "error"), "disk full");
	json_object_put(r);
	/* sent again, as after a lost answer: the same answer, counted once */
	CU_ASSERT_EQUAL(item_post(item, "fail", body, &r), 200);
	CU_ASSERT_STRING_EQUAL(gets_(r, "state"), "failed");
	json_object_put(r);
	{
		char path[64];
		snprintf(path, sizeof path, "/v1/jobs/%lld", geti(job, "id"));
		CU_ASSERT_EQUAL(call("GET", path, submit_tok, NULL, NULL, &r), 200);
		CU_ASSERT_STRING_EQUAL(gets_(r, "state"), "failed");
		json_object_put(r);
	}
	json_object_put(job);
}

/* End claimed item it (an element of a claim's items) by "complete" or "fail". */
static void
end_item(struct json_object *it, const char *how)
{
	struct json_object *r = NULL;
	char body[200];

	if (strcmp(how, "fail") == 0)
		snprintf(body, sizeof body, "{\"lease_token\":\"%s\",\"error\":\"boom\"}",
		    gets_(it, "lease_token"));
	else
		snprintf(body, sizeof body, "{\"lease_token\":\"%s\"}", gets_(it, "lease_token"));
	CU_ASSERT_EQUAL(item_post(geti(it, "id"), how, body, &r), 200);
	json_object_put(r);
}

/* Job id as submit_tok sees it (asserting 200); the caller puts it. */
static struct json_object *
job_now(long long id)
{
	struct json_object *r = NULL;
	char path[64];

	snprintf(path, sizeof path, "/v1/jobs/%lld", id);
	CU_ASSERT_EQUAL(call("GET", path, submit_tok, NULL, NULL, &r), 200);
	return r;
}

/* A failed job of kind with two items: one succeeded, one failed for good; returns its id. */
static long long
failed_job(const char *kind)
{
	struct json_object *job = NULL, *cl = NULL, *items, *r;
	char body[400];
	long long id;

	snprintf(body, sizeof body, "{\"kind\":\"%s\",\"owner\":\"alice\",\"max_attempts\":1,"
	    "\"items\":[{\"key\":\"a\"},{\"key\":\"b\"}]}", kind);
	CU_ASSERT_EQUAL_FATAL(call("POST", "/v1/jobs", submit_tok, NULL, body, &job), 201);
	id = geti(job, "id");
	json_object_put(job);
	items = claim(kind, 2, &cl);
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(items), 2);
	end_item(json_object_array_get_idx(items, 0), "complete");
	end_item(json_object_array_get_idx(items, 1), "fail");
	json_object_put(cl);
	r = job_now(id);
	CU_ASSERT_STRING_EQUAL(gets_(r, "state"), "failed");
	CU_ASSERT_EQUAL(geti(r, "round"), 1);
	json_object_put(r);
	return id;
}

/* A request that must be refused with status and error code want. */
static void
refused(const char *method, const char *path, const char *tok, const char *body, long status,
    const char *want)
{
	struct json_object *r = NULL;

	CU_ASSERT_EQUAL(call(method, path, tok, NULL, body, &r), status);
	CU_ASSERT_STRING_EQUAL(code(r), want);
	json_object_put(r);
}

/* Retry: the owner's token starts round 2 once; others, and a job not failed, are refused. */
static void
test_retry_failed_job(void)
{
	struct json_object *r = NULL, *cl = NULL, *items, *ev, *e;
	long long id = failed_job("redo");
	char path[64], events[64];
	int retried = 0;

	snprintf(path, sizeof path, "/v1/jobs/%lld/retry", id);
	snprintf(events, sizeof events, "/v1/jobs/%lld/events", id);
	refused("POST", path, NULL, NULL, 401, "UNAUTHORIZED");
	refused("POST", path, bob_tok, NULL, 404, "JOB_NOT_FOUND");
	refused("POST", path, submit_tok, "{\"round\":2}", 422, "VALIDATION_FAILED");
	refused("POST", path, submit_tok, "{\"round\":0}", 422, "VALIDATION_FAILED");
	refused("POST", path, submit_tok, "{\"round\":\"1\"}", 422, "VALIDATION_FAILED");
	refused("POST", path, submit_tok, "{\"round\":1.5}", 422, "VALIDATION_FAILED");

	CU_ASSERT_EQUAL(call("POST", path, submit_tok, NULL, "{\"round\":1}", &r), 200);
	CU_ASSERT_STRING_EQUAL(gets_(r, "state"), "running");
	CU_ASSERT_EQUAL(geti(r, "round"), 2);
	CU_ASSERT_EQUAL(geti(r, "counts.pending"), 1);
	CU_ASSERT_EQUAL(geti(r, "counts.succeeded"), 1);
	CU_ASSERT_EQUAL(geti(r, "counts.failed"), 0);
	CU_ASSERT_PTR_NULL(get(r, "finished_at"));
	json_object_put(r);
	/* the same call again, as after a lost answer: the same job, no second round */
	CU_ASSERT_EQUAL(call("POST", path, submit_tok, NULL, "{\"round\":1}", &r), 200);
	CU_ASSERT_EQUAL(geti(r, "round"), 2);
	CU_ASSERT_EQUAL(geti(r, "counts.pending"), 1);
	json_object_put(r);
	/* without a round: the job is running, not failed */
	refused("POST", path, submit_tok, NULL, 409, "INVALID_TRANSITION");

	CU_ASSERT_EQUAL(call("GET", events, submit_tok, NULL, NULL, &ev), 200);
	for (size_t i = 0; i < json_object_array_length(get(ev, "events")); i++) {
		e = json_object_array_get_idx(get(ev, "events"), i);
		if (strcmp(gets_(e, "type"), "retried") == 0) {
			retried++;
			CU_ASSERT_PTR_NOT_NULL(strstr(gets_(e, "detail"), "by token"));
		}
	}
	CU_ASSERT_EQUAL(retried, 1);
	json_object_put(ev);

	/* the failed item runs again (a fresh attempt), and the job succeeds */
	items = claim("redo", 2, &cl);
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(items), 1);
	CU_ASSERT_EQUAL(geti(json_object_array_get_idx(items, 0), "attempt"), 2);
	end_item(json_object_array_get_idx(items, 0), "complete");
	json_object_put(cl);
	r = job_now(id);
	CU_ASSERT_STRING_EQUAL(gets_(r, "state"), "succeeded");
	CU_ASSERT_EQUAL(geti(r, "counts.succeeded"), 2);
	json_object_put(r);
	/* a succeeded job is not retried, not even by an admin */
	refused("POST", path, admin_tok, NULL, 409, "INVALID_TRANSITION");

	/* a failed job whose files the reaper removed at the end of its retention */
	id = failed_job("gone");
	bj_test_sqlf(bj_test_db("api"), "UPDATE jobs SET artifact_deleted_at = NOW(6)"
	    " WHERE id = %lld", id);
	snprintf(path, sizeof path, "/v1/jobs/%lld/retry", id);
	refused("POST", path, submit_tok, "{\"round\":1}", 409, "FILES_REMOVED");
	r = job_now(id);
	CU_ASSERT_STRING_EQUAL(gets_(r, "state"), "failed");
	CU_ASSERT_EQUAL(geti(r, "round"), 1);
	json_object_put(r);
}

/* Run bulkjobsctl with args (printf-style, stderr dropped); its exit status. */
static int
ctl_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int
ctl_status(const char *fmt, ...)
{
	char args[256];
	va_list ap;
	int st = -1;

	va_start(ap, fmt);
	vsnprintf(args, sizeof args - 12, fmt, ap);
	va_end(ap);
	strcat(args, " 2>/dev/null");
	free(bj_e2e_ctl(&e2e, args, &st));
	return st;
}

/* bulkjobsctl retry: 0 and the new round, 65 when not failed, missing or its files removed, 64 without a job. */
static void
test_ctl_retry(void)
{
	long long id = failed_job("redo-ctl");
	struct json_object *r;
	char args[128];
	char *out;
	int st = -1;

	snprintf(args, sizeof args, "retry %lld", id);
	out = bj_e2e_ctl(&e2e, args, &st);
	CU_ASSERT_EQUAL(st, 0);
	CU_ASSERT_PTR_NOT_NULL(out && strstr(out, "round 2"));
	free(out);
	CU_ASSERT_EQUAL(ctl_status("retry %lld", id), 65);	/* running now */
	CU_ASSERT_EQUAL(ctl_status("retry 99999999"), 65);
	CU_ASSERT_EQUAL(ctl_status("retry"), 64);
	r = job_now(id);
	CU_ASSERT_STRING_EQUAL(gets_(r, "state"), "running");
	CU_ASSERT_EQUAL(geti(r, "round"), 2);
	CU_ASSERT_EQUAL(geti(r, "counts.pending"), 1);
	json_object_put(r);

	/* files removed at the end of retention: 65, saying why, nothing changed */
	id = failed_job("gone-ctl");
	bj_test_sqlf(bj_test_db("api"), "UPDATE jobs SET artifact_deleted_at = NOW(6)"
	    " WHERE id = %lld", id);
	snprintf(args, sizeof args, "retry %lld 2>&1", id);
	out = bj_e2e_ctl(&e2e, args, &st);
	CU_ASSERT_EQUAL(st, 65);
	CU_ASSERT_PTR_NOT_NULL(out && strstr(out, "files were removed"));
	free(out);
	r = job_now(id);
	CU_ASSERT_STRING_EQUAL(gets_(r, "state"), "failed");
	CU_ASSERT_EQUAL(geti(r, "round"), 1);
	json_object_put(r);
}

static void
test_ctl_jobs_requeue_cancel(void)
{
	struct json_object *job = NULL, *cl = NULL, *items, *r = NULL;
	char body[200], args[128], path[64];
	long long id, item;
	char *out;
	int st = -1;

	CU_ASSERT_EQUAL_FATAL(call("POST", "/v1/jobs", submit_tok, NULL,
	    "{\"kind\":\"ops\",\"owner\":\"alice\",\"max_attempts\":1,"
	    "\"on_item_failure\":\"continue\",\"items\":[{\"key\":\"a\"},{\"key\":\"b\"}]}",
	    &job), 201);
	id = geti(job, "id");
	json_object_put(job);
	items = claim("ops", 1, &cl);
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(items), 1);
	item = geti(json_object_array_get_idx(items, 0), "id");
	snprintf(body, sizeof body, "{\"lease_token\":\"%s\",\"error\":\"boom\"}",
	    gets_(json_object_array_get_idx(items, 0), "lease_token"));
	json_object_put(cl);
	CU_ASSERT_EQUAL(item_post(item, "fail", body, &r), 200);
	json_object_put(r);

	CU_ASSERT_EQUAL(ctl_status("requeue %lld", item), 0);
	CU_ASSERT_EQUAL(ctl_status("requeue 99999999"), 65);
	snprintf(path, sizeof path, "/v1/jobs/%lld", id);
	CU_ASSERT_EQUAL(call("GET", path, admin_tok, NULL, NULL, &r), 200);
	CU_ASSERT_EQUAL(geti(r, "counts.pending"), 2);
	CU_ASSERT_EQUAL(geti(r, "counts.failed"), 0);
	json_object_put(r);

	out = bj_e2e_ctl(&e2e, "jobs --kind ops", &st);
	CU_ASSERT_EQUAL(st, 0);
	CU_ASSERT_PTR_NOT_NULL(out && strstr(out, "running"));
	free(out);
	snprintf(args, sizeof args, "job %lld | grep -c '\"kind\": \"ops\"'", id);
	out = bj_e2e_ctl(&e2e, args, &st);
	CU_ASSERT_PTR_NOT_NULL(out);
	if (out)
		CU_ASSERT_STRING_EQUAL(out, "1");
	free(out);
	CU_ASSERT_EQUAL(ctl_status("cancel %lld", id), 0);
	CU_ASSERT_EQUAL(ctl_status("cancel %lld", id), 65);
	/* the timeline names the operator, as for a retry */
	CU_ASSERT_EQUAL(bj_test_scalarf(bj_test_db("api"), "SELECT COUNT(*) FROM job_events"
	    " WHERE job_id = %lld AND type = 'cancelled' AND detail LIKE 'cancelled: by bulkjobsctl, user _%%'",
	    id), 1);
}

static void
test_many_items(void)
{
	struct bj_buf b = { 0 };
	struct json_object *r = NULL;
	char path[96];
	long long id;

	bj_buf_adds(&b, "{\"kind\":\"many\",\"owner\":\"alice\",\"items\":[");
	for (int i = 0; i < 20000; i++)
		bj_buf_printf(&b, "%s{\"key\":\"row-%d\",\"stage\":%d,\"payload\":{\"i\":%d}}",
		    i ? "," : "", i, i % 3, i);
	bj_buf_adds(&b, "]}");
	CU_ASSERT_EQUAL_FATAL(call("POST", "/v1/jobs", admin_tok, NULL, b.data, &r), 201);
	id = geti(r, "id");
	CU_ASSERT_EQUAL(geti(r, "counts.total"), 20000);
	CU_ASSERT_EQUAL(geti(r, "stage_count"), 3);
	json_object_put(r);
	snprintf(path, sizeof path, "/v1/jobs/%lld/items?limit=1&after=0", id);
	CU_ASSERT_EQUAL(call("GET", path, admin_tok, NULL, NULL, &r), 200);
	CU_ASSERT_STRING_EQUAL(gets_(json_object_array_get_idx(get(r, "items"), 0), "key"), "row-0");
	json_object_put(r);
	bj_buf_free(&b);
}

/* The value of the line starting with name in a /metrics body, or -1. */
static long long
metric(const char *body, const char *name)
{
	const char *p = body;

	while ((p = strstr(p, name)) != NULL) {
		if ((p == body || p[-1] == '\n') && p[strlen(name)] == ' ')
			return strtoll(p + strlen(name) + 1, NULL, 10);
		p++;
	}
	return -1;
}

/* One scrape of /metrics (the caller frees the body), checked by promtool. */
static char *
scrape(void)
{
	struct bj_http_reply r;
	char url[300], *body;

	snprintf(url, sizeof url, "%s/metrics", e2e.url);
	if (bj_http("GET", url, NULL, NULL, 0, &r) != 0)
		return NULL;
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(bj_test_promtool(r.body), 0);
	body = r.body;
	r.body = NULL;
	bj_http_reply_free(&r);
	return body;
}

/*
 * /metrics as Prometheus reads it: promtool accepts it, the gauges come
 * from the database, and the work this suite did is counted by kind.
 */
static void
test_metrics(void)
{
	char *body = scrape();

	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	CU_ASSERT_PTR_NOT_NULL(strstr(body, "bulkjobs_jobs{state=\"succeeded\"} 1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(body, "bulkjobs_items{state=\"cancelled\"} 2\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(body, "bulkjobs_notifications{state=\"pending\"}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(body, "bulkjobs_oldest_claimable_item_age_seconds "));
	CU_ASSERT_PTR_NOT_NULL(strstr(body,
	    "# TYPE bulkjobs_http_request_duration_seconds histogram\n"));
	CU_ASSERT(metric(body, "bulkjobs_http_request_duration_seconds_count"
	    "{route=\"/v1/jobs\",status_class=\"2xx\"}") > 0);
	CU_ASSERT(metric(body, "bulkjobs_http_request_duration_seconds_bucket"
	    "{route=\"/v1/jobs\",status_class=\"2xx\",le=\"+Inf\"}") > 0);
	CU_ASSERT_PTR_NULL(strstr(body, "_sum counter"));
	CU_ASSERT(metric(body, "bulkjobs_items_ended_total{kind=\"export\",result=\"succeeded\"}") > 0);
	CU_ASSERT(metric(body, "bulkjobs_jobs_ended_total{kind=\"export\",outcome=\"succeeded\"}") > 0);
	CU_ASSERT(metric(body, "bulkjobs_item_run_seconds_count{kind=\"export\"}") > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(body, "# TYPE bulkjobs_auth_failures_total counter"));
	free(body);
}

/*
 * Wrong and missing tokens are counted, and every process of the instance
 * counts into the same numbers: one scrape sees them all, exactly.
 */
static void
test_metrics_count_failed_tokens(void)
{
	char *before = scrape(), *after;

	CU_ASSERT_PTR_NOT_NULL_FATAL(before);
	for (int i = 0; i < 40; i++) {
		struct json_object *o = NULL;

		CU_ASSERT_EQUAL(call("GET", "/v1/jobs", i % 4 ? "bj_wrong" : NULL, NULL, NULL, &o), 401);
		json_object_put(o);
	}
	for (int i = 0; i < 4; i++) {	/* whichever process answers */
		after = scrape();
		CU_ASSERT_PTR_NOT_NULL_FATAL(after);
		CU_ASSERT_EQUAL(metric(after, "bulkjobs_auth_failures_total{reason=\"invalid\"}") -
		    metric(before, "bulkjobs_auth_failures_total{reason=\"invalid\"}"), 30);
		CU_ASSERT_EQUAL(metric(after, "bulkjobs_auth_failures_total{reason=\"missing\"}") -
		    metric(before, "bulkjobs_auth_failures_total{reason=\"missing\"}"), 10);
		free(after);
	}
	free(before);
}

/* The outcome of entry i of a batch completion's reply: "ok" or its error code. */
static const char *
outcome(struct json_object *r, size_t i)
{
	struct json_object *it = json_object_array_get_idx(get(r, "items"), i);

	if (it == NULL)
		return "missing";
	return get(it, "ok") != NULL && json_object_get_boolean(get(it, "ok")) ? "ok" :
	    gets_(it, "error.code");
}

/* The job's count of items in state (through the API). */
static long long
count(long long job, const char *state)
{
	struct json_object *r = NULL;
	char path[64], what[32];
	long long n;

	snprintf(path, sizeof path, "/v1/jobs/%lld", job);
	snprintf(what, sizeof what, "counts.%s", state);
	CU_ASSERT_EQUAL(call("GET", path, submit_tok, NULL, NULL, &r), 200);
	n = geti(r, what);
	json_object_put(r);
	return n;
}

static void
test_batch_complete(void)
{
	struct json_object *job = NULL, *cl = NULL, *items, *r = NULL;
	struct bj_buf b = { 0 };
	char body[600], tok[3][64];
	long long id, it[3];

	CU_ASSERT_EQUAL_FATAL(call("POST", "/v1/jobs", submit_tok, NULL,
	    "{\"kind\":\"batch\",\"owner\":\"alice\",\"items\":[{\"key\":\"a\"},{\"key\":\"b\"},"
	    "{\"key\":\"c\"}]}", &job), 201);
	id = geti(job, "id");
	json_object_put(job);
	items = claim("batch", 10, &cl);
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(items), 3);
	for (int i = 0; i < 3; i++) {
		it[i] = geti(json_object_array_get_idx(items, i), "id");
		snprintf(tok[i], sizeof tok[i], "%s",
		    gets_(json_object_array_get_idx(items, i), "lease_token"));
	}
	json_object_put(cl);

	/* the work scope is needed */
	snprintf(body, sizeof body, "{\"items\":[{\"id\":%lld,\"lease_token\":\"%s\"}]}", it[0],
	    tok[0]);
	CU_ASSERT_EQUAL(call("POST", "/v1/items/complete", NULL, NULL, body, &r), 401);
	CU_ASSERT_STRING_EQUAL(code(r), "UNAUTHORIZED");
	json_object_put(r);
	CU_ASSERT_EQUAL(call("POST", "/v1/items/complete", submit_tok, NULL, body, &r), 403);
	CU_ASSERT_STRING_EQUAL(code(r), "FORBIDDEN");
	json_object_put(r);

	/* malformed requests are refused whole, with stable codes */
	CU_ASSERT_EQUAL(call("POST", "/v1/items/complete", work_tok, NULL, "{\"items\":", &r), 400);
	CU_ASSERT_STRING_EQUAL(code(r), "BAD_JSON");
	json_object_put(r);
	CU_ASSERT_EQUAL(call("POST", "/v1/items/complete", work_tok, NULL, "{}", &r), 422);
	CU_ASSERT_STRING_EQUAL(code(r), "VALIDATION_FAILED");
	json_object_put(r);
	CU_ASSERT_EQUAL(call("POST", "/v1/items/complete", work_tok, NULL, "{\"items\":[]}", &r),
	    422);
	CU_ASSERT_STRING_EQUAL(code(r), "VALIDATION_FAILED");
	json_object_put(r);
	snprintf(body, sizeof body, "{\"items\":[{\"id\":%lld,\"lease_token\":\"%s\"},"
	    "{\"id\":\"%lld\",\"lease_token\":\"%s\"}]}", it[0], tok[0], it[1], tok[1]);
	CU_ASSERT_EQUAL(call("POST", "/v1/items/complete", work_tok, NULL, body, &r), 422);
	CU_ASSERT_STRING_EQUAL(code(r), "VALIDATION_FAILED");
	CU_ASSERT_PTR_NOT_NULL(strstr(gets_(r, "error.message"), "items[1].id"));
	json_object_put(r);
	snprintf(body, sizeof body, "{\"items\":[{\"id\":%lld}]}", it[0]);
	CU_ASSERT_EQUAL(call("POST", "/v1/items/complete", work_tok, NULL, body, &r), 422);
	CU_ASSERT_PTR_NOT_NULL(strstr(gets_(r, "error.message"), "items[0].lease_token"));
	json_object_put(r);
	snprintf(body, sizeof body, "{\"items\":[{\"id\":%lld,\"lease_token\":\"%s\"},"
	    "{\"id\":%lld,\"lease_token\":\"%s\",\"artifact\":\"../../etc/passwd\"}]}",
	    it[0], tok[0], it[1], tok[1]);
	CU_ASSERT_EQUAL(call("POST", "/v1/items/complete", work_tok, NULL, body, &r), 422);
	CU_ASSERT_STRING_EQUAL(code(r), "BAD_ARTIFACT_PATH");
	CU_ASSERT_PTR_NOT_NULL(strstr(gets_(r, "error.message"), "items[1].artifact"));
	json_object_put(r);
	CU_ASSERT_EQUAL(call("POST", "/v1/items/complete", work_tok, NULL, "{\"items\":[7]}", &r),
	    422);
	CU_ASSERT_PTR_NOT_NULL(strstr(gets_(r, "error.message"), "items[0]"));
	json_object_put(r);
	/* more than 1000 */
	bj_buf_adds(&b, "{\"items\":[");
	for (int i = 0; i < 1001; i++)
		bj_buf_printf(&b, "%s{\"id\":%lld,\"lease_token\":\"%s\"}", i ? "," : "", it[0], tok[0]);
	bj_buf_adds(&b, "]}");
	CU_ASSERT_EQUAL(call("POST", "/v1/items/complete", work_tok, NULL, b.data, &r), 422);
	CU_ASSERT_STRING_EQUAL(code(r), "VALIDATION_FAILED");
	CU_ASSERT_PTR_NOT_NULL(strstr(gets_(r, "error.message"), "1000"));
	json_object_put(r);
	bj_buf_free(&b);
	/* none of that changed anything */
	CU_ASSERT_EQUAL(count(id, "claimed"), 3);

	/* a good one, a stale token, another good one, a missing item */
	snprintf(body, sizeof body, "{\"items\":[{\"id\":%lld,\"lease_token\":\"%s\","
	    "\"result\":{\"rows\":2}},{\"id\":%lld,\"lease_token\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"},"
	    "{\"id\":%lld,\"lease_token\":\"%s\",\"artifact\":\"./out//c.csv\"},"
	    "{\"id\":99999999,\"lease_token\":\"%s\"}]}", it[1], tok[1], it[0], it[2], tok[2], tok[0]);
	CU_ASSERT_EQUAL(call("POST", "/v1/items/complete", work_tok, NULL, body, &r), 200);
	CU_ASSERT_EQUAL(json_object_array_length(get(r, "items")), 4);
	CU_ASSERT_EQUAL(geti(json_object_array_get_idx(get(r, "items"), 0), "id"), it[1]);
	CU_ASSERT_STRING_EQUAL(outcome(r, 0), "ok");
	CU_ASSERT_STRING_EQUAL(outcome(r, 1), "LEASE_LOST");
	CU_ASSERT_STRING_EQUAL(outcome(r, 2), "ok");
	CU_ASSERT_STRING_EQUAL(outcome(r, 3), "ITEM_NOT_FOUND");
	CU_ASSERT_EQUAL(geti(json_object_array_get_idx(get(r, "items"), 3), "id"), 99999999);
	json_object_put(r);
	CU_ASSERT_EQUAL(count(id, "succeeded"), 2);
	CU_ASSERT_EQUAL(count(id, "claimed"), 1);

	/* a second completion is refused, through either endpoint */
	snprintf(body, sizeof body, "{\"items\":[{\"id\":%lld,\"lease_token\":\"%s\"}]}", it[1],
	    tok[1]);
	CU_ASSERT_EQUAL(call("POST", "/v1/items/complete", work_tok, NULL, body, &r), 200);
	CU_ASSERT_STRING_EQUAL(outcome(r, 0), "LEASE_LOST");
	json_object_put(r);
	snprintf(body, sizeof body, "{\"lease_token\":\"%s\"}", tok[1]);
	CU_ASSERT_EQUAL(item_post(it[1], "complete", body, &r), 409);
	CU_ASSERT_STRING_EQUAL(code(r), "LEASE_LOST");
	json_object_put(r);

	/* the last item through a batch ends the job, with the batch's artifact */
	snprintf(body, sizeof body, "{\"items\":[{\"id\":%lld,\"lease_token\":\"%s\"}]}", it[0],
	    tok[0]);
	CU_ASSERT_EQUAL(call("POST", "/v1/items/complete", work_tok, NULL, body, &r), 200);
	CU_ASSERT_STRING_EQUAL(outcome(r, 0), "ok");
	json_object_put(r);
	snprintf(body, sizeof body, "/v1/jobs/%lld", id);
	CU_ASSERT_EQUAL(call("GET", body, submit_tok, NULL, NULL, &r), 200);
	CU_ASSERT_STRING_EQUAL(gets_(r, "state"), "succeeded");
	CU_ASSERT_EQUAL(geti(r, "counts.succeeded"), 3);
	CU_ASSERT_STRING_EQUAL(gets_(r, "artifact"), "out/c.csv");
	json_object_put(r);
}

/*
 * An ended job's items by state. A job that expires keeps its pending
 * rows until the reaper gets to them (within [reaper] cancel_seconds a
 * run); meanwhile they are cancelled ones: ?state=cancelled lists them
 * with the cancelled rows, in id order across pages, and ?state=pending
 * lists nothing.
 */
static void
test_ended_job_items_by_state(void)
{
	struct bj_db *db = bj_test_db("api");
	struct json_object *r, *items;
	char path[160], *after = bj_xstrdup("0");
	long long id, ids[6];
	int seen = 0;

	CU_ASSERT_EQUAL_FATAL(call("POST", "/v1/jobs", submit_tok, NULL,
	    "{\"kind\":\"leftovers\",\"owner\":\"alice\",\"items\":[{\"key\":\"a\"},"
	    "{\"key\":\"b\"},{\"key\":\"c\"},{\"key\":\"d\"},{\"key\":\"e\"},"
	    "{\"key\":\"f\"}]}", &r), 201);
	id = geti(r, "id");
	json_object_put(r);
	/* as the reaper's expiry leaves it: ended, counted cancelled, some rows still pending */
	bj_test_sqlf(db, "UPDATE items SET state = 'cancelled', finished_at = NOW(6)"
	    " WHERE job_id = %lld AND `key` IN ('a', 'c', 'e')", id);
	bj_test_sqlf(db, "UPDATE jobs SET state = 'expired', finished_at = NOW(6), n_pending = 0,"
	    " n_cancelled = 6 WHERE id = %lld", id);
	for (int k = 0; k < 6; k++)
		ids[k] = bj_test_scalarf(db, "SELECT id FROM items WHERE job_id = %lld"
		    " AND `key` = '%c'", id, 'a' + k);

	while (after != NULL && seen <= 6) {
		snprintf(path, sizeof path, "/v1/jobs/%lld/items?state=cancelled&limit=2&after=%s",
		    id, after);
		free(after);
		after = NULL;
		CU_ASSERT_EQUAL_FATAL(call("GET", path, submit_tok, NULL, NULL, &r), 200);
		items = get(r, "items");
		for (size_t i = 0; items != NULL && i < json_object_array_length(items); i++) {
			struct json_object *it = json_object_array_get_idx(items, i);
			CU_ASSERT(seen < 6 && geti(it, "id") == ids[seen]);
			CU_ASSERT_STRING_EQUAL(gets_(it, "state"), "cancelled");
			seen++;
		}
		if (get(r, "next") != NULL)
			after = bj_xstrdup(gets_(r, "next"));
		json_object_put(r);
	}
	CU_ASSERT_EQUAL(seen, 6);
	snprintf(path, sizeof path, "/v1/jobs/%lld/items?state=pending", id);
	CU_ASSERT_EQUAL(call("GET", path, submit_tok, NULL, NULL, &r), 200);
	CU_ASSERT_EQUAL(json_object_array_length(get(r, "items")), 0);
	CU_ASSERT_PTR_NULL(get(r, "next"));
	json_object_put(r);
}

/* Items of job among the items of one claim of kind. */
static int
claimed_of(const char *kind, int limit, long long job)
{
	struct json_object *root = NULL, *items = claim(kind, limit, &root);
	int n = 0;

	for (size_t i = 0; items != NULL && i < json_object_array_length(items); i++)
		n += geti(json_object_array_get_idx(items, i), "job_id") == job;
	json_object_put(root);
	return n;
}

/*
 * Fair claims through nginx: a small job of another owner submitted while
 * a big one is being claimed gets its items within the next two batches;
 * priority and max_concurrency are taken, shown, and bounded; waiting_on
 * says when a job waits on its limit.
 */
static void
test_fair_claims(void)
{
	struct bj_buf b = { 0 };
	struct json_object *r = NULL;
	long long big, small, lim;
	int got = 0;

	bj_buf_adds(&b, "{\"kind\":\"fairk\",\"owner\":\"big\",\"items\":[");
	for (int i = 0; i < 2000; i++)
		bj_buf_printf(&b, "%s{\"key\":\"b%d\"}", i ? "," : "", i);
	bj_buf_adds(&b, "]}");
	big = bj_e2e_submit(&e2e, admin_tok, b.data);
	bj_buf_free(&b);
	CU_ASSERT_FATAL(big > 0);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(claimed_of("fairk", 20, big), 20);
	small = bj_e2e_submit(&e2e, admin_tok, "{\"kind\":\"fairk\",\"owner\":\"small\","
	    "\"items\":[{\"key\":\"s1\"},{\"key\":\"s2\"},{\"key\":\"s3\"},{\"key\":\"s4\"},"
	    "{\"key\":\"s5\"}]}");
	CU_ASSERT_FATAL(small > 0);
	for (int i = 0; i < 2; i++)
		got += claimed_of("fairk", 20, small);
	CU_ASSERT_EQUAL(got, 5);

	lim = bj_e2e_submit(&e2e, submit_tok, "{\"kind\":\"limk\",\"owner\":\"alice\","
	    "\"priority\":2,\"max_concurrency\":1,\"items\":[{\"key\":\"a\"},{\"key\":\"b\"}]}");
	CU_ASSERT_FATAL(lim > 0);
	r = bj_e2e_job(&e2e, submit_tok, lim);
	CU_ASSERT_EQUAL(geti(r, "priority"), 2);
	CU_ASSERT_EQUAL(geti(r, "max_concurrency"), 1);
	CU_ASSERT_PTR_NULL(get(r, "waiting_on"));
	json_object_put(r);
	CU_ASSERT_EQUAL(claimed_of("limk", 10, lim), 1);
	CU_ASSERT_EQUAL(claimed_of("limk", 10, lim), 0);
	r = bj_e2e_job(&e2e, submit_tok, lim);
	CU_ASSERT_STRING_EQUAL(gets_(r, "waiting_on"), "max_concurrency");
	json_object_put(r);
	{
		int st;
		char *out = bj_e2e_ctl(&e2e, "jobs --kind limk", &st);

		CU_ASSERT_EQUAL(st, 0);
		/* ID STATE KIND OWNER PRIO ...: the priority after the owner */
		CU_ASSERT_PTR_NOT_NULL(out && strstr(out, " alice                   2 "));
		free(out);
	}

	CU_ASSERT_EQUAL(call("POST", "/v1/jobs", submit_tok, NULL, "{\"kind\":\"x\",\"owner\":"
	    "\"alice\",\"priority\":6,\"items\":[{\"key\":\"a\"}]}", &r), 422);
	CU_ASSERT_PTR_NOT_NULL(strstr(gets_(r, "error.message"), "priority"));
	json_object_put(r);
	CU_ASSERT_EQUAL(call("POST", "/v1/jobs", submit_tok, NULL, "{\"kind\":\"x\",\"owner\":"
	    "\"alice\",\"max_concurrency\":-1,\"items\":[{\"key\":\"a\"}]}", &r), 422);
	CU_ASSERT_PTR_NOT_NULL(strstr(gets_(r, "error.message"), "max_concurrency"));
	json_object_put(r);
	CU_ASSERT_EQUAL(call("POST", "/v1/jobs", submit_tok, NULL, "{\"kind\":\"x\",\"owner\":"
	    "\"alice\",\"priority\":\"high\",\"items\":[{\"key\":\"a\"}]}", &r), 422);
	CU_ASSERT_STRING_EQUAL(code(r), "VALIDATION_FAILED");
	json_object_put(r);
}

/* A claim sent twice with one Idempotency-Key (a lost answer): the same items, tokens. */
static void
test_claim_idempotency_key(void)
{
	static const char body[] = "{\"worker\":\"w1\",\"kinds\":[\"idemk\"],\"limit\":2}";
	struct json_object *a = NULL, *b = NULL, *r = NULL;
	long long job = bj_e2e_submit(&e2e, submit_tok, "{\"kind\":\"idemk\",\"owner\":\"alice\","
	    "\"items\":[{\"key\":\"a\"},{\"key\":\"b\"},{\"key\":\"c\"}]}");

	CU_ASSERT_FATAL(job > 0);
	CU_ASSERT_EQUAL(call("POST", "/v1/claims", work_tok, "Idempotency-Key: c-1", body, &a), 200);
	CU_ASSERT_EQUAL(call("POST", "/v1/claims", work_tok, "Idempotency-Key: c-1", body, &b), 200);
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(get(a, "items")), 2);
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(get(b, "items")), 2);
	for (size_t i = 0; i < 2; i++) {
		struct json_object *x = json_object_array_get_idx(get(a, "items"), i);
		struct json_object *y = json_object_array_get_idx(get(b, "items"), i);

		CU_ASSERT_EQUAL(geti(x, "id"), geti(y, "id"));
		CU_ASSERT_STRING_EQUAL(gets_(x, "lease_token"), gets_(y, "lease_token"));
	}
	r = bj_e2e_job(&e2e, submit_tok, job);
	CU_ASSERT_EQUAL(geti(r, "counts.claimed"), 2);
	json_object_put(r);
	json_object_put(a);
	json_object_put(b);
	{
		char h[300];

		snprintf(h, sizeof h, "Idempotency-Key: %0256d", 7);
		CU_ASSERT_EQUAL(call("POST", "/v1/claims", work_tok, h, body, &r), 422);
		CU_ASSERT_PTR_NOT_NULL(strstr(gets_(r, "error.message"), "Idempotency-Key"));
		json_object_put(r);
	}
}

/*
 * GET path with one header line (or NULL), Accept-Language lang (or NULL)
 * and If-None-Match inm (or NULL): the status; the reply's ETag, or "",
 * into etag.
 */
static long
get_as(const char *path, const char *header, const char *lang, const char *inm,
    char etag[48])
{
	struct bj_http_reply r;
	char url[400], cond[100], al[40], *v;
	const char *h[4] = { NULL, NULL, NULL, NULL };
	int n = 0;
	long st;

	snprintf(url, sizeof url, "%s%s", e2e.url, path);
	if (header != NULL)
		h[n++] = header;
	if (lang != NULL) {
		snprintf(al, sizeof al, "Accept-Language: %s", lang);
		h[n++] = al;
	}
	if (inm != NULL) {
		snprintf(cond, sizeof cond, "If-None-Match: %s", inm);
		h[n++] = cond;
	}
	CU_ASSERT_EQUAL_FATAL(bj_http("GET", url, h, NULL, 0, &r), 0);
	st = r.status;
	v = bj_http_header(&r, "ETag");
	snprintf(etag, 48, "%s", v ? v : "");
	if (st == 304)
		CU_ASSERT_EQUAL(r.len, 0);
	free(v);
	bj_http_reply_free(&r);
	return st;
}

/* The same without Accept-Language. */
static long
cond_get(const char *path, const char *header, const char *inm, char etag[48])
{
	return get_as(path, header, NULL, inm, etag);
}

/* The polled views of one job, as its owner sees them, with their last ETags. */
struct views {
	char	 path[5][128];
	char	 etag[5][48];
	char	 bearer[120];
};
#define ALICE_BASIC "Authorization: Basic YWxpY2U6YWxpY2UtcHc="	/* alice:alice-pw */

/* The header that signs in to view i: the API's token, or the pages' user. */
static const char *
view_auth(const struct views *v, int i)
{
	return v->path[i][1] == 'v' ? v->bearer : ALICE_BASIC;
}

/* After a change a reader can see: every view answers 200 with a new ETag, then 304 under it. */
static void
views_moved(struct views *v, const char *what)
{
	char now[48];

	for (int i = 0; i < 5; i++) {
		long st = cond_get(v->path[i], view_auth(v, i), v->etag[i], now);
		if (st != 200 || strcmp(now, v->etag[i]) == 0) {
			fprintf(stderr, "after %s: %s answered %ld, ETag %s\n", what, v->path[i],
			    st, now);
			CU_FAIL("the ETag did not move");
		}
		CU_ASSERT_EQUAL(cond_get(v->path[i], view_auth(v, i), now, now), 304);
		snprintf(v->etag[i], sizeof v->etag[i], "%s", now);
	}
}

/*
 * Conditional GET: each polled view's ETag moves with every change a
 * reader can see (claim, heartbeat progress, a retried failure, pause,
 * resume, completion, cancel) and only then; a 304 needs the right to
 * see the job.
 */
static void
test_conditional_get(void)
{
	struct json_object *job = NULL, *cl = NULL, *items, *r = NULL;
	struct views v;
	struct bj_http_reply hr;
	char body[200], path[128], url[400], etag[48], *cc, *pi;
	const char *h[3] = { NULL, NULL, NULL };
	long long id, item;

	CU_ASSERT_EQUAL_FATAL(bj_e2e_htpasswd(&e2e, "alice"), 0);
	CU_ASSERT_EQUAL_FATAL(call("POST", "/v1/jobs", submit_tok, NULL,
	    "{\"kind\":\"polled\",\"owner\":\"alice\",\"max_attempts\":3,"
	    "\"items\":[{\"key\":\"a\"},{\"key\":\"b\"}]}", &job), 201);
	id = geti(job, "id");
	memset(&v, 0, sizeof v);
	snprintf(v.bearer, sizeof v.bearer, "Authorization: Bearer %s", submit_tok);
	snprintf(v.path[0], sizeof v.path[0], "/v1/jobs/%lld", id);
	snprintf(v.path[1], sizeof v.path[1], "/v1/jobs/%lld/events", id);
	snprintf(v.path[2], sizeof v.path[2], "/v1/jobs/%lld/items", id);
	snprintf(v.path[3], sizeof v.path[3], "/jobs/%s", gets_(job, "token"));
	snprintf(v.path[4], sizeof v.path[4], "/jobs");
	json_object_put(job);
	for (int i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(cond_get(v.path[i], view_auth(&v, i), NULL, v.etag[i]), 200);
		CU_ASSERT_EQUAL(v.etag[i][0], '"');	/* strong */
		/* nothing changed: 304, also for the weak form a gzip proxy sends back */
		CU_ASSERT_EQUAL(cond_get(v.path[i], view_auth(&v, i), v.etag[i], etag), 304);
		CU_ASSERT_STRING_EQUAL(etag, v.etag[i]);
		snprintf(body, sizeof body, "\"x\", W/%s", v.etag[i]);
		CU_ASSERT_EQUAL(cond_get(v.path[i], view_auth(&v, i), body, etag), 304);
	}

	/* the headers of a poll */
	snprintf(url, sizeof url, "%s%s", e2e.url, v.path[0]);
	h[0] = v.bearer;
	CU_ASSERT_EQUAL_FATAL(bj_http("GET", url, h, NULL, 0, &hr), 0);
	cc = bj_http_header(&hr, "Cache-Control");
	pi = bj_http_header(&hr, "Poll-Interval");
	CU_ASSERT_STRING_EQUAL(cc ? cc : "", "private, no-cache");
	CU_ASSERT_STRING_EQUAL(pi ? pi : "", "5");
	free(cc);
	free(pi);
	bj_http_reply_free(&hr);

	/* whoever may not see the job never learns that the tag is current */
	snprintf(body, sizeof body, "Authorization: Bearer %s", bob_tok);
	CU_ASSERT_EQUAL(cond_get(v.path[0], body, v.etag[0], etag), 404);
	CU_ASSERT_EQUAL(cond_get(v.path[1], body, v.etag[1], etag), 404);
	CU_ASSERT_EQUAL(cond_get(v.path[2], body, v.etag[2], etag), 404);
	CU_ASSERT_EQUAL(cond_get(v.path[0], NULL, v.etag[0], etag), 401);
	CU_ASSERT_EQUAL(cond_get(v.path[3], NULL, v.etag[3], etag), 401);
	/* this suite installs no catalog: asked in Japanese, the page is the English one */
	CU_ASSERT_EQUAL(get_as(v.path[3], ALICE_BASIC, "ja", v.etag[3], etag), 304);

	items = claim("polled", 1, &cl);
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(items), 1);
	item = geti(json_object_array_get_idx(items, 0), "id");
	snprintf(body, sizeof body, "{\"lease_token\":\"%s\",\"progress\":3}",
	    gets_(json_object_array_get_idx(items, 0), "lease_token"));
	views_moved(&v, "a claim");
	CU_ASSERT_EQUAL(item_post(item, "heartbeat", body, &r), 200);
	json_object_put(r);
	views_moved(&v, "a heartbeat");
	snprintf(body, sizeof body, "{\"lease_token\":\"%s\",\"error\":\"busy\","
	    "\"retryable\":true}", gets_(json_object_array_get_idx(items, 0), "lease_token"));
	json_object_put(cl);
	CU_ASSERT_EQUAL(item_post(item, "fail", body, &r), 200);
	json_object_put(r);
	views_moved(&v, "a failure to retry");

	snprintf(path, sizeof path, "/v1/jobs/%lld/pause", id);
	CU_ASSERT_EQUAL(call("POST", path, submit_tok, NULL, NULL, &r), 200);
	json_object_put(r);
	views_moved(&v, "pause");
	snprintf(path, sizeof path, "/v1/jobs/%lld/resume", id);
	CU_ASSERT_EQUAL(call("POST", path, submit_tok, NULL, NULL, &r), 200);
	json_object_put(r);
	views_moved(&v, "resume");

	/* the retried item waits out its back-off: the other one completes */
	items = claim("polled", 1, &cl);
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(items), 1);
	views_moved(&v, "a second claim");
	snprintf(body, sizeof body, "{\"lease_token\":\"%s\",\"result\":{\"rows\":1}}",
	    gets_(json_object_array_get_idx(items, 0), "lease_token"));
	CU_ASSERT_EQUAL(item_post(geti(json_object_array_get_idx(items, 0), "id"), "complete",
	    body, &r), 200);
	json_object_put(r);
	json_object_put(cl);
	views_moved(&v, "a completion");

	snprintf(path, sizeof path, "/v1/jobs/%lld/cancel", id);
	CU_ASSERT_EQUAL(call("POST", path, submit_tok, NULL, NULL, &r), 200);
	json_object_put(r);
	views_moved(&v, "cancel");
	/* an ended job: pollers may stop */
	CU_ASSERT_EQUAL_FATAL(bj_http("GET", url, h, NULL, 0, &hr), 0);
	pi = bj_http_header(&hr, "Poll-Interval");
	CU_ASSERT_STRING_EQUAL(pi ? pi : "", "-1");
	free(pi);
	bj_http_reply_free(&hr);
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("e2e api", init, clean);

	CU_add_test(s, "a two-stage job from submission to success", test_two_stage_job_to_success);
	CU_add_test(s, "401, 403 and another owner's 404", test_auth_and_scopes);
	CU_add_test(s, "WWW-Authenticate, Content-Length, Location", test_reply_headers);
	CU_add_test(s, "a revoked token is refused after [http] token_cache seconds",
	    test_revoked_token_refused);
	CU_add_test(s, "malformed, deep, invalid, wrong type, too large", test_bad_bodies);
	CU_add_test(s, "pause, resume, cancel; the heartbeat learns of it",
	    test_heartbeat_learns_of_cancel);
	CU_add_test(s, "a failure without attempts left fails item and job", test_fail_and_retry);
	CU_add_test(s, "/metrics", test_metrics);
	CU_add_test(s, "/metrics counts failed tokens", test_metrics_count_failed_tokens);
	CU_add_test(s, "20,000 items in one request", test_many_items);
	CU_add_test(s, "bulkjobsctl jobs, job, requeue, cancel", test_ctl_jobs_requeue_cancel);
	CU_add_test(s, "retry a failed job: once, by its owner, only when failed",
	    test_retry_failed_job);
	CU_add_test(s, "bulkjobsctl retry", test_ctl_retry);
	CU_add_test(s, "batch completion: scope, bad bodies, per-item outcomes", test_batch_complete);
	CU_add_test(s, "fair claims: a small job behind a big one, priority, max_concurrency",
	    test_fair_claims);
	CU_add_test(s, "a claim retried with its Idempotency-Key gets the same items",
	    test_claim_idempotency_key);
	CU_add_test(s, "an ended job's leftover pending items are listed as cancelled",
	    test_ended_job_items_by_state);
	CU_add_test(s, "conditional GET: ETags move with every visible change, 304 only to "
	    "those who may see", test_conditional_get);
	return bj_test_run();
}
