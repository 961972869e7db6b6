/*
 * test_fcgi.c: how bulkjobs-fcgi is run: with the socket on fd 0 (as
 * spawn-fcgi, mod_fcgid and systemd hand it), standalone prefork, clean
 * SIGTERM, and start-up refusal of a bad config.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* Wait up to ~5 s for pid to exit; its exit status or -1. */
static int
wait_exit(int pid)
{
	int st;

	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(50000);
	}
	return -1;
}

static void
healthz_ok(struct bj_e2e *e)
{
	struct bj_http_reply r;
	char url[512];

	snprintf(url, sizeof url, "%s/healthz", e->url);
	CU_ASSERT_EQUAL_FATAL(bj_http("GET", url, NULL, NULL, 0, &r), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	bj_http_reply_free(&r);
}

static void
test_socket_on_stdin(void)
{
	struct bj_e2e e;
	int pid;

	CU_ASSERT_EQUAL_FATAL(bj_e2e_start_mode(&e, "fcgi-stdin", NULL, BJ_E2E_STDIN_SOCKET), 0);
	healthz_ok(&e);
	healthz_ok(&e);		/* the same single process serves request after request */
	pid = e.fcgi_pid;
	CU_ASSERT_EQUAL(kill(pid, SIGTERM), 0);
	CU_ASSERT_EQUAL(wait_exit(pid), 0);
	e.fcgi_pid = 0;
	bj_e2e_stop(&e);
}

static void
test_prefork_sigterm(void)
{
	struct bj_e2e e;
	int pid;

	CU_ASSERT_EQUAL_FATAL(bj_e2e_start(&e, "fcgi-prefork", NULL), 0);
	for (int i = 0; i < 10; i++)
		healthz_ok(&e);
	pid = e.fcgi_pid;
	CU_ASSERT_EQUAL(kill(pid, SIGTERM), 0);
	CU_ASSERT_EQUAL(wait_exit(pid), 0);
	/* the children went with it: nothing is left in its process group */
	usleep(200000);
	CU_ASSERT_EQUAL(kill(-pid, 0), -1);
	CU_ASSERT_EQUAL(errno, ESRCH);
	e.fcgi_pid = 0;
	bj_e2e_stop(&e);
}

/* The first child of pid, from /proc, or -1. */
static int
first_child(int pid)
{
	char path[64];
	FILE *f;
	int kid = -1;

	snprintf(path, sizeof path, "/proc/%d/task/%d/children", pid, pid);
	if ((f = fopen(path, "r")) != NULL) {
		if (fscanf(f, "%d", &kid) != 1)
			kid = -1;
		fclose(f);
	}
	return kid;
}

/*
 * Children killed one after another are replaced; a SIGTERM sent right
 * after a child died (while the parent restarts it) still stops the
 * whole group.
 */
static void
test_prefork_restart_then_sigterm(void)
{
	struct bj_e2e e;
	int pid, kid;

	CU_ASSERT_EQUAL_FATAL(bj_e2e_start(&e, "fcgi-restart", NULL), 0);
	pid = e.fcgi_pid;
	for (int i = 0; i < 5; i++) {
		kid = first_child(pid);
		CU_ASSERT_FATAL(kid > 0);
		CU_ASSERT_EQUAL(kill(kid, SIGKILL), 0);
		usleep(300000);
		healthz_ok(&e);
	}
	kid = first_child(pid);
	CU_ASSERT_FATAL(kid > 0);
	kill(kid, SIGKILL);
	CU_ASSERT_EQUAL(kill(pid, SIGTERM), 0);
	CU_ASSERT_EQUAL(wait_exit(pid), 0);
	usleep(200000);
	CU_ASSERT_EQUAL(kill(-pid, 0), -1);
	e.fcgi_pid = 0;
	bj_e2e_stop(&e);
}

/* Run cmd, return its exit status and (in out) its stderr. */
static int
run_capture(const char *cmd, char *out, size_t outlen)
{
	char *full = NULL;
	FILE *p;
	size_t n;
	int st;

	if (asprintf(&full, "%s 2>&1", cmd) < 0)
		return -1;
	p = popen(full, "r");
	free(full);
	if (p == NULL)
		return -1;
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
test_bad_config_refused(void)
{
	const char *bld = getenv("BJ_BUILDDIR");
	char path[1200], cmd[2600], out[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s", bj_test_path("bad.conf"));
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("[database]\nname = x\nnmae = y\n", f);
	fclose(f);

	snprintf(cmd, sizeof cmd, "%s/fcgi/bulkjobs-fcgi -c '%s' --listen 127.0.0.1:1", bld, path);
	CU_ASSERT_EQUAL(run_capture(cmd, out, sizeof out), 78);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "bad.conf:3: unknown key 'nmae' in [database]"));

	snprintf(cmd, sizeof cmd, "%s/ctl/bulkjobsctl -c '%s' migrate", bld, path);
	CU_ASSERT_EQUAL(run_capture(cmd, out, sizeof out), 78);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "bad.conf:3:"));

	/* $BULKJOBS_CONF is used when -c is absent */
	snprintf(cmd, sizeof cmd, "env -i PATH=/usr/bin:/bin BULKJOBS_CONF='%s' %s/ctl/bulkjobsctl migrate",
	    path, bld);
	CU_ASSERT_EQUAL(run_capture(cmd, out, sizeof out), 78);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "bad.conf:3:"));
	unlink(path);
}

