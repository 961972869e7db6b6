-- 014_redeliver.sql: "deliver again" (the operators' console) gives a dead
-- notification a fresh budget without renumbering its attempts, so the
-- attempts made before keep their rows in notification_attempts.

-- the attempts a notification had made when it was last delivered again:
-- it may make [notify] max_attempts more, and its back-off starts over
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS attempt_base INT UNSIGNED NOT NULL DEFAULT 0 AFTER attempts;
