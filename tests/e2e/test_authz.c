/*
 * test_authz.c: the authorization matrix, through real nginx
 * (conf/nginx.conf) and bulkjobs-fcgi. Every route is tried with every
 * kind of credential; each cell is the status and error code docs/api.md
 * documents. Where a caller may not see a job, its answer for another
 * owner's job must be byte for byte the answer for a job that does not
 * exist, and a refused state change must leave the job as it was.
 *
 * The pages run twice: with [http] public_links = no (only the owner) and
 * yes (the link alone). The web server's own login stands in front of
 * them; the app's own check behind it is tried by speaking FastCGI to
 * bulkjobs-fcgi directly, as a web server without a login would.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "csrf.h"
#include "harness.h"
#include "pages_plant.h"
#include "token.h"

#define MISSING_ID	"999999999"
#define ARTIFACT	"matrix/out.txt"
#define ARTIFACT_TEXT	"the owner's file\n"

static struct bj_e2e e2e;
static struct bj_db *db;
static int public_links;	/* of the server now running */
static int nrequests;

/* --- credentials ---------------------------------------------------- */

/* The columns of the API matrix: what a request carries. */
enum cred {
	C_NONE,		/* no Authorization */
	C_BASIC,	/* Basic credentials: REMOTE_USER set, no API token */
	C_MALFORMED,	/* an Authorization header that is not Bearer */
	C_UNKNOWN,	/* a Bearer token never issued */
	C_REVOKED,	/* a token revoked with bulkjobsctl */
	C_SUBMIT,	/* scope submit, owner alice */
	C_WORK,		/* scope work */
	C_ADMIN,	/* scope admin */
	C_OTHER,	/* scope submit, owner bob */
	NCRED
};

static const char *const cred_names[NCRED] = { "none", "basic", "malformed", "unknown",
	"revoked", "submit", "work", "admin", "other-owner" };
static char *tokens[NCRED];	/* the Bearer tokens, by column */

/* The matrix's tokens; names end in suffix (the suites share one database). */
static int
make_tokens(const char *suffix)
{
	char fresh[BJ_TOKEN_LEN + 1], name[64], *out;
	int st = -1;

	if (bj_token_new(fresh) == -1)
		return -1;
	tokens[C_UNKNOWN] = bj_xasprintf("bj_%s", fresh);
	snprintf(name, sizeof name, "gone-%s", suffix);
	tokens[C_REVOKED] = bj_e2e_token(&e2e, name, "submit,work,admin", "alice");
	out = bj_xasprintf("token revoke %s", name);
	free(bj_e2e_ctl(&e2e, out, &st));
	free(out);
	snprintf(name, sizeof name, "alice-app-%s", suffix);
	tokens[C_SUBMIT] = bj_e2e_token(&e2e, name, "submit", "alice");
	snprintf(name, sizeof name, "workers-%s", suffix);
	tokens[C_WORK] = bj_e2e_token(&e2e, name, "work", NULL);
	snprintf(name, sizeof name, "ops-%s", suffix);
	tokens[C_ADMIN] = bj_e2e_token(&e2e, name, "admin", NULL);
	snprintf(name, sizeof name, "bob-app-%s", suffix);
	tokens[C_OTHER] = bj_e2e_token(&e2e, name, "submit", "bob");
	for (int c = C_UNKNOWN; c < NCRED; c++)
		if (tokens[c] == NULL)
			return -1;
	return st == 0 ? 0 : -1;
}

static void
free_tokens(void)
{
	for (int c = 0; c < NCRED; c++) {
		free(tokens[c]);
		tokens[c] = NULL;
	}
}

/* --- requests ------------------------------------------------------- */

/* One API request with credential c; body JSON or NULL. */
static void
api(const char *method, const char *path, enum cred c, const char *body,
    struct bj_http_reply *r)
{
	char url[600], auth[300];
	const char *h[3] = { NULL, NULL, NULL };
	int n = 0;

	snprintf(url, sizeof url, "%s%s", e2e.url, path);
	switch (c) {
	case C_NONE:
		break;
	case C_BASIC:
		h[n++] = bj_plant_auth("alice");
		break;
	case C_MALFORMED:
		h[n++] = "Authorization: Token abc";
		break;
	default:
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", tokens[c]);
		h[n++] = auth;
		break;
	}
	if (body != NULL)
		h[n++] = "Content-Type: application/json";
	nrequests++;
	CU_ASSERT_EQUAL_FATAL(bj_http(method, url, h, body, body ? strlen(body) : 0, r), 0);
}

/* The error code of a JSON error reply, or "" (copied into out). */
static const char *
error_code(const struct bj_http_reply *r, char *out, size_t n)
{
	struct json_object *o = json_tokener_parse(r->body), *e, *c;

	snprintf(out, n, "%s", "");
	if (o != NULL && json_object_object_get_ex(o, "error", &e) &&
	    json_object_object_get_ex(e, "code", &c))
		snprintf(out, n, "%s", json_object_get_string(c));
	json_object_put(o);
	return out;
}

/* A member of a JSON reply as an integer, or -1. */
static long long
json_int(const char *body, const char *name)
{
	struct json_object *o = json_tokener_parse(body), *v;
	long long n = -1;

	if (o != NULL && json_object_object_get_ex(o, name, &v))
		n = json_object_get_int64(v);
	json_object_put(o);
	return n;
}

/* A string member of a JSON reply, copied into out ("" when absent). */
static void
json_str(const char *body, const char *name, char *out, size_t n)
{
	struct json_object *o = json_tokener_parse(body), *v;

	snprintf(out, n, "%s", "");
	if (o != NULL && json_object_object_get_ex(o, name, &v) &&
	    json_object_is_type(v, json_type_string))
		snprintf(out, n, "%s", json_object_get_string(v));
	json_object_put(o);
}

/* tmpl with its "%s", if any, replaced by v (the tables hold no printf formats). */
static void
fill(char *out, size_t n, const char *tmpl, const char *v)
{
	const char *p = strstr(tmpl, "%s");

	if (p == NULL)
		snprintf(out, n, "%s", tmpl);
	else
		snprintf(out, n, "%.*s%s%s", (int)(p - tmpl), tmpl, v, p + 2);
}

/* Blank out the values of nonce="…" (one per page reply) so pages compare. */
static void
strip_nonces(char *s)
{
	char *p = s;

	while ((p = strstr(p, "nonce=\"")) != NULL) {
		char *v = p + 7, *e = strchr(v, '"');
		if (e == NULL)
			break;
		memmove(v, e, strlen(e) + 1);
		p = v;
	}
}

/* --- fixtures ------------------------------------------------------- */

/* What a cell works on: a job of alice's and maybe a claimed item of it. */
struct fixture {
	long long	 job;
	char		 token[64];	/* the job's status-page token */
	char		 kind[64];
	long long	 item;
	char		 lease[64];
};

