/*
 * metrics.c: the [reaper] metrics_textfile for node_exporter's textfile
 * collector, written whole to a temporary file and renamed over the old
 * one so that a scrape never reads half of it.
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

/* Write Prometheus text for node_exporter's textfile collector: temp file, then rename. */
int
bj_reaper_write_metrics(const struct bj_reaper *r, const char *path, double seconds, int ok)
{
	char *tmp = bj_xasprintf("%s.%d.tmp", path, (int)getpid());
	FILE *f;
	int rc = -1;
	const struct bj_reaper_stats *s = &r->st;

	if ((f = fopen(tmp, "w")) == NULL) {
		bj_log_err("metrics file %s: %s", tmp, strerror(errno));
		goto out;
	}
	fprintf(f,
	    "# HELP bulkjobs_reaper_last_run_timestamp_seconds When the last reaper run ended.\n"
	    "# TYPE bulkjobs_reaper_last_run_timestamp_seconds gauge\n"
	    "bulkjobs_reaper_last_run_timestamp_seconds %lld\n"
	    "# HELP bulkjobs_reaper_last_run_duration_seconds How long the last run took.\n"
	    "# TYPE bulkjobs_reaper_last_run_duration_seconds gauge\n"
	    "bulkjobs_reaper_last_run_duration_seconds %.6f\n"
	    "# HELP bulkjobs_reaper_last_run_success 1 when the last run had no error.\n"
	    "# TYPE bulkjobs_reaper_last_run_success gauge\n"
	    "bulkjobs_reaper_last_run_success %d\n"
	    "# HELP bulkjobs_reaper_last_run_changes What the last run changed, by kind.\n"
	    "# TYPE bulkjobs_reaper_last_run_changes gauge\n"
	    "bulkjobs_reaper_last_run_changes{kind=\"requeued\"} %lld\n"
	    "bulkjobs_reaper_last_run_changes{kind=\"items_failed\"} %lld\n"
	    "bulkjobs_reaper_last_run_changes{kind=\"jobs_finished\"} %lld\n"
	    "bulkjobs_reaper_last_run_changes{kind=\"jobs_expired\"} %lld\n"
	    "bulkjobs_reaper_last_run_changes{kind=\"artifacts_purged\"} %lld\n"
	    "bulkjobs_reaper_last_run_changes{kind=\"rows_purged\"} %lld\n"
	    "bulkjobs_reaper_last_run_changes{kind=\"repairs\"} %lld\n"
	    "bulkjobs_reaper_last_run_changes{kind=\"notifications\"} %lld\n",
	    (long long)time(NULL), seconds, ok ? 1 : 0,
	    s->requeued, s->items_failed, s->finished, s->expired, s->artifacts, s->rows,
	    s->repairs, s->notifications);
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
