/*
 * api_jobs.c: /v1/jobs: create, get, list, items, events, cancel, pause,
 * resume, retry. Handlers parse, call the model in lib/ and render; they own
 * nothing past the request.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "buf.h"
#include "claim.h"
#include "create.h"
#include "job_spec.h"
#include "json.h"
#include "render.h"
#include "router.h"
#include "sql.h"
#include "token.h"

#define LIST_MAX 500

/* Reply with job id as JSON and status. */
static void
reply_job(struct bj_req *req, long long id, int status)
{
	struct bj_job *j;
	struct json_object *o;
	enum bj_err e = bj_job_get(req->app->db, id, &j);

	if (e != BJ_OK) {
		bj_api_fail(req, e);
		return;
	}
	o = bj_render_job(j, req->app->conf);
	if (status == 201 && j->id > 0) {
		char *loc = bj_xasprintf("%s/v1/jobs/%lld", req->app->conf->public_url, j->id);
		bj_reply_header(req, "Location", loc);
		free(loc);
	}
	bj_reply_json(req, status, o);
	json_object_put(o);
	bj_job_free(j);
}

void
bj_api_jobs_create(struct bj_req *req)
{
	struct bj_spec_body p;
	struct bj_job_spec *s = &p.spec;
	char why[300], hash[BJ_SHA256_HEX];
	long long id;
	int existed;
	enum bj_err e;

	memset(&p, 0, sizeof p);
	if (bj_auth(req, BJ_SCOPE_SUBMIT) == -1 || bj_api_read(req, 0) == -1)
		goto out;
	/* the hash is of the body as sent: parsing blanks its items out */
	bj_sha256_hex(req->body, req->body_len, hash);
	if ((e = bj_spec_body_parse(req->app->conf, req->body, req->body_len, &p, why,
	    sizeof why)) != BJ_OK) {
		bj_reply_error(req, e, "%s", why);
		goto out;
	}
	memcpy(s->request_hash, hash, sizeof hash);
	if (!bj_auth_sees(req, s->owner)) {
		bj_reply_error(req, BJ_ERR_FORBIDDEN,
		    "owner: this token may only submit jobs for its own owner");
		goto out;
	}
	s->idempotency_key = bj_req_header(req, "HTTP_IDEMPOTENCY_KEY");
	if ((e = bj_job_spec_check(s, req->app->conf->max_items, why, sizeof why)) != BJ_OK) {
		bj_reply_error(req, e, "%s", why);
		goto out;
	}
	e = bj_job_create(req->app->db, s, &id, &existed);
	if (e == BJ_ERR_IDEMPOTENCY_MISMATCH) {
		bj_reply_error(req, e, "Idempotency-Key was used with a different request body");
		goto out;
	}
	if (e != BJ_OK) {
		bj_api_fail(req, e);
		goto out;
	}
	reply_job(req, id, existed ? 200 : 201);
out:
	bj_spec_body_free(&p);
}

void
bj_api_jobs_get(struct bj_req *req)
{
	struct bj_job *j;
	struct json_object *o;
	long long id;
	enum bj_err e;

	if (bj_auth(req, BJ_SCOPE_SUBMIT) == -1 ||
	    bj_api_id(req, req->args[0], BJ_ERR_JOB_NOT_FOUND, &id) == -1 ||
	    bj_api_job(req, id, &j) == -1)
		return;
	if ((e = bj_claim_waiting(req->app->db, j, req->app->conf->max_per_owner,
	    req->app->conf->max_per_kind)) != BJ_OK) {
		bj_api_fail(req, e);
		bj_job_free(j);
		return;
	}
	if (bj_api_job_etag(req, j)) {
		bj_job_free(j);
		return;
	}
	o = bj_render_job(j, req->app->conf);
	bj_reply_json(req, 200, o);
	json_object_put(o);
	bj_job_free(j);
}

/* limit and after from the query string; -1 after a 400. */
static int
paging(struct bj_req *req, int *limit, long long *after)
{
	char *l = bj_form_get(req->query, "limit"), *a = bj_form_get(req->query, "after");
	char *end;
	int rc = 0;

	*limit = 50;
	*after = 0;
	if (l != NULL) {
		long long v = strtoll(l, &end, 10);
		if (*l == '\0' || *end != '\0' || v < 1 || v > LIST_MAX)
			rc = -1;
		else
			*limit = (int)v;
	}
	if (a != NULL && a[0] != '\0') {
		long long v = strtoll(a, &end, 10);
		if (*end != '\0' || v < 0)
			rc = -1;
		else
			*after = v;
	}
	free(l);
	free(a);
	if (rc == -1)
		bj_reply_error(req, BJ_ERR_BAD_REQUEST,
		    "limit must be 1-%d and after a cursor from a previous page", LIST_MAX);
	return rc;
}

