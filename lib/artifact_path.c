/* artifact_path.c: checking and normalising relative artifact paths, and finding them on disk. */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "artifact_path.h"
#include "buf.h"

enum bj_err
bj_artifact_path_normalize(const char *in, size_t len,
    char out[BJ_ARTIFACT_PATH_MAX + 1], const char **why)
{
	size_t o = 0, i = 0;

	out[0] = '\0';
	if (len == 0) {
		*why = "the artifact path is empty";
		return BJ_ERR_BAD_ARTIFACT_PATH;
	}
	if (in[0] == '/') {
		*why = "the artifact path must be relative to the artifacts root";
		return BJ_ERR_BAD_ARTIFACT_PATH;
	}
	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)in[k];
		if (c < 0x20 || c == 0x7f || c == '\\') {
			*why = "the artifact path contains a NUL, control character or backslash";
			return BJ_ERR_BAD_ARTIFACT_PATH;
		}
	}
	while (i < len) {
		size_t seg = i;

		while (i < len && in[i] != '/')
			i++;
		/* in[seg..i) is one segment */
		if (i - seg == 0 || (i - seg == 1 && in[seg] == '.')) {
			i++;
			continue;
		}
		if (i - seg == 2 && in[seg] == '.' && in[seg + 1] == '.') {
			*why = "the artifact path may not contain ..";
			return BJ_ERR_BAD_ARTIFACT_PATH;
		}
		if (o + (o > 0) + (i - seg) > BJ_ARTIFACT_PATH_MAX) {
			*why = "the artifact path is too long";
			out[0] = '\0';
			return BJ_ERR_BAD_ARTIFACT_PATH;
		}
		if (o > 0)
			out[o++] = '/';
		memcpy(out + o, in + seg, i - seg);
		o += i - seg;
		i++;
	}
	out[o] = '\0';
	if (o == 0 || in[len - 1] == '/') {
		*why = "the artifact path must name a file";
		out[0] = '\0';
		return BJ_ERR_BAD_ARTIFACT_PATH;
	}
	return BJ_OK;
}

int
bj_artifact_under(const char *rroot, const char *rel, char *real)
{
	char *joined = bj_xasprintf("%s/%s", rroot, rel);
	size_t rlen = strlen(rroot);
	int ok = realpath(joined, real) != NULL;

	free(joined);
	if (!ok)
		return -1;
	return strncmp(real, rroot, rlen) == 0 && real[rlen] == '/' ? 0 : -2;
}
