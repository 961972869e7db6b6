/*
 * page_admin.c: the operators' console under /admin, for the REMOTE_USERs
 * of [http] admins (everyone else gets 403): the overview, every owner's
 * jobs, the workers, the failures and the notifications, and the one
 * action of its own, "deliver again" (POST, CSRF, 303 back). A job opens
 * on its status page, where an admin has the owner's buttons.
 *
 * What the overview reads is bounded by the work going on, not by the
 * history kept (sql_admin.c, design.md §12).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "csrf.h"
#include "log.h"
#include "pages.h"
#include "render_notify.h"
#include "sql.h"

#define JOBS_PAGE	50
#define REAPER_RUNS	5
#define FAILURE_GROUPS	20
#define FAILURES	50
#define NOTES		100
#define MINUTES		60
#define CHART_W		600	/* the chart's user units: 10 a minute */
#define CHART_H		120

/* 1 when the signed-in user is an admin; else the 401 or 403 page has been sent. */
static int
admin_allowed(struct bj_req *req)
{
	bj_page_lang(req, NULL);
	if (!bj_page_signed_in(req))
		return 0;
	if (bj_conf_admin(req->app->conf, bj_page_user(req)))
		return 1;
	bj_page_error(req, 403, _("Refused"),
	    _("The operators' console is for the people listed in [http] admins."));
	return 0;
}

/* A console page: the navigation between its parts, then its title. */
static struct bj_html *
admin_page(struct bj_req *req, const char *title, struct bj_html_el **body)
{
	static const struct {
		const char	*path;
		const char	*label;
	} parts[] = {
		{ "", N_("Overview") },
		{ "/jobs", N_("Jobs") },
		{ "/workers", N_("Workers") },
		{ "/failures", N_("Failures") },
		{ "/notifications", N_("Notifications") },
	};
	struct bj_html *h = bj_page_new(title);
	struct bj_html_el *nav;

	*body = bj_html_body(h);
	nav = bj_html_add(*body, "nav", NULL);
	bj_html_attr(nav, "class", "admin");
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		char *url = bj_xasprintf("%s/admin%s", req->app->conf->base_path, parts[i].path);

		bj_html_link(nav, url, _(parts[i].label));
		free(url);
	}
	bj_html_add(*body, "h1", title);
	return h;
}

/* A table with a head row of n labels; returns its body. */
static struct bj_html_el *
add_table(struct bj_html_el *parent, const char *const *labels, int n)
{
	struct bj_html_el *t = bj_html_add(parent, "table", NULL), *tr;

	tr = bj_html_add(bj_html_add(t, "thead", NULL), "tr", NULL);
	for (int i = 0; i < n; i++)
		bj_html_add(tr, "th", labels[i]);
	return bj_html_add(t, "tbody", NULL);
}

/* "3 minutes ago" for a seconds-ago cell, or text when it is NULL. */
static void
add_ago(struct bj_html_el *tr, const struct bj_rows *r, int row, int col, const char *none)
{
	char rel[64];

	if (bj_rows_get(r, row, col) == NULL) {
		bj_html_add(tr, "td", none);
		return;
	}
	bj_page_relative(bj_rows_int(r, row, col), rel, sizeof rel);
	bj_html_add(tr, "td", rel);
}

/* A job's state as the status pages show it, from its name. */
static void
add_state(struct bj_html_el *tr, const char *name)
{
	int s = bj_job_state_parse(name);
	struct bj_html_el *span;
	char cls[40];

	span = bj_html_add(bj_html_add(tr, "td", NULL), "span",
	    s < 0 ? name : bj_page_state_words((enum bj_job_state)s));
	snprintf(cls, sizeof cls, "state state-%s", name);
	bj_html_attr(span, "class", cls);
}

/* A link to a job's status page, "title #id". */
static void
add_job_link(struct bj_req *req, struct bj_html_el *td, const char *token, const char *title,
    long long id)
{
	char *url = bj_xasprintf("%s/jobs/%s", req->app->conf->base_path, token);
	struct bj_html_el *s;

	bj_html_link(td, url, title != NULL && *title ? title : _("Untitled job"));
	s = bj_html_addf(td, "span", " #%lld", id);
	bj_html_attr(s, "class", "muted");
	free(url);
}

