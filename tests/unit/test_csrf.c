/* test_csrf.c: form tokens are bound to the job, the user and the key. */
#include "config.h"

#include <string.h>

#include "csrf.h"
#include "harness.h"

static const unsigned char key[] = "server secret one";
static const unsigned char key2[] = "server secret two";

static void
test_token_round_trip(void)
{
	char t[BJ_CSRF_LEN];

	bj_csrf_make(key, sizeof key - 1, "JOBTOKENaaaaaaaaaaaaaaaaaaaaaaaa", "alice", t);
	CU_ASSERT_EQUAL(strlen(t), BJ_CSRF_LEN - 1);
	CU_ASSERT_EQUAL(strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_"), strlen(t));
	CU_ASSERT(bj_csrf_check(key, sizeof key - 1, "JOBTOKENaaaaaaaaaaaaaaaaaaaaaaaa",
	    "alice", t));
}

static void
test_token_is_bound(void)
{
	char t[BJ_CSRF_LEN], anon[BJ_CSRF_LEN];
	const char *job = "JOBTOKENaaaaaaaaaaaaaaaaaaaaaaaa";

	bj_csrf_make(key, sizeof key - 1, job, "alice", t);
	CU_ASSERT_FALSE(bj_csrf_check(key, sizeof key - 1, "JOBTOKENbbbbbbbbbbbbbbbbbbbbbbbb",
	    "alice", t));
	CU_ASSERT_FALSE(bj_csrf_check(key, sizeof key - 1, job, "bob", t));
	CU_ASSERT_FALSE(bj_csrf_check(key, sizeof key - 1, job, NULL, t));
	CU_ASSERT_FALSE(bj_csrf_check(key2, sizeof key2 - 1, job, "alice", t));
	/* the separator keeps ("ab", "c") apart from ("a", "bc") */
	bj_csrf_make(key, sizeof key - 1, "ab", "c", t);
	CU_ASSERT_FALSE(bj_csrf_check(key, sizeof key - 1, "a", "bc", t));
	/* nobody signed in: NULL and "" are the same user */
	bj_csrf_make(key, sizeof key - 1, job, NULL, anon);
	CU_ASSERT(bj_csrf_check(key, sizeof key - 1, job, "", anon));
}

static void
test_bad_input_is_refused(void)
{
	char t[BJ_CSRF_LEN];
	const char *job = "JOBTOKENaaaaaaaaaaaaaaaaaaaaaaaa";

	bj_csrf_make(key, sizeof key - 1, job, "alice", t);
	CU_ASSERT_FALSE(bj_csrf_check(key, sizeof key - 1, job, "alice", NULL));
	CU_ASSERT_FALSE(bj_csrf_check(key, sizeof key - 1, job, "alice", ""));
	t[5] = t[5] == 'A' ? 'B' : 'A';
	CU_ASSERT_FALSE(bj_csrf_check(key, sizeof key - 1, job, "alice", t));
	t[10] = '\0';
	CU_ASSERT_FALSE(bj_csrf_check(key, sizeof key - 1, job, "alice", t));
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("csrf", NULL, NULL);

	CU_add_test(s, "token round trip", test_token_round_trip);
	CU_add_test(s, "token is bound to job, user and key", test_token_is_bound);
	CU_add_test(s, "bad input is refused", test_bad_input_is_refused);
	return bj_test_run();
}
