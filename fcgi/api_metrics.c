/*
 * api_metrics.c: GET /metrics in the Prometheus text format. Job, item
 * and notification gauges come from the database; request counts and
 * durations are kept per process (each FastCGI process answers for
 * itself, which the HELP text says).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "job.h"
#include "router.h"
#include "sql.h"

#define SLOTS 64

struct slot {
	const char	*route;		/* a pattern from the route table (static) */
	int		 status;
	unsigned long long count;
	double		 seconds;
};

static struct slot slots[SLOTS];

/* Requests refused for their API token, by reason (enum bj_auth_failure). */
static unsigned long long auth_failures[2];
static const char *const auth_failure_names[2] = { "missing", "invalid" };

void
bj_metrics_auth_failure(enum bj_auth_failure why)
{
	auth_failures[why]++;
}

void
bj_metrics_observe(const char *route, int status, double seconds)
{
	if (route == NULL)
		route = "unmatched";
	for (int i = 0; i < SLOTS; i++) {
		if (slots[i].route == NULL) {
			slots[i].route = route;
			slots[i].status = status;
		}
		if (slots[i].status == status && strcmp(slots[i].route, route) == 0) {
			slots[i].count++;
			slots[i].seconds += seconds;
			return;
		}
	}
}

/* Two-column (state, count) rows as one gauge family with every state present. */
static void
by_state(struct bj_buf *b, struct bj_rows *r, const char *name, const char *help,
    const char *const *states, int nstates)
{
	bj_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
	for (int s = 0; s < nstates; s++) {
		long long v = 0;
		for (int i = 0; r != NULL && i < r->nrows; i++)
			if (strcmp(bj_rows_get(r, i, 0), states[s]) == 0)
				v = bj_rows_int(r, i, 1);
		bj_buf_printf(b, "%s{state=\"%s\"} %lld\n", name, states[s], v);
	}
}

void
bj_api_metrics(struct bj_req *req)
{
	static const char *const jstates[] = { "queued", "running", "paused", "succeeded",
	    "failed", "cancelled", "expired" };
	static const char *const istates[] = { "pending", "claimed", "succeeded", "failed",
	    "cancelled" };
	static const char *const nstates[] = { "pending", "sent", "dead" };
	struct bj_db *db = req->app->db;
	struct bj_rows *jobs = NULL, *items = NULL, *oldest = NULL, *notes = NULL;
	struct bj_buf b = { 0 };

	if ((jobs = bj_db_queryp(db, BJ_SQL_METRICS_JOBS, NULL, 0)) == NULL ||
	    (items = bj_db_queryp(db, BJ_SQL_METRICS_ITEMS, NULL, 0)) == NULL ||
	    (oldest = bj_db_queryp(db, BJ_SQL_METRICS_OLDEST, NULL, 0)) == NULL ||
	    (notes = bj_db_queryp(db, BJ_SQL_METRICS_NOTIFY, NULL, 0)) == NULL) {
		bj_reply_error(req, bj_job_db_error(db), "the database is not available");
		goto out;
	}
	by_state(&b, jobs, "bulkjobs_jobs", "Jobs by state.", jstates, 7);
	bj_buf_printf(&b, "# HELP bulkjobs_items Items by state (from the jobs' counters).\n"
	    "# TYPE bulkjobs_items gauge\n");
	for (int s = 0; s < 5; s++)
		bj_buf_printf(&b, "bulkjobs_items{state=\"%s\"} %lld\n", istates[s],
		    bj_rows_int(items, 0, s));
	bj_buf_printf(&b, "# HELP bulkjobs_oldest_claimable_item_age_seconds How long the"
	    " oldest claimable item has been due.\n"
	    "# TYPE bulkjobs_oldest_claimable_item_age_seconds gauge\n"
	    "bulkjobs_oldest_claimable_item_age_seconds %s\n",
	    bj_rows_get(oldest, 0, 0) ? bj_rows_get(oldest, 0, 0) : "0");
	by_state(&b, notes, "bulkjobs_notifications", "Notifications by state.", nstates, 3);
	bj_buf_printf(&b, "# HELP bulkjobs_http_requests_total Requests answered by this"
	    " FastCGI process (per process: sum over processes).\n"
	    "# TYPE bulkjobs_http_requests_total counter\n");
	for (int i = 0; i < SLOTS && slots[i].route; i++)
		bj_buf_printf(&b, "bulkjobs_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
		    slots[i].route, slots[i].status, slots[i].count);
	bj_buf_printf(&b, "# HELP bulkjobs_http_request_duration_seconds_sum Time spent"
	    " answering, by this FastCGI process (per process).\n"
	    "# TYPE bulkjobs_http_request_duration_seconds_sum counter\n");
	for (int i = 0; i < SLOTS && slots[i].route; i++)
		bj_buf_printf(&b, "bulkjobs_http_request_duration_seconds_sum{route=\"%s\","
		    "status=\"%d\"} %.6f\n", slots[i].route, slots[i].status, slots[i].seconds);
	bj_buf_printf(&b, "# HELP bulkjobs_auth_failures_total API requests refused 401 for"
	    " their token: none sent (missing) or not a live token (invalid), by this FastCGI"
	    " process (per process).\n# TYPE bulkjobs_auth_failures_total counter\n");
	for (int i = 0; i < 2; i++)
		bj_buf_printf(&b, "bulkjobs_auth_failures_total{reason=\"%s\"} %llu\n",
		    auth_failure_names[i], auth_failures[i]);
	bj_reply_header(req, "Cache-Control", "no-store");
	bj_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
out:
	bj_buf_free(&b);
	bj_rows_free(jobs);
	bj_rows_free(items);
	bj_rows_free(oldest);
	bj_rows_free(notes);
}
