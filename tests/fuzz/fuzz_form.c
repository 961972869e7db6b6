/* fuzz_form.c: form and query parsing and percent-decoding never crash or yield NUL. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *qs = bj_xstrndup((const char *)data, size), *v;
	static const char *names[] = { "csrf", "state", "after", "limit", "" };

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		v = bj_form_get(qs, names[i]);
		free(v);
	}
	v = bj_url_decode((const char *)data, size, 1);
	if (v != NULL && memchr(v, '\0', strlen(v)) != NULL)
		abort();
	free(v);
	free(qs);
	return 0;
}
