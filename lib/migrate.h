/*
 * migrate.h: the numbered schema migrations compiled into every program
 * (generated from the sql/NNN_name.sql files by sql/embed.sh).
 */
#ifndef BJ_MIGRATE_H
#define BJ_MIGRATE_H

struct bj_db;

struct bj_migration {
	int		 version;
	const char	*name;
	const char	*sql;
};

extern const struct bj_migration bj_migrations[];
extern const int bj_nmigrations;

/* The highest version this program knows. */
int bj_migrate_latest(void);
/* The version the database is at (0 for an empty one), or -1 on error. */
int bj_migrate_current(struct bj_db *db, const char *dbname);
/*
 * How many of this program's migrations the database has not recorded
 * (a lower number merged after a higher one counts too), or -1 on error.
 */
int bj_migrate_pending(struct bj_db *db, const char *dbname);
/*
 * Apply every unrecorded migration in order. Returns the number applied, or -1
 * with *cause set (allocated). Refuses a database newer than this program.
 */
int bj_migrate(struct bj_db *db, const char *dbname, char **cause);

#endif
