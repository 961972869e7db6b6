/* sql.c: SQL texts for health, migrations and tokens (see sql.h). */
#include "config.h"

#include "sql.h"

const char BJ_SQL_PING[] = "SELECT 1";

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
