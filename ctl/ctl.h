/*
 * ctl.h: bulkjobsctl subcommands. Each takes the loaded config, an open
 * database handle and its own argv (argv[0] is the subcommand name), and
 * returns a sysexits-style exit code.
 */
#ifndef BJ_CTL_H
#define BJ_CTL_H

#include "conf.h"
#include "db.h"

#define EX_OK_		0
#define EX_USAGE_	64
#define EX_DATAERR_	65
#define EX_NOINPUT_	66
#define EX_UNAVAIL_	69
#define EX_SOFTWARE_	70
#define EX_TEMPFAIL_	75
#define EX_CONFIG_	78

struct bj_ctl {
	struct bj_conf	*conf;
	struct bj_db	*db;
};

int bj_ctl_migrate(struct bj_ctl *ctl, int argc, char **argv);
int bj_ctl_token(struct bj_ctl *ctl, int argc, char **argv);
/* jobs, job, requeue, cancel (cmd_jobs.c) */
int bj_ctl_jobs(struct bj_ctl *ctl, int argc, char **argv);
int bj_ctl_job(struct bj_ctl *ctl, int argc, char **argv);
int bj_ctl_requeue(struct bj_ctl *ctl, int argc, char **argv);
int bj_ctl_cancel(struct bj_ctl *ctl, int argc, char **argv);
int bj_ctl_doctor(struct bj_ctl *ctl, int argc, char **argv);
int bj_ctl_submit(struct bj_ctl *ctl, int argc, char **argv);

#endif
