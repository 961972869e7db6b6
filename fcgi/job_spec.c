/* job_spec.c: a job submission's body into a bj_job_spec (see job_spec.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "items_scan.h"
#include "job_spec.h"
#include "json.h"

/* Write the message into why and return e. */
static enum bj_err
fail(enum bj_err e, char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return e;
}

/* An optional integer member into *out (absent keeps it): 0, or -1 when not an integer. */
static int
opt_int(struct json_object *o, const char *name, long long *out)
{
	return bj_json_int(o, name, out) == -1 ? -1 : 0;
}

/* An optional string member: 0 (*out NULL when absent), -1 when another type. */
static int
opt_str(struct json_object *o, const char *name, const char **out)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, name, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	*out = json_object_get_string(v);
	return 0;
}

/* A member that is an array of strings into a new array (caller frees). */
static enum bj_err
str_array(struct json_object *o, const char *name, const char *label, const char ***out,
    size_t *n, char *why, size_t len)
{
	struct json_object *v;

	*out = NULL;
	*n = 0;
	if (!json_object_object_get_ex(o, name, &v) || v == NULL)
		return BJ_OK;
	if (!json_object_is_type(v, json_type_array))
		return fail(BJ_ERR_VALIDATION, why, len, "%s: must be an array of strings", label);
	*n = json_object_array_length(v);
	*out = bj_xcalloc(*n + 1, sizeof **out);
	for (size_t i = 0; i < *n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string))
			return fail(BJ_ERR_VALIDATION, why, len, "%s[%zu]: must be a string", label, i);
		(*out)[i] = json_object_get_string(e);
	}
	return BJ_OK;
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

/* One element of the items array into s->items[i], its strings appended to the arena. */
static enum bj_err
take_item(struct bj_spec_body *p, const char *el, size_t n, int depth, size_t *koff,
    size_t *poff, char *why, size_t len)
{
	struct bj_job_spec *s = &p->spec;
	struct json_object *it, *v;
	size_t i = s->nitems;
	long long stage = 0;
	const char *key, *jwhy;
	enum bj_err e;

	if ((it = bj_json_parse(el, n, depth, &e, &jwhy)) == NULL)
		return fail(e, why, len, "malformed JSON in items[%zu]: %s", i, jwhy);
	if (!json_object_is_type(it, json_type_object)) {
		json_object_put(it);
		return fail(BJ_ERR_VALIDATION, why, len, "items[%zu]: must be an object", i);
	}
	if ((key = bj_json_str(it, "key")) == NULL || bj_json_int(it, "stage", &stage) == -1) {
		json_object_put(it);
		return fail(BJ_ERR_VALIDATION, why, len, key == NULL ?
		    "items[%zu].key: a string is required" :
		    "items[%zu].stage: must be an integer", i);
	}
	s->items[i].stage = stage;
	koff[i] = p->arena.len;
	bj_buf_add(&p->arena, key, strlen(key) + 1);
	poff[i] = (size_t)-1;
	if (json_object_object_get_ex(it, "payload", &v) && v != NULL) {
		const char *t = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		poff[i] = p->arena.len;
		bj_buf_add(&p->arena, t, strlen(t) + 1);
	}
	json_object_put(it);
	s->nitems++;
	return BJ_OK;
}

/*
 * Read the items array element by element into p->spec.items, their
 * strings in p->arena, then blank it out of body ("[]" and spaces) so the
 * rest can be parsed whole.
 */
static enum bj_err
take_items(const struct bj_conf *conf, char *body, size_t blen, struct bj_spec_body *p,
    char *why, size_t len)
{
	struct bj_job_spec *s = &p->spec;
	size_t start, end, pos, es, ee, cap = 0, *koff = NULL, *poff = NULL;
	int depth = conf->max_json_depth - 2, found, first = 1;
	enum bj_err e = BJ_OK;

	found = bj_items_span(body, blen, &start, &end);
	if (found == -1)
		return fail(BJ_ERR_BAD_JSON, why, len, "malformed JSON: not a well-formed object");
	if (found == -2)
		return fail(BJ_ERR_VALIDATION, why, len, "items: given more than once");
	if (found == 0)
		return BJ_OK;	/* parse_spec names the missing field */
	if (body[start] != '[')
		return fail(BJ_ERR_VALIDATION, why, len, "items: an array of items is required");
	pos = start;
	while ((found = bj_items_next(body, end, &pos, &first, &es, &ee)) == 1) {
		if (s->nitems >= (size_t)conf->max_items) {
			e = fail(BJ_ERR_VALIDATION, why, len, "items: at most %d items per job",
			    conf->max_items);
			goto out;
		}
		if (s->nitems == cap) {
			cap = cap ? cap * 2 : 1024;
			s->items = bj_xreallocarray(s->items, cap, sizeof *s->items);
			koff = bj_xreallocarray(koff, cap, sizeof *koff);
			poff = bj_xreallocarray(poff, cap, sizeof *poff);
		}
		if ((e = take_item(p, body + es, ee - es, depth > 1 ? depth : 1, koff, poff, why,
		    len)) != BJ_OK)
			goto out;
	}
	if (found == -1) {
		e = fail(BJ_ERR_BAD_JSON, why, len, "malformed JSON in items");
		goto out;
	}
	/* the arena is final now: turn offsets into pointers */
	for (size_t i = 0; i < s->nitems; i++) {
		s->items[i].key = p->arena.data + koff[i];
		s->items[i].payload = poff[i] == (size_t)-1 ? NULL : p->arena.data + poff[i];
	}
	body[start] = '[';
	body[start + 1] = ']';
	memset(body + start + 2, ' ', end - start - 2);
out:
	if (e != BJ_OK)
		s->nitems = 0;	/* keys and payloads were never pointed at */
	free(koff);
	free(poff);
	return e;
}

