/* items_scan.c: boundaries of the items array and its elements in a JSON body (see items_scan.h). */
#include "config.h"

#include <string.h>

#include "items_scan.h"
#include "json.h"

/* Skip JSON whitespace from i. */
static size_t
ws(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
		i++;
	return i;
}

/* s[*i] is '"': move past the closing quote; -1 when unterminated. */
static int
skip_string(const char *s, size_t len, size_t *i)
{
	size_t k = *i + 1;

	while (k < len) {
		if (s[k] == '\\') {
			k += 2;
			continue;
		}
		if (s[k] == '"') {
			*i = k + 1;
			return 0;
		}
		if ((unsigned char)s[k] < 0x20)
			return -1;
		k++;
	}
	return -1;
}

/*
 * 1 when the JSON string s[a..b) (between its quotes) reads "items",
 * also when spelt with \u escapes: the strict parser reads it so, and
 * a second spelling must not smuggle a second items array past us.
 */
static int
key_is_items(const char *s, size_t a, size_t b)
{
	size_t i = a;

	for (const char *w = "items"; *w != '\0'; w++) {
		if (i >= b)
			return 0;
		if (s[i] != '\\') {
			if (s[i++] != *w)
				return 0;
			continue;
		}
		if (b - i < 6 || s[i + 1] != 'u' || bj_json_hex4(s, b, i + 2) != (unsigned char)*w)
			return 0;
		i += 6;
	}
	return i == b;
}

/* Move *i past one value; -1 when it does not end. */
static int
skip_value(const char *s, size_t len, size_t *i)
{
	size_t k = *i;
	long depth = 0;

	if (k >= len)
		return -1;
	if (s[k] == '"')
		return skip_string(s, len, i);
	if (s[k] != '{' && s[k] != '[') {
		while (k < len && strchr(",}] \t\r\n", s[k]) == NULL)
			k++;
		if (k == *i)
			return -1;
		*i = k;
		return 0;
	}
	while (k < len) {
		char c = s[k];
		if (c == '"') {
			if (skip_string(s, len, &k) == -1)
				return -1;
			continue;
		}
		if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']') {
			if (--depth == 0) {
				*i = k + 1;
				return 0;
			}
		}
		k++;
	}
	return -1;
}

int
bj_items_span(const char *s, size_t len, size_t *start, size_t *end)
{
	size_t i = ws(s, len, 0), ks, vs;
	int found = 0, dup = 0, is_items;

	if (i >= len || s[i] != '{')
		return -1;
	i = ws(s, len, i + 1);
	if (i < len && s[i] == '}')
		return 0;
	for (;;) {
		if (i >= len || s[i] != '"')
			return -1;
		ks = i;
		if (skip_string(s, len, &i) == -1)
			return -1;
		is_items = key_is_items(s, ks + 1, i - 1);
		i = ws(s, len, i);
		if (i >= len || s[i] != ':')
			return -1;
		i = ws(s, len, i + 1);
		vs = i;
		if (skip_value(s, len, &i) == -1)
			return -1;
		if (is_items && found)
			dup = 1;
		if (is_items && !found) {
			*start = vs;
			*end = i;
			found = 1;
		}
		i = ws(s, len, i);
		if (i < len && s[i] == ',') {
			i = ws(s, len, i + 1);
			continue;
		}
		if (i < len && s[i] == '}')
			return dup ? -2 : found;
		return -1;
	}
}

int
bj_items_next(const char *s, size_t end, size_t *pos, int *first, size_t *el_start,
    size_t *el_end)
{
	size_t i = *pos;

	/* the first call only: after an element, a '[' is not a separator */
	if (*first) {
		*first = 0;
		if (i >= end || s[i] != '[')
			return -1;
		i = ws(s, end, i + 1);
		if (i < end && s[i] == ']') {
			*pos = i + 1;
			return 0;
		}
	} else {
		i = ws(s, end, i);
		if (i < end && s[i] == ']') {
			*pos = i + 1;
			return 0;
		}
		if (i >= end || s[i] != ',')
			return -1;
		i = ws(s, end, i + 1);
	}
	*el_start = i;
	if (skip_value(s, end, &i) == -1)
		return -1;
	*el_end = i;
	*pos = i;
	return 1;
}
