-- 001_initial.sql: the bulkjobs schema (docs/design.md §3).
--
-- Conventions: InnoDB, utf8mb4, DATETIME(6) in UTC written from NOW(6) only.
-- No foreign keys: the reaper purges children in bounded batches, which a
-- cascading delete would not allow. Each index says which query it serves.
-- Statements are separated by a ';' at the end of a line.

CREATE TABLE IF NOT EXISTS jobs (
  id                  BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  token               CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  kind                VARCHAR(64) NOT NULL,
  owner               VARCHAR(191) NOT NULL,
  title               VARCHAR(500) NOT NULL DEFAULT '',
  params              LONGTEXT NULL,
  state               ENUM('queued','running','paused','succeeded','failed','cancelled','expired')
                        NOT NULL DEFAULT 'queued',
  stage               INT UNSIGNED NOT NULL DEFAULT 0,     -- the open stage
  stage_count         INT UNSIGNED NOT NULL DEFAULT 1,     -- distinct stages
  stage_remaining     INT UNSIGNED NOT NULL DEFAULT 0,     -- items of the open stage not ended
  n_total             INT UNSIGNED NOT NULL DEFAULT 0,
  n_pending           INT UNSIGNED NOT NULL DEFAULT 0,
  n_claimed           INT UNSIGNED NOT NULL DEFAULT 0,
  n_succeeded         INT UNSIGNED NOT NULL DEFAULT 0,
  n_failed            INT UNSIGNED NOT NULL DEFAULT 0,
  n_cancelled         INT UNSIGNED NOT NULL DEFAULT 0,
  created_at          DATETIME(6) NOT NULL,
  updated_at          DATETIME(6) NOT NULL,
  started_at          DATETIME(6) NULL,
  finished_at         DATETIME(6) NULL,
  deadline_at         DATETIME(6) NOT NULL,
  artifact            VARCHAR(1024) NULL,
  artifact_expires_at DATETIME(6) NULL,
  artifact_deleted_at DATETIME(6) NULL,
  retention_seconds   INT UNSIGNED NOT NULL,
  idempotency_key     VARCHAR(255) NULL,
  request_hash        CHAR(64) CHARACTER SET ascii NULL,  -- SHA-256 of the create body
  max_attempts        INT UNSIGNED NOT NULL,
  lease_seconds       INT UNSIGNED NOT NULL,
  on_item_failure     ENUM('fail_job','continue') NOT NULL DEFAULT 'fail_job',
  language            VARCHAR(35) NOT NULL DEFAULT 'en',
  PRIMARY KEY (id),
  -- GET /jobs/{token} and its download and form posts
  UNIQUE KEY uq_jobs_token (token),
  -- Idempotency-Key lookups on POST /v1/jobs (NULL keys do not collide)
  UNIQUE KEY uq_jobs_owner_idem (owner, idempotency_key),
  -- GET /v1/jobs?owner= and the /jobs page, keyset on id
  KEY ix_jobs_owner (owner, id),
  -- GET /v1/jobs?state=, and the claim's scan for active jobs of given kinds
  KEY ix_jobs_state_kind (state, kind, id),
  -- GET /v1/jobs?kind=
  KEY ix_jobs_kind (kind, id),
  -- reaper: non-terminal jobs past their deadline
  KEY ix_jobs_deadline (state, deadline_at),
  -- reaper: artifacts past their expiry
  KEY ix_jobs_artifact_expiry (artifact_expires_at),
  -- reaper: finished jobs older than the purge age
  KEY ix_jobs_finished (finished_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS items (
  id                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  job_id            BIGINT UNSIGNED NOT NULL,
  stage             INT UNSIGNED NOT NULL DEFAULT 0,
  `key`             VARCHAR(255) NOT NULL,
  payload           LONGTEXT NULL,
  state             ENUM('pending','claimed','succeeded','failed','cancelled') NOT NULL DEFAULT 'pending',
  attempt           INT UNSIGNED NOT NULL DEFAULT 0,
  lease_token       CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
  lease_expires_at  DATETIME(6) NULL,
  claimed_by        VARCHAR(255) NULL,
  claimed_at        DATETIME(6) NULL,
  run_after         DATETIME(6) NOT NULL,
  progress_done     BIGINT NULL,
  progress_total    BIGINT NULL,
  result            LONGTEXT NULL,
  artifact          VARCHAR(1024) NULL,
  error             TEXT NULL,
  finished_at       DATETIME(6) NULL,
  PRIMARY KEY (id),
  -- POST /v1/claims: pending items of one job's open stage that are due,
  -- in run_after order; also counts what is left of a stage
  KEY ix_items_claim (job_id, state, stage, run_after),
  -- GET /v1/jobs/{id}/items?state= keyset on id; count repair by state
  KEY ix_items_job_state (job_id, state, id),
  -- reaper: claims whose lease has expired
  KEY ix_items_lease (state, lease_expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS item_failures (
  id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  item_id    BIGINT UNSIGNED NOT NULL,
  job_id     BIGINT UNSIGNED NOT NULL,
  attempt    INT UNSIGNED NOT NULL,
  error      TEXT NULL,
  failed_at  DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  -- one record per failed attempt: recorded with an upsert, so twice is harmless
  UNIQUE KEY uq_item_failures (item_id, attempt),
  -- the status page's failures and purge by job
  KEY ix_item_failures_job (job_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Where a job's notifications go, recorded with the job.
CREATE TABLE IF NOT EXISTS job_targets (
  job_id       BIGINT UNSIGNED NOT NULL,
  channel      ENUM('email','webhook') NOT NULL,
  target_hash  CHAR(64) CHARACTER SET ascii NOT NULL,  -- SHA-256 of target
  target       VARCHAR(2048) NOT NULL,
  PRIMARY KEY (job_id, channel, target_hash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS notifications (
  id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  job_id           BIGINT UNSIGNED NOT NULL,
  event            ENUM('job.succeeded','job.failed','job.cancelled','job.expired') NOT NULL,
  channel          ENUM('email','webhook') NOT NULL,
  target_hash      CHAR(64) CHARACTER SET ascii NOT NULL,
  target           VARCHAR(2048) NOT NULL,
  state            ENUM('pending','sent','dead') NOT NULL DEFAULT 'pending',
  attempts         INT UNSIGNED NOT NULL DEFAULT 0,
  next_attempt_at  DATETIME(6) NOT NULL,
  last_status      INT NULL,
  last_error       TEXT NULL,
  created_at       DATETIME(6) NOT NULL,
  sent_at          DATETIME(6) NULL,
  PRIMARY KEY (id),
  -- one notification per job, event, channel and target, whoever records it
  UNIQUE KEY uq_notifications (job_id, event, channel, target_hash),
  -- the notifier: due pending rows
  KEY ix_notifications_due (state, next_attempt_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS notification_attempts (
  id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  notification_id  BIGINT UNSIGNED NOT NULL,
  attempt          INT UNSIGNED NOT NULL,
  at               DATETIME(6) NOT NULL,
  status           INT NULL,           -- HTTP status, SMTP code or exit status
  error            TEXT NULL,
  PRIMARY KEY (id),
  -- a notification's history on the job's JSON and page
  UNIQUE KEY uq_notification_attempts (notification_id, attempt)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS job_events (
  id       BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  job_id   BIGINT UNSIGNED NOT NULL,
  at       DATETIME(6) NOT NULL,
  type     VARCHAR(32) NOT NULL,
  detail   TEXT NULL,
  PRIMARY KEY (id),
  -- GET /v1/jobs/{id}/events and the page's timeline
  KEY ix_job_events_job (job_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS api_tokens (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  name          VARCHAR(100) NOT NULL,
  token_hash    CHAR(64) CHARACTER SET ascii NOT NULL,   -- SHA-256 hex of the token
  scopes        SET('submit','work','admin') NOT NULL,
  owner         VARCHAR(191) NULL,   -- jobs a submit token may see; NULL: the name
  created_at    DATETIME(6) NOT NULL,
  revoked_at    DATETIME(6) NULL,
  last_used_at  DATETIME(6) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_api_tokens_name (name),
  -- every authenticated request
  UNIQUE KEY uq_api_tokens_hash (token_hash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
