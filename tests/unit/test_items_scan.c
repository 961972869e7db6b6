/* test_items_scan.c: finding the items array and its elements in job bodies. */
#include "config.h"

#include <string.h>

#include "harness.h"
#include "items_scan.h"

/* The items span of s as a string in out, or the scan's result code. */
static int
span(const char *s, char *out, size_t outlen)
{
	size_t a = 0, b = 0;
	int rc = bj_items_span(s, strlen(s), &a, &b);

	out[0] = '\0';
	if (rc == 1 && b - a < outlen) {
		memcpy(out, s + a, b - a);
		out[b - a] = '\0';
	}
	return rc;
}

static void
test_span(void)
{
	char out[200];

	CU_ASSERT_EQUAL(span("{\"kind\":\"x\",\"items\":[{\"key\":\"a]\\\"\"},{}],\"z\":1}", out,
	    sizeof out), 1);
	CU_ASSERT_STRING_EQUAL(out, "[{\"key\":\"a]\\\"\"},{}]");
	CU_ASSERT_EQUAL(span(" { \"items\" : [ ] } ", out, sizeof out), 1);
	CU_ASSERT_STRING_EQUAL(out, "[ ]");
	/* a member whose value mentions "items" is not the member */
	CU_ASSERT_EQUAL(span("{\"t\":\"\\\"items\\\":[1]\",\"items\":[2]}", out, sizeof out), 1);
	CU_ASSERT_STRING_EQUAL(out, "[2]");
	CU_ASSERT_EQUAL(span("{\"x\":{\"items\":[1]}}", out, sizeof out), 0);
	CU_ASSERT_EQUAL(span("{}", out, sizeof out), 0);
	CU_ASSERT_EQUAL(span("[1]", out, sizeof out), -1);
	CU_ASSERT_EQUAL(span("{\"items\":[1}", out, sizeof out), -1);
	CU_ASSERT_EQUAL(span("{\"items\":\"open}", out, sizeof out), -1);
	CU_ASSERT_EQUAL(span("{\"a\" 1}", out, sizeof out), -1);
	/* the name as the strict parser reads it, escapes and all; twice is refused */
	CU_ASSERT_EQUAL(span("{\"it\\u0065ms\":[3]}", out, sizeof out), 1);
	CU_ASSERT_STRING_EQUAL(out, "[3]");
	CU_ASSERT_EQUAL(span("{\"items\":[1],\"it\\u0065ms\":[]}", out, sizeof out), -2);
	CU_ASSERT_EQUAL(span("{\"itemsx\":[1],\"item\":[2]}", out, sizeof out), 0);
}

static void
test_elements(void)
{
	const char *s = "[ {\"k\":\"a,b\"} , 7 ,\"x]\" ]";
	size_t pos = 0, a, b, end = strlen(s);
	int n = 0, first = 1;

	while (bj_items_next(s, end, &pos, &first, &a, &b) == 1) {
		if (n == 0)
			CU_ASSERT_EQUAL(strncmp(s + a, "{\"k\":\"a,b\"}", b - a), 0);
		if (n == 1)
			CU_ASSERT_EQUAL(strncmp(s + a, "7", b - a), 0);
		if (n == 2)
			CU_ASSERT_EQUAL(strncmp(s + a, "\"x]\"", b - a), 0);
		n++;
	}
	CU_ASSERT_EQUAL(n, 3);
	pos = 0, first = 1;
	CU_ASSERT_EQUAL(bj_items_next("[]", 2, &pos, &first, &a, &b), 0);
	pos = 0, first = 1;
	CU_ASSERT_EQUAL(bj_items_next("[1,]", 4, &pos, &first, &a, &b), 1);
	CU_ASSERT_EQUAL(bj_items_next("[1,]", 4, &pos, &first, &a, &b), -1);
	pos = 0, first = 1;
	CU_ASSERT_EQUAL(bj_items_next("[1 2]", 5, &pos, &first, &a, &b), 1);
	CU_ASSERT_EQUAL(bj_items_next("[1 2]", 5, &pos, &first, &a, &b), -1);
	/* an element right after another, with no comma, even one that is an array */
	pos = 0, first = 1;
	CU_ASSERT_EQUAL(bj_items_next("[{}[2]]", 7, &pos, &first, &a, &b), 1);
	CU_ASSERT_EQUAL(bj_items_next("[{}[2]]", 7, &pos, &first, &a, &b), -1);
	/* arrays as elements are still elements */
	pos = 0, first = 1;
	n = 0;
	while (bj_items_next("[[1],[2]]", 9, &pos, &first, &a, &b) == 1)
		n++;
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(pos, 9);
	/* not an array at all */
	pos = 0, first = 1;
	CU_ASSERT_EQUAL(bj_items_next("{}", 2, &pos, &first, &a, &b), -1);
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("items_scan", NULL, NULL);

	CU_add_test(s, "the items member and nothing else", test_span);
	CU_add_test(s, "elements one by one", test_elements);
	return bj_test_run();
}
