/*
 * cmd_jobs.c: bulkjobsctl jobs [--state S] [--owner O] [--kind K] [--limit N],
 * job ID (its JSON), requeue ITEM, cancel JOB, retry JOB.
 */
#include "config.h"

#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "job.h"
#include "lease.h"
#include "render.h"

/* A positive id from s, or -1. */
static long long
parse_id(const char *s)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return -1;
	v = strtoll(s, &end, 10);
	return *end == '\0' && v > 0 ? v : -1;
}

/* The exit code for a model error, with a message on stderr. */
static int
fail(enum bj_err e, const char *what, long long id)
{
	fprintf(stderr, "bulkjobsctl: %s %lld: %s\n", what, id, bj_strerror(e));
	switch (e) {
	case BJ_ERR_JOB_NOT_FOUND:
	case BJ_ERR_ITEM_NOT_FOUND:
	case BJ_ERR_INVALID_TRANSITION:
	case BJ_ERR_FILES_REMOVED:
		return EX_DATAERR;
	case BJ_ERR_DB_UNAVAILABLE:
		return EX_UNAVAILABLE;
	default:
		return EX_SOFTWARE;
	}
}

int
bj_ctl_jobs(struct bj_ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "owner", required_argument, NULL, 'o' },
		{ "kind", required_argument, NULL, 'k' },
		{ "limit", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	const char *state = NULL, *owner = NULL, *kind = NULL;
	struct bj_job **jobs;
	long long limit = 50;
	int ch, n;
	enum bj_err e;

	while ((ch = getopt_long(argc, argv, "s:o:k:n:", opts, NULL)) != -1) {
		switch (ch) {
		case 's': state = optarg; break;
		case 'o': owner = optarg; break;
		case 'k': kind = optarg; break;
		case 'n': limit = parse_id(optarg); break;
		default: goto usage;
		}
	}
	if (optind != argc || limit < 1 || limit > 10000 ||
	    (state != NULL && bj_job_state_parse(state) < 0))
		goto usage;
	if ((e = bj_job_list(ctl->db, owner, state, kind, 0, (int)limit, &jobs, &n)) != BJ_OK)
		return fail(e, "jobs", 0);
	printf("%-8s %-10s %-16s %-20s %4s %9s %9s %9s %9s  %s\n", "ID", "STATE", "KIND", "OWNER",
	    "PRIO", "TOTAL", "PENDING", "SUCCEEDED", "FAILED", "CREATED");
	for (int i = 0; i < n; i++) {
		struct bj_job *j = jobs[i];
		printf("%-8lld %-10s %-16s %-20s %4d %9lld %9lld %9lld %9lld  %s\n", j->id,
		    bj_job_state_name(j->state), j->kind, j->owner, j->priority, j->n_total,
		    j->n_pending + j->n_claimed, j->n_succeeded, j->n_failed, j->created_at);
	}
	bj_job_list_free(jobs, n);
	return EX_OK;
usage:
	fprintf(stderr, "usage: bulkjobsctl jobs [--state S] [--owner O] [--kind K] [--limit N]\n");
	return EX_USAGE;
}

int
bj_ctl_job(struct bj_ctl *ctl, int argc, char **argv)
{
	struct bj_job *j;
	struct json_object *o;
	long long id = argc == 2 ? parse_id(argv[1]) : -1;
	enum bj_err e;

	if (id < 0) {
		fprintf(stderr, "usage: bulkjobsctl job ID\n");
		return EX_USAGE;
	}
	if ((e = bj_job_get(ctl->db, id, &j)) != BJ_OK)
		return fail(e, "job", id);
	o = bj_render_job(j, ctl->conf);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	bj_job_free(j);
	return EX_OK;
}

int
bj_ctl_requeue(struct bj_ctl *ctl, int argc, char **argv)
{
	long long id = argc == 2 ? parse_id(argv[1]) : -1;
	enum bj_err e;

	if (id < 0) {
		fprintf(stderr, "usage: bulkjobsctl requeue ITEM\n");
		return EX_USAGE;
	}
	if ((e = bj_item_requeue(ctl->db, id)) != BJ_OK)
		return fail(e, "item", id);
	printf("item %lld is pending again\n", id);
	return EX_OK;
}

/* The timeline's "who": bulkjobsctl and the operator's login. */
static void
by_operator(char *detail, size_t len)
{
	const struct passwd *pw = getpwuid(getuid());

	snprintf(detail, len, "by bulkjobsctl, user %.100s", pw != NULL ? pw->pw_name : "unknown");
}

int
bj_ctl_cancel(struct bj_ctl *ctl, int argc, char **argv)
{
	long long id = argc == 2 ? parse_id(argv[1]) : -1;
	char detail[200];
	enum bj_err e;

	if (id < 0) {
		fprintf(stderr, "usage: bulkjobsctl cancel JOB\n");
		return EX_USAGE;
	}
	/* the API's runner: its own transaction, retried after a deadlock */
	by_operator(detail, sizeof detail);
	if ((e = bj_job_change(ctl->db, id, BJ_CHANGE_CANCEL, detail)) != BJ_OK)
		return fail(e, "job", id);
	printf("job %lld cancelled\n", id);
	return EX_OK;
}

int
bj_ctl_retry(struct bj_ctl *ctl, int argc, char **argv)
{
	long long id = argc == 2 ? parse_id(argv[1]) : -1;
	struct bj_job *j;
	char detail[200];
	enum bj_err e;

	if (id < 0) {
		fprintf(stderr, "usage: bulkjobsctl retry JOB\n");
		return EX_USAGE;
	}
	by_operator(detail, sizeof detail);
	if ((e = bj_job_change(ctl->db, id, BJ_CHANGE_RETRY, detail)) != BJ_OK)
		return fail(e, "job", id);
	if ((e = bj_job_get(ctl->db, id, &j)) != BJ_OK)
		return fail(e, "job", id);
	printf("job %lld is %s again, round %d: %lld items to do\n", id,
	    bj_job_state_name(j->state), j->round, j->n_pending + j->n_claimed);
	bj_job_free(j);
	return EX_OK;
}
