/* json.c: strict parsing and typed getters over json-c. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"

unsigned
bj_json_hex4(const char *s, size_t len, size_t i)
{
	unsigned v = 0;

	if (i + 4 > len)
		return 0x10000;
	for (size_t k = i; k < i + 4; k++) {
		char c = s[k];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return 0x10000;
	}
	return v;
}

/*
 * 1 when the number s[0..n) fits what it will be read as: an integer in
 * int64 or uint64 (json-c would clamp it), a fraction or exponent short of
 * infinity.
 */
static int
number_fits(const char *s, size_t n)
{
	char small[64], *t = n < sizeof small ? small : bj_xstrndup(s, n), *end;
	int ok = 1;

	if (t == small) {
		memcpy(small, s, n);
		small[n] = '\0';
	}
	errno = 0;
	if (strpbrk(t, ".eE") != NULL) {
		double d = strtod(t, &end);
		ok = !(errno == ERANGE && (d > 1.0 || d < -1.0));
	} else if (t[0] == '-') {
		(void)strtoll(t, &end, 10);
		ok = errno != ERANGE;
	} else {
		(void)strtoull(t, &end, 10);
		ok = errno != ERANGE;
	}
	if (t != small)
		free(t);
	return ok;
}

/* 1 when s[0..n) is one of the words JSON has. */
static int
word_ok(const char *s, size_t n)
{
	return (n == 4 && (memcmp(s, "true", 4) == 0 || memcmp(s, "null", 4) == 0)) ||
	    (n == 5 && memcmp(s, "false", 5) == 0);
}

/*
 * What json-c would let through or quietly change, so that text is stored
 * as it was sent or refused: NUL (raw or \u0000, which every C string
 * would cut short), raw control characters inside strings, lone UTF-16
 * surrogates (json-c turns them into U+FFFD), NaN and Infinity, and
 * numbers out of range (json-c clamps them). NULL when clean, else why.
 */
static const char *
prescan(const char *s, size_t len)
{
	int in_str = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		unsigned u, lo;

		if (c == '\0')
			return "the body contains a NUL byte";
		if (!in_str) {
			if (c == '"') {
				in_str = 1;
			} else if (c == '-' || (c >= '0' && c <= '9')) {
				size_t j = i;
				while (j < len && strchr("+-0123456789.eE", s[j]) != NULL && s[j] != '\0')
					j++;
				if (!number_fits(s + i, j - i))
					return "a number is out of range";
				i = j - 1;
			} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
				/* json-c takes NaN and Infinity even when strict */
				size_t j = i;
				while (j < len && ((s[j] >= 'a' && s[j] <= 'z') ||
				    (s[j] >= 'A' && s[j] <= 'Z')))
					j++;
				if (!word_ok(s + i, j - i))
					return "a word that is not true, false or null";
				i = j - 1;
			}
			continue;
		}
		if (c < 0x20)
			return "a control character inside a string must be escaped";
		if (c == '"') {
			in_str = 0;
			continue;
		}
		if (c != '\\' || i + 1 >= len)
			continue;
		if (s[i + 1] != 'u') {
			i++;
			continue;
		}
		u = bj_json_hex4(s, len, i + 2);
		if (u == 0)
			return "the JSON contains a \\u0000 (NUL) escape";
		if (u >= 0xdc00 && u <= 0xdfff)
			return "a lone UTF-16 surrogate in a \\u escape";
		if (u >= 0xd800 && u <= 0xdbff) {
			lo = i + 7 < len && s[i + 6] == '\\' && s[i + 7] == 'u' ?
			    bj_json_hex4(s, len, i + 8) : 0x10000;
			if (lo < 0xdc00 || lo > 0xdfff)
				return "a lone UTF-16 surrogate in a \\u escape";
			i += 6;
		}
		i += 5;
	}
	return NULL;
}

struct json_object *
bj_json_parse(const char *text, size_t len, int max_depth, enum bj_err *err,
    const char **why)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error jerr;
	int whole = 0;

	if ((*why = prescan(text, len)) != NULL) {
		*err = BJ_ERR_BAD_JSON;
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
	if (obj == NULL && jerr == json_tokener_continue) {
		/* a number at the very end is only known to end at a delimiter */
		obj = json_tokener_parse_ex(tok, " ", 1);
		jerr = json_tokener_get_error(tok);
		whole = 1;
	}
	if (obj == NULL || jerr != json_tokener_success) {
		if (jerr == json_tokener_success) {
			*err = BJ_ERR_BAD_JSON;	/* null: json-c has no object for it */
			*why = "the JSON is null, not a value that can be used here";
		} else if (jerr == json_tokener_error_depth) {
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
	for (size_t i = whole ? len : json_tokener_get_parse_end(tok); i < len; i++) {
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

struct json_object *
bj_json_parse_object(const char *text, size_t len, int max_depth, enum bj_err *err,
    char *why, size_t whylen)
{
	const char *jwhy = NULL;
	struct json_object *o = bj_json_parse(text, len, max_depth, err, &jwhy);

	if (o == NULL) {
		snprintf(why, whylen, "malformed JSON: %s", jwhy ? jwhy : "parse error");
		return NULL;
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		*err = BJ_ERR_BAD_JSON;
		snprintf(why, whylen, "the body must be a JSON object");
		return NULL;
	}
	return o;
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
