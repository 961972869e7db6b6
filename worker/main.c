/*
 * main.c: bulkjobs-worker, the loop. Claim items into free slots, run a
 * command for each, heartbeat while it runs, report how it ended.
 *
 * One thread and one poll(2): the commands' pipes, a self-pipe for
 * signals, and the next due time of every claim, heartbeat, kill and
 * report retry. HTTP calls are short and blocking; the commands keep
 * running meanwhile. Each slot owns its claim and its run.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <curl/curl.h>

#include "claim.h"
#include "conf.h"
#include "log.h"
#include "sql.h"
#include "worker.h"


#define MAX_KINDS	BJ_SQL_MAX_KINDS	/* what one claim may ask for */
#define MAX_CLAIM	BJ_CLAIM_MAX_LIMIT	/* items one claim may ask for */
#define MAX_SLOTS	256
#define IDLE_MIN	0.25	/* seconds between claims when idle: first */
#define IDLE_MAX	5.0	/* … and at most */

/* Why a command is being stopped: decides what is reported. */
enum stop_why { STOP_NONE, STOP_LOST, STOP_JOB_ENDED, STOP_SHUTDOWN, STOP_NOSTART };

struct slot {
	int		 used;
	struct bj_held	*cl;
	struct bj_run	 run;
	int		 started;	/* run is valid */
	double		 hb_due;
	enum stop_why	 stop;
	int		 done;		/* the command ended: report it */
	double		 report_due;
	double		 report_until;	/* give up reporting after this */
};

struct opts {
	const char	*conf_path;
	char		*url;
	char		*token;
	char		*kinds[MAX_KINDS];
	int		 nkinds;
	int		 jobs;
	int		 lease;
	char		*worker_id;
	int		 drain;
	const char	*exec;
	char		*artifacts;
	double		 grace;
};

static int sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t sig_count;

/* Count SIGTERM/SIGINT and wake the loop; SIGCHLD only wakes it. */
static void
on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (sig == SIGTERM || sig == SIGINT)
		sig_count++;
	if (write(sig_pipe[1], &c, 1) == -1) {
		/* the pipe is full: the loop is awake already */
	}
	errno = saved;
}

/* The synopsis, for -h and usage errors. */
static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: bulkjobs-worker (-c FILE | --url URL) [--token TOKEN | --token-file F]\n"
	    "       --kind K [--kind K2 ...] [-j N] [--lease SECONDS] [--worker-id ID]\n"
	    "       [--artifacts DIR] [--grace SECONDS] [--drain] [-v] --exec 'COMMAND'\n");
}

/* The first line of a file, for --token-file. */
static char *
read_token_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	struct stat st;

	if (f == NULL) {
		bj_log_err("cannot open token file %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & S_IROTH))
		bj_log_warn("token file %s is world-readable", path);
	if (fgets(line, sizeof line, f) == NULL) {
		fclose(f);
		bj_log_err("token file %s is empty", path);
		return NULL;
	}
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	return bj_xstrdup(line);
}

/* A positive integer option or exit with a usage error. */
static int
int_opt(const char *name, const char *v, int min, int max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end != '\0' || n < min || n > max) {
		fprintf(stderr, "bulkjobs-worker: %s must be a number from %d to %d, not '%s'\n",
		    name, min, max, v);
		exit(EX_USAGE);
	}
	return (int)n;
}

/*
 * The URL and the artifact root the command line left unset, from the
 * config file (read when there is no --url, or -c names one) or else its
 * defaults; exits on a config error.
 */
static void
take_conf(struct opts *o)
{
	struct bj_conf conf;
	char *cause = NULL;

	bj_conf_defaults(&conf);
	if ((o->url == NULL || o->conf_path != NULL) &&
	    bj_conf_load(&conf, bj_conf_locate(o->conf_path), &cause) == -1) {
		fprintf(stderr, "bulkjobs-worker: %s\n", cause);
		exit(EX_CONFIG);
	}
	if (o->url == NULL)
		o->url = bj_xstrdup(conf.public_url);
	if (o->artifacts == NULL)
		o->artifacts = bj_xstrdup(conf.artifacts_root);
	bj_conf_free(&conf);
}