static struct fixture shared;	/* alice's job that read-only cells look at */
static int nfixtures;

/* A new job of alice's, made by the admin token; kind unique to it. */
static void
new_job(struct fixture *f, const char *title)
{
	struct bj_http_reply r;
	char body[400];

	memset(f, 0, sizeof *f);
	snprintf(f->kind, sizeof f->kind, "matrix-%d-%d", (int)getpid(), ++nfixtures);
	snprintf(body, sizeof body, "{\"kind\":\"%s\",\"owner\":\"alice\",\"title\":\"%s\","
	    "\"items\":[{\"key\":\"a\"},{\"key\":\"b\"}]}", f->kind, title);
	api("POST", "/v1/jobs", C_ADMIN, body, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 201);
	f->job = json_int(r.body, "id");
	json_str(r.body, "token", f->token, sizeof f->token);
	CU_ASSERT_FATAL(f->job > 0 && strlen(f->token) == 32);
	bj_http_reply_free(&r);
}

/* Pause f's job with the admin token. */
static void
pause_job(struct fixture *f)
{
	struct bj_http_reply r;
	char path[100];

	snprintf(path, sizeof path, "/v1/jobs/%lld/pause", f->job);
	api("POST", path, C_ADMIN, NULL, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	bj_http_reply_free(&r);
}

/* Claim one item of f's job with the work token. */
static void
claim_item(struct fixture *f)
{
	struct bj_http_reply r;
	struct json_object *o, *items, *it, *v;
	char body[200];

	snprintf(body, sizeof body, "{\"worker\":\"matrix\",\"kinds\":[\"%s\"],\"limit\":1}",
	    f->kind);
	api("POST", "/v1/claims", C_WORK, body, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	o = json_tokener_parse(r.body);
	CU_ASSERT_FATAL(o != NULL && json_object_object_get_ex(o, "items", &items) &&
	    json_object_array_length(items) == 1);
	it = json_object_array_get_idx(items, 0);
	json_object_object_get_ex(it, "id", &v);
	f->item = json_object_get_int64(v);
	json_object_object_get_ex(it, "lease_token", &v);
	snprintf(f->lease, sizeof f->lease, "%s", json_object_get_string(v));
	json_object_put(o);
	bj_http_reply_free(&r);
}

/* Fail f's claimed item for good with the work token: the job fails (fail_job). */
static void
fail_job(struct fixture *f)
{
	struct bj_http_reply r;
	char path[100], body[200];

	snprintf(path, sizeof path, "/v1/items/%lld/fail", f->item);
	snprintf(body, sizeof body, "{\"lease_token\":\"%s\",\"error\":\"matrix\","
	    "\"retryable\":false}", f->lease);
	api("POST", path, C_WORK, body, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	bj_http_reply_free(&r);
}

/*
 * Everything a request could change about job id, as one string: the
 * number of jobs, its row, its items, timeline, failures, notifications.
 */
static char *
snapshot(long long id)
{
	struct bj_rows *r = bj_db_queryp(db, "SELECT CONCAT_WS('|',"
	    " (SELECT COUNT(*) FROM jobs), j.state, j.stage, j.n_pending, j.n_claimed,"
	    " j.n_succeeded, j.n_failed, j.n_cancelled, IFNULL(j.started_at, '-'),"
	    " IFNULL(j.finished_at, '-'), IFNULL(j.artifact, '-'),"
	    " (SELECT GROUP_CONCAT(CONCAT_WS(':', i.id, i.state, i.attempt,"
	    "   IFNULL(i.lease_token, '-'), IFNULL(i.lease_expires_at, '-'),"
	    "   IFNULL(i.progress_done, '-'), IFNULL(i.result, '-'), IFNULL(i.error, '-'))"
	    "   ORDER BY i.id) FROM items i WHERE i.job_id = j.id),"
	    " (SELECT COUNT(*) FROM job_events e WHERE e.job_id = j.id),"
	    " (SELECT COUNT(*) FROM item_failures f WHERE f.job_id = j.id),"
	    " (SELECT COUNT(*) FROM notifications n WHERE n.job_id = j.id))"
	    " FROM jobs j WHERE j.id = ?", BJ_PARAMS(BJ_P_INT(id)));
	char *s;

	CU_ASSERT_FATAL(r != NULL && r->nrows == 1);
	s = bj_xstrdup(bj_rows_get(r, 0, 0));
	bj_rows_free(r);
	return s;
}

/* --- the API matrix ------------------------------------------------- */

struct want {
	int		 status;
	const char	*code;		/* error code, NULL for a success */
};

#define OK200	{ 200, NULL }
#define OK201	{ 201, NULL }
#define U401	{ 401, "UNAUTHORIZED" }
#define F403	{ 403, "FORBIDDEN" }
#define J404	{ 404, "JOB_NOT_FOUND" }
#define N404	{ 404, "NOT_FOUND" }
#define M405	{ 405, "METHOD_NOT_ALLOWED" }
#define T409	{ 409, "INVALID_TRANSITION" }
/* the five columns without a usable token */
#define NOTOKEN	U401, U401, U401, U401, U401

enum prep {
	P_SHARED,	/* alice's shared job, read only */
	P_QUEUED,	/* a fresh queued job of alice's */
	P_PAUSED,	/* a fresh paused job of alice's */
	P_CLAIMED,	/* a fresh job with one item claimed */
	P_FAILED,	/* a fresh job failed by one of its items */
};

/* What {id} in the path stands for. */
enum target { T_NONE, T_JOB, T_ITEM };

struct api_row {
	const char	*method;
	const char	*path;		/* "%s" is the id */
	enum target	 target;
	enum prep	 prep;
	const char	*body;		/* "%s" is the fixture's kind or lease token */
	int		 mutates;	/* a success changes the job */
	struct want	 want[NCRED];
};

/*
 * The table. Columns: none, basic, malformed, unknown, revoked, submit
 * (alice), work, admin, other-owner (bob). The jobs are alice's.
 */
static const struct api_row api_rows[] = {
	{ "GET", "/healthz", T_NONE, P_SHARED, NULL, 0,
	    { OK200, OK200, OK200, OK200, OK200, OK200, OK200, OK200, OK200 } },
	{ "GET", "/metrics", T_NONE, P_SHARED, NULL, 0,
	    { OK200, OK200, OK200, OK200, OK200, OK200, OK200, OK200, OK200 } },
	{ "GET", "/v1/nothing-here", T_NONE, P_SHARED, NULL, 0,
	    { N404, N404, N404, N404, N404, N404, N404, N404, N404 } },
	{ "GET", "/", T_NONE, P_SHARED, NULL, 0,
	    { N404, N404, N404, N404, N404, N404, N404, N404, N404 } },
	{ "DELETE", "/v1/jobs/%s", T_JOB, P_SHARED, NULL, 0,
	    { M405, M405, M405, M405, M405, M405, M405, M405, M405 } },
	{ "GET", "/v1/claims", T_NONE, P_SHARED, NULL, 0,
	    { M405, M405, M405, M405, M405, M405, M405, M405, M405 } },
	{ "POST", "/v1/jobs", T_NONE, P_SHARED,
	    "{\"kind\":\"matrix-new\",\"owner\":\"alice\",\"items\":[{\"key\":\"k\"}]}", 1,
	    { NOTOKEN, OK201, F403, OK201, F403 } },
	{ "GET", "/v1/jobs", T_NONE, P_SHARED, NULL, 0,
	    { NOTOKEN, OK200, F403, OK200, OK200 } },
	{ "GET", "/v1/jobs?owner=alice", T_NONE, P_SHARED, NULL, 0,
	    { NOTOKEN, OK200, F403, OK200, F403 } },
	{ "GET", "/v1/jobs/%s", T_JOB, P_SHARED, NULL, 0,
	    { NOTOKEN, OK200, F403, OK200, J404 } },
	{ "GET", "/v1/jobs/%s/items", T_JOB, P_SHARED, NULL, 0,
	    { NOTOKEN, OK200, F403, OK200, J404 } },
	{ "GET", "/v1/jobs/%s/items?state=pending&limit=1", T_JOB, P_SHARED, NULL, 0,
	    { NOTOKEN, OK200, F403, OK200, J404 } },
	{ "GET", "/v1/jobs/%s/events", T_JOB, P_SHARED, NULL, 0,
	    { NOTOKEN, OK200, F403, OK200, J404 } },
	{ "POST", "/v1/jobs/%s/pause", T_JOB, P_QUEUED, NULL, 1,
	    { NOTOKEN, OK200, F403, OK200, J404 } },
	{ "POST", "/v1/jobs/%s/resume", T_JOB, P_PAUSED, NULL, 1,
	    { NOTOKEN, OK200, F403, OK200, J404 } },
	{ "POST", "/v1/jobs/%s/cancel", T_JOB, P_QUEUED, NULL, 1,
	    { NOTOKEN, OK200, F403, OK200, J404 } },
	{ "POST", "/v1/jobs/%s/retry", T_JOB, P_FAILED, NULL, 1,
	    { NOTOKEN, OK200, F403, OK200, J404 } },
	{ "POST", "/v1/jobs/%s/retry", T_JOB, P_FAILED, "{\"round\":1}", 1,
	    { NOTOKEN, OK200, F403, OK200, J404 } },
	{ "POST", "/v1/jobs/%s/retry", T_JOB, P_QUEUED, NULL, 0,
	    { NOTOKEN, T409, F403, T409, J404 } },
	{ "POST", "/v1/jobs/%s/cancel", T_JOB, P_QUEUED, "{}", 1,
	    { NOTOKEN, OK200, F403, OK200, J404 } },
	{ "POST", "/v1/claims", T_NONE, P_QUEUED,
	    "{\"worker\":\"matrix\",\"kinds\":[\"%s\"],\"limit\":1}", 1,
	    { NOTOKEN, F403, OK200, OK200, F403 } },
	{ "POST", "/v1/items/%s/heartbeat", T_ITEM, P_CLAIMED,
	    "{\"lease_token\":\"%s\",\"progress\":{\"done\":1,\"total\":2}}", 1,
	    { NOTOKEN, F403, OK200, OK200, F403 } },
	{ "POST", "/v1/items/%s/complete", T_ITEM, P_CLAIMED,
	    "{\"lease_token\":\"%s\",\"result\":{\"rows\":1}}", 1,
	    { NOTOKEN, F403, OK200, OK200, F403 } },
	{ "POST", "/v1/items/%s/fail", T_ITEM, P_CLAIMED,
	    "{\"lease_token\":\"%s\",\"error\":\"matrix\",\"retryable\":true}", 1,
	    { NOTOKEN, F403, OK200, OK200, F403 } },
};

/* Whether credential c may see target t of alice's: then no leak check applies. */
static int
sees(enum cred c, enum target t)
{
	if (t == T_JOB)
		return c == C_SUBMIT || c == C_ADMIN;
	if (t == T_ITEM)
		return c == C_WORK || c == C_ADMIN;
	return 1;
}

/* Check a reply against a cell; label names the cell in failures. */
static int
check_cell(const struct bj_http_reply *r, const struct want *w, const char *label)
{
	char code[64];

	error_code(r, code, sizeof code);
	if (r->status == w->status && (w->code == NULL || strcmp(code, w->code) == 0))
		return 1;
	fprintf(stderr, "%s: got %ld %s, want %d %s\n%s\n", label, r->status, code,
	    w->status, w->code ? w->code : "", r->body);
	return 0;
}

/* What a success must show beyond its status. */
static void
check_success(const struct api_row *row, enum cred c, const struct fixture *f,
    const struct bj_http_reply *r, const char *label)
{
	struct json_object *o = json_tokener_parse(r->body), *a, *v;
	int ok = o != NULL;

	if (strcmp(row->path, "/metrics") == 0)
		ok = strstr(r->body, "bulkjobs_jobs{") != NULL;
	else if (ok && strcmp(row->path, "/healthz") == 0) {
		char st[16];
		json_str(r->body, "status", st, sizeof st);
		ok = strcmp(st, "ok") == 0;
	}
	else if (ok && strncmp(row->path, "/v1/jobs", 8) == 0 && strcmp(row->method, "GET") == 0 &&
	    json_object_object_get_ex(o, "jobs", &a)) {
		/* a list shows the caller's own jobs only (admin: all) */
		const char *own = c == C_OTHER ? "bob" : "alice";
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			v = json_object_object_get(json_object_array_get_idx(a, i), "owner");
			if (c != C_ADMIN && strcmp(json_object_get_string(v), own) != 0)
				ok = 0;
		}
		if (c != C_OTHER && json_object_array_length(a) == 0)
			ok = 0;		/* alice has jobs; the admin sees them */
	} else if (ok && row->target == T_JOB && strstr(row->path, "items") == NULL &&
	    strstr(row->path, "events") == NULL) {
		ok = json_int(r->body, "id") == f->job;
	} else if (ok && strcmp(row->path, "/v1/claims") == 0) {
		ok = json_object_object_get_ex(o, "items", &a) &&
		    json_object_array_length(a) == 1 &&
		    json_object_get_int64(json_object_object_get(json_object_array_get_idx(a, 0),
		    "job_id")) == f->job;
	} else if (ok && row->target == T_ITEM) {
		ok = json_int(r->body, "id") == f->item;
	}
	if (!ok)
		fprintf(stderr, "%s: the success does not show what it should:\n%s\n", label,
		    r->body);
	CU_ASSERT(ok);
	json_object_put(o);
}

/* Run one cell of the API matrix. */
static void
api_cell(const struct api_row *row, enum cred c)
{
	struct fixture fx, *f = &fx;
	struct bj_http_reply r, miss;
	char path[300], body[400], label[400], ids[32], *before, *after;

	if (row->prep == P_SHARED)
		f = &shared;
	else
		new_job(f, "Matrix job");
	if (row->prep == P_PAUSED)
		pause_job(f);
	if (row->prep == P_CLAIMED || row->prep == P_FAILED)
		claim_item(f);
	if (row->prep == P_FAILED)
		fail_job(f);
	snprintf(ids, sizeof ids, "%lld", row->target == T_ITEM ? f->item : f->job);
	fill(path, sizeof path, row->path, ids);
	if (row->body != NULL)
		fill(body, sizeof body, row->body, row->prep == P_CLAIMED ? f->lease : f->kind);
	snprintf(label, sizeof label, "%s %s as %s", row->method, path, cred_names[c]);

	before = snapshot(f->job);
	api(row->method, path, c, row->body ? body : NULL, &r);
	after = snapshot(f->job);
	CU_ASSERT(check_cell(&r, &row->want[c], label));
	if (r.status == 401) {
		char *wa = bj_http_header(&r, "WWW-Authenticate");
		CU_ASSERT_PTR_NOT_NULL(wa);
		free(wa);
	}
	if (r.status >= 200 && r.status < 300) {
		check_success(row, c, f, &r, label);
		if (row->mutates && strcmp(before, after) == 0) {
			fprintf(stderr, "%s: the success changed nothing\n", label);
			CU_FAIL("a permitted change changed nothing");
		}
	} else if (strcmp(before, after) != 0) {
		fprintf(stderr, "%s: refused, yet changed\n  before %s\n  after  %s\n", label,
		    before, after);
		CU_FAIL("a refused request changed the job");
	}
	free(after);

	/* no leak: for whom cannot see it, alice's thing answers as a missing one */
	if (row->target != T_NONE && !sees(c, row->target)) {
		fill(path, sizeof path, row->path, MISSING_ID);
		api(row->method, path, c, row->body ? body : NULL, &miss);
		if (miss.status != r.status || strcmp(miss.body, r.body) != 0) {
			fprintf(stderr, "%s: leaks: %ld %s vs missing %ld %s\n", label, r.status,
			    r.body, miss.status, miss.body);
			CU_FAIL("another owner's job answers unlike a missing one");
		}
		after = snapshot(f->job);
		CU_ASSERT_STRING_EQUAL(before, after);
		free(after);
		bj_http_reply_free(&miss);
	}
	free(before);
	bj_http_reply_free(&r);
}

/* Every row of the API table with every credential. */
static void
test_api_matrix(void)
{
	for (size_t i = 0; i < sizeof api_rows / sizeof api_rows[0]; i++)
		for (int c = 0; c < NCRED; c++)
			api_cell(&api_rows[i], (enum cred)c);
}

/* A token revoked while in use stops working at once. */
static void
test_revocation_is_immediate(void)
{
	struct bj_http_reply r;
	char *t = bj_e2e_token(&e2e, "brief", "submit", "alice"), *out, code[64];
	char url[300], auth[200];
	const char *h[] = { auth, NULL };
	int st = -1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	snprintf(url, sizeof url, "%s/v1/jobs", e2e.url);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", t);
	CU_ASSERT_EQUAL_FATAL(bj_http("GET", url, h, NULL, 0, &r), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	bj_http_reply_free(&r);
	out = bj_e2e_ctl(&e2e, "token revoke brief", &st);
	CU_ASSERT_EQUAL(st, 0);
	free(out);
	CU_ASSERT_EQUAL_FATAL(bj_http("GET", url, h, NULL, 0, &r), 0);
	CU_ASSERT_EQUAL(r.status, 401);
	CU_ASSERT_STRING_EQUAL(error_code(&r, code, sizeof code), "UNAUTHORIZED");
	bj_http_reply_free(&r);
	free(t);
}

/* An Idempotency-Key is per owner: bob reusing alice's neither sees nor trips on her job. */
static void
test_idempotency_key_is_per_owner(void)
{
	static const char *const alice_job =
	    "{\"kind\":\"idem\",\"owner\":\"alice\",\"items\":[{\"key\":\"a\"}]}";
	static const char *const bob_job =
	    "{\"kind\":\"idem\",\"owner\":\"bob\",\"items\":[{\"key\":\"b\"}]}";
	struct bj_http_reply r;
	char url[300], auth[200], key[80], owner[32];
	const char *h[] = { auth, "Content-Type: application/json", key, NULL };
	long long alice_id, bob_id;

	snprintf(url, sizeof url, "%s/v1/jobs", e2e.url);
	snprintf(key, sizeof key, "Idempotency-Key: shared-%d-%d", (int)getpid(), public_links);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", tokens[C_SUBMIT]);
	CU_ASSERT_EQUAL_FATAL(bj_http("POST", url, h, alice_job, strlen(alice_job), &r), 0);
	CU_ASSERT_EQUAL(r.status, 201);
	alice_id = json_int(r.body, "id");
	bj_http_reply_free(&r);
	/* the same key, another body, another owner: a new job, not a mismatch */
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", tokens[C_OTHER]);
	CU_ASSERT_EQUAL_FATAL(bj_http("POST", url, h, bob_job, strlen(bob_job), &r), 0);
	CU_ASSERT_EQUAL(r.status, 201);
	bob_id = json_int(r.body, "id");
	json_str(r.body, "owner", owner, sizeof owner);
	CU_ASSERT_STRING_EQUAL(owner, "bob");
	CU_ASSERT(bob_id > 0 && bob_id != alice_id);
	bj_http_reply_free(&r);
	/* and alice's body under bob's token is refused for its owner, not answered */
	CU_ASSERT_EQUAL_FATAL(bj_http("POST", url, h, alice_job, strlen(alice_job), &r), 0);
	CU_ASSERT_EQUAL(r.status, 403);
	CU_ASSERT_PTR_NULL(strstr(r.body, "\"id\""));
	bj_http_reply_free(&r);
}

/* --- the pages matrix ----------------------------------------------- */

/*
 * Who asks for a page: nobody (the web server's login answers), alice,
 * bob, and carol, one of [http] admins.
 */
enum user { U_ANON, U_OWNER, U_OTHER, U_ADMIN, NUSER };
static const char *const user_names[NUSER] = { NULL, "alice", "bob", "carol" };

struct page_row {
	const char	*path;		/* "%s" is the job's token */
	int		 want_private[NUSER], want_public[NUSER];
};

/* GET rows; columns: nobody, alice (the owner), bob, carol (an admin). */
static const struct page_row page_rows[] = {
	{ "/jobs", { 401, 200, 200, 200 }, { 401, 200, 200, 200 } },
	{ "/jobs?after=abc", { 401, 400, 400, 400 }, { 401, 400, 400, 400 } },
	{ "/jobs/%s", { 401, 200, 404, 200 }, { 401, 200, 200, 200 } },
	{ "/jobs/%s/download", { 401, 200, 404, 200 }, { 401, 200, 200, 200 } },
	{ "/jobs/%s/cancel", { 401, 405, 405, 405 }, { 401, 405, 405, 405 } },
	{ "/jobs/%s/nothing", { 401, 404, 404, 404 }, { 401, 404, 404, 404 } },
	{ "/admin", { 401, 403, 403, 200 }, { 401, 403, 403, 200 } },
	{ "/admin/jobs", { 401, 403, 403, 200 }, { 401, 403, 403, 200 } },
	{ "/admin/jobs?owner=alice", { 401, 403, 403, 200 }, { 401, 403, 403, 200 } },
	{ "/admin/jobs?after=abc", { 401, 403, 403, 400 }, { 401, 403, 403, 400 } },
	{ "/admin/workers", { 401, 403, 403, 200 }, { 401, 403, 403, 200 } },
	{ "/admin/failures", { 401, 403, 403, 200 }, { 401, 403, 403, 200 } },
	{ "/admin/notifications", { 401, 403, 403, 200 }, { 401, 403, 403, 200 } },
	{ "/admin/notifications/1/deliver", { 401, 405, 405, 405 }, { 401, 405, 405, 405 } },
	{ "/admin/nothing", { 401, 404, 404, 404 }, { 401, 404, 404, 404 } },
};

/* The form posts' columns: who, and which csrf field. */
enum post_cred {
	PC_ANON,		/* nobody, with the owner's csrf */
	PC_OWNER,		/* alice with her csrf */
	PC_OWNER_NOCSRF,	/* alice without one */
	PC_OWNER_WRONG,		/* alice with her csrf of another job */
	PC_OWNER_XSITE,		/* alice with hers, from a cross-site page */
	PC_OTHER,		/* bob with a csrf made for him */
	PC_OTHER_OWNERS,	/* bob with alice's */
	PC_OTHER_NOCSRF,	/* bob without one */
	PC_ADMIN,		/* carol (an admin) with a csrf made for her */
	PC_ADMIN_OWNERS,	/* carol with alice's */
	PC_ADMIN_NOCSRF,	/* carol without one */
	NPOST
};

static const char *const post_names[NPOST] = { "nobody", "owner", "owner without csrf",
	"owner with another job's csrf", "owner cross-site", "other user",
	"other user with the owner's csrf", "other user without csrf", "admin",
	"admin with the owner's csrf", "admin without csrf" };

struct post_row {
	const char	*action;
	enum prep	 prep;
	const char	*state_after;	/* of a job whose form was accepted */
	int		 want_private[NPOST], want_public[NPOST];
};

static const struct post_row post_rows[] = {
	{ "cancel", P_QUEUED, "cancelled",
	    { 401, 303, 403, 403, 403, 404, 404, 404, 303, 403, 403 },
	    { 401, 303, 403, 403, 403, 303, 403, 403, 303, 403, 403 } },
	{ "pause", P_QUEUED, "paused",
	    { 401, 303, 403, 403, 403, 404, 404, 404, 303, 403, 403 },
	    { 401, 303, 403, 403, 403, 303, 403, 403, 303, 403, 403 } },
	{ "resume", P_PAUSED, "queued",
	    { 401, 303, 403, 403, 403, 404, 404, 404, 303, 403, 403 },
	    { 401, 303, 403, 403, 403, 303, 403, 403, 303, 403, 403 } },
	{ "retry", P_FAILED, "running",
	    { 401, 303, 403, 403, 403, 404, 404, 404, 303, 403, 403 },
	    { 401, 303, 403, 403, 403, 303, 403, 403, 303, 403, 403 } },
};

/* The csrf field for (job token, user), as the job's page would print it. */
static void
csrf_for(const char *job_token, const char *user, char out[BJ_CSRF_LEN])
{
	unsigned char key[BJ_CSRF_KEYMAX];
	size_t keylen;

	/* the suites share one database (the harness makes one per program) */
	CU_ASSERT_FATAL(bj_csrf_key(db, bj_test_conf("authz"), key, &keylen) == BJ_OK);
	bj_csrf_make(key, keylen, job_token, user, out);
}

/* A job token that no job has. */
static void
missing_token(char out[BJ_TOKEN_LEN + 1])
{
	CU_ASSERT_FATAL(bj_token_new(out) == 0);
}

/* The page of a signed-in owner carries the csrf the tests compute. */
static void
test_page_csrf_is_the_computed_one(void)
{
	struct bj_http_reply r;
	char path[100], want[BJ_CSRF_LEN], *got;

	snprintf(path, sizeof path, "/jobs/%s", shared.token);
	bj_plant_get(e2e.url, path, "alice", &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	got = bj_plant_attr_after(r.body, "name=\"csrf\"", "value");
	csrf_for(shared.token, "alice", want);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got);
	bj_http_reply_free(&r);
}

/* Every job linked from a list page is user's, and there is at least one. */
static int
list_is_own(const char *html, const char *user)
{
	const char *p = html;
	int n = 0, ok = 1;

	while ((p = strstr(p, "href=\"/bulkjobs/jobs/")) != NULL) {
		char tok[BJ_TOKEN_LEN + 1];
		struct bj_rows *r;

		p += strlen("href=\"/bulkjobs/jobs/");
		if (strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") !=
		    BJ_TOKEN_LEN)
			continue;	/* not a job's link ("?after=") */
		snprintf(tok, sizeof tok, "%.*s", BJ_TOKEN_LEN, p);
		r = bj_db_queryp(db, "SELECT owner FROM jobs WHERE token = ?",
		    BJ_PARAMS(BJ_P_STR(tok)));
		if (r == NULL || r->nrows != 1 || strcmp(bj_rows_get(r, 0, 0), user) != 0)
			ok = 0;
		bj_rows_free(r);
		n++;
	}
	if (!ok || n == 0)
		fprintf(stderr, "the job list of %s: %d jobs, or not all theirs\n", user, n);
	return ok && n > 0;
}

/* Check a page reply's status; label names the cell. */
static int
check_page(const struct bj_http_reply *r, int want, const char *label)
{
	if (r->status == want)
		return 1;
	fprintf(stderr, "%s: got %ld, want %d\n", label, r->status, want);
	return 0;
}

/* Compare two page replies after blanking their nonces. */
static void
assert_same_page(struct bj_http_reply *a, struct bj_http_reply *b, const char *label)
{
	strip_nonces(a->body);
	strip_nonces(b->body);
	if (a->status != b->status || strcmp(a->body, b->body) != 0) {
		fprintf(stderr, "%s: leaks: %ld vs missing %ld\n%s\n---\n%s\n", label, a->status,
		    b->status, a->body, b->body);
		CU_FAIL("another owner's job answers unlike a missing one");
	}
}

/* Every page with nobody, the owner and another user signed in. */
static void
test_pages_matrix(void)
{
	for (size_t i = 0; i < sizeof page_rows / sizeof page_rows[0]; i++) {
		const struct page_row *row = &page_rows[i];
		for (int u = 0; u < NUSER; u++) {
			struct bj_http_reply r, miss;
			char path[200], label[300], missing[BJ_TOKEN_LEN + 1];
			int want = public_links ? row->want_public[u] : row->want_private[u];
			char *before = snapshot(shared.job), *after;

			fill(path, sizeof path, row->path, shared.token);
			snprintf(label, sizeof label, "GET %s as %s (public_links %s)", path,
			    user_names[u] ? user_names[u] : "nobody", public_links ? "yes" : "no");
			nrequests++;
			bj_plant_get(e2e.url, path, user_names[u], &r);
			CU_ASSERT(check_page(&r, want, label));
			if (r.status == 200 && strcmp(row->path, "/jobs") == 0)
				CU_ASSERT(list_is_own(r.body, user_names[u]));
			if (r.status == 200 && strstr(row->path, "/download") != NULL) {
				CU_ASSERT_STRING_EQUAL(r.body, ARTIFACT_TEXT);
			}
			if (r.status == 200 && strcmp(row->path, "/jobs/%s") == 0) {
				CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Matrix shared job"));
			}
			after = snapshot(shared.job);
			CU_ASSERT_STRING_EQUAL(before, after);
			free(after);
			free(before);
			/* no leak: whom the owner rule refuses gets a missing job's answer */
			if (!public_links && u != U_OWNER && u != U_ADMIN &&
			    strstr(row->path, "%s") != NULL) {
				missing_token(missing);
				fill(path, sizeof path, row->path, missing);
				bj_plant_get(e2e.url, path, user_names[u], &miss);
				assert_same_page(&r, &miss, label);
				bj_http_reply_free(&miss);
			}
			bj_http_reply_free(&r);
		}
	}
}

/* One form post; csrf NULL sends an empty form. */
static void
post_form(const char *token, const char *action, enum post_cred pc, const char *csrf,
    struct bj_http_reply *r)
{
	char path[200], form[200];
	const char *user = pc == PC_ANON ? NULL : pc >= PC_ADMIN ? "carol" :
	    pc >= PC_OTHER ? "bob" : "alice";

	snprintf(path, sizeof path, "/jobs/%s/%s", token, action);
	snprintf(form, sizeof form, "csrf=%s", csrf ? csrf : "");
	nrequests++;
	bj_plant_post(e2e.url, path, user, pc == PC_OWNER_NOCSRF || pc == PC_OTHER_NOCSRF ||
	    pc == PC_ADMIN_NOCSRF ?
	    "" : form, pc == PC_OWNER_XSITE ? "Sec-Fetch-Site: cross-site" : NULL, r);
}

/* The csrf field column pc sends for job token tok (NULL: none). */
static void
post_csrf(enum post_cred pc, const char *tok, const char *other_tok, char out[BJ_CSRF_LEN])
{
	switch (pc) {
	case PC_OWNER_WRONG:
		csrf_for(other_tok, "alice", out);
		break;
	case PC_OTHER:
		csrf_for(tok, "bob", out);
		break;
	case PC_ADMIN:
		csrf_for(tok, "carol", out);
		break;
	default:
		csrf_for(tok, "alice", out);
		break;
	}
}

/* Every form post with every kind of user and csrf field, on a fresh job each. */
static void
test_form_posts_matrix(void)
{
	for (size_t i = 0; i < sizeof post_rows / sizeof post_rows[0]; i++) {
		const struct post_row *row = &post_rows[i];
		for (int pc = 0; pc < NPOST; pc++) {
			struct fixture f;
			struct bj_http_reply r, miss;
			char label[300], csrf[BJ_CSRF_LEN], missing[BJ_TOKEN_LEN + 1];
			char *before, *after;
			int want = public_links ? row->want_public[pc] : row->want_private[pc];

			new_job(&f, "Matrix form job");
			if (row->prep == P_PAUSED)
				pause_job(&f);
			if (row->prep == P_FAILED) {
				claim_item(&f);
				fail_job(&f);
			}
			post_csrf((enum post_cred)pc, f.token, shared.token, csrf);
			snprintf(label, sizeof label, "POST /jobs/%s/%s as %s (public_links %s)",
			    f.token, row->action, post_names[pc], public_links ? "yes" : "no");
			before = snapshot(f.job);
			post_form(f.token, row->action, (enum post_cred)pc, csrf, &r);
			after = snapshot(f.job);
			CU_ASSERT(check_page(&r, want, label));
			if (r.status == 303) {
				char *loc = bj_http_header(&r, "Location"), where[100];
				struct bj_rows *s = bj_db_queryp(db,
				    "SELECT state FROM jobs WHERE id = ?",
				    BJ_PARAMS(BJ_P_INT(f.job)));
				snprintf(where, sizeof where, "/bulkjobs/jobs/%s", f.token);
				CU_ASSERT(loc != NULL && strcmp(loc, where) == 0);
				CU_ASSERT_FATAL(s != NULL && s->nrows == 1);
				CU_ASSERT_STRING_EQUAL(bj_rows_get(s, 0, 0), row->state_after);
				bj_rows_free(s);
				free(loc);
			} else if (strcmp(before, after) != 0) {
				fprintf(stderr, "%s: refused, yet changed\n  before %s\n  after  %s\n",
				    label, before, after);
				CU_FAIL("a refused form post changed the job");
			}
			free(after);
			if (!public_links && pc != PC_OWNER && pc != PC_OWNER_NOCSRF &&
			    pc != PC_OWNER_WRONG && pc != PC_OWNER_XSITE && pc < PC_ADMIN) {
				missing_token(missing);
				post_csrf((enum post_cred)pc, missing, shared.token, csrf);
				post_form(missing, row->action, (enum post_cred)pc, csrf, &miss);
				assert_same_page(&r, &miss, label);
				bj_http_reply_free(&miss);
				after = snapshot(f.job);
				CU_ASSERT_STRING_EQUAL(before, after);
				free(after);
			}
			free(before);
			bj_http_reply_free(&r);
		}
	}
}

/* The console's one form, "deliver again", as each kind of user and csrf field. */
static void
test_console_posts_matrix(void)
{
	static const struct {
		const char	*name, *user, *csrf_user, *header;
		int		 other_note, want;
	} cols[] = {
		{ "nobody", NULL, "carol", NULL, 0, 401 },
		{ "owner", "alice", "alice", NULL, 0, 403 },
		{ "other user", "bob", "bob", NULL, 0, 403 },
		{ "admin without csrf", "carol", NULL, NULL, 0, 403 },
		{ "admin with another notification's csrf", "carol", "carol", NULL, 1, 403 },
		{ "admin with the owner's csrf", "carol", "alice", NULL, 0, 403 },
		{ "admin cross-site", "carol", "carol", "Sec-Fetch-Site: cross-site", 0, 403 },
		{ "admin", "carol", "carol", NULL, 0, 303 },
	};
	unsigned char key[BJ_CSRF_KEYMAX];
	size_t keylen;
	long long note;

	CU_ASSERT_FATAL(bj_csrf_key(db, bj_test_conf("authz"), key, &keylen) == BJ_OK);
	bj_plant_notification(db, shared.job, "webhook", "https://matrix.example/hook", "dead",
	    12, "gone");
	note = bj_test_scalarf(db, "SELECT MAX(id) FROM notifications WHERE job_id = %lld",
	    shared.job);
	for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
		struct bj_http_reply r;
		char path[100], form[100], subject[64], csrf[BJ_CSRF_LEN], label[200];
		char *before = snapshot(shared.job), *after;
		long long before_n = bj_test_scalarf(db, "SELECT attempts + 100 * (state = 'dead')"
		    " FROM notifications WHERE id = %lld", note);

		snprintf(subject, sizeof subject, "admin:notification:%lld",
		    note + cols[i].other_note);
		form[0] = '\0';
		if (cols[i].csrf_user != NULL) {
			bj_csrf_make(key, keylen, subject, cols[i].csrf_user, csrf);
			snprintf(form, sizeof form, "csrf=%s", csrf);
		}
		snprintf(path, sizeof path, "/admin/notifications/%lld/deliver", note);
		snprintf(label, sizeof label, "POST %s as %s (public_links %s)", path,
		    cols[i].name, public_links ? "yes" : "no");
		nrequests++;
		bj_plant_post(e2e.url, path, cols[i].user, form, cols[i].header, &r);
		CU_ASSERT(check_page(&r, cols[i].want, label));
		after = snapshot(shared.job);
		if (r.status != 303) {
			CU_ASSERT_STRING_EQUAL(before, after);
			CU_ASSERT_EQUAL(bj_test_scalarf(db, "SELECT attempts + 100 * (state = 'dead')"
			    " FROM notifications WHERE id = %lld", note), before_n);
		} else {
			CU_ASSERT_EQUAL(bj_test_scalarf(db, "SELECT state = 'pending' AND"
			    " attempt_base = attempts FROM notifications WHERE id = %lld", note), 1);
		}
		free(before);
		free(after);
		bj_http_reply_free(&r);
	}
}

/* --- FastCGI straight to bulkjobs-fcgi ------------------------------ */

/*
 * The web server's login is the first line of defence; these requests
 * skip it (as a web server configured without one would) to show what the
 * app itself answers when nobody is signed in.
 */

/* Append one FastCGI record. */
static void
fcgi_record(struct bj_buf *b, int type, const void *data, size_t len)
{
	unsigned char h[8] = { 1, (unsigned char)type, 0, 1,
		(unsigned char)(len >> 8), (unsigned char)len, 0, 0 };

	bj_buf_add(b, h, sizeof h);
	if (len > 0)
		bj_buf_add(b, data, len);
}

/* Append a name-value pair (both shorter than 128 bytes). */
static void
fcgi_param(struct bj_buf *b, const char *name, const char *value)
{
	bj_buf_addc(b, (char)strlen(name));
	bj_buf_addc(b, (char)strlen(value));
	bj_buf_adds(b, name);
	bj_buf_adds(b, value);
}

/*
 * One request as a web server without a login sends it: no REMOTE_USER.
 * Fills r->status and r->body from the CGI reply. 0 or -1.
 */
static int
fcgi_request(const char *method, const char *path, const char *form,
    struct bj_http_reply *r)
{
	struct sockaddr_un sa;
	struct bj_buf req = { 0 }, params = { 0 }, out = { 0 };
	unsigned char begin[8] = { 0, 1, 0, 0, 0, 0, 0, 0 }, h[8], pad[256];
	char uri[300], len[24], *p;
	int fd = -1, rc = -1;

	memset(r, 0, sizeof *r);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", e2e.sock);
	snprintf(uri, sizeof uri, "/bulkjobs%s", path);
	snprintf(len, sizeof len, "%zu", form ? strlen(form) : 0);
	fcgi_param(&params, "REQUEST_METHOD", method);
	fcgi_param(&params, "REQUEST_URI", uri);
	fcgi_param(&params, "SCRIPT_NAME", uri);
	fcgi_param(&params, "QUERY_STRING", "");
	fcgi_param(&params, "SERVER_PROTOCOL", "HTTP/1.1");
	if (form != NULL) {
		fcgi_param(&params, "CONTENT_TYPE", "application/x-www-form-urlencoded");
		fcgi_param(&params, "CONTENT_LENGTH", len);
	}
	fcgi_record(&req, 1, begin, sizeof begin);		/* BEGIN_REQUEST, responder */
	fcgi_record(&req, 4, params.data, params.len);		/* PARAMS */
	fcgi_record(&req, 4, NULL, 0);
	if (form != NULL && *form)
		fcgi_record(&req, 5, form, strlen(form));	/* STDIN */
	fcgi_record(&req, 5, NULL, 0);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1 ||
	    write(fd, req.data, req.len) != (ssize_t)req.len)
		goto out;
	/* records until END_REQUEST; STDOUT collected, the rest skipped */
	for (;;) {
		size_t clen, plen;
		unsigned char body[65536];

		if (recv(fd, h, sizeof h, MSG_WAITALL) != (ssize_t)sizeof h)
			goto out;
		clen = (size_t)h[4] << 8 | h[5];
		plen = h[6];
		if (clen > 0 && recv(fd, body, clen, MSG_WAITALL) != (ssize_t)clen)
			goto out;
		if (plen > 0 && recv(fd, pad, plen, MSG_WAITALL) != (ssize_t)plen)
			goto out;
		if (h[1] == 6)
			bj_buf_add(&out, body, clen);
		if (h[1] == 3)
			break;
	}
	bj_buf_addc(&out, '\0');
	r->status = 200;
	if (strncmp(out.data, "Status: ", 8) == 0)
		r->status = strtol(out.data + 8, NULL, 10);
	p = strstr(out.data, "\r\n\r\n");
	r->headers = bj_xstrndup(out.data, p ? (size_t)(p - out.data) : strlen(out.data));
	r->body = bj_xstrdup(p ? p + 4 : "");
	r->len = strlen(r->body);
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	bj_buf_free(&req);
	bj_buf_free(&params);
	bj_buf_free(&out);
	return rc;
}

/*
 * Without a login in front, every page refuses everyone, whatever
 * public_links says: 401 for every page, GET and POST, the same whether
 * the job exists or not, and nothing changes (the probe paused a job
 * with an anonymous page's csrf).
 */
static void
test_pages_without_login(void)
{
	static const char *const gets[] = { "/jobs/%s", "/jobs/%s/download" };
	static const char *const actions[] = { "cancel", "pause", "resume", "retry" };
	struct bj_http_reply r, miss;
	char path[200], missing[BJ_TOKEN_LEN + 1], csrf[BJ_CSRF_LEN], form[100], label[300];
	char *before = snapshot(shared.job), *after;

	CU_ASSERT_EQUAL_FATAL(fcgi_request("GET", "/jobs", NULL, &r), 0);
	CU_ASSERT_EQUAL(r.status, 401);
	bj_http_reply_free(&r);
	missing_token(missing);
	for (size_t i = 0; i < sizeof gets / sizeof gets[0]; i++) {
		for (int head = 0; head < 2; head++) {
			fill(path, sizeof path, gets[i], shared.token);
			snprintf(label, sizeof label, "FastCGI %s %s, nobody signed in (public_links %s)",
			    head ? "HEAD" : "GET", path, public_links ? "yes" : "no");
			CU_ASSERT_EQUAL_FATAL(fcgi_request(head ? "HEAD" : "GET", path, NULL, &r), 0);
			if (head) {
				CU_ASSERT_EQUAL(r.status, 401);
			} else {
				CU_ASSERT(check_page(&r, 401, label));
			}
			fill(path, sizeof path, gets[i], missing);
			CU_ASSERT_EQUAL_FATAL(fcgi_request(head ? "HEAD" : "GET", path, NULL, &miss), 0);
			assert_same_page(&r, &miss, label);
			bj_http_reply_free(&r);
			bj_http_reply_free(&miss);
		}
	}
	for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
		/* a form with the csrf an anonymous page would carry */
		csrf_for(shared.token, NULL, csrf);
		snprintf(form, sizeof form, "csrf=%s", csrf);
		snprintf(path, sizeof path, "/jobs/%s/%s", shared.token, actions[i]);
		snprintf(label, sizeof label, "FastCGI POST %s, nobody signed in (public_links %s)",
		    actions[i], public_links ? "yes" : "no");
		CU_ASSERT_EQUAL_FATAL(fcgi_request("POST", path, form, &r), 0);
		CU_ASSERT(check_page(&r, 401, label));
		csrf_for(missing, NULL, csrf);
		snprintf(form, sizeof form, "csrf=%s", csrf);
		snprintf(path, sizeof path, "/jobs/%s/%s", missing, actions[i]);
		CU_ASSERT_EQUAL_FATAL(fcgi_request("POST", path, form, &miss), 0);
		assert_same_page(&r, &miss, label);
		bj_http_reply_free(&r);
		bj_http_reply_free(&miss);
	}
	after = snapshot(shared.job);
	CU_ASSERT_STRING_EQUAL(before, after);
	free(after);
	free(before);
}

