/*
 * db.c: MariaDB Connector/C wrapped for bulkjobs: one connection, a cache
 * of prepared statements keyed by SQL text, bound parameters, explicit
 * reconnection.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "buf.h"
#include "clock.h"
#include "db.h"
#include "log.h"
#include "sql.h"
#include "tally.h"

#define MAX_PARAMS 64

struct stmt_entry {
	const char		*sql;	/* borrowed: texts are static in sql.c */
	MYSQL_STMT		*stmt;
	struct stmt_entry	*next;
};

struct bj_db {
	const struct bj_conf	*conf;
	char			*name;
	MYSQL			*my;
	struct stmt_entry	*stmts;
	int			 in_tx;
	int			 gone;
	int			 galera;	/* the server is a Galera node */
	int			 sync_on;	/* wsrep_sync_wait set on this session */
	int			 lost_in_commit; /* the link went at COMMIT: the outcome is unknown */
	char			 node[300];	/* "host:port" or the socket of the link */
	int			 rank;		/* the link's place in [database] hosts, 0 the first */
	int			 failback;	/* go back to an earlier node once it is ready */
	double			 failback_at;	/* when to look for one next (bj_now) */
	int			 failback_every; /* seconds: doubles while none is ready */
	int			 probe;		/* a failback's look: a short connect timeout */
	unsigned		 err_no;
	char			 err[512];
};

static void
set_err(struct bj_db *db, unsigned no, const char *msg)
{
	db->err_no = no;
	snprintf(db->err, sizeof db->err, "%s", msg);
	db->gone = (no == CR_SERVER_GONE_ERROR || no == CR_SERVER_LOST ||
	    no == CR_CONNECTION_ERROR || no == CR_CONN_HOST_ERROR ||
	    no == CR_SERVER_LOST_EXTENDED || no == ER_CONNECTION_KILLED ||
	    no == ER_SERVER_SHUTDOWN || no == CR_COMMANDS_OUT_OF_SYNC ||
	    no == 4031 /* ER_CLIENT_INTERACTION_TIMEOUT */ ||
	    /* 1047: a Galera node that is not ready (joining, or cut off from the primary) */
	    no == ER_UNKNOWN_COM_ERROR);
}

/*
 * Whether the open transaction ended on the server without an error. A
 * Galera node aborts a local transaction that holds a row a replicated
 * write needs (a brute-force abort). Usually the next statement then
 * fails with 1213; but when the abort lands around a statement, that
 * statement has been seen to come back without an error, run outside any
 * transaction, and the COMMIT that follows to commit nothing and answer
 * OK (tests/e2e/test_galera: a completion answered 200 whose changes were
 * never made). Every reply carries the server's status flags, so a reply
 * outside the transaction opened here says it is lost: error 1213, as a
 * deadlock, so that callers start it over. Were that statement a write,
 * it would have run on its own before this sees it; the case seen was a
 * read.
 */
static int
tx_lost(struct bj_db *db)
{
	unsigned int status = 0;

	if (!db->in_tx || db->my == NULL || db->gone)
		return 0;
	if (mariadb_get_infov(db->my, MARIADB_CONNECTION_SERVER_STATUS, &status) != 0 ||
	    (status & SERVER_STATUS_IN_TRANS) != 0)
		return 0;
	db->err_no = ER_LOCK_DEADLOCK;
	snprintf(db->err, sizeof db->err, "the transaction was aborted on the server"
	    " (a conflicting write replicated from another node)");
	return 1;
}

static void
set_err_my(struct bj_db *db)
{
	set_err(db, mysql_errno(db->my), mysql_error(db->my));
}

static void
set_err_stmt(struct bj_db *db, MYSQL_STMT *st)
{
	set_err(db, mysql_stmt_errno(st), mysql_stmt_error(st));
}

struct bj_db *
bj_db_new(const struct bj_conf *conf)
{
	struct bj_db *db = bj_xcalloc(1, sizeof *db);

	db->conf = conf;
	db->name = bj_xstrdup(conf->db_name);
	return db;
}

void
bj_db_set_name(struct bj_db *db, const char *name)
{
	free(db->name);
	db->name = bj_xstrdup(name);
}

