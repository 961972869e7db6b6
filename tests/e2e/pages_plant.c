/* pages_plant.c: planting jobs and reading pages for the page suites. */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "buf.h"
#include "clock.h"
#include "pages_plant.h"
#include "token.h"

/*
 * Compile po/ja.po into the suite's own directory of catalogs and point
 * bulkjobs-fcgi at it ($BULKJOBS_LOCALEDIR), as make install would.
 */
int
bj_plant_catalogs(const char *suite)
{
	const char *src = getenv("BJ_SRCDIR");
	char dir[900], leaf[100], cmd[2500];

	snprintf(leaf, sizeof leaf, "locale-%s", suite);
	snprintf(dir, sizeof dir, "%s", bj_test_path(leaf));
	snprintf(cmd, sizeof cmd, "mkdir -p '%s/ja/LC_MESSAGES' && msgfmt -o "
	    "'%s/ja/LC_MESSAGES/%s.mo' '%s/po/ja.po'", dir, dir, PACKAGE, src ? src : ".");
	if (system(cmd) != 0)
		return -1;
	return setenv("BULKJOBS_LOCALEDIR", dir, 1);
}

/* Insert a job with the given counts and times relative to NOW(6). */
static const char plant_job_sql[] =
    "INSERT INTO jobs (token, kind, owner, title, state, stage,"
    " stage_count, n_total, n_pending, n_claimed, n_succeeded, n_failed, n_cancelled,"
    " created_at, updated_at, started_at, finished_at, deadline_at, artifact,"
    " artifact_expires_at, retention_seconds, max_attempts, lease_seconds)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
    " NOW(6) - INTERVAL ? MINUTE, NOW(6), IF(? > 0, NOW(6) - INTERVAL ? MINUTE, NULL),"
    " IF(? > 0, NOW(6), NULL), NOW(6) + INTERVAL 1 DAY, ?,"
    " IF(? IS NULL, NULL, NOW(6) + INTERVAL ? MINUTE), 86400, 3, 60)";

/* Insert a job with the given counts and times relative to NOW(6). */
long long
bj_plant_job(struct bj_db *db, const struct bj_plant *p, char token[33])
{
	long long ago = p->started_min_ago;

	CU_ASSERT_FATAL(bj_token_new(token) == 0);
	CU_ASSERT_FATAL(bj_db_execp(db, plant_job_sql, NULL, BJ_PARAMS(BJ_P_STR(token),
	    BJ_P_STR(p->kind ? p->kind : "export"), BJ_P_STR(p->owner), BJ_P_STR(p->title),
	    BJ_P_STR(p->state), BJ_P_INT(p->stage),
	    BJ_P_INT(p->stage_count ? p->stage_count : 1), BJ_P_INT(p->total),
	    BJ_P_INT(p->pending), BJ_P_INT(p->claimed), BJ_P_INT(p->succeeded),
	    BJ_P_INT(p->failed), BJ_P_INT(p->cancelled), BJ_P_INT(ago + 1), BJ_P_INT(ago),
	    BJ_P_INT(ago), BJ_P_INT(p->finished), BJ_P_STR(p->artifact),
	    BJ_P_STR(p->artifact), BJ_P_INT(p->artifact_expires_min))) == 0);
	return (long long)bj_db_insert_id(db);
}

/* Insert one item of a job. */
long long
bj_plant_item(struct bj_db *db, long long job, int stage, const char *key, const char *state)
{
	CU_ASSERT_FATAL(bj_db_execp(db, "INSERT INTO items (job_id, stage, `key`, state,"
	    " run_after) VALUES (?, ?, ?, ?, NOW(6))", NULL, BJ_PARAMS(BJ_P_INT(job),
	    BJ_P_INT(stage), BJ_P_STR(key), BJ_P_STR(state))) == 0);
	return (long long)bj_db_insert_id(db);
}

/* Insert one failure record with its "item_failed" timeline entry, as a failure is written. */
void
bj_plant_failure(struct bj_db *db, long long job, long long item, int attempt,
    const char *error)
{
	char detail[64];

	CU_ASSERT_FATAL(bj_db_execp(db, "INSERT INTO item_failures (item_id, job_id, attempt,"
	    " error, failed_at) VALUES (?, ?, ?, ?, NOW(6))", NULL, BJ_PARAMS(BJ_P_INT(item),
	    BJ_P_INT(job), BJ_P_INT(attempt), BJ_P_STR(error))) == 0);
	snprintf(detail, sizeof detail, "item %lld attempt %d", item, attempt);
	bj_plant_event(db, job, "item_failed", detail);
}

