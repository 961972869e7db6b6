/*
 * purge.c: step 5, artifacts past artifact_expires_at and rows past the
 * purge age.
 *
 * An artifact path comes from the database, so it is walked component by
 * component from [artifacts] root with openat(O_NOFOLLOW)
 * (bj_artifact_dir_open, shared with the download page): no symlink is
 * followed, "." and ".." are refused, and only a regular file is unlinked.
 * Nothing outside the root can be touched whatever the row says.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "artifact_path.h"
#include "buf.h"
#include "claim.h"
#include "log.h"
#include "reaper.h"
#include "sql.h"

/* Unlink root/rel safely: 1 deleted, 0 already gone, -1 refused or failed (*cause set). */
int
bj_reaper_unlink_artifact(const char *root, const char *rel, char **cause)
{
	char *buf = NULL;
	const char *leaf;
	int dfd, rc = -1;
	struct stat st;

	if ((dfd = bj_artifact_dir_open(root, rel, &buf, &leaf, cause)) == -1)
		return *cause == NULL ? 0 : -1;
	if (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT) {
			rc = 0;
			goto out;
		}
		*cause = bj_xasprintf("%s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*cause = bj_xstrdup("not a regular file; left alone");
		goto out;
	}
	if (unlinkat(dfd, leaf, 0) == -1) {
		if (errno == ENOENT) {
			rc = 0;
			goto out;
		}
		*cause = bj_xasprintf("unlink: %s", strerror(errno));
		goto out;
	}
	rc = 1;
out:
	free(buf);
	close(dfd);
	return rc;
}

/*
 * Delete root/rel of job id (refusals logged and counted as handled, or
 * they would come back every run); 1 when a file went.
 */
static int
unlink_logged(struct bj_reaper *r, long long id, const char *rel)
{
	char *cause = NULL;
	int rc = bj_reaper_unlink_artifact(r->conf->artifacts_root, rel, &cause);

	if (rc == -1)
		bj_log_warn("job %lld: artifact '%s' not deleted: %s", id, rel, cause);
	free(cause);
	return rc == 1;
}

/*
 * The items' own artifacts (intermediate stages) of job id, whose
 * artifact is due: deleted under the same rule, a batch at a time, each
 * row's path cleared, in the caller's transaction. 0, or -1 on error.
 */
static int
purge_item_artifacts(struct bj_reaper *r, long long id)
{
	for (;;) {
		struct bj_rows *rows = bj_db_queryp(r->db, BJ_SQL_REAPER_ITEM_ARTIFACTS,
		    BJ_PARAMS(BJ_P_INT(id), BJ_P_INT((long long)r->batch)));
		int nrows;

		if (rows == NULL) {
			bj_log_err("job %lld: item artifacts: %s", id, bj_db_error(r->db));
			return -1;
		}
		nrows = rows->nrows;
		for (int i = 0; i < nrows; i++) {
			const char *rel = bj_rows_get(rows, i, 1);

			if (r->dry_run) {
				bj_log_info("would delete artifact %s of job %lld", rel, id);
				r->st.artifacts++;
				continue;
			}
			r->st.artifacts += unlink_logged(r, id, rel);
			if (bj_db_execp(r->db, BJ_SQL_REAPER_ITEM_ARTIFACT_GONE, NULL,
			    BJ_PARAMS(BJ_P_INT(bj_rows_int(rows, i, 0)))) == -1) {
				bj_log_err("job %lld: %s", id, bj_db_error(r->db));
				bj_rows_free(rows);
				return -1;
			}
		}
		bj_rows_free(rows);
		/* a dry run clears nothing: one batch says what it would do */
		if (nrows < r->batch || r->dry_run)
			return 0;
	}
}

/*
 * Job id's files, its items' and then its own, and the mark that they are
 * gone, under its row's lock and only if it is still due: a retry of the
 * job (which locks the row, then clears artifact_expires_at) cannot start
 * a round whose earlier stages' files are being deleted. In the caller's
 * transaction; 0 (done, or no longer due) or -1.
 */
