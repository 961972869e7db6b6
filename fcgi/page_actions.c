/*
 * page_actions.c: POST /jobs/{token}/cancel, /pause, /resume and /retry,
 * the status page's buttons. Each form carries field "csrf" (csrf.h), bound
 * to the job and the signed-in user; without the right one the post is 403
 * and nothing changes. A state the action does not apply to is 409. After
 * the change the browser is sent back to the page (303).
 *
 * The changes go through the model (bj_job_finish, bj_job_pause,
 * bj_job_resume, bj_job_retry_round), exactly as the API's. The retry
 * form names the round it was shown for (field "round"): the same form
 * posted again once that round was retried changes nothing and sends the
 * browser to the page as the first post did.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "pages.h"
#include "sql.h"

/* The retry form's round (the one the page showed failing): 1..INT_MAX, 0 when absent, -1 when malformed. */
static int
form_round(const char *v)
{
	char *end;
	long long n;

	if (v == NULL)
		return 0;
	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtoll(v, &end, 10);
	return *end != '\0' || errno != 0 || n < 1 || n > INT_MAX ? -1 : (int)n;
}

/* Check the form, change the state, send the browser back to the page. */
static void
post(struct bj_req *req, enum bj_job_change act)
{
	struct bj_db *db = req->app->db;
	struct bj_page_job *pj = NULL;
	char *detail = NULL, *loc = NULL, *round = NULL;
	enum bj_err err;
	int r;

	bj_page_lang(req, NULL);
	if (!bj_page_signed_in(req))
		return;
	if ((err = bj_req_read_body(req, 8192)) == BJ_ERR_TOO_LARGE) {
		bj_page_error(req, 413, _("Too large"),
		    _("The form is far larger than the job's page sends."));
		return;
	}
	if (err != BJ_OK) {
		bj_page_error(req, 400, _("Bad request"), _("The form could not be read."));
		return;
	}
	if ((pj = bj_page_job_load(req)) == NULL)
		return;
	if (!bj_page_csrf_ok(req, pj->job.token,
	    _("This form did not come from the job's page, or the page is too old. "
	    "Open the job's page again and use its buttons.")))
		goto out;
	round = bj_form_get(req->body, "round");
	/* a round above the job's is no form its page made */
	if ((r = form_round(round)) == -1 || r > pj->job.round) {
		bj_page_error(req, 400, _("Bad request"), _("The form could not be read."));
		goto out;
	}
	detail = bj_xasprintf("from the status page, by %s", bj_page_user(req));
	err = bj_job_change_round(db, pj->job.id, act, r, detail);
	if (err == BJ_ERR_INVALID_TRANSITION) {
		bj_page_error(req, 409, _("Not possible now"), act == BJ_CHANGE_RESUME ?
		    _("Only a paused job can be resumed.") : act == BJ_CHANGE_PAUSE ?
		    _("Only a queued or running job can be paused.") : act == BJ_CHANGE_RETRY ?
		    _("Only a failed job can be retried.") :
		    _("This job has already ended."));
		goto out;
	}
	if (err == BJ_ERR_FILES_REMOVED) {
		bj_page_error(req, 409, _("Not possible now"),
		    _("This job's files were removed when its retention ended: it cannot be "
		    "retried. Submit it again instead."));
		goto out;
	}
	if (err != BJ_OK) {
		bj_log_err("job %lld: page action failed: %s", pj->job.id, bj_db_error(db));
		bj_page_error(req, 503, _("Temporarily unavailable"),
		    _("The change could not be saved. Please try again in a moment."));
		goto out;
	}
	loc = bj_xasprintf("%s/jobs/%s", req->app->conf->base_path, pj->job.token);
	bj_page_see_other(req, loc);
out:
	free(round);
	free(detail);
	free(loc);
	bj_page_job_free(pj);
}

/* POST /jobs/{token}/cancel */
void
bj_page_cancel(struct bj_req *req)
{
	post(req, BJ_CHANGE_CANCEL);
}

/* POST /jobs/{token}/pause */
void
bj_page_pause(struct bj_req *req)
{
	post(req, BJ_CHANGE_PAUSE);
}

/* POST /jobs/{token}/resume */
void
bj_page_resume(struct bj_req *req)
{
	post(req, BJ_CHANGE_RESUME);
}

/* POST /jobs/{token}/retry */
void
bj_page_retry(struct bj_req *req)
{
	post(req, BJ_CHANGE_RETRY);
}
