/*
 * page_status.c: GET /jobs/{token}, the page the person who asked for a
 * job watches, and what every page shares (headers, error pages, loading
 * the job of a link and deciding who may see it).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "claim.h"
#include "clock.h"
#include "csrf.h"
#include "pages.h"
#include "render_notify.h"
#include "sql.h"
#include "token.h"

#define MAX_FAILURES	100
#define MAX_EVENTS	200
#define MAX_NOTIFICATIONS 100

/* The one style sheet: readable on a phone, no external assets. */
static const char page_css[] =
    "*{box-sizing:border-box}"
    "body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:52rem;padding:1rem;"
    "color:#1b1b1b;background:#fff;line-break:strict}"
    "h1{font-size:1.5rem;margin:.2rem 0 .6rem;overflow-wrap:anywhere}"
    "h2{font-size:1.15rem;margin:1.5rem 0 .4rem}"
    "progress{width:100%;height:1.4rem}"
    ".state{display:inline-block;padding:.1rem .6rem;border-radius:1rem;font-weight:600;"
    "border:1px solid #888}"
    ".state-succeeded{background:#dff3e0;border-color:#2e7d32}"
    ".state-failed,.state-expired{background:#fde2e1;border-color:#c62828}"
    ".state-cancelled{background:#eee}"
    ".state-running{background:#e3effd;border-color:#1565c0}"
    ".state-paused{background:#fff4d6;border-color:#b26a00}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}"
    "dt{font-weight:600}dd{margin:0}"
    "table{border-collapse:collapse;width:100%;font-size:.95rem}"
    "th,td{text-align:left;padding:.3rem .4rem;border-bottom:1px solid #ddd;"
    "vertical-align:baseline;overflow-wrap:break-word}"
    "th{white-space:nowrap}"
    ".actions form{display:inline-block;margin:0 .5rem .5rem 0}"
    "button,.button{font:inherit;padding:.5rem 1rem;border-radius:.4rem;border:1px solid #555;"
    "background:#f4f4f4;color:#1b1b1b;text-decoration:none;display:inline-block;cursor:pointer}"
    ".download{background:#1565c0;color:#fff;border-color:#0d47a1}"
    ".muted{color:#555}"
    "ol.timeline{padding-left:1.2rem}"
    "nav.admin{display:flex;flex-wrap:wrap;gap:.2rem 1rem}"
    ".filters label{margin-right:1rem;display:inline-block}"
    ".chart{width:100%;height:auto;max-height:10rem}"
    ".warning{color:#c62828;font-weight:600}"
    "@media (max-width:30rem){dl{grid-template-columns:1fr}"
    "th:nth-child(n+4),td:nth-child(n+4){display:none}}";

/* A token of a link has only base64url characters. */
static int
token_ok(const char *t)
{
	size_t n = 0;

	if (t == NULL)
		return 0;
	for (; t[n]; n++)
		if (!isalnum((unsigned char)t[n]) && t[n] != '-' && t[n] != '_')
			return 0;
	return n > 0 && n <= 64;
}

/* Pick the reply's language (the catalogs are bound on first use). */
void
bj_page_lang(struct bj_req *req, const char *job_lang)
{
	static int bound;
	const char *fallback = job_lang != NULL && bj_i18n_supported(job_lang) ?
	    job_lang : req->app->conf->default_language;

	if (!bound) {
		bj_i18n_init();
		bound = 1;
	}
	bj_i18n_use(bj_i18n_negotiate(bj_req_header(req, "HTTP_ACCEPT_LANGUAGE"), fallback));
}

/* REMOTE_USER as the web server set it; empty means nobody. */
const char *
bj_page_user(struct bj_req *req)
{
	const char *u = bj_req_param(req, "REMOTE_USER");

	return u != NULL && *u != '\0' ? u : NULL;
}

/*
 * 1 when somebody is signed in; else the 401 page has been sent. Every
 * page asks, whatever [http] public_links says: a link is a permission
 * only for people the web server has authenticated.
 */
int
bj_page_signed_in(struct bj_req *req)
{
	if (bj_page_user(req) != NULL)
		return 1;
	bj_page_error(req, 401, _("Please sign in"),
	    _("Sign in to see your jobs."));
	return 0;
}

/* A document with the style sheet. */
struct bj_html *
bj_page_new(const char *title)
{
	struct bj_html *h = bj_html_new(bj_i18n_current(), title);

	bj_html_style(h, page_css, NULL);
	return h;
}

/*
 * The headers every page carries. The policy allows the one style sheet
 * by its hash: a page is then the same bytes each time it is the same,
 * as its strong ETag promises, and a 304 may carry the same policy.
 */
