/*
 * tally.c: the record of what the open transaction ended, kept until it
 * commits or rolls back (tally.h). Kinds are copied: the rows they come
 * from are freed before the commit.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tally.h"

struct entry {
	struct bj_tally	 t;
	char		 kind[65];	/* jobs.kind is VARCHAR(64) */
};

static void (*tally_sink)(const struct bj_tally *);
static struct entry *pending;
static size_t npending, cap;

void
bj_tally_set_sink(void (*sink)(const struct bj_tally *))
{
	tally_sink = sink;
	bj_tally_forget();
}

/* Append t, its kind copied. */
static void
record(const struct bj_tally *t)
{
	struct entry *e;

	if (tally_sink == NULL)
		return;
	if (npending == cap) {
		cap = cap ? cap * 2 : 64;
		pending = bj_xrealloc(pending, cap * sizeof *pending);
	}
	e = &pending[npending++];
	e->t = *t;
	snprintf(e->kind, sizeof e->kind, "%s", t->kind ? t->kind : "");
	e->t.kind = e->kind;
}

void
bj_tally_item(const char *kind, enum bj_tally_result result, double seconds)
{
	struct bj_tally t = { kind, 0, result, BJ_JOB_SUCCEEDED, seconds };

	record(&t);
}

void
bj_tally_job(const char *kind, enum bj_job_state outcome)
{
	struct bj_tally t = { kind, 1, BJ_TALLY_SUCCEEDED, outcome, -1 };

	record(&t);
}

void
bj_tally_forget(void)
{
	npending = 0;
	if (cap > 1024) {	/* a big batch does not keep its memory */
		free(pending);
		pending = NULL;
		cap = 0;
	}
}

void
bj_tally_commit(void)
{
	for (size_t i = 0; tally_sink != NULL && i < npending; i++)
		tally_sink(&pending[i].t);
	bj_tally_forget();
}