/* The jobs by state and kind of one part of BJ_SQL_ADMIN_JOB_COUNTS. */
static void
add_job_counts(struct bj_html_el *body, const struct bj_rows *r, int part, const char *heading,
    const char *none)
{
	const char *cols[] = { _("State"), _("Kind"), _("Jobs") };
	struct bj_html_el *t = NULL, *tr;

	bj_html_add(body, "h2", heading);
	for (int i = 0; i < r->nrows; i++) {
		if (bj_rows_int(r, i, 0) != part)
			continue;
		if (t == NULL)
			t = add_table(body, cols, 3);
		tr = bj_html_add(t, "tr", NULL);
		add_state(tr, bj_rows_get(r, i, 1));
		bj_html_add(tr, "td", bj_rows_get(r, i, 2));
		bj_html_add(tr, "td", bj_rows_get(r, i, 3));
	}
	if (t == NULL)
		bj_html_add(body, "p", none);
}

/*
 * Completions per minute over the last hour as an inline SVG bar chart,
 * oldest minute on the left, with the numbers in words for those who do
 * not see it.
 */
static void
add_chart(struct bj_html_el *body, const struct bj_rows *r)
{
	long long per[MINUTES] = { 0 }, max = 0, total = 0;
	struct bj_html_el *svg, *el;
	char v[32];

	for (int i = 0; i < r->nrows; i++) {
		long long m = bj_rows_int(r, i, 0);

		if (m >= 0 && m < MINUTES)
			per[m] += bj_rows_int(r, i, 1);
	}
	for (int m = 0; m < MINUTES; m++) {
		total += per[m];
		if (per[m] > max)
			max = per[m];
	}
	bj_html_add(body, "h2", _("Completions per minute, last hour"));
	bj_html_addf(body, "p", ngettext("%lld item completed in the last hour, at most %lld "
	    "in a minute.", "%lld items completed in the last hour, at most %lld in a minute.",
	    (unsigned long)total), total, max);
	svg = bj_html_add(body, "svg", NULL);
	bj_html_attr(svg, "xmlns", "http://www.w3.org/2000/svg");
	snprintf(v, sizeof v, "0 0 %d %d", CHART_W, CHART_H + 16);
	bj_html_attr(svg, "viewBox", v);
	bj_html_attr(svg, "class", "chart");
	bj_html_attr(svg, "role", "img");
	bj_html_attr(svg, "aria-label", _("Completions per minute, last hour"));
	el = bj_html_add(svg, "line", NULL);
	bj_html_attr(el, "x1", "0");
	bj_html_attr(el, "x2", "600");
	snprintf(v, sizeof v, "%d", CHART_H);
	bj_html_attr(el, "y1", v);
	bj_html_attr(el, "y2", v);
	bj_html_attr(el, "stroke", "#888");
	for (int m = 0; m < MINUTES && max > 0; m++) {
		long long hgt = per[m] * CHART_H / max;

		if (per[m] == 0)
			continue;
		el = bj_html_add(svg, "rect", NULL);
		snprintf(v, sizeof v, "%d", (MINUTES - 1 - m) * (CHART_W / MINUTES) + 1);
		bj_html_attr(el, "x", v);
		snprintf(v, sizeof v, "%lld", CHART_H - (hgt > 0 ? hgt : 1));
		bj_html_attr(el, "y", v);
		snprintf(v, sizeof v, "%d", CHART_W / MINUTES - 2);
		bj_html_attr(el, "width", v);
		snprintf(v, sizeof v, "%lld", hgt > 0 ? hgt : 1);
		bj_html_attr(el, "height", v);
		bj_html_attr(el, "fill", "#1565c0");
		bj_html_addf(el, "title", ngettext("%d minute ago: %lld", "%d minutes ago: %lld",
		    (unsigned long)m), m, per[m]);
	}
	el = bj_html_add(svg, "text", _("an hour ago"));
	bj_html_attr(el, "x", "0");
	snprintf(v, sizeof v, "%d", CHART_H + 14);
	bj_html_attr(el, "y", v);
	bj_html_attr(el, "font-size", "12");
	el = bj_html_add(svg, "text", _("now"));
	bj_html_attr(el, "x", "600");
	bj_html_attr(el, "y", v);
	bj_html_attr(el, "font-size", "12");
	bj_html_attr(el, "text-anchor", "end");
}

