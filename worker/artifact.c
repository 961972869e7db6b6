/*
 * artifact.c: the artifact a command reported, checked before its item
 * is completed.
 *
 * A command may ignore a failed write (a full disk, an I/O error) and
 * still exit 0, and data that is only in the page cache is lost by a
 * crash after the completion was recorded. Either way the job would end
 * with a download that is broken or missing. So the worker resolves the
 * artifact as the download page does (realpath, under the resolved root,
 * a regular file) and fsyncs the file and its directory; an error fails
 * the item instead, naming the artifact and the errno text.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "artifact_path.h"
#include "worker.h"

/* fsync the directory at path; 0 or -1 with errno. */
static int
sync_dir(const char *path)
{
	int dfd, rc, saved;

	if ((dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(dfd);
	saved = errno;
	close(dfd);
	errno = saved;
	/* some file systems cannot sync a directory: nothing to make durable there */
	return rc == -1 && (errno == EINVAL || errno == EROFS) ? 0 : rc;
}

int
bj_artifact_sync(const char *root, const char *artifact, char **error, int *retryable)
{
	char norm[BJ_ARTIFACT_PATH_MAX + 1], rroot[PATH_MAX], real[PATH_MAX];
	char *slash;
	const char *why;
	struct stat st;
	int fd = -1, rc = -1;

	*error = NULL;
	*retryable = 1;
	/* a path the server would refuse is left to it: it says why, for good */
	if (bj_artifact_path_normalize(artifact, strlen(artifact), norm, &why) != BJ_OK)
		return 0;
	if (root == NULL || realpath(root, rroot) == NULL) {
		*error = bj_xasprintf("artifact %s: the artifacts root %s: %s", norm,
		    root ? root : "(none)", strerror(errno));
		return -1;
	}
	switch (bj_artifact_under(rroot, norm, real)) {
	case -1:
		*error = bj_xasprintf("artifact %s: %s", norm, strerror(errno));
		return -1;
	case -2:
		*error = bj_xasprintf("artifact %s: leads out of the artifacts root", norm);
		*retryable = 0;
		return -1;
	}
	/* O_NONBLOCK: a FIFO put there must not hang the worker; it is refused below */
	if ((fd = open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) == -1) {
		*error = bj_xasprintf("artifact %s: %s", norm, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		*error = bj_xasprintf("artifact %s: %s", norm, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*error = bj_xasprintf("artifact %s: not a regular file", norm);
		*retryable = 0;
		goto out;
	}
	if (fsync(fd) == -1) {
		*error = bj_xasprintf("artifact %s: fsync: %s", norm, strerror(errno));
		goto out;
	}
	/* its directory entry too: a rename into place is durable only then */
	slash = strrchr(real, '/');
	*slash = '\0';
	if (sync_dir(real) == -1) {
		*error = bj_xasprintf("artifact %s: fsync of its directory: %s", norm,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	return rc;
}
