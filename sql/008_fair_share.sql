-- 008_fair_share.sql: claims shared fairly across owners and jobs, job
-- priorities and concurrency limits (docs/design.md, "Fair claiming").
--
-- A claim queue is one (kind, owner): its pass is the virtual time the
-- owner has been served in that kind (each item claimed adds its cost,
-- 2^(5 - priority)); claims go to the active queue of least pass, then
-- to that queue's claimable job of least pass. A queue is active while
-- its owner may have claimable jobs of the kind: set by job creation and
-- resume, cleared by the claimer that finds none (under the queue's row
-- lock, so the two cannot cross).

-- priority: -5..5, 0 by default; max_concurrency: items claimed at once, NULL for no limit,
-- pass: the job's virtual time among its owner's jobs of its kind,
-- claimable: queued or running (a stored column, so that an index can lead with it)
ALTER TABLE jobs
  ADD COLUMN priority TINYINT NOT NULL DEFAULT 0,
  ADD COLUMN max_concurrency INT UNSIGNED NULL,
  ADD COLUMN pass BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN claimable TINYINT AS (state IN ('queued', 'running')) PERSISTENT;

-- the claim's pick of one owner's jobs: claimable ones of a kind in pass order
CREATE INDEX ix_jobs_claim ON jobs (kind, owner, claimable, pass, id);

-- a per-owner limit sums n_claimed over the owner's jobs that are not ended
CREATE INDEX ix_jobs_owner_state ON jobs (owner, state);

CREATE TABLE IF NOT EXISTS claim_queues (
  kind    VARCHAR(64) NOT NULL,
  owner   VARCHAR(191) NOT NULL,
  active  TINYINT NOT NULL DEFAULT 1,
  pass    BIGINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, owner),
  -- the claim's candidates: active queues of a kind in pass order
  KEY ix_claim_queues_pass (kind, active, pass)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- What claims that could not take a queue's row lock (every candidate
-- was held by another claimer) owe its pass: added here at the end of
-- their transaction, and folded into the pass by the next claim that
-- holds the queue, so that nobody waits on a queue's row for a whole
-- claim and the pass still counts every item.
CREATE TABLE IF NOT EXISTS claim_debts (
  kind    VARCHAR(64) NOT NULL,
  owner   VARCHAR(191) NOT NULL,
  debt    BIGINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, owner)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per limited scope (an owner, a kind): a claim under a per-owner
-- or per-kind limit locks its scope's row, so two claimers never both
-- count the same free places.
CREATE TABLE IF NOT EXISTS claim_limits (
  scope   ENUM('owner', 'kind') NOT NULL,
  name    VARCHAR(191) NOT NULL,
  PRIMARY KEY (scope, name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- the queues of the jobs already there
INSERT IGNORE INTO claim_queues (kind, owner, active, pass)
  SELECT DISTINCT kind, owner, 1, 0 FROM jobs WHERE state IN ('queued', 'running', 'paused');