/* What one reaper run did, in words. */
static char *
run_words(const struct bj_rows *r, int i)
{
	return bj_xasprintf(_("requeued %s, failed %s, finished %s, expired %s, artifacts %s, "
	    "rows purged %s, repairs %s, notifications %s"), bj_rows_get(r, i, 5),
	    bj_rows_get(r, i, 6), bj_rows_get(r, i, 7), bj_rows_get(r, i, 8),
	    bj_rows_get(r, i, 9), bj_rows_get(r, i, 10), bj_rows_get(r, i, 11),
	    bj_rows_get(r, i, 12));
}

/* The reaper's health: whether it holds the lock now, and its last runs. */
static void
add_reaper(struct bj_html_el *body, const struct bj_rows *runs, int held)
{
	const char *cols[] = { _("Started"), _("Took"), _("Outcome"), _("What it did"), _("Host") };
	struct bj_html_el *t, *tr;

	bj_html_add(body, "h2", _("Reaper"));
	bj_html_add(body, "p", held ? _("A reaper holds the lock now.") :
	    _("No reaper holds the lock now."));
	if (runs->nrows == 0) {
		bj_html_add(body, "p", _("No reaper run has been recorded yet."));
		return;
	}
	if (runs->nrows > 0 && bj_rows_int(runs, 0, 1) > 180) {
		struct bj_html_el *p = bj_html_add(body, "p",
		    _("The last run is more than three minutes old: is cron running the reaper?"));
		bj_html_attr(p, "class", "warning");
	}
	t = add_table(body, cols, 5);
	for (int i = 0; i < runs->nrows; i++) {
		const char *o = bj_rows_get(runs, i, 3);
		char *words;

		tr = bj_html_add(t, "tr", NULL);
		add_ago(tr, runs, i, 1, "");
		bj_html_addf(tr, "td", _("%.2f s"), strtod(bj_rows_get(runs, i, 2), NULL));
		bj_html_add(tr, "td", strcmp(o, "done") == 0 ? _("done") :
		    strcmp(o, "busy") == 0 ? _("another reaper held the lock") : _("failed"));
		words = strcmp(o, "busy") == 0 ? bj_xstrdup("") : run_words(runs, i);
		bj_html_add(tr, "td", words);
		free(words);
		bj_html_add(tr, "td", bj_rows_get(runs, i, 4));
	}
}

