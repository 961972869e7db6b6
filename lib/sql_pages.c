/*
 * sql_pages.c: the queries of the end-user pages (status page, list,
 * download, form posts) and of their CSRF secret. Declared in sql.h.
 */
#include "config.h"

#include "sql.h"

#define T(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"

/*
 * The columns of a job as the pages read it (page_status.c,
 * bj_page_job_from_row), ending with the time now. The times come as they
 * are stored (UTC, the session's zone): the reader writes them out and
 * counts how long ago they were, which costs the server a third of the
 * read when it formats them itself.
 */
#define PAGE_JOB_COLS \
    "id, token, kind, owner, title, state, stage, stage_count," \
    " n_total, n_pending, n_claimed, n_succeeded, n_failed, n_cancelled," \
    " created_at, started_at, finished_at, deadline_at, artifact, artifact_expires_at," \
    " artifact_deleted_at IS NOT NULL, language, priority, COALESCE(max_concurrency, 0)," \
    " version, updated_at, round, NOW(6)"

const char BJ_SQL_PAGES_JOB_BY_TOKEN[] =
    "SELECT " PAGE_JOB_COLS " FROM jobs WHERE token = ?";

/*
 * A job's claims whose lease ran out before a time (seconds since the
 * epoch) and that the reaper has not taken back yet: how many, and the
 * latest of those leases. Read through ix_items_job_state (the job's
 * claims) or ix_items_lease (every lease that ran out), the fewer.
 */
const char BJ_SQL_PAGES_LAPSED[] =
    "SELECT COUNT(*), UNIX_TIMESTAMP(MAX(lease_expires_at)) FROM items"
    " WHERE job_id = ? AND state = 'claimed' AND lease_expires_at < FROM_UNIXTIME(?)";

const char BJ_SQL_PAGES_LIST[] =
    "SELECT " PAGE_JOB_COLS " FROM jobs WHERE owner = ? AND id < ?"
    " ORDER BY id DESC LIMIT ?";

/*
 * Where the open stage of a multi-stage job stands: how many distinct
 * stages come before it (a loose index scan of ix_items_job_stage, one
 * probe per stage), its first item's key, and its second item's id (NULL
 * when it has one item). None reads a job's items one by one.
 */
const char BJ_SQL_PAGES_STAGE[] =
    "SELECT (SELECT COUNT(DISTINCT job_id, stage) FROM items WHERE job_id = ? AND stage < ?),"
    " (SELECT `key` FROM items WHERE job_id = ? AND stage = ? ORDER BY id LIMIT 1),"
    " (SELECT id FROM items WHERE job_id = ? AND stage = ? ORDER BY id LIMIT 1 OFFSET 1)";

/*
 * The status page's lists, each bounded and read through its job index.
 * Columns: part, order, then the part's own; pad adds the NULL columns a
 * part needs inside BJ_SQL_PAGES_DETAILS. Part 1: failed attempts (key,
 * attempt, error, at), the latest. Part 3: the timeline (at, type,
 * detail), the latest.
 */
#define FAILED_SELECT(pad) \
    "SELECT 1, -f.id, i.`key`, f.attempt, f.error, " T("f.failed_at") pad \
    " FROM item_failures f JOIN items i ON i.id = f.item_id" \
    " WHERE f.job_id = ? ORDER BY f.id DESC LIMIT ?"
#define TIMELINE_SELECT(pad) \
    "SELECT 3, -id, " T("at") ", type, detail" pad " FROM job_events" \
    " WHERE job_id = ? ORDER BY id DESC LIMIT ?"

/*
 * The three lists of an ended job in one round trip: failures, part 2 the
 * notifications (channel, target, state, attempts, last error), the
 * first, and the timeline. A UNION has no order of its own, and sorting
 * it here costs a temporary table: the reader sorts the few rows by
 * (part, order).
 */
const char BJ_SQL_PAGES_DETAILS[] =
    "(" FAILED_SELECT(", NULL") ")"
    " UNION ALL"
    " (SELECT 2, id, channel, target, state, attempts, last_error FROM notifications"
    "  WHERE job_id = ? ORDER BY id LIMIT ?)"
    " UNION ALL"
    " (" TIMELINE_SELECT(", NULL, NULL") ")";

const char BJ_SQL_PAGES_SECRET_GET[] =
    "SELECT secret FROM http_secrets WHERE id = 1";

const char BJ_SQL_PAGES_SECRET_INSERT[] =
    "INSERT IGNORE INTO http_secrets (id, secret, created_at) VALUES (1, ?, NOW(6))";

/*
 * The status page of a job that has not ended needs no notifications (they
 * are inserted with the terminal state change) and, usually, no failures:
 * its timeline comes alone, newest first through ix_job_events_job. A
 * UNION of even two parts costs the server a temporary table: twice the
 * timeline on its own.
 */
const char BJ_SQL_PAGES_TIMELINE[] = TIMELINE_SELECT("");

/* Failed attempts alone. */
const char BJ_SQL_PAGES_FAILED[] = FAILED_SELECT("");
