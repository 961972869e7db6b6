/* fuzz_conf.c: the config parser never crashes, and errors always name a line. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bj_conf c;
	char *text = bj_xstrndup((const char *)data, size), *cause = NULL;

	if (strlen(text) != size) {	/* bj_conf_load refuses NUL bytes before parsing */
		free(text);
		return 0;
	}
	bj_conf_defaults(&c);
	if (bj_conf_parse(&c, "fuzz.conf", text, &cause) == -1) {
		if (cause == NULL || strncmp(cause, "fuzz.conf:", 10) != 0)
			abort();
	} else if (c.base_path == NULL || c.db_name == NULL) {
		abort();
	}
	free(cause);
	bj_conf_free(&c);
	free(text);
	return 0;
}