/* Append to a job's timeline. */
void
bj_plant_event(struct bj_db *db, long long job, const char *type, const char *detail)
{
	CU_ASSERT_FATAL(bj_db_execp(db, "INSERT INTO job_events (job_id, at, type, detail)"
	    " VALUES (?, NOW(6), ?, ?)", NULL, BJ_PARAMS(BJ_P_INT(job), BJ_P_STR(type),
	    BJ_P_STR(detail))) == 0);
}

/* Insert a notification row as the notifier would leave it. */
void
bj_plant_notification(struct bj_db *db, long long job, const char *channel,
    const char *target, const char *state, int attempts, const char *error)
{
	char hash[BJ_SHA256_HEX];

	bj_sha256_hex(target, strlen(target), hash);
	CU_ASSERT_FATAL(bj_db_execp(db, "INSERT INTO notifications (job_id, event, channel,"
	    " target_hash, target, state, attempts, next_attempt_at, last_error, created_at)"
	    " VALUES (?, 'job.succeeded', ?, ?, ?, ?, ?, NOW(6), ?, NOW(6))", NULL,
	    BJ_PARAMS(BJ_P_INT(job), BJ_P_STR(channel), BJ_P_STR(hash), BJ_P_STR(target),
	    BJ_P_STR(state), BJ_P_INT(attempts), BJ_P_STR(error))) == 0);
}

