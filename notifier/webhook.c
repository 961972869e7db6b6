/*
 * webhook.c: signed webhook POSTs through libcurl's multi interface.
 *
 * Each note becomes one transfer: a JSON body {"type","timestamp","data"}
 * with Standard Webhooks headers, http/https only, no redirects, the
 * [webhook] timeout for connecting and for the whole exchange, TLS
 * verified against the system CAs. An operator fences the destinations
 * with [webhook] allow_hosts (host names) and deny_networks (CIDRs,
 * checked against the address actually connected to, so DNS cannot
 * smuggle a denied address in). At most [notify] parallel run at once.
 *
 * Ownership: transfers and their buffers live only inside
 * bj_webhook_deliver(); the notes are borrowed and get their outcome.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "buf.h"
#include "log.h"
#include "notify.h"
#include "render.h"
#include "webhook_sig.h"

#define MAX_NETS 64

struct net {
	int		 family;
	unsigned char	 addr[16];
	int		 bits;
};

struct fence {
	struct net	 nets[MAX_NETS];
	int		 n;
};

struct xfer {
	struct bj_note		*note;
	CURL			*easy;
	struct curl_slist	*headers;
	char			*body;
	const struct fence	*fence;
	int			 denied;	/* connect refused by deny_networks */
	char			 errbuf[CURL_ERROR_SIZE];
};

/* Parse "10.0.0.0/8, fd00::/8" into f; -1 with a static *why on a bad entry. */
static int
fence_parse(struct fence *f, const char *spec, const char **why)
{
	char *copy = bj_xstrdup(spec ? spec : ""), *tok, *save = NULL;
	int rc = 0;

	memset(f, 0, sizeof *f);
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL; tok = strtok_r(NULL, ", \t", &save)) {
		struct net *n;
		char *slash = strchr(tok, '/');
		int max;

		if (f->n == MAX_NETS) {
			*why = "lists too many networks";
			rc = -1;
			break;
		}
		n = &f->nets[f->n];
		if (slash != NULL)
			*slash = '\0';
		if (inet_pton(AF_INET, tok, n->addr) == 1) {
			n->family = AF_INET;
			max = 32;
		} else if (inet_pton(AF_INET6, tok, n->addr) == 1) {
			n->family = AF_INET6;
			max = 128;
		} else {
			*why = "has an entry that is not an address/prefix";
			rc = -1;
			break;
		}
		n->bits = max;
		if (slash != NULL) {
			char *end;
			long b = strtol(slash + 1, &end, 10);
			if (end == slash + 1 || *end != '\0' || b < 0 || b > max) {
				*why = "has a bad prefix length";
				rc = -1;
				break;
			}
			n->bits = (int)b;
		}
		f->n++;
	}
	free(copy);
	return rc;
}

/* 1 when the first bits of a and b agree. */
static int
prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[whole] ^ b[whole]) & (0xff << (8 - rest))) == 0;
}

/* 1 when sa lies in one of the fenced networks (IPv4-mapped IPv6 counts as IPv4). */
static int
fence_denies(const struct fence *f, const struct sockaddr *sa)
{
	unsigned char a4[4], a6[16];
	int have4 = 0, have6 = 0;

	if (sa->sa_family == AF_INET) {
		memcpy(a4, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		have4 = 1;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(a6, &s6->sin6_addr, 16);
		have6 = 1;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			memcpy(a4, a6 + 12, 4);
			have4 = 1;
		}
	} else {
		return 1;	/* neither IPv4 nor IPv6: not for webhooks */
	}
	for (int i = 0; i < f->n; i++) {
		const struct net *n = &f->nets[i];
		if (n->family == AF_INET && have4 && prefix_match(a4, n->addr, n->bits))
			return 1;
		if (n->family == AF_INET6 && have6 && prefix_match(a6, n->addr, n->bits))
			return 1;
	}
	return 0;
}

