/*
 * lock.c: one reaper at a time, by GET_LOCK on a connection of its own.
 * The lock is a courtesy, not a guarantee (Galera does not replicate it,
 * a dropped link loses it): every sweep statement is conditional anyway.
 * Row locks of other writers (the API, a second reaper) are met batch by
 * batch: a batch that meets them is tried again, then left for the next
 * run.
 */
#include "config.h"

#include <unistd.h>

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

	rows = bj_db_queryp(r->lockdb, BJ_SQL_GET_LOCK,
	    BJ_PARAMS(BJ_P_STR(r->conf->lock_name), BJ_P_INT(0)));
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
	rows = bj_db_queryp(r->lockdb, BJ_SQL_RELEASE_LOCK,
	    BJ_PARAMS(BJ_P_STR(r->conf->lock_name)));
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
	rows = bj_db_queryp(r->lockdb, BJ_SQL_IS_LOCK_MINE,
	    BJ_PARAMS(BJ_P_STR(r->conf->lock_name)));
	mine = rows != NULL && bj_rows_int(rows, 0, 0) == 1;
	bj_rows_free(rows);
	if (!mine) {
		bj_log_warn("the lock '%s' was lost; stopping", r->conf->lock_name);
		r->halted = 1;
	}
	return mine;
}

/* How many times in a row a batch that met another writer's locks is tried again. */
#define BUSY_TRIES 10

/*
 * After a batch failed and was rolled back: 1 to try it again (it met
 * another writer's locks; a little later each time), 0 when it did so
 * BUSY_TRIES times in a row (left for the next run), -1 on any other
 * error. Both ends are logged under what.
 */
int
bj_reaper_retry(struct bj_db *db, int *busy, const char *what)
{
	if (!bj_db_retryable(db)) {	/* row-lock conflicts with another writer are not errors */
		bj_log_err("%s: %s", what, bj_db_error(db));
		return -1;
	}
	if (++*busy < BUSY_TRIES) {
		usleep(10000 * *busy);
		return 1;
	}
	bj_log_info("%s: %s; left for the next run", what, bj_db_error(db));
	return 0;
}

/*
 * Begin a batch's transaction with the connection's temporary batch
 * table (created outside it, once) emptied, then filled by pick with up
 * to limit rows; 0 or -1 (the transaction may be open: roll back).
 */
int
bj_reaper_pick(struct bj_db *db, const char *table, const char *clear, const char *pick,
    long long limit)
{
	if (bj_db_exec_text(db, table) == -1 || bj_db_begin(db) == -1 ||
	    bj_db_execp(db, clear, NULL, NULL, 0) == -1 ||
	    bj_db_execp(db, pick, NULL, BJ_PARAMS(BJ_P_INT(limit))) == -1)
		return -1;
	return 0;
}
