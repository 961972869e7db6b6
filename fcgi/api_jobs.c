/*
 * api_jobs.c: /v1/jobs: create, get, list, items, events, cancel, pause,
 * resume. Handlers parse, call the model in lib/ and render; they own
 * nothing past the request.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "buf.h"
#include "create.h"
#include "items_scan.h"
#include "json.h"
#include "render.h"
#include "router.h"
#include "sql.h"
#include "token.h"

#define LIST_MAX 500

/* An optional integer member into *out: 0 ok (absent keeps *out), -1 after 422. */
static int
opt_int(struct bj_req *req, struct json_object *o, const char *name, long long *out)
{
	if (bj_json_int(o, name, out) == -1) {
		bj_reply_error(req, BJ_ERR_VALIDATION, "%s: must be an integer", name);
		return -1;
	}
	return 0;
}

/* An optional string member: 0 ok (*out NULL when absent), -1 after 422. */
static int
opt_str(struct bj_req *req, struct json_object *o, const char *name, const char **out)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, name, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		bj_reply_error(req, BJ_ERR_VALIDATION, "%s: must be a string", name);
		return -1;
	}
	*out = json_object_get_string(v);
	return 0;
}

/* A member that is an array of strings into a new array; -1 after 422. */
static int
str_array(struct bj_req *req, struct json_object *o, const char *name, const char *label,
    const char ***out, size_t *n)
{
	struct json_object *v;

	*out = NULL;
	*n = 0;
	if (!json_object_object_get_ex(o, name, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_array)) {
		bj_reply_error(req, BJ_ERR_VALIDATION, "%s: must be an array of strings", label);
		return -1;
	}
	*n = json_object_array_length(v);
	*out = bj_xcalloc(*n + 1, sizeof **out);
	for (size_t i = 0; i < *n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string)) {
			bj_reply_error(req, BJ_ERR_VALIDATION, "%s[%zu]: must be a string", label, i);
			return -1;
		}
		(*out)[i] = json_object_get_string(e);
	}
	return 0;
}

/* JSON text of member name (any type but null), borrowed from the object; NULL when absent. */
static const char *
json_member_text(struct json_object *o, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, name, &v) || v == NULL)
		return NULL;
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

/*
 * Read the items array element by element into s->items, their strings
 * in *arena, then blank it out of req->body ("[]" and spaces) so the rest
 * can be parsed whole. -1 after replying.
 */
static int
take_items(struct bj_req *req, struct bj_job_spec *s, struct bj_buf *arena)
{
	const struct bj_conf *conf = req->app->conf;
	size_t start, end, pos, es, ee, cap = 0, *koff = NULL, *poff = NULL;
	int depth = conf->max_json_depth - 2, rc = -1, found;
	const char *why;
	enum bj_err e;

	found = bj_items_span(req->body, req->body_len, &start, &end);
	if (found == -1) {
		bj_reply_error(req, BJ_ERR_BAD_JSON, "malformed JSON: not a well-formed object");
		return -1;
	}
	if (found == 0)
		return 0;	/* parse_spec names the missing field */
	if (req->body[start] != '[') {
		bj_reply_error(req, BJ_ERR_VALIDATION, "items: an array of items is required");
		return -1;
	}
	pos = start;
	while ((found = bj_items_next(req->body, end, &pos, &es, &ee)) == 1) {
		struct json_object *it, *v;
		size_t i = s->nitems;
		long long stage = 0;
		const char *key;

		if (i >= (size_t)conf->max_items) {
			bj_reply_error(req, BJ_ERR_VALIDATION, "items: at most %d items per job",
			    conf->max_items);
			goto out;
		}
		if ((it = bj_json_parse(req->body + es, ee - es, depth > 1 ? depth : 1, &e,
		    &why)) == NULL) {
			bj_reply_error(req, e, "malformed JSON in items[%zu]: %s", i, why);
			goto out;
		}
		if (!json_object_is_type(it, json_type_object)) {
			json_object_put(it);
			bj_reply_error(req, BJ_ERR_VALIDATION, "items[%zu]: must be an object", i);
			goto out;
		}
		if ((key = bj_json_str(it, "key")) == NULL || bj_json_int(it, "stage", &stage) == -1) {
			json_object_put(it);
			bj_reply_error(req, BJ_ERR_VALIDATION, key == NULL ?
			    "items[%zu].key: a string is required" :
			    "items[%zu].stage: must be an integer", i);
			goto out;
		}
		if (i == cap) {
			cap = cap ? cap * 2 : 1024;
			s->items = bj_xrealloc(s->items, cap * sizeof *s->items);
			koff = bj_xrealloc(koff, cap * sizeof *koff);
			poff = bj_xrealloc(poff, cap * sizeof *poff);
		}
		s->items[i].stage = stage;
		koff[i] = arena->len;
		bj_buf_add(arena, key, strlen(key) + 1);
		poff[i] = (size_t)-1;
		if (json_object_object_get_ex(it, "payload", &v) && v != NULL) {
			const char *t = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
			poff[i] = arena->len;
			bj_buf_add(arena, t, strlen(t) + 1);
		}
		json_object_put(it);
		s->nitems++;
	}
	if (found == -1) {
		bj_reply_error(req, BJ_ERR_BAD_JSON, "malformed JSON in items");
		goto out;
	}
	/* the arena is final now: turn offsets into pointers */
	for (size_t i = 0; i < s->nitems; i++) {
		s->items[i].key = arena->data + koff[i];
		s->items[i].payload = poff[i] == (size_t)-1 ? NULL : arena->data + poff[i];
	}
	req->body[start] = '[';
	req->body[start + 1] = ']';
	memset(req->body + start + 2, ' ', end - start - 2);
	rc = 0;
out:
	free(koff);
	free(poff);
	return rc;
}

