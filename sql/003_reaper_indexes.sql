-- 003_reaper_indexes.sql: indexes that keep an idle reaper run cheap.

-- reaper step 5: artifacts past their expiry that are not deleted yet; the
-- range stays small because deleted artifacts leave it (the plain
-- ix_jobs_artifact_expiry would keep every deleted one in the range)
CREATE INDEX ix_jobs_artifact_due ON jobs (artifact_deleted_at, artifact_expires_at);

-- reaper step 6 and bulkjobsctl doctor: the jobs that still have pending or
-- claimed items, read as a loose index scan (one probe per job, not per item)
CREATE INDEX ix_items_state_job ON items (state, job_id);
