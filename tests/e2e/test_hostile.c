/*
 * test_hostile.c: hostile input through nginx. Invalid UTF-8, lone
 * surrogates, huge numbers, deep nesting, duplicates, megabyte strings,
 * NUL bytes, SQL and HTML fragments, CR/LF aimed at headers and logs.
 * Each is refused with a documented status and code, the process stays
 * up, and what is accepted is read back byte for byte (and escaped on the
 * status page).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "harness.h"
#include "pages_plant.h"

static struct bj_e2e e2e;
static struct bj_db *db;
static char *submit_tok, *work_tok, *admin_tok;

static long long
jobs_stored(void)
{
	return bj_test_scalar(db, "SELECT COUNT(*) FROM jobs");
}

static int
init(void)
{
	if (bj_e2e_start(&e2e, "hostile", "[http]\nmax_body = 8388608\n") == -1 ||
	    bj_plant_users(e2e.root) == -1 || (db = bj_test_db("hostile")) == NULL)
		return -1;
	submit_tok = bj_e2e_token(&e2e, "alice-submit", "submit", "alice");
	work_tok = bj_e2e_token(&e2e, "worker", "work", NULL);
	admin_tok = bj_e2e_token(&e2e, "root", "admin", NULL);
	return submit_tok && work_tok && admin_tok ? 0 : -1;
}

static int
clean(void)
{
	bj_e2e_stop(&e2e);
	free(submit_tok);
	free(work_tok);
	free(admin_tok);
	return 0;
}

/*
 * One request with tok as Bearer, an extra header line (or NULL) and a
 * JSON body of len bytes (or NULL). The status; *out the parsed reply.
 */
static long
call(const char *method, const char *path, const char *tok, const char *extra,
    const char *body, size_t len, struct json_object **out)
{
	return bj_e2e_call(&e2e, method, path, tok, extra, body, len, out);
}

/* The error code of a reply, or "". */
static const char *
code(struct json_object *o)
{
	return bj_test_error_code(o);
}

/* A member of o by dotted path, or NULL. */
static struct json_object *
get(struct json_object *o, const char *path)
{
	return bj_test_json_get(o, path);
}

/* POST body (len bytes) to path with tok; assert status and error code (NULL: no check). */
static void
expect_len(const char *path, const char *tok, const char *extra, const char *body, size_t len,
    long status, const char *want_code)
{
	struct json_object *o;
	long st = call("POST", path, tok, extra, body, len, &o);

	CU_ASSERT_EQUAL(st, status);
	if (want_code != NULL)
		CU_ASSERT_STRING_EQUAL(code(o), want_code);
	if (st != status || (want_code != NULL && strcmp(code(o), want_code) != 0))
		fprintf(stderr, "\n  %s %.120s: got %ld %s\n", path, body, st, code(o));
	json_object_put(o);
}

static void
expect(const char *path, const char *tok, const char *body, long status, const char *want_code)
{
	expect_len(path, tok, NULL, body, strlen(body), status, want_code);
}

/* A job body around members (which end with a comma, or are empty). */
static char *
job(const char *members, const char *items)
{
	return bj_xasprintf("{%s\"kind\":\"hostile\",\"owner\":\"alice\",\"items\":%s}", members,
	    items ? items : "[{\"key\":\"a\"}]");
}

/* Submit members as alice: assert status and code. */
static void
expect_job(const char *members, const char *items, long status, const char *want_code)
{
	char *b = job(members, items);

	expect("/v1/jobs", submit_tok, b, status, want_code);
	free(b);
}