/* Close the link and forget every prepared statement. */
static void
db_close(struct bj_db *db)
{
	struct stmt_entry *e, *next;

	for (e = db->stmts; e != NULL; e = next) {
		next = e->next;
		mysql_stmt_close(e->stmt);
		free(e);
	}
	db->stmts = NULL;
	if (db->my != NULL)
		mysql_close(db->my);
	db->my = NULL;
	db->in_tx = 0;
	db->sync_on = 0;
}

void
bj_db_free(struct bj_db *db)
{
	if (db == NULL)
		return;
	db_close(db);
	free(db->name);
	free(db);
}

/* Open a link to one server: host and port over TCP, else the socket; 0 or -1. */
static int
connect_one(struct bj_db *db, const char *host, unsigned port, const char *sock)
{
	const struct bj_conf *c = db->conf;
	/* a failback's look must not hold up the request it runs before */
	unsigned int timeout = db->probe ? 1 : (unsigned int)c->db_connect_timeout;
	unsigned int rw_timeout = 60;
	my_bool off = 0;

	if ((db->my = mysql_init(NULL)) == NULL) {
		set_err(db, CR_OUT_OF_MEMORY, "mysql_init failed");
		return -1;
	}
	mysql_options(db->my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(db->my, MYSQL_OPT_READ_TIMEOUT, &rw_timeout);
	mysql_options(db->my, MYSQL_OPT_WRITE_TIMEOUT, &rw_timeout);
	mysql_options(db->my, MYSQL_OPT_RECONNECT, &off);
	mysql_options(db->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(db->my, MYSQL_INIT_COMMAND,
	    "SET time_zone = '+00:00', "
	    "sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'");
	/*
	 * READ COMMITTED: a plain read inside a transaction sees what others
	 * committed up to that statement, not a snapshot from the first read.
	 * The fan-in (bj_job_settle) counts a stage's open items after other
	 * transactions completed some; under REPEATABLE READ an earlier plain
	 * read would freeze an older view and the job would never finish. It
	 * also takes no gap locks, so concurrent completions wait less.
	 */
	mysql_options(db->my, MYSQL_INIT_COMMAND,
	    "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
	if (host != NULL)
		snprintf(db->node, sizeof db->node, "%s:%u", host, port);
	else
		snprintf(db->node, sizeof db->node, "%s", sock ? sock : "");
	if (mysql_real_connect(db->my, host, c->db_user, c->db_password, db->name,
	    port, sock, CLIENT_FOUND_ROWS) == NULL) {
		set_err_my(db);
		mysql_close(db->my);
		db->my = NULL;
		return -1;
	}
	return 0;
}

/* The rows of a text query on the link, or NULL (error set). */
static MYSQL_RES *
text_query(struct bj_db *db, const char *sql)
{
	MYSQL_RES *res;

	if (mysql_real_query(db->my, sql, strlen(sql)) != 0 ||
	    (res = mysql_store_result(db->my)) == NULL) {
		set_err_my(db);
		return NULL;
	}
	return res;
}

/*
 * Whether the server just connected to may take clients: a plain MariaDB
 * always; a Galera node when wsrep_ready is ON and it is Synced (a joiner,
 * a donor or a node cut off from the primary component is passed over).
 * 1 ready, 0 not (error set, 1047), -1 the query failed.
 */
static int
node_ready(struct bj_db *db)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int ready = 0, synced = 0;
	char state[64] = "unknown";

	db->galera = 0;
	if ((res = text_query(db, BJ_SQL_WSREP_ON)) == NULL)
		return db->err_no == ER_UNKNOWN_SYSTEM_VARIABLE ? 1 : -1;	/* no wsrep at all */
	row = mysql_fetch_row(res);
	db->galera = row != NULL && row[0] != NULL && strcmp(row[0], "1") == 0;
	mysql_free_result(res);
	if (!db->galera)
		return 1;
	if ((res = text_query(db, BJ_SQL_WSREP_STATE)) == NULL)
		return -1;
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (row[0] == NULL || row[1] == NULL)
			continue;
		if (strcmp(row[0], "WSREP_READY") == 0)
			ready = strcmp(row[1], "ON") == 0;
		else {
			synced = strcmp(row[1], "Synced") == 0;
			snprintf(state, sizeof state, "%s", row[1]);
		}
	}
	mysql_free_result(res);
	if (ready && synced)
		return 1;
	snprintf(db->err, sizeof db->err, "Galera node not ready (wsrep_ready %s, state %s)",
	    ready ? "ON" : "OFF", state);
	db->err_no = ER_UNKNOWN_COM_ERROR;
	return 0;
}

/*
 * The next "host[:port]" of a [database] hosts list from *p into host
 * (without the port) and *port; 0, or -1 at the list's end.
 */
static int
next_host(const char **p, char *host, size_t len, unsigned *port, unsigned dflt)
{
	const char *s = *p, *colon;
	size_t n;

	s += strspn(s, ", \t");
	if (*s == '\0')
		return -1;
	n = strcspn(s, ", \t");
	*p = s + n;
	*port = dflt;
	colon = memchr(s, ':', n);
	if (colon != NULL) {
		*port = (unsigned)strtoul(colon + 1, NULL, 10);
		n = (size_t)(colon - s);
	}
	snprintf(host, len, "%.*s", (int)n, s);
	return 0;
}

/* Connect to one server and check it is ready; 0, or -1 with the error set and no link. */
static int
try_node(struct bj_db *db, const char *host, unsigned port, const char *sock)
{
	int rc;

	if (connect_one(db, host, port, sock) == -1)
		return -1;
	if ((rc = node_ready(db)) == 1)
		return 0;
	if (rc == -1 && db->err_no == 0)
		set_err(db, ER_UNKNOWN_COM_ERROR, "cannot read the node's state");
	mysql_close(db->my);
	db->my = NULL;
	return -1;
}

int
bj_db_connect(struct bj_db *db)
{
	const struct bj_conf *c = db->conf;
	const char *p = c->db_hosts != NULL ? c->db_hosts : "";
	char host[256], why[1024] = "";
	unsigned port;
	int tried = 0, rc = -1;

	db_close(db);
	if (*p == '\0') {
		if (c->db_host != NULL && c->db_host[0] != '\0')
			rc = try_node(db, c->db_host, (unsigned)c->db_port, NULL);
		else
			rc = try_node(db, NULL, 0, c->db_socket);
	} else {
		/* the first ready node in the list's order: every client writes to the same one */
		while (rc == -1 && next_host(&p, host, sizeof host, &port, (unsigned)c->db_port) == 0) {
			if (tried++ > 0)
				bj_log_warn("database node %s: %s; trying the next", why, db->err);
			rc = try_node(db, host, port, NULL);
			snprintf(why, sizeof why, "%s", db->node);
		}
		if (rc == -1 && tried > 1) {
			snprintf(why, sizeof why, "no database node ready (of %d); last, %s: %s", tried,
			    db->node, db->err);
			snprintf(db->err, sizeof db->err, "%s", why);
		}
	}
	if (rc == -1) {
		db->gone = 1;
		return -1;
	}
	db->rank = tried > 0 ? tried - 1 : 0;
	db->failback_every = BJ_DB_FAILBACK_SECONDS;
	db->failback_at = bj_now() + db->failback_every;
	db->gone = 0;
	db->err_no = 0;
	db->err[0] = '\0';
	return 0;
}

const char *
bj_db_node(const struct bj_db *db)
{
	return db->node;
}

int
bj_db_galera(const struct bj_db *db)
{
	return db->galera;
}

int
bj_db_sync_reads(struct bj_db *db, int on)
{
	char sql[64];

	on = on ? 1 : 0;
	if (!db->galera || db->my == NULL || db->gone || db->conf->db_sync_wait == 0 ||
	    db->sync_on == on)
		return 0;
	snprintf(sql, sizeof sql, "%s%d", BJ_SQL_SYNC_WAIT_SET, on ? db->conf->db_sync_wait : 0);
	if (bj_db_exec_text(db, sql) == -1)
		return -1;
	db->sync_on = on;
	return 0;
}

int
bj_db_duplicate(const struct bj_db *db)
{
	return db->err_no == ER_DUP_ENTRY;
}

int
bj_db_transient(const struct bj_db *db)
{
	return bj_db_retryable(db) || (bj_db_gone(db) && !db->lost_in_commit);
}

void
bj_db_backoff(int attempt)
{
	static unsigned seed;
	long long cap = 2000LL << (attempt > 7 ? 7 : attempt);	/* 2 ms, doubling, to 256 ms */
	struct timespec ts;

	if (seed == 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (unsigned)getpid() ^ (unsigned)ts.tv_nsec;
	}
	/* full jitter: anywhere from half the cap to the cap, so rivals drift apart */
	cap = cap / 2 + (long long)(rand_r(&seed) % (int)(cap / 2 + 1));
	ts.tv_sec = (time_t)(cap / 1000000);
	ts.tv_nsec = (long)(cap % 1000000) * 1000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
bj_db_gone(const struct bj_db *db)
{
	return db->gone || db->my == NULL;
}

unsigned
bj_db_errno(const struct bj_db *db)
{
	return db->err_no;
}

int
bj_db_retryable(const struct bj_db *db)
{
	return db->err_no == ER_LOCK_DEADLOCK || db->err_no == ER_LOCK_WAIT_TIMEOUT;
}

const char *
bj_db_error(const struct bj_db *db)
{
	return db->err;
}

int
bj_db_in_tx(const struct bj_db *db)
{
	return db->in_tx;
}

void *
bj_db_mysql(struct bj_db *db)
{
	return db->my;
}

/*
 * A link on a node after the first of [database] hosts (taken when an
 * earlier one failed) moves to the earliest node that is ready again.
 * The link in use stays until a better one is up; nothing moves inside a
 * transaction. Each look tries the earlier nodes with a 1 s connect
 * timeout, and while none is ready the looks grow apart (10 s doubling to
 * BJ_DB_FAILBACK_MAX), so that a node that is gone for good, or does not
 * answer at all, costs little.
 */
static void
fail_back(struct bj_db *db)
{
	struct bj_db probe = { .conf = db->conf, .name = db->name, .probe = 1 };
	const char *p = db->conf->db_hosts;
	char host[256];
	unsigned port;

	if ((db->failback_every *= 2) > BJ_DB_FAILBACK_MAX)
		db->failback_every = BJ_DB_FAILBACK_MAX;
	db->failback_at = bj_now() + db->failback_every;
	for (int rank = 0; rank < db->rank &&
	    next_host(&p, host, sizeof host, &port, (unsigned)db->conf->db_port) == 0; rank++) {
		if (try_node(&probe, host, port, NULL) == -1)
			continue;
		bj_log_info("database node %s is ready again: moving there from %s",
		    probe.node, db->node);
		db_close(db);
		db->my = probe.my;
		db->galera = probe.galera;
		db->rank = rank;
		db->failback_every = BJ_DB_FAILBACK_SECONDS;
		snprintf(db->node, sizeof db->node, "%s", probe.node);
		return;
	}
}

/* Reconnect when the last error lost the link; 0 when usable. */
static int
db_ensure(struct bj_db *db)
{
	if (db->my != NULL && !db->gone) {
		if (db->failback && db->rank > 0 && !db->in_tx && bj_now() >= db->failback_at)
			fail_back(db);
		return 0;
	}
	return bj_db_connect(db);
}

void
bj_db_set_failback(struct bj_db *db, int on)
{
	db->failback = on;
}

int
bj_db_ping(struct bj_db *db)
{
	if (db_ensure(db) == -1)
		return -1;
	if (mysql_ping(db->my) != 0) {
		set_err_my(db);
		if (!db->gone)
			return -1;
		return bj_db_connect(db);
	}
	return 0;
}

int
bj_db_exec_text(struct bj_db *db, const char *sql)
{
	if (db_ensure(db) == -1)
		return -1;
	if (mysql_real_query(db->my, sql, strlen(sql)) != 0) {
		set_err_my(db);
		return -1;
	}
	/* drain any result so the link stays in sync */
	do {
		MYSQL_RES *res = mysql_store_result(db->my);
		if (res != NULL)
			mysql_free_result(res);
	} while (mysql_next_result(db->my) == 0);
	return tx_lost(db) ? -1 : 0;
}

/* START TRANSACTION on my: 0 or -1. */
static int
start_tx(MYSQL *my)
{
	return mysql_real_query(my, "START TRANSACTION", 17) != 0 ? -1 : 0;
}

/*
 * Open a transaction (READ COMMITTED, as every session is set up at
 * connect); reconnect once if the link is gone.
 */
int
bj_db_begin(struct bj_db *db)
{
	if (db_ensure(db) == -1)
		return -1;
	db->lost_in_commit = 0;
	db->err_no = 0;
	if (start_tx(db->my) != 0) {
		set_err_my(db);
		if (!db->gone || bj_db_connect(db) == -1 || start_tx(db->my) != 0) {
			if (db->my != NULL)
				set_err_my(db);
			return -1;
		}
	}
	db->in_tx = 1;
	bj_tally_forget();
	return 0;
}

int
bj_db_commit(struct bj_db *db)
{
	if (db->my == NULL || tx_lost(db)) {
		db->in_tx = 0;
		bj_tally_forget();
		return -1;
	}
	db->in_tx = 0;
	if (mysql_commit(db->my) != 0) {
		set_err_my(db);
		db->lost_in_commit = db->gone;
		bj_tally_forget();
		return -1;
	}
	bj_tally_commit();
	return 0;
}

void
bj_db_rollback(struct bj_db *db)
{
	int was = db->in_tx;

	db->in_tx = 0;
	bj_tally_forget();
	if (!was || db->my == NULL || db->gone)
		return;
	if (mysql_rollback(db->my) != 0)
		set_err_my(db);
}

unsigned long long
bj_db_insert_id(struct bj_db *db)
{
	return db->my ? mysql_insert_id(db->my) : 0;
}

/* The cached statement for sql, prepared on first use. */
static MYSQL_STMT *
stmt_get(struct bj_db *db, const char *sql)
{
	struct stmt_entry *e;
	MYSQL_STMT *st;
	my_bool on = 1;

	for (e = db->stmts; e != NULL; e = e->next)
		if (e->sql == sql || strcmp(e->sql, sql) == 0)
			return e->stmt;
	if ((st = mysql_stmt_init(db->my)) == NULL) {
		set_err_my(db);
		return NULL;
	}
	if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
		set_err_stmt(db, st);
		mysql_stmt_close(st);
		return NULL;
	}
	mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &on);
	e = bj_xcalloc(1, sizeof *e);
	e->sql = sql;
	e->stmt = st;
	e->next = db->stmts;
	db->stmts = e;
	return st;
}