static void
security_headers(struct bj_req *req, int status)
{
	static char csp[256];

	if (csp[0] == '\0') {
		unsigned char md[32];
		char *b64;

		bj_sha256(page_css, sizeof page_css - 1, md);
		b64 = bj_base64(md, sizeof md, 0);
		snprintf(csp, sizeof csp, "default-src 'none'; style-src 'sha256-%s'; "
		    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'", b64);
		free(b64);
	}
	bj_reply_header(req, "Content-Security-Policy", csp);
	bj_reply_header(req, "X-Content-Type-Options", "nosniff");
	bj_reply_header(req, "Referrer-Policy", "no-referrer");
	bj_reply_cache_headers(req, status);
	bj_reply_header(req, "X-Frame-Options", "DENY");
}

/* Serialise and send a page; frees h. */
void
bj_page_reply(struct bj_req *req, int status, struct bj_html *h)
{
	size_t len;
	char *text = bj_html_render(h, &len);

	security_headers(req, status);
	bj_reply(req, status, "text/html; charset=utf-8", text, len);
	free(text);
	bj_html_free(h);
}

/* A plain error page. */
void
bj_page_error(struct bj_req *req, int status, const char *title, const char *message)
{
	struct bj_html *h = bj_page_new(title);
	struct bj_html_el *body = bj_html_body(h);

	bj_html_add(body, "h1", title);
	bj_html_add(body, "p", message);
	if (status == 401)
		bj_reply_header(req, "WWW-Authenticate", "Basic realm=\"bulkjobs\"");
	if (status == 503)
		bj_reply_header(req, "Retry-After", "5");	/* as the API's 503 */
	bj_page_reply(req, status, h);
}

/* 503 when the job database does not answer: nothing is shown half. */
void
bj_page_unavailable(struct bj_req *req)
{
	bj_page_error(req, 503, _("Temporarily unavailable"),
	    _("The job database is not answering. Please try again in a moment."));
}

/* A string cell, copied, or NULL. */
static char *
dup_cell(const struct bj_rows *r, int row, int col)
{
	const char *s = bj_rows_get(r, row, col);

	return s ? bj_xstrdup(s) : NULL;
}

/* Seconds from t to now (microseconds), or BJ_NO_TIME when its cell (iso) was NULL. */
static long long
ago(const char *iso, long long t, long long now)
{
	return iso != NULL ? bj_us_seconds(t, now) : BJ_NO_TIME;
}

/* Copy one row of the page job columns (sql_pages.c) into pj. */
void
bj_page_job_from_row(const struct bj_rows *r, int row, struct bj_page_job *pj)
{
	struct bj_job *j = &pj->job;
	long long now, created, started, finished, deadline, expires, updated;
	int st;

	memset(pj, 0, sizeof *pj);
	j->id = bj_rows_int(r, row, 0);
	j->token = dup_cell(r, row, 1);
	j->kind = dup_cell(r, row, 2);
	j->owner = dup_cell(r, row, 3);
	j->title = dup_cell(r, row, 4);
	st = bj_job_state_parse(bj_rows_get(r, row, 5));
	j->state = st < 0 ? BJ_JOB_FAILED : (enum bj_job_state)st;
	j->stage = (int)bj_rows_int(r, row, 6);
	j->stage_count = (int)bj_rows_int(r, row, 7);
	j->n_total = bj_rows_int(r, row, 8);
	j->n_pending = bj_rows_int(r, row, 9);
	j->n_claimed = bj_rows_int(r, row, 10);
	j->n_succeeded = bj_rows_int(r, row, 11);
	j->n_failed = bj_rows_int(r, row, 12);
	j->n_cancelled = bj_rows_int(r, row, 13);
	bj_rows_time(r, row, 27, &now);
	j->created_at = bj_rows_iso(r, row, 14, 0, &created);
	j->started_at = bj_rows_iso(r, row, 15, 0, &started);
	j->finished_at = bj_rows_iso(r, row, 16, 0, &finished);
	j->deadline_at = bj_rows_iso(r, row, 17, 0, &deadline);
	j->artifact = dup_cell(r, row, 18);
	j->artifact_expires_at = bj_rows_iso(r, row, 19, 0, &expires);
	j->artifact_deleted = bj_rows_int(r, row, 20) != 0;
	j->artifact_expired = j->artifact_expires_at != NULL && expires <= now;
	j->language = dup_cell(r, row, 21);
	pj->created_ago = ago(j->created_at, created, now);
	pj->started_ago = ago(j->started_at, started, now);
	pj->finished_ago = ago(j->finished_at, finished, now);
	pj->deadline_ago = ago(j->deadline_at, deadline, now);
	pj->expires_ago = ago(j->artifact_expires_at, expires, now);
	/* started to finished, or to now while it runs */
	pj->run_seconds = ago(j->started_at, started, j->finished_at != NULL ? finished : now);
	j->priority = (int)bj_rows_int(r, row, 22);
	j->max_concurrency = bj_rows_int(r, row, 23);
	j->version = bj_rows_int(r, row, 24);
	bj_rows_time(r, row, 25, &updated);
	j->idle_seconds = bj_us_seconds(updated, now);
	j->round = (int)bj_rows_int(r, row, 26);
	pj->now = now / 1000000;
}

/* Which limit holds the job's waiting items back, if one does (bj_claim_waiting). */
static void
add_waiting(const struct bj_job *j, struct bj_html_el *body)
{
	struct bj_html_el *p;

	if (j->waiting_on == NULL)
		return;
	if (strcmp(j->waiting_on, "max_concurrency") == 0)
		p = bj_html_addf(body, "p", ngettext("Waiting: this job runs at most %lld item "
		    "at a time.", "Waiting: this job runs at most %lld items at a time.",
		    (unsigned long)j->max_concurrency), j->max_concurrency);
	else if (strcmp(j->waiting_on, "owner_limit") == 0)
		p = bj_html_add(body, "p", _("Waiting: your other jobs are using all the items "
		    "you may have running at once."));
	else
		p = bj_html_add(body, "p", _("Waiting: every place for jobs of this kind is in "
		    "use."));
	bj_html_attr(p, "class", "waiting");
}

/* Free the strings of pj, not pj itself. */
void
bj_page_job_clear(struct bj_page_job *pj)
{
	struct bj_job *j = &pj->job;

	free(j->token);
	free(j->kind);
	free(j->owner);
	free(j->title);
	free(j->created_at);
	free(j->started_at);
	free(j->finished_at);
	free(j->deadline_at);
	free(j->artifact);
	free(j->artifact_expires_at);
	free(j->language);
	memset(pj, 0, sizeof *pj);
}

/* Free a loaded page job. */
void
bj_page_job_free(struct bj_page_job *pj)
{
	if (pj == NULL)
		return;
	bj_page_job_clear(pj);
	free(pj);
}

/* 1 when user (may be NULL) owns j or is one of [http] admins. */
static int
owner_or_admin(const struct bj_conf *conf, const char *user, const struct bj_job *j)
{
	return user != NULL && (strcmp(user, j->owner) == 0 || bj_conf_admin(conf, user));
}

/* Load the job of the link and check that this request may see it. */
struct bj_page_job *
bj_page_job_load(struct bj_req *req)
{
	const struct bj_conf *conf = req->app->conf;
	const char *token = req->args[0], *user = bj_page_user(req);
	struct bj_page_job *pj = NULL;
	struct bj_rows *r;

	/* before the lookup, so that the answer is the same whether the job exists */
	if (!bj_page_signed_in(req))
		return NULL;
	if (!token_ok(token))
		goto notfound;
	/* a job just submitted through another node's front end is found (Galera) */
	bj_db_sync_reads(req->app->db, 1);
	r = bj_db_queryp(req->app->db, BJ_SQL_PAGES_JOB_BY_TOKEN, BJ_PARAMS(BJ_P_STR(token)));
	bj_db_sync_reads(req->app->db, 0);
	if (r == NULL) {
		bj_page_unavailable(req);
		return NULL;
	}
	if (r->nrows == 1) {
		pj = bj_xmalloc(sizeof *pj);
		bj_page_job_from_row(r, 0, pj);
	}
	bj_rows_free(r);
	if (pj == NULL)
		goto notfound;
	/* the operators of [http] admins see every job, with its owner's buttons */
	if (!conf->public_links && !owner_or_admin(conf, user, &pj->job)) {
		bj_page_job_free(pj);
		goto notfound;
	}
	return pj;
notfound:
	bj_page_error(req, 404, _("Not found"), _("There is no job at this address."));
	return NULL;
}

/* The estimate of the time left ("in 3 minutes") into out, or "" when there is none. */
static void
estimate(const struct bj_page_job *pj, char *out, size_t n)
{
	const struct bj_job *j = &pj->job;
	long long done = j->n_succeeded + j->n_failed + j->n_cancelled;
	double left;

	out[0] = '\0';
	if (j->state != BJ_JOB_RUNNING || done <= 0 || done >= j->n_total ||
	    pj->run_seconds <= 0)
		return;
	left = (double)pj->run_seconds / (double)done * (double)(j->n_total - done);
	bj_i18n_relative((long long)left + 1, out, n);
}

/*
 * How late the status page may learn that a lease ran out: it looks at
 * leases as of now down to a whole step, and the ETag of a job with
 * claims names the step (design.md §9).
 */
#define LAPSE_STEP	15

/* The time the page looks at leases as of. */
static long long
lapse_time(const struct bj_page_job *pj)
{
	return pj->now - pj->now % LAPSE_STEP;
}

/* Read the claims of pj whose lease ran out by lapse_time(); -1 when the database fails. */
static int
load_lapsed(struct bj_req *req, struct bj_page_job *pj)
{
	struct bj_rows *r;

	pj->lapsed = 0;
	if (pj->job.n_claimed <= 0)
		return 0;
	r = bj_db_queryp(req->app->db, BJ_SQL_PAGES_LAPSED, BJ_PARAMS(BJ_P_INT(pj->job.id),
	    BJ_P_INT(lapse_time(pj))));
	if (r == NULL)
		return -1;
	if (r->nrows == 1) {
		pj->lapsed = bj_rows_int(r, 0, 0);
		pj->lapsed_until = bj_rows_int(r, 0, 1);
	}
	bj_rows_free(r);
	return 0;
}

/*
 * Claims whose lease ran out wait for the reaper (every minute) to put
 * them back in the queue: what they wait for, into out, or "" when no
 * claim has lapsed.
 */
static void
lapsed_note(const struct bj_page_job *pj, const char *tz, char *out, size_t n)
{
	/* a minute after the last of those leases ran out, at a whole minute */
	long long by = (pj->lapsed_until + 60 + 59) / 60 * 60;
	unsigned long k = (unsigned long)pj->lapsed;
	char at[64];

	out[0] = '\0';
	if (pj->lapsed <= 0)
		return;
	if (lapse_time(pj) > by) {
		snprintf(out, n, ngettext("%lld item waits for a worker that stopped answering; "
		    "it goes back to the queue at the next reaper run.", "%lld items wait for "
		    "a worker that stopped answering; they go back to the queue at the next "
		    "reaper run.", k), pj->lapsed);
		return;
	}
	bj_i18n_time(by, tz, at, sizeof at);
	snprintf(out, n, ngettext("%lld item waits for a worker that stopped answering; "
	    "it goes back to the queue by %s (the next reaper run).", "%lld items wait for "
	    "a worker that stopped answering; they go back to the queue by %s (the next "
	    "reaper run).", k), pj->lapsed, at);
}

int
bj_page_etag(struct bj_req *req, struct bj_buf *key, int poll_interval)
{
	const struct bj_conf *c = req->app->conf;
	const char *user = bj_page_user(req);
	int rc;

	bj_buf_printf(key, "\n%s\n%s\n%s\n%s\n%s\n%s\n%s", PACKAGE_VERSION, req->route,
	    req->query, bj_i18n_current(), user ? user : "", c->base_path, c->time_zone);
	rc = bj_req_etag(req, key->data, key->len, poll_interval);
	bj_buf_free(key);
	return rc;
}

/*
 * What of a job's status page may change without its version: the times
 * relative to now, the estimate, the step of the clock its claims'
 * leases are looked at, whether the file's time has run out, the limit
 * it waits on and how often the page refreshes.
 */
static void
page_job_key(const struct bj_page_job *pj, struct bj_buf *key)
{
	const struct bj_job *j = &pj->job;
	const long long agos[] = { pj->created_ago, pj->started_ago, pj->finished_ago,
	    pj->deadline_ago, pj->expires_ago };
	char rel[64];

	bj_buf_printf(key, "%lld\n%s\n%lld\n%d\n%s\n%d\n", j->id, j->token, j->version,
	    j->artifact_expired, j->waiting_on ? j->waiting_on : "", bj_job_poll_interval(j));
	for (size_t i = 0; i < sizeof agos / sizeof agos[0]; i++) {
		bj_page_relative(agos[i], rel, sizeof rel);
		bj_buf_printf(key, "%s\n", rel);
	}
	bj_buf_printf(key, "%lld\n", j->n_claimed > 0 ? lapse_time(pj) : 0);
	estimate(pj, rel, sizeof rel);
	bj_buf_adds(key, rel);
}

/* A state as the page words it. */
const char *
bj_page_state_words(enum bj_job_state s)
{
	switch (s) {
	case BJ_JOB_QUEUED: return _("Queued");
	case BJ_JOB_RUNNING: return _("Running");
	case BJ_JOB_PAUSED: return _("Paused");
	case BJ_JOB_SUCCEEDED: return _("Succeeded");
	case BJ_JOB_FAILED: return _("Failed");
	case BJ_JOB_CANCELLED: return _("Cancelled");
	case BJ_JOB_EXPIRED: return _("Expired");
	case BJ_JOB_NSTATES: break;
	}
	return _("Unknown");
}

void
bj_page_relative(long long ago, char *out, size_t n)
{
	if (ago == BJ_NO_TIME) {
		snprintf(out, n, "%s", "");
		return;
	}
	bj_i18n_relative(-ago, out, n);
}

/* Format an ISO UTC time ("2026-11-22T08:24:32Z") for the reader, in [http] time_zone. */
static void
format_iso(const char *iso, const char *tz, char *out, size_t n)
{
	long long us;

	if (!bj_time_parse(iso, &us)) {
		snprintf(out, n, "%s", iso);
		return;
	}
	bj_i18n_datetime(us / 1000000, tz, out, n);
}

/* A <time> element showing an ISO time in the reader's convention. */
static struct bj_html_el *
add_iso(struct bj_html_el *parent, const char *iso, const char *tz)
{
	struct bj_html_el *t;
	char abs[80];

	if (iso == NULL)
		return bj_html_add(parent, "span", "");
	format_iso(iso, tz, abs, sizeof abs);
	t = bj_html_add(parent, "time", abs);
	bj_html_attr(t, "datetime", iso);
	return t;
}

/* "2026-11-22T08:24:32Z" shown as "2026-11-22 08:24:32 UTC (3 min ago)". */
static void
add_time(struct bj_html_el *dl, const char *label, const char *iso, long long ago,
    const char *none, const char *tz)
{
	struct bj_html_el *dd;
	char rel[64];

	bj_html_add(dl, "dt", label);
	if (iso == NULL) {
		bj_html_add(dl, "dd", none);
		return;
	}
	bj_page_relative(ago, rel, sizeof rel);
	dd = bj_html_add(dl, "dd", NULL);
	add_iso(dd, iso, tz);
	if (*rel) {
		bj_html_text(dd, " (");
		bj_html_text(dd, rel);
		bj_html_text(dd, ")");
	}
}

/*
 * Which stage runs: named by its item's key when it has one item. A job of
 * one stage (stage_count counts the distinct stages) needs no query unless
 * its single item names it. Returns the stage's ordinal (1 for the first),
 * 0 when unknown.
 */
static long long
add_stage(struct bj_req *req, const struct bj_job *j, struct bj_html_el *parent)
{
	struct bj_rows *r = NULL;
	long long ordinal = 1;
	const char *key = NULL;
	int count = j->stage_count > 0 ? j->stage_count : 1;

	if (count > 1 || j->n_total == 1) {
		r = bj_db_queryp(req->app->db, BJ_SQL_PAGES_STAGE, BJ_PARAMS(BJ_P_INT(j->id),
		    BJ_P_INT(j->stage), BJ_P_INT(j->id), BJ_P_INT(j->stage), BJ_P_INT(j->id),
		    BJ_P_INT(j->stage)));
		if (r == NULL || r->nrows != 1) {
			ordinal = 0;
			goto out;
		}
		ordinal = bj_rows_int(r, 0, 0) + 1;
		if (bj_rows_get(r, 0, 2) == NULL)
			key = bj_rows_get(r, 0, 1);	/* NULL too when the stage is empty */
	}
	if (key != NULL)
		bj_html_addf(parent, "p", _("Stage %lld of %d: %s"), ordinal, count, key);
	else
		bj_html_addf(parent, "p", _("Stage %lld of %d"), ordinal, count);
out:
	bj_rows_free(r);
	return ordinal;
}

/* Percent of items that have ended. */
static int
percent_done(const struct bj_job *j)
{
	long long done = j->n_succeeded + j->n_failed + j->n_cancelled;
	int pct;

	if (j->n_total <= 0)
		return bj_job_state_terminal(j->state) ? 100 : 0;
	pct = (int)((done * 100 + j->n_total / 2) / j->n_total);	/* rounded: 1 of 6 is 17% */
	if (pct == 0 && done > 0)
		pct = 1;	/* 0% and 100% only when so */
	if (pct == 100 && done < j->n_total)
		pct = 99;
	return pct;
}

/* Progress bar, counts, and the estimate of time left or what lapsed claims wait for. */
static void
add_progress(const struct bj_page_job *pj, const char *tz, struct bj_html_el *body)
{
	const struct bj_job *j = &pj->job;
	long long done = j->n_succeeded + j->n_failed + j->n_cancelled;
	struct bj_html_el *p;
	char v[32], m[32], d[64], note[256];
	int pct = percent_done(j);

	snprintf(v, sizeof v, "%lld", done);
	snprintf(m, sizeof m, "%lld", j->n_total > 0 ? j->n_total : 1);
	p = bj_html_addf(body, "progress", "%d%%", pct);	/* the fallback for old browsers */
	bj_html_attr(p, "max", m);
	bj_html_attr(p, "value", j->n_total > 0 ? v : (pct == 100 ? "1" : "0"));
	bj_html_attr(p, "aria-label", _("Progress"));
	p = bj_html_addf(body, "p", ngettext("%d%% done: %lld of %lld item ended",
	    "%d%% done: %lld of %lld items ended", (unsigned long)j->n_total),
	    pct, done, j->n_total);
	bj_html_text(p, " ");
	{
		char *counts = bj_xasprintf(_("(%lld succeeded, %lld failed, %lld cancelled, "
		    "%lld in progress, %lld waiting)"), j->n_succeeded, j->n_failed,
		    j->n_cancelled, j->n_claimed, j->n_pending);
		bj_html_text(p, counts);
		free(counts);
	}
	/* an estimate would count on the claims that nobody works on */
	lapsed_note(pj, tz, note, sizeof note);
	if (note[0] != '\0') {
		p = bj_html_add(body, "p", note);
		bj_html_attr(p, "class", "lapsed");
		return;
	}
	estimate(pj, d, sizeof d);
	if (d[0] != '\0') {
		p = bj_html_addf(body, "p", _("Expected to finish %s at the current rate."), d);
		bj_html_attr(p, "class", "estimate");
	}
}

/* One POST form of the job's page with its CSRF field and a button; the form. */
static struct bj_html_el *
add_form(struct bj_req *req, struct bj_html_el *parent, const struct bj_job *j,
    const char *action, const char *label, const char *csrf)
{
	char *url = bj_xasprintf("%s/jobs/%s/%s", req->app->conf->base_path, j->token, action);
	struct bj_html_el *f = bj_page_form(parent, url, label, csrf);

	free(url);
	return f;
}

/* A hidden field of form f. */
static void
add_hidden(struct bj_html_el *f, const char *name, const char *value)
{
	struct bj_html_el *in = bj_html_add(f, "input", NULL);

	bj_html_attr(in, "type", "hidden");
	bj_html_attr(in, "name", name);
	bj_html_attr(in, "value", value);
}

struct bj_html_el *
bj_page_form(struct bj_html_el *parent, const char *url, const char *label, const char *csrf)
{
	struct bj_html_el *f, *b;

	f = bj_html_add(parent, "form", NULL);
	bj_html_attr(f, "method", "post");
	bj_html_attr(f, "action", url);
	add_hidden(f, "csrf", csrf);
	b = bj_html_add(f, "button", label);
	bj_html_attr(b, "type", "submit");
	return f;
}

int
bj_page_csrf_ok(struct bj_req *req, const char *subject, const char *message)
{
	const char *site = bj_req_header(req, "HTTP_SEC_FETCH_SITE");
	unsigned char key[BJ_CSRF_KEYMAX];
	size_t keylen;
	char *csrf;
	int ok;

	if (bj_csrf_key(req->app->db, req->app->conf, key, &keylen) != BJ_OK) {
		bj_page_unavailable(req);
		return 0;
	}
	csrf = bj_form_get(req->body, "csrf");
	ok = (site == NULL || strcmp(site, "cross-site") != 0) &&
	    bj_csrf_check(key, keylen, subject, bj_page_user(req), csrf);
	free(csrf);
	if (!ok)
		bj_page_error(req, 403, _("Refused"), message);
	return ok;
}

void
bj_page_see_other(struct bj_req *req, const char *loc)
{
	static const char text[] = "See the page.\n";

	bj_reply_header(req, "Location", loc);
	bj_reply_header(req, "Cache-Control", "no-store");
	bj_reply(req, 303, "text/plain; charset=utf-8", text, sizeof text - 1);
}

/* Cancel / pause / resume, where the state allows them; retry for a failed job. */
static void
add_actions(struct bj_req *req, const struct bj_job *j, struct bj_html_el *body)
{
	unsigned char key[BJ_CSRF_KEYMAX];
	size_t keylen;
	char csrf[BJ_CSRF_LEN], round[16];
	struct bj_html_el *div, *f;

	if (bj_job_state_terminal(j->state) && !bj_job_can_retry(j->state))
		return;
	if (bj_csrf_key(req->app->db, req->app->conf, key, &keylen) != BJ_OK) {
		bj_html_add(body, "p", _("The buttons are unavailable right now."));
		return;
	}
	bj_csrf_make(key, keylen, j->token, bj_page_user(req), csrf);
	div = bj_html_add(body, "div", NULL);
	bj_html_attr(div, "class", "actions");
	if (bj_job_can(j->state, BJ_JOB_PAUSED))
		add_form(req, div, j, "pause", _("Pause"), csrf);
	if (j->state == BJ_JOB_PAUSED)
		add_form(req, div, j, "resume", _("Resume"), csrf);
	if (bj_job_can(j->state, BJ_JOB_CANCELLED))
		add_form(req, div, j, "cancel", _("Cancel job"), csrf);
	if (bj_job_can_retry(j->state) && !j->artifact_deleted) {
		/* (files removed at the end of retention: no retry, bj_job_retry_round) */
		/* the round it retries: the same form posted twice starts one round */
		f = add_form(req, div, j, "retry", _("Retry failed items"), csrf);
		snprintf(round, sizeof round, "%d", j->round);
		add_hidden(f, "round", round);
	}
}

/* The download button and how long the file stays. */
static void
add_download(struct bj_req *req, const struct bj_page_job *pj, struct bj_html_el *body)
{
	const struct bj_job *j = &pj->job;
	struct bj_html_el *p, *a;
	char *url, rel[64], abs[80];

	if (j->artifact == NULL)
		return;
	bj_html_add(body, "h2", _("Download"));
	if (j->artifact_deleted || j->artifact_expired) {
		bj_html_add(body, "p", _("The file is no longer available: it has expired."));
		return;
	}
	url = bj_xasprintf("%s/jobs/%s/download", req->app->conf->base_path, j->token);
	p = bj_html_add(body, "p", NULL);
	a = bj_html_link(p, url, _("Download the result"));
	bj_html_attr(a, "class", "button download");
	free(url);
	if (j->artifact_expires_at != NULL) {
		bj_page_relative(pj->expires_ago, rel, sizeof rel);
		format_iso(j->artifact_expires_at, req->app->conf->time_zone, abs, sizeof abs);
		bj_html_addf(body, "p", _("Available until %s (%s)."), abs, rel);
	}
}

/* The rows of BJ_SQL_PAGES_DETAILS in (part, order) order. */
struct details {
	const struct bj_rows	*r;
	struct detail_row {
		long long	 part, ord;
		int		 row;
	}			*rows;
	int			 n;
};

/* Details rows by part, then by the part's own order. */
static int
detail_cmp(const void *a, const void *b)
{
	const struct detail_row *x = a, *y = b;

	if (x->part != y->part)
		return x->part < y->part ? -1 : 1;
	return x->ord < y->ord ? -1 : x->ord > y->ord;
}

/* Sort the rows of r (borrowed; NULL gives none) into d. */
static void
details_sort(const struct bj_rows *r, struct details *d)
{
	d->r = r;
	d->n = r != NULL ? r->nrows : 0;
	d->rows = bj_xcalloc((size_t)d->n + 1, sizeof *d->rows);
	for (int i = 0; i < d->n; i++) {
		d->rows[i].part = bj_rows_int(r, i, 0);
		d->rows[i].ord = bj_rows_int(r, i, 1);
		d->rows[i].row = i;
	}
	qsort(d->rows, (size_t)d->n, sizeof *d->rows, detail_cmp);
}

/* The sorted positions [*from, *to) of one part. */
static void
detail_part(const struct details *d, int part, int *from, int *to)
{
	int i = 0;

	while (i < d->n && d->rows[i].part < part)
		i++;
	*from = i;
	while (i < d->n && d->rows[i].part == part)
		i++;
	*to = i;
}

/* Column col (2 on: the part's own) of the details row at sorted position i. */
static const char *
detail_get(const struct details *d, int i, int col)
{
	return bj_rows_get(d->r, d->rows[i].row, col);
}

/*
 * Whether a job's failure records must be read: every failed attempt is
 * written with an "item_failed" timeline entry in the same transaction
 * (lease.c, the reaper's orphans.c), so a whole timeline (d, part 3)
 * without one says there are none.
 */
static int
failures_possible(const struct bj_job *j, const struct details *d)
{
	int from, to;

	if (j->n_failed > 0)
		return 1;
	detail_part(d, 3, &from, &to);
	if (to - from >= MAX_EVENTS)
		return 1;	/* older entries are not in d */
	for (int i = from; i < to; i++) {
		const char *type = detail_get(d, i, 3);
		if (type != NULL && strcmp(type, "item_failed") == 0)
			return 1;
	}
	return 0;
}

/* Failed attempts with their errors (part 1: key, attempt, error, at). */
static void
add_failures(struct bj_req *req, const struct bj_job *j, const struct details *d,
    struct bj_html_el *body)
{
	struct bj_html_el *t, *tr;
	int from, to;

	detail_part(d, 1, &from, &to);
	if (from == to)
		return;
	/* with no item failed for good, every attempt listed was tried again */
	bj_html_add(body, "h2", j->n_failed > 0 ? _("Failed items") :
	    _("Failed attempts that were retried"));
	t = bj_html_add(body, "table", NULL);
	tr = bj_html_add(bj_html_add(t, "thead", NULL), "tr", NULL);
	bj_html_add(tr, "th", _("Item"));
	bj_html_add(tr, "th", _("Attempt"));
	bj_html_add(tr, "th", _("Error"));
	bj_html_add(tr, "th", _("When"));
	t = bj_html_add(t, "tbody", NULL);
	for (int i = from; i < to && i - from < MAX_FAILURES; i++) {
		const char *at = detail_get(d, i, 5);
		tr = bj_html_add(t, "tr", NULL);
		bj_html_add(tr, "td", detail_get(d, i, 2));
		bj_html_add(tr, "td", detail_get(d, i, 3));
		bj_html_add(tr, "td", detail_get(d, i, 4) ? detail_get(d, i, 4) : _("(no message)"));
		add_iso(bj_html_add(tr, "td", NULL), at, req->app->conf->time_zone);
	}
	if (to - from > MAX_FAILURES)
		bj_html_addf(body, "p", _("Only the latest %d failures are shown."), MAX_FAILURES);
}

/*
 * Where the notifications stand (part 2: channel, target, state, attempts,
 * error). An email address whole for the owner and admins (whole: 1);
 * for others who hold the link, as the timeline names it.
 */
static void
add_notifications(const struct details *d, int whole, struct bj_html_el *body)
{
	struct bj_html_el *t, *tr;
	int from, to;

	detail_part(d, 2, &from, &to);
	if (from == to)
		return;
	bj_html_add(body, "h2", _("Notifications"));
	t = bj_html_add(body, "table", NULL);
	tr = bj_html_add(bj_html_add(t, "thead", NULL), "tr", NULL);
	bj_html_add(tr, "th", _("Channel"));
	bj_html_add(tr, "th", _("Status"));
	bj_html_add(tr, "th", _("Attempts"));
	bj_html_add(tr, "th", _("Last error"));
	t = bj_html_add(t, "tbody", NULL);
	for (int i = from; i < to; i++) {
		const char *ch = detail_get(d, i, 2), *st = detail_get(d, i, 4);
		long long attempts = bj_rows_int(d->r, d->rows[i].row, 5);
		const char *words;

		if (st != NULL && strcmp(st, "sent") == 0)
			words = _("sent");
		else if (st != NULL && strcmp(st, "dead") == 0)
			words = _("failed");
		else
			words = attempts > 0 ? _("retrying") : _("waiting to be sent");
		tr = bj_html_add(t, "tr", NULL);
		/* email shows its address; a webhook URL may hold secrets */
		if (ch != NULL && strcmp(ch, "email") == 0) {
			char *addr = whole ? bj_xstrdup(detail_get(d, i, 3)) :
			    bj_notify_target_shown(ch, detail_get(d, i, 3));

			bj_html_addf(tr, "td", _("email to %s"), addr);
			free(addr);
		} else
			bj_html_add(tr, "td", _("webhook"));
		bj_html_add(tr, "td", words);
		bj_html_addf(tr, "td", "%lld", attempts);
		/*
		 * The error names addresses, ports and the peer's words: whoever
		 * holds the link could probe the inside with it. Readers get a
		 * generic line; the notifications table and the logs keep the rest.
		 */
		bj_html_add(tr, "td", detail_get(d, i, 6) ? _("could not be delivered") : "");
	}
}

/* A timeline entry's type in words; an unknown one as it is. */
static const char *
event_words(const char *type)
{
	static const struct {
		const char	*type;
		const char	*words;
	} names[] = {
		{ "created", N_("Created") },
		{ "started", N_("Started") },
		{ "paused", N_("Paused") },
		{ "resumed", N_("Resumed") },
		{ "retried", N_("Retried") },
		{ "stage_advanced", N_("Next stage") },
		{ "item_failed", N_("An item failed") },
		{ "item_requeued", N_("An item was requeued") },
		{ "finished", N_("Finished") },
		{ "cancelled", N_("Cancelled") },
		{ "expired", N_("Expired") },
		{ "notified", N_("Notification sent") },
		{ "notify_failed", N_("Notification not delivered") },
		{ "notify_redelivered", N_("Notification to be delivered again") },
	};

	for (size_t i = 0; type != NULL && i < sizeof names / sizeof names[0]; i++)
		if (strcmp(type, names[i].type) == 0)
			return _(names[i].words);
	return type;
}

/*
 * The ordinal of the stage that the timeline's stage_advanced entries
 * open, newest first (part 3, from..to): each opened the stage after the
 * one before, and the newest the stage that runs now (current, when the
 * header showed it, else 0). Counted back from current; for an ended job,
 * up from the first stage when the whole timeline is there. 0: unknown.
 */
static long long
first_opened(const struct bj_job *j, const struct details *d, int from, int to,
    long long current)
{
	long long n = 0;

	if (current > 0)
		return current;
	if (to - from >= MAX_EVENTS)
		return 0;
	for (int i = from; i < to; i++)
		if (strcmp(detail_get(d, i, 3) ? detail_get(d, i, 3) : "", "stage_advanced") == 0)
			n++;
	return n + 1 <= (j->stage_count > 0 ? j->stage_count : 1) ? n + 1 : 0;
}

/*
 * The job's timeline, newest first, numbered from the oldest (part 3: at,
 * type, detail). A next stage is named as the header names the stage that
 * runs ("stage 2 of 2"), not by the number the job gave it.
 */
static void
add_timeline(struct bj_req *req, const struct bj_job *j, const struct details *d,
    long long stage, struct bj_html_el *body)
{
	struct bj_html_el *ol, *li;
	int from, to;
	long long opened;

	detail_part(d, 3, &from, &to);
	if (from == to)
		return;
	opened = first_opened(j, d, from, to, stage);
	bj_html_add(body, "h2", _("Timeline"));
	ol = bj_html_add(body, "ol", NULL);
	bj_html_attr(ol, "class", "timeline");
	bj_html_attr(ol, "reversed", NULL);
	for (int i = from; i < to; i++) {
		const char *at = detail_get(d, i, 2), *detail = detail_get(d, i, 4);
		li = bj_html_add(ol, "li", NULL);
		add_iso(li, at, req->app->conf->time_zone);
		bj_html_text(li, " ");
		bj_html_add(li, "strong", event_words(detail_get(d, i, 3)));
		if (strcmp(detail_get(d, i, 3) ? detail_get(d, i, 3) : "", "stage_advanced") == 0) {
			char *which;

			if (opened > 0) {
				which = bj_xasprintf(_("stage %lld of %d"), opened--,
				    j->stage_count > 0 ? j->stage_count : 1);
				bj_html_text(li, ": ");
				bj_html_text(li, which);
				free(which);
			}
		} else if (detail != NULL && *detail) {
			bj_html_text(li, ": ");
			bj_html_text(li, detail);
		}
	}
}

/* GET /jobs/{token} */
void
bj_page_status(struct bj_req *req)
{
	struct bj_page_job *pj;
	struct bj_job *j;
	struct bj_html *h;
	struct bj_html_el *body, *p, *s, *dl;
	struct bj_rows *r = NULL, *rf = NULL;
	struct details details = { 0 }, failed = { 0 };
	struct bj_buf key = { 0 };
	char cls[40];
	int refresh;
	long long stage = 0;
	const char *title, *tz = req->app->conf->time_zone, *user = bj_page_user(req);

	bj_page_lang(req, NULL);
	if ((pj = bj_page_job_load(req)) == NULL)
		return;
	j = &pj->job;
	if (bj_claim_waiting(req->app->db, j, req->app->conf->max_per_owner,
	    req->app->conf->max_per_kind) != BJ_OK)
		goto unavailable;
	bj_page_lang(req, j->language);
	/* whoever may see the job has been checked: now a poll may end here */
	page_job_key(pj, &key);
	if (bj_page_etag(req, &key, bj_job_poll_interval(j))) {
		bj_page_job_free(pj);
		return;
	}
	if (load_lapsed(req, pj) == -1)
		goto unavailable;
	/*
	 * The lists first, so that a database that stops answering gives a
	 * 503 rather than a page without them. An ended job: one round trip
	 * for the three lists. One still going has no notifications yet, and
	 * its failures are read only when its timeline says there may be some.
	 */
	if (bj_job_state_terminal(j->state))
		r = bj_db_queryp(req->app->db, BJ_SQL_PAGES_DETAILS,
		    BJ_PARAMS(BJ_P_INT(j->id), BJ_P_INT((long long)MAX_FAILURES + 1),
		    BJ_P_INT(j->id), BJ_P_INT(MAX_NOTIFICATIONS), BJ_P_INT(j->id),
		    BJ_P_INT(MAX_EVENTS)));
	else
		r = bj_db_queryp(req->app->db, BJ_SQL_PAGES_TIMELINE,
		    BJ_PARAMS(BJ_P_INT(j->id), BJ_P_INT(MAX_EVENTS)));
	if (r == NULL)
		goto unavailable;
	details_sort(r, &details);
	if (!bj_job_state_terminal(j->state) && failures_possible(j, &details) &&
	    (rf = bj_db_queryp(req->app->db, BJ_SQL_PAGES_FAILED, BJ_PARAMS(BJ_P_INT(j->id),
	    BJ_P_INT((long long)MAX_FAILURES + 1)))) == NULL)
		goto unavailable;
	title = j->title != NULL && *j->title ? j->title : _("Untitled job");
	h = bj_page_new(title);
	refresh = bj_job_poll_interval(j);
	if (refresh > 0)
		bj_html_refresh(h, refresh);
	body = bj_html_body(h);
	if (user != NULL) {
		char *list = bj_xasprintf("%s/jobs", req->app->conf->base_path);
		bj_html_link(bj_html_add(body, "nav", NULL), list, _("All my jobs"));
		free(list);
	}
	bj_html_add(body, "h1", title);
	p = bj_html_add(body, "p", _("Kind: "));
	bj_html_add(p, "code", j->kind);
	bj_html_addf(body, "p", _("Priority: %d"), j->priority);
	p = bj_html_add(body, "p", _("State: "));
	s = bj_html_add(p, "strong", bj_page_state_words(j->state));
	snprintf(cls, sizeof cls, "state state-%s", bj_job_state_name(j->state));
	bj_html_attr(s, "class", cls);
	bj_html_attr(p, "id", "state");
	add_progress(pj, tz, body);
	add_waiting(j, body);
	if (!bj_job_state_terminal(j->state))
		stage = add_stage(req, j, body);
	add_actions(req, j, body);
	add_download(req, pj, body);
	bj_html_add(body, "h2", _("Times"));
	dl = bj_html_add(body, "dl", NULL);
	add_time(dl, _("Created"), j->created_at, pj->created_ago, "", tz);
	add_time(dl, _("Started"), j->started_at, pj->started_ago, _("not yet"), tz);
	add_time(dl, _("Finished"), j->finished_at, pj->finished_ago, _("not yet"), tz);
	add_time(dl, _("Deadline"), j->deadline_at, pj->deadline_ago, _("none"), tz);
	if (rf != NULL)
		details_sort(rf, &failed);	/* else the failures are part 1 of details */
	add_failures(req, j, rf != NULL ? &failed : &details, body);
	add_notifications(&details, owner_or_admin(req->app->conf, user, j), body);
	add_timeline(req, j, &details, stage, body);
	free(details.rows);
	free(failed.rows);
	bj_rows_free(rf);
	bj_rows_free(r);
	if (refresh > 0) {
		p = bj_html_addf(body, "p", ngettext("This page refreshes itself every %d second "
		    "until the job has ended.", "This page refreshes itself every %d seconds "
		    "until the job has ended.", (unsigned long)refresh), refresh);
		bj_html_attr(p, "class", "muted");
	}
	bj_page_reply(req, 200, h);
	bj_page_job_free(pj);
	return;
unavailable:
	free(details.rows);
	bj_rows_free(r);
	bj_page_job_free(pj);
	bj_page_unavailable(req);
}