/* The process still serves: /healthz and a plain submission. */
static void
still_up(void)
{
	struct bj_http_reply r;
	char url[300];

	snprintf(url, sizeof url, "%s/healthz", e2e.url);
	CU_ASSERT_EQUAL(bj_http("GET", url, NULL, NULL, 0, &r), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	bj_http_reply_free(&r);
	expect_job("", NULL, 201, NULL);
}

/* Create body as tok (201) and return the job as read back by GET (caller puts). */
static struct json_object *
create_and_read(const char *tok, const char *body, size_t len, long long *id)
{
	struct json_object *o;
	char path[64];
	long st = call("POST", "/v1/jobs", tok, NULL, body, len, &o);

	CU_ASSERT_EQUAL(st, 201);
	*id = o && get(o, "id") ? json_object_get_int64(get(o, "id")) : 0;
	json_object_put(o);
	if (st != 201) {
		fprintf(stderr, "\n  create: got %ld\n", st);
		return NULL;
	}
	snprintf(path, sizeof path, "/v1/jobs/%lld", *id);
	CU_ASSERT_EQUAL(call("GET", path, tok, NULL, NULL, 0, &o), 200);
	return o;
}

/* The string member path of o equals want byte for byte. */
static void
same_text(struct json_object *o, const char *path, const char *want)
{
	struct json_object *v = get(o, path);

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL((size_t)json_object_get_string_len(v), strlen(want));
	CU_ASSERT(memcmp(json_object_get_string(v), want, strlen(want)) == 0);
}

static void
test_invalid_utf8(void)
{
	static const char *bad[] = { "\xff", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
	    "\xf4\x90\x80\x80", "a\x80", "\xe2\x82" };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *m = bj_xasprintf("\"title\":\"x%sy\",", bad[i]);
		expect_job(m, NULL, 400, "BAD_JSON");
		free(m);
		m = bj_xasprintf("[{\"key\":\"k%s\"}]", bad[i]);
		expect_job("", m, 400, "BAD_JSON");
		free(m);
	}
	still_up();
}

static void
test_lone_surrogates(void)
{
	struct json_object *o;
	long long id;
	char *b;

	expect_job("\"title\":\"\\ud800\",", NULL, 400, "BAD_JSON");
	expect_job("\"title\":\"\\udc00x\",", NULL, 400, "BAD_JSON");
	expect_job("\"title\":\"\\ud800\\u0041\",", NULL, 400, "BAD_JSON");
	expect_job("\"params\":{\"s\":\"\\udbff\"},", NULL, 400, "BAD_JSON");
	expect_job("", "[{\"key\":\"\\ud800\"}]", 400, "BAD_JSON");
	expect_job("", "[{\"key\":\"k\",\"payload\":[\"\\udfff\"]}]", 400, "BAD_JSON");
	expect("/v1/claims", work_tok, "{\"worker\":\"\\ud800\",\"kinds\":[\"hostile\"]}", 400,
	    "BAD_JSON");
	/* a proper pair is one character, stored as UTF-8 */
	b = job("\"title\":\"\\ud83d\\ude00 \\u00e9\",", NULL);
	if ((o = create_and_read(submit_tok, b, strlen(b), &id)) != NULL)
		same_text(o, "title", "\xf0\x9f\x98\x80 \xc3\xa9");
	json_object_put(o);
	free(b);
	still_up();
}

