/*
 * html.c: building HTML documents with libxml2 and serialising them as
 * HTML5. Every string enters the tree through xmlNewTextChild,
 * xmlNodeAddContent or xmlNewProp, which escape on output.
 *
 * Element and attribute names come from one dictionary per process, so a
 * document copies and frees none of them.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLtree.h>
#include <libxml/dict.h>
#include <libxml/xmlIO.h>
#include <libxml/tree.h>

#include "buf.h"
#include "html.h"

struct bj_html {
	xmlDocPtr	 doc;
	xmlNodePtr	 head;
	xmlNodePtr	 body;
};

#define NODE(el)	((xmlNodePtr)(void *)(el))
#define EL(node)	((struct bj_html_el *)(void *)(node))
#define X(s)		((const xmlChar *)(s))

/* Make a new document with head and body. */
struct bj_html *
bj_html_new(const char *lang, const char *title)
{
	static xmlDictPtr names;	/* lives as long as the process */
	struct bj_html *h = bj_xcalloc(1, sizeof *h);
	xmlNodePtr root, meta;

	if (names == NULL && (names = xmlDictCreate()) == NULL)
		abort();
	h->doc = htmlNewDocNoDtD(NULL, NULL);
	if (h->doc == NULL)
		abort();
	h->doc->encoding = xmlStrdup(X("UTF-8"));	/* text is written as UTF-8 */
	/* before any node is made: the document names its nodes from it */
	h->doc->dict = names;
	xmlDictReference(names);
	xmlCreateIntSubset(h->doc, X("html"), NULL, NULL);
	root = xmlNewDocNode(h->doc, NULL, X("html"), NULL);
	xmlDocSetRootElement(h->doc, root);
	xmlNewProp(root, X("lang"), X(lang && *lang ? lang : "en"));
	h->head = xmlNewChild(root, NULL, X("head"), NULL);
	meta = xmlNewChild(h->head, NULL, X("meta"), NULL);
	xmlNewProp(meta, X("charset"), X("utf-8"));
	meta = xmlNewChild(h->head, NULL, X("meta"), NULL);
	xmlNewProp(meta, X("name"), X("viewport"));
	xmlNewProp(meta, X("content"), X("width=device-width, initial-scale=1"));
	xmlNewTextChild(h->head, NULL, X("title"), X(title ? title : ""));
	h->body = xmlNewChild(root, NULL, X("body"), NULL);
	return h;
}

/* Free the document and all its elements. */
void
bj_html_free(struct bj_html *h)
{
	if (h == NULL)
		return;
	xmlFreeDoc(h->doc);
	free(h);
}

/* The <head> element. */
struct bj_html_el *
bj_html_head(struct bj_html *h)
{
	return EL(h->head);
}

/* The <body> element. */
struct bj_html_el *
bj_html_body(struct bj_html *h)
{
	return EL(h->body);
}

/* Append an element with escaped text. */
struct bj_html_el *
bj_html_add(struct bj_html_el *parent, const char *tag, const char *text)
{
	return EL(xmlNewTextChild(NODE(parent), NULL, X(tag), X(text)));
}

/* Append an element whose text is formatted, then escaped. */
struct bj_html_el *
bj_html_addf(struct bj_html_el *parent, const char *tag, const char *fmt, ...)
{
	struct bj_html_el *el;
	char *text;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) == -1)
		abort();
	va_end(ap);
	el = bj_html_add(parent, tag, text);
	free(text);
	return el;
}

/* Set an attribute; NULL value makes a boolean one. */
void
bj_html_attr(struct bj_html_el *el, const char *name, const char *value)
{
	xmlSetProp(NODE(el), X(name), value ? X(value) : NULL);
}

/* Append escaped text. */
void
bj_html_text(struct bj_html_el *el, const char *text)
{
	if (text != NULL)
		xmlNodeAddContent(NODE(el), X(text));
}

/* Only paths on this site and http(s) URLs may be followed. */
int
bj_html_url_ok(const char *url)
{
	if (url == NULL || *url == '\0')
		return 0;
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
			return 0;
	if (url[0] == '/')
		return url[1] != '/';
	return strncasecmp(url, "https://", 8) == 0 || strncasecmp(url, "http://", 7) == 0;
}

/* Append a link, or plain text when the URL is not allowed. */
struct bj_html_el *
bj_html_link(struct bj_html_el *parent, const char *url, const char *text)
{
	struct bj_html_el *a;

	if (!bj_html_url_ok(url))
		return bj_html_add(parent, "span", text);
	a = bj_html_add(parent, "a", text);
	bj_html_attr(a, "href", url);
	return a;
}

/* The inline style sheet; CSS is ours, never data. */
void
bj_html_style(struct bj_html *h, const char *css, const char *nonce)
{
	struct bj_html_el *s = bj_html_add(EL(h->head), "style", css);

	if (nonce != NULL)
		bj_html_attr(s, "nonce", nonce);
}

/* Ask the browser to reload the page. */
void
bj_html_refresh(struct bj_html *h, int seconds)
{
	char v[24];
	xmlNodePtr meta = xmlNewChild(h->head, NULL, X("meta"), NULL);

	snprintf(v, sizeof v, "%d", seconds);
	xmlNewProp(meta, X("http-equiv"), X("refresh"));
	xmlNewProp(meta, X("content"), X(v));
}

/*
 * Serialise to HTML5 text in UTF-8. The document says it is UTF-8 (see
 * bj_html_new), so libxml2 escapes only what markup needs and writes the
 * rest as it is, where htmlDocDumpMemory() would send every non-ASCII
 * character as a numeric reference (Japanese text about 2.7 times the
 * bytes).
 */
char *
bj_html_render(struct bj_html *h, size_t *len)
{
	xmlOutputBufferPtr out = xmlAllocOutputBuffer(NULL);
	size_t n;
	char *s;

	if (out == NULL)
		abort();
	htmlDocContentDumpFormatOutput(out, h->doc, "UTF-8", 0);
	xmlOutputBufferFlush(out);
	n = xmlOutputBufferGetSize(out);
	s = bj_xstrndup((const char *)xmlOutputBufferGetContent(out), n);
	xmlOutputBufferClose(out);
	if (len != NULL)
		*len = n;
	return s;
}
