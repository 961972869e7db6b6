/* test_html.c: the HTML builder escapes by context and writes valid HTML5. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "harness.h"
#include "html.h"

/* 1 when the validator accepts text. */
static int
valid(const char *text)
{
	char cmd[800];
	FILE *p;
	int st;

	snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/validate_html.py -",
	    getenv("BJ_SRCDIR") ? getenv("BJ_SRCDIR") : ".");
	if ((p = popen(cmd, "w")) == NULL)
		return 0;
	fputs(text, p);
	st = pclose(p);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void
test_document_shape(void)
{
	struct bj_html *h = bj_html_new("de", "Export");
	char *s;
	size_t len;

	bj_html_style(h, "body{margin:0}", "abc123");
	bj_html_refresh(h, 5);
	bj_html_add(bj_html_body(h), "p", "hallo");
	s = bj_html_render(h, &len);
	CU_ASSERT_EQUAL(len, strlen(s));
	CU_ASSERT(strncmp(s, "<!DOCTYPE html>\n<html lang=\"de\">", 32) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<meta charset=\"utf-8\">"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "name=\"viewport\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<title>Export</title>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<style nonce=\"abc123\">body{margin:0}</style>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<meta http-equiv=\"refresh\" content=\"5\">"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<body><p>hallo</p></body>"));
	CU_ASSERT(valid(s));
	free(s);
	bj_html_free(h);
}

static void
test_text_and_attributes_are_escaped(void)
{
	struct bj_html *h = bj_html_new("en", "</title><script>alert(1)</script>");
	struct bj_html_el *p;
	char *s;

	p = bj_html_add(bj_html_body(h), "p", "<b>&amp;</b>");
	bj_html_attr(p, "title", "\" onmouseover=\"alert(2)");
	bj_html_attr(p, "class", "a'b\"c");
	bj_html_text(p, " & <i>more</i>");
	bj_html_addf(bj_html_body(h), "span", "%s=%d", "<x>", 3);
	/* only bj_html_style's sheet is written as it is, not any style element's text */
	bj_html_add(bj_html_head(h), "style", "</style><script>alert(3)</script>");
	s = bj_html_render(h, NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<style>&lt;/style&gt;&lt;script&gt;alert(3)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<title>&lt;/title&gt;&lt;script&gt;alert(1)"
	    "&lt;/script&gt;</title>"));
	/* values are double-quoted, so '"' becomes &quot; */
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "title=\"&quot; onmouseover=&quot;alert(2)\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "class=\"a'b&quot;c\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "&lt;b&gt;&amp;amp;&lt;/b&gt; &amp; &lt;i&gt;more"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<span>&lt;x&gt;=3</span>"));
	CU_ASSERT_PTR_NULL(strstr(s, "<script"));
	CU_ASSERT_PTR_NULL(strstr(s, "<b>"));
	CU_ASSERT(valid(s));
	free(s);
	bj_html_free(h);
}

static void
test_links_are_checked(void)
{
	struct bj_html *h = bj_html_new("en", "links");
	struct bj_html_el *b = bj_html_body(h);
	char *s;

	CU_ASSERT(bj_html_url_ok("/bulkjobs/jobs/abc"));
	CU_ASSERT(bj_html_url_ok("https://example.org/x?a=1&b=2"));
	CU_ASSERT(bj_html_url_ok("HTTP://example.org/"));
	CU_ASSERT_FALSE(bj_html_url_ok("javascript:alert(1)"));
	CU_ASSERT_FALSE(bj_html_url_ok(" javascript:alert(1)"));
	CU_ASSERT_FALSE(bj_html_url_ok("data:text/html,<script>"));
	CU_ASSERT_FALSE(bj_html_url_ok("//evil.example/"));
	CU_ASSERT_FALSE(bj_html_url_ok("/\\evil.example/"));
	CU_ASSERT_FALSE(bj_html_url_ok("https://x/\r\nSet-Cookie: a"));
	CU_ASSERT_FALSE(bj_html_url_ok(""));
	CU_ASSERT_FALSE(bj_html_url_ok(NULL));
	bj_html_link(b, "javascript:alert(1)", "click");
	bj_html_link(b, "https://example.org/?q=\"x\"&y=<z>", "ok");
	s = bj_html_render(h, NULL);
	CU_ASSERT_PTR_NULL(strstr(s, "javascript:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<span>click</span>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<a href=\"https://example.org/?q=%22x%22&amp;y=%3Cz%3E\">ok</a>"));
	CU_ASSERT(valid(s));
	free(s);
	bj_html_free(h);
}