/* --- suites --------------------------------------------------------- */

/* Start a server with its tokens and the web server's users. */
static int
start(const char *name, int public)
{
	public_links = public;
	if (bj_e2e_start(&e2e, name, public ? "[http]\nadmins = carol\n" :
	    "[http]\npublic_links = no\nadmins = carol\n") == -1 ||
	    bj_plant_users(e2e.root) == -1 || make_tokens(name) == -1)
		return -1;
	return (db = bj_test_db(name)) == NULL ? -1 : 0;
}

/* Alice's shared job with a file to download, and a job of bob's. */
static void
test_setup(void)
{
	struct bj_http_reply r;
	char dir[700], file[800];
	FILE *f;

	snprintf(dir, sizeof dir, "%s/artifacts/matrix", e2e.root);
	mkdir(dir, 0755);
	snprintf(file, sizeof file, "%s/out.txt", dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f = fopen(file, "w"));
	fputs(ARTIFACT_TEXT, f);
	fclose(f);
	new_job(&shared, "Matrix shared job");
	CU_ASSERT_EQUAL_FATAL(bj_db_execp(db,
	    "UPDATE jobs SET artifact = ?, artifact_expires_at ="
	    " NOW(6) + INTERVAL 1 HOUR WHERE id = ?", NULL, BJ_PARAMS(BJ_P_STR(ARTIFACT),
	    BJ_P_INT(shared.job))), 0);
	/* bob has a job too, so that his list is not empty by accident */
	api("POST", "/v1/jobs", C_OTHER,
	    "{\"kind\":\"bobs\",\"owner\":\"bob\",\"items\":[{\"key\":\"x\"}]}", &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 201);
	bj_http_reply_free(&r);
	/* and carol, the admin, one of her own */
	{
		struct bj_plant p = { .owner = "carol", .title = "Carol's own", .state = "queued",
		    .total = 1, .pending = 1 };
		char tok[33];

		bj_plant_job(db, &p, tok);
	}
}

