/* test_router.c: mapping REQUEST_URI to routes under base_path. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "http.h"
#include "router.h"

static void
check_path(const char *uri, const char *script, const char *info, const char *base,
    const char *want)
{
	char *got = bj_route_path(uri, script, info, base);

	if (want == NULL) {
		CU_ASSERT_PTR_NULL(got);
	} else {
		CU_ASSERT_PTR_NOT_NULL(got);
		if (got)
			CU_ASSERT_STRING_EQUAL(got, want);
	}
	free(got);
}

static void
test_route_path(void)
{
	check_path("/bulkjobs/v1/jobs?x=1", NULL, NULL, "/bulkjobs", "/v1/jobs");
	check_path("/bulkjobs", NULL, NULL, "/bulkjobs", "/");
	check_path("/bulkjobs/", NULL, NULL, "/bulkjobs", "/");
	check_path("/bulkjobsX/v1", NULL, NULL, "/bulkjobs", NULL);
	check_path("/other/v1/jobs", NULL, NULL, "/bulkjobs", NULL);
	check_path("/healthz", NULL, NULL, "", "/healthz");
	/* Apache mod_proxy_fcgi style without REQUEST_URI */
	check_path(NULL, "/bulkjobs", "/v1/jobs/3", "/bulkjobs", "/v1/jobs/3");
}

static void
test_match(void)
{
	struct bj_req req;
	int mismatch;
	const struct bj_route *r;

	memset(&req, 0, sizeof req);
	r = bj_route_match(&req, "GET", "/healthz", &mismatch);
	CU_ASSERT_PTR_NOT_NULL(r);
	CU_ASSERT_EQUAL(mismatch, 0);
	bj_req_end(&req);

	r = bj_route_match(&req, "DELETE", "/healthz", &mismatch);
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT_EQUAL(mismatch, 1);
	bj_req_end(&req);

	r = bj_route_match(&req, "GET", "/healthz/more", &mismatch);
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT_EQUAL(mismatch, 0);
	bj_req_end(&req);
}

static void
test_form_and_decode(void)
{
	char *v = bj_form_get("a=1&csrf=x%2By+z&b", "csrf");

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_STRING_EQUAL(v, "x+y z");
	free(v);
	v = bj_form_get("a=1&b", "b");
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_STRING_EQUAL(v, "");
	free(v);
	CU_ASSERT_PTR_NULL(bj_form_get("a=1", "csrf"));
	CU_ASSERT_PTR_NULL(bj_url_decode("%0", 2, 0));
	CU_ASSERT_PTR_NULL(bj_url_decode("a%00b", 5, 0));	/* NUL refused */
	CU_ASSERT_PTR_NULL(bj_url_decode("%zz", 3, 0));
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("router", NULL, NULL);

	CU_add_test(s, "REQUEST_URI minus base_path", test_route_path);
	CU_add_test(s, "route table match and 405", test_match);
	CU_add_test(s, "form fields and percent-decoding", test_form_and_decode);
	return bj_test_run();
}