/* GET /admin */
void
bj_page_admin(struct bj_req *req)
{
	struct bj_db *db = req->app->db;
	const struct bj_conf *c = req->app->conf;
	const char *wcols[] = { _("Kind"), _("Items waiting"), _("Oldest waits") };
	struct bj_rows *jobs = NULL, *wait = NULL, *mins = NULL, *runs = NULL, *lock = NULL,
	    *notes = NULL;
	struct bj_html *h;
	struct bj_html_el *body, *t, *tr, *p;
	long long pending = 0, dead = 0;
	char *url;

	if (!admin_allowed(req))
		return;
	if ((jobs = bj_db_queryp(db, BJ_SQL_ADMIN_JOB_COUNTS, NULL, 0)) == NULL ||
	    (wait = bj_db_queryp(db, BJ_SQL_ADMIN_WAITING, NULL, 0)) == NULL ||
	    (mins = bj_db_queryp(db, BJ_SQL_ADMIN_MINUTES, NULL, 0)) == NULL ||
	    (runs = bj_db_queryp(db, BJ_SQL_ADMIN_REAPER, BJ_PARAMS(BJ_P_INT(REAPER_RUNS)))) == NULL ||
	    (lock = bj_db_queryp(db, BJ_SQL_ADMIN_LOCK, BJ_PARAMS(BJ_P_STR(c->lock_name),
	    BJ_P_STR(c->lock_name)))) == NULL ||
	    (notes = bj_db_queryp(db, BJ_SQL_ADMIN_NOTIFY_COUNTS, NULL, 0)) == NULL) {
		bj_page_unavailable(req);
		goto out;
	}
	h = admin_page(req, _("Operators' console"), &body);
	p = bj_html_add(body, "p", _("Signed in as "));
	bj_html_add(p, "strong", bj_page_user(req));
	add_job_counts(body, jobs, 1, _("Jobs not ended"), _("No job is queued, running or paused."));
	add_job_counts(body, jobs, 2, _("Jobs ended in the last hour"), _("None."));
	bj_html_add(body, "h2", _("Items waiting"));
	if (wait->nrows == 0) {
		bj_html_add(body, "p", _("No item is waiting."));
	} else {
		t = add_table(body, wcols, 3);
		for (int i = 0; i < wait->nrows; i++) {
			tr = bj_html_add(t, "tr", NULL);
			bj_html_add(tr, "td", bj_rows_get(wait, i, 0));
			bj_html_add(tr, "td", bj_rows_get(wait, i, 1));
			add_ago(tr, wait, i, 2, _("none due"));
		}
	}
	add_chart(body, mins);
	add_reaper(body, runs, lock->nrows == 1 && bj_rows_int(lock, 0, 0) == 1);
	for (int i = 0; i < notes->nrows; i++) {
		if (strcmp(bj_rows_get(notes, i, 0), "pending") == 0)
			pending = bj_rows_int(notes, i, 1);
		else
			dead = bj_rows_int(notes, i, 1);
	}
	bj_html_add(body, "h2", _("Notifications"));
	p = bj_html_addf(body, "p", _("%lld pending, %lld dead. "), pending, dead);
	url = bj_xasprintf("%s/admin/notifications", c->base_path);
	bj_html_link(p, url, _("See them"));
	free(url);
	bj_page_reply(req, 200, h);
out:
	bj_rows_free(jobs);
	bj_rows_free(wait);
	bj_rows_free(mins);
	bj_rows_free(runs);
	bj_rows_free(lock);
	bj_rows_free(notes);
}

/*
 * A query parameter in *out: NULL when absent or empty (caller frees).
 * -1 when it is longer than any kind, owner or state can be.
 */
static int
filter(struct bj_req *req, const char *name, char **out)
{
	char *v = bj_form_get(req->query, name);

	*out = NULL;
	if (v != NULL && strlen(v) > 255) {
		free(v);
		return -1;
	}
	if (v != NULL && *v == '\0')
		free(v);
	else
		*out = v;
	return 0;
}

/* A text field of the jobs filter form. */
static void
add_field(struct bj_html_el *form, const char *label, const char *name, const char *value)
{
	struct bj_html_el *l = bj_html_add(form, "label", label), *in;

	in = bj_html_add(l, "input", NULL);
	bj_html_attr(in, "name", name);
	bj_html_attr(in, "value", value != NULL ? value : "");
}

/* The filter form of the jobs page. */
static void
add_filters(struct bj_req *req, struct bj_html_el *body, const char *state, const char *kind,
    const char *owner)
{
	struct bj_html_el *f, *l, *sel, *o, *b;
	char *url = bj_xasprintf("%s/admin/jobs", req->app->conf->base_path);

	f = bj_html_add(body, "form", NULL);
	bj_html_attr(f, "method", "get");
	bj_html_attr(f, "action", url);
	bj_html_attr(f, "class", "filters");
	free(url);
	l = bj_html_add(f, "label", _("State "));
	sel = bj_html_add(l, "select", NULL);
	bj_html_attr(sel, "name", "state");
	o = bj_html_add(sel, "option", _("any"));
	bj_html_attr(o, "value", "");
	for (int s = 0; s < BJ_JOB_NSTATES; s++) {
		const char *name = bj_job_state_name((enum bj_job_state)s);

		o = bj_html_add(sel, "option", bj_page_state_words((enum bj_job_state)s));
		bj_html_attr(o, "value", name);
		if (state != NULL && strcmp(state, name) == 0)
			bj_html_attr(o, "selected", NULL);
	}
	add_field(f, _("Kind "), "kind", kind);
	add_field(f, _("Owner "), "owner", owner);
	b = bj_html_add(f, "button", _("Show"));
	bj_html_attr(b, "type", "submit");
}

