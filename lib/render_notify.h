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
 * read the job (with [http] public_links, anyone signed in who has the
 * link): an email address by its first letter and its domain
 * ("a…@example.org"); a webhook URL only as far as its origin
 * ("https://hooks.example.com/…"), since its path and query often are the
 * secret. The API's notifications and the status page's, for the owner
 * and admins, keep it whole. Allocated; the caller frees it.
 */
char *bj_notify_target_shown(const char *channel, const char *target);

#endif