/* libcurl asks before every connect: refuse fenced addresses. */
static curl_socket_t
open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct xfer *x = ud;

	if (purpose == CURLSOCKTYPE_IPCXN && fence_denies(x->fence, &addr->addr)) {
		x->denied = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype, addr->protocol);
}

/* 1 when host is allowed by the allow_hosts list (empty: every host). */
static int
host_allowed(const char *list, const char *host)
{
	char *copy, *tok, *save = NULL;
	int ok = 0;

	if (list == NULL || *list == '\0')
		return 1;
	copy = bj_xstrdup(list);
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL && !ok; tok = strtok_r(NULL, ", \t", &save)) {
		size_t tl = strlen(tok), hl = strlen(host);
		if (strcasecmp(tok, host) == 0)
			ok = 1;
		/* ".example.org" allows every host under example.org */
		else if (tok[0] == '.' && hl > tl && strcasecmp(host + hl - tl, tok) == 0)
			ok = 1;
	}
	free(copy);
	return ok;
}

/* Why url may not be used, or NULL when it may. */
static const char *
url_refused(const struct bj_conf *conf, const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	const char *why = NULL;

	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		why = "the webhook URL is not valid";
	else if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)
		why = "only http and https webhook URLs are allowed";
	else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		why = "the webhook URL has no host";
	else if (!host_allowed(conf->webhook_allow_hosts, host))
		why = "the host is not in [webhook] allow_hosts";
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return why;
}

/* "2026-11-22T08:51:38Z" for unix seconds t. */
static void
iso_time(long long t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Add name: value to obj, or null for a NULL value. */
static void
add_str(struct json_object *obj, const char *name, const char *value)
{
	json_object_object_add(obj, name, value ? json_object_new_string(value) : NULL);
}

/* The request body: {"type":event,"timestamp":…,"data":job} (caller frees). */
static char *
webhook_body(const struct bj_conf *conf, const struct bj_note *note)
{
	struct json_object *o = json_object_new_object();
	char ts[32], *out;

	iso_time(note->now, ts);
	add_str(o, "type", note->event);
	add_str(o, "timestamp", ts);
	json_object_object_add(o, "data", bj_render_job(note->job, conf));
	out = bj_xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return out;
}

/* Discard the response body: only the status matters. */
static size_t
discard(char *p, size_t sz, size_t n, void *ud)
{
	return sz * n;
}

/* Prepare one transfer; NULL (with the note's outcome set) when it cannot be sent. */
static struct xfer *
xfer_new(const struct bj_conf *conf, const struct fence *fence, const unsigned char *key,
    size_t keylen, struct bj_note *note)
{
	struct xfer *x;
	const char *why;
	char *msg_id, *sig, *h;

	if ((why = url_refused(conf, note->target)) != NULL) {
		bj_note_set(note, BJ_NOTE_DEAD, 0, why);
		return NULL;
	}
	if (key == NULL) {
		bj_note_set(note, BJ_NOTE_RETRY, 0, "[webhook] secret is not set: nothing is sent unsigned");
		return NULL;
	}
	x = bj_xcalloc(1, sizeof *x);
	x->note = note;
	x->fence = fence;
	x->body = webhook_body(conf, note);
	msg_id = bj_webhook_msg_id(note->id);
	sig = bj_webhook_sign(key, keylen, msg_id, note->now, x->body, strlen(x->body));
	x->headers = curl_slist_append(x->headers, "Content-Type: application/json");
	h = bj_xasprintf("webhook-id: %s", msg_id);
	x->headers = curl_slist_append(x->headers, h);
	free(h);
	h = bj_xasprintf("webhook-timestamp: %lld", note->now);
	x->headers = curl_slist_append(x->headers, h);
	free(h);
	h = bj_xasprintf("webhook-signature: %s", sig);
	x->headers = curl_slist_append(x->headers, h);
	free(h);
	x->headers = curl_slist_append(x->headers, "Expect:");
	free(msg_id);
	free(sig);

	x->easy = curl_easy_init();
	curl_easy_setopt(x->easy, CURLOPT_URL, note->target);
	curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(x->body));
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(x->easy, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT, (long)conf->webhook_timeout);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT, (long)conf->webhook_timeout);
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(x->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	return x;
}

