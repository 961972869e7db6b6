/* api_health.c: GET /healthz, 200 when the database answers, 503 otherwise. */
#include "config.h"

#include "db.h"
#include "migrate.h"
#include "router.h"
#include "sql.h"

void
bj_api_healthz(struct bj_req *req)
{
	struct json_object *o;
	struct bj_db *db = req->app->db;
	int version, pending;

	if (bj_db_ping(db) == -1) {
		bj_reply_error(req, BJ_ERR_DB_UNAVAILABLE, "the database does not answer: %s",
		    bj_db_error(db));
		return;
	}
	version = bj_migrate_current(db, req->app->conf->db_name);
	if (version == -1) {
		bj_reply_error(req, BJ_ERR_DB_UNAVAILABLE, "the database does not answer: %s",
		    bj_db_error(db));
		return;
	}
	/* a lower-numbered migration can be pending below the highest applied one */
	if ((pending = bj_migrate_pending(db, req->app->conf->db_name)) == -1) {
		bj_reply_error(req, BJ_ERR_DB_UNAVAILABLE, "the database does not answer: %s",
		    bj_db_error(db));
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(
	    pending == 0 && version <= bj_migrate_latest() ? "ok" : "schema_mismatch"));
	json_object_object_add(o, "database", json_object_new_string("ok"));
	json_object_object_add(o, "schema_version", json_object_new_int(version));
	json_object_object_add(o, "schema_expected", json_object_new_int(bj_migrate_latest()));
	json_object_object_add(o, "migrations_pending", json_object_new_int(pending));
	bj_reply_json(req, pending == 0 && version <= bj_migrate_latest() ? 200 : 503, o);
	json_object_put(o);
}
