/*
 * lock.c: one reaper at a time, by GET_LOCK on a connection of its own.
 * The lock is a courtesy, not a guarantee (Galera does not replicate it,
 * a dropped link loses it): every sweep statement is conditional anyway.
 */
#include "config.h"

#include <mysqld_error.h>

#include "log.h"
#include "reaper.h"
#include "sql.h"

/* Take the lock without waiting: 1 taken, 0 held by another session, -1 error. */
int
bj_reaper_lock(struct bj_reaper *r)
{
	struct bj_rows *rows;
	const char *v;
	int rc;

	rows = bj_db_query(r->lockdb, BJ_SQL_GET_LOCK, "si", r->conf->lock_name, 0LL);
	if (rows == NULL) {
		bj_log_err("GET_LOCK: %s", bj_db_error(r->lockdb));
		return -1;
	}
	v = bj_rows_get(rows, 0, 0);
	if (v == NULL) {
		bj_log_err("GET_LOCK('%s') returned NULL", r->conf->lock_name);
		rc = -1;
	} else
		rc = bj_rows_int(rows, 0, 0) == 1 ? 1 : 0;
	bj_rows_free(rows);
	return rc;
}

/* Release the lock; a lost connection has released it already. */
void
bj_reaper_unlock(struct bj_reaper *r)
{
	struct bj_rows *rows;

	if (r->lockdb == NULL || bj_db_gone(r->lockdb))
		return;
	rows = bj_db_query(r->lockdb, BJ_SQL_RELEASE_LOCK, "s", r->conf->lock_name);
	bj_rows_free(rows);
}

/* Before each batch: no SIGTERM, and the lock is still this session's. */
int
bj_reaper_go_on(struct bj_reaper *r)
{
	struct bj_rows *rows;
	int mine;

	if (r->halted)
		return 0;
	if (r->stop != NULL && *r->stop) {
		bj_log_info("stopping after a signal");
		r->halted = 1;
		return 0;
	}
	if (r->lockdb == NULL)
		return 1;
	/* a reconnect would be a new session that does not hold the lock */
	rows = bj_db_query(r->lockdb, BJ_SQL_IS_LOCK_MINE, "s", r->conf->lock_name);
	mine = rows != NULL && bj_rows_int(rows, 0, 0) == 1;
	bj_rows_free(rows);
	if (!mine) {
		bj_log_warn("the lock '%s' was lost; stopping", r->conf->lock_name);
		r->halted = 1;
	}
	return mine;
}

/* Row-lock conflicts with another writer are not errors: the work is retried. */
int
bj_reaper_busy(struct bj_db *db)
{
	return bj_db_errno(db) == ER_LOCK_DEADLOCK || bj_db_errno(db) == ER_LOCK_WAIT_TIMEOUT;
}
