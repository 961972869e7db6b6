-- 006_pages_secret.sql: the server secret of the status pages' form tokens.
--
-- Used only when [http] secret is empty: the first bulkjobs-fcgi process
-- that needs it inserts a random one (INSERT IGNORE on id 1), and every
-- process of every host then reads the same row, so a form rendered by one
-- process is accepted by another.

CREATE TABLE IF NOT EXISTS http_secrets (
  id          TINYINT UNSIGNED NOT NULL,
  secret      VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at  DATETIME(6) NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