/* Fill p->spec from the body without its items (p->obj). */
static enum bj_err
parse_spec(const struct bj_conf *conf, struct bj_spec_body *p, char *why, size_t len)
{
	struct bj_job_spec *s = &p->spec;
	struct json_object *o = p->obj, *items, *notify;
	const char *onfail;
	enum bj_err e;
	long long v;

	if ((s->kind = bj_json_str(o, "kind")) == NULL)
		return fail(BJ_ERR_VALIDATION, why, len, "kind: a string is required");
	if ((s->owner = bj_json_str(o, "owner")) == NULL)
		return fail(BJ_ERR_VALIDATION, why, len, "owner: a string is required");
	if (opt_str(o, "title", &s->title) == -1)
		return fail(BJ_ERR_VALIDATION, why, len, "title: must be a string");
	if (opt_str(o, "language", &s->language) == -1)
		return fail(BJ_ERR_VALIDATION, why, len, "language: must be a string");
	if (opt_str(o, "on_item_failure", &onfail) == -1)
		return fail(BJ_ERR_VALIDATION, why, len, "on_item_failure: must be a string");
	if (s->language == NULL)
		s->language = conf->default_language;
	s->params = json_member_text(o, "params");
	v = conf->max_attempts;
	if (opt_int(o, "max_attempts", &v) == -1)
		return fail(BJ_ERR_VALIDATION, why, len, "max_attempts: must be an integer");
	s->max_attempts = v < 0 || v > 1000000 ? -1 : (int)v;
	v = conf->lease_seconds;
	if (opt_int(o, "lease_seconds", &v) == -1)
		return fail(BJ_ERR_VALIDATION, why, len, "lease_seconds: must be an integer");
	s->lease_seconds = v < 0 || v > 1000000 ? -1 : (int)v;
	if (opt_int(o, "priority", &s->priority) == -1)
		return fail(BJ_ERR_VALIDATION, why, len, "priority: must be an integer");
	if (opt_int(o, "max_concurrency", &s->max_concurrency) == -1)
		return fail(BJ_ERR_VALIDATION, why, len, "max_concurrency: must be an integer");
	s->deadline_seconds = conf->deadline_seconds;
	s->retention_seconds = conf->retention_seconds;
	if (opt_int(o, "deadline_seconds", &s->deadline_seconds) == -1)
		return fail(BJ_ERR_VALIDATION, why, len, "deadline_seconds: must be an integer");
	if (opt_int(o, "retention_seconds", &s->retention_seconds) == -1)
		return fail(BJ_ERR_VALIDATION, why, len, "retention_seconds: must be an integer");
	s->on_item_failure = conf->on_item_failure;
	if (onfail != NULL) {
		if (strcmp(onfail, "fail_job") == 0)
			s->on_item_failure = BJ_ON_FAIL_JOB;
		else if (strcmp(onfail, "continue") == 0)
			s->on_item_failure = BJ_ON_FAIL_CONTINUE;
		else
			return fail(BJ_ERR_VALIDATION, why, len,
			    "on_item_failure: must be fail_job or continue");
	}
	/* the items were taken out of the body before it was parsed: "[]" is left */
	if (!json_object_object_get_ex(o, "items", &items) ||
	    !json_object_is_type(items, json_type_array))
		return fail(BJ_ERR_VALIDATION, why, len, "items: an array of items is required");
	if (json_object_array_length(items) != 0)
		return fail(BJ_ERR_VALIDATION, why, len, "items: given more than once");
	if (json_object_object_get_ex(o, "notify", &notify) && notify != NULL) {
		if (!json_object_is_type(notify, json_type_object))
			return fail(BJ_ERR_VALIDATION, why, len, "notify: must be an object");
		if ((e = str_array(notify, "email", "notify.email", &s->emails, &s->nemails, why,
		    len)) != BJ_OK ||
		    (e = str_array(notify, "webhooks", "notify.webhooks", &s->webhooks,
		    &s->nwebhooks, why, len)) != BJ_OK)
			return e;
	}
	return BJ_OK;
}

enum bj_err
bj_spec_body_parse(const struct bj_conf *conf, char *body, size_t len, struct bj_spec_body *p,
    char *why, size_t whylen)
{
	enum bj_err e;

	memset(p, 0, sizeof *p);
	if ((e = take_items(conf, body, len, p, why, whylen)) != BJ_OK)
		return e;
	if ((p->obj = bj_json_parse_object(body, len, conf->max_json_depth, &e, why,
	    whylen)) == NULL)
		return e;
	return parse_spec(conf, p, why, whylen);
}

void
bj_spec_body_free(struct bj_spec_body *p)
{
	free(p->spec.items);
	free(p->spec.emails);
	free(p->spec.webhooks);
	bj_buf_free(&p->arena);
	if (p->obj != NULL)
		json_object_put(p->obj);
	memset(p, 0, sizeof *p);
}
