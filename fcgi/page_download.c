/*
 * page_download.c: GET /jobs/{token}/download hands the job's artifact to
 * the web server (X-Accel-Redirect for nginx, X-Sendfile for Apache) or
 * streams it ([artifacts] download = stream).
 *
 * The artifact is a path relative to [artifacts] root. It is resolved with
 * realpath() and refused unless it stays under the resolved root, so
 * neither "..", an absolute path nor a symlink leads out of it. A link
 * swapped in after that check is the web server's to refuse (nginx:
 * disable_symlinks on the internal location, as conf/nginx.conf ships);
 * streamed, the file is opened without following any link.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "artifact_path.h"
#include "buf.h"
#include "log.h"
#include "pages.h"

/* Percent-encode s, keeping the unreserved characters and those in keep. */
static void
pct_encode(struct bj_buf *b, const char *s, const char *keep)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || strchr("-._~", c) != NULL || (c && strchr(keep, c) != NULL))
			bj_buf_addc(b, (char)c);
		else
			bj_buf_printf(b, "%%%02X", c);
	}
}

/*
 * Content-Disposition per RFC 6266: an ASCII fallback filename= with
 * anything doubtful replaced, and filename*=UTF-8'' with the exact name.
 */
/*
 * The artifact's media type from its name. nginx keeps the Content-Type
 * of the reply that carries X-Accel-Redirect, and mod_xsendfile that of
 * the reply with X-Sendfile, so every way of sending says the same.
 */
static const char *
artifact_type(const char *path)
{
	static const struct {
		const char	*suffix, *type;
	} types[] = {
		{ ".tar.gz", "application/gzip" },
		{ ".tgz", "application/gzip" },
		{ ".gz", "application/gzip" },
		{ ".tar", "application/x-tar" },
		{ ".zip", "application/zip" },
		{ ".csv", "text/csv; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".jsonl", "application/jsonl" },
		{ ".ndjson", "application/x-ndjson" },
		{ ".txt", "text/plain; charset=utf-8" },
		{ ".pdf", "application/pdf" },
		{ ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
		{ ".xml", "application/xml" },
	};
	size_t len = strlen(path);

	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		size_t sl = strlen(types[i].suffix);

		if (len > sl && strcasecmp(path + len - sl, types[i].suffix) == 0)
			return types[i].type;
	}
	return "application/octet-stream";
}

static char *
disposition(const char *path)
{
	const char *name = strrchr(path, '/');
	struct bj_buf b = { 0 };

	name = name ? name + 1 : path;
	if (*name == '\0')
		name = "download";
	bj_buf_adds(&b, "attachment; filename=\"");
	for (const char *p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;
		bj_buf_addc(&b, isalnum(c) || strchr("-._ ", c) ? (char)c : '_');
	}
	bj_buf_adds(&b, "\"; filename*=UTF-8''");
	pct_encode(&b, name, "!#$&+^`|");
	return bj_buf_steal(&b);
}

/*
 * Send the file's bytes ourselves. The file is opened from the root one
 * component at a time without following any link (bj_artifact_open, as
 * the reaper's purge walks), so a link swapped in after the realpath()
 * check leads nowhere.
 */
static void
stream(struct bj_req *req, const char *root, const char *rel, const char *cd)
{
	FCGX_Stream *out = req->fcgx->out;
	char chunk[65536], *head, *cause = NULL;
	struct stat st;
	ssize_t n;
	int fd = bj_artifact_open(root, rel, &cause);

	if (fd == -1 || fstat(fd, &st) == -1) {
		if (fd != -1)
			close(fd);
		bj_log_warn("artifact %s not sent: %s", rel, cause ? cause : strerror(errno));
		free(cause);
		bj_page_error(req, 404, _("Not found"), _("The file of this job is missing."));
		return;
	}
	req->status = 200;
	/* libfcgi's printf knows no %lld: format the head here */
	head = bj_xasprintf("Status: 200 OK\r\nContent-Type: %s\r\n"
	    "Content-Length: %lld\r\nContent-Disposition: %s\r\n", artifact_type(rel),
	    (long long)st.st_size, cd);
	FCGX_PutS(head, out);
	free(head);
	if (req->headers.len > 0)
		FCGX_PutStr(req->headers.data, (int)req->headers.len, out);
	FCGX_PutStr("\r\n", 2, out);
	if (strcmp(req->method, "HEAD") != 0) {
		while ((n = read(fd, chunk, sizeof chunk)) > 0)
			if (FCGX_PutStr(chunk, (int)n, out) < 0)
				break;
	}
	close(fd);
}

/* GET /jobs/{token}/download */
void
bj_page_download(struct bj_req *req)
{
	const struct bj_conf *conf = req->app->conf;
	struct bj_page_job *pj;
	char *cd = NULL, real[PATH_MAX], root[PATH_MAX];
	char norm[BJ_ARTIFACT_PATH_MAX + 1];
	const char *why;
	struct bj_buf b = { 0 };
	struct stat st;
	size_t rlen;

	bj_page_lang(req, NULL);
	if ((pj = bj_page_job_load(req)) == NULL)
		return;
	if (pj->job.artifact == NULL) {
		bj_page_error(req, 404, _("No file"), _("This job has no file to download."));
		goto out;
	}
	if (pj->job.artifact_deleted || pj->job.artifact_expired) {
		bj_page_error(req, 410, _("Expired"),
		    _("The file of this job has expired and is no longer available."));
		goto out;
	}
	/* stored paths were checked when the item completed; check again all the same */
	if (bj_artifact_path_normalize(pj->job.artifact, strlen(pj->job.artifact), norm,
	    &why) != BJ_OK || realpath(conf->artifacts_root, root) == NULL) {
		bj_log_warn("job %lld: artifact path refused", pj->job.id);
		bj_page_error(req, 404, _("No file"), _("This job has no file to download."));
		goto out;
	}
	rlen = strlen(root);
	if (bj_artifact_under(root, norm, real) != 0 || stat(real, &st) == -1 ||
	    !S_ISREG(st.st_mode)) {
		bj_page_error(req, 404, _("Not found"), _("The file of this job is missing."));
		goto out;
	}
	cd = disposition(real);
	bj_reply_header(req, "X-Content-Type-Options", "nosniff");
	bj_reply_header(req, "Cache-Control", "no-store");
	bj_reply_header(req, "Referrer-Policy", "no-referrer");
	switch (conf->download) {
	case BJ_DL_ACCEL:
		bj_buf_adds(&b, conf->internal_prefix);
		if (b.len == 0 || b.data[b.len - 1] != '/')
			bj_buf_addc(&b, '/');
		pct_encode(&b, real + rlen + 1, "/");
		bj_reply_header(req, "Content-Disposition", cd);
		bj_reply_header(req, "X-Accel-Redirect", b.data);
		bj_reply(req, 200, artifact_type(real), "", 0);
		break;
	case BJ_DL_SENDFILE:
		bj_reply_header(req, "Content-Disposition", cd);
		if (bj_reply_header(req, "X-Sendfile", real) == -1) {
			bj_page_error(req, 404, _("Not found"), _("The file of this job is missing."));
			break;
		}
		bj_reply(req, 200, artifact_type(real), "", 0);
		break;
	default:
		stream(req, root, real + rlen + 1, cd);
		break;
	}
out:
	bj_buf_free(&b);
	free(cd);
	bj_page_job_free(pj);
}
