/* test_html.c: the HTML builder escapes by context and writes valid HTML5. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

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
	s = bj_html_render(h, NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<title>&lt;/title&gt;&lt;script&gt;alert(1)"
	    "&lt;/script&gt;</title>"));
	/* a value with '"' only is single-quoted; with both, '"' becomes &quot; */
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "title='\" onmouseover=\"alert(2)'"));
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
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<a href=\"https://example.org/?q=%22x%22&amp;y=%3Cz%3E\">ok</a>") ||
	    strstr(s, "<a href=\"https://example.org/?q=%22x%22&amp;y=&lt;z&gt;\">ok</a>"));
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

int
main(void)
{
	CU_pSuite s = bj_test_suite("html", NULL, NULL);

	CU_add_test(s, "document shape", test_document_shape);
	CU_add_test(s, "text and attributes are escaped", test_text_and_attributes_are_escaped);
	CU_add_test(s, "links are checked", test_links_are_checked);
	CU_add_test(s, "non-ASCII survives", test_non_ascii_survives);
	CU_add_test(s, "late non-ASCII is referenced", test_late_non_ascii_is_referenced);
	return bj_test_run();
}