/* GET /admin/jobs?state=&kind=&owner=&after=: every owner's jobs, newest first. */
void
bj_page_admin_jobs(struct bj_req *req)
{
	const char *cols[] = { _("Job"), _("Owner"), _("State"), _("Progress"), _("Kind"),
	    _("Created") };
	char *state = NULL, *kind = NULL, *owner = NULL, *after_s = NULL, *end;
	struct bj_job **jobs = NULL;
	struct bj_html *h;
	struct bj_html_el *body, *t, *tr;
	long long after = 0;
	int n = 0, shown;

	if (!admin_allowed(req))
		return;
	if (filter(req, "state", &state) == -1 || filter(req, "kind", &kind) == -1 ||
	    filter(req, "owner", &owner) == -1 || filter(req, "after", &after_s) == -1) {
		bj_page_error(req, 400, _("Bad request"),
		    _("A filter is longer than 255 characters."));
		goto out;
	}
	if (after_s != NULL && ((after = strtoll(after_s, &end, 10)) <= 0 || *end != '\0')) {
		bj_page_error(req, 400, _("Bad request"),
		    _("The page link is broken: \"after\" must be a job number."));
		goto out;
	}
	if (state != NULL && bj_job_state_parse(state) < 0) {
		bj_page_error(req, 400, _("Bad request"), _("There is no such state."));
		goto out;
	}
	if (bj_job_list(req->app->db, owner, state, kind, after, JOBS_PAGE + 1, &jobs, &n) !=
	    BJ_OK) {
		bj_page_unavailable(req);
		goto out;
	}
	h = admin_page(req, _("All jobs"), &body);
	add_filters(req, body, state, kind, owner);
	if (n == 0) {
		bj_html_add(body, "p", _("No job matches."));
		goto send;
	}
	t = add_table(body, cols, 6);
	shown = n > JOBS_PAGE ? JOBS_PAGE : n;
	for (int i = 0; i < shown; i++) {
		const struct bj_job *j = jobs[i];

		tr = bj_html_add(t, "tr", NULL);
		add_job_link(req, bj_html_add(tr, "td", NULL), j->token, j->title, j->id);
		bj_html_add(tr, "td", j->owner);
		add_state(tr, bj_job_state_name(j->state));
		bj_html_addf(tr, "td", _("%lld of %lld"), j->n_succeeded + j->n_failed +
		    j->n_cancelled, j->n_total);
		bj_html_add(tr, "td", j->kind);
		bj_html_add(tr, "td", j->created_at);
	}
	if (n > JOBS_PAGE) {
		struct bj_buf q = { 0 };
		char id[24];
		char *url;

		if (state != NULL)
			bj_query_add(&q, "state", state);
		if (kind != NULL)
			bj_query_add(&q, "kind", kind);
		if (owner != NULL)
			bj_query_add(&q, "owner", owner);
		snprintf(id, sizeof id, "%lld", jobs[shown - 1]->id);
		bj_query_add(&q, "after", id);
		url = bj_xasprintf("%s/admin/jobs%s", req->app->conf->base_path, q.data);
		bj_html_link(bj_html_add(body, "nav", NULL), url, _("Older jobs"));
		free(url);
		bj_buf_free(&q);
	}
send:
	bj_page_reply(req, 200, h);
out:
	bj_job_list_free(jobs, n);
	free(state);
	free(kind);
	free(owner);
	free(after_s);
}

