-- 009_retry_safe.sql: worker calls that are safe to retry after a lost
-- answer (docs/design.md §4).

-- A claim sent with an Idempotency-Key: the key (SHA-256 of the worker
-- and the key) is inserted in the claim's transaction, so a retry waits
-- for the first to commit and then finds the items it handed out, as
-- [[id, "token"], ...]. The reaper deletes keys older than the longest
-- lease.
CREATE TABLE IF NOT EXISTS claim_keys (
  key_hash    CHAR(64) CHARACTER SET ascii NOT NULL,
  pairs       LONGTEXT NOT NULL,
  created_at  DATETIME(6) NOT NULL,
  PRIMARY KEY (key_hash),
  -- reaper: keys past the longest lease
  KEY ix_claim_keys_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The lease a failure was reported under (NULL when the reaper ended an
-- expired lease): a /fail retried after its answer was lost is told it
-- already counted.
ALTER TABLE item_failures
  ADD COLUMN lease_token CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL;