/* {SHA} entries: both nginx and Apache read them. */
int
bj_plant_users(const char *dir)
{
	static const char *const users[] = { "alice", "bob", "carol", "dave", NULL };
	char path[700], pw[64];
	unsigned char md[SHA_DIGEST_LENGTH];
	FILE *f;

	snprintf(path, sizeof path, "%s/htpasswd", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	for (int i = 0; users[i] != NULL; i++) {
		char *b64;
		snprintf(pw, sizeof pw, "%s-pw", users[i]);
		SHA1((const unsigned char *)pw, strlen(pw), md);
		b64 = bj_base64(md, sizeof md, 0);
		fprintf(f, "%s:{SHA}%s\n", users[i], b64);
		free(b64);
	}
	return fclose(f) == 0 ? 0 : -1;
}

/* Basic credentials of a planted user. */
const char *
bj_plant_auth(const char *user)
{
	static char hdr[200];
	char cred[100], *b64;

	snprintf(cred, sizeof cred, "%s:%s-pw", user, user);
	b64 = bj_base64(cred, strlen(cred), 0);
	snprintf(hdr, sizeof hdr, "Authorization: Basic %s", b64);
	free(b64);
	return hdr;
}

/* GET through the web server, signed in or not. */
void
bj_plant_get(const char *base, const char *path, const char *user, struct bj_http_reply *r)
{
	char url[700];
	const char *h[2] = { NULL, NULL };

	if (user != NULL)
		h[0] = bj_plant_auth(user);
	snprintf(url, sizeof url, "%s%s", base, path);
	CU_ASSERT_EQUAL_FATAL(bj_http("GET", url, h, NULL, 0, r), 0);
}

/* POST a form through the web server. */
void
bj_plant_post(const char *base, const char *path, const char *user, const char *form,
    const char *extra_header, struct bj_http_reply *r)
{
	char url[700];
	const char *h[4] = { "Content-Type: application/x-www-form-urlencoded", NULL, NULL,
	    NULL };
	int n = 1;

	if (user != NULL)
		h[n++] = bj_plant_auth(user);
	if (extra_header != NULL)
		h[n++] = extra_header;
	snprintf(url, sizeof url, "%s%s", base, path);
	CU_ASSERT_EQUAL_FATAL(bj_http("POST", url, h, form, strlen(form), r), 0);
}

/* Pipe html through tests/validate_html.py. */
int
bj_plant_valid_html(const char *html)
{
	char cmd[800];
	FILE *p;
	int st;

	snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/validate_html.py -",
	    getenv("BJ_SRCDIR"));
	if ((p = popen(cmd, "w")) == NULL)
		return 0;
	fputs(html, p);
	st = pclose(p);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Pick an attribute value out of a page. */
char *
bj_plant_attr_after(const char *html, const char *marker, const char *attr)
{
	const char *m = strstr(html, marker), *v, *e;
	char pat[64];

	if (m == NULL)
		return NULL;
	snprintf(pat, sizeof pat, "%s=\"", attr);
	if ((v = strstr(m, pat)) == NULL)
		return NULL;
	v += strlen(pat);
	if ((e = strchr(v, '"')) == NULL)
		return NULL;
	return bj_xstrndup(v, (size_t)(e - v));
}

struct race {
	char			 dir[800];	/* root/artifacts/race */
	char			 outside[800];	/* root/outside */
	volatile int		 stop;
	long			 swaps;
};

/* Write text to path, whole; 0 or -1. */
static int
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* The swapping thread: file ⇄ link by rename, directory ⇄ link by exchange. */
static void *
race_swap(void *arg)
{
	struct race *rc = arg;
	char a[900], tmp[900], d[900], dswap[900], target[900];

	snprintf(a, sizeof a, "%s/a.txt", rc->dir);
	snprintf(tmp, sizeof tmp, "%s/.new", rc->dir);
	snprintf(d, sizeof d, "%s/d", rc->dir);
	snprintf(dswap, sizeof dswap, "%s/d.swap", rc->dir);
	snprintf(target, sizeof target, "%s/secret.txt", rc->outside);
	while (!rc->stop) {
		unlink(tmp);
		if (put(tmp, "INSIDE a\n") == 0)
			rename(tmp, a);
		renameat2(AT_FDCWD, d, AT_FDCWD, dswap, RENAME_EXCHANGE);
		unlink(tmp);
		if (symlink(target, tmp) == 0)
			rename(tmp, a);
		renameat2(AT_FDCWD, d, AT_FDCWD, dswap, RENAME_EXCHANGE);
		rc->swaps++;
	}
	return NULL;
}

/* Download both race jobs for a while with the swapper running. */
int
bj_plant_symlink_race(struct bj_db *db, const char *base, const char *root, double seconds,
    int *inside)
{
	struct bj_plant p = { .owner = "alice", .title = "Race", .state = "succeeded",
	    .total = 1, .succeeded = 1, .started_min_ago = 1, .finished = 1,
	    .artifact_expires_min = 60 };
	struct race rc;
	pthread_t th;
	char path[900], tok[2][33], url[2][120];
	const char *rel[2] = { "race/a.txt", "race/d/b.txt" };
	int outside = 0, n = 0;
	double end;

	memset(&rc, 0, sizeof rc);
	*inside = 0;
	snprintf(rc.dir, sizeof rc.dir, "%s/artifacts/race", root);
	snprintf(rc.outside, sizeof rc.outside, "%s/outside", root);
	mkdir(rc.dir, 0755);
	mkdir(rc.outside, 0755);
	snprintf(path, sizeof path, "%s/d", rc.outside);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/d/b.txt", rc.outside);
	CU_ASSERT_EQUAL_FATAL(put(path, "OUTSIDE-SECRET b\n"), 0);
	snprintf(path, sizeof path, "%s/secret.txt", rc.outside);
	CU_ASSERT_EQUAL_FATAL(put(path, "OUTSIDE-SECRET a\n"), 0);
	snprintf(path, sizeof path, "%s/a.txt", rc.dir);
	CU_ASSERT_EQUAL_FATAL(put(path, "INSIDE a\n"), 0);
	snprintf(path, sizeof path, "%s/d", rc.dir);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/d/b.txt", rc.dir);
	CU_ASSERT_EQUAL_FATAL(put(path, "INSIDE b\n"), 0);
	snprintf(path, sizeof path, "%s/d.swap", rc.dir);
	unlink(path);
	{
		char target[900];
		snprintf(target, sizeof target, "%s/d", rc.outside);
		CU_ASSERT_EQUAL_FATAL(symlink(target, path), 0);
	}
	for (int i = 0; i < 2; i++) {
		p.artifact = rel[i];
		bj_plant_job(db, &p, tok[i]);
		snprintf(url[i], sizeof url[i], "/jobs/%s/download", tok[i]);
	}
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, race_swap, &rc), 0);
	end = bj_now() + seconds;
	while (bj_now() < end) {
		struct bj_http_reply r;

		bj_plant_get(base, url[n++ % 2], "alice", &r);
		if (r.body != NULL && strstr(r.body, "OUTSIDE") != NULL)
			outside++;
		else if (r.status == 200 && r.body != NULL && strncmp(r.body, "INSIDE", 6) == 0)
			(*inside)++;
		bj_http_reply_free(&r);
	}
	rc.stop = 1;
	pthread_join(th, NULL);
	fprintf(stderr, "\nsymlink race: %d downloads, %d from inside, %d from outside, %ld swaps\n",
	    n, *inside, outside, rc.swaps);
	return outside;
}
