/* buf.c: growable buffers and allocation helpers that never return NULL. */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static void
oom(void)
{
	fputs("bulkjobs: out of memory\n", stderr);
	abort();
}

void *
bj_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
bj_xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
bj_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

void *
bj_xreallocarray(void *p, size_t n, size_t sz)
{
	if (sz != 0 && n > SIZE_MAX / sz)
		oom();
	return bj_xrealloc(p, n * sz);
}

char *
bj_xstrdup(const char *s)
{
	return bj_xstrndup(s, strlen(s));
}

char *
bj_xstrndup(const char *s, size_t n)
{
	char *p = bj_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
bj_xasprintf(const char *fmt, ...)
{
	struct bj_buf b = { 0 };
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	b.data = bj_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b.data, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return b.data;
}

/* Make room for n more bytes plus the terminating NUL. */
static void
buf_grow(struct bj_buf *b, size_t n)
{
	size_t want = b->len + n + 1;

	if (want <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 64;
	while (b->cap < want)
		b->cap *= 2;
	b->data = bj_xrealloc(b->data, b->cap);
}

void
bj_buf_add(struct bj_buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
bj_buf_adds(struct bj_buf *b, const char *s)
{
	bj_buf_add(b, s, strlen(s));
}

void
bj_buf_addc(struct bj_buf *b, char c)
{
	bj_buf_add(b, &c, 1);
}

void
bj_buf_printf(struct bj_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
bj_buf_reset(struct bj_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void
bj_buf_free(struct bj_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *
bj_buf_steal(struct bj_buf *b)
{
	char *p = b->data ? b->data : bj_xstrdup("");

	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void
bj_buf_json_str(struct bj_buf *b, const char *s)
{
	if (s == NULL) {
		bj_buf_adds(b, "null");
		return;
	}
	bj_buf_addc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			bj_buf_addc(b, '\\');
			bj_buf_addc(b, (char)c);
		} else if (c < 0x20 || c == 0x7f)
			bj_buf_printf(b, "\\u%04x", c);
		else
			bj_buf_addc(b, (char)c);
	}
	bj_buf_addc(b, '"');
}
