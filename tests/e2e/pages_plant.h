/*
 * pages_plant.h: what the page suites share: jobs planted by SQL,
 * the web server's user file, Basic credentials, HTML validation, and
 * picking values out of a page.
 */
#ifndef BJ_PAGES_PLANT_H
#define BJ_PAGES_PLANT_H

#include "db.h"
#include "harness.h"

struct bj_plant {
	const char	*owner, *title, *state, *kind;
	int		 stage, stage_count;
	long long	 total, pending, claimed, succeeded, failed, cancelled;
	int		 started_min_ago;	/* 0: not started */
	int		 finished;		/* finished_at = now */
	const char	*artifact;		/* relative path or NULL */
	int		 artifact_expires_min;	/* from now; negative: past */
};

/* Insert a job row; returns its id and writes its token (33 bytes). */
long long bj_plant_job(struct bj_db *db, const struct bj_plant *p, char token[33]);
/* Insert an item row. */
long long bj_plant_item(struct bj_db *db, long long job, int stage, const char *key,
    const char *state);
/* Insert a failure record, a timeline event, a notification. */
void bj_plant_failure(struct bj_db *db, long long job, long long item, int attempt,
    const char *error);
void bj_plant_event(struct bj_db *db, long long job, const char *type, const char *detail);
void bj_plant_notification(struct bj_db *db, long long job, const char *channel,
    const char *target, const char *state, int attempts, const char *error);

/* Compile po/ja.po for bulkjobs-fcgi to find ($BULKJOBS_LOCALEDIR); 0 or -1. */
int bj_plant_catalogs(const char *suite);
/* Write dir/htpasswd with alice, bob, carol and dave ({SHA} hashes); 0 or -1. */
int bj_plant_users(const char *dir);
/* "Authorization: Basic …" for user (password "USER-pw"); static buffer. */
const char *bj_plant_auth(const char *user);
/* GET/POST path below base with user's credentials (NULL: none). */
void bj_plant_get(const char *base, const char *path, const char *user,
    struct bj_http_reply *r);
void bj_plant_post(const char *base, const char *path, const char *user,
    const char *form, const char *extra_header, struct bj_http_reply *r);
/*
 * The symlink race of the download check: for about seconds, download two
 * planted jobs' artifacts through base (as alice) while a thread swaps, under
 * root/artifacts/race, a file with a symbolic link to a file outside the
 * artifacts root and a directory with a link to a directory outside it.
 * Returns how many downloads carried bytes from outside; *inside counts
 * those that got the file under the root.
 */
int bj_plant_symlink_race(struct bj_db *db, const char *base, const char *root, double seconds,
    int *inside);
/* 1 when html passes the HTML5 validator (tests/validate_html.py). */
int bj_plant_valid_html(const char *html);
/* The value of the first attr="…" after marker in html; caller frees. */
char *bj_plant_attr_after(const char *html, const char *marker, const char *attr);

#endif
