/*
 * fuzz_items.c: the streaming items scanner of POST /v1/jobs never reads
 * out of bounds or loops, and agrees with the strict parser: on every body
 * json-c accepts as an object, the scanner finds the same "items" member
 * (or reports it duplicated) and, element by element, the same values.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "items_scan.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walk the array at [start, end) comparing each element with want (may be NULL). */
static void
walk(const char *s, size_t start, size_t end, struct json_object *want)
{
	size_t pos = start, es, ee, n = 0;
	int rc, first = 1;

	while ((rc = bj_items_next(s, end, &pos, &first, &es, &ee)) == 1) {
		enum bj_err err;
		const char *why;
		struct json_object *el;

		if (es >= ee || ee > end || pos != ee)
			abort();
		if (want != NULL) {
			if (n >= json_object_array_length(want))
				abort();	/* more elements than the parser saw */
			struct json_object *w = json_object_array_get_idx(want, n);
			el = bj_json_parse(s + es, ee - es, 64, &err, &why);
			if (w == NULL ? strncmp(s + es, "null", ee - es) != 0 :
			    el == NULL || !json_object_equal(el, w))
				abort();	/* a different element than the parser's */
			json_object_put(el);
		}
		n++;
	}
	if (want != NULL && (rc != 0 || n != json_object_array_length(want)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *why;
	size_t start = 0, end = 0;
	struct json_object *o, *items = NULL;
	enum bj_err err;
	int rc = bj_items_span(s, size, &start, &end);

	if (rc == 1 && (start >= end || end > size))
		abort();
	o = bj_json_parse(s, size, 64, &err, &why);
	if (o != NULL && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	if (o == NULL) {
		if (rc == 1 && s[start] == '[')
			walk(s, start, end, NULL);	/* only bounds can be checked */
		return 0;
	}
	/* a well-formed object: the scanner must see what the parser sees */
	if (rc == -1)
		abort();
	if (rc == -2) {
		json_object_put(o);	/* "items" twice: the parser keeps one silently */
		return 0;
	}
	if (rc != (json_object_object_get_ex(o, "items", &items) ? 1 : 0))
		abort();
	if (rc == 1 && json_object_is_type(items, json_type_array)) {
		if (s[start] != '[')
			abort();
		walk(s, start, end, items);
	}
	json_object_put(o);
	return 0;
}
