/*
 * render_notify.h: a job's notifications as JSON (json-c), for the job's
 * API reply: [{"id","event","channel","target","state","attempts",
 * "next_attempt_at","attempts_log":[{"attempt","at","status","error"}]}].
 * The returned array belongs to the caller (json_object_put).
 */
#ifndef BJ_RENDER_NOTIFY_H
#define BJ_RENDER_NOTIFY_H

#include <json-c/json.h>

#include "notify_hist.h"

struct json_object *bj_render_notifications(const struct bj_notify_hists *h);

/*
 * A notification's target as the job's timeline names it, for whoever may
 * read the job: an email address as it is; a webhook URL only as far as
 * its origin ("https://hooks.example.com/…"), since its path and query
 * often are the secret (the API's notifications, for the owner, keep it
 * whole). Allocated; the caller frees it.
 */
char *bj_notify_target_shown(const char *channel, const char *target);

#endif
