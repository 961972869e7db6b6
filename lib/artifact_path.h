/*
 * artifact_path.h: artifact paths as workers send them, checked and
 * normalised. A path is relative to [artifacts] root; it may never leave
 * it. Only bj_artifact_under() looks at the file system.
 */
#ifndef BJ_ARTIFACT_PATH_H
#define BJ_ARTIFACT_PATH_H

#include <stddef.h>

#include "err.h"

#define BJ_ARTIFACT_PATH_MAX	1024	/* the database column */

/*
 * Normalise the len bytes of in ("./a//b/c.csv" → "a/b/c.csv") into out
 * (BJ_ARTIFACT_PATH_MAX + 1 bytes). BJ_ERR_BAD_ARTIFACT_PATH with a
 * static *why when it is empty, absolute, has a ".." segment, a NUL,
 * control character or backslash, names a directory, or is too long.
 */
enum bj_err bj_artifact_path_normalize(const char *in, size_t len,
    char out[BJ_ARTIFACT_PATH_MAX + 1], const char **why);

/*
 * Where the artifact rel lies on disk: rroot (a root already resolved
 * with realpath) joined with rel, resolved in turn into real (PATH_MAX
 * bytes). 0; -1 with errno when it cannot be resolved; -2 when it leads
 * out of rroot (through a symbolic link, say). Whether it is a regular
 * file is the caller's to check.
 */
int bj_artifact_under(const char *rroot, const char *rel, char *real);

#endif
