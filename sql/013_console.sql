-- 013_console.sql: what the operators' console (/admin) reads, so that its
-- overview costs what the active work costs, not what history holds
-- (docs/design.md §12).

-- Completions per minute and each worker's last hour: the items that
-- ended in the last hour, a range of this index, never older rows. state
-- makes the per-minute count a read of the index alone.
CREATE INDEX IF NOT EXISTS ix_items_finished ON items (finished_at, state);

-- A worker's last heartbeat, set by the heartbeat's own UPDATE.
ALTER TABLE items ADD COLUMN IF NOT EXISTS heartbeat_at DATETIME(6) NULL;

-- Who held the attempt that failed (items.claimed_by is cleared by the
-- retry), and the last hour's failures by a range of failed_at.
ALTER TABLE item_failures ADD COLUMN IF NOT EXISTS worker VARCHAR(255) NULL;
CREATE INDEX IF NOT EXISTS ix_item_failures_at ON item_failures (failed_at);

-- One row per reaper run: when, how long, whether it got the lock, and
-- what each step did. Purged with the rest of the old rows.
CREATE TABLE IF NOT EXISTS reaper_runs (
  id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  started_at     DATETIME(6) NOT NULL,
  seconds        DOUBLE NOT NULL,
  outcome        ENUM('done','busy','failed') NOT NULL,
  host           VARCHAR(255) NOT NULL,
  requeued       BIGINT NOT NULL DEFAULT 0,
  items_failed   BIGINT NOT NULL DEFAULT 0,
  finished       BIGINT NOT NULL DEFAULT 0,
  expired        BIGINT NOT NULL DEFAULT 0,
  artifacts      BIGINT NOT NULL DEFAULT 0,
  purged         BIGINT NOT NULL DEFAULT 0,
  repairs        BIGINT NOT NULL DEFAULT 0,
  notifications  BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (id),
  KEY ix_reaper_runs_started (started_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
