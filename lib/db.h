/*
 * db.h: the one MariaDB connection of a process.
 *
 * Statements are prepared once per connection and cached by their SQL
 * text (all texts live in sql.c). Parameters are an array of struct
 * bj_param made with the BJ_P_* macros, which refuse a value of the wrong
 * kind at compile time:
 *   bj_db_execp(db, BJ_SQL_X, NULL, BJ_PARAMS(BJ_P_INT(id), BJ_P_STR(name)));
 * The older bj_db_exec()/bj_db_query() bind from a format string checked
 * at run time ('i' long long, 's' const char * or NULL, 'b' const char *
 * and size_t, 'd' double); new code uses the arrays.
 * Results are fetched whole into a struct bj_rows whose cells are strings
 * (NULL for SQL NULL); the caller frees it with bj_rows_free().
 *
 * Reconnection is explicit (to the first ready node of [database] hosts): when the server has gone away outside a
 * transaction, a statement reconnects and runs once more. Inside a
 * transaction the error is returned (the transaction is lost anyway) and
 * the next bj_db_begin() reconnects. MYSQL_OPT_RECONNECT is never set.
 */
#ifndef BJ_DB_H
#define BJ_DB_H

#include <stddef.h>

#include "conf.h"

struct bj_db;

enum bj_param_type {
	BJ_PARAM_NULL,
	BJ_PARAM_INT,
	BJ_PARAM_DOUBLE,
	BJ_PARAM_STR,		/* NUL-terminated; a NULL pointer binds SQL NULL */
	BJ_PARAM_BYTES		/* pointer and length; a NULL pointer binds SQL NULL */
};

/* One bound value; build it with the macros below, never by hand. */
struct bj_param {
	enum bj_param_type	 type;
	union {
		long long	 i;
		double		 d;
		const char	*s;
		struct {
			const char	*p;
			size_t		 n;
		} b;
	} v;
};

/* x itself when it has an integer type; anything else does not compile. */
#define BJ_P_ANY_INT(x) _Generic((x), _Bool: (x), char: (x), signed char: (x), \
	unsigned char: (x), short: (x), unsigned short: (x), int: (x), unsigned: (x), \
	long: (x), unsigned long: (x), long long: (x), unsigned long long: (x))
/* x itself when it is a string; anything else (NULL too: use BJ_P_NULL) does not compile. */
#define BJ_P_ANY_STR(x) _Generic((x), char *: (x), const char *: (x))

#define BJ_P_NULL	((struct bj_param){ .type = BJ_PARAM_NULL })
#define BJ_P_INT(x)	((struct bj_param){ .type = BJ_PARAM_INT, .v.i = (long long)BJ_P_ANY_INT(x) })
#define BJ_P_DOUBLE(x)	((struct bj_param){ .type = BJ_PARAM_DOUBLE, \
	.v.d = _Generic((x), double: (x), float: (x)) })
#define BJ_P_STR(x)	((struct bj_param){ .type = BJ_PARAM_STR, .v.s = BJ_P_ANY_STR(x) })
#define BJ_P_BYTES(x, len) ((struct bj_param){ .type = BJ_PARAM_BYTES, \
	.v.b = { BJ_P_ANY_STR(x), (size_t)BJ_P_ANY_INT(len) } })
/* The array and its length, as the p and n arguments of bj_db_execp() and bj_db_queryp(). */
#define BJ_PARAMS(...) (const struct bj_param[]){ __VA_ARGS__ }, \
	sizeof((const struct bj_param[]){ __VA_ARGS__ }) / sizeof(struct bj_param)

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
/*
 * Connect (or reconnect); -1 with bj_db_error() set on failure. With
 * [database] hosts, the first node of the list that is ready (a plain
 * server, or a Galera node with wsrep_ready ON and Synced), so that every
 * client writes to the same node while it lasts; else host or socket.
 */
int bj_db_connect(struct bj_db *db);
/*
 * On (for a long-lived process: bulkjobs-fcgi), a link that failed over
 * to a later node of [database] hosts looks, between transactions, for an
 * earlier node that is ready again and moves there: first
 * BJ_DB_FAILBACK_SECONDS after it connected, then twice as long after each
 * look that found none, up to BJ_DB_FAILBACK_MAX; each look connects with
 * a 1 s timeout. Else the processes that failed over would write to one
 * node and those that connected later to the first, two writers for good.
 * Off by default: a program holding session state (GET_LOCK) must not
 * move, and the short-lived ones connect afresh each run.
 */
