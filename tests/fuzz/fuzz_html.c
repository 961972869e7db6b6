/*
 * fuzz_html.c: whatever text goes into a page, as element text, attribute
 * value or link, adds no markup (the same count of '<' and '>' as a page
 * with plain text there, and of '"' where the text is a value) and comes
 * out as UTF-8 without the control characters HTML forbids. The first
 * byte picks where the text goes.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlstring.h>

#include "buf.h"
#include "html.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The page with text placed as way says. */
static char *
page(int way, const char *text)
{
	struct bj_html *h = bj_html_new(way == 1 ? text : "en", "t");
	struct bj_html_el *p = bj_html_add(bj_html_body(h), "p", way == 0 ? text : "x");
	char *s;

	if (way == 1)
		bj_html_attr(p, "title", text);
	else if (way == 2)
		bj_html_link(p, bj_html_url_ok(text) ? text : "/x", "link");
	s = bj_html_render(h, NULL);
	bj_html_free(h);
	return s;
}

/* How many times c occurs in s. */
static size_t
count(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *got, *plain;
	int way;

	if (size == 0)
		return 0;
	way = data[0] % 3;
	text = bj_xstrndup((const char *)data + 1, size - 1);
	got = page(way, text);
	/* the same places, holding text that needs no escaping */
	plain = page(way, way == 2 ? "/x" : "x");
	if (count(got, '<') != count(plain, '<') || count(got, '>') != count(plain, '>') ||
	    (way != 0 && count(got, '"') != count(plain, '"')))
		abort();
	if (xmlCheckUTF8((const unsigned char *)got) == 0)
		abort();
	for (const unsigned char *p = (const unsigned char *)got; *p; p++)
		if ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == 0x7f)
			abort();
	free(plain);
	free(got);
	free(text);
	return 0;
}
