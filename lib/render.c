/*
 * render.c: jobs and items as JSON (json-c). Every function returns a new
 * object owned by the caller (json_object_put); inputs are borrowed.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "render.h"

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

	json_object_object_add(o, "id", json_object_new_int64(j->id));
	json_object_object_add(o, "token", str_or_null(j->token));
	json_object_object_add(o, "kind", str_or_null(j->kind));
	json_object_object_add(o, "owner", str_or_null(j->owner));
	json_object_object_add(o, "title", str_or_null(j->title));
	json_object_object_add(o, "params", stored_json(j->params));
	json_object_object_add(o, "state", json_object_new_string(bj_job_state_name(j->state)));
	json_object_object_add(o, "stage", json_object_new_int(j->stage));
	json_object_object_add(o, "stage_count", json_object_new_int(j->stage_count));
	json_object_object_add(c, "total", json_object_new_int64(j->n_total));
	json_object_object_add(c, "pending", json_object_new_int64(j->n_pending));
	json_object_object_add(c, "claimed", json_object_new_int64(j->n_claimed));
	json_object_object_add(c, "succeeded", json_object_new_int64(j->n_succeeded));
	json_object_object_add(c, "failed", json_object_new_int64(j->n_failed));
	json_object_object_add(c, "cancelled", json_object_new_int64(j->n_cancelled));
	json_object_object_add(o, "counts", c);
	json_object_object_add(o, "progress", json_object_new_double(
	    j->n_total > 0 ? (double)ended / (double)j->n_total : 1.0));
	json_object_object_add(o, "created_at", str_or_null(j->created_at));
	json_object_object_add(o, "started_at", str_or_null(j->started_at));
	json_object_object_add(o, "finished_at", str_or_null(j->finished_at));
	json_object_object_add(o, "deadline_at", str_or_null(j->deadline_at));
	json_object_object_add(o, "artifact", j->artifact_deleted ? NULL : str_or_null(j->artifact));
	json_object_object_add(o, "artifact_expires_at", str_or_null(j->artifact_expires_at));
	json_object_object_add(o, "max_attempts", json_object_new_int(j->max_attempts));
	json_object_object_add(o, "lease_seconds", json_object_new_int(j->lease_seconds));
	json_object_object_add(o, "on_item_failure", json_object_new_string(
	    j->on_item_failure == BJ_ON_FAIL_CONTINUE ? "continue" : "fail_job"));
	json_object_object_add(o, "language", str_or_null(j->language));
	json_object_object_add(o, "idempotency_key", str_or_null(j->idempotency_key));
	s = bj_xasprintf("%s/v1/jobs/%lld", conf->public_url, j->id);
	json_object_object_add(l, "self", json_object_new_string(s));
	free(s);
	s = bj_xasprintf("%s/jobs/%s", conf->public_url, j->token ? j->token : "");
	json_object_object_add(l, "status_page", json_object_new_string(s));
	free(s);
	json_object_object_add(o, "links", l);
	return o;
}

struct json_object *
bj_render_item_row(const struct bj_rows *r, int row)
{
	struct json_object *o = json_object_new_object();
	struct json_object *p = NULL;

	json_object_object_add(o, "id", json_object_new_int64(bj_rows_int(r, row, 0)));
	json_object_object_add(o, "job_id", json_object_new_int64(bj_rows_int(r, row, 1)));
	json_object_object_add(o, "key", str_or_null(bj_rows_get(r, row, 2)));
	json_object_object_add(o, "stage", json_object_new_int64(bj_rows_int(r, row, 3)));
	json_object_object_add(o, "state", str_or_null(bj_rows_get(r, row, 4)));
	json_object_object_add(o, "attempt", json_object_new_int64(bj_rows_int(r, row, 5)));
	json_object_object_add(o, "error", str_or_null(bj_rows_get(r, row, 6)));
	json_object_object_add(o, "result", stored_json(bj_rows_get(r, row, 7)));
	json_object_object_add(o, "artifact", str_or_null(bj_rows_get(r, row, 8)));
	json_object_object_add(o, "claimed_by", str_or_null(bj_rows_get(r, row, 9)));
	json_object_object_add(o, "lease_expires_at", str_or_null(bj_rows_get(r, row, 10)));
	if (bj_rows_get(r, row, 11) != NULL) {
		p = json_object_new_object();
		json_object_object_add(p, "done", json_object_new_int64(bj_rows_int(r, row, 11)));
		json_object_object_add(p, "total", bj_rows_get(r, row, 12) ?
		    json_object_new_int64(bj_rows_int(r, row, 12)) : NULL);
	}
	json_object_object_add(o, "progress", p);
	json_object_object_add(o, "finished_at", str_or_null(bj_rows_get(r, row, 13)));
	return o;
}
