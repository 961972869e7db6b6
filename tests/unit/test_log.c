/* test_log.c: the rate limit of repeated log lines. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "log.h"

/* Count the lines of f holding needle. */
static int
lines_with(FILE *f, const char *needle)
{
	char line[512];
	int n = 0;

	rewind(f);
	while (fgets(line, sizeof line, f) != NULL)
		n += strstr(line, needle) != NULL;
	return n;
}

static void
test_rate_limit(void)
{
	struct bj_log_rate r = BJ_LOG_RATE(3, 3600);
	FILE *f = tmpfile();
	int saved = dup(2);

	CU_ASSERT_FATAL(f != NULL && saved != -1);
	fflush(stderr);
	dup2(fileno(f), 2);
	for (int i = 0; i < 10; i++)
		bj_log_limited(&r, BJ_LOG_ERR, "outage %d", i);
	r.start -= 3600;	/* the interval has passed */
	bj_log_limited(&r, BJ_LOG_ERR, "outage again");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	CU_ASSERT_EQUAL(lines_with(f, "outage "), 4);
	CU_ASSERT_EQUAL(lines_with(f, "outage 3"), 0);
	CU_ASSERT_EQUAL(lines_with(f, "7 more such messages were not logged"), 1);
	CU_ASSERT_EQUAL(r.used, 1);
	CU_ASSERT_EQUAL(r.suppressed, 0);
	fclose(f);
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("log", NULL, NULL);

	CU_add_test(s, "a repeated message is rate-limited and the rest counted",
	    test_rate_limit);
	return bj_test_run();
}
