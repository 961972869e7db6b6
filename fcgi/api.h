/*
 * api.h: what the JSON API handlers (api_*.c) share: reading a JSON body,
 * parsing ids from the path, loading a job the caller may see, and
 * replying an error from the model. Each function that returns -1 has
 * already replied.
 */
#ifndef BJ_API_H
#define BJ_API_H

#include <json-c/json.h>

#include "http.h"
#include "job.h"

/*
 * Check Content-Type (415), read the body under [http] max_body (413),
 * parse it strictly (400) into a JSON object (*out, caller puts). With
 * optional set, an empty body gives an empty object.
 */
int bj_api_body(struct bj_req *req, int optional, struct json_object **out);

/* The first half of bj_api_body: Content-Type, size and UTF-8 checks, req->body filled. */
int bj_api_read(struct bj_req *req, int optional);

/* A positive decimal id from a path segment, else -1 after replying 404 with nf. */
int bj_api_id(struct bj_req *req, const char *s, enum bj_err nf, long long *id);

/* Load job id if the caller may see it; else -1 after 404 (also for other owners) or 503. */
int bj_api_job(struct bj_req *req, long long id, struct bj_job **out);

/*
 * Conditional GET of what req->route shows of job j, loaded by
 * bj_api_job() (so after its owner was checked): 1 after a 304. The ETag
 * hashes the job's version with the route and the query, and waiting_on
 * when it was looked at (bj_claim_waiting).
 */
int bj_api_job_etag(struct bj_req *req, const struct bj_job *j);

/* The API's usual message for the model's error e. */
const char *bj_api_message(enum bj_err e);
/*
 * Reply the model's error e with that message (503 for a lost database).
 * INTERNAL and DB_UNAVAILABLE are logged with the route and the database's
 * error text, a few lines a minute per process at most.
 */
void bj_api_fail(struct bj_req *req, enum bj_err e);

/*
 * A JSON string member that must be present and non-empty, else NULL after
 * 422 naming it, after where ("items[2]." or "").
 */
const char *bj_api_need_str(struct bj_req *req, struct json_object *o, const char *where,
    const char *name);

#endif
