/*
 * worker.h: bulkjobs-worker, the runner that turns any command into a
 * worker of the lease protocol.
 *
 * client.c speaks HTTP to bulkjobs-fcgi (claims, heartbeats, outcomes);
 * runner.c starts one command per claimed item and collects what it
 * says (stdout, the tail of stderr, "progress DONE TOTAL" lines on fd 3)
 * and how it ended; main.c is the loop that ties them together.
 *
 * Ownership: a struct bj_held and its strings belong to the caller
 * (bj_held_free). A struct bj_run owns its pipes, buffers and child
 * until bj_run_free(), which never kills: stop the child first.
 */
#ifndef BJ_WORKER_H
#define BJ_WORKER_H

#include <poll.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "clock.h"

/* --- client.c: the HTTP side ----------------------------------------- */

/* What an HTTP exchange came to, as the loop must treat it. */
enum bj_call {
	BJ_CALL_OK,		/* 2xx */
	BJ_CALL_RETRY,		/* network error, 5xx, 503, 429: try again later */
	BJ_CALL_LEASE_LOST,	/* 409: the lease is gone, the item is not ours */
	BJ_CALL_REFUSED,	/* other 4xx: retrying cannot help */
	BJ_CALL_AUTH,		/* 401/403: the token is wrong for this server */
};

/* An item this worker holds under a lease, as a claim answered it. */
struct bj_held {
	long long	 id;
	long long	 job_id;
	char		*kind;
	char		*key;
	int		 stage;
	int		 attempt;
	char		*payload;	/* JSON text, never NULL ("null" when absent) */
	char		*lease_token;
	char		*lease_expires_at;	/* ISO 8601 UTC from the server, or NULL */
	double		 lease_left;	/* seconds the lease had when granted; -1: unknown */
};

struct bj_client;

/* A client for the API under url (e.g. http://host/bulkjobs); NULL on a bad token. */
struct bj_client *bj_client_new(const char *url, const char *token);
void bj_client_free(struct bj_client *c);
/* The last error message for logs (static per client). */
const char *bj_client_error(const struct bj_client *c);

/* Claim up to limit items of kinds; *out gets *n claims (caller frees each). */
enum bj_call bj_client_claim(struct bj_client *c, const char *worker,
    char *const *kinds, int nkinds, int limit, int lease_seconds,
    struct bj_held ***out, int *n);
/*
 * Extend a lease, passing progress (total < 0: none); job_state gets the
 * job's state and cl->lease_left the length of the extended lease.
 */
enum bj_call bj_client_heartbeat(struct bj_client *c, struct bj_held *cl,
    long long done, long long total, char *job_state, size_t job_state_len);
/* Complete an item; result is JSON text or NULL; artifact may be NULL. */
enum bj_call bj_client_complete(struct bj_client *c, const struct bj_held *cl,
    const char *result, const char *artifact);
/* Fail an item with a message (sanitised here). */
enum bj_call bj_client_fail(struct bj_client *c, const struct bj_held *cl,
    const char *error, int retryable);

/* Parse a claims reply body; -1 with *why on a malformed one. */
int bj_held_parse(const char *body, size_t len, struct bj_held ***out, int *n,
    const char **why);
void bj_held_free(struct bj_held *cl);
/* Seconds from date (a server's Date header) to the ISO 8601 UTC time iso; -1 when unknown. */
double bj_lease_left(const char *iso, time_t date);

/* --- runner.c: one command per item ---------------------------------- */

#define BJ_RUN_STDOUT_MAX	(1024 * 1024)	/* stdout kept for the result */
#define BJ_RUN_STDERR_TAIL	2048		/* bytes of stderr kept for the error */

enum bj_outcome {
	BJ_OUT_COMPLETE,	/* exit 0 */
	BJ_OUT_RETRY,		/* exit 75 or killed by a signal */
	BJ_OUT_FAIL,		/* any other exit status */
};

struct bj_run {
	pid_t		 pid;		/* the /bin/sh, leader of its process group */
	int		 fd_in, fd_out, fd_err, fd_prog;	/* -1 once closed */
	const char	*in;		/* the payload being written (borrowed) */
	size_t		 in_len, in_off;
	struct bj_buf	 out;		/* stdout, up to BJ_RUN_STDOUT_MAX */
	int		 out_truncated;
	char		 tail[BJ_RUN_STDERR_TAIL];	/* ring of the last stderr bytes */
	size_t		 tail_len, tail_pos;
	struct bj_buf	 prog_line;	/* a partial fd 3 line */
	long long	 done, total;	/* last progress reported; total -1: none */
	int		 status;	/* from waitpid, valid when exited */
	int		 exited;
	double		 exited_at;	/* monotonic seconds */
	double		 kill_at;	/* when SIGKILL follows SIGTERM; 0: not stopping */
};

/* Environment additions for the command: "NAME=value" strings, NULL-terminated. */
int bj_run_start(struct bj_run *r, const char *command, char *const *env,
    const char *input, size_t input_len);
/* Add r's open descriptors to pfd (room for 4); returns how many were added. */
int bj_run_pollfds(const struct bj_run *r, struct pollfd *pfd);
/* Move data for whatever pfd says is ready, then reap the child if it ended. */
void bj_run_io(struct bj_run *r, const struct pollfd *pfd, int npfd, double now);
/* 1 when the command ended and its output is collected (or given up on). */
int bj_run_finished(struct bj_run *r, double now);
/* SIGTERM the command's process group now, SIGKILL after grace seconds. */
void bj_run_stop(struct bj_run *r, double now, double grace);
/* Send the SIGKILL of bj_run_stop when its time has come. */
void bj_run_tick(struct bj_run *r, double now);
/* How the run ended; *error gets the message for a failure (caller frees). */
enum bj_outcome bj_run_outcome(const struct bj_run *r, char **error);
/* The result object from stdout as JSON text, and its "artifact"; caller frees both. */
void bj_run_result(const struct bj_run *r, char **result, char **artifact);
void bj_run_free(struct bj_run *r);

/* --- artifact.c: what a command reported, checked before completing - */

/*
 * Resolve artifact under root (realpath, as the download page does), make
 * sure it is a regular file there, and fsync it and its directory. 0 when
 * it is fit to complete with (or is a path the server will refuse anyway);
 * -1 with *error (caller frees) naming the artifact and the errno text, and
 * *retryable 0 when another attempt cannot help (outside the root, not a
 * regular file).
 */
int bj_artifact_sync(const char *root, const char *artifact, char **error, int *retryable);

/* Parse one fd 3 line "progress DONE TOTAL"; 0 and the numbers, or -1. */
int bj_progress_parse(const char *line, long long *done, long long *total);
/* Copy s (n bytes) as valid UTF-8 without NUL, replacing bad bytes with '?'. */
char *bj_utf8_clean(const char *s, size_t n);

#endif
