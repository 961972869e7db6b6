/*
 * fuzz_artifact.c: the artifact-path normaliser never crashes, and what it
 * accepts can never leave the artifacts root: relative, no "." or ".."
 * segment, no empty segment, no control character or backslash.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "artifact_path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[BJ_ARTIFACT_PATH_MAX + 1];
	const char *why = NULL;

	if (bj_artifact_path_normalize((const char *)data, size, out, &why) != BJ_OK) {
		if (why == NULL)
			abort();
		return 0;
	}
	if (out[0] == '\0' || out[0] == '/' || strlen(out) > BJ_ARTIFACT_PATH_MAX)
		abort();
	for (const char *seg = out; seg != NULL; ) {
		const char *slash = strchr(seg, '/');
		size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
		if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			abort();
		seg = slash ? slash + 1 : NULL;
	}
	for (const char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
			abort();
	return 0;
}
