-- 011_cluster.sql: one reaper at a time across a Galera cluster
-- (docs/cluster.md).

-- GET_LOCK is local to the node that grants it, so reapers pointed at two
-- nodes would both hold it. With [reaper] lock = table a reaper takes this
-- row instead, with a conditional upsert in a transaction of its own: on
-- one server the row lock decides, across nodes certification lets only
-- one of two concurrent takers commit. The holder renews expires_at while
-- it sweeps and deletes the row at the end; a holder that died loses it
-- when expires_at passes.
CREATE TABLE IF NOT EXISTS reaper_lock (
  name        VARCHAR(64) CHARACTER SET ascii NOT NULL,
  holder      VARCHAR(255) NOT NULL,
  expires_at  DATETIME(6) NOT NULL,
  PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
