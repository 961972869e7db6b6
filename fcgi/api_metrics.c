/*
 * api_metrics.c: GET /metrics in the Prometheus text format.
 *
 * Job, item and notification gauges come from the database. Counters and
 * histograms (requests, refused tokens, the work ended through this
 * instance) live in one shared anonymous mapping that bj_metrics_init()
 * makes before the prefork parent starts its children, so every child
 * counts into the same numbers and any one scrape describes the whole
 * instance. Entries are claimed once with an atomic compare-and-swap and
 * never freed; values only grow, by atomic adds. A process started
 * without --listen (spawn-fcgi, mod_fcgid) has no such parent: its
 * mapping is its own, and the counters are that process's.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "buf.h"
#include "job.h"
#include "router.h"
#include "sql.h"
#include "tally.h"

#define ROUTES	96	/* (route, status class) pairs: the route table times 5 */
#define KINDS	64	/* kinds counted; the ones after that are not */
#define NAMELEN	72

/* Upper bounds of the histogram buckets, in seconds (+Inf is implied). */
static const double http_le[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
    0.5, 1, 2.5 };
static const double run_le[] = { 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 14400 };
#define NLE	11

struct hist {
	unsigned long long	 bucket[NLE];	/* observations <= the bound (not cumulative) */
	unsigned long long	 count;
	unsigned long long	 sum_us;	/* microseconds: an integer adds atomically */
};

/* A named entry: state 0 free, 1 being named, 2 ready. */
struct entry {
	int			 state;
	char			 name[NAMELEN];
	int			 cls;		/* status class 1..5 (routes) */
};

struct route_entry {
	struct entry		 e;
	struct hist		 h;
};

struct kind_entry {
	struct entry		 e;
	unsigned long long	 items[BJ_TALLY_NRESULTS];
	unsigned long long	 jobs[BJ_JOB_NSTATES];
	struct hist		 run;		/* claim to success */
};

struct shared {
	struct route_entry	 routes[ROUTES];
	struct kind_entry	 kinds[KINDS];
	unsigned long long	 auth_failures[2];
};

static struct shared private_counts;	/* until bj_metrics_init(), and in the tests */
static struct shared *sh = &private_counts;

static const char *const auth_failure_names[2] = { "missing", "invalid" };
static const char *const result_names[BJ_TALLY_NRESULTS] = { "succeeded", "failed",
    "retried" };

void
bj_metrics_init(void)
{
	void *p = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);

	if (p != MAP_FAILED)
		sh = p;		/* zeroed by the kernel; kept until the process ends */
}

static void
add(unsigned long long *v, unsigned long long n)
{
	__atomic_fetch_add(v, n, __ATOMIC_RELAXED);
}

/*
 * The entry of base[0..n) (each size bytes apart) named name (and class
 * cls), claiming a free one for it; NULL when all are taken. A process
 * that finds an entry being named waits for the name: a few stores.
 */
static struct entry *
find(void *base, size_t size, int n, const char *name, int cls)
{
	for (int i = 0; i < n; i++) {
		struct entry *e = (struct entry *)((char *)base + (size_t)i * size);
		int st = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE), zero = 0;

		if (st == 0 && __atomic_compare_exchange_n(&e->state, &zero, 1, 0,
		    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			snprintf(e->name, sizeof e->name, "%s", name);
			e->cls = cls;
			__atomic_store_n(&e->state, 2, __ATOMIC_RELEASE);
			return e;
		}
		for (int spin = 0; spin < 100000 &&
		    (st = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE)) == 1; spin++)
			;
		if (st == 2 && e->cls == cls && strncmp(e->name, name, NAMELEN - 1) == 0)
			return e;
	}
	return NULL;
}

/* Count one observation of seconds into h, whose bucket bounds are le. */
static void
observe(struct hist *h, const double *le, double seconds)
{
	if (seconds < 0)
		seconds = 0;
	for (int i = 0; i < NLE; i++)
		if (seconds <= le[i]) {
			add(&h->bucket[i], 1);
			break;
		}
	add(&h->count, 1);
	add(&h->sum_us, (unsigned long long)(seconds * 1e6 + 0.5));
}

void
bj_metrics_auth_failure(enum bj_auth_failure why)
{
	add(&sh->auth_failures[why], 1);
}

void
bj_metrics_observe(const char *route, int status, double seconds)
{
	struct route_entry *r;
	int cls = status / 100;

	if (cls < 1 || cls > 5)
		cls = 5;
	r = (struct route_entry *)find(sh->routes, sizeof *sh->routes, ROUTES,
	    route ? route : "unmatched", cls);
	if (r != NULL)
		observe(&r->h, http_le, seconds);
}

