/*
 * render_notify.c: the notification history as JSON, and a target as the
 * timeline names it (see render_notify.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "buf.h"
#include "render_notify.h"

/* A string member, or null. */
static void
add_str(struct json_object *o, const char *name, const char *v)
{
	json_object_object_add(o, name, v ? json_object_new_string(v) : NULL);
}

/* The history as a JSON array, attempts in order. */
struct json_object *
bj_render_notifications(const struct bj_notify_hists *h)
{
	struct json_object *arr = json_object_new_array();

	for (int i = 0; h != NULL && i < h->n; i++) {
		const struct bj_notify_hist *n = &h->items[i];
		struct json_object *o = json_object_new_object(), *log = json_object_new_array();

		json_object_object_add(o, "id", json_object_new_int64(n->id));
		json_object_object_add(o, "round", json_object_new_int(n->round));
		add_str(o, "event", n->event);
		add_str(o, "channel", n->channel);
		add_str(o, "target", n->target);
		add_str(o, "state", n->state);
		json_object_object_add(o, "attempts", json_object_new_int(n->attempts));
		/* only a pending row has a next attempt */
		add_str(o, "next_attempt_at", n->state && n->state[0] == 'p' ? n->next_attempt_at : NULL);
		for (int k = 0; k < n->n_tries; k++) {
			const struct bj_notify_attempt *a = &n->tries[k];
			struct json_object *t = json_object_new_object();

			json_object_object_add(t, "attempt", json_object_new_int(a->attempt));
			add_str(t, "at", a->at);
			json_object_object_add(t, "status", a->has_status ? json_object_new_int(a->status) : NULL);
			add_str(t, "error", a->error);
			json_object_array_add(log, t);
		}
		json_object_object_add(o, "attempts_log", log);
		json_object_array_add(arr, o);
	}
	return arr;
}

/* "a…@example.org": the first letter (whole, even when it is several bytes) and the domain. */
static char *
email_shown(const char *addr)
{
	const char *at = strrchr(addr, '@');
	size_t first = 1;

	if (at == NULL || at == addr || at[1] == '\0')
		return bj_xstrdup("(an address that could not be read)");
	while (addr + first < at && ((unsigned char)addr[first] & 0xc0) == 0x80)
		first++;
	return bj_xasprintf("%.*s\u2026%s", (int)first, addr, at);
}

/* "https://hooks.example.com/…": the URL's origin, read by libcurl. */
static char *
webhook_shown(const char *url)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *port = NULL, *shown;

	if ((u = curl_url()) == NULL)
		abort();
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		curl_url_get(u, CURLUPART_PORT, &port, 0);	/* only when the URL names one */
		shown = bj_xasprintf("%s://%s%s%s/\u2026", scheme, host, port ? ":" : "",
		    port ? port : "");
	} else {
		shown = bj_xstrdup("(a webhook URL that could not be read)");
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return shown;
}

char *
bj_notify_target_shown(const char *channel, const char *target)
{
	if (target == NULL)
		return bj_xstrdup("");
	if (channel != NULL && strcmp(channel, "email") == 0)
		return email_shown(target);
	if (channel != NULL && strcmp(channel, "webhook") == 0)
		return webhook_shown(target);
	return bj_xstrdup(target);
}
