/* fuzz_json.c: the strict body parser never crashes and honours its depth limit. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Depth of nesting of obj. */
static int
depth(struct json_object *o)
{
	int best = 0;

	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v) {
			int d = depth(v);
			(void)k;
			if (d > best)
				best = d;
		}
		return best + 1;
	}
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			int d = depth(json_object_array_get_idx(o, i));
			if (d > best)
				best = d;
		}
		return best + 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum bj_err err;
	const char *why = NULL;
	struct json_object *o = bj_json_parse((const char *)data, size, 8, &err, &why);

	if (o == NULL) {
		if (why == NULL)
			abort();
		return 0;
	}
	if (depth(o) > 8)
		abort();
	json_object_put(o);
	return 0;
}