static void
test_non_ascii_survives(void)
{
	struct bj_html *h = bj_html_new("fr", "Récapitulatif – 東京");
	char *s;

	bj_html_add(bj_html_body(h), "p", "Zoë 😀");
	s = bj_html_render(h, NULL);
	/* written as UTF-8, not as character references (a third of the bytes in Japanese) */
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "Zo\xc3\xab \xf0\x9f\x98\x80"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "東京"));
	CU_ASSERT_PTR_NULL(strstr(s, "&#"));
	CU_ASSERT(valid(s));
	free(s);
	bj_html_free(h);
}

/* Non-ASCII text that arrives late, by any call, is written as UTF-8 too. */
static void
test_late_non_ascii_is_referenced(void)
{
	for (int way = 0; way < 4; way++) {
		struct bj_html *h = bj_html_new("en", "plain");
		struct bj_html_el *p = bj_html_add(bj_html_body(h), "p", "plain");
		char *s;

		if (way == 0)
			bj_html_add(p, "span", "Zo\xc3\xab");
		else if (way == 1)
			bj_html_text(p, "Zo\xc3\xab");
		else if (way == 2)
			bj_html_attr(p, "title", "Zo\xc3\xab");
		else
			bj_html_addf(p, "span", "%s", "Zo\xc3\xab");
		s = bj_html_render(h, NULL);
		CU_ASSERT_PTR_NOT_NULL(strstr(s, "Zo\xc3\xab"));
		CU_ASSERT_PTR_NULL(strstr(s, "&euml;"));
		CU_ASSERT_PTR_NULL(strstr(s, "&#"));
		free(s);
		bj_html_free(h);
	}
}

/* Bytes that are not UTF-8, and controls HTML forbids, become U+FFFD; URLs are percent-encoded. */
static void
test_bad_bytes_are_replaced(void)
{
	struct bj_html *h = bj_html_new("en", "bytes");
	struct bj_html_el *b = bj_html_body(h);
	char *s;

	bj_html_add(b, "p", "a\xff" "b\xc0\xaf" "c\xed\xa0\x80" "d\x01" "e\x7f" "f\xe6\x9d");
	bj_html_add(b, "pre", "line 1\n\tline 2");
	bj_html_link(b, "/jobs/\xe6\x9d\xb1 x`", "east");
	s = bj_html_render(h, NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<p>a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"
	    "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "d\xef\xbf\xbd" "e\xef\xbf\xbd"
	    "f\xef\xbf\xbd\xef\xbf\xbd</p>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<pre>line 1\n\tline 2</pre>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<a href=\"/jobs/%E6%9D%B1%20x%60\">east</a>"));
	CU_ASSERT(valid(s));
	free(s);
	bj_html_free(h);
}

/* Void elements have no end tag; boolean attributes no value; a second value replaces the first. */
static void
test_void_and_boolean(void)
{
	struct bj_html *h = bj_html_new("en", "form");
	struct bj_html_el *sel, *o, *in;
	char *s;

	sel = bj_html_add(bj_html_body(h), "select", NULL);
	o = bj_html_add(sel, "option", "one");
	bj_html_attr(o, "selected", NULL);
	in = bj_html_add(bj_html_body(h), "input", NULL);
	bj_html_attr(in, "name", "first");
	bj_html_attr(in, "type", "hidden");
	bj_html_attr(in, "name", "second");
	bj_html_add(bj_html_body(h), "br", NULL);
	s = bj_html_render(h, NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<select><option selected>one</option></select>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<input name=\"second\" type=\"hidden\"><br></body>"));
	CU_ASSERT_PTR_NULL(strstr(s, "</input>"));
	CU_ASSERT_PTR_NULL(strstr(s, "</br>"));
	CU_ASSERT_PTR_NULL(strstr(s, "</meta>"));
	CU_ASSERT(valid(s));
	free(s);
	bj_html_free(h);
}

