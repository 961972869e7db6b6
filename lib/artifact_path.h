/*
 * artifact_path.h: artifact paths as workers send them, checked and
 * normalised. A path is relative to [artifacts] root; it may never leave
 * it. bj_artifact_under(), bj_artifact_dir_open() and bj_artifact_open()
 * look at the file system; the last two follow no symbolic link at all,
 * so a link swapped in after a check cannot lead out of the root.
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

/*
 * The directory that holds root/rel, reached from root (absolute) one
 * component at a time with openat(O_DIRECTORY | O_NOFOLLOW): no symbolic
 * link is followed and empty, "." and ".." components are refused.
 * Returns its descriptor, with *leaf pointing at rel's last component
 * inside *buf (the caller closes the descriptor and frees *buf). -1 with
 * *cause NULL when a directory on the way does not exist; -1 with *cause
 * (allocated, caller frees) when refused or failed.
 */
int bj_artifact_dir_open(const char *root, const char *rel, char **buf, const char **leaf,
    char **cause);

/*
 * Open root/rel for reading the same way, the file itself with O_NOFOLLOW:
 * the descriptor of a regular file, or -1 with *cause (allocated).
 */
int bj_artifact_open(const char *root, const char *rel, char **cause);

#endif