static int
purge_job_files(struct bj_reaper *r, long long id)
{
	struct bj_rows *lock = bj_db_queryp(r->db, BJ_SQL_REAPER_ARTIFACT_LOCK,
	    BJ_PARAMS(BJ_P_INT(id)));
	char *rel;

	if (lock == NULL) {
		bj_log_err("job %lld: %s", id, bj_db_error(r->db));
		return -1;
	}
	if (lock->nrows == 0) {
		bj_rows_free(lock);
		return 0;	/* retried meanwhile, or another run took it */
	}
	rel = bj_rows_get(lock, 0, 0) ? bj_xstrdup(bj_rows_get(lock, 0, 0)) : NULL;
	bj_rows_free(lock);
	if (purge_item_artifacts(r, id) == -1) {
		free(rel);
		return -1;
	}
	if (rel != NULL)
		r->st.artifacts += unlink_logged(r, id, rel);
	free(rel);
	if (bj_db_execp(r->db, BJ_SQL_REAPER_ARTIFACT_GONE, NULL, BJ_PARAMS(BJ_P_INT(id))) == -1) {
		bj_log_err("job %lld: %s", id, bj_db_error(r->db));
		return -1;
	}
	return 0;
}

/* What a dry run would delete of the due jobs, deleting nothing; 0 or -1. */
static int
purge_artifacts_dry(struct bj_reaper *r, const struct bj_rows *rows)
{
	for (int i = 0; i < rows->nrows; i++) {
		long long id = bj_rows_int(rows, i, 0);
		const char *rel = bj_rows_get(rows, i, 1);

		if (purge_item_artifacts(r, id) == -1)
			return -1;
		if (rel != NULL) {
			bj_log_info("would delete artifact %s of job %lld", rel, id);
			r->st.artifacts++;
		}
	}
	return 0;
}

/* Delete expired artifact files, the job's and its items', and mark them deleted; 0 or -1. */
static int
purge_artifacts(struct bj_reaper *r)
{
	for (;;) {
		struct bj_rows *rows;
		int nrows, rc = 0;

		if (!bj_reaper_go_on(r))
			return 0;
		rows = bj_db_queryp(r->db, BJ_SQL_REAPER_ARTIFACTS_DUE,
		    BJ_PARAMS(BJ_P_INT(r->batch)));
		if (rows == NULL) {
			bj_log_err("artifact sweep: %s", bj_db_error(r->db));
			return -1;
		}
		nrows = rows->nrows;
		if (r->dry_run) {
			rc = purge_artifacts_dry(r, rows);
			bj_rows_free(rows);
			return rc;
		}
		/*
		 * The batch's marks share one commit. Killed before it, the
		 * files are gone and the next run finds them gone (0): safe.
		 */
		if (bj_db_begin(r->db) == -1) {
			bj_log_err("artifact sweep: %s", bj_db_error(r->db));
			bj_rows_free(rows);
			return -1;
		}
		for (int i = 0; i < nrows && rc == 0; i++)
			rc = purge_job_files(r, bj_rows_int(rows, i, 0));
		bj_rows_free(rows);
		if (rc == 0 && bj_db_commit(r->db) == -1) {
			bj_log_err("artifact sweep: %s", bj_db_error(r->db));
			rc = -1;
		}
		if (rc == -1) {
			bj_db_rollback(r->db);
			return -1;
		}
		if (nrows < r->batch)
			return 0;
	}
}

