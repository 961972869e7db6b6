/*
 * pages.h: the end-user HTML pages (page_*.c) and what they share.
 *
 * Every page goes out through bj_page_reply(), which adds the security
 * headers (a strict Content-Security-Policy that allows the inline style
 * sheet by its hash, nosniff, no-referrer, DENY framing) and the caching
 * ones: no-store, or revalidation under the ETag of a polled page.
 * Who is signed in comes from REMOTE_USER, which the web server's own
 * authentication sets; bulkjobs never authenticates people itself.
 *
 * Ownership: a struct bj_page_job is the caller's, freed with
 * bj_page_job_free(); bj_page_user() is borrowed from the request.
 */
#ifndef BJ_PAGES_H
#define BJ_PAGES_H

#include "html.h"
#include "i18n.h"
#include "http.h"
#include "job.h"
#include "router.h"

#define BJ_NO_TIME	(-(1LL << 62))	/* a relative time whose column is NULL */

/* A job with what the pages show beyond the model: times relative to now. */
struct bj_page_job {
	struct bj_job	 job;
	long long	 created_ago, started_ago, finished_ago;	/* seconds */
	long long	 deadline_ago, expires_ago;		/* negative: ahead */
	long long	 run_seconds;		/* started → finished or now */
	long long	 now;	/* by the database's clock, seconds since the epoch */
	/* the status page only: claims whose lease ran out and the latest of those */
	long long	 lapsed, lapsed_until;	/* times: seconds since the epoch */
};

/*
 * Choose the language of this reply: the reader's Accept-Language among
 * the catalogs, else job_lang (a job's language, may be NULL), else
 * [http] default_language. Call before building any text.
 */
void bj_page_lang(struct bj_req *req, const char *job_lang);
/* The signed-in user, or NULL when nobody is. */
const char *bj_page_user(struct bj_req *req);
/* 1 when somebody is signed in; else 0 after sending the 401 page (every page asks first). */
int bj_page_signed_in(struct bj_req *req);
/* A new document with the site's style sheet. */
struct bj_html *bj_page_new(const char *title);
/* Send a page with the security headers; frees h. */
void bj_page_reply(struct bj_req *req, int status, struct bj_html *h);
/*
 * Conditional GET of a page made of key (what of it a version does not
 * cover), to which the language, the signed-in user and the site's
 * settings are added: 1 after a 304. Frees key's data. Call once the
 * reader's right to see what the page shows has been checked.
 */
int bj_page_etag(struct bj_req *req, struct bj_buf *key, int poll_interval);
/* A short error page; reveals nothing beyond title and message. */
void bj_page_error(struct bj_req *req, int status, const char *title, const char *message);
/* The 503 page of a database that does not answer. */
void bj_page_unavailable(struct bj_req *req);

/* A POST form to url carrying the CSRF field csrf, with one button; the form (to add fields to). */
struct bj_html_el *bj_page_form(struct bj_html_el *parent, const char *url, const char *label,
    const char *csrf);
/*
 * 1 when the posted form's "csrf" field is the signed-in user's for
 * subject (a job's token, or what a console form is bound to) and the post
 * is not cross-site; else 0 after sending the 403 page with message, or
 * the 503 one when the key cannot be read.
 */
int bj_page_csrf_ok(struct bj_req *req, const char *subject, const char *message);
/* After a form post: 303 to loc, which a reload does not post again. */
void bj_page_see_other(struct bj_req *req, const char *loc);

/* Fill pj from a row of the page job columns. */
void bj_page_job_from_row(const struct bj_rows *r, int row, struct bj_page_job *pj);
/* Free pj's strings (for one on the stack); bj_page_job_free() also frees pj. */
void bj_page_job_clear(struct bj_page_job *pj);
void bj_page_job_free(struct bj_page_job *pj);
/*
 * The job of req->args[0] if this request may see it; otherwise an error
 * page (404 for unknown or foreign, 401 when sign-in is required) has been
 * sent and NULL is returned.
 */
struct bj_page_job *bj_page_job_load(struct bj_req *req);

/* State in words, e.g. "Running". */
const char *bj_page_state_words(enum bj_job_state s);
/* "3 minutes ago" / "in 2 hours" for seconds ago (negative: in the future). */
void bj_page_relative(long long ago, char *out, size_t n);

#endif
