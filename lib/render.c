/*
 * render.c: jobs and items as JSON (json-c). Every function returns a new
 * object owned by the caller (json_object_put); inputs are borrowed.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "render.h"

/*
 * Add a member under a name that is a string literal and appears once in
 * the object: json-c then neither copies the name nor looks it up first.
 */
static void
put(struct json_object *o, const char *literal_key, struct json_object *v)
{
	json_object_object_add_ex(o, literal_key, v,
	    JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_ADD_CONSTANT_KEY);
}

/* A string or JSON null. */
static struct json_object *
str_or_null(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

/* Stored JSON text parsed back, or the text as a string if it is not JSON. */
static struct json_object *
stored_json(const char *s)
{
	struct json_object *o;

	if (s == NULL)
		return NULL;
	o = json_tokener_parse(s);
	return o != NULL ? o : json_object_new_string(s);
}

struct json_object *
bj_render_job(const struct bj_job *j, const struct bj_conf *conf)
{
	struct json_object *o = json_object_new_object();
	struct json_object *c = json_object_new_object();
	struct json_object *l = json_object_new_object();
	long long ended = j->n_succeeded + j->n_failed + j->n_cancelled;
	char *s;

	put(o, "id", json_object_new_int64(j->id));
	put(o, "token", str_or_null(j->token));
	put(o, "kind", str_or_null(j->kind));
	put(o, "owner", str_or_null(j->owner));
	put(o, "title", str_or_null(j->title));
	put(o, "params", stored_json(j->params));
	put(o, "state", json_object_new_string(bj_job_state_name(j->state)));
	put(o, "stage", json_object_new_int(j->stage));
	put(o, "stage_count", json_object_new_int(j->stage_count));
	put(o, "round", json_object_new_int(j->round));
	put(c, "total", json_object_new_int64(j->n_total));
	put(c, "pending", json_object_new_int64(j->n_pending));
	put(c, "claimed", json_object_new_int64(j->n_claimed));
	put(c, "succeeded", json_object_new_int64(j->n_succeeded));
	put(c, "failed", json_object_new_int64(j->n_failed));
	put(c, "cancelled", json_object_new_int64(j->n_cancelled));
	put(o, "counts", c);
	put(o, "progress", json_object_new_double(
	    j->n_total > 0 ? (double)ended / (double)j->n_total : 1.0));
	put(o, "created_at", str_or_null(j->created_at));
	put(o, "started_at", str_or_null(j->started_at));
	put(o, "finished_at", str_or_null(j->finished_at));
	put(o, "deadline_at", str_or_null(j->deadline_at));
	put(o, "artifact", j->artifact_deleted ? NULL : str_or_null(j->artifact));
	put(o, "artifact_expires_at", str_or_null(j->artifact_expires_at));
	put(o, "max_attempts", json_object_new_int(j->max_attempts));
	put(o, "lease_seconds", json_object_new_int(j->lease_seconds));
	put(o, "on_item_failure", json_object_new_string(
	    j->on_item_failure == BJ_ON_FAIL_CONTINUE ? "continue" : "fail_job"));
	put(o, "language", str_or_null(j->language));
	put(o, "idempotency_key", str_or_null(j->idempotency_key));
	put(o, "priority", json_object_new_int(j->priority));
	put(o, "max_concurrency", j->max_concurrency > 0 ?
	    json_object_new_int64(j->max_concurrency) : NULL);
	put(o, "waiting_on", str_or_null(j->waiting_on));
	s = bj_xasprintf("%s/v1/jobs/%lld", conf->public_url, j->id);
	put(l, "self", json_object_new_string(s));
	free(s);
	s = bj_xasprintf("%s/jobs/%s", conf->public_url, j->token ? j->token : "");
	put(l, "status_page", json_object_new_string(s));
	free(s);
	put(o, "links", l);
	return o;
}

struct json_object *
bj_render_item_row(const struct bj_rows *r, int row)
{
	struct json_object *o = json_object_new_object();
	struct json_object *p = NULL;

	put(o, "id", json_object_new_int64(bj_rows_int(r, row, 0)));
	put(o, "job_id", json_object_new_int64(bj_rows_int(r, row, 1)));
	put(o, "key", str_or_null(bj_rows_get(r, row, 2)));
	put(o, "stage", json_object_new_int64(bj_rows_int(r, row, 3)));
	put(o, "state", str_or_null(bj_rows_get(r, row, 4)));
	put(o, "attempt", json_object_new_int64(bj_rows_int(r, row, 5)));
	put(o, "error", str_or_null(bj_rows_get(r, row, 6)));
	put(o, "result", stored_json(bj_rows_get(r, row, 7)));
	put(o, "artifact", str_or_null(bj_rows_get(r, row, 8)));
	put(o, "claimed_by", str_or_null(bj_rows_get(r, row, 9)));
	put(o, "lease_expires_at", str_or_null(bj_rows_get(r, row, 10)));
	if (bj_rows_get(r, row, 11) != NULL) {
		p = json_object_new_object();
		put(p, "done", json_object_new_int64(bj_rows_int(r, row, 11)));
		put(p, "total", bj_rows_get(r, row, 12) ?
		    json_object_new_int64(bj_rows_int(r, row, 12)) : NULL);
	}
	put(o, "progress", p);
	put(o, "finished_at", str_or_null(bj_rows_get(r, row, 13)));
	return o;
}
