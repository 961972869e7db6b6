/*
 * main.c: bulkjobs-reaper [-c FILE] [-v] [-n|--dry-run], run by cron every
 * minute. Silent on success; errors go to stderr and syslog with exit 1.
 * Takes the lock, runs the steps of reaper.h, releases the lock, then runs
 * the notifier under a time limit so that a slow webhook never holds it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <mysql.h>

#include "buf.h"
#include "clock.h"
#include "log.h"
#include "reaper.h"
#include "sql.h"

static volatile sig_atomic_t got_term;

/* SIGTERM/SIGINT: finish the batch at hand, then stop. */
static void
on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: bulkjobs-reaper [-c FILE] [-v] [-n|--dry-run]\n");
}

/* SIGTERM the notifier's process group, SIGKILL it after 5 s, and reap it. */
static void
stop_child(pid_t pid, int *status)
{
	kill(-pid, SIGTERM);
	for (int i = 0; i < 50 && waitpid(pid, status, WNOHANG) == 0; i++)
		usleep(100000);
	kill(-pid, SIGKILL);
	waitpid(pid, status, 0);
}

/*
 * Run the notifier with -c conf_path in its own process group, stopping it
 * after timeout seconds or when we are told to stop; 0 or -1.
 */
static int
run_notifier(const struct bj_conf *conf, const char *conf_path)
{
	pid_t pid;
	int status = 0;
	double end;

	if (conf->notifier == NULL || *conf->notifier == '\0')
		return 0;
	if ((pid = fork()) == -1) {
		bj_log_err("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		char *argv[] = { conf->notifier, "-c", (char *)conf_path, NULL };

		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		setpgid(0, 0);
		execv(conf->notifier, argv);
		fprintf(stderr, "bulkjobs-reaper: cannot run %s: %s\n", conf->notifier,
		    strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);	/* as the child does: whichever runs first */
	end = bj_now() + conf->notifier_timeout;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w == -1 && errno != EINTR) {
			bj_log_err("waitpid: %s", strerror(errno));
			return -1;
		}
		if (got_term || bj_now() >= end) {
			if (got_term)
				bj_log_info("stopping the notifier after a signal");
			else
				bj_log_err("notifier %s still running after %d s; stopped it"
				    " (it resumes next run)", conf->notifier, conf->notifier_timeout);
			stop_child(pid, &status);
			return got_term ? 0 : -1;
		}
		usleep(50000);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		bj_log_err("notifier %s failed (%s %d)", conf->notifier,
		    WIFEXITED(status) ? "exit status" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -1;
	}
	return 0;
}

/*
 * One row in reaper_runs: when this run started, how long it took, whether
 * it held the lock ("busy": another reaper did), and what each step did.
 * The operators' console shows the last ones. A row that cannot be
 * written is logged, never a reason to fail the run.
 */
static void
record_run(struct bj_reaper *r, double seconds, const char *outcome)
{
	const struct bj_reaper_stats *st = &r->st;
	char host[256];

	if (r->dry_run)
		return;
	if (gethostname(host, sizeof host) == -1)
		snprintf(host, sizeof host, "unknown");
	host[sizeof host - 1] = '\0';
	if (bj_db_execp(r->db, BJ_SQL_ADMIN_REAPER_RUN, NULL, BJ_PARAMS(
	    BJ_P_INT((long long)(seconds * 1e6)), BJ_P_DOUBLE(seconds), BJ_P_STR(outcome),
	    BJ_P_STR(host), BJ_P_INT(st->requeued), BJ_P_INT(st->items_failed),
	    BJ_P_INT(st->finished), BJ_P_INT(st->expired), BJ_P_INT(st->artifacts),
	    BJ_P_INT(st->rows), BJ_P_INT(st->repairs), BJ_P_INT(st->notifications))) == -1)
		bj_log_err("cannot record the run: %s", bj_db_error(r->db));
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = NULL;
	struct bj_conf conf;
	struct bj_reaper r;
	struct sigaction sa;
	char *cause = NULL;
	int ch, verbose = 0, dry_run = 0, rc = EX_UNAVAILABLE, locked = 0;
	double t0 = bj_now();

	while ((ch = getopt_long(argc, argv, "c:vnhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': conf_path = optarg; break;
		case 'v': verbose++; break;
		case 'n': dry_run = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': puts(PACKAGE_STRING); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	bj_log_open("bulkjobs-reaper", 1, 1);
	/* the dry run's "would ..." lines are its output */
	bj_log_set_verbose(dry_run || verbose > 1);	/* -vv: every step's info lines too */

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	bj_conf_defaults(&conf);
	conf_path = bj_conf_locate(conf_path);
	if (bj_conf_load(&conf, conf_path, &cause) == -1) {
		bj_log_err("%s", cause);
		free(cause);
		bj_conf_free(&conf);
		return EX_CONFIG;
	}
	if (mysql_library_init(0, NULL, NULL) != 0)
		bj_fatal("cannot initialise the MariaDB client library");
	memset(&r, 0, sizeof r);
	r.conf = &conf;
	r.dry_run = dry_run;
	r.batch = conf.reaper_batch;
	r.cancel_left = conf.cancel_seconds;
	r.stop = &got_term;
	r.lockdb = bj_db_new(&conf);
	r.db = bj_db_new(&conf);
	if (bj_db_connect(r.lockdb) == -1 || bj_db_connect(r.db) == -1) {
		bj_log_err("cannot connect to the database: %s",
		    bj_db_error(bj_db_gone(r.lockdb) ? r.lockdb : r.db));
		goto out;
	}
	rc = EX_TEMPFAIL;	/* from here on, the next run tries again */
	switch (bj_reaper_lock(&r)) {
	case -1:
		goto out;
	case 0:
		/* another reaper is at work: nothing to say */
		record_run(&r, bj_now() - t0, "busy");
		rc = EX_OK;
		goto out;
	}
	locked = 1;
	rc = bj_reaper_sweep(&r) == -1 ? EX_TEMPFAIL : EX_OK;
	if (r.halted && !got_term)
		rc = EX_TEMPFAIL;	/* the lock was lost mid-run */
	bj_reaper_unlock(&r);
	locked = 0;
	record_run(&r, bj_now() - t0, rc == EX_OK ? "done" : "failed");
	/* after the unlock: a slow webhook must not hold the lock */
	if (!dry_run && !got_term && run_notifier(&conf, conf_path) == -1)
		rc = EX_TEMPFAIL;
	if (conf.metrics_textfile != NULL && *conf.metrics_textfile && !dry_run &&
	    bj_reaper_write_metrics(&r, conf.metrics_textfile, bj_now() - t0, rc == 0) == -1)
		rc = EX_CANTCREAT;
	if (verbose || dry_run)
		printf("%sorphans requeued %lld, failed %lld; jobs finished %lld, expired %lld;"
		    " artifacts purged %lld; rows purged %lld; repairs %lld; notifications %lld;"
		    " %.3f s\n", dry_run ? "dry run, would change: " : "",
		    r.st.requeued, r.st.items_failed, r.st.finished, r.st.expired,
		    r.st.artifacts, r.st.rows, r.st.repairs, r.st.notifications,
		    bj_now() - t0);
out:
	if (locked)
		bj_reaper_unlock(&r);
	bj_db_free(r.db);
	bj_db_free(r.lockdb);
	bj_conf_free(&conf);
	mysql_library_end();
	return rc;
}