/* A world-readable config with a secret: every program refuses to start, naming the file. */
static void
test_world_readable_config_refused(void)
{
	static const struct {
		const char	*prog;
		const char	*args;	/* after -c FILE */
		int		 code;	/* its exit status for a config error */
	} progs[] = {
		{ "fcgi/bulkjobs-fcgi", "", 78 },
		{ "ctl/bulkjobsctl", "migrate", 78 },
		{ "worker/bulkjobs-worker", "--kind k --exec true --token t", 78 },
		{ "reaper/bulkjobs-reaper", "", 78 },
		{ "notifier/bulkjobs-notify", "", 78 },
	};
	const char *bld = getenv("BJ_BUILDDIR");
	char path[700], cmd[1600], out[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s", bj_test_path("world-readable.conf"));
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("[database]\nsocket = /nonexistent/mysqld.sock\n"
	    "[webhook]\nsecret = whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", f);
	fclose(f);
	chmod(path, 0644);
	for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++) {
		snprintf(cmd, sizeof cmd, "%s/%s -c '%s' %s < /dev/null", bld, progs[i].prog, path,
		    progs[i].args);
		CU_ASSERT_EQUAL(run_capture(cmd, out, sizeof out), progs[i].code);
		if (strstr(out, "world-readable.conf:0: the file holds [webhook] secret and is"
		    " world-readable") == NULL) {
			fprintf(stderr, "test_fcgi: %s said: %s\n", progs[i].prog, out);
			CU_FAIL(progs[i].prog);
		}
	}
	unlink(path);
}

static void
test_stdin_not_a_socket(void)
{
	const char *bld = getenv("BJ_BUILDDIR");
	char cmd[1400], out[4096];

	snprintf(cmd, sizeof cmd, "%s/fcgi/bulkjobs-fcgi -c '%s/conf/bulkjobs.conf.sample' < /dev/null",
	    bld, getenv("BJ_SRCDIR"));
	CU_ASSERT_EQUAL(run_capture(cmd, out, sizeof out), 64);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "not a socket"));
}

/*
 * A --socket-mode that is not an octal mode, or a --processes that is not
 * a number in range ("4x" too), is a usage error, not a socket nobody can
 * use or a guess.
 */
static void
test_bad_option_values(void)
{
	const char *bld = getenv("BJ_BUILDDIR");
	static const char *bad[][2] = {
		{ "--socket-mode", "abc" }, { "--socket-mode", "0999" },
		{ "--socket-mode", "660x" }, { "--socket-mode", "" },
		{ "--socket-mode", "17777" }, { "--processes", "4x" },
		{ "--processes", "" }, { "--processes", "0" }, { "--processes", "1025" },
	};
	char cmd[1400], out[4096];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(cmd, sizeof cmd, "%s/fcgi/bulkjobs-fcgi -c '%s/conf/bulkjobs.conf.sample'"
		    " --listen %s/never.sock %s '%s' < /dev/null",
		    bld, getenv("BJ_SRCDIR"), bj_test_path("fcgi-mode"), bad[i][0], bad[i][1]);
		CU_ASSERT_EQUAL(run_capture(cmd, out, sizeof out), 64);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, bad[i][0]));
	}
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("e2e fcgi modes", NULL, NULL);

	CU_add_test(s, "listening socket on fd 0 (spawn-fcgi style)", test_socket_on_stdin);
	CU_add_test(s, "--listen prefork stops cleanly on SIGTERM", test_prefork_sigterm);
	CU_add_test(s, "children are replaced; SIGTERM during a restart stops all",
	    test_prefork_restart_then_sigterm);
	CU_add_test(s, "a bad config is refused naming file and line", test_bad_config_refused);
	CU_add_test(s, "a world-readable config with secrets is refused", test_world_readable_config_refused);
	CU_add_test(s, "stdin that is not a socket is a usage error", test_stdin_not_a_socket);
	CU_add_test(s, "a bad --socket-mode or --processes is a usage error",
	    test_bad_option_values);
	return bj_test_run();
}
