/*
 * ctl.h: bulkjobsctl subcommands. Each takes the loaded config, an open
 * database handle and its own argv (argv[0] is the subcommand name), and
 * returns an exit code of <sysexits.h>.
 */
#ifndef BJ_CTL_H
#define BJ_CTL_H

#include <sysexits.h>

#include "conf.h"
#include "db.h"

struct bj_ctl {
	struct bj_conf	*conf;
	struct bj_db	*db;
};

int bj_ctl_migrate(struct bj_ctl *ctl, int argc, char **argv);
int bj_ctl_token(struct bj_ctl *ctl, int argc, char **argv);
/* jobs, job, requeue, cancel, retry (cmd_jobs.c) */
int bj_ctl_jobs(struct bj_ctl *ctl, int argc, char **argv);
int bj_ctl_job(struct bj_ctl *ctl, int argc, char **argv);
int bj_ctl_requeue(struct bj_ctl *ctl, int argc, char **argv);
int bj_ctl_cancel(struct bj_ctl *ctl, int argc, char **argv);
int bj_ctl_retry(struct bj_ctl *ctl, int argc, char **argv);
int bj_ctl_doctor(struct bj_ctl *ctl, int argc, char **argv);
int bj_ctl_submit(struct bj_ctl *ctl, int argc, char **argv);

#endif