/* The n parameters of fmt's letters from ap into p; -1 for a bad letter or too many. */
static int
params_from_fmt(struct bj_param *p, size_t *n, const char *fmt, va_list ap)
{
	const char *f, *s;
	size_t len;

	*n = 0;
	for (f = fmt ? fmt : ""; *f; f++) {
		if (*n >= MAX_PARAMS)
			return -1;
		switch (*f) {
		case 'i':
			p[*n] = BJ_P_INT(va_arg(ap, long long));
			break;
		case 'd':
			p[*n] = BJ_P_DOUBLE(va_arg(ap, double));
			break;
		case 's':
			s = va_arg(ap, const char *);
			p[*n] = BJ_P_STR(s);
			break;
		case 'b':
			s = va_arg(ap, const char *);
			len = va_arg(ap, size_t);
			p[*n] = BJ_P_BYTES(s, len);
			break;
		default:
			return -1;
		}
		(*n)++;
	}
	return 0;
}

/* bind[i] (with its length in lens[i]) for p[i], i < n. The values are borrowed. */
static void
params_bind(MYSQL_BIND *bind, unsigned long *lens, const struct bj_param *p, size_t n)
{
	memset(bind, 0, n * sizeof *bind);
	for (size_t i = 0; i < n; i++) {
		MYSQL_BIND *b = &bind[i];
		const char *s = NULL;

		switch (p[i].type) {
		case BJ_PARAM_NULL:
			break;
		case BJ_PARAM_INT:
			b->buffer_type = MYSQL_TYPE_LONGLONG;
			b->buffer = (void *)(uintptr_t)&p[i].v.i;
			continue;
		case BJ_PARAM_DOUBLE:
			b->buffer_type = MYSQL_TYPE_DOUBLE;
			b->buffer = (void *)(uintptr_t)&p[i].v.d;
			continue;
		case BJ_PARAM_STR:
			s = p[i].v.s;
			b->buffer_type = MYSQL_TYPE_STRING;
			lens[i] = s != NULL ? (unsigned long)strlen(s) : 0;
			break;
		case BJ_PARAM_BYTES:
			s = p[i].v.b.p;
			b->buffer_type = MYSQL_TYPE_BLOB;
			lens[i] = (unsigned long)p[i].v.b.n;
			break;
		}
		if (s == NULL) {
			b->buffer_type = MYSQL_TYPE_NULL;
			continue;
		}
		b->buffer = (void *)(uintptr_t)s;
		b->buffer_length = lens[i];
		b->length = &lens[i];
	}
}

