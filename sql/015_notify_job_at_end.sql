-- 015_notify_job_at_end.sql: a notification describes the job as it
-- ended, even when it is delivered after the job was retried (a retry
-- moves the job's state and counters on at once; the notifier may run a
-- minute later, or days later after "deliver again").

-- The job's state, stage, counters, finished_at and artifact_expires_at
-- when the event was recorded, as a JSON object written by the statement
-- that records the event. NULL for rows recorded before this migration:
-- those describe the job as it is at delivery.
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS job_at_end TEXT NULL AFTER round;
