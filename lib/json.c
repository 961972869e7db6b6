/* json.c: strict parsing and typed getters over json-c. */
#include "config.h"

#include <string.h>

#include "json.h"

struct json_object *
bj_json_parse(const char *text, size_t len, int max_depth, enum bj_err *err,
    const char **why)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error jerr;

	if (memchr(text, '\0', len) != NULL) {
		*err = BJ_ERR_BAD_JSON;
		*why = "the body contains a NUL byte";
		return NULL;
	}
	if ((tok = json_tokener_new_ex(max_depth)) == NULL) {
		*err = BJ_ERR_INTERNAL;
		*why = "out of memory";
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (obj == NULL || jerr != json_tokener_success) {
		if (jerr == json_tokener_error_depth) {
			*err = BJ_ERR_TOO_DEEP;
			*why = "the JSON is nested too deeply";
		} else {
			*err = BJ_ERR_BAD_JSON;
			*why = jerr == json_tokener_continue ? "the JSON ends too early" :
			    json_tokener_error_desc(jerr);
		}
		json_object_put(obj);
		json_tokener_free(tok);
		return NULL;
	}
	/* only whitespace may follow the value */
	for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
		char c = text[i];
		if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			json_object_put(obj);
			json_tokener_free(tok);
			*err = BJ_ERR_BAD_JSON;
			*why = "trailing characters after the JSON value";
			return NULL;
		}
	}
	json_tokener_free(tok);
	return obj;
}

const char *
bj_json_str(struct json_object *obj, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int
bj_json_int(struct json_object *obj, const char *name, long long *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, name, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return -1;
	*out = (long long)json_object_get_int64(v);
	return 1;
}

int
bj_json_bool(struct json_object *obj, const char *name, int *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, name, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return -1;
	*out = json_object_get_boolean(v);
	return 1;
}

const char *
bj_json_text(struct json_object *obj, size_t *len)
{
	return json_object_to_json_string_length(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
}