/* What fetching one result needs: a string bind per column and the rows' text so far. */
struct fetch {
	int		 ncols;
	int		 cap;		/* rows offs and r->lens have room for */
	MYSQL_BIND	*bind;
	unsigned long	*lens;
	my_bool		*flags;		/* ncols is-null, then ncols error flags */
	char		*bufs;		/* the columns' buffers, one block */
	size_t		*offs;		/* cell offsets in the arena; -1: NULL */
	struct bj_buf	 arena;		/* every cell's text */
};

/* Bind a buffer per column of meta, each as large as the column's longest value. */
static void
fetch_bind(struct fetch *f, MYSQL_RES *meta)
{
	size_t total = 0;

	f->ncols = (int)mysql_num_fields(meta);
	f->bind = bj_xcalloc((size_t)f->ncols, sizeof *f->bind);
	f->lens = bj_xcalloc((size_t)f->ncols, sizeof *f->lens);
	f->flags = bj_xcalloc(2 * (size_t)f->ncols, sizeof *f->flags);
	for (int c = 0; c < f->ncols; c++) {
		MYSQL_FIELD *fd = mysql_fetch_field_direct(meta, (unsigned)c);
		total += (fd->max_length > 64 ? fd->max_length : 64) + 1;
	}
	f->bufs = bj_xmalloc(total);
	total = 0;
	for (int c = 0; c < f->ncols; c++) {
		MYSQL_FIELD *fd = mysql_fetch_field_direct(meta, (unsigned)c);
		unsigned long sz = fd->max_length > 64 ? fd->max_length : 64;

		f->bind[c].buffer_type = MYSQL_TYPE_STRING;
		f->bind[c].buffer = f->bufs + total;
		f->bind[c].buffer_length = sz + 1;
		f->bind[c].length = &f->lens[c];
		f->bind[c].is_null = &f->flags[c];
		f->bind[c].error = &f->flags[f->ncols + c];
		total += sz + 1;
	}
}

