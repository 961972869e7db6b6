/*
 * page_list.c: GET /jobs, the signed-in user's jobs, newest first, 25 a
 * page, keyset-paginated by id (?after=ID shows the jobs older than ID).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pages.h"
#include "sql.h"

#define PAGE_SIZE 25

/* The ?after= cursor: a positive id, or the largest id when absent. */
static int
parse_after(const char *query, long long *after)
{
	char *v = bj_form_get(query, "after"), *end;
	int ok = 1;

	*after = 0x7fffffffffffffffLL;
	if (v == NULL)
		return 1;
	*after = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || *after <= 0)
		ok = 0;
	free(v);
	return ok;
}

/*
 * Conditional GET of the list: the rows it read (the user's own, so
 * nobody else's answer) are what it shows, with each job's version and
 * creation time as words. 1 after a 304.
 */
static int
list_etag(struct bj_req *req, const struct bj_rows *r)
{
	struct bj_buf key = { 0 };
	char rel[64];

	for (int i = 0; i < r->nrows; i++) {
		struct bj_page_job pj;

		bj_page_job_from_row(r, i, &pj);
		bj_page_relative(pj.created_ago, rel, sizeof rel);
		bj_buf_printf(&key, "%lld %lld %s\n", pj.job.id, pj.job.version, rel);
		bj_page_job_clear(&pj);
	}
	return bj_page_etag(req, &key, 0);
}

/* GET /jobs */
void
bj_page_list(struct bj_req *req)
{
	const char *user = bj_page_user(req), *base = req->app->conf->base_path;
	struct bj_rows *r = NULL;
	struct bj_html *h;
	struct bj_html_el *body, *t, *tr, *td, *p, *s;
	long long after;
	char cls[40], *url;
	int shown;

	bj_page_lang(req, NULL);
	if (!bj_page_signed_in(req))
		return;
	if (!parse_after(req->query, &after)) {
		bj_page_error(req, 400, _("Bad request"),
		    _("The page link is broken: \"after\" must be a job number."));
		return;
	}
	r = bj_db_queryp(req->app->db, BJ_SQL_PAGES_LIST, BJ_PARAMS(BJ_P_STR(user),
	    BJ_P_INT(after), BJ_P_INT((long long)PAGE_SIZE + 1)));
	if (r == NULL) {
		bj_page_unavailable(req);
		return;
	}
	if (list_etag(req, r)) {
		bj_rows_free(r);
		return;
	}
	h = bj_page_new(_("Your jobs"));
	body = bj_html_body(h);
	bj_html_add(body, "h1", _("Your jobs"));
	p = bj_html_add(body, "p", _("Signed in as "));
	bj_html_add(p, "strong", user);
	if (r->nrows == 0) {
		bj_html_add(body, "p", after == 0x7fffffffffffffffLL ?
		    _("You have no jobs yet.") : _("There are no older jobs."));
		goto send;
	}
	t = bj_html_add(body, "table", NULL);
	tr = bj_html_add(bj_html_add(t, "thead", NULL), "tr", NULL);
	bj_html_add(tr, "th", _("Job"));
	bj_html_add(tr, "th", _("State"));
	bj_html_add(tr, "th", _("Progress"));
	bj_html_add(tr, "th", _("Kind"));
	bj_html_add(tr, "th", _("Created"));
	t = bj_html_add(t, "tbody", NULL);
	shown = r->nrows > PAGE_SIZE ? PAGE_SIZE : r->nrows;
	for (int i = 0; i < shown; i++) {
		struct bj_page_job pj;
		const struct bj_job *j = &pj.job;
		long long done;
		char rel[64];

		bj_page_job_from_row(r, i, &pj);
		done = j->n_succeeded + j->n_failed + j->n_cancelled;
		tr = bj_html_add(t, "tr", NULL);
		url = bj_xasprintf("%s/jobs/%s", base, j->token);
		td = bj_html_add(tr, "td", NULL);
		bj_html_link(td, url, j->title && *j->title ? j->title : _("Untitled job"));
		free(url);
		/* the number tells two jobs of one title apart */
		s = bj_html_addf(td, "span", " #%lld", j->id);
		bj_html_attr(s, "class", "muted");
		s = bj_html_add(bj_html_add(tr, "td", NULL), "span", bj_page_state_words(j->state));
		snprintf(cls, sizeof cls, "state state-%s", bj_job_state_name(j->state));
		bj_html_attr(s, "class", cls);
		bj_html_addf(tr, "td", _("%lld of %lld"), done, j->n_total);
		bj_html_add(tr, "td", j->kind);
		td = bj_html_add(tr, "td", NULL);
		bj_page_relative(pj.created_ago, rel, sizeof rel);
		s = bj_html_add(td, "time", rel);
		bj_html_attr(s, "datetime", j->created_at);
		bj_html_attr(s, "title", j->created_at);
		if (i == shown - 1 && r->nrows > PAGE_SIZE) {
			url = bj_xasprintf("%s/jobs?after=%lld", base, j->id);
			p = bj_html_add(body, "nav", NULL);
			bj_html_link(p, url, _("Older jobs"));
			free(url);
		}
		bj_page_job_clear(&pj);
	}
send:
	bj_rows_free(r);
	bj_page_reply(req, 200, h);
}
