/*
 * metrics.c: the [reaper] metrics_textfile for node_exporter's textfile
 * collector, written whole to a temporary file and renamed over the old
 * one so that a scrape never reads half of it.
 *
 * The reaper runs from cron and forgets everything between runs, so its
 * counters are carried in the file itself: each run reads the _total
 * series of the file it replaces and adds its own changes. A file lost or
 * unreadable starts the counters again from zero, which Prometheus'
 * rate() and increase() take as a counter reset.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "reaper.h"

/* One counter series of the file: its name with labels, and what the run adds. */
struct series {
	const char	*name;
	long long	 add;
	long long	 was;		/* from the previous file */
};

/* Read the previous file's values of the series in s (those absent stay 0). */
static void
read_previous(const char *path, struct series *s, int n)
{
	FILE *f = fopen(path, "r");
	char line[512];

	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		char *sp = strrchr(line, ' ');

		if (line[0] == '#' || sp == NULL)
			continue;
		*sp = '\0';
		for (int i = 0; i < n; i++)
			if (strcmp(line, s[i].name) == 0)
				s[i].was = strtoll(sp + 1, NULL, 10);
	}
	fclose(f);
}

/* Write family (its HELP text help) with the series of s whose names start with it. */
static void
counter(FILE *f, const char *family, const char *help, const struct series *s, int n)
{
	size_t len = strlen(family);

	fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", family, help, family);
	for (int i = 0; i < n; i++)
		if (strncmp(s[i].name, family, len) == 0 &&
		    (s[i].name[len] == '{' || s[i].name[len] == '\0'))
			fprintf(f, "%s %lld\n", s[i].name, s[i].was + s[i].add);
}

/* The run's counters, gauges and the previous file's totals, written to f. */
static void
write_body(FILE *f, const struct bj_reaper *r, const char *path, double seconds, int ok)
{
	const struct bj_reaper_stats *st = &r->st;
	struct series s[] = {
		{ "bulkjobs_reaper_runs_total{result=\"ok\"}", ok != 0, 0 },
		{ "bulkjobs_reaper_runs_total{result=\"error\"}", ok == 0, 0 },
		{ "bulkjobs_reaper_items_total{result=\"requeued\"}", st->requeued, 0 },
		{ "bulkjobs_reaper_items_total{result=\"failed\"}", st->items_failed, 0 },
		{ "bulkjobs_reaper_jobs_ended_total{outcome=\"finished\"}", st->finished, 0 },
		{ "bulkjobs_reaper_jobs_ended_total{outcome=\"expired\"}", st->expired, 0 },
		{ "bulkjobs_reaper_purged_total{what=\"artifacts\"}", st->artifacts, 0 },
		{ "bulkjobs_reaper_purged_total{what=\"rows\"}", st->rows, 0 },
		{ "bulkjobs_reaper_repairs_total", st->repairs, 0 },
		{ "bulkjobs_reaper_notifications_total", st->notifications, 0 },
	};
	int n = (int)(sizeof s / sizeof s[0]);

	read_previous(path, s, n);
	counter(f, "bulkjobs_reaper_runs_total", "Reaper runs, by whether they had an error.",
	    s, n);
	counter(f, "bulkjobs_reaper_items_total", "Claims whose lease ran out: requeued for"
	    " another attempt, or failed (out of attempts).", s, n);
	counter(f, "bulkjobs_reaper_jobs_ended_total", "Jobs the reaper ended: finished"
	    " (succeeded or failed) or expired (past their deadline).", s, n);
	counter(f, "bulkjobs_reaper_purged_total", "Garbage collected: artifact files deleted"
	    " and rows purged after their retention.", s, n);
	counter(f, "bulkjobs_reaper_repairs_total", "Inconsistencies repaired.", s, n);
	counter(f, "bulkjobs_reaper_notifications_total", "Notifications recorded.", s, n);
	fprintf(f,
	    "# HELP bulkjobs_reaper_last_run_timestamp_seconds When the last reaper run ended.\n"
	    "# TYPE bulkjobs_reaper_last_run_timestamp_seconds gauge\n"
	    "bulkjobs_reaper_last_run_timestamp_seconds %lld\n"
	    "# HELP bulkjobs_reaper_last_run_duration_seconds How long the last run took.\n"
	    "# TYPE bulkjobs_reaper_last_run_duration_seconds gauge\n"
	    "bulkjobs_reaper_last_run_duration_seconds %.6f\n"
	    "# HELP bulkjobs_reaper_last_run_success 1 when the last run had no error.\n"
	    "# TYPE bulkjobs_reaper_last_run_success gauge\n"
	    "bulkjobs_reaper_last_run_success %d\n",
	    (long long)time(NULL), seconds, ok ? 1 : 0);
}

/* Write Prometheus text for node_exporter's textfile collector: temp file, then rename. */
int
bj_reaper_write_metrics(const struct bj_reaper *r, const char *path, double seconds, int ok)
{
	char *tmp = bj_xasprintf("%s.%d.tmp", path, (int)getpid());
	FILE *f;
	int rc = -1;

	if ((f = fopen(tmp, "w")) == NULL) {
		bj_log_err("metrics file %s: %s", tmp, strerror(errno));
		goto out;
	}
	write_body(f, r, path, seconds, ok);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		bj_log_err("metrics file %s: %s", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		goto out;
	}
	fclose(f);
	chmod(tmp, 0644);
	if (rename(tmp, path) == -1) {
		bj_log_err("metrics file %s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	return rc;
}