/* Column c of the fetched row, longer than its buffer, read whole into the arena; 0 or -1. */
static int
fetch_long_cell(struct fetch *f, MYSQL_STMT *st, int c)
{
	char *big = bj_xmalloc(f->lens[c] + 1);
	MYSQL_BIND b1;
	int rc;

	memset(&b1, 0, sizeof b1);
	b1.buffer_type = MYSQL_TYPE_STRING;
	b1.buffer = big;
	b1.buffer_length = f->lens[c] + 1;
	if ((rc = mysql_stmt_fetch_column(st, &b1, (unsigned)c, 0)) == 0) {
		bj_buf_add(&f->arena, big, f->lens[c]);
		bj_buf_addc(&f->arena, '\0');
	}
	free(big);
	return rc == 0 ? 0 : -1;
}

/* Append the fetched row to r: its text to the arena, its offsets to offs; 0 or -1. */
static int
fetch_row(struct fetch *f, MYSQL_STMT *st, struct bj_rows *r)
{
	if (r->nrows == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 16;
		f->offs = bj_xreallocarray(f->offs, (size_t)f->cap * (size_t)f->ncols,
		    sizeof *f->offs);
		r->lens = bj_xreallocarray(r->lens, (size_t)f->cap * (size_t)f->ncols,
		    sizeof *r->lens);
	}
	for (int c = 0; c < f->ncols; c++) {
		size_t at = (size_t)r->nrows * (size_t)f->ncols + (size_t)c;

		if (f->flags[c]) {
			f->offs[at] = (size_t)-1;
			r->lens[at] = 0;
			continue;
		}
		f->offs[at] = f->arena.len;
		r->lens[at] = f->lens[c];
		if (f->lens[c] >= f->bind[c].buffer_length) {
			/* truncated (rare: buffers fit max_length): fetch the whole column */
			if (fetch_long_cell(f, st, c) == -1)
				return -1;
		} else {
			bj_buf_add(&f->arena, (char *)f->bind[c].buffer, f->lens[c]);
			bj_buf_addc(&f->arena, '\0');
		}
	}
	r->nrows++;
	return 0;
}