/* One worker of the last hour, merged from the three parts of BJ_SQL_ADMIN_WORKERS. */
struct worker {
	const char	*id;		/* borrowed from the rows */
	long long	 held, succeeded, failed;
	int		 claim_row, beat_row;	/* rows of the latest claim and heartbeat, -1 */
	long long	 claim_ago, beat_ago;
};

static int
worker_cmp(const void *a, const void *b)
{
	return strcmp(((const struct worker *)a)->id, ((const struct worker *)b)->id);
}

/* Fold row i into w: the counts of its part, the latest times. */
static void
worker_add(struct worker *w, const struct bj_rows *r, int i)
{
	long long part = bj_rows_int(r, i, 0), n = bj_rows_int(r, i, 2);

	if (part == 1)
		w->held += n;
	else if (part == 2)
		w->succeeded += n;
	else
		w->failed += n;
	if (bj_rows_get(r, i, 3) != NULL && (w->claim_row < 0 || bj_rows_int(r, i, 3) < w->claim_ago)) {
		w->claim_row = i;
		w->claim_ago = bj_rows_int(r, i, 3);
	}
	if (bj_rows_get(r, i, 4) != NULL && (w->beat_row < 0 || bj_rows_int(r, i, 4) < w->beat_ago)) {
		w->beat_row = i;
		w->beat_ago = bj_rows_int(r, i, 4);
	}
}

/* GET /admin/workers: every worker seen in the last hour. */
void
bj_page_admin_workers(struct bj_req *req)
{
	const char *cols[] = { _("Worker"), _("Holds now"), _("Last claim"), _("Last heartbeat"),
	    _("Completed, last hour"), _("Failed, last hour") };
	struct worker *w = NULL;
	struct bj_rows *r;
	struct bj_html *h;
	struct bj_html_el *body, *t, *tr;
	int n = 0;

	if (!admin_allowed(req))
		return;
	if ((r = bj_db_queryp(req->app->db, BJ_SQL_ADMIN_WORKERS, NULL, 0)) == NULL) {
		bj_page_unavailable(req);
		return;
	}
	w = bj_xcalloc((size_t)r->nrows + 1, sizeof *w);
	for (int i = 0; i < r->nrows; i++) {
		const char *id = bj_rows_get(r, i, 1);
		int k = 0;

		if (id == NULL)
			continue;
		while (k < n && strcmp(w[k].id, id) != 0)
			k++;
		if (k == n) {
			w[n].id = id;
			w[n].claim_row = w[n].beat_row = -1;
			n++;
		}
		worker_add(&w[k], r, i);
	}
	qsort(w, (size_t)n, sizeof *w, worker_cmp);
	h = admin_page(req, _("Workers"), &body);
	if (n == 0)
		bj_html_add(body, "p", _("No worker has claimed anything in the last hour."));
	else
		t = add_table(body, cols, 6);
	for (int k = 0; k < n; k++) {
		tr = bj_html_add(t, "tr", NULL);
		bj_html_add(tr, "td", w[k].id);
		bj_html_addf(tr, "td", "%lld", w[k].held);
		if (w[k].claim_row >= 0)
			add_ago(tr, r, w[k].claim_row, 3, "");
		else
			bj_html_add(tr, "td", _("not in the last hour"));
		if (w[k].beat_row >= 0)
			add_ago(tr, r, w[k].beat_row, 4, "");
		else
			bj_html_add(tr, "td", _("none"));
		bj_html_addf(tr, "td", "%lld", w[k].succeeded);
		bj_html_addf(tr, "td", "%lld", w[k].failed);
	}
	bj_page_reply(req, 200, h);
	free(w);
	bj_rows_free(r);
}

