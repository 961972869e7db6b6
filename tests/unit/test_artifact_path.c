/* test_artifact_path.c: the artifact path normaliser: what it keeps, what it refuses. */
#include "config.h"

#include <string.h>

#include "artifact_path.h"
#include "harness.h"

/* Normalise s; returns the error and leaves the result in out. */
static enum bj_err
norm(const char *s, size_t len, char *out)
{
	const char *why = NULL;
	enum bj_err e = bj_artifact_path_normalize(s, len, out, &why);

	if (e != BJ_OK)
		CU_ASSERT_PTR_NOT_NULL(why);
	return e;
}

static void
test_normalises(void)
{
	char out[BJ_ARTIFACT_PATH_MAX + 1];

	CU_ASSERT_EQUAL(norm("exports/42/out.csv", 18, out), BJ_OK);
	CU_ASSERT_STRING_EQUAL(out, "exports/42/out.csv");
	CU_ASSERT_EQUAL(norm("./a//b/./c.zip", 14, out), BJ_OK);
	CU_ASSERT_STRING_EQUAL(out, "a/b/c.zip");
	CU_ASSERT_EQUAL(norm("..data/x..y", 11, out), BJ_OK);	/* dots inside names are fine */
	CU_ASSERT_STRING_EQUAL(out, "..data/x..y");
	CU_ASSERT_EQUAL(norm("résumé.pdf", strlen("résumé.pdf"), out), BJ_OK);
}

static void
test_refuses(void)
{
	char out[BJ_ARTIFACT_PATH_MAX + 1];
	char big[BJ_ARTIFACT_PATH_MAX + 10];

	CU_ASSERT_EQUAL(norm("", 0, out), BJ_ERR_BAD_ARTIFACT_PATH);
	CU_ASSERT_EQUAL(norm("/etc/passwd", 11, out), BJ_ERR_BAD_ARTIFACT_PATH);
	CU_ASSERT_EQUAL(norm("a/../../etc/passwd", 18, out), BJ_ERR_BAD_ARTIFACT_PATH);
	CU_ASSERT_EQUAL(norm("..", 2, out), BJ_ERR_BAD_ARTIFACT_PATH);
	CU_ASSERT_EQUAL(norm("a/..", 4, out), BJ_ERR_BAD_ARTIFACT_PATH);
	CU_ASSERT_EQUAL(norm("a\0b", 3, out), BJ_ERR_BAD_ARTIFACT_PATH);
	CU_ASSERT_EQUAL(norm("a\nb", 3, out), BJ_ERR_BAD_ARTIFACT_PATH);
	CU_ASSERT_EQUAL(norm("a\\..\\b", 6, out), BJ_ERR_BAD_ARTIFACT_PATH);
	CU_ASSERT_EQUAL(norm("./", 2, out), BJ_ERR_BAD_ARTIFACT_PATH);
	CU_ASSERT_EQUAL(norm("dir/", 4, out), BJ_ERR_BAD_ARTIFACT_PATH);
	memset(big, 'a', sizeof big);
	CU_ASSERT_EQUAL(norm(big, sizeof big, out), BJ_ERR_BAD_ARTIFACT_PATH);
	CU_ASSERT_STRING_EQUAL(out, "");
	CU_ASSERT_EQUAL(norm(big, BJ_ARTIFACT_PATH_MAX, out), BJ_OK);
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("artifact_path", NULL, NULL);

	CU_add_test(s, "normalises relative paths", test_normalises);
	CU_add_test(s, "refuses paths that could leave the root", test_refuses);
	return bj_test_run();
}