void
bj_api_jobs_list(struct bj_req *req)
{
	char *owner = NULL, *state = NULL, *kind = NULL;
	struct bj_job **jobs = NULL;
	struct json_object *o, *a;
	long long after;
	int limit, n = 0;
	enum bj_err e;

	if (bj_auth(req, BJ_SCOPE_SUBMIT) == -1 || paging(req, &limit, &after) == -1)
		return;
	owner = bj_form_get(req->query, "owner");
	state = bj_form_get(req->query, "state");
	kind = bj_form_get(req->query, "kind");
	if (owner != NULL && *owner == '\0') {
		free(owner);
		owner = NULL;
	}
	if (state != NULL && bj_job_state_parse(state) < 0) {
		bj_reply_error(req, BJ_ERR_BAD_REQUEST, "state: not a job state");
		goto out;
	}
	if (!(req->scopes & BJ_SCOPE_ADMIN)) {
		if (owner != NULL && !bj_auth_sees(req, owner)) {
			bj_reply_error(req, BJ_ERR_FORBIDDEN, "owner: this token sees only its own jobs");
			goto out;
		}
		free(owner);
		owner = bj_xstrdup(req->token_owner);
	}
	if ((e = bj_job_list(req->app->db, owner, state, kind != NULL && *kind ? kind : NULL,
	    after, limit + 1, &jobs, &n)) != BJ_OK) {
		bj_api_fail(req, e);
		goto out;
	}
	/* one row more than asked tells whether another page exists */
	o = json_object_new_object();
	a = json_object_new_array();
	for (int i = 0; i < n && i < limit; i++) {
		/* in a list, only the job's own limit is looked at (no query per job) */
		bj_claim_waiting(req->app->db, jobs[i], 0, NULL);
		json_object_array_add(a, bj_render_job(jobs[i], req->app->conf));
	}
	json_object_object_add(o, "jobs", a);
	if (n > limit) {
		char cur[24];
		snprintf(cur, sizeof cur, "%lld", jobs[limit - 1]->id);
		json_object_object_add(o, "next", json_object_new_string(cur));
	} else {
		json_object_object_add(o, "next", NULL);
	}
	bj_reply_json(req, 200, o);
	json_object_put(o);
out:
	bj_job_list_free(jobs, n);
	free(owner);
	free(state);
	free(kind);
}

void
bj_api_jobs_items(struct bj_req *req)
{
	struct bj_db *db = req->app->db;
	struct bj_job *j = NULL;
	struct bj_rows *r = NULL;
	struct json_object *o, *a;
	char *state = NULL;
	long long id, after;
	int limit;

	if (bj_auth(req, BJ_SCOPE_SUBMIT) == -1 ||
	    bj_api_id(req, req->args[0], BJ_ERR_JOB_NOT_FOUND, &id) == -1 ||
	    bj_api_job(req, id, &j) == -1 || paging(req, &limit, &after) == -1)
		goto out;
	state = bj_form_get(req->query, "state");
	if (state != NULL && *state != '\0') {
		if (bj_item_state_parse(state) < 0) {
			bj_reply_error(req, BJ_ERR_BAD_REQUEST, "state: not an item state");
			goto out;
		}
	}
	if (bj_api_job_etag(req, j))
		goto out;
	if (state != NULL && *state != '\0') {
		/* an ended job's pending rows are cancelled ones the reaper has not reached */
		if (!bj_job_state_terminal(j->state) ||
		    (strcmp(state, "pending") != 0 && strcmp(state, "cancelled") != 0))
			r = bj_db_queryp(db, BJ_SQL_ITEMS_LIST_STATE, BJ_PARAMS(BJ_P_INT(id),
			    BJ_P_STR(state), BJ_P_INT(after),
			    BJ_P_INT((long long)limit + 1)));
		else if (strcmp(state, "cancelled") == 0)
			r = bj_db_queryp(db, BJ_SQL_ITEMS_LIST_ENDED, BJ_PARAMS(BJ_P_INT(id),
			    BJ_P_INT(after), BJ_P_INT((long long)limit + 1), BJ_P_INT(id),
			    BJ_P_INT(after), BJ_P_INT((long long)limit + 1),
			    BJ_P_INT((long long)limit + 1)));
		else
			r = bj_xcalloc(1, sizeof *r);	/* none pending, by definition */
	} else {
		if (after == 0) {
			/* start the primary-key walk at the job's first item */
			struct bj_rows *f = bj_db_queryp(db, BJ_SQL_ITEMS_FIRST,
			    BJ_PARAMS(BJ_P_INT(id)));
			if (f == NULL) {
				bj_api_fail(req, bj_job_db_error(db));
				goto out;
			}
			after = bj_rows_int(f, 0, 0) - 1;
			bj_rows_free(f);
		}
		r = bj_db_queryp(db, BJ_SQL_ITEMS_LIST, BJ_PARAMS(BJ_P_INT(after),
		    BJ_P_INT(id), BJ_P_INT((long long)limit + 1)));
	}
	if (r == NULL) {
		bj_api_fail(req, bj_job_db_error(db));
		goto out;
	}
	o = json_object_new_object();
	a = json_object_new_array();
	/* one row more than asked tells whether another page exists */
	for (int i = 0; i < r->nrows && i < limit; i++)
		json_object_array_add(a, bj_render_item_row(r, i));
	json_object_object_add(o, "items", a);
	if (r->nrows > limit) {
		char cur[24];
		snprintf(cur, sizeof cur, "%lld", bj_rows_int(r, limit - 1, 0));
		json_object_object_add(o, "next", json_object_new_string(cur));
	} else {
		json_object_object_add(o, "next", NULL);
	}
	bj_reply_json(req, 200, o);
	json_object_put(o);
out:
	bj_rows_free(r);
	bj_job_free(j);
	free(state);
}