/* The arena is final: r takes it, and its offsets become cell pointers. */
static void
fetch_cells(struct fetch *f, struct bj_rows *r)
{
	size_t ncells = (size_t)r->nrows * (size_t)f->ncols;

	r->arena = bj_buf_steal(&f->arena);
	r->cells = bj_xcalloc(ncells + 1, sizeof *r->cells);
	for (size_t i = 0; i < ncells; i++)
		r->cells[i] = f->offs[i] == (size_t)-1 ? NULL : r->arena + f->offs[i];
}

/*
 * Fetch every row of an executed statement into a bj_rows. The cells'
 * text goes into one arena and the column buffers are one block: a query
 * costs a handful of allocations, not a few per cell (this runs for every
 * statement of every request).
 */
static struct bj_rows *
fetch_all(struct bj_db *db, MYSQL_STMT *st)
{
	MYSQL_RES *meta = mysql_stmt_result_metadata(st);
	struct bj_rows *r = bj_xcalloc(1, sizeof *r);
	struct fetch f = { 0 };
	int rc;

	if (meta == NULL)
		return r;	/* a statement without a result set */
	if (mysql_stmt_store_result(st) != 0) {
		set_err_stmt(db, st);
		mysql_free_result(meta);
		free(r);
		return NULL;
	}
	fetch_bind(&f, meta);
	r->ncols = f.ncols;
	if (mysql_stmt_bind_result(st, f.bind) != 0)
		rc = -1;
	else
		while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED)
			if (fetch_row(&f, st, r) == -1)
				break;
	if (rc == MYSQL_NO_DATA) {
		fetch_cells(&f, r);
	} else {
		set_err_stmt(db, st);
		bj_rows_free(r);
		r = NULL;
	}
	mysql_stmt_free_result(st);
	mysql_free_result(meta);
	bj_buf_free(&f.arena);
	free(f.offs);
	free(f.bufs);
	free(f.bind);
	free(f.lens);
	free(f.flags);
	return r;
}

