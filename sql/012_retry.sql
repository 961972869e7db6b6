-- 012_retry.sql: a failed job retried (POST /v1/jobs/{id}/retry, the
-- status page's button, bulkjobsctl retry; docs/design.md §2, "Rounds").
--
-- A retry puts the job's failed items (and those its failure cancelled)
-- back to pending and starts a new round of the job. Within a round the
-- outbox stays one row per job x event x target; the next round's end
-- notifies once more.

-- 1 for the first run of a job, one more for each retry
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS round INT UNSIGNED NOT NULL DEFAULT 1;

-- the attempt an item had reached when its job was last retried: the
-- item has max_attempts attempts after it. Attempts keep counting up, so
-- every failure record (unique item_id, attempt) stays its own.
ALTER TABLE items ADD COLUMN IF NOT EXISTS attempt_base INT UNSIGNED NOT NULL DEFAULT 0;

-- the round whose end recorded the notification; one per job, round,
-- event, channel and target, whoever records it (one statement: it
-- happens whole or not at all, so a migration cut short and run again
-- finds it either done or not begun)
ALTER TABLE notifications
  ADD COLUMN round INT UNSIGNED NOT NULL DEFAULT 1 AFTER job_id,
  DROP INDEX uq_notifications,
  ADD UNIQUE KEY uq_notifications (job_id, round, event, channel, target_hash);
