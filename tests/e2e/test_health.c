/*
 * test_health.c: nginx + bulkjobs-fcgi come up from conf/nginx.conf and
 * conf/nginx-http.conf as shipped (rate limit included); healthz, 404, 405,
 * tokens, and the limit on token guessing.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct bj_e2e e2e;

static int
init(void)
{
	bj_e2e_shipped_rate_limit = 1;
	return bj_e2e_start(&e2e, "health", NULL);
}

static int
clean(void)
{
	bj_e2e_stop(&e2e);
	return 0;
}

static void
get(const char *method, const char *path, struct bj_http_reply *r)
{
	char url[512];

	snprintf(url, sizeof url, "%s%s", e2e.url, path);
	CU_ASSERT_EQUAL_FATAL(bj_http(method, url, NULL, NULL, 0, r), 0);
}

static void
test_healthz(void)
{
	struct bj_http_reply r;
	char *ct;

	get("GET", "/healthz", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"status\":\"ok\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"database\":\"ok\""));
	ct = bj_http_header(&r, "Content-Type");
	CU_ASSERT_PTR_NOT_NULL(ct);
	if (ct)
		CU_ASSERT_STRING_EQUAL(ct, "application/json");
	free(ct);
	bj_http_reply_free(&r);
}

/* A migration missing below the highest applied one makes /healthz answer 503. */
static void
test_healthz_sees_a_pending_migration(void)
{
	struct bj_db *db = bj_test_db("health");
	struct bj_http_reply r;

	bj_test_sql(db, "CREATE TABLE saved_migrations AS SELECT * FROM schema_migrations");
	bj_test_sql(db, "DELETE FROM schema_migrations WHERE version = 1");
	get("GET", "/healthz", &r);
	CU_ASSERT_EQUAL(r.status, 503);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"migrations_pending\":1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"status\":\"schema_mismatch\""));
	bj_http_reply_free(&r);
	bj_test_sql(db, "INSERT INTO schema_migrations SELECT * FROM saved_migrations"
	    " WHERE version = 1");
	bj_test_sql(db, "DROP TABLE saved_migrations");
	get("GET", "/healthz", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"migrations_pending\":0"));
	bj_http_reply_free(&r);
}

static void
test_unknown_path_is_json_404(void)
{
	struct bj_http_reply r;

	get("GET", "/no/such/thing", &r);
	CU_ASSERT_EQUAL(r.status, 404);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"code\":\"NOT_FOUND\""));
	bj_http_reply_free(&r);
}

/* A 405 names the methods the resource takes (RFC 9110, 15.5.6). */
static void
allow_is(const struct bj_http_reply *r, const char *want)
{
	char *allow = bj_http_header(r, "Allow");

	CU_ASSERT_PTR_NOT_NULL(allow);
	if (allow)
		CU_ASSERT_STRING_EQUAL(allow, want);
	free(allow);
}

static void
test_wrong_method_is_405(void)
{
	struct bj_http_reply r;

	get("DELETE", "/healthz", &r);
	CU_ASSERT_EQUAL(r.status, 405);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"code\":\"METHOD_NOT_ALLOWED\""));
	allow_is(&r, "GET, HEAD");
	bj_http_reply_free(&r);
}

static void
test_token_create_prints_token_last(void)
{
	int st = -1;
	char *tok = bj_e2e_ctl(&e2e, "token create --name e2e-submit --scope submit", &st);
	char *again;

	CU_ASSERT_EQUAL(st, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
	CU_ASSERT_EQUAL(strncmp(tok, "bj_", 3), 0);
	CU_ASSERT_EQUAL(strlen(tok), 35);
	free(tok);
	/* the same name twice is refused */
	again = bj_e2e_ctl(&e2e, "token create --name e2e-submit --scope submit 2>/dev/null", &st);
	CU_ASSERT_EQUAL(st, 65);
	free(again);
	/* a bad scope is a usage error */
	again = bj_e2e_ctl(&e2e, "token create --name x --scope root 2>/dev/null", &st);
	CU_ASSERT_EQUAL(st, 64);
	free(again);
	again = bj_e2e_ctl(&e2e, "token revoke e2e-submit", &st);
	CU_ASSERT_EQUAL(st, 0);
	free(again);
	again = bj_e2e_ctl(&e2e, "token revoke e2e-submit 2>/dev/null", &st);
	CU_ASSERT_EQUAL(st, 65);
	free(again);
}

static void
test_migrate_twice_via_ctl(void)
{
	int st = -1;
	char *out = bj_e2e_ctl(&e2e, "migrate", &st);

	CU_ASSERT_EQUAL(st, 0);
	CU_ASSERT_PTR_NOT_NULL(out);
	if (out)
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "up to date"));
	free(out);
	out = bj_e2e_ctl(&e2e, "migrate --status", &st);
	CU_ASSERT_EQUAL(st, 0);
	CU_ASSERT_PTR_NOT_NULL(out);
	if (out)
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "0 migrations pending"));
	free(out);
}

/*
 * Wrong tokens as fast as one client can send them: the shipped limit_req
 * answers 429 once the burst is spent (the probe sent 2,000 in a second,
 * all answered 401 by the app). Run last: it spends this client's budget.
 */
static void
test_token_guessing_is_rate_limited(void)
{
	const char *const hdr[] = { "Authorization: Bearer bj_guess", NULL };
	char url[512];
	int n401 = 0, n429 = 0, other = 0;

	snprintf(url, sizeof url, "%s/v1/jobs", e2e.url);
	for (int i = 0; i < 600; i++) {
		struct bj_http_reply r;

		CU_ASSERT_EQUAL_FATAL(bj_http("GET", url, hdr, NULL, 0, &r), 0);
		if (r.status == 401)
			n401++;
		else if (r.status == 429)
			n429++;
		else
			other++;
		bj_http_reply_free(&r);
	}
	fprintf(stderr, "\nrate limit: %d answered 401, %d refused 429\n", n401, n429);
	CU_ASSERT(n401 >= 200);		/* the burst */
	CU_ASSERT(n429 > 0);
	CU_ASSERT_EQUAL(other, 0);
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("e2e health", init, clean);

	CU_add_test(s, "GET /healthz through nginx", test_healthz);
	CU_add_test(s, "/healthz reports a pending migration", test_healthz_sees_a_pending_migration);
	CU_add_test(s, "unknown path: JSON 404", test_unknown_path_is_json_404);
	CU_add_test(s, "wrong method: JSON 405", test_wrong_method_is_405);
	CU_add_test(s, "bulkjobsctl token create/revoke", test_token_create_prints_token_last);
	CU_add_test(s, "bulkjobsctl migrate twice is a no-op", test_migrate_twice_via_ctl);
	CU_add_test(s, "token guessing is rate-limited", test_token_guessing_is_rate_limited);
	return bj_test_run();
}
