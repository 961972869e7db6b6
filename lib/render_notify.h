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

#endif
