/* sql.c: SQL texts for health, migrations and tokens (see sql.h). */
#include "config.h"

#include "sql.h"

const char BJ_SQL_MIGRATIONS_MAX[] =
    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";

const char BJ_SQL_MIGRATIONS_TABLE_EXISTS[] =
    "SELECT COUNT(*) FROM information_schema.tables"
    " WHERE table_schema = ? AND table_name = 'schema_migrations'";

const char BJ_SQL_MIGRATION_RECORD[] =
    "INSERT INTO schema_migrations (version, name, applied_at)"
    " VALUES (?, ?, NOW(6))";

const char BJ_SQL_MIGRATION_APPLIED[] =
    "SELECT COUNT(*) FROM schema_migrations WHERE version = ?";

const char BJ_SQL_GET_LOCK[] = "SELECT GET_LOCK(?, ?)";
const char BJ_SQL_RELEASE_LOCK[] = "SELECT RELEASE_LOCK(?)";
const char BJ_SQL_IS_LOCK_MINE[] =
    "SELECT COALESCE(IS_USED_LOCK(?) = CONNECTION_ID(), 0)";

/* Galera: is this server a node, and is it ready for clients (db.c) */
const char BJ_SQL_WSREP_ON[] = "SELECT @@global.wsrep_on";
const char BJ_SQL_WSREP_STATE[] =
    "SELECT UPPER(VARIABLE_NAME), VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS"
    " WHERE VARIABLE_NAME IN ('wsrep_ready', 'wsrep_local_state_comment')";
/* followed by the number: the session's wsrep_sync_wait (0: off) */
const char BJ_SQL_SYNC_WAIT_SET[] = "SET SESSION wsrep_sync_wait = ";

/* the cluster-wide reaper lock: a lease row that certification protects */
const char BJ_SQL_LEASE_LOCK_TAKE[] =
    "INSERT INTO reaper_lock (name, holder, expires_at)"
    " VALUES (?, ?, NOW(6) + INTERVAL ? SECOND)"
    " ON DUPLICATE KEY UPDATE"
    " holder = IF(expires_at < NOW(6) OR holder = VALUES(holder), VALUES(holder), holder),"
    " expires_at = IF(holder = VALUES(holder), VALUES(expires_at), expires_at)";
const char BJ_SQL_LEASE_LOCK_HOLDER[] = "SELECT holder FROM reaper_lock WHERE name = ?";
const char BJ_SQL_LEASE_LOCK_RENEW[] =
    "UPDATE reaper_lock SET expires_at = NOW(6) + INTERVAL ? SECOND"
    " WHERE name = ? AND holder = ? AND expires_at >= NOW(6)";
const char BJ_SQL_LEASE_LOCK_RELEASE[] =
    "DELETE FROM reaper_lock WHERE name = ? AND holder = ?";

const char BJ_SQL_TOKEN_INSERT[] =
    "INSERT INTO api_tokens (name, token_hash, scopes, owner, created_at)"
    " VALUES (?, ?, ?, ?, NOW(6))";

const char BJ_SQL_TOKEN_LIST[] =
    "SELECT name, scopes, COALESCE(owner, name),"
    " DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ'),"
    " DATE_FORMAT(last_used_at, '%Y-%m-%dT%H:%i:%sZ'),"
    " DATE_FORMAT(revoked_at, '%Y-%m-%dT%H:%i:%sZ')"
    " FROM api_tokens ORDER BY name";

const char BJ_SQL_TOKEN_REVOKE[] =
    "UPDATE api_tokens SET revoked_at = NOW(6)"
    " WHERE name = ? AND revoked_at IS NULL";

const char BJ_SQL_TOKEN_LOOKUP[] =
    "SELECT id, name, scopes, COALESCE(owner, name) FROM api_tokens"
    " WHERE token_hash = ? AND revoked_at IS NULL";

const char BJ_SQL_TOKEN_TOUCH[] =
    "UPDATE api_tokens SET last_used_at = NOW(6)"
    " WHERE id = ? AND (last_used_at IS NULL OR last_used_at < NOW(6) - INTERVAL 60 SECOND)";
