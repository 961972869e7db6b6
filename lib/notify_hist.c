/* notify_hist.c: loading a job's notification history (see notify_hist.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "notify_hist.h"
#include "sql.h"

/* A copy of a cell, or NULL for SQL NULL. */
static char *
dup_cell(const struct bj_rows *r, int row, int col)
{
	const char *s = bj_rows_get(r, row, col);

	return s ? bj_xstrdup(s) : NULL;
}

/* One query, folded into one entry per notification with its attempts. */
enum bj_err
bj_notify_hist_load(struct bj_db *db, long long job_id, struct bj_notify_hists **out)
{
	struct bj_rows *r;
	struct bj_notify_hists *h;

	*out = NULL;
	if ((r = bj_db_queryp(db, BJ_SQL_NOTIFY_HISTORY,
	    BJ_PARAMS(BJ_P_INT(job_id)))) == NULL)
		return BJ_ERR_DB_UNAVAILABLE;
	h = bj_xcalloc(1, sizeof *h);
	/* at most one entry per row: rows come ordered by notification, then attempt */
	h->items = bj_xcalloc((size_t)(r->nrows ? r->nrows : 1), sizeof *h->items);
	for (int i = 0; i < r->nrows; i++) {
		long long id = bj_rows_int(r, i, 0);
		struct bj_notify_hist *n;

		if (h->n == 0 || h->items[h->n - 1].id != id) {
			n = &h->items[h->n++];
			n->id = id;
			n->event = dup_cell(r, i, 1);
			n->channel = dup_cell(r, i, 2);
			n->target = dup_cell(r, i, 3);
			n->state = dup_cell(r, i, 4);
			n->attempts = (int)bj_rows_int(r, i, 5);
			n->next_attempt_at = dup_cell(r, i, 6);
			n->round = (int)bj_rows_int(r, i, 11);
		}
		n = &h->items[h->n - 1];
		if (bj_rows_get(r, i, 7) != NULL) {
			struct bj_notify_attempt *a;

			n->tries = bj_xreallocarray(n->tries, (size_t)n->n_tries + 1, sizeof *n->tries);
			a = &n->tries[n->n_tries++];
			a->attempt = (int)bj_rows_int(r, i, 7);
			a->at = dup_cell(r, i, 8);
			a->has_status = bj_rows_get(r, i, 9) != NULL;
			a->status = (int)bj_rows_int(r, i, 9);
			a->error = dup_cell(r, i, 10);
		}
	}
	bj_rows_free(r);
	*out = h;
	return BJ_OK;
}

/* Release a history; NULL is a no-op. */
void
bj_notify_hist_free(struct bj_notify_hists *h)
{
	if (h == NULL)
		return;
	for (int i = 0; i < h->n; i++) {
		struct bj_notify_hist *n = &h->items[i];

		for (int k = 0; k < n->n_tries; k++) {
			free(n->tries[k].at);
			free(n->tries[k].error);
		}
		free(n->tries);
		free(n->event);
		free(n->channel);
		free(n->target);
		free(n->state);
		free(n->next_attempt_at);
	}
	free(h->items);
	free(h);
}
