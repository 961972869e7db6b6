/*
 * harness.h: what every CUnit test program shares.
 *
 * Unit suites use bj_test_run() only. Database suites get a fresh database
 * on the private test MariaDB (started by tests/servers.sh) from
 * bj_test_db(); if the server cannot be reached the program fails, it never
 * passes silently. End-to-end suites start bulkjobs-fcgi behind a real
 * nginx with bj_e2e_start() and talk to it with libcurl.
 */
#ifndef BJ_TEST_HARNESS_H
#define BJ_TEST_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include <CUnit/CUnit.h>

#include "conf.h"
#include "db.h"

/* Run every registered suite verbosely; the exit status for main(). */
int bj_test_run(void);
/*
 * 1 (after saying why on stderr) when this is the sanitizer build: a suite
 * whose program then returns 77 (skipped) is one that the plain build and
 * distcheck run, and whose code under test the other sanitized suites
 * already cover.
 */
int bj_test_sanitized_skip(const char *suite, const char *why);
/* Add a suite, aborting on registry errors. */
CU_pSuite bj_test_suite(const char *name, CU_InitializeFunc init, CU_CleanupFunc clean);

/* A config whose database is a new, migrated one named bjt_<name>_<pid>. */
struct bj_conf *bj_test_conf(const char *name);
/* A connection to that database (created and migrated on first call). */
struct bj_db *bj_test_db(const char *name);
/* Run a statement with no parameters on the test db; asserts success. */
void bj_test_sql(struct bj_db *db, const char *sql);
/* A loopback TCP port nobody listens on right now (-1 if none); 1 once one listens. */
int bj_test_free_port(void);
int bj_test_port_open(int port);
/* First column of the first row of a query, as an integer. */
long long bj_test_scalar(struct bj_db *db, const char *sql);
/* A path under the test directory (static buffer). */
const char *bj_test_path(const char *leaf);
/* A statement built printf-style, run as bj_test_sql() runs it. */
void bj_test_sqlf(struct bj_db *db, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A whole file, NUL-terminated (caller frees; its length in *len if asked), or NULL. */
char *bj_test_slurp(const char *path, size_t *len);
/*
 * 0 when Prometheus' own checker (`promtool check metrics`) accepts the
 * exposition text, with no lint problem either; else its complaints are
 * printed and the result is nonzero (also when promtool is missing).
 */
int bj_test_promtool(const char *text);
/* Replace every from with to in *s (a string the caller frees). */
void bj_test_subst(char **s, const char *from, const char *to);
/* Fork and exec argv in its own process group, stdout and stderr appended to log; its pid. */
pid_t bj_test_spawn(char *const argv[], const char *log);

struct bj_job_spec;
struct bj_item_spec;
/*
 * A job spec of kind for owner alice (3 attempts, 60 s leases, an hour to
 * run and keep) with n items keyed k0, k1... in stage i % stages; items
 * and keys are the caller's, n of each.
 */
void bj_test_job_spec(struct bj_job_spec *s, const char *kind, struct bj_item_spec *items,
    char (*keys)[16], size_t n, int stages);

/* A job for bj_test_make_job: bj_test_job_spec's, with what is set here (0/NULL: its default). */
struct bj_test_job {
	const char	*kind, *owner, *title, *payload, *webhook, *email;
	size_t		 n;
	int		 stages, max_attempts, on_item_failure, priority, max_concurrency;
};
/* Create the job (asserting it is created); its id. */
long long bj_test_make_job(struct bj_db *db, const struct bj_test_job *j);
struct bj_claimed;
/* Claim up to limit due items of kind as worker "w" (asserting BJ_OK); how many. */
int bj_test_claim(struct bj_db *db, const char *kind, int limit, struct bj_claimed **c);

struct bj_http_reply {
	long	 status;
	char	*body;		/* NUL-terminated, owned */
	size_t	 len;
	char	*headers;	/* raw header block, owned */
};

struct bj_e2e {
	char	 url[256];	/* http://127.0.0.1:PORT + base_path */
	char	 root[512];	/* the suite's directory */
	char	 conf_path[600];
	char	 sock[64];	/* bulkjobs-fcgi's socket, nginx's fastcgi_pass */
	int	 port;
	int	 fcgi_pid;
	int	 nginx_pid;
};

/* Start bulkjobs-fcgi (prefork) and nginx with conf/nginx.conf; 0 or -1. */
int bj_e2e_start(struct bj_e2e *e, const char *name, const char *extra_conf);

enum bj_e2e_mode {
	BJ_E2E_PREFORK,		/* bulkjobs-fcgi --listen PATH --processes 4 */
	BJ_E2E_STDIN_SOCKET,	/* the listening socket on fd 0, as spawn-fcgi does */
};
/*
 * Set before bj_e2e_start() to run nginx with conf/nginx-http.conf's rate
 * limit as shipped; otherwise the suites, which send hundreds of requests
 * a second from one address, get a far higher rate.
 */
extern int bj_e2e_shipped_rate_limit;
/* The same, choosing how bulkjobs-fcgi gets its socket. */
int bj_e2e_start_mode(struct bj_e2e *e, const char *name, const char *extra_conf,
    enum bj_e2e_mode mode);
void bj_e2e_stop(struct bj_e2e *e);
/* ROOT/htpasswd (as nginx and Apache read it) with user, password "USER-pw"; 0 or -1. */
int bj_e2e_htpasswd(struct bj_e2e *e, const char *user);
/* Run "bulkjobsctl -c CONF args..." and return its last stdout line (caller frees). */
char *bj_e2e_ctl(struct bj_e2e *e, const char *args, int *exit_status);
/*
 * Start bulkjobs-worker against e: --url, -v, then args; token in
 * BULKJOBS_TOKEN; its output appended to ROOT/LOGNAME.log. Its pid.
 */
pid_t bj_e2e_worker(struct bj_e2e *e, const char *token, const char *logname,
    const char *const *args);
/* Wait up to limit seconds for child pid: its exit status, else -1 (killed on time-out). */
int bj_test_child_wait(pid_t pid, int limit);
struct json_object;
/*
 * An API call: token as Bearer (NULL: no Authorization), one extra header
 * line (or NULL), a JSON body of len bytes (or NULL; it may hold NUL
 * bytes) sent with its Content-Type. The status, or -1 when nothing
 * answered; the reply parsed into *obj when asked (NULL if not JSON;
 * caller puts).
 */
long bj_e2e_call(struct bj_e2e *e, const char *method, const char *path, const char *token,
    const char *extra_header, const char *body, size_t len, struct json_object **obj);
/* The same with a Bearer token and a NUL-terminated JSON body (or NULL). */
long bj_e2e_api(struct bj_e2e *e, const char *token, const char *method, const char *path,
    const char *body, struct json_object **obj);
/*
 * "bulkjobsctl token create" named name with scope and owner (or NULL): the
 * token (caller frees), or NULL (said on stderr).
 */
char *bj_e2e_token(struct bj_e2e *e, const char *name, const char *scope, const char *owner);
/* POST /v1/jobs with body: the new job's id, or -1 (said on stderr) unless 201. */
long long bj_e2e_submit(struct bj_e2e *e, const char *token, const char *body);
/* GET /v1/jobs/ID parsed (caller puts), or NULL unless 200. */
struct json_object *bj_e2e_job(struct bj_e2e *e, const char *token, long long id);
/* Poll the job through the API until it is in state: 0, or -1 (said on stderr) after limit s. */
int bj_e2e_wait_state(struct bj_e2e *e, const char *token, long long id, const char *state,
    int limit);
/* A member of o by dotted path ("counts.total"), or NULL. */
struct json_object *bj_test_json_get(struct json_object *o, const char *path);
/* The error code of an error reply ({"error":{"code"}}), or "". */
const char *bj_test_error_code(struct json_object *o);
/* Assert that the job's counters equal what its items say, state by state. */
void bj_test_assert_counts(struct bj_db *db, long long job);
/* A one-value query built printf-style; -1 when it fails or has no row. */
long long bj_test_scalarf(struct bj_db *db, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Poll such a query until it is want: 0, or -1 (said on stderr) after limit seconds. */
int bj_test_wait_scalarf(struct bj_db *db, long long want, int limit, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * An HTTP request with libcurl. headers is NULL or a NULL-terminated
 * array of "Name: value" strings; body may be NULL. Returns 0 or -1.
 */
int bj_http(const char *method, const char *url, const char *const *headers,
    const char *body, size_t body_len, struct bj_http_reply *out);
void bj_http_reply_free(struct bj_http_reply *r);
/* The value of header name in r (case-insensitive), or NULL; caller frees. */
char *bj_http_header(const struct bj_http_reply *r, const char *name);

#endif