/* Prepare (cached), bind and execute; retries once after a lost link outside a transaction. */
static MYSQL_STMT *
run(struct bj_db *db, const char *sql, const struct bj_param *p, size_t n)
{
	MYSQL_BIND small[MAX_PARAMS], *bind = small;
	unsigned long small_lens[MAX_PARAMS], *lens = small_lens;
	MYSQL_STMT *st = NULL;

	if (n > MAX_PARAMS) {
		bind = bj_xreallocarray(NULL, n, sizeof *bind);
		lens = bj_xreallocarray(NULL, n, sizeof *lens);
	}
	params_bind(bind, lens, p, n);
	for (int attempt = 0; attempt < 2; attempt++) {
		if (db_ensure(db) == -1)
			break;
		if ((st = stmt_get(db, sql)) == NULL)
			goto retry;
		if (mysql_stmt_param_count(st) != (unsigned long)n) {
			set_err(db, CR_UNKNOWN_ERROR, "parameter count does not match the statement");
			bj_log_err("statement needs %lu parameters, got %zu: %.80s",
			    mysql_stmt_param_count(st), n, sql);
			st = NULL;
			break;
		}
		if (n > 0 && mysql_stmt_bind_param(st, bind) != 0) {
			set_err_stmt(db, st);
			st = NULL;
			break;
		}
		if (mysql_stmt_execute(st) == 0)
			break;
		set_err_stmt(db, st);
		st = NULL;
retry:
		if (!db->gone || db->in_tx)
			break;
		/* the server went away between requests: reconnect, try once more */
		db->in_tx = 0;
	}
	if (bind != small) {
		free(bind);
		free(lens);
	}
	return st;
}

/* What bj_db_exec*() return for st (NULL: it failed). */
static int
exec_done(struct bj_db *db, MYSQL_STMT *st, unsigned long long *affected)
{
	if (st == NULL)
		return -1;
	if (affected != NULL)
		*affected = (unsigned long long)mysql_stmt_affected_rows(st);
	if (mysql_stmt_field_count(st) > 0)
		mysql_stmt_free_result(st);
	return tx_lost(db) ? -1 : 0;
}

