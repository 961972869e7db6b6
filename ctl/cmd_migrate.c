/* cmd_migrate.c: bulkjobsctl migrate [--status]. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "migrate.h"

int
bj_ctl_migrate(struct bj_ctl *ctl, int argc, char **argv)
{
	char *cause = NULL;
	int n, cur, pending;

	if (argc == 2 && strcmp(argv[1], "--status") == 0) {
		if ((cur = bj_migrate_current(ctl->db, ctl->conf->db_name)) == -1 ||
		    (pending = bj_migrate_pending(ctl->db, ctl->conf->db_name)) == -1) {
			fprintf(stderr, "bulkjobsctl: %s\n", bj_db_error(ctl->db));
			return EX_UNAVAILABLE;
		}
		printf("schema version %d, this program's %d, %d migration%s pending\n", cur,
		    bj_migrate_latest(), pending, pending == 1 ? "" : "s");
		return pending == 0 && cur <= bj_migrate_latest() ? EX_OK : EX_TEMPFAIL;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: bulkjobsctl migrate [--status]\n");
		return EX_USAGE;
	}
	if ((n = bj_migrate(ctl->db, ctl->conf->db_name, &cause)) == -1) {
		fprintf(stderr, "bulkjobsctl: migrate: %s\n", cause);
		free(cause);
		return EX_SOFTWARE;
	}
	if (n == 0)
		printf("schema is up to date (version %d)\n", bj_migrate_latest());
	else
		printf("applied %d migration%s; schema version %d\n", n, n == 1 ? "" : "s",
		    bj_migrate_latest());
	return EX_OK;
}