static int
init_private(void)
{
	return start("authz", 0);
}

static int
init_public(void)
{
	return start("authzpub", 1);
}

static int
clean(void)
{
	bj_e2e_stop(&e2e);
	free_tokens();
	fprintf(stderr, "\nauthz: %d requests so far\n", nrequests);
	return 0;
}

int
main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = bj_test_suite("authorization, public_links = no", init_private, clean);
	CU_add_test(s, "set-up", test_setup);
	CU_add_test(s, "API matrix", test_api_matrix);
	CU_add_test(s, "revocation is immediate", test_revocation_is_immediate);
	CU_add_test(s, "Idempotency-Key is per owner", test_idempotency_key_is_per_owner);
	CU_add_test(s, "page csrf as computed", test_page_csrf_is_the_computed_one);
	CU_add_test(s, "pages matrix", test_pages_matrix);
	CU_add_test(s, "form posts matrix", test_form_posts_matrix);
	CU_add_test(s, "console posts matrix", test_console_posts_matrix);
	CU_add_test(s, "pages without a login", test_pages_without_login);
	s = bj_test_suite("authorization, public_links = yes", init_public, clean);
	CU_add_test(s, "set-up", test_setup);
	CU_add_test(s, "pages matrix", test_pages_matrix);
	CU_add_test(s, "form posts matrix", test_form_posts_matrix);
	CU_add_test(s, "console posts matrix", test_console_posts_matrix);
	CU_add_test(s, "pages without a login", test_pages_without_login);
	return bj_test_run();
}
