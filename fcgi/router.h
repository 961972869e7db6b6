/*
 * router.h: the route table of bulkjobs-fcgi.
 *
 * A pattern is a path below [http] base_path whose "{name}" segments are
 * captured, in order, into req->args. Handlers reply through http.h.
 */
#ifndef BJ_ROUTER_H
#define BJ_ROUTER_H

#include "http.h"

typedef void (*bj_handler)(struct bj_req *req);

struct bj_route {
	const char	*method;
	const char	*pattern;
	bj_handler	 handler;
};

/*
 * Match path against the table: returns the route and fills req->args,
 * or NULL with *method_mismatch set when the path exists for another
 * method.
 */
const struct bj_route *bj_route_match(struct bj_req *req, const char *method,
    const char *path, int *method_mismatch);

/* Turn REQUEST_URI (or SCRIPT_NAME + PATH_INFO) into the route path; caller frees. */
char *bj_route_path(const char *request_uri, const char *script_name,
    const char *path_info, const char *base_path);

/* Run one request: route, dispatch, reply 404/405 where nothing matches. */
void bj_dispatch(struct bj_req *req);

/* handlers (one file each group) */
void bj_api_healthz(struct bj_req *req);

/* JSON API */
void bj_api_jobs_create(struct bj_req *req);
void bj_api_jobs_list(struct bj_req *req);
void bj_api_jobs_get(struct bj_req *req);
void bj_api_jobs_items(struct bj_req *req);
void bj_api_jobs_events(struct bj_req *req);
void bj_api_jobs_cancel(struct bj_req *req);
void bj_api_jobs_pause(struct bj_req *req);
void bj_api_jobs_resume(struct bj_req *req);
void bj_api_jobs_retry(struct bj_req *req);
void bj_api_claims(struct bj_req *req);
void bj_api_items_heartbeat(struct bj_req *req);
void bj_api_items_complete(struct bj_req *req);
void bj_api_items_fail(struct bj_req *req);
void bj_api_items_complete_batch(struct bj_req *req);
void bj_api_metrics(struct bj_req *req);
/*
 * Counters shared by the processes of one instance (api_metrics.c): made
 * by the prefork parent before its children start (else per process).
 */
void bj_metrics_init(void);
/* Count one request answered with status after seconds. */
void bj_metrics_observe(const char *route, int status, double seconds);
struct bj_tally;
/* The tally sink (tally.h): count what a committed transaction ended. */
void bj_metrics_tally(const struct bj_tally *t);
/* Why an API request's token was refused, for bulkjobs_auth_failures_total. */
enum bj_auth_failure { BJ_AUTH_MISSING, BJ_AUTH_INVALID };
/* Count one refused token (a 401 of the API). */
void bj_metrics_auth_failure(enum bj_auth_failure why);

/* end-user pages */
void bj_page_status(struct bj_req *req);
void bj_page_list(struct bj_req *req);
void bj_page_download(struct bj_req *req);
void bj_page_cancel(struct bj_req *req);
void bj_page_pause(struct bj_req *req);
void bj_page_resume(struct bj_req *req);
void bj_page_retry(struct bj_req *req);
/* the operators' console (page_admin.c) */
void bj_page_admin(struct bj_req *req);
void bj_page_admin_jobs(struct bj_req *req);
void bj_page_admin_workers(struct bj_req *req);
void bj_page_admin_failures(struct bj_req *req);
void bj_page_admin_notifications(struct bj_req *req);
void bj_page_admin_deliver(struct bj_req *req);


#endif