/* Fill spec from the body; -1 after replying. */
static int
parse_spec(struct bj_req *req, struct json_object *o, struct bj_job_spec *s)
{
	const struct bj_conf *conf = req->app->conf;
	struct json_object *items, *notify;
	const char *onfail;
	long long v;

	s->kind = bj_json_str(o, "kind");
	s->owner = bj_json_str(o, "owner");
	if (s->kind == NULL) {
		bj_reply_error(req, BJ_ERR_VALIDATION, "kind: a string is required");
		return -1;
	}
	if (s->owner == NULL) {
		bj_reply_error(req, BJ_ERR_VALIDATION, "owner: a string is required");
		return -1;
	}
	if (opt_str(req, o, "title", &s->title) == -1 ||
	    opt_str(req, o, "language", &s->language) == -1 ||
	    opt_str(req, o, "on_item_failure", &onfail) == -1)
		return -1;
	if (s->language == NULL)
		s->language = conf->default_language;
	s->params = json_member_text(o, "params");
	v = conf->max_attempts;
	if (opt_int(req, o, "max_attempts", &v) == -1)
		return -1;
	s->max_attempts = v < 0 || v > 1000000 ? -1 : (int)v;
	v = conf->lease_seconds;
	if (opt_int(req, o, "lease_seconds", &v) == -1)
		return -1;
	s->lease_seconds = v < 0 || v > 1000000 ? -1 : (int)v;
	s->deadline_seconds = conf->deadline_seconds;
	s->retention_seconds = conf->retention_seconds;
	if (opt_int(req, o, "deadline_seconds", &s->deadline_seconds) == -1 ||
	    opt_int(req, o, "retention_seconds", &s->retention_seconds) == -1)
		return -1;
	s->on_item_failure = conf->on_item_failure;
	if (onfail != NULL) {
		if (strcmp(onfail, "fail_job") == 0)
			s->on_item_failure = BJ_ON_FAIL_JOB;
		else if (strcmp(onfail, "continue") == 0)
			s->on_item_failure = BJ_ON_FAIL_CONTINUE;
		else {
			bj_reply_error(req, BJ_ERR_VALIDATION,
			    "on_item_failure: must be fail_job or continue");
			return -1;
		}
	}
	/* the items were taken out of the body before it was parsed: "[]" is left */
	if (!json_object_object_get_ex(o, "items", &items) ||
	    !json_object_is_type(items, json_type_array)) {
		bj_reply_error(req, BJ_ERR_VALIDATION, "items: an array of items is required");
		return -1;
	}
	if (json_object_array_length(items) != 0) {
		bj_reply_error(req, BJ_ERR_VALIDATION, "items: given more than once");
		return -1;
	}
	if (json_object_object_get_ex(o, "notify", &notify) && notify != NULL) {
		if (!json_object_is_type(notify, json_type_object)) {
			bj_reply_error(req, BJ_ERR_VALIDATION, "notify: must be an object");
			return -1;
		}
		if (str_array(req, notify, "email", "notify.email", &s->emails, &s->nemails) == -1 ||
		    str_array(req, notify, "webhooks", "notify.webhooks", &s->webhooks,
		    &s->nwebhooks) == -1)
			return -1;
	}
	return 0;
}

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
	struct json_object *o = NULL;
	struct bj_job_spec s;
	struct bj_buf arena = { 0 };
	char why[300];
	long long id;
	int existed;
	enum bj_err e;

	memset(&s, 0, sizeof s);
	if (bj_auth(req, BJ_SCOPE_SUBMIT) == -1 || bj_api_read(req, 0) == -1)
		goto out;
	bj_sha256_hex(req->body, req->body_len, s.request_hash);
	if (take_items(req, &s, &arena) == -1 || bj_api_parse(req, &o) == -1)
		goto out;
	if (parse_spec(req, o, &s) == -1)
		goto out;
	if (!bj_auth_sees(req, s.owner)) {
		bj_reply_error(req, BJ_ERR_FORBIDDEN,
		    "owner: this token may only submit jobs for its own owner");
		goto out;
	}
	s.idempotency_key = bj_req_header(req, "HTTP_IDEMPOTENCY_KEY");
	if ((e = bj_job_spec_check(&s, req->app->conf->max_items, why, sizeof why)) != BJ_OK) {
		bj_reply_error(req, e, "%s", why);
		goto out;
	}
	e = bj_job_create(req->app->db, &s, &id, &existed);
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
	free(s.items);
	bj_buf_free(&arena);
	free(s.emails);
	free(s.webhooks);
	if (o != NULL)
		json_object_put(o);
}

