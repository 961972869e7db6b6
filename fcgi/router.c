/* router.c: the route table and the dispatch of one request. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "router.h"

static const struct bj_route routes[] = {
	{ "GET", "/healthz", bj_api_healthz },

	/* JSON API (api_*.c) */
	{ "POST", "/v1/jobs", bj_api_jobs_create },
	{ "GET", "/v1/jobs", bj_api_jobs_list },
	{ "GET", "/v1/jobs/{id}", bj_api_jobs_get },
	{ "GET", "/v1/jobs/{id}/items", bj_api_jobs_items },
	{ "GET", "/v1/jobs/{id}/events", bj_api_jobs_events },
	{ "POST", "/v1/jobs/{id}/cancel", bj_api_jobs_cancel },
	{ "POST", "/v1/jobs/{id}/pause", bj_api_jobs_pause },
	{ "POST", "/v1/jobs/{id}/resume", bj_api_jobs_resume },
	{ "POST", "/v1/jobs/{id}/retry", bj_api_jobs_retry },
	{ "POST", "/v1/claims", bj_api_claims },
	{ "POST", "/v1/items/{id}/heartbeat", bj_api_items_heartbeat },
	{ "POST", "/v1/items/{id}/complete", bj_api_items_complete },
	{ "POST", "/v1/items/{id}/fail", bj_api_items_fail },
	{ "POST", "/v1/items/complete", bj_api_items_complete_batch },
	{ "GET", "/metrics", bj_api_metrics },

	/* end-user pages (page_*.c) */
	{ "GET", "/jobs", bj_page_list },
	{ "GET", "/jobs/{token}", bj_page_status },
	{ "GET", "/jobs/{token}/download", bj_page_download },
	{ "POST", "/jobs/{token}/cancel", bj_page_cancel },
	{ "POST", "/jobs/{token}/pause", bj_page_pause },
	{ "POST", "/jobs/{token}/resume", bj_page_resume },
	{ "POST", "/jobs/{token}/retry", bj_page_retry },

	/* the operators' console (page_admin.c) */
	{ "GET", "/admin", bj_page_admin },
	{ "GET", "/admin/jobs", bj_page_admin_jobs },
	{ "GET", "/admin/workers", bj_page_admin_workers },
	{ "GET", "/admin/failures", bj_page_admin_failures },
	{ "GET", "/admin/notifications", bj_page_admin_notifications },
	{ "POST", "/admin/notifications/{id}/deliver", bj_page_admin_deliver },

};

#define NROUTES (sizeof routes / sizeof routes[0])

char *
bj_route_path(const char *request_uri, const char *script_name,
    const char *path_info, const char *base_path)
{
	char *path;
	size_t blen = strlen(base_path);

	if (request_uri != NULL && *request_uri) {
		path = bj_xstrndup(request_uri, strcspn(request_uri, "?#"));
	} else {
		path = bj_xasprintf("%s%s", script_name ? script_name : "",
		    path_info ? path_info : "");
	}
	if (blen > 0) {
		if (strncmp(path, base_path, blen) != 0 ||
		    (path[blen] != '/' && path[blen] != '\0')) {
			free(path);
			return NULL;	/* not under our mount point */
		}
		memmove(path, path + blen, strlen(path + blen) + 1);
	}
	if (path[0] == '\0') {
		free(path);
		path = bj_xstrdup("/");
	}
	return path;
}

/* Match one pattern; captures go to args (allocated) on success. */
static int
match(const char *pattern, const char *path, char **args)
{
	int n = 0;
	const char *p = pattern, *s = path;

	while (*p && *s) {
		if (*p == '{') {
			const char *pe = strchr(p, '}');
			size_t len = strcspn(s, "/");
			if (pe == NULL || len == 0 || n >= BJ_MAX_ARGS)
				goto fail;
			args[n++] = bj_xstrndup(s, len);
			p = pe + 1;
			s += len;
			continue;
		}
		if (*p != *s)
			goto fail;
		p++;
		s++;
	}
	if (*p == '\0' && *s == '\0')
		return 1;
fail:
	for (int i = 0; i < n; i++) {
		free(args[i]);
		args[i] = NULL;
	}
	return 0;
}

const struct bj_route *
bj_route_match(struct bj_req *req, const char *method, const char *path,
    int *method_mismatch)
{
	char *args[BJ_MAX_ARGS];

	*method_mismatch = 0;
	for (size_t i = 0; i < NROUTES; i++) {
		memset(args, 0, sizeof args);
		if (!match(routes[i].pattern, path, args))
			continue;
		if (strcmp(routes[i].method, method) == 0 ||
		    (strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
			memcpy(req->args, args, sizeof args);
			return &routes[i];
		}
		*method_mismatch = 1;
		for (int k = 0; k < BJ_MAX_ARGS; k++)
			free(args[k]);
	}
	return NULL;
}

/* The Allow header of a 405: every method a route of path takes. */
static char *
allowed_methods(const char *path)
{
	struct bj_buf b = { 0 };
	char *args[BJ_MAX_ARGS];

	for (size_t i = 0; i < NROUTES; i++) {
		memset(args, 0, sizeof args);
		if (!match(routes[i].pattern, path, args))
			continue;
		for (int k = 0; k < BJ_MAX_ARGS; k++)
			free(args[k]);
		bj_buf_printf(&b, "%s%s", b.len ? ", " : "", routes[i].method);
		if (strcmp(routes[i].method, "GET") == 0)
			bj_buf_adds(&b, ", HEAD");
	}
	return bj_buf_steal(&b);
}

void
bj_dispatch(struct bj_req *req)
{
	const struct bj_route *r;
	int mismatch;

	req->method = bj_req_param(req, "REQUEST_METHOD");
	if (req->method == NULL)
		req->method = "GET";
	req->query = bj_req_param(req, "QUERY_STRING");
	if (req->query == NULL)
		req->query = "";
	req->path = bj_route_path(bj_req_param(req, "REQUEST_URI"),
	    bj_req_param(req, "SCRIPT_NAME"), bj_req_param(req, "PATH_INFO"),
	    req->app->conf->base_path);
	if (req->path == NULL) {
		req->route = "unmatched";
		bj_reply_error(req, BJ_ERR_NOT_FOUND, "the path is outside %s",
		    req->app->conf->base_path);
		return;
	}
	r = bj_route_match(req, req->method, req->path, &mismatch);
	if (r == NULL) {
		req->route = "unmatched";
		if (mismatch) {
			char *allow = allowed_methods(req->path);
			bj_reply_header(req, "Allow", allow);
			free(allow);
			bj_reply_error(req, BJ_ERR_METHOD_NOT_ALLOWED,
			    "method %s is not allowed here", req->method);
		} else {
			bj_reply_error(req, BJ_ERR_NOT_FOUND, "no such resource");
		}
		return;
	}
	req->route = r->pattern;
	r->handler(req);
	if (req->status == 0)
		bj_reply_error(req, BJ_ERR_INTERNAL, "the handler sent no reply");
}
