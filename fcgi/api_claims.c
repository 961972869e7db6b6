/* api_claims.c: POST /v1/claims, handing due items to a worker (lib/claim.c does the work). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "buf.h"
#include "claim.h"
#include "json.h"
#include "router.h"
#include "sql.h"

void
bj_api_claims(struct bj_req *req)
{
	struct json_object *o = NULL, *kinds, *res, *a;
	const char *kv[BJ_SQL_MAX_KINDS];
	struct bj_claim_req cr;
	struct bj_claimed *c = NULL;
	long long limit = 1, lease = 0;
	int n = 0;
	size_t nk;
	enum bj_err e;

	memset(&cr, 0, sizeof cr);
	if (bj_auth(req, BJ_SCOPE_WORK) == -1 || bj_api_body(req, 0, &o) == -1)
		goto out;
	if ((cr.worker = bj_api_need_str(req, o, "", "worker")) == NULL)
		goto out;
	if (strlen(cr.worker) > 255 || strpbrk(cr.worker, "\r\n") != NULL) {
		bj_reply_error(req, BJ_ERR_VALIDATION, "worker: at most 255 characters, one line");
		goto out;
	}
	if (!json_object_object_get_ex(o, "kinds", &kinds) ||
	    !json_object_is_type(kinds, json_type_array) ||
	    (nk = json_object_array_length(kinds)) < 1 || nk > BJ_SQL_MAX_KINDS) {
		bj_reply_error(req, BJ_ERR_VALIDATION, "kinds: an array of 1-%d kind names",
		    BJ_SQL_MAX_KINDS);
		goto out;
	}
	for (size_t i = 0; i < nk; i++) {
		struct json_object *k = json_object_array_get_idx(kinds, i);
		if (!json_object_is_type(k, json_type_string)) {
			bj_reply_error(req, BJ_ERR_VALIDATION, "kinds[%zu]: must be a string", i);
			goto out;
		}
		kv[i] = json_object_get_string(k);
	}
	if (bj_json_int(o, "limit", &limit) == -1 || limit < 1 || limit > BJ_CLAIM_MAX_LIMIT) {
		bj_reply_error(req, BJ_ERR_VALIDATION, "limit: an integer from 1 to %d",
		    BJ_CLAIM_MAX_LIMIT);
		goto out;
	}
	if (bj_json_int(o, "lease_seconds", &lease) == -1 || lease < 0 ||
	    lease > BJ_LEASE_MAX_SECONDS) {
		bj_reply_error(req, BJ_ERR_VALIDATION, "lease_seconds: an integer from 0 (each job's own) to %d",
		    BJ_LEASE_MAX_SECONDS);
		goto out;
	}
	cr.kinds = kv;
	cr.nkinds = (int)nk;
	cr.limit = (int)limit;
	cr.lease_seconds = (int)lease;
	cr.idempotency_key = bj_req_header(req, "HTTP_IDEMPOTENCY_KEY");
	if (cr.idempotency_key != NULL && (*cr.idempotency_key == '\0' ||
	    strlen(cr.idempotency_key) > 255 || strpbrk(cr.idempotency_key, "\r\n") != NULL)) {
		bj_reply_error(req, BJ_ERR_VALIDATION,
		    "Idempotency-Key: 1-255 characters on one line");
		goto out;
	}
	cr.max_per_owner = req->app->conf->max_per_owner;
	cr.max_per_kind = req->app->conf->max_per_kind;
	if ((e = bj_claim(req->app->db, &cr, &c, &n)) != BJ_OK) {
		bj_api_fail(req, e);
		goto out;
	}
	res = json_object_new_object();
	a = json_object_new_array();
	for (int i = 0; i < n; i++) {
		struct json_object *it = json_object_new_object();
		struct json_object *p = c[i].payload ? json_tokener_parse(c[i].payload) : NULL;

		json_object_object_add(it, "id", json_object_new_int64(c[i].id));
		json_object_object_add(it, "job_id", json_object_new_int64(c[i].job_id));
		json_object_object_add(it, "kind", json_object_new_string(c[i].kind));
		json_object_object_add(it, "key", json_object_new_string(c[i].key));
		json_object_object_add(it, "stage", json_object_new_int(c[i].stage));
		json_object_object_add(it, "payload", p);
		json_object_object_add(it, "attempt", json_object_new_int(c[i].attempt));
		json_object_object_add(it, "lease_token", json_object_new_string(c[i].lease_token));
		json_object_object_add(it, "lease_expires_at",
		    json_object_new_string(c[i].lease_expires_at));
		json_object_array_add(a, it);
	}
	json_object_object_add(res, "items", a);
	bj_reply_json(req, 200, res);
	json_object_put(res);
out:
	bj_claimed_free(c, n);
	if (o != NULL)
		json_object_put(o);
}