void
bj_api_jobs_get(struct bj_req *req)
{
	struct bj_job *j;
	struct json_object *o;
	long long id;

	if (bj_auth(req, BJ_SCOPE_SUBMIT) == -1 ||
	    bj_api_id(req, req->args[0], BJ_ERR_JOB_NOT_FOUND, &id) == -1 ||
	    bj_api_job(req, id, &j) == -1)
		return;
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
	for (int i = 0; i < n && i < limit; i++)
		json_object_array_add(a, bj_render_job(jobs[i], req->app->conf));
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
		/* an ended job's pending rows wait for the reaper to cancel them */
		r = bj_db_query(db, bj_job_state_terminal(j->state) &&
		    (strcmp(state, "pending") == 0 || strcmp(state, "cancelled") == 0) ?
		    BJ_SQL_ITEMS_LIST_ENDED : BJ_SQL_ITEMS_LIST_STATE, "isii", id, state, after,
		    (long long)limit + 1);
	} else {
		if (after == 0) {
			/* start the primary-key walk at the job's first item */
			struct bj_rows *f = bj_db_query(db, BJ_SQL_ITEMS_FIRST, "i", id);
			if (f == NULL) {
				bj_api_fail(req, bj_job_db_error(db));
				goto out;
			}
			after = bj_rows_int(f, 0, 0) - 1;
			bj_rows_free(f);
		}
		r = bj_db_query(db, BJ_SQL_ITEMS_LIST, "iii", after, id, (long long)limit + 1);
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
	bj_job_free(j);
	if ((r = bj_db_query(db, BJ_SQL_EVENTS_LIST, "iii", id, 0LL, 10000LL)) == NULL) {
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

enum change { CANCEL, PAUSE, RESUME };

/* cancel, pause or resume one job in a transaction, then reply its JSON. */
static void
change(struct bj_req *req, enum change what)
{
	static const char *const names[] = { "cancel", "pause", "resume" };
	struct bj_db *db = req->app->db;
	struct json_object *o = NULL;
	struct bj_job *j = NULL;
	long long id;
	enum bj_err e = BJ_OK;
	char detail[200];

	if (bj_auth(req, BJ_SCOPE_SUBMIT) == -1 || bj_api_body(req, 1, &o) == -1 ||
	    bj_api_id(req, req->args[0], BJ_ERR_JOB_NOT_FOUND, &id) == -1 ||
	    bj_api_job(req, id, &j) == -1)
		goto out;
	for (int tries = 0; tries < 3; tries++) {
		if (bj_db_begin(db) == -1) {
			e = bj_job_db_error(db);
			break;
		}
		if (what == CANCEL) {
			snprintf(detail, sizeof detail, "by token %.100s", req->token_name);
			e = bj_job_finish(db, id, BJ_JOB_CANCELLED, detail);
		} else if (what == PAUSE) {
			e = bj_job_pause(db, id);
		} else {
			e = bj_job_resume(db, id);
		}
		if (e == BJ_OK && bj_db_commit(db) == -1)
			e = bj_job_db_error(db);
		if (e == BJ_OK)
			break;
		bj_db_rollback(db);
		if (!(e == BJ_ERR_INTERNAL && bj_db_errno(db) == 1213))
			break;
	}
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
	change(req, CANCEL);
}

void
bj_api_jobs_pause(struct bj_req *req)
{
	change(req, PAUSE);
}

void
bj_api_jobs_resume(struct bj_req *req)
{
	change(req, RESUME);
}
