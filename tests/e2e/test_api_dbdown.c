/*
 * test_api_dbdown.c: the test MariaDB is stopped and started again while
 * clients keep calling the API through nginx. Every answer in between is
 * 200 or 503 with Retry-After (never a 500 or a dead gateway), and the
 * same FastCGI processes serve again once the database is back.
 */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static struct bj_e2e e2e;
static char *tok;
static volatile int stop_load;
static char argv_buf[8192];
static char *db_argv[64];

static int
init(void)
{
	int st;

	if (bj_e2e_start(&e2e, "dbdown", NULL) == -1)
		return -1;
	tok = bj_e2e_ctl(&e2e, "token create --name load --scope admin", &st);
	return tok != NULL && st == 0 ? 0 : -1;
}

static int
clean(void)
{
	bj_e2e_stop(&e2e);
	free(tok);
	return 0;
}

/* The pid of the test MariaDB, from its pid file. */
static pid_t
db_pid(void)
{
	FILE *f = fopen(bj_test_path("mariadb.pid"), "r");
	long pid = -1;

	if (f != NULL) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = -1;
		fclose(f);
	}
	return (pid_t)pid;
}

/* Remember how the server was started, from /proc. */
static int
save_cmdline(pid_t pid)
{
	char path[64];
	ssize_t n;
	int fd, k = 0;

	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	if ((fd = open(path, O_RDONLY)) == -1)
		return -1;
	n = read(fd, argv_buf, sizeof argv_buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	argv_buf[n] = '\0';
	for (ssize_t i = 0; i < n && k < 63; i += (ssize_t)strlen(argv_buf + i) + 1)
		db_argv[k++] = argv_buf + i;
	db_argv[k] = NULL;
	return 0;
}

/* Start the server again, detached, with the same arguments and data. */
static void
restart_db(void)
{
	pid_t p = fork();

	if (p == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		setsid();
		execv(db_argv[0], db_argv);
		_exit(127);
	}
}

/* GET path with the token: the status, and whether Retry-After came with it. */
static long
probe(const char *path, int *retry_after)
{
	char url[300], auth[128];
	const char *h[2];
	struct bj_http_reply r;
	long st;
	char *ra;

	snprintf(url, sizeof url, "%s%s", e2e.url, path);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
	h[0] = auth;
	h[1] = NULL;
	if (bj_http("GET", url, h, NULL, 0, &r) == -1)
		return -1;
	st = r.status;
	ra = bj_http_header(&r, "Retry-After");
	*retry_after = ra != NULL;
	free(ra);
	bj_http_reply_free(&r);
	return st;
}

struct tally {
	long ok, unavailable, other, no_retry_after;
};

/* Keep calling the API until told to stop; count what comes back. */
static void *
load(void *arg)
{
	struct tally *t = arg;
	int ra;

	while (!stop_load) {
		long st = probe("/v1/jobs?limit=1", &ra);
		if (st == 200)
			t->ok++;
		else if (st == 503) {
			t->unavailable++;
			if (!ra)
				t->no_retry_after++;
		} else {
			t->other++;
		}
	}
	return NULL;
}

static void
test_database_stops_and_starts(void)
{
	struct tally t = { 0 };
	pthread_t th;
	pid_t pid = db_pid();
	int ra, up = 0;
	long st;

	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_EQUAL_FATAL(save_cmdline(pid), 0);
	CU_ASSERT_EQUAL(probe("/v1/jobs", &ra), 200);
	pthread_create(&th, NULL, load, &t);

	kill(pid, SIGTERM);
	for (int i = 0; i < 300 && kill(pid, 0) == 0; i++)
		usleep(100000);
	CU_ASSERT_NOT_EQUAL_FATAL(kill(pid, 0), 0);
	st = probe("/v1/jobs", &ra);
	CU_ASSERT_EQUAL(st, 503);
	CU_ASSERT_TRUE(ra);
	CU_ASSERT_EQUAL(probe("/healthz", &ra), 503);

	restart_db();
	for (int i = 0; i < 300 && !up; i++) {
		up = probe("/healthz", &ra) == 200;
		if (!up)
			usleep(100000);
	}
	CU_ASSERT_TRUE(up);
	/* every process serves again: a run of successes */
	for (int i = 0; i < 20; i++)
		CU_ASSERT_EQUAL(probe("/v1/jobs?limit=1", &ra), 200);
	stop_load = 1;
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(t.other, 0);
	CU_ASSERT_EQUAL(t.no_retry_after, 0);
	CU_ASSERT(t.unavailable > 0);
	CU_ASSERT(t.ok > 0);
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("e2e database down", init, clean);

	CU_add_test(s, "the database stops and starts under load: only 503s between",
	    test_database_stops_and_starts);
	return bj_test_run();
}
