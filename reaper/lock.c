/*
 * lock.c: one reaper at a time, on a connection of its own: GET_LOCK on
 * one server ([reaper] lock = get_lock), or a lease row that holds across
 * a Galera cluster, where GET_LOCK is local to a node (lock = table).
 * Either is a courtesy, not a guarantee (a dropped link loses GET_LOCK, a
 * stalled holder outlives its lease): every sweep statement is conditional
 * anyway.
 * Row locks of other writers (the API, a second reaper) are met batch by
 * batch: a batch that meets them is tried again, then left for the next
 * run.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "reaper.h"
#include "sql.h"

/*
 * The cluster-wide lock ([reaper] lock = table): the reaper_lock row,
 * taken with a conditional upsert when free, expired or already ours, in
 * a transaction of its own. Two reapers on two Galera nodes may both see
 * the row as theirs inside their transactions; certification commits one
 * and fails the other's COMMIT with 1213, which means "held elsewhere".
 * 1 taken, 0 held elsewhere, -1 error.
 */
static int
table_lock(struct bj_reaper *r)
{
	struct bj_db *db = r->lockdb;
	struct bj_rows *rows = NULL;
	char host[128] = "localhost";
	int rc = -1;

	gethostname(host, sizeof host - 1);
	snprintf(r->holder, sizeof r->holder, "%s:%ld:%08lx", host, (long)getpid(),
	    (unsigned long)random());
	if (bj_db_begin(db) == -1)
		goto out;
	if (bj_db_execp(db, BJ_SQL_LEASE_LOCK_TAKE, NULL, BJ_PARAMS(BJ_P_STR(r->conf->lock_name),
	    BJ_P_STR(r->holder), BJ_P_INT(r->conf->reaper_lock_seconds))) == -1 ||
	    (rows = bj_db_queryp(db, BJ_SQL_LEASE_LOCK_HOLDER,
	    BJ_PARAMS(BJ_P_STR(r->conf->lock_name)))) == NULL)
		goto out;
	if (rows->nrows != 1 || strcmp(bj_rows_get(rows, 0, 0), r->holder) != 0) {
		rc = 0;	/* another reaper's lease has not run out */
		goto out;
	}
	if (bj_db_commit(db) == -1)
		goto out;
	r->renewed = bj_now();
	rc = 1;
	bj_log_info("lock '%s' taken by %s on %s at %.6f", r->conf->lock_name, r->holder,
	    bj_db_node(db), r->renewed);
out:
	if (rc == -1 && bj_db_retryable(db))
		rc = 0;	/* a concurrent taker won: on Galera, certification chose it */
	else if (rc == -1)
		bj_log_err("reaper lock: %s", bj_db_error(db));
	if (rc != 1)
		bj_db_rollback(db);
	bj_rows_free(rows);
	return rc;
}

/* Renew the row's lease when a third of it has passed; 1 still ours, 0 lost. */
static int
table_renew(struct bj_reaper *r)
{
	unsigned long long n = 0;
	double now = bj_now();

	if (now - r->renewed < r->conf->reaper_lock_seconds / 3.0)
		return 1;
	if (now - r->renewed >= r->conf->reaper_lock_seconds)
		return 0;	/* run out: another reaper may hold it by now */
	if (bj_db_execp(r->lockdb, BJ_SQL_LEASE_LOCK_RENEW, &n,
	    BJ_PARAMS(BJ_P_INT(r->conf->reaper_lock_seconds), BJ_P_STR(r->conf->lock_name),
	    BJ_P_STR(r->holder))) == -1) {
		bj_log_err("reaper lock renewal: %s", bj_db_error(r->lockdb));
		return 0;
	}
	if (n == 1)
		r->renewed = now;
	return n == 1;
}

/* Take the lock without waiting: 1 taken, 0 held by another session, -1 error. */
int
bj_reaper_lock(struct bj_reaper *r)
{
	struct bj_rows *rows;
	const char *v;
	int rc;

	if (r->conf->reaper_lock == BJ_REAPER_LOCK_TABLE)
		return table_lock(r);
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

/* Release the lock; a lost connection has released it already (GET_LOCK). */
void
bj_reaper_unlock(struct bj_reaper *r)
{
	struct bj_rows *rows;

	if (r->lockdb == NULL)
		return;
	if (r->conf->reaper_lock == BJ_REAPER_LOCK_TABLE) {
		/* logged first: from here on another reaper may take it */
		bj_log_info("lock '%s' released by %s at %.6f", r->conf->lock_name, r->holder,
		    bj_now());
		if (bj_db_execp(r->lockdb, BJ_SQL_LEASE_LOCK_RELEASE, NULL,
		    BJ_PARAMS(BJ_P_STR(r->conf->lock_name), BJ_P_STR(r->holder))) == -1)
			bj_log_warn("reaper lock release: %s (it runs out at its expiry)",
			    bj_db_error(r->lockdb));
		return;
	}
	if (bj_db_gone(r->lockdb))
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
	if (r->conf->reaper_lock == BJ_REAPER_LOCK_TABLE)
		mine = table_renew(r);
	else {
		/* a reconnect would be a new session that does not hold the lock */
		rows = bj_db_queryp(r->lockdb, BJ_SQL_IS_LOCK_MINE,
		    BJ_PARAMS(BJ_P_STR(r->conf->lock_name)));
		mine = rows != NULL && bj_rows_int(rows, 0, 0) == 1;
		bj_rows_free(rows);
	}
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
