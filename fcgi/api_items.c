/*
 * api_items.c: POST /v1/items/{id}/heartbeat, /complete, /fail and the
 * batch POST /v1/items/complete (lib/lease.c does the work).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "artifact_path.h"
#include "auth.h"
#include "buf.h"
#include "create.h"
#include "json.h"
#include "lease.h"
#include "render.h"
#include "router.h"
#include "sql.h"

#define ERROR_MAX 65535

/* Auth, body, id and lease_token shared by the three; -1 after replying. */
static int
start(struct bj_req *req, struct json_object **o, long long *id, const char **token)
{
	if (bj_auth(req, BJ_SCOPE_WORK) == -1 || bj_api_body(req, 0, o) == -1 ||
	    bj_api_id(req, req->args[0], BJ_ERR_ITEM_NOT_FOUND, id) == -1)
		return -1;
	if ((*token = bj_api_need_str(req, *o, "", "lease_token")) == NULL)
		return -1;
	return 0;
}

/* Reply the item as it is now. */
static void
reply_item(struct bj_req *req, long long id)
{
	struct bj_rows *r = bj_db_queryp(req->app->db, BJ_SQL_ITEM_GET,
	    BJ_PARAMS(BJ_P_INT(id)));
	struct json_object *o;

	if (r == NULL || r->nrows == 0) {
		bj_api_fail(req, r == NULL ? bj_job_db_error(req->app->db) : BJ_ERR_ITEM_NOT_FOUND);
		bj_rows_free(r);
		return;
	}
	o = bj_render_item_row(r, 0);
	bj_reply_json(req, 200, o);
	json_object_put(o);
	bj_rows_free(r);
}

void
bj_api_items_heartbeat(struct bj_req *req)
{
	struct json_object *o = NULL, *p, *res, *err;
	struct bj_lease_status st = { 0 };
	const char *token;
	long long id, done = -1, total = -1, lease = 0;
	enum bj_err e;

	if (start(req, &o, &id, &token) == -1)
		goto out;
	if (json_object_object_get_ex(o, "progress", &p) && p != NULL) {
		if (json_object_is_type(p, json_type_int)) {
			done = json_object_get_int64(p);
		} else if (json_object_is_type(p, json_type_object)) {
			if (bj_json_int(p, "done", &done) == -1 || bj_json_int(p, "total", &total) == -1)
				done = -2;
		} else {
			done = -2;
		}
		if (done < -1 || total < -1) {
			bj_reply_error(req, BJ_ERR_VALIDATION,
			    "progress: an integer or {\"done\":N,\"total\":N} of non-negative integers");
			goto out;
		}
	}
	if (bj_json_int(o, "lease_seconds", &lease) == -1 || lease < 0 ||
	    lease > BJ_LEASE_MAX_SECONDS) {
		bj_reply_error(req, BJ_ERR_VALIDATION,
		    "lease_seconds: an integer from 0 (the job's own) to %d", BJ_LEASE_MAX_SECONDS);
		goto out;
	}
	e = bj_lease_heartbeat(req->app->db, id, token, (int)lease, done, total, &st);
	if (e == BJ_ERR_LEASE_LOST) {
		/* the worker must learn why: say the job's state next to the error */
		res = json_object_new_object();
		err = json_object_new_object();
		json_object_object_add(err, "code", json_object_new_string(bj_err_code(e)));
		json_object_object_add(err, "message", json_object_new_string(bj_api_message(e)));
		json_object_object_add(res, "error", err);
		json_object_object_add(res, "job_state",
		    json_object_new_string(bj_job_state_name(st.job_state)));
		json_object_object_add(res, "item_state", st.item_state >= 0 ?
		    json_object_new_string(bj_item_state_name((enum bj_item_state)st.item_state)) : NULL);
		bj_reply_json(req, bj_err_http_status(e), res);
		json_object_put(res);
		goto out;
	}
	if (e != BJ_OK) {
		bj_api_fail(req, e);
		goto out;
	}
	res = json_object_new_object();
	json_object_object_add(res, "id", json_object_new_int64(id));
	json_object_object_add(res, "lease_expires_at",
	    json_object_new_string(st.lease_expires_at ? st.lease_expires_at : ""));
	json_object_object_add(res, "job_state",
	    json_object_new_string(bj_job_state_name(st.job_state)));
	bj_reply_json(req, 200, res);
	json_object_put(res);
out:
	bj_lease_status_free(&st);
	if (o != NULL)
		json_object_put(o);
}

/*
 * The result and artifact members of a completion in o: *result is
 * borrowed from o (NULL when absent), path the normalised artifact ("" when
 * absent). where prefixes the member names in errors; -1 after replying.
 */
static int
completion_fields(struct bj_req *req, struct json_object *o, const char *where,
    const char **result, char path[BJ_ARTIFACT_PATH_MAX + 1])
{
	struct json_object *v;
	const char *art, *why = NULL;

	*result = NULL;
	path[0] = '\0';
	if (json_object_object_get_ex(o, "result", &v) && v != NULL)
		*result = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
	if (*result != NULL && strlen(*result) > BJ_PAYLOAD_MAX) {
		bj_reply_error(req, BJ_ERR_VALIDATION, "%sresult: at most %d bytes of JSON",
		    where, BJ_PAYLOAD_MAX);
		return -1;
	}
	if (json_object_object_get_ex(o, "artifact", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_string)) {
			bj_reply_error(req, BJ_ERR_BAD_ARTIFACT_PATH, "%sartifact: must be a string",
			    where);
			return -1;
		}
		art = json_object_get_string(v);
		if (bj_artifact_path_normalize(art, (size_t)json_object_get_string_len(v), path,
		    &why) != BJ_OK) {
			bj_reply_error(req, BJ_ERR_BAD_ARTIFACT_PATH, "%sartifact: %s", where, why);
			return -1;
		}
	}
	return 0;
}