/* Release a transfer and its buffers; NULL is a no-op. */
static void
xfer_free(struct xfer *x)
{
	if (x == NULL)
		return;
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	free(x->body);
	free(x);
}

/* Turn a finished transfer into the note's outcome. */
static void
xfer_done(struct xfer *x, CURLcode rc)
{
	struct bj_note *note = x->note;
	long status = 0;
	curl_off_t retry_after = 0;
	char msg[CURL_ERROR_SIZE + 64];

	if (rc != CURLE_OK) {
		if (x->denied) {
			bj_note_set(note, BJ_NOTE_DEAD, 0,
			    "the address is in [webhook] deny_networks");
			return;
		}
		snprintf(msg, sizeof msg, "%s%s%s", curl_easy_strerror(rc),
		    x->errbuf[0] ? ": " : "", x->errbuf);
		bj_note_set(note, rc == CURLE_UNSUPPORTED_PROTOCOL ? BJ_NOTE_DEAD : BJ_NOTE_RETRY,
		    0, msg);
		return;
	}
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300) {
		bj_note_set(note, BJ_NOTE_SENT, (int)status, NULL);
		return;
	}
	snprintf(msg, sizeof msg, "HTTP %ld", status);
	if (status == 410) {
		bj_note_set(note, BJ_NOTE_DEAD, (int)status, "HTTP 410: the receiver is gone");
		return;
	}
	bj_note_set(note, BJ_NOTE_RETRY, (int)status, msg);
	if (curl_easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
	    retry_after > 0)
		note->retry_after = (long long)retry_after;
}

/* Run every webhook note as a transfer, at most [notify] parallel at once. */
void
bj_webhook_deliver(const struct bj_conf *conf, struct bj_note **notes, int n)
{
	struct fence fence;
	const char *why = NULL;
	unsigned char *key = NULL;
	size_t keylen = 0;
	CURLM *multi;
	int next = 0, active = 0, parallel = conf->notify_parallel > 0 ? conf->notify_parallel : 1;

	if (fence_parse(&fence, conf->webhook_deny_networks, &why) == -1) {
		/* main() checks this at start-up; be safe anyway */
		for (int i = 0; i < n; i++)
			if (notes[i]->job != NULL && strcmp(notes[i]->channel, "webhook") == 0)
				bj_note_set(notes[i], BJ_NOTE_RETRY, 0, "[webhook] deny_networks is not valid");
		return;
	}
	if (conf->webhook_secret != NULL && conf->webhook_secret[0] != '\0')
		key = bj_webhook_key(conf->webhook_secret, &keylen, &why);
	multi = curl_multi_init();
	for (;;) {
		int running = 0;
		CURLMsg *m;
		int left;

		while (active < parallel && next < n) {
			struct bj_note *note = notes[next++];
			struct xfer *x;

			if (note->job == NULL || strcmp(note->channel, "webhook") != 0)
				continue;
			if ((x = xfer_new(conf, &fence, key, keylen, note)) == NULL)
				continue;
			curl_multi_add_handle(multi, x->easy);
			active++;
		}
		if (active == 0)
			break;
		curl_multi_perform(multi, &running);
		while ((m = curl_multi_info_read(multi, &left)) != NULL) {
			struct xfer *x = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			xfer_done(x, m->data.result);
			curl_multi_remove_handle(multi, x->easy);
			xfer_free(x);
			active--;
		}
		if (active > 0 && running > 0)
			curl_multi_poll(multi, NULL, 0, 1000, NULL);
	}
	curl_multi_cleanup(multi);
	free(key);
}

/* Validate [webhook] deny_networks at start-up. */
int
bj_webhook_fence_check(const char *spec, const char **why)
{
	struct fence f;

	return fence_parse(&f, spec, why);
}
