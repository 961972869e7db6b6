/*
 * buf.h: a growable byte buffer, always NUL-terminated.
 *
 * A zeroed struct bj_buf is an empty buffer. The caller owns ->data and
 * frees it with bj_buf_free(). Allocation failure aborts: the programs
 * cannot do anything useful without memory.
 */
#ifndef BJ_BUF_H
#define BJ_BUF_H

#include <stddef.h>

struct bj_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

void bj_buf_add(struct bj_buf *b, const void *p, size_t n);
void bj_buf_adds(struct bj_buf *b, const char *s);
void bj_buf_addc(struct bj_buf *b, char c);
void bj_buf_printf(struct bj_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * s as a JSON string (quoted; '"', '\\' and control characters escaped,
 * UTF-8 passed through), or null for NULL: for JSON that the database
 * reads with JSON_TABLE, where the model cannot use json-c.
 */
void bj_buf_json_str(struct bj_buf *b, const char *s);
void bj_buf_reset(struct bj_buf *b);
void bj_buf_free(struct bj_buf *b);
/* Hand the contents to the caller (never NULL) and empty the buffer. */
char *bj_buf_steal(struct bj_buf *b);

/* malloc/strdup that abort on failure. */
void *bj_xmalloc(size_t n);
void *bj_xcalloc(size_t n, size_t sz);
void *bj_xrealloc(void *p, size_t n);
/* Room for n elements of sz bytes; an overflowing product aborts as no memory does. */
void *bj_xreallocarray(void *p, size_t n, size_t sz);
char *bj_xstrdup(const char *s);
char *bj_xstrndup(const char *s, size_t n);
char *bj_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
