/* migrate.c: applying sql/NNN_*.sql in order, recorded in schema_migrations. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db.h"
#include "migrate.h"
#include "sql.h"

#define MIGRATE_LOCK "bulkjobs.migrate"

int
bj_migrate_latest(void)
{
	int v = 0;

	for (int i = 0; i < bj_nmigrations; i++)
		if (bj_migrations[i].version > v)
			v = bj_migrations[i].version;
	return v;
}

int
bj_migrate_current(struct bj_db *db, const char *dbname)
{
	struct bj_rows *r;
	int v;

	if ((r = bj_db_queryp(db, BJ_SQL_MIGRATIONS_TABLE_EXISTS,
	    BJ_PARAMS(BJ_P_STR(dbname)))) == NULL)
		return -1;
	v = (int)bj_rows_int(r, 0, 0);
	bj_rows_free(r);
	if (v == 0)
		return 0;
	if ((r = bj_db_queryp(db, BJ_SQL_MIGRATIONS_MAX, NULL, 0)) == NULL)
		return -1;
	v = (int)bj_rows_int(r, 0, 0);
	bj_rows_free(r);
	return v;
}

/* 1 when version is recorded in schema_migrations, 0 when not, -1 on error. */
static int
recorded(struct bj_db *db, int version)
{
	struct bj_rows *r;
	int n;

	if ((r = bj_db_queryp(db, BJ_SQL_MIGRATION_APPLIED,
	    BJ_PARAMS(BJ_P_INT(version)))) == NULL)
		return -1;
	n = bj_rows_int(r, 0, 0) > 0;
	bj_rows_free(r);
	return n;
}

int
bj_migrate_pending(struct bj_db *db, const char *dbname)
{
	int cur, n = 0, rec;

	if ((cur = bj_migrate_current(db, dbname)) == -1)
		return -1;
	if (cur == 0)
		return bj_nmigrations;	/* no table yet, or nothing recorded */
	for (int i = 0; i < bj_nmigrations; i++) {
		if ((rec = recorded(db, bj_migrations[i].version)) == -1)
			return -1;
		n += !rec;
	}
	return n;
}

/* Run each ';'-terminated statement of one migration text. */
static int
run_script(struct bj_db *db, const char *text, char **cause, const char *name)
{
	struct bj_buf stmt = { 0 };
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		const char *s = p;
		size_t k = n;

		p += n + (nl ? 1 : 0);
		while (k > 0 && (s[k - 1] == ' ' || s[k - 1] == '\t' || s[k - 1] == '\r'))
			k--;
		if (stmt.len == 0) {
			const char *t = s;
			while (t < s + k && (*t == ' ' || *t == '\t'))
				t++;
			if (t == s + k || (k - (size_t)(t - s) >= 2 && t[0] == '-' && t[1] == '-'))
				continue;	/* blank or comment line between statements */
		}
		bj_buf_add(&stmt, s, k);
		bj_buf_addc(&stmt, '\n');
		if (k > 0 && s[k - 1] == ';') {
			if (bj_db_exec_text(db, stmt.data) == -1) {
				*cause = bj_xasprintf("%s: %s", name, bj_db_error(db));
				bj_buf_free(&stmt);
				return -1;
			}
			bj_buf_reset(&stmt);
		}
	}
	bj_buf_free(&stmt);
	return 0;
}

int
bj_migrate(struct bj_db *db, const char *dbname, char **cause)
{
	struct bj_rows *r;
	int current, applied = 0, locked;

	if ((r = bj_db_queryp(db, BJ_SQL_GET_LOCK, BJ_PARAMS(BJ_P_STR(MIGRATE_LOCK),
	    BJ_P_INT(60)))) == NULL) {
		*cause = bj_xasprintf("cannot take the migration lock: %s", bj_db_error(db));
		return -1;
	}
	locked = bj_rows_int(r, 0, 0) == 1;
	bj_rows_free(r);
	if (!locked) {
		*cause = bj_xstrdup("another migration is running (lock " MIGRATE_LOCK ")");
		return -1;
	}
	if (bj_db_exec_text(db,
	    "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    " version INT UNSIGNED NOT NULL PRIMARY KEY,"
	    " name VARCHAR(200) NOT NULL,"
	    " applied_at DATETIME(6) NOT NULL"
	    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4") == -1) {
		*cause = bj_xasprintf("cannot create schema_migrations: %s", bj_db_error(db));
		applied = -1;
		goto out;
	}
	if ((current = bj_migrate_current(db, dbname)) == -1) {
		*cause = bj_xasprintf("cannot read schema_migrations: %s", bj_db_error(db));
		applied = -1;
		goto out;
	}
	if (current > bj_migrate_latest()) {
		*cause = bj_xasprintf("the database is at schema version %d, newer than this "
		    "program's %d: upgrade bulkjobs", current, bj_migrate_latest());
		applied = -1;
		goto out;
	}
	for (int i = 0; i < bj_nmigrations; i++) {
		const struct bj_migration *m = &bj_migrations[i];
		int rec = current == 0 ? 0 : recorded(db, m->version);

		/* not "version <= current": a lower number may land after a higher one */
		if (rec == -1) {
			*cause = bj_xasprintf("cannot read schema_migrations: %s", bj_db_error(db));
			applied = -1;
			goto out;
		}
		if (rec)
			continue;
		if (run_script(db, m->sql, cause, m->name) == -1 ||
		    bj_db_execp(db, BJ_SQL_MIGRATION_RECORD, NULL,
		    BJ_PARAMS(BJ_P_INT(m->version), BJ_P_STR(m->name))) == -1) {
			if (*cause == NULL)
				*cause = bj_xasprintf("%s: %s", m->name, bj_db_error(db));
			applied = -1;
			goto out;
		}
		applied++;
	}
out:
	r = bj_db_queryp(db, BJ_SQL_RELEASE_LOCK, BJ_PARAMS(BJ_P_STR(MIGRATE_LOCK)));
	bj_rows_free(r);
	return applied;
}