void
bj_metrics_tally(const struct bj_tally *t)
{
	struct kind_entry *k = (struct kind_entry *)find(sh->kinds, sizeof *sh->kinds, KINDS,
	    t->kind, 0);

	if (k == NULL)
		return;
	if (t->job) {
		add(&k->jobs[t->outcome], 1);
		return;
	}
	add(&k->items[t->result], 1);
	if (t->result == BJ_TALLY_SUCCEEDED && t->seconds >= 0)
		observe(&k->run, run_le, t->seconds);
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

/* Append name as a label value: backslash, quote and newline escaped. */
static void
label(struct bj_buf *b, const char *name)
{
	for (const char *p = name; *p; p++) {
		if (*p == '\\' || *p == '"')
			bj_buf_addc(b, '\\');
		if (*p == '\n')
			bj_buf_adds(b, "\\n");
		else
			bj_buf_addc(b, *p);
	}
}

/* The series of histogram h of family name with labels (already escaped, no braces). */
static void
histogram(struct bj_buf *b, const char *name, const char *labels, const struct hist *h,
    const double *le)
{
	unsigned long long cum = 0;

	for (int i = 0; i < NLE; i++) {
		cum += __atomic_load_n(&h->bucket[i], __ATOMIC_RELAXED);
		bj_buf_printf(b, "%s_bucket{%s,le=\"%g\"} %llu\n", name, labels, le[i], cum);
	}
	/* count is read after the buckets: +Inf is never below the last bound */
	cum = __atomic_load_n(&h->count, __ATOMIC_RELAXED) > cum ?
	    __atomic_load_n(&h->count, __ATOMIC_RELAXED) : cum;
	bj_buf_printf(b, "%s_bucket{%s,le=\"+Inf\"} %llu\n%s_sum{%s} %.6f\n"
	    "%s_count{%s} %llu\n", name, labels, cum, name, labels,
	    (double)__atomic_load_n(&h->sum_us, __ATOMIC_RELAXED) / 1e6, name, labels, cum);
}

/* Whether entry e has been named. */
static int
ready(const struct entry *e)
{
	return __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) == 2;
}

/* The request histogram and the refused tokens. */
static void
http_metrics(struct bj_buf *b)
{
	struct bj_buf l = { 0 };

	bj_buf_printf(b, "# HELP bulkjobs_http_request_duration_seconds Time from a request's"
	    " arrival at bulkjobs-fcgi to its answer, by route and status class.\n"
	    "# TYPE bulkjobs_http_request_duration_seconds histogram\n");
	for (int i = 0; i < ROUTES; i++) {
		const struct route_entry *r = &sh->routes[i];

		if (!ready(&r->e))
			continue;
		l.len = 0;
		bj_buf_adds(&l, "route=\"");
		label(&l, r->e.name);
		bj_buf_printf(&l, "\",status_class=\"%dxx\"", r->e.cls);
		histogram(b, "bulkjobs_http_request_duration_seconds", l.data, &r->h, http_le);
	}
	bj_buf_free(&l);
	bj_buf_printf(b, "# HELP bulkjobs_auth_failures_total API requests refused 401 for"
	    " their token: none sent (missing) or not a live token (invalid).\n"
	    "# TYPE bulkjobs_auth_failures_total counter\n");
	for (int i = 0; i < 2; i++)
		bj_buf_printf(b, "bulkjobs_auth_failures_total{reason=\"%s\"} %llu\n",
		    auth_failure_names[i],
		    __atomic_load_n(&sh->auth_failures[i], __ATOMIC_RELAXED));
}

/* Items and jobs ended through this instance, and the items' run time, per kind. */
static void
work_metrics(struct bj_buf *b)
{
	struct bj_buf l = { 0 };

	bj_buf_printf(b, "# HELP bulkjobs_items_ended_total Attempts ended through the API,"
	    " by kind and result: succeeded, failed (for good) or retried (failed, another"
	    " attempt to come). The reaper counts the claims it ends in its own file.\n"
	    "# TYPE bulkjobs_items_ended_total counter\n");
	for (int i = 0; i < KINDS; i++)
		for (int res = 0; ready(&sh->kinds[i].e) && res < BJ_TALLY_NRESULTS; res++) {
			bj_buf_adds(b, "bulkjobs_items_ended_total{kind=\"");
			label(b, sh->kinds[i].e.name);
			bj_buf_printf(b, "\",result=\"%s\"} %llu\n", result_names[res],
			    __atomic_load_n(&sh->kinds[i].items[res], __ATOMIC_RELAXED));
		}
	bj_buf_printf(b, "# HELP bulkjobs_jobs_ended_total Jobs ended through the API and the"
	    " pages (their last item, a failure, a cancel), by kind and outcome.\n"
	    "# TYPE bulkjobs_jobs_ended_total counter\n");
	for (int i = 0; i < KINDS; i++)
		for (int s = BJ_JOB_SUCCEEDED; ready(&sh->kinds[i].e) && s < BJ_JOB_NSTATES; s++) {
			bj_buf_adds(b, "bulkjobs_jobs_ended_total{kind=\"");
			label(b, sh->kinds[i].e.name);
			bj_buf_printf(b, "\",outcome=\"%s\"} %llu\n",
			    bj_job_state_name((enum bj_job_state)s),
			    __atomic_load_n(&sh->kinds[i].jobs[s], __ATOMIC_RELAXED));
		}
	bj_buf_printf(b, "# HELP bulkjobs_item_run_seconds Time from an item's claim to its"
	    " success, by kind.\n# TYPE bulkjobs_item_run_seconds histogram\n");
	for (int i = 0; i < KINDS; i++) {
		if (!ready(&sh->kinds[i].e))
			continue;
		l.len = 0;
		bj_buf_adds(&l, "kind=\"");
		label(&l, sh->kinds[i].e.name);
		bj_buf_addc(&l, '"');
		histogram(b, "bulkjobs_item_run_seconds", l.data, &sh->kinds[i].run, run_le);
	}
	bj_buf_free(&l);
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
	work_metrics(&b);
	http_metrics(&b);
	bj_reply_header(req, "Cache-Control", "no-store");
	bj_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
out:
	bj_buf_free(&b);
	bj_rows_free(jobs);
	bj_rows_free(items);
	bj_rows_free(oldest);
	bj_rows_free(notes);
}
