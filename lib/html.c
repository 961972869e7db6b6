/*
 * html.c: building HTML documents and writing them out as HTML5.
 *
 * A document is a small tree whose nodes and strings live in one arena,
 * freed at once by bj_html_free(): a page of a few hundred elements costs
 * a handful of allocations. Nothing is escaped on the way in; bj_html_render()
 * escapes every text for where it lands (text, attribute value, URL
 * attribute) as it writes, so no call can insert markup; only the style
 * sheet (ours, never data) is written as it is. Text that is not UTF-8,
 * and control characters HTML forbids, are written as U+FFFD.
 *
 * This replaced a libxml2 tree: building and serialising it was about a
 * quarter of a status page view's CPU (docs/PERFORMANCE.md). The tests
 * pass pages through an HTML5 validator and read texts back through
 * libxml2's parser.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "html.h"

struct attr {
	const char	*name;
	const char	*value;		/* NULL: a boolean attribute */
	struct attr	*next;
};

/* An element (tag set) or a run of text (tag NULL). */
struct bj_html_el {
	const char		*tag;
	const char		*text;
	int			 raw;	/* text written as it is: the style sheet only */
	struct attr		*attrs;
	struct bj_html_el	*first;
	struct bj_html_el	*last;
	struct bj_html_el	*next;
	struct bj_html		*doc;
};

/* One block of the arena; the blocks are chained for freeing. */
struct block {
	struct block	*prev;
	size_t		 used;
	size_t		 size;
	char		 mem[];
};

struct bj_html {
	struct block		*arena;
	struct bj_html_el	*root;
	struct bj_html_el	*head;
	struct bj_html_el	*body;
	size_t			 bytes;	/* of all texts: the output's first guess */
};

#define BLOCK_SIZE	16384

/* n bytes from the document's arena, aligned for any node. */
static void *
arena_get(struct bj_html *h, size_t n)
{
	struct block *b = h->arena;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (b == NULL || b->size - b->used < n) {
		size_t size = n > BLOCK_SIZE ? n : BLOCK_SIZE;

		b = bj_xmalloc(sizeof *b + size);
		b->prev = h->arena;
		b->used = 0;
		b->size = size;
		h->arena = b;
	}
	p = b->mem + b->used;
	b->used += n;
	return p;
}

/* A copy of s in the arena. */
static const char *
arena_str(struct bj_html *h, const char *s)
{
	size_t n = strlen(s);
	char *p = arena_get(h, n + 1);

	memcpy(p, s, n + 1);
	h->bytes += n;
	return p;
}

/* A new node appended to parent (NULL: no parent). */
static struct bj_html_el *
node(struct bj_html *h, struct bj_html_el *parent, const char *tag,
    const char *text)
{
	struct bj_html_el *el = arena_get(h, sizeof *el);

	memset(el, 0, sizeof *el);
	el->doc = h;
	el->tag = tag ? arena_str(h, tag) : NULL;
	el->text = text ? arena_str(h, text) : NULL;
	if (parent != NULL) {
		if (parent->last != NULL)
			parent->last->next = el;
		else
			parent->first = el;
		parent->last = el;
	}
	return el;
}

/* Make a new document with head and body. */
struct bj_html *
bj_html_new(const char *lang, const char *title)
{
	struct bj_html *h = bj_xcalloc(1, sizeof *h);
	struct bj_html_el *meta;

	h->root = node(h, NULL, "html", NULL);
	bj_html_attr(h->root, "lang", lang && *lang ? lang : "en");
	h->head = node(h, h->root, "head", NULL);
	meta = node(h, h->head, "meta", NULL);
	bj_html_attr(meta, "charset", "utf-8");
	meta = node(h, h->head, "meta", NULL);
	bj_html_attr(meta, "name", "viewport");
	bj_html_attr(meta, "content", "width=device-width, initial-scale=1");
	bj_html_add(h->head, "title", title ? title : "");
	h->body = node(h, h->root, "body", NULL);
	return h;
}

/* Free the document and all its elements. */
void
bj_html_free(struct bj_html *h)
{
	struct block *b, *prev;

	if (h == NULL)
		return;
	for (b = h->arena; b != NULL; b = prev) {
		prev = b->prev;
		free(b);
	}
	free(h);
}

/* The <head> element. */
struct bj_html_el *
bj_html_head(struct bj_html *h)
{
	return h->head;
}

/* The <body> element. */
struct bj_html_el *
bj_html_body(struct bj_html *h)
{
	return h->body;
}

/* Append an element with escaped text. */
struct bj_html_el *
bj_html_add(struct bj_html_el *parent, const char *tag, const char *text)
{
	struct bj_html_el *el = node(parent->doc, parent, tag, NULL);

	bj_html_text(el, text);
	return el;
}

/* Append an element whose text is formatted, then escaped. */
struct bj_html_el *
bj_html_addf(struct bj_html_el *parent, const char *tag, const char *fmt, ...)
{
	struct bj_html_el *el;
	char small[256], *text = small;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	if ((size_t)n >= sizeof small) {
		va_start(ap, fmt);
		if (vasprintf(&text, fmt, ap) == -1)
			abort();
		va_end(ap);
	}
	el = bj_html_add(parent, tag, text);
	if (text != small)
		free(text);
	return el;
}

/* Set an attribute, replacing one of the same name; NULL value makes a boolean one. */
void
bj_html_attr(struct bj_html_el *el, const char *name, const char *value)
{
	struct bj_html *h = el->doc;
	struct attr *a, **end = &el->attrs;

	for (a = el->attrs; a != NULL; a = a->next) {
		if (strcmp(a->name, name) == 0) {
			a->value = value ? arena_str(h, value) : NULL;
			return;
		}
		end = &a->next;
	}
	a = arena_get(h, sizeof *a);
	a->name = arena_str(h, name);
	a->value = value ? arena_str(h, value) : NULL;
	a->next = NULL;
	*end = a;
}