/*
 * Whatever text goes in comes back out of another parser (libxml2's) as
 * it went in, as element text and as attribute value: nasty strings, then
 * strings drawn from markup characters, quotes, spaces and non-ASCII.
 */
static void
test_text_reads_back(void)
{
	static const char *const fixed[] = {
		"</p><script>alert(1)</script>", "&amp; &lt; &#60; &", "\" ' ` =",
		"]]> <!-- -->", "\xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x98\x80", "a\tb\nc",
	};
	static const char *const pieces[] = {
		"<", ">", "&", "\"", "'", " ", "=", "/", ";", "#", "x", "amp",
		"\xc3\xa9", "\xe6\x9d\xb1", "\xf0\x9f\x98\x80", "\n", "\t", "</",
	};
	unsigned seed = 12345;
	int bad = 0;

	for (int round = 0; round < 200; round++) {
		struct bj_html *h = bj_html_new("en", "t");
		struct bj_html_el *p;
		char in[256] = "x";
		htmlDocPtr doc;
		xmlNodePtr n;
		char *s;

		if (round < (int)(sizeof fixed / sizeof fixed[0]))
			strcat(in, fixed[round]);
		else
			for (int i = 0; i < 12; i++) {
				seed = seed * 1103515245u + 12345u;
				strcat(in, pieces[(seed >> 16) % (sizeof pieces / sizeof pieces[0])]);
			}
		strcat(in, "y");
		p = bj_html_add(bj_html_body(h), "p", in);
		bj_html_attr(p, "title", in);
		s = bj_html_render(h, NULL);
		doc = htmlReadMemory(s, (int)strlen(s), NULL, "UTF-8",
		    HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
		n = doc ? xmlDocGetRootElement(doc) : NULL;
		while (n != NULL && !(n->type == XML_ELEMENT_NODE && strcmp((char *)n->name, "p") == 0))
			n = n->children && n->type == XML_ELEMENT_NODE &&
			    strcmp((char *)n->name, "head") != 0 ? n->children : n->next;
		if (n == NULL)
			bad++;
		else {
			xmlChar *text = xmlNodeGetContent(n), *title = xmlGetProp(n, (const xmlChar *)"title");

			if (text == NULL || title == NULL || strcmp((char *)text, in) != 0 ||
			    strcmp((char *)title, in) != 0) {
				fprintf(stderr, "read back differs: [%s] [%s] [%s]\n", in,
				    text ? (char *)text : "", title ? (char *)title : "");
				bad++;
			}
			xmlFree(text);
			xmlFree(title);
		}
		if (round < 8)
			CU_ASSERT(valid(s));
		xmlFreeDoc(doc);
		free(s);
		bj_html_free(h);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("html", NULL, NULL);

	CU_add_test(s, "document shape", test_document_shape);
	CU_add_test(s, "text and attributes are escaped", test_text_and_attributes_are_escaped);
	CU_add_test(s, "links are checked", test_links_are_checked);
	CU_add_test(s, "non-ASCII survives", test_non_ascii_survives);
	CU_add_test(s, "late non-ASCII is referenced", test_late_non_ascii_is_referenced);
	CU_add_test(s, "bad bytes are replaced", test_bad_bytes_are_replaced);
	CU_add_test(s, "void elements and boolean attributes", test_void_and_boolean);
	CU_add_test(s, "text reads back", test_text_reads_back);
	return bj_test_run();
}
