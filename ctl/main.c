/* main.c: bulkjobsctl, the operator's command: option parsing and dispatch. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "ctl.h"
#include "log.h"

struct subcommand {
	const char	*name;
	int		(*fn)(struct bj_ctl *, int, char **);
	const char	*help;
};

static const struct subcommand subcommands[] = {
	{ "migrate", bj_ctl_migrate, "migrate [--status]      apply pending schema migrations" },
	{ "token", bj_ctl_token, "token create --name N --scope S[,S] [--owner O] | list | revoke NAME" },
	{ "jobs", bj_ctl_jobs, "jobs [--state S] [--owner O] [--kind K] [--limit N]   list jobs, newest first" },
	{ "job", bj_ctl_job, "job ID                  show one job as JSON" },
	{ "requeue", bj_ctl_requeue, "requeue ITEM            send a claimed, failed or cancelled item back to pending" },
	{ "cancel", bj_ctl_cancel, "cancel JOB              cancel a job that has not ended" },
	{ "retry", bj_ctl_retry, "retry JOB               run a failed job's failed items again (a new round)" },
	{ "doctor", bj_ctl_doctor, "doctor                  report inconsistencies the reaper would repair" },
	{ "submit", bj_ctl_submit, "submit --kind K --owner O [--title T] --items FILE.ndjson" },
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: bulkjobsctl [-c FILE] [-v] COMMAND [ARGS]\ncommands:\n");
	for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
		fprintf(f, "  %s\n", subcommands[i].help);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = NULL;
	const struct subcommand *sc = NULL;
	struct bj_conf conf;
	struct bj_ctl ctl;
	char *cause = NULL;
	int ch, rc;

	/* "+" stops at the subcommand so its own options stay its own */
	while ((ch = getopt_long(argc, argv, "+c:vhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': conf_path = optarg; break;
		case 'v': bj_log_set_verbose(1); break;
		case 'h': usage(stdout); return 0;
		case 'V': puts(PACKAGE_STRING); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
		if (strcmp(argv[optind], subcommands[i].name) == 0)
			sc = &subcommands[i];
	if (sc == NULL) {
		fprintf(stderr, "bulkjobsctl: unknown command '%s'\n", argv[optind]);
		usage(stderr);
		return EX_USAGE;
	}
	bj_log_open("bulkjobsctl", 0, 1);
	bj_conf_defaults(&conf);
	conf_path = bj_conf_locate(conf_path);
	if (bj_conf_load(&conf, conf_path, &cause) == -1) {
		fprintf(stderr, "bulkjobsctl: %s\n", cause);
		free(cause);
		bj_conf_free(&conf);
		return EX_CONFIG;
	}
	mysql_library_init(0, NULL, NULL);
	ctl.conf = &conf;
	ctl.db = bj_db_new(&conf);
	if (bj_db_connect(ctl.db) == -1) {
		fprintf(stderr, "bulkjobsctl: cannot connect to the database: %s\n",
		    bj_db_error(ctl.db));
		rc = EX_UNAVAILABLE;
	} else {
		int sub = optind;

		optind = 0;	/* glibc: re-initialise getopt for the subcommand */
		rc = sc->fn(&ctl, argc - sub, argv + sub);
	}
	bj_db_free(ctl.db);
	bj_conf_free(&conf);
	mysql_library_end();
	return rc;
}
