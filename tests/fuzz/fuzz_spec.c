/*
 * fuzz_spec.c: a POST /v1/jobs body through the create-spec parser and
 * checker never crashes, and what they accept is what a strict parse of
 * the whole body says: the same items (keys, stages, payloads), in order,
 * and fields within the checker's limits (no control characters in what
 * reaches a header, a log line or a page).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "create.h"
#include "job_spec.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * 1 when s has a byte below 0x20 or DEL. The same test as lib/create.c's,
 * written again on purpose: an oracle must not share the code it checks.
 */
static int
has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* The accepted items against the strict parse of the body as it was sent. */
static void
same_items(const struct bj_job_spec *s, const char *text, size_t len)
{
	struct json_object *o, *items, *it, *v, *p;
	enum bj_err err;
	const char *why;

	if ((o = bj_json_parse(text, len, 64, &err, &why)) == NULL)
		abort();	/* accepted in parts, but not whole */
	if (!json_object_object_get_ex(o, "items", &items) ||
	    json_object_array_length(items) != s->nitems)
		abort();
	for (size_t i = 0; i < s->nitems; i++) {
		long long stage = 0;

		it = json_object_array_get_idx(items, i);
		if (bj_json_str(it, "key") == NULL || strcmp(bj_json_str(it, "key"), s->items[i].key) != 0)
			abort();
		if (bj_json_int(it, "stage", &stage) == -1 || stage != s->items[i].stage)
			abort();
		if (json_object_object_get_ex(it, "payload", &v) && v != NULL) {
			if (s->items[i].payload == NULL ||
			    (p = bj_json_parse(s->items[i].payload, strlen(s->items[i].payload), 64,
			    &err, &why)) == NULL)
				abort();
			if (!json_object_equal(p, v))
				abort();
			json_object_put(p);
		} else if (s->items[i].payload != NULL) {
			abort();
		}
	}
	json_object_put(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bj_conf conf;
	static int ready;
	struct bj_spec_body p;
	char *body = bj_xmalloc(size + 1), why[300] = "";
	enum bj_err e;

	if (!ready) {
		bj_conf_defaults(&conf);
		conf.max_items = 50;	/* reachable by the fuzzer */
		ready = 1;
	}
	memcpy(body, data, size);
	body[size] = '\0';
	e = bj_spec_body_parse(&conf, body, size, &p, why, sizeof why);
	if (e != BJ_OK) {
		if (why[0] == '\0' || (e != BJ_ERR_BAD_JSON && e != BJ_ERR_TOO_DEEP &&
		    e != BJ_ERR_VALIDATION))
			abort();
		goto out;
	}
	if (p.spec.kind == NULL || p.spec.owner == NULL || p.spec.nitems > (size_t)conf.max_items)
		abort();
	same_items(&p.spec, (const char *)data, size);
	if (bj_job_spec_check(&p.spec, conf.max_items, why, sizeof why) != BJ_OK)
		goto out;
	if (p.spec.nitems < 1 || has_control(p.spec.kind) || has_control(p.spec.owner) ||
	    (p.spec.title != NULL && has_control(p.spec.title)))
		abort();
	for (size_t i = 0; i < p.spec.nitems; i++)
		if (p.spec.items[i].key[0] == '\0' || has_control(p.spec.items[i].key) ||
		    p.spec.items[i].stage < 0 || p.spec.items[i].stage > 1000)
			abort();
	for (size_t i = 0; i < p.spec.nemails; i++)
		if (has_control(p.spec.emails[i]) || strchr(p.spec.emails[i], '@') == NULL)
			abort();
	for (size_t i = 0; i < p.spec.nwebhooks; i++)
		if (has_control(p.spec.webhooks[i]) ||
		    (strncmp(p.spec.webhooks[i], "http://", 7) != 0 &&
		    strncmp(p.spec.webhooks[i], "https://", 8) != 0))
			abort();
out:
	bj_spec_body_free(&p);
	free(body);
	return 0;
}