static void
test_huge_numbers(void)
{
	expect_job("\"max_attempts\":1e400,", NULL, 400, "BAD_JSON");
	expect_job("\"max_attempts\":-1e400,", NULL, 400, "BAD_JSON");
	expect_job("\"max_attempts\":99999999999999999999999,", NULL, 400, "BAD_JSON");
	expect_job("\"deadline_seconds\":-99999999999999999999,", NULL, 400, "BAD_JSON");
	expect_job("\"params\":{\"n\":99999999999999999999999},", NULL, 400, "BAD_JSON");
	expect_job("\"params\":[NaN,Infinity],", NULL, 400, "BAD_JSON");
	expect_job("", "[{\"key\":\"a\",\"stage\":99999999999999999999999}]", 400, "BAD_JSON");
	expect_job("", "[{\"key\":\"a\",\"payload\":1e400}]", 400, "BAD_JSON");
	/* in range for the parser, out of range for the field */
	expect_job("\"max_attempts\":18446744073709551615,", NULL, 422, "VALIDATION_FAILED");
	expect_job("\"max_attempts\":1.5,", NULL, 422, "VALIDATION_FAILED");
	expect_job("", "[{\"key\":\"a\",\"stage\":9223372036854775807}]", 422,
	    "VALIDATION_FAILED");
	expect("/v1/claims", work_tok,
	    "{\"worker\":\"w\",\"kinds\":[\"hostile\"],\"limit\":99999999999999999999999}", 400,
	    "BAD_JSON");
	expect("/v1/claims", work_tok,
	    "{\"worker\":\"w\",\"kinds\":[\"hostile\"],\"limit\":9223372036854775807}", 422,
	    "VALIDATION_FAILED");
	still_up();
}

/* n copies of open, then n of close, inside a job's params or an item's payload. */
static char *
nested(const char *open, const char *close, int n)
{
	struct bj_buf b = { 0 };

	for (int i = 0; i < n; i++)
		bj_buf_adds(&b, open);
	bj_buf_adds(&b, "1");
	for (int i = 0; i < n; i++)
		bj_buf_adds(&b, close);
	bj_buf_add(&b, "", 1);
	return b.data;
}

static void
test_deep_nesting(void)
{
	char *n = nested("[", "]", 10000), *m;

	m = bj_xasprintf("\"params\":%s,", n);
	expect_job(m, NULL, 400, "JSON_TOO_DEEP");
	free(m);
	m = bj_xasprintf("[{\"key\":\"a\",\"payload\":%s}]", n);
	expect_job("", m, 400, "JSON_TOO_DEEP");
	free(m);
	/* only opening brackets, never closed */
	m = bj_xasprintf("\"params\":%.*s", 10000, n);
	expect_job(m, NULL, 400, NULL);
	free(m);
	free(n);
	n = nested("{\"a\":", "}", 10000);
	m = bj_xasprintf("\"params\":%s,", n);
	expect_job(m, NULL, 400, "JSON_TOO_DEEP");
	free(m);
	free(n);
	still_up();
}

static void
test_same_key_many_times(void)
{
	struct bj_buf b = { 0 };
	struct json_object *o;
	long long id;

	/* 10,000 items with one key: keys are unique within a job, nothing is stored */
	{
		long long before = jobs_stored();

		bj_buf_adds(&b, "[");
		for (int i = 0; i < 10000; i++)
			bj_buf_adds(&b, i ? ",{\"key\":\"same\"}" : "{\"key\":\"same\"}");
		bj_buf_adds(&b, "]");
		bj_buf_add(&b, "", 1);
		expect_job("", b.data, 422, "VALIDATION_FAILED");
		CU_ASSERT_EQUAL(jobs_stored(), before);
		bj_buf_free(&b);
	}
	/* the same key in two jobs is fine */
	for (int i = 0; i < 2; i++) {
		char *body = job("", "[{\"key\":\"same\"},{\"key\":\"Same\"}]");
		if ((o = create_and_read(submit_tok, body, strlen(body), &id)) != NULL)
			CU_ASSERT_EQUAL(json_object_get_int64(get(o, "counts.total")), 2);
		json_object_put(o);
		free(body);
	}

	/* one member name 10,000 times: the parser keeps the last, in linear time */
	bj_buf_adds(&b, "{");
	for (int i = 0; i < 10000; i++)
		bj_buf_adds(&b, "\"title\":\"t\",");
	bj_buf_adds(&b, "\"title\":\"last\",\"kind\":\"hostile\",\"owner\":\"alice\","
	    "\"items\":[{\"key\":\"a\"}]}");
	if ((o = create_and_read(submit_tok, b.data, b.len, &id)) != NULL)
		same_text(o, "title", "last");
	json_object_put(o);
	bj_buf_free(&b);
	/* and "items" twice, however spelt, is refused */
	expect("/v1/jobs", submit_tok, "{\"kind\":\"hostile\",\"owner\":\"alice\","
	    "\"items\":[{\"key\":\"a\"}],\"it\\u0065ms\":[]}", 422, "VALIDATION_FAILED");
	still_up();
}

