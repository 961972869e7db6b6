/*
 * render.h: the job and item JSON shared by the API, the webhook bodies
 * and bulkjobsctl (json-c). Returned objects belong to the caller
 * (json_object_put).
 */
#ifndef BJ_RENDER_H
#define BJ_RENDER_H

#include <json-c/json.h>

#include "conf.h"
#include "job.h"

/* A job as docs/api.md lists it: id, token, state, counts, times, links … */
struct json_object *bj_render_job(const struct bj_job *job, const struct bj_conf *conf);

/*
 * One item from row of a BJ_SQL_ITEMS_* query, whose columns are: id,
 * job_id, key, stage, state, attempt, error, result, artifact, claimed_by,
 * lease_expires_at, progress_done, progress_total, finished_at.
 */
struct json_object *bj_render_item_row(const struct bj_rows *r, int row);

#endif