/* Append escaped text. */
void
bj_html_text(struct bj_html_el *el, const char *text)
{
	if (text != NULL && *text != '\0')
		node(el->doc, el, NULL, text);
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
	struct bj_html_el *s = bj_html_add(h->head, "style", NULL);

	if (css != NULL && *css != '\0')
		node(h, s, NULL, css)->raw = 1;
	if (nonce != NULL)
		bj_html_attr(s, "nonce", nonce);
}

/* Ask the browser to reload the page. */
void
bj_html_refresh(struct bj_html *h, int seconds)
{
	char v[24];
	struct bj_html_el *meta = node(h, h->head, "meta", NULL);

	snprintf(v, sizeof v, "%d", seconds);
	bj_html_attr(meta, "http-equiv", "refresh");
	bj_html_attr(meta, "content", v);
}

/* Where a string is written, which decides what is escaped. */
enum context {
	IN_TEXT,	/* & < > */
	IN_ATTR,	/* & < > " */
	IN_URL,		/* as IN_ATTR, and space, " < > ` and non-ASCII as %XX */
};

/*
 * Length of the well-formed UTF-8 sequence at s (2-4), or 0 when s does not
 * start one (a stray continuation, an overlong form, a surrogate, a value
 * past U+10FFFF, a cut sequence).
 */
static size_t
utf8_len(const unsigned char *s)
{
	unsigned c = s[0];

	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;

		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;

		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 &&
		    (s[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

/* Write s escaped for ctx. */
static void
put_escaped(struct bj_buf *b, const char *s, enum context ctx)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s, *run = p;

	for (;;) {
		unsigned c = *p;
		const char *rep;
		size_t n;

		if (c >= 0x20 && c < 0x7f && c != '&' && c != '<' && c != '>' &&
		    (ctx == IN_TEXT || (c != '"' && (ctx == IN_ATTR ||
		    (c != ' ' && c != '`'))))) {
			p++;
			continue;
		}
		bj_buf_add(b, run, (size_t)(p - run));
		if (c == '\0')
			return;
		n = 1;
		rep = NULL;
		if (ctx == IN_URL && (c < 0x20 || c >= 0x7f || strchr(" \"<>`", (int)c))) {
			/* a URL's bytes, percent-encoded as browsers send them */
			if (c >= 0x80 && (n = utf8_len(p)) == 0)
				n = 1;
			for (size_t i = 0; i < n; i++) {
				bj_buf_addc(b, '%');
				bj_buf_addc(b, hex[p[i] >> 4]);
				bj_buf_addc(b, hex[p[i] & 15]);
			}
		} else if (c == '&')
			rep = "&amp;";
		else if (c == '<')
			rep = "&lt;";
		else if (c == '>')
			rep = "&gt;";
		else if (c == '"')
			rep = "&quot;";
		else if (c == '\t' || c == '\n' || c == '\r')
			bj_buf_addc(b, (char)c);
		else if (c >= 0x80 && (n = utf8_len(p)) != 0)
			bj_buf_add(b, p, n);
		else {
			n = 1;
			rep = "\xef\xbf\xbd";	/* U+FFFD */
		}
		if (rep != NULL)
			bj_buf_adds(b, rep);
		p += n;
		run = p;
	}
}

/* Elements without content or end tag. */
static int
is_void(const char *tag)
{
	static const char *const names[] = {
		"area", "base", "br", "col", "embed", "hr", "img", "input",
		"link", "meta", "source", "track", "wbr",
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(tag, names[i]) == 0)
			return 1;
	return 0;
}

/* Attributes whose value is a URL. */
static int
is_url_attr(const char *name)
{
	return strcmp(name, "href") == 0 || strcmp(name, "action") == 0 ||
	    strcmp(name, "src") == 0;
}

/* Write el and what it holds. */
static void
put_node(struct bj_buf *b, const struct bj_html_el *el)
{
	const struct bj_html_el *c;

	if (el->tag == NULL) {
		if (el->raw)
			bj_buf_adds(b, el->text);
		else
			put_escaped(b, el->text, IN_TEXT);
		return;
	}
	bj_buf_addc(b, '<');
	bj_buf_adds(b, el->tag);
	for (const struct attr *a = el->attrs; a != NULL; a = a->next) {
		bj_buf_addc(b, ' ');
		bj_buf_adds(b, a->name);
		if (a->value == NULL)
			continue;
		bj_buf_add(b, "=\"", 2);
		put_escaped(b, a->value, is_url_attr(a->name) ? IN_URL : IN_ATTR);
		bj_buf_addc(b, '"');
	}
	bj_buf_addc(b, '>');
	if (is_void(el->tag))
		return;
	for (c = el->first; c != NULL; c = c->next)
		put_node(b, c);
	bj_buf_add(b, "</", 2);
	bj_buf_adds(b, el->tag);
	bj_buf_addc(b, '>');
}

/* Serialise to HTML5 text in UTF-8. */
char *
bj_html_render(struct bj_html *h, size_t *len)
{
	struct bj_buf b = { 0 };

	/* room for the texts and about as much again for the markup */
	b.data = bj_xmalloc(b.cap = 2 * h->bytes + 1024);
	b.data[0] = '\0';
	bj_buf_add(&b, "<!DOCTYPE html>\n", 16);
	put_node(&b, h->root);
	bj_buf_addc(&b, '\n');
	if (len != NULL)
		*len = b.len;
	return bj_buf_steal(&b);
}
