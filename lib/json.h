/*
 * json.h: strict JSON parsing with json-c for bodies from strangers.
 *
 * bj_json_parse() refuses nesting deeper than max_depth before building
 * it, trailing garbage, NUL bytes (raw or \u0000), raw control characters
 * in strings, lone UTF-16 surrogates, NaN and Infinity, numbers beyond
 * 64-bit integers or doubles (json-c would change all of these silently) and a bare null. Getters check the type first
 * (json-c's own getters silently coerce). Returned objects are owned by
 * the caller (json_object_put); getter results are borrowed from obj.
 */
#ifndef BJ_JSON_H
#define BJ_JSON_H

#include <stddef.h>

#include <json-c/json.h>

#include "err.h"

/* Parse text; on failure returns NULL, *err and a static *why. */
struct json_object *bj_json_parse(const char *text, size_t len, int max_depth,
    enum bj_err *err, const char **why);
/* The same for a text that must be a JSON object (a request body); what is wrong goes into why. */
struct json_object *bj_json_parse_object(const char *text, size_t len, int max_depth,
    enum bj_err *err, char *why, size_t whylen);

/* The member name of obj when it is a string, else NULL (borrowed). */
/* The 4 hex digits of a JSON unicode escape at s[i..i+4) (len bytes in s), or 0x10000 when they are not. */
unsigned bj_json_hex4(const char *s, size_t len, size_t i);
const char *bj_json_str(struct json_object *obj, const char *name);
/* 1 and *out when member name is an integer; 0 when absent; -1 when another type. */
int bj_json_int(struct json_object *obj, const char *name, long long *out);
/* 1 and *out when member is a boolean; 0 when absent; -1 when another type. */
int bj_json_bool(struct json_object *obj, const char *name, int *out);

/* Serialise compactly; the string is owned by obj. */
const char *bj_json_text(struct json_object *obj, size_t *len);

#endif