/* A string of n copies of c. */
static char *
longstr(char c, size_t n)
{
	char *s = bj_xmalloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void
test_megabyte_strings(void)
{
	char *mb = longstr('x', 1 << 20), *m, *hdr;
	struct json_object *o;
	long long id;

	m = bj_xasprintf("\"title\":\"%s\",", mb);
	expect_job(m, NULL, 422, "VALIDATION_FAILED");
	free(m);
	m = bj_xasprintf("[{\"key\":\"%s\"}]", mb);
	expect_job("", m, 422, "VALIDATION_FAILED");
	free(m);
	m = bj_xasprintf("[{\"key\":\"a\",\"payload\":\"%s\"}]", mb);
	expect_job("", m, 422, "VALIDATION_FAILED");
	free(m);
	m = bj_xasprintf("{\"kind\":\"hostile\",\"owner\":\"%s\",\"items\":[{\"key\":\"a\"}]}", mb);
	expect("/v1/jobs", admin_tok, m, 422, "VALIDATION_FAILED");
	free(m);
	m = bj_xasprintf("{\"worker\":\"%s\",\"kinds\":[\"hostile\"]}", mb);
	expect("/v1/claims", work_tok, m, 422, "VALIDATION_FAILED");
	free(m);
	/* a 64 KiB header is the web server's to refuse; nothing reaches us */
	hdr = bj_xasprintf("Idempotency-Key: %.65536s", mb);
	m = job("", NULL);
	{
		struct json_object *r;
		long st = call("POST", "/v1/jobs", submit_tok, hdr, m, strlen(m), &r);
		CU_ASSERT(st >= 400 && st < 500);
		json_object_put(r);
	}
	free(m);
	free(hdr);
	/* just under the params limit: stored and read back whole */
	mb[(1 << 20) - 16] = '\0';
	m = bj_xasprintf("{\"kind\":\"hostile\",\"owner\":\"alice\",\"params\":\"%s\","
	    "\"items\":[{\"key\":\"a\"}]}", mb);
	if ((o = create_and_read(submit_tok, m, strlen(m), &id)) != NULL)
		same_text(o, "params", mb);
	json_object_put(o);
	free(m);
	free(mb);
	still_up();
}

static void
test_nul_bytes(void)
{
	static const char raw[] = "{\"kind\":\"hostile\",\"owner\":\"alice\",\"title\":\"a\0b\","
	    "\"items\":[{\"key\":\"a\"}]}";
	static const char raw_key[] = "{\"kind\":\"hostile\",\"owner\":\"alice\","
	    "\"items\":[{\"key\":\"a\0b\"}]}";

	expect_len("/v1/jobs", submit_tok, NULL, raw, sizeof raw - 1, 400, "BAD_JSON");
	expect_len("/v1/jobs", submit_tok, NULL, raw_key, sizeof raw_key - 1, 400, "BAD_JSON");
	expect_job("\"title\":\"a\\u0000b\",", NULL, 400, "BAD_JSON");
	expect_job("", "[{\"key\":\"a\\u0000b\"}]", 400, "BAD_JSON");
	expect_job("", "[{\"key\":\"a\",\"payload\":\"\\u0000\"}]", 400, "BAD_JSON");
	expect_job("\"params\":{\"\\u0000\":1},", NULL, 400, "BAD_JSON");
	expect_job("\"notify\":{\"email\":[\"a@example.org\\u0000\\r\\nBcc: x@example.org\"]},",
	    NULL, 400, "BAD_JSON");
	expect("/v1/claims", work_tok, "{\"worker\":\"w\\u0000\\r\\nX: y\",\"kinds\":[\"hostile\"]}",
	    400, "BAD_JSON");
	still_up();
}

static void
test_sql_fragments_stored_as_text(void)
{
	static const char *frag[] = { "'; DROP TABLE jobs; --", "1' OR '1'='1",
	    "\\\\'); DELETE FROM items; --", "`x` /* */ UNION SELECT password FROM mysql.user",
	    "%_\\\\%" };

	for (size_t i = 0; i < sizeof frag / sizeof frag[0]; i++) {
		char *b = bj_xasprintf("{\"kind\":\"hostile\",\"owner\":\"%s\",\"title\":\"%s\","
		    "\"params\":{\"q\":\"%s\"},\"items\":[{\"key\":\"%s\"}]}", frag[i], frag[i],
		    frag[i], frag[i]);
		struct json_object *o, *p;
		long long id;
		char path[96];

		/* the JSON escapes \\ in frag: compare with what the parser reads */
		p = json_tokener_parse(b);
		if ((o = create_and_read(admin_tok, b, strlen(b), &id)) != NULL && p != NULL) {
			same_text(o, "title", json_object_get_string(get(p, "title")));
			same_text(o, "owner", json_object_get_string(get(p, "owner")));
			CU_ASSERT_STRING_EQUAL(json_object_to_json_string(get(o, "params")),
			    json_object_to_json_string(get(p, "params")));
		}
		json_object_put(o);
		snprintf(path, sizeof path, "/v1/jobs/%lld/items", id);
		CU_ASSERT_EQUAL(call("GET", path, admin_tok, NULL, NULL, 0, &o), 200);
		if (p != NULL && get(o, "items") && json_object_array_length(get(o, "items")) == 1)
			same_text(json_object_array_get_idx(get(o, "items"), 0), "key",
			    json_object_get_string(get(json_object_array_get_idx(get(p, "items"), 0),
			    "key")));
		else
			CU_FAIL("the item was not read back");
		json_object_put(o);
		json_object_put(p);
		free(b);
	}
	/* the tables are all there */
	CU_ASSERT_EQUAL(call("GET", "/v1/jobs?limit=1", admin_tok, NULL, NULL, 0, NULL), 200);
	still_up();
}

/* Claim the one item of kind for worker w: its id and lease token (caller frees). */
static long long
claim_one(const char *kind, const char *w, char **lease)
{
	struct json_object *o, *it;
	char *b = bj_xasprintf("{\"worker\":\"%s\",\"kinds\":[\"%s\"],\"limit\":1}", w, kind);
	long long id = 0;

	*lease = NULL;
	CU_ASSERT_EQUAL(call("POST", "/v1/claims", work_tok, NULL, b, strlen(b), &o), 200);
	it = get(o, "items") && json_object_array_length(get(o, "items")) == 1 ?
	    json_object_array_get_idx(get(o, "items"), 0) : NULL;
	CU_ASSERT_PTR_NOT_NULL(it);
	if (it != NULL) {
		id = json_object_get_int64(get(it, "id"));
		*lease = bj_xstrdup(json_object_get_string(get(it, "lease_token")));
	}
	json_object_put(o);
	free(b);
	return id;
}

static void
test_html_in_every_text_field(void)
{
	const char *body = "{\"kind\":\"hostilehtml\",\"owner\":\"<b>o</b>\","
	    "\"title\":\"<script>alert(1)</script>\",\"params\":{\"h\":\"<iframe>\"},"
	    "\"items\":[{\"key\":\"\\\"><img src=x onerror=alert(2)>\"}],"
	    "\"on_item_failure\":\"fail_job\",\"max_attempts\":1}";
	struct json_object *o;
	struct bj_http_reply r;
	char path[128], *lease, *fail;
	long long id, item;

	expect_job("\"language\":\"<script>\",", NULL, 422, "VALIDATION_FAILED");
	expect("/v1/jobs", submit_tok, "{\"kind\":\"<script>\",\"owner\":\"alice\","
	    "\"items\":[{\"key\":\"a\"}]}", 422, "VALIDATION_FAILED");
	expect_job("\"notify\":{\"webhooks\":[\"javascript:alert(1)\"]},", NULL, 422,
	    "VALIDATION_FAILED");
	expect_job("\"notify\":{\"email\":[\"<script>@example.org\"]},", NULL, 422,
	    "VALIDATION_FAILED");

	if ((o = create_and_read(admin_tok, body, strlen(body), &id)) == NULL)
		return;
	same_text(o, "title", "<script>alert(1)</script>");
	same_text(o, "owner", "<b>o</b>");
	snprintf(path, sizeof path, "/jobs/%s", json_object_get_string(get(o, "token")));
	json_object_put(o);

	item = claim_one("hostilehtml", "<svg onload=alert(3)>", &lease);
	if (lease == NULL)
		return;
	fail = bj_xasprintf("{\"lease_token\":\"%s\",\"error\":"
	    "\"</td><img src=x onerror=alert(4)>\\r\\nX-Injected: 1\",\"retryable\":false}", lease);
	{
		char p2[96];
		snprintf(p2, sizeof p2, "/v1/items/%lld/fail", item);
		CU_ASSERT_EQUAL(call("POST", p2, work_tok, NULL, fail, strlen(fail), &o), 200);
		/* the error keeps its line break: it is data, never a header */
		same_text(o, "error", "</td><img src=x onerror=alert(4)>\r\nX-Injected: 1");
		json_object_put(o);
	}
	free(fail);
	free(lease);

	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(r.body ? strstr(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;") :
	    NULL);
	CU_ASSERT_PTR_NOT_NULL(r.body ? strstr(r.body, "&lt;img src=x onerror=alert(2)&gt;") :
	    NULL);
	CU_ASSERT_PTR_NOT_NULL(r.body ? strstr(r.body, "&lt;img src=x onerror=alert(4)&gt;") :
	    NULL);
	CU_ASSERT_PTR_NULL(r.body ? strstr(r.body, "<script") : NULL);
	CU_ASSERT_PTR_NULL(r.body ? strstr(r.body, "<img") : NULL);
	CU_ASSERT_PTR_NULL(r.body ? strstr(r.body, "<svg") : NULL);
	CU_ASSERT_PTR_NULL(r.body ? strstr(r.body, "<iframe") : NULL);
	CU_ASSERT_PTR_NULL(r.body ? strstr(r.body, "<b>o") : NULL);
	CU_ASSERT_PTR_NULL(r.headers ? strstr(r.headers, "X-Injected") : NULL);
	CU_ASSERT(r.body != NULL && bj_plant_valid_html(r.body));
	bj_http_reply_free(&r);
	still_up();
}

static void
test_crlf_aimed_at_headers_and_logs(void)
{
	char *lease, p2[96];
	long long item;
	struct json_object *o;
	char *b;

	expect_job("\"title\":\"a\\r\\nX-Injected: 1\",", NULL, 422, "VALIDATION_FAILED");
	expect_job("\"title\":\"a\\nb\",", NULL, 422, "VALIDATION_FAILED");
	expect_job("\"language\":\"en\\r\\n\",", NULL, 422, "VALIDATION_FAILED");
	expect_job("", "[{\"key\":\"a\\r\\nb\"}]", 422, "VALIDATION_FAILED");
	expect("/v1/jobs", submit_tok, "{\"kind\":\"a\\nb\",\"owner\":\"alice\","
	    "\"items\":[{\"key\":\"a\"}]}", 422, "VALIDATION_FAILED");
	expect("/v1/jobs", admin_tok, "{\"kind\":\"hostile\",\"owner\":\"a\\r\\nb\","
	    "\"items\":[{\"key\":\"a\"}]}", 422, "VALIDATION_FAILED");
	expect_job("\"notify\":{\"email\":[\"a@example.org\\r\\nBcc: x@example.org\"]},", NULL,
	    422, "VALIDATION_FAILED");
	expect_job("\"notify\":{\"email\":[\"a@example.org\\nSubject: x\"]},", NULL, 422,
	    "VALIDATION_FAILED");
	expect_job("\"notify\":{\"webhooks\":[\"https://h.example/\\r\\nHost: evil\"]},", NULL,
	    422, "VALIDATION_FAILED");
	expect("/v1/claims", work_tok, "{\"worker\":\"w\\r\\nX-Injected: 1\",\"kinds\":[\"hostile\"]}",
	    422, "VALIDATION_FAILED");
	expect("/v1/claims", work_tok, "{\"worker\":\"w\",\"kinds\":[\"a\\r\\nb\"]}", 200, NULL);

	/* Idempotency-Key: control characters reach us and are refused; a bare CR is nginx's */
	b = job("", NULL);
	expect_len("/v1/jobs", submit_tok, "Idempotency-Key: a\x01" "b", b, strlen(b), 422,
	    "VALIDATION_FAILED");
	expect_len("/v1/jobs", submit_tok, "Idempotency-Key: a\x7f" "b", b, strlen(b), 422,
	    "VALIDATION_FAILED");
	{
		long st = call("POST", "/v1/jobs", submit_tok, "Idempotency-Key: a\rX-Injected: 1", b,
		    strlen(b), NULL);
		CU_ASSERT(st >= 400 && st < 500);
	}
	free(b);

	/* an artifact path with CR/LF, and a lease token with them */
	b = bj_xasprintf("{\"kind\":\"hostilecrlf\",\"owner\":\"alice\",\"items\":[{\"key\":\"a\"}]}");
	expect("/v1/jobs", submit_tok, b, 201, NULL);
	free(b);
	item = claim_one("hostilecrlf", "w", &lease);
	if (lease != NULL) {
		snprintf(p2, sizeof p2, "/v1/items/%lld/complete", item);
		b = bj_xasprintf("{\"lease_token\":\"%s\",\"artifact\":\"a\\r\\nb.csv\"}", lease);
		expect(p2, work_tok, b, 422, "BAD_ARTIFACT_PATH");
		free(b);
		b = bj_xasprintf("{\"lease_token\":\"%s\\r\\nX: y\"}", lease);
		expect(p2, work_tok, b, 409, "LEASE_LOST");
		free(b);
		snprintf(p2, sizeof p2, "/v1/items/%lld/heartbeat", item);
		b = bj_xasprintf("{\"lease_token\":\"%s\"}", lease);
		CU_ASSERT_EQUAL(call("POST", p2, work_tok, NULL, b, strlen(b), &o), 200);
		json_object_put(o);
		free(b);
		free(lease);
	}
	still_up();
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("hostile input", init, clean);

	CU_add_test(s, "invalid UTF-8", test_invalid_utf8);
	CU_add_test(s, "lone surrogates", test_lone_surrogates);
	CU_add_test(s, "huge numbers", test_huge_numbers);
	CU_add_test(s, "deep nesting", test_deep_nesting);
	CU_add_test(s, "one key or member 10,000 times", test_same_key_many_times);
	CU_add_test(s, "megabyte strings", test_megabyte_strings);
	CU_add_test(s, "NUL bytes, raw and escaped", test_nul_bytes);
	CU_add_test(s, "SQL fragments are stored as text", test_sql_fragments_stored_as_text);
	CU_add_test(s, "HTML in every text field, escaped on the page",
	    test_html_in_every_text_field);
	CU_add_test(s, "CR/LF aimed at headers and logs", test_crlf_aimed_at_headers_and_logs);
	return bj_test_run();
}