/* GET /admin/failures: the last day's failed attempts, grouped by error, then the latest. */
void
bj_page_admin_failures(struct bj_req *req)
{
	const char *gcols[] = { _("Error"), _("Attempts"), _("Jobs"), _("Last") };
	const char *fcols[] = { _("Error"), _("Attempt"), _("Job"), _("Item"), _("Worker"),
	    _("When") };
	struct bj_rows *g = NULL, *f = NULL;
	struct bj_html *h;
	struct bj_html_el *body, *t, *tr;

	if (!admin_allowed(req))
		return;
	if ((g = bj_db_queryp(req->app->db, BJ_SQL_ADMIN_FAILURE_GROUPS,
	    BJ_PARAMS(BJ_P_INT(FAILURE_GROUPS)))) == NULL ||
	    (f = bj_db_queryp(req->app->db, BJ_SQL_ADMIN_FAILURES,
	    BJ_PARAMS(BJ_P_INT(FAILURES)))) == NULL) {
		bj_page_unavailable(req);
		goto out;
	}
	h = admin_page(req, _("Failures"), &body);
	if (g->nrows == 0) {
		bj_html_add(body, "p", _("No item failed in the last day."));
		goto send;
	}
	bj_html_add(body, "h2", _("By error, last day"));
	t = add_table(body, gcols, 4);
	for (int i = 0; i < g->nrows; i++) {
		tr = bj_html_add(t, "tr", NULL);
		bj_html_add(bj_html_add(tr, "td", NULL), "code", bj_rows_get(g, i, 0));
		bj_html_add(tr, "td", bj_rows_get(g, i, 1));
		bj_html_add(tr, "td", bj_rows_get(g, i, 2));
		add_ago(tr, g, i, 3, "");
	}
	bj_html_add(body, "h2", _("Latest"));
	t = add_table(body, fcols, 6);
	for (int i = 0; i < f->nrows; i++) {
		tr = bj_html_add(t, "tr", NULL);
		bj_html_add(bj_html_add(tr, "td", NULL), "code", bj_rows_get(f, i, 0));
		bj_html_add(tr, "td", bj_rows_get(f, i, 1));
		add_job_link(req, bj_html_add(tr, "td", NULL), bj_rows_get(f, i, 3),
		    bj_rows_get(f, i, 4), bj_rows_int(f, i, 2));
		bj_html_add(tr, "td", bj_rows_get(f, i, 5));
		bj_html_add(tr, "td", bj_rows_get(f, i, 6) ? bj_rows_get(f, i, 6) : _("unknown"));
		add_ago(tr, f, i, 8, "");
	}
send:
	bj_page_reply(req, 200, h);
out:
	bj_rows_free(g);
	bj_rows_free(f);
}

/* The CSRF subject of a notification's button: never a job token (those have no ':'). */
static void
note_subject(long long id, char *out, size_t n)
{
	snprintf(out, n, "admin:notification:%lld", id);
}

/* The notifications of one state; dead ones get a "deliver again" button. */
static void
add_notes(struct bj_req *req, struct bj_html_el *body, const struct bj_rows *r, int dead,
    const unsigned char *key, size_t keylen)
{
	const char *cols[] = { _("Job"), _("Event"), _("Target"), _("Attempts"), _("Last error"),
	    "" };
	struct bj_html_el *t, *tr, *td;

	bj_html_add(body, "h2", dead ? _("Dead") : _("Pending"));
	if (r->nrows == 0) {
		bj_html_add(body, "p", _("None."));
		return;
	}
	t = add_table(body, cols, dead ? 6 : 5);
	for (int i = 0; i < r->nrows; i++) {
		tr = bj_html_add(t, "tr", NULL);
		add_job_link(req, bj_html_add(tr, "td", NULL), bj_rows_get(r, i, 2), NULL,
		    bj_rows_int(r, i, 1));
		bj_html_add(tr, "td", bj_rows_get(r, i, 3));
		td = bj_html_add(tr, "td", bj_rows_get(r, i, 4));
		bj_html_text(td, ": ");
		bj_html_add(td, "code", bj_rows_get(r, i, 5));
		bj_html_add(tr, "td", bj_rows_get(r, i, 6));
		bj_html_add(tr, "td", bj_rows_get(r, i, 7) ? bj_rows_get(r, i, 7) : "");
		if (dead) {
			char subject[64], csrf[BJ_CSRF_LEN], *url;

			note_subject(bj_rows_int(r, i, 0), subject, sizeof subject);
			bj_csrf_make(key, keylen, subject, bj_page_user(req), csrf);
			url = bj_xasprintf("%s/admin/notifications/%s/deliver",
			    req->app->conf->base_path, bj_rows_get(r, i, 0));
			bj_page_form(bj_html_add(tr, "td", NULL), url, _("Deliver again"), csrf);
			free(url);
		}
	}
}

