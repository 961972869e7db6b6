/*
 * db.h: the one MariaDB connection of a process.
 *
 * Statements are prepared once per connection and cached by their SQL
 * text (all texts live in sql.c). Parameters are bound from a format
 * string:
 *   'i'  long long
 *   's'  const char *            (NULL binds SQL NULL)
 *   'b'  const char *, size_t    (bytes with a length; NULL binds NULL)
 *   'd'  double
 * Results are fetched whole into a struct bj_rows whose cells are strings
 * (NULL for SQL NULL); the caller frees it with bj_rows_free().
 *
 * Reconnection is explicit: when the server has gone away outside a
 * transaction, a statement reconnects and runs once more. Inside a
 * transaction the error is returned (the transaction is lost anyway) and
 * the next bj_db_begin() reconnects. MYSQL_OPT_RECONNECT is never set.
 */
#ifndef BJ_DB_H
#define BJ_DB_H

#include <stddef.h>

#include "conf.h"

struct bj_db;

struct bj_rows {
	int		  nrows;
	int		  ncols;
	char		**cells;	/* nrows * ncols, NULL = SQL NULL */
	unsigned long	 *lens;
	char		 *arena;	/* holds every cell's text; cells point into it */
};

/* Create a handle (does not connect). conf is borrowed and must outlive it. */
struct bj_db *bj_db_new(const struct bj_conf *conf);
void bj_db_free(struct bj_db *db);
/* Connect (or reconnect); -1 with bj_db_error() set on failure. */
int bj_db_connect(struct bj_db *db);
/* Connect to another database name than the config's (tests, migrate). */
void bj_db_set_name(struct bj_db *db, const char *name);
/* 1 when the last error means the server is unreachable or the link lost. */
int bj_db_gone(const struct bj_db *db);
/* Server error number of the last failure (e.g. 1062 duplicate key). */
unsigned bj_db_errno(const struct bj_db *db);
/* 1 when the last failure was a deadlock or a lock wait time-out: worth a new try. */
int bj_db_retryable(const struct bj_db *db);
const char *bj_db_error(const struct bj_db *db);
/* Check the connection, reconnecting if needed: 0 when usable. */
int bj_db_ping(struct bj_db *db);

int bj_db_begin(struct bj_db *db);
/* The same, for one transaction at READ COMMITTED (each read sees what has committed). */
int bj_db_begin_read_committed(struct bj_db *db);
int bj_db_commit(struct bj_db *db);
/* Roll back; harmless when no transaction is open or the link is gone. */
void bj_db_rollback(struct bj_db *db);
int bj_db_in_tx(const struct bj_db *db);

/* Run a prepared statement; *affected may be NULL. Returns 0 or -1. */
int bj_db_exec(struct bj_db *db, const char *sql, unsigned long long *affected,
    const char *fmt, ...);
/* Run a prepared query; returns rows (maybe zero) or NULL on error. */
struct bj_rows *bj_db_query(struct bj_db *db, const char *sql, const char *fmt, ...);
/* Run a text statement without parameters (DDL, SET, migrations). */
int bj_db_exec_text(struct bj_db *db, const char *sql);
/* The AUTO_INCREMENT id of the last insert on this connection. */
unsigned long long bj_db_insert_id(struct bj_db *db);
/* The underlying MYSQL * for bulk operations in sql.c only. */
void *bj_db_mysql(struct bj_db *db);

/* Cell accessors; row and col are bounds-checked (NULL / 0 outside). */
const char *bj_rows_get(const struct bj_rows *r, int row, int col);
long long bj_rows_int(const struct bj_rows *r, int row, int col);
void bj_rows_free(struct bj_rows *r);

#endif
