/*
 * job_spec.h: the body of POST /v1/jobs into a struct bj_job_spec, with
 * no request and no database, so that it can be tested and fuzzed alone.
 * The items are read element by element (items_scan.h) and blanked out of
 * the body, which is then parsed strictly. The spec's strings are borrowed
 * from the parsed body and from the arena, both owned by the bj_spec_body.
 */
#ifndef BJ_JOB_SPEC_H
#define BJ_JOB_SPEC_H

#include <stddef.h>

#include <json-c/json.h>

#include "buf.h"
#include "conf.h"
#include "create.h"
#include "err.h"

struct bj_spec_body {
	struct bj_job_spec	 spec;
	struct json_object	*obj;	/* the body without its items */
	struct bj_buf		 arena;	/* the items' keys and payloads */
};

/*
 * Parse body[0..len) (modified: the items are blanked out) with conf's
 * limits and defaults into p->spec. BJ_OK, or BJ_ERR_BAD_JSON,
 * BJ_ERR_TOO_DEEP or BJ_ERR_VALIDATION with why (of size whylen) naming
 * the field. The spec still needs bj_job_spec_check. Free p either way.
 */
enum bj_err bj_spec_body_parse(const struct bj_conf *conf, char *body, size_t len,
    struct bj_spec_body *p, char *why, size_t whylen);
void bj_spec_body_free(struct bj_spec_body *p);

#endif