/* Delete one table's rows of job_id in batches; 0, -1 on error, -2 told to stop. */
static int
purge_children(struct bj_reaper *r, const char *sql, long long job_id, int limited)
{
	unsigned long long n;
	int rc;

	do {
		n = 0;
		if (!bj_reaper_go_on(r))
			return -2;
		if (limited)
			rc = bj_db_execp(r->db, sql, &n, BJ_PARAMS(BJ_P_INT(job_id),
			    BJ_P_INT(r->batch)));
		else
			rc = bj_db_execp(r->db, sql, &n, BJ_PARAMS(BJ_P_INT(job_id)));
		if (rc == -1)
			return -1;
		r->st.rows += (long long)n;
	} while (limited && n == (unsigned long long)r->batch);
	return 0;
}

/* Delete ended jobs older than purge_after_seconds with everything that is theirs. */
static int
purge_rows(struct bj_reaper *r)
{
	static const char *const children[] = {
		BJ_SQL_REAPER_PURGE_ITEMS, BJ_SQL_REAPER_PURGE_FAILURES,
		BJ_SQL_REAPER_PURGE_EVENTS, BJ_SQL_REAPER_PURGE_ATTEMPTS,
		BJ_SQL_REAPER_PURGE_NOTIFICATIONS, BJ_SQL_REAPER_PURGE_TARGETS,
	};
	long long age = r->conf->purge_after_seconds;

	for (;;) {
		struct bj_rows *rows;
		int nrows;

		if (!bj_reaper_go_on(r))
			return 0;
		rows = bj_db_queryp(r->db, BJ_SQL_REAPER_PURGE_DUE, BJ_PARAMS(BJ_P_INT(age),
		    BJ_P_INT(r->batch)));
		if (rows == NULL) {
			bj_log_err("row purge: %s", bj_db_error(r->db));
			return -1;
		}
		nrows = rows->nrows;
		for (int i = 0; i < nrows; i++) {
			long long id = bj_rows_int(rows, i, 0);
			unsigned long long n = 0;

			if (r->dry_run) {
				bj_log_info("would purge job %lld and its rows", id);
				r->st.rows++;
				continue;
			}
			for (size_t c = 0; c < sizeof children / sizeof children[0]; c++) {
				int rc = purge_children(r, children[c], id,
				    children[c] != BJ_SQL_REAPER_PURGE_ATTEMPTS);
				if (rc == -2) {
					bj_rows_free(rows);
					return 0;
				}
				if (rc == -1)
					goto err;
			}
			if (bj_db_execp(r->db, BJ_SQL_REAPER_PURGE_JOB, &n,
			    BJ_PARAMS(BJ_P_INT(id), BJ_P_INT(age))) == -1)
				goto err;
			r->st.rows += (long long)n;
			continue;
err:
			bj_log_err("purging job %lld: %s", id, bj_db_error(r->db));
			bj_rows_free(rows);
			return -1;
		}
		bj_rows_free(rows);
		if (nrows < r->batch || r->dry_run)
			return 0;
	}
}

/* Rows of sql's table older than age seconds, a batch per statement; 0 or -1. */
static int
purge_older(struct bj_reaper *r, const char *sql, long long age, const char *what)
{
	unsigned long long n;

	do {
		if (!bj_reaper_go_on(r) || r->dry_run)
			return 0;
		if (bj_db_execp(r->db, sql, &n, BJ_PARAMS(BJ_P_INT(age),
		    BJ_P_INT((long long)r->batch))) == -1) {
			bj_log_err("%s: %s", what, bj_db_error(r->db));
			return -1;
		}
		r->st.rows += (long long)n;
	} while (n == (unsigned long long)r->batch);
	return 0;
}

/* Step 5. */
int
bj_reaper_purge(struct bj_reaper *r)
{
	/* claims' Idempotency-Keys live as long as the longest lease */
	if (purge_artifacts(r) == -1 || purge_older(r, BJ_SQL_REAPER_PURGE_CLAIM_KEYS,
	    BJ_LEASE_MAX_SECONDS, "claim keys") == -1 ||
	    purge_older(r, BJ_SQL_REAPER_PURGE_RUNS, r->conf->purge_after_seconds,
	    "reaper runs") == -1)
		return -1;
	return purge_rows(r);
}
