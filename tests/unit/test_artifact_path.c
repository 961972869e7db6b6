/*
 * test_artifact_path.c: the artifact path normaliser: what it keeps, what
 * it refuses; and opening an artifact without following links.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Write text to path. */
static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

/* 1 when bj_artifact_open(root, rel) gives a descriptor whose first bytes are want. */
static int
opens(const char *root, const char *rel, const char *want)
{
	char *cause = NULL, buf[64] = "";
	int fd = bj_artifact_open(root, rel, &cause);
	ssize_t n;

	if (fd == -1) {
		CU_ASSERT_PTR_NOT_NULL(cause);
		free(cause);
		return 0;
	}
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strcmp(buf, want) == 0;
}

/* A link anywhere on the way, or at the end, is never followed, even one that stays inside. */
static void
test_open_follows_no_link(void)
{
	char root[600], out[700], p[900], t[900];

	snprintf(root, sizeof root, "%s", bj_test_path("artifact_open"));
	snprintf(out, sizeof out, "%s.outside", root);
	mkdir(root, 0755);
	mkdir(out, 0755);
	snprintf(p, sizeof p, "%s/dir", root);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/dir/f.txt", root);
	put(p, "inside");
	snprintf(p, sizeof p, "%s/secret.txt", out);
	put(p, "outside");
	snprintf(p, sizeof p, "%s/file-link", root);
	snprintf(t, sizeof t, "%s/secret.txt", out);
	unlink(p);
	CU_ASSERT_EQUAL(symlink(t, p), 0);
	snprintf(p, sizeof p, "%s/dir-link", root);
	unlink(p);
	CU_ASSERT_EQUAL(symlink(out, p), 0);
	snprintf(p, sizeof p, "%s/inner-link", root);
	unlink(p);
	CU_ASSERT_EQUAL(symlink("dir", p), 0);
	snprintf(p, sizeof p, "%s/fifo", root);
	unlink(p);
	CU_ASSERT_EQUAL(mkfifo(p, 0644), 0);

	CU_ASSERT_TRUE(opens(root, "dir/f.txt", "inside"));
	CU_ASSERT_FALSE(opens(root, "file-link", "outside"));
	CU_ASSERT_FALSE(opens(root, "dir-link/secret.txt", "outside"));
	CU_ASSERT_FALSE(opens(root, "inner-link/f.txt", "inside"));
	CU_ASSERT_FALSE(opens(root, "dir", ""));
	CU_ASSERT_FALSE(opens(root, "fifo", ""));
	CU_ASSERT_FALSE(opens(root, "missing/f.txt", ""));
	CU_ASSERT_FALSE(opens(root, "../artifact_open.outside/secret.txt", "outside"));
	CU_ASSERT_FALSE(opens(root, "/etc/passwd", ""));
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("artifact_path", NULL, NULL);

	CU_add_test(s, "normalises relative paths", test_normalises);
	CU_add_test(s, "refuses paths that could leave the root", test_refuses);
	CU_add_test(s, "opens without following links", test_open_follows_no_link);
	return bj_test_run();
}