/* What bj_db_query*() return for st (NULL: it failed): its rows. */
static struct bj_rows *
query_done(struct bj_db *db, MYSQL_STMT *st)
{
	struct bj_rows *r = st != NULL ? fetch_all(db, st) : NULL;

	if (r != NULL && tx_lost(db)) {
		bj_rows_free(r);
		return NULL;
	}
	return r;
}

int
bj_db_execp(struct bj_db *db, const char *sql, unsigned long long *affected,
    const struct bj_param *p, size_t n)
{
	return exec_done(db, run(db, sql, p, n), affected);
}

struct bj_rows *
bj_db_queryp(struct bj_db *db, const char *sql, const struct bj_param *p, size_t n)
{
	return query_done(db, run(db, sql, p, n));
}

/* Bytes the n values of p send, roughly. */
static size_t
params_bytes(const struct bj_param *p, size_t n)
{
	size_t b = 0;

	for (size_t i = 0; i < n; i++)
		if (p[i].type == BJ_PARAM_STR && p[i].v.s != NULL)
			b += strlen(p[i].v.s) + 8;
		else if (p[i].type == BJ_PARAM_BYTES)
			b += p[i].v.b.n + 8;
		else
			b += 8;
	return b;
}

int
bj_db_exec_batch(struct bj_db *db, const struct bj_db_batch *b, size_t n)
{
	struct bj_param *p = bj_xreallocarray(NULL, b->rows * b->cols, sizeof *p);
	size_t i = 0;
	int rc = 0;

	while (i < n && rc == 0) {
		size_t k = n - i >= b->rows ? b->rows : 1;

		for (size_t r = 0; r < k; r++)
			b->fill(b->arg, i + r, p + r * b->cols);
		if (k > 1 && params_bytes(p, k * b->cols) <= b->max_bytes)
			rc = bj_db_execp(db, b->many, NULL, p, k * b->cols);
		else
			for (size_t r = 0; r < k && rc == 0; r++)
				rc = bj_db_execp(db, b->one, NULL, p + r * b->cols, b->cols);
		i += k;
	}
	free(p);
	return rc;
}

/* run() with the parameters of fmt and ap. */
static MYSQL_STMT *
run_fmt(struct bj_db *db, const char *sql, const char *fmt, va_list ap)
{
	struct bj_param p[MAX_PARAMS];
	size_t n;

	if (params_from_fmt(p, &n, fmt, ap) == -1) {
		set_err(db, CR_UNKNOWN_ERROR, "bad parameter format");
		return NULL;
	}
	return run(db, sql, p, n);
}

int
bj_db_exec(struct bj_db *db, const char *sql, unsigned long long *affected,
    const char *fmt, ...)
{
	va_list ap;
	MYSQL_STMT *st;

	va_start(ap, fmt);
	st = run_fmt(db, sql, fmt, ap);
	va_end(ap);
	return exec_done(db, st, affected);
}

struct bj_rows *
bj_db_query(struct bj_db *db, const char *sql, const char *fmt, ...)
{
	va_list ap;
	MYSQL_STMT *st;

	va_start(ap, fmt);
	st = run_fmt(db, sql, fmt, ap);
	va_end(ap);
	return query_done(db, st);
}

const char *
bj_rows_get(const struct bj_rows *r, int row, int col)
{
	if (r == NULL || row < 0 || row >= r->nrows || col < 0 || col >= r->ncols)
		return NULL;
	return r->cells[(size_t)row * (size_t)r->ncols + (size_t)col];
}

long long
bj_rows_int(const struct bj_rows *r, int row, int col)
{
	const char *s = bj_rows_get(r, row, col);

	return s ? strtoll(s, NULL, 10) : 0;
}

int
bj_rows_time(const struct bj_rows *r, int row, int col, long long *us)
{
	return bj_time_parse(bj_rows_get(r, row, col), us);
}

char *
bj_rows_iso(const struct bj_rows *r, int row, int col, int micro, long long *us)
{
	return bj_time_iso(bj_rows_get(r, row, col), micro, us);
}

void
bj_rows_free(struct bj_rows *r)
{
	if (r == NULL)
		return;
	free(r->arena);
	free(r->cells);
	free(r->lens);
	free(r);
}
