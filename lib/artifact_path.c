/* artifact_path.c: checking and normalising relative artifact paths, and finding them on disk. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Walk from root to the directory holding rel, one component at a time, following no link. */
int
bj_artifact_dir_open(const char *root, const char *rel, char **buf, const char **leaf,
    char **cause)
{
	char *copy = NULL, *p, *slash;
	int dfd = -1;

	*cause = NULL;
	*buf = NULL;
	*leaf = NULL;
	if (root == NULL || *root != '/' || rel == NULL || *rel == '\0' || *rel == '/') {
		*cause = bj_xstrdup("not a relative path under the artifacts root");
		return -1;
	}
	if ((dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		*cause = bj_xasprintf("artifacts root: %s", strerror(errno));
		return -1;
	}
	copy = bj_xstrdup(rel);
	for (p = copy; ; p = slash + 1) {
		int next;

		slash = strchr(p, '/');
		if (slash != NULL)
			*slash = '\0';
		if (*p == '\0' || strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
			*cause = bj_xstrdup("empty, '.' or '..' path component");
			goto fail;
		}
		if (slash == NULL)
			break;
		next = openat(dfd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next == -1) {
			if (errno != ENOENT)
				*cause = bj_xasprintf("%s: %s", p, errno == ELOOP || errno == ENOTDIR ?
				    "not a directory (a symlink is never followed)" : strerror(errno));
			goto fail;
		}
		close(dfd);
		dfd = next;
	}
	*buf = copy;
	*leaf = p;
	return dfd;
fail:
	free(copy);
	close(dfd);
	errno = ENOENT;		/* meaningful only when *cause is NULL */
	return -1;
}

/* Open root/rel for reading, following no link on the way: a regular file's descriptor or -1. */
int
bj_artifact_open(const char *root, const char *rel, char **cause)
{
	char *buf;
	const char *leaf;
	struct stat st;
	int dfd, fd;

	if ((dfd = bj_artifact_dir_open(root, rel, &buf, &leaf, cause)) == -1) {
		if (*cause == NULL)
			*cause = bj_xstrdup("no such file");
		return -1;
	}
	/* O_NONBLOCK: a FIFO put there must not hang the reader; it is refused below */
	fd = openat(dfd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		*cause = bj_xasprintf("%s: %s", leaf, errno == ELOOP ?
		    "a symlink (never followed)" : strerror(errno));
	else if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		*cause = bj_xasprintf("%s: not a regular file", leaf);
		close(fd);
		fd = -1;
	}
	close(dfd);
	free(buf);
	return fd;
}