void bj_db_set_failback(struct bj_db *db, int on);
#define BJ_DB_FAILBACK_SECONDS	10
#define BJ_DB_FAILBACK_MAX	300
/* Connect to another database name than the config's (tests, migrate). */
void bj_db_set_name(struct bj_db *db, const char *name);
/* 1 when the last error means the server is unreachable or the link lost. */
int bj_db_gone(const struct bj_db *db);
/* Server error number of the last failure (e.g. 1062 duplicate key). */
unsigned bj_db_errno(const struct bj_db *db);
/* 1 when the last failure was a duplicate key (ER_DUP_ENTRY). */
int bj_db_duplicate(const struct bj_db *db);
/* 1 when the last failure was a deadlock or a lock wait time-out: worth a new try. */
int bj_db_retryable(const struct bj_db *db);
const char *bj_db_error(const struct bj_db *db);
/*
 * 1 when the last failure may go away if the transaction is tried again:
 * a conflict (bj_db_retryable), or a lost or refusing node outside COMMIT
 * (the next bj_db_begin() connects to the next ready node). A link lost
 * at COMMIT is not: the change may have been made.
 */
int bj_db_transient(const struct bj_db *db);
/* Sleep before try attempt + 1 of a transaction: jittered, doubling from 2 ms to 256 ms. */
void bj_db_backoff(int attempt);
/* The server of the link: "host:port" or the socket path (borrowed). */
const char *bj_db_node(const struct bj_db *db);
/* 1 when the server is a Galera node (wsrep_on). */
int bj_db_galera(const struct bj_db *db);
/*
 * On a Galera node with [database] sync_wait set: on, the session's next
 * reads first wait until this node has applied every write the cluster
 * committed before them (wsrep_sync_wait); off, they do not wait. A no-op
 * elsewhere. 0 or -1.
 */
int bj_db_sync_reads(struct bj_db *db, int on);
/* Check the connection, reconnecting if needed: 0 when usable. */
int bj_db_ping(struct bj_db *db);

int bj_db_begin(struct bj_db *db);
int bj_db_commit(struct bj_db *db);
/* Roll back; harmless when no transaction is open or the link is gone. */
void bj_db_rollback(struct bj_db *db);
int bj_db_in_tx(const struct bj_db *db);

/* Run a prepared statement with the n parameters p; *affected may be NULL. 0 or -1. */
int bj_db_execp(struct bj_db *db, const char *sql, unsigned long long *affected,
    const struct bj_param *p, size_t n);
/* Run a prepared query with the n parameters p; rows (maybe zero) or NULL on error. */
struct bj_rows *bj_db_queryp(struct bj_db *db, const char *sql, const struct bj_param *p,
    size_t n);

/*
 * One statement over many rows (a multi-row INSERT), inside the caller's
 * transaction: batches of rows rows through many while their values stay
 * under max_bytes, the others a row at a time through one. fill(arg, i, p)
 * writes the cols parameters of row i at p; what they point to must live
 * until bj_db_exec_batch() returns.
 */
struct bj_db_batch {
	const char	*many;		/* rows × cols placeholders */
	const char	*one;		/* cols placeholders */
	size_t		 rows;
	size_t		 cols;
	size_t		 max_bytes;
	void		(*fill)(void *arg, size_t i, struct bj_param *p);
	void		*arg;
};
/* Run b over n rows; 0, or -1 with bj_db_error() and bj_db_errno() set. */
int bj_db_exec_batch(struct bj_db *db, const struct bj_db_batch *b, size_t n);

/* Format-string forms of bj_db_execp() and bj_db_queryp(). */
int bj_db_exec(struct bj_db *db, const char *sql, unsigned long long *affected,
    const char *fmt, ...);
struct bj_rows *bj_db_query(struct bj_db *db, const char *sql, const char *fmt, ...);
/* Run a text statement without parameters (DDL, SET, migrations). */
int bj_db_exec_text(struct bj_db *db, const char *sql);
/* The AUTO_INCREMENT id of the last insert on this connection. */
unsigned long long bj_db_insert_id(struct bj_db *db);
/* The underlying MYSQL * (the tests' text queries). */
void *bj_db_mysql(struct bj_db *db);

/* Cell accessors; row and col are bounds-checked (NULL / 0 outside). */
const char *bj_rows_get(const struct bj_rows *r, int row, int col);
long long bj_rows_int(const struct bj_rows *r, int row, int col);
/*
 * A DATETIME cell (UTC, as every session runs): microseconds since the
 * epoch into *us; 0 (and *us 0) for NULL or a cell that is not one.
 * Reading times as stored and writing them out here spares the server
 * DATE_FORMAT and TIMESTAMPDIFF, a third of the work of a job's row.
 */
int bj_rows_time(const struct bj_rows *r, int row, int col, long long *us);
/* Whole seconds from a to b (microseconds), as TIMESTAMPDIFF(SECOND) counts them. */
static inline long long
bj_us_seconds(long long a, long long b)
{
	return (b - a) / 1000000;
}
/*
 * The cell as ISO 8601 ("2026-12-05T09:29:34Z", with ".123456" when
 * micro), copied; NULL for NULL. us, when not NULL, gets what
 * bj_rows_time would give, so that a cell is read once for both.
 */
char *bj_rows_iso(const struct bj_rows *r, int row, int col, int micro, long long *us);
void bj_rows_free(struct bj_rows *r);

#endif
