-- 010_etag.sql: a version per job for conditional GET (docs/design.md,
-- "Conditional GET").
--
-- Every statement that changes something a reader of the job can see (its
-- row, its items, timeline, failures, notifications) adds one to its
-- job's version in the same transaction. The ETags of the job's JSON, its
-- items, its timeline and its pages are hashed from it, so a poll that
-- finds nothing new is one read of the job by its key.
ALTER TABLE jobs ADD COLUMN version BIGINT UNSIGNED NOT NULL DEFAULT 0;
