/* auth.c: Bearer tokens, their scopes and owners (see auth.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "buf.h"
#include "job.h"
#include "sql.h"
#include "token.h"

unsigned
bj_auth_scopes(const char *set)
{
	unsigned s = 0;
	const char *p = set;

	while (p != NULL && *p) {
		size_t n = strcspn(p, ",");
		if (n == 6 && strncmp(p, "submit", 6) == 0)
			s |= BJ_SCOPE_SUBMIT;
		else if (n == 4 && strncmp(p, "work", 4) == 0)
			s |= BJ_SCOPE_WORK;
		else if (n == 5 && strncmp(p, "admin", 5) == 0)
			s |= BJ_SCOPE_ADMIN;
		p += n;
		if (*p == ',')
			p++;
	}
	return s;
}

int
bj_auth(struct bj_req *req, unsigned any_of)
{
	const char *h = bj_req_header(req, "HTTP_AUTHORIZATION");
	char hash[BJ_SHA256_HEX];
	struct bj_db *db = req->app->db;
	struct bj_rows *r;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
		bj_reply_error(req, BJ_ERR_UNAUTHORIZED,
		    "send Authorization: Bearer with an API token");
		return -1;
	}
	h += 7;
	while (*h == ' ')
		h++;
	if (*h == '\0' || strlen(h) > 200) {
		bj_reply_error(req, BJ_ERR_UNAUTHORIZED, "the API token is not valid");
		return -1;
	}
	bj_sha256_hex(h, strlen(h), hash);
	if ((r = bj_db_query(db, BJ_SQL_TOKEN_LOOKUP, "s", hash)) == NULL) {
		bj_reply_error(req, bj_job_db_error(db), "the database is not available");
		return -1;
	}
	if (r->nrows == 0) {
		bj_rows_free(r);
		bj_reply_error(req, BJ_ERR_UNAUTHORIZED, "the API token is not valid");
		return -1;
	}
	req->token_id = bj_rows_int(r, 0, 0);
	free(req->token_name);
	free(req->token_owner);
	req->token_name = bj_xstrdup(bj_rows_get(r, 0, 1));
	req->scopes = bj_auth_scopes(bj_rows_get(r, 0, 2));
	req->token_owner = bj_xstrdup(bj_rows_get(r, 0, 3));
	bj_rows_free(r);
	/* best effort: last use is informational */
	(void)bj_db_exec(db, BJ_SQL_TOKEN_TOUCH, NULL, "i", req->token_id);
	if ((req->scopes & (any_of | BJ_SCOPE_ADMIN)) == 0) {
		bj_reply_error(req, BJ_ERR_FORBIDDEN, "the API token lacks the %s scope",
		    (any_of & BJ_SCOPE_WORK) ? "work" : "submit");
		return -1;
	}
	return 0;
}

int
bj_auth_sees(const struct bj_req *req, const char *owner)
{
	if (req->scopes & BJ_SCOPE_ADMIN)
		return 1;
	return owner != NULL && req->token_owner != NULL &&
	    strcmp(owner, req->token_owner) == 0;
}