/* GET /admin/notifications: pending and dead, the latest first. */
void
bj_page_admin_notifications(struct bj_req *req)
{
	struct bj_rows *pending = NULL, *dead = NULL;
	unsigned char key[BJ_CSRF_KEYMAX];
	size_t keylen;
	struct bj_html *h;
	struct bj_html_el *body;

	if (!admin_allowed(req))
		return;
	if ((pending = bj_db_queryp(req->app->db, BJ_SQL_ADMIN_NOTES,
	    BJ_PARAMS(BJ_P_STR("pending"), BJ_P_INT(NOTES)))) == NULL ||
	    (dead = bj_db_queryp(req->app->db, BJ_SQL_ADMIN_NOTES,
	    BJ_PARAMS(BJ_P_STR("dead"), BJ_P_INT(NOTES)))) == NULL ||
	    bj_csrf_key(req->app->db, req->app->conf, key, &keylen) != BJ_OK) {
		bj_page_unavailable(req);
		goto out;
	}
	h = admin_page(req, _("Notifications"), &body);
	add_notes(req, body, pending, 0, key, keylen);
	add_notes(req, body, dead, 1, key, keylen);
	bj_page_reply(req, 200, h);
out:
	bj_rows_free(pending);
	bj_rows_free(dead);
}

/*
 * POST /admin/notifications/{id}/deliver: a dead notification back to
 * pending with a fresh attempt budget, recorded in its job's timeline
 * with the admin's name; 303 back to the list.
 */
void
bj_page_admin_deliver(struct bj_req *req)
{
	struct bj_db *db = req->app->db;
	char subject[64], *detail = NULL, *loc = NULL, *end, *to;
	struct bj_rows *r = NULL;
	long long id, job;
	enum bj_err err;

	if (!admin_allowed(req))
		return;
	if (bj_req_read_body(req, 8192) != BJ_OK) {
		bj_page_error(req, 400, _("Bad request"), _("The form could not be read."));
		return;
	}
	id = strtoll(req->args[0], &end, 10);
	if (id <= 0 || *end != '\0') {
		bj_page_error(req, 404, _("Not found"), _("There is no such notification."));
		return;
	}
	note_subject(id, subject, sizeof subject);
	if (!bj_page_csrf_ok(req, subject,
	    _("This form did not come from the console, or the page is too old. "
	    "Open the page again and use its buttons.")))
		return;
	if ((r = bj_db_queryp(db, BJ_SQL_NOTIFY_GET, BJ_PARAMS(BJ_P_INT(id)))) == NULL) {
		bj_page_unavailable(req);
		return;
	}
	if (r->nrows == 0) {
		bj_page_error(req, 404, _("Not found"), _("There is no such notification."));
		goto out;
	}
	job = bj_rows_int(r, 0, 1);
	to = bj_notify_target_shown(bj_rows_get(r, 0, 3), bj_rows_get(r, 0, 4));
	detail = bj_xasprintf("%s to %s: delivered again from the console, by %s",
	    bj_rows_get(r, 0, 3), to, bj_page_user(req));
	free(to);
	err = bj_notify_redeliver(db, job, id, detail);
	if (err == BJ_ERR_INVALID_TRANSITION) {
		bj_page_error(req, 409, _("Not possible now"),
		    _("Only a dead notification can be delivered again."));
		goto out;
	}
	if (err != BJ_OK) {
		bj_log_err("notification %lld: deliver again failed: %s", id, bj_db_error(db));
		bj_page_error(req, 503, _("Temporarily unavailable"),
		    _("The change could not be saved. Please try again in a moment."));
		goto out;
	}
	loc = bj_xasprintf("%s/admin/notifications", req->app->conf->base_path);
	bj_page_see_other(req, loc);
out:
	bj_rows_free(r);
	free(detail);
	free(loc);
}