void
bj_api_jobs_events(struct bj_req *req)
{
	struct bj_db *db = req->app->db;
	struct bj_job *j = NULL;
	struct bj_rows *r;
	struct json_object *o, *a;
	long long id;

	if (bj_auth(req, BJ_SCOPE_SUBMIT) == -1 ||
	    bj_api_id(req, req->args[0], BJ_ERR_JOB_NOT_FOUND, &id) == -1 ||
	    bj_api_job(req, id, &j) == -1)
		return;
	if (bj_api_job_etag(req, j)) {
		bj_job_free(j);
		return;
	}
	bj_job_free(j);
	if ((r = bj_db_queryp(db, BJ_SQL_EVENTS_LIST, BJ_PARAMS(BJ_P_INT(id), BJ_P_INT(0),
	    BJ_P_INT(10000)))) == NULL) {
		bj_api_fail(req, bj_job_db_error(db));
		return;
	}
	o = json_object_new_object();
	a = json_object_new_array();
	for (int i = 0; i < r->nrows; i++) {
		struct json_object *e = json_object_new_object();
		const char *d = bj_rows_get(r, i, 2);
		json_object_object_add(e, "at", json_object_new_string(bj_rows_get(r, i, 0)));
		json_object_object_add(e, "type", json_object_new_string(bj_rows_get(r, i, 1)));
		json_object_object_add(e, "detail", d ? json_object_new_string(d) : NULL);
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "events", a);
	bj_reply_json(req, 200, o);
	json_object_put(o);
	bj_rows_free(r);
}

/*
 * A retry's round from the optional body ({"round": N}, the round the
 * client saw fail): 0 when absent, -1 after replying 422.
 */
static int
retry_round(struct bj_req *req, struct json_object *o, const struct bj_job *j)
{
	long long round = 0;
	int got = o != NULL ? bj_json_int(o, "round", &round) : 0;

	if (got == -1 || (got == 1 && (round < 1 || round > j->round))) {
		bj_reply_error(req, BJ_ERR_VALIDATION,
		    "round: an integer from 1 to the job's round (%d)", j->round);
		return -1;
	}
	return (int)round;
}

/* cancel, pause, resume or retry one job, then reply its JSON. */
static void
change(struct bj_req *req, enum bj_job_change what)
{
	static const char *const names[] = { "cancel", "pause", "resume", "retry" };
	struct json_object *o = NULL;
	struct bj_job *j = NULL;
	long long id;
	int round = 0;
	enum bj_err e;
	char detail[200];

	if (bj_auth(req, BJ_SCOPE_SUBMIT) == -1 || bj_api_body(req, 1, &o) == -1 ||
	    bj_api_id(req, req->args[0], BJ_ERR_JOB_NOT_FOUND, &id) == -1 ||
	    bj_api_job(req, id, &j) == -1)
		goto out;
	if (what == BJ_CHANGE_RETRY && (round = retry_round(req, o, j)) == -1)
		goto out;
	snprintf(detail, sizeof detail, "by token %.100s", req->token_name);
	e = bj_job_change_round(req->app->db, id, what, round, detail);
	if (e == BJ_ERR_INVALID_TRANSITION) {
		bj_reply_error(req, e, "cannot %s a job that is %s", names[what],
		    bj_job_state_name(j->state));
		goto out;
	}
	if (e != BJ_OK) {
		bj_api_fail(req, e);
		goto out;
	}
	reply_job(req, id, 200);
out:
	bj_job_free(j);
	if (o != NULL)
		json_object_put(o);
}

void
bj_api_jobs_cancel(struct bj_req *req)
{
	change(req, BJ_CHANGE_CANCEL);
}

void
bj_api_jobs_pause(struct bj_req *req)
{
	change(req, BJ_CHANGE_PAUSE);
}

void
bj_api_jobs_resume(struct bj_req *req)
{
	change(req, BJ_CHANGE_RESUME);
}

void
bj_api_jobs_retry(struct bj_req *req)
{
	change(req, BJ_CHANGE_RETRY);
}