/* Parse the command line, read the config when needed; exits on errors. */
static void
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "token", required_argument, NULL, 't' },
		{ "token-file", required_argument, NULL, 'T' },
		{ "kind", required_argument, NULL, 'k' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "lease", required_argument, NULL, 'l' },
		{ "worker-id", required_argument, NULL, 'w' },
		{ "drain", no_argument, NULL, 'd' },
		{ "exec", required_argument, NULL, 'e' },
		{ "artifacts", required_argument, NULL, 'a' },
		{ "grace", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *token_file = NULL, *env;
	int ch;

	memset(o, 0, sizeof *o);
	o->jobs = 1;
	o->grace = 10;
	while ((ch = getopt_long(argc, argv, "c:j:vhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o->conf_path = optarg; break;
		case 'u': o->url = bj_xstrdup(optarg); break;
		case 't': o->token = bj_xstrdup(optarg); break;
		case 'T': token_file = optarg; break;
		case 'k':
			if (o->nkinds == MAX_KINDS) {
				fprintf(stderr, "bulkjobs-worker: at most %d --kind\n", MAX_KINDS);
				exit(EX_USAGE);
			}
			o->kinds[o->nkinds++] = optarg;
			break;
		case 'j': o->jobs = int_opt("-j", optarg, 1, MAX_SLOTS); break;
		case 'l': o->lease = int_opt("--lease", optarg, 3, BJ_LEASE_MAX_SECONDS); break;
		case 'w': o->worker_id = bj_xstrdup(optarg); break;
		case 'd': o->drain = 1; break;
		case 'e': o->exec = optarg; break;
		case 'a': o->artifacts = bj_xstrdup(optarg); break;
		case 'g': o->grace = int_opt("--grace", optarg, 0, 3600); break;
		case 'v': bj_log_set_verbose(1); break;
		case 'h': usage(stdout); exit(0);
		case 'V': puts("bulkjobs-worker " PACKAGE_VERSION); exit(0);
		default: usage(stderr); exit(EX_USAGE);
		}
	}
	if (optind < argc || o->nkinds == 0 || o->exec == NULL || *o->exec == '\0') {
		if (optind < argc)
			fprintf(stderr, "bulkjobs-worker: unexpected argument '%s'\n", argv[optind]);
		else
			fprintf(stderr, "bulkjobs-worker: --kind and --exec are required\n");
		usage(stderr);
		exit(EX_USAGE);
	}
	take_conf(o);
	if (token_file != NULL && (o->token = read_token_file(token_file)) == NULL)
		exit(EX_CONFIG);
	if (o->token == NULL && (env = getenv("BULKJOBS_TOKEN")) != NULL && *env)
		o->token = bj_xstrdup(env);
	if (o->token == NULL) {
		fprintf(stderr, "bulkjobs-worker: no token: use --token, --token-file or $BULKJOBS_TOKEN\n");
		exit(EX_USAGE);
	}
	if (o->worker_id == NULL) {
		char host[HOST_NAME_MAX + 1] = "localhost";
		gethostname(host, sizeof host);
		host[sizeof host - 1] = '\0';
		o->worker_id = bj_xasprintf("%s:%ld", host, (long)getpid());
	}
}

/*
 * The seconds between heartbeats: a third of the lease, or of what the
 * server last granted when that was shorter (a heartbeat extends by the
 * job's own lease).
 */
static double
hb_interval(const struct opts *o, const struct bj_held *cl)
{
	double iv = o->lease > 0 ? o->lease / 3.0 : 0;

	if (cl != NULL && cl->lease_left > 0 && (iv == 0 || cl->lease_left / 3.0 < iv))
		iv = cl->lease_left / 3.0;
	if (iv == 0)
		iv = 10;	/* neither known: often enough for any lease from 30 s */
	return iv < 1 ? 1 : iv;
}

/* Start the command for the claim in s. */
static int
slot_start(struct slot *s, const struct opts *o, double now)
{
	char *env[7];
	int rc;

	env[0] = bj_xasprintf("BULKJOBS_JOB_ID=%lld", s->cl->job_id);
	env[1] = bj_xasprintf("BULKJOBS_ITEM_ID=%lld", s->cl->id);
	env[2] = bj_xasprintf("BULKJOBS_ITEM_KEY=%s", s->cl->key);
	env[3] = bj_xasprintf("BULKJOBS_STAGE=%d", s->cl->stage);
	env[4] = bj_xasprintf("BULKJOBS_ATTEMPT=%d", s->cl->attempt);
	env[5] = bj_xasprintf("BULKJOBS_ARTIFACTS=%s", o->artifacts);
	env[6] = NULL;
	rc = bj_run_start(&s->run, o->exec, env, s->cl->payload, strlen(s->cl->payload));
	for (int i = 0; i < 6; i++)
		free(env[i]);
	if (rc == -1)
		return -1;
	s->started = 1;
	s->hb_due = now + hb_interval(o, s->cl);
	bj_log_info("item %lld (job %lld, key %s, attempt %d): started, pid %ld",
	    s->cl->id, s->cl->job_id, s->cl->key, s->cl->attempt, (long)s->run.pid);
	return 0;
}

/* Free the slot for the next claim. */
static void
slot_clear(struct slot *s)
{
	if (s->started)
		bj_run_free(&s->run);
	bj_held_free(s->cl);
	memset(s, 0, sizeof *s);
}

/* How the command in s ended, as it will be reported; *error says why it failed. */
static enum bj_outcome
slot_outcome(struct slot *s, char **error)
{
	enum bj_outcome out;

	if (s->stop == STOP_NOSTART) {
		*error = bj_xstrdup("the worker could not start the command");
		return BJ_OUT_RETRY;
	}
	out = bj_run_outcome(&s->run, error);
	/* stopped by the shutdown, unless it finished well just before */
	if (s->stop == STOP_SHUTDOWN && out != BJ_OUT_COMPLETE) {
		free(*error);
		*error = bj_xstrdup("the worker shut down and stopped the command");
		return BJ_OUT_RETRY;
	}
	return out;
}

/*
 * Complete the item in s with the command's result and artifact, or fail
 * it when the artifact is not on disk or the server refuses the
 * completion; *what says which for the log.
 */
static enum bj_call
slot_complete(struct slot *s, struct bj_client *c, const struct opts *o, char **error,
    const char **what)
{
	char *result = NULL, *artifact = NULL, *why;
	int retryable = 1;
	enum bj_call rc;

	bj_run_result(&s->run, &result, &artifact);
	if (s->run.out.len > 0 && result == NULL)
		bj_log_warn("item %lld: stdout is not a JSON object; completing without a"
		    " result", s->cl->id);
	/* never complete with an artifact that is missing or not yet on disk */
	if (artifact != NULL &&
	    bj_artifact_sync(o->artifacts, artifact, error, &retryable) == -1) {
		bj_log_warn("item %lld: %s", s->cl->id, *error);
		rc = bj_client_fail(c, s->cl, *error, retryable);
		*what = retryable ? "failed (retryable: artifact not written)" :
		    "failed (bad artifact)";
	} else if ((rc = bj_client_complete(c, s->cl, result, artifact)) == BJ_CALL_REFUSED) {
		/* e.g. a result too large or a bad artifact path: fail it, saying why */
		why = bj_xasprintf("the server refused the completion: %s", bj_client_error(c));
		bj_log_warn("item %lld: %s", s->cl->id, why);
		rc = bj_client_fail(c, s->cl, why, 0);
		*what = "failed (completion refused)";
		free(why);
	} else {
		*what = "completed";
	}
	free(result);
	free(artifact);
	return rc;
}

/*
 * Report how the command ended. Returns 1 when the slot is free again, 0
 * when the report must be retried later (the server was unreachable).
 */
static int
slot_report(struct slot *s, struct bj_client *c, const struct opts *o, double now)
{
	enum bj_call rc;
	enum bj_outcome out;
	char *error = NULL;
	const char *what;
	int freed = 1;

	if (s->stop == STOP_LOST || s->stop == STOP_JOB_ENDED) {
		bj_log_info("item %lld: stopped (%s), nothing to report", s->cl->id,
		    s->stop == STOP_LOST ? "lease lost" : "job ended");
		return 1;
	}
	out = slot_outcome(s, &error);
	if (out == BJ_OUT_COMPLETE) {
		rc = slot_complete(s, c, o, &error, &what);
	} else {
		rc = bj_client_fail(c, s->cl, error, out == BJ_OUT_RETRY);
		what = out == BJ_OUT_RETRY ? "failed (retryable)" : "failed";
	}
	switch (rc) {
	case BJ_CALL_OK:
		bj_log_info("item %lld: %s", s->cl->id, what);
		break;
	case BJ_CALL_RETRY:
		if (now < s->report_until) {
			bj_log_warn("item %lld: cannot report yet (%s); retrying", s->cl->id,
			    bj_client_error(c));
			s->report_due = now + 2;
			freed = 0;
			break;
		}
		bj_log_err("item %lld: gave up reporting (%s)", s->cl->id, bj_client_error(c));
		break;
	case BJ_CALL_LEASE_LOST:
	case BJ_CALL_REFUSED:
	case BJ_CALL_AUTH:
		bj_log_warn("item %lld: report refused: %s", s->cl->id, bj_client_error(c));
		break;
	}
	free(error);
	return freed;
}

/* Heartbeat a running command; stop it when the lease is lost or its job has ended. */
static void
slot_heartbeat(struct slot *s, struct bj_client *c, const struct opts *o, double now)
{
	char job_state[32];
	enum bj_call rc;

	rc = bj_client_heartbeat(c, s->cl, s->run.done, s->run.total, job_state, sizeof job_state);
	s->hb_due = now + hb_interval(o, s->cl);
	switch (rc) {
	case BJ_CALL_OK:
		if (strcmp(job_state, "cancelled") == 0 || strcmp(job_state, "failed") == 0 ||
		    strcmp(job_state, "expired") == 0 || strcmp(job_state, "succeeded") == 0) {
			bj_log_info("item %lld: job %lld is %s; stopping the command",
			    s->cl->id, s->cl->job_id, job_state);
			s->stop = STOP_JOB_ENDED;
			bj_run_stop(&s->run, now, o->grace);
		}
		break;
	case BJ_CALL_LEASE_LOST:
		bj_log_warn("item %lld: lease lost (%s); stopping the command", s->cl->id,
		    bj_client_error(c));
		s->stop = STOP_LOST;
		bj_run_stop(&s->run, now, o->grace);
		break;
	case BJ_CALL_RETRY:
		bj_log_warn("item %lld: heartbeat failed (%s)", s->cl->id, bj_client_error(c));
		if (hb_interval(o, s->cl) > 5)
			s->hb_due = now + 5;
		break;
	case BJ_CALL_REFUSED:
	case BJ_CALL_AUTH:
		bj_log_err("item %lld: heartbeat refused (%s)", s->cl->id, bj_client_error(c));
		break;
	}
}

/* SIGTERM/SIGINT/SIGCHLD wake the loop through a self-pipe; SIGPIPE is an error return instead. */
static void
install_signals(void)
{
	struct sigaction sa;

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) == -1)
		bj_fatal("pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The worker's state between wake-ups. */
struct worker {
	struct opts		 o;
	struct bj_client	*client;
	struct slot		*slots;
	struct pollfd		*pfd;		/* the signal pipe, then the slots' pipes */
	int			*pfd_first;	/* per slot: its first entry in pfd */
	int			*pfd_n;		/* per slot: how many */
	double			 next_claim;
	double			 idle;		/* the wait after an empty claim */
	int			 stopping;
	int			 handled_sigs;
	int			 idle_empty;	/* nothing to claim, nothing ran */
	int			 rc;
};

/* Signals since the last wake-up: the first stops claiming, the second stops the commands. */
static void
take_signals(struct worker *w, double now)
{
	while (w->handled_sigs < sig_count) {
		w->handled_sigs++;
		if (w->handled_sigs == 1) {
			bj_log_info("stopping: no new claims, waiting for running commands");
			w->stopping = 1;
		} else if (w->handled_sigs == 2) {
			bj_log_info("stopping now: terminating running commands");
			for (int i = 0; i < w->o.jobs; i++) {
				struct slot *s = &w->slots[i];

				if (s->used && !s->done && s->stop == STOP_NONE) {
					s->stop = STOP_SHUTDOWN;
					bj_run_stop(&s->run, now, w->o.grace);
				}
			}
		}
	}
}

/* Put the n claims of got into free slots and start their commands; the number placed. */
static int
place_claims(struct worker *w, struct bj_held **got, int n, double now)
{
	int placed = 0;

	for (int k = 0, i = 0; k < n; k++) {
		struct slot *s;

		while (i < w->o.jobs && w->slots[i].used)
			i++;
		if (i == w->o.jobs) {	/* the server gave more than asked */
			bj_held_free(got[k]);
			continue;
		}
		s = &w->slots[i];
		s->used = 1;
		s->cl = got[k];
		if (slot_start(s, &w->o, now) == -1) {
			bj_log_err("item %lld: cannot start the command: %s", got[k]->id,
			    strerror(errno));
			s->done = 1;
			s->stop = STOP_NOSTART;
			s->report_until = now + 60;
		}
		placed++;
	}
	return placed;
}

/* Claim items for the nfree free slots; the number of slots in use after it. */
static int
claim(struct worker *w, int nfree, int nused, double now)
{
	struct bj_held **got = NULL;
	int n = 0;
	enum bj_call cr = bj_client_claim(w->client, w->o.worker_id, w->o.kinds, w->o.nkinds,
	    nfree < MAX_CLAIM ? nfree : MAX_CLAIM, w->o.lease, &got, &n);

	if (cr == BJ_CALL_OK && n > 0) {
		w->idle = IDLE_MIN;
		w->next_claim = now;
		w->idle_empty = 0;
		nused += place_claims(w, got, n, now);
	} else if (cr == BJ_CALL_OK) {
		w->next_claim = now + w->idle;
		w->idle = w->idle * 2 > IDLE_MAX ? IDLE_MAX : w->idle * 2;
		if (nused == 0)
			w->idle_empty = 1;
	} else if (cr == BJ_CALL_AUTH) {
		bj_log_err("claim refused: %s", bj_client_error(w->client));
		w->rc = EX_NOPERM;
		w->stopping = 1;
	} else {
		bj_log_warn("claim failed: %s", bj_client_error(w->client));
		w->next_claim = now + IDLE_MAX;
	}
	free(got);
	return nused;
}

/*
 * Heartbeats, kills and reports that are due; the time the next one is
 * due (a claim counts only while a slot is free, else poll would spin).
 */
static double
tend_slots(struct worker *w, int nused, double now)
{
	double due = w->stopping ? now + 1 : nused < w->o.jobs ? w->next_claim : now + IDLE_MAX;

	for (int i = 0; i < w->o.jobs; i++) {
		struct slot *s = &w->slots[i];

		if (!s->used)
			continue;
		if (s->started)
			bj_run_tick(&s->run, now);
		if (s->done) {
			if (now >= s->report_due && slot_report(s, w->client, &w->o, now)) {
				slot_clear(s);
				w->next_claim = due = now;
				w->idle = IDLE_MIN;
			} else if (s->report_due < due) {
				due = s->report_due;
			}
			continue;
		}
		if (s->stop == STOP_NONE && now >= s->hb_due)
			slot_heartbeat(s, w->client, &w->o, now);
		if (s->stop == STOP_NONE && s->hb_due < due)
			due = s->hb_due;
		if (s->run.kill_at > 0 && s->run.kill_at < due)
			due = s->run.kill_at;
	}
	return due;
}

/* 1 when the command of slot s runs and its output is read. */
static int
slot_running(const struct slot *s)
{
	return s->used && !s->done && s->started;
}

/* Wait for output, exits, signals or due; read what came, note the commands that ended. */
static void
wait_io(struct worker *w, double due)
{
	int np = 1, timeout;
	double now;

	w->pfd[0] = (struct pollfd){ .fd = sig_pipe[0], .events = POLLIN };
	for (int i = 0; i < w->o.jobs; i++) {
		w->pfd_first[i] = np;
		w->pfd_n[i] = slot_running(&w->slots[i]) ?
		    bj_run_pollfds(&w->slots[i].run, w->pfd + np) : 0;
		np += w->pfd_n[i];
	}
	now = bj_now();
	timeout = due <= now ? 0 : (int)((due - now) * 1000) + 1;
	if (timeout > 500)
		timeout = 500;	/* also bounds the wait for a command's leftovers */
	if (poll(w->pfd, (nfds_t)np, timeout) == -1 && errno != EINTR)
		bj_fatal("poll: %s", strerror(errno));
	if (w->pfd[0].revents) {
		char sink[64];
		while (read(sig_pipe[0], sink, sizeof sink) > 0)
			;
	}
	now = bj_now();
	for (int i = 0; i < w->o.jobs; i++) {
		struct slot *s = &w->slots[i];

		if (!slot_running(s))
			continue;
		bj_run_io(&s->run, w->pfd + w->pfd_first[i], w->pfd_n[i], now);
		if (bj_run_finished(&s->run, now)) {
			s->done = 1;
			s->report_due = now;
			s->report_until = now + (w->o.lease > 0 ? w->o.lease :
			    s->cl->lease_left > 0 ? s->cl->lease_left : 300);
		}
	}
}

/* Parse options, then claim, run, heartbeat and report until drained or stopped. */
int
main(int argc, char **argv)
{
	struct worker w;

	memset(&w, 0, sizeof w);
	w.idle = IDLE_MIN;
	bj_log_open("bulkjobs-worker", 0, 1);
	parse_args(argc, argv, &w.o);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((w.client = bj_client_new(w.o.url, w.o.token)) == NULL) {
		fprintf(stderr, "bulkjobs-worker: the token or URL contains a line break\n");
		return EX_USAGE;
	}
	install_signals();
	w.slots = bj_xcalloc((size_t)w.o.jobs, sizeof *w.slots);
	w.pfd = bj_xcalloc((size_t)w.o.jobs * 4 + 1, sizeof *w.pfd);
	w.pfd_first = bj_xcalloc((size_t)w.o.jobs, sizeof *w.pfd_first);
	w.pfd_n = bj_xcalloc((size_t)w.o.jobs, sizeof *w.pfd_n);
	bj_log_info("worker %s: %d slot(s), kind %s%s, %s", w.o.worker_id, w.o.jobs,
	    w.o.kinds[0], w.o.nkinds > 1 ? " and more" : "", w.o.url);

	for (;;) {
		double now = bj_now();
		int nused = 0;

		take_signals(&w, now);
		for (int i = 0; i < w.o.jobs; i++)
			nused += w.slots[i].used;
		if (!w.stopping && nused < w.o.jobs && now >= w.next_claim)
			nused = claim(&w, w.o.jobs - nused, nused, now);
		if (w.o.drain && w.idle_empty && nused == 0) {
			bj_log_info("drained: nothing to claim, nothing running");
			break;
		}
		if (w.stopping && nused == 0)
			break;
		wait_io(&w, tend_slots(&w, nused, bj_now()));
	}
	for (int i = 0; i < w.o.jobs; i++)
		if (w.slots[i].used)
			slot_clear(&w.slots[i]);
	free(w.slots);
	free(w.pfd);
	free(w.pfd_first);
	free(w.pfd_n);
	bj_client_free(w.client);
	curl_global_cleanup();
	free(w.o.url);
	free(w.o.token);
	free(w.o.worker_id);
	free(w.o.artifacts);
	return w.rc;
}