void
bj_api_items_complete(struct bj_req *req)
{
	struct json_object *o = NULL;
	const char *token, *result;
	char path[BJ_ARTIFACT_PATH_MAX + 1];
	long long id;
	enum bj_err e;

	if (start(req, &o, &id, &token) == -1)
		goto out;
	if (completion_fields(req, o, "", &result, path) == -1)
		goto out;
	e = bj_lease_complete(req->app->db, id, token, result, path[0] ? path : NULL);
	if (e != BJ_OK) {
		bj_api_fail(req, e);
		goto out;
	}
	reply_item(req, id);
out:
	if (o != NULL)
		json_object_put(o);
}

/*
 * Entry i of a batch into c (strings borrowed from it, the artifact copied
 * into *art, which the caller frees); -1 after replying.
 */
static int
batch_entry(struct bj_req *req, struct json_object *it, size_t i, struct bj_completion *c,
    char **art)
{
	char where[40], path[BJ_ARTIFACT_PATH_MAX + 1];
	long long id = 0;

	snprintf(where, sizeof where, "items[%zu].", i);
	if (!json_object_is_type(it, json_type_object)) {
		bj_reply_error(req, BJ_ERR_VALIDATION, "items[%zu]: must be an object", i);
		return -1;
	}
	if (bj_json_int(it, "id", &id) != 1 || id < 1) {
		bj_reply_error(req, BJ_ERR_VALIDATION, "%sid: a positive integer is required",
		    where);
		return -1;
	}
	c->id = id;
	if ((c->lease_token = bj_api_need_str(req, it, where, "lease_token")) == NULL)
		return -1;
	if (completion_fields(req, it, where, &c->result, path) == -1)
		return -1;
	*art = path[0] ? bj_xstrdup(path) : NULL;
	c->artifact = *art;
	return 0;
}

/*
 * POST /v1/items/complete: {"items":[{"id","lease_token","result",
 * "artifact"}, …]} in one transaction. A malformed entry refuses the whole
 * request before anything changes; a stale token refuses only its item,
 * in the per-item outcome list, which follows the request's order.
 */
void
bj_api_items_complete_batch(struct bj_req *req)
{
	struct json_object *o = NULL, *list, *res, *a;
	struct bj_completion *c = NULL;
	char **arts = NULL;
	size_t n = 0;
	enum bj_err e;

	if (bj_auth(req, BJ_SCOPE_WORK) == -1 || bj_api_body(req, 0, &o) == -1)
		goto out;
	if (!json_object_object_get_ex(o, "items", &list) ||
	    !json_object_is_type(list, json_type_array) ||
	    json_object_array_length(list) < 1) {
		bj_reply_error(req, BJ_ERR_VALIDATION,
		    "items: an array of 1 to %d completions is required", BJ_COMPLETE_MAX);
		goto out;
	}
	if (json_object_array_length(list) > BJ_COMPLETE_MAX) {
		bj_reply_error(req, BJ_ERR_VALIDATION, "items: at most %d completions per call",
		    BJ_COMPLETE_MAX);
		goto out;
	}
	n = json_object_array_length(list);
	c = bj_xcalloc(n, sizeof *c);
	arts = bj_xcalloc(n, sizeof *arts);
	for (size_t i = 0; i < n; i++)
		if (batch_entry(req, json_object_array_get_idx(list, i), i, &c[i], &arts[i]) == -1)
			goto out;
	if ((e = bj_lease_complete_batch(req->app->db, c, (int)n)) != BJ_OK) {
		bj_api_fail(req, e);
		goto out;
	}
	res = json_object_new_object();
	a = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *it = json_object_new_object(), *err;

		json_object_object_add(it, "id", json_object_new_int64(c[i].id));
		if (c[i].outcome == BJ_OK) {
			json_object_object_add(it, "ok", json_object_new_boolean(1));
		} else {
			err = json_object_new_object();
			json_object_object_add(err, "code",
			    json_object_new_string(bj_err_code(c[i].outcome)));
			json_object_object_add(err, "message",
			    json_object_new_string(bj_api_message(c[i].outcome)));
			json_object_object_add(it, "error", err);
		}
		json_object_array_add(a, it);
	}
	json_object_object_add(res, "items", a);
	bj_reply_json(req, 200, res);
	json_object_put(res);
out:
	for (size_t i = 0; arts != NULL && i < n; i++)
		free(arts[i]);
	free(arts);
	free(c);
	if (o != NULL)
		json_object_put(o);
}

void
bj_api_items_fail(struct bj_req *req)
{
	struct json_object *o = NULL;
	const char *token, *error;
	int retryable = 0;
	long long id;
	enum bj_err e;

	if (start(req, &o, &id, &token) == -1)
		goto out;
	error = bj_json_str(o, "error");
	if (error != NULL && strlen(error) > ERROR_MAX) {
		bj_reply_error(req, BJ_ERR_VALIDATION, "error: at most %d bytes", ERROR_MAX);
		goto out;
	}
	if (bj_json_bool(o, "retryable", &retryable) == -1) {
		bj_reply_error(req, BJ_ERR_VALIDATION, "retryable: must be true or false");
		goto out;
	}
	e = bj_lease_fail(req->app->db, id, token, error ? error : "failed", retryable);
	if (e != BJ_OK) {
		bj_api_fail(req, e);
		goto out;
	}
	reply_item(req, id);
out:
	if (o != NULL)
		json_object_put(o);
}
