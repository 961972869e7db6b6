/*
 * webhook.c: signed webhook POSTs through libcurl's multi interface.
 *
 * Each note becomes one transfer: a JSON body {"type","timestamp","data"}
 * with Standard Webhooks headers, http/https only, no redirects, the
 * [webhook] timeout for connecting and for the whole exchange, TLS
 * verified against the system CAs, no proxy from the environment (only
 * [webhook] proxy). The address fence is checked in libcurl's
 * open-socket callback, on the address actually connected to after DNS,
 * so no spelling of a host (127.1, 0x7f000001, localhost, [::ffff:…])
 * gets round it: unspecified, multicast and broadcast addresses are never
 * connected to; internal ones (loopback, private, link-local, CGNAT, ULA)
 * only when [webhook] allow_networks names them; [webhook] deny_networks
 * refuses more, and allow_hosts restricts the host names. URLs with user
 * info are never sent. At most [notify] parallel run at once.
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

/* The operator's lists and the built-in ones, parsed once per run. */
struct fences {
	struct fence	 never;		/* refused whatever the config says */
	struct fence	 internal;	/* refused unless in allow_networks */
	struct fence	 allow;		/* [webhook] allow_networks */
	struct fence	 deny;		/* [webhook] deny_networks */
};

struct xfer {
	struct bj_note		*note;
	CURL			*easy;
	struct curl_slist	*headers;
	char			*body;
	const struct fences	*fences;
	const char		*refused;	/* why the fence refused a connect, or NULL */
	char			 errbuf[CURL_ERROR_SIZE];
};

/*
 * Unspecified ("0.0.0.0", "0", "::" reach the local host), multicast and
 * broadcast: never a webhook receiver.
 */
static const char NEVER[] = "0.0.0.0/8, ::/128, 224.0.0.0/4, 240.0.0.0/4, ff00::/8";
/*
 * The inside of a site: loopback, RFC 1918, link-local, CGNAT (RFC 6598),
 * IETF protocol assignments, ULA, site-local and IPv4-compatible IPv6.
 */
static const char INTERNAL[] = "127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16,"
    " 169.254.0.0/16, 100.64.0.0/10, 192.0.0.0/24, ::1/128, fe80::/10, fc00::/7, fec0::/10,"
    " ::/96";

static const char WHY_NEVER[] =
    "the address is unspecified, multicast or broadcast: never a webhook receiver";
static const char WHY_INTERNAL[] =
    "the address is internal (loopback, private, link-local, CGNAT or ULA);"
    " [webhook] allow_networks can allow it";
static const char WHY_DENIED[] = "the address is in [webhook] deny_networks";

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

/* Parse the built-in and the configured lists; -1 with *why naming the bad key. */
static int
fences_parse(struct fences *fs, const struct bj_conf *conf, const char **why)
{
	const char *bad = NULL;

	if (fence_parse(&fs->never, NEVER, &bad) == -1 ||
	    fence_parse(&fs->internal, INTERNAL, &bad) == -1)
		abort();	/* the built-in lists are constants */
	if (fence_parse(&fs->allow, conf->webhook_allow_networks, &bad) == -1) {
		*why = "[webhook] allow_networks is not a list of address/prefix";
		return -1;
	}
	if (fence_parse(&fs->deny, conf->webhook_deny_networks, &bad) == -1) {
		*why = "[webhook] deny_networks is not a list of address/prefix";
		return -1;
	}
	return 0;
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

/*
 * 1 when the address lies in one of f's networks. An IPv6 address that
 * carries an IPv4 one (IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96) is
 * judged as that IPv4 address too.
 */
static int
fence_has(const struct fence *f, int have4, const unsigned char *a4, int have6,
    const unsigned char *a6)
{
	for (int i = 0; i < f->n; i++) {
		const struct net *n = &f->nets[i];
		if (n->family == AF_INET && have4 && prefix_match(a4, n->addr, n->bits))
			return 1;
		if (n->family == AF_INET6 && have6 && prefix_match(a6, n->addr, n->bits))
			return 1;
	}
	return 0;
}

/* Why sa may not be connected to, or NULL when it may. */
static const char *
fences_refuse(const struct fences *fs, const struct sockaddr *sa)
{
	static const unsigned char nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	unsigned char a4[4], a6[16];
	int have4 = 0, have6 = 0;

	if (sa->sa_family == AF_INET) {
		memcpy(a4, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		have4 = 1;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(a6, &s6->sin6_addr, 16);
		have6 = 1;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) || memcmp(a6, nat64, 12) == 0) {
			memcpy(a4, a6 + 12, 4);
			have4 = 1;
		}
	} else {
		return WHY_NEVER;	/* neither IPv4 nor IPv6: not for webhooks */
	}
	if (fence_has(&fs->never, have4, a4, have6, a6))
		return WHY_NEVER;
	if (fence_has(&fs->deny, have4, a4, have6, a6))
		return WHY_DENIED;
	/* an address carrying an IPv4 one is allowed only by an IPv4 entry: "::/0" is no key to 10/8 */
	if (fence_has(&fs->allow, have4, a4, have4 ? 0 : have6, a6))
		return NULL;
	if (fence_has(&fs->internal, have4, a4, have6, a6))
		return WHY_INTERNAL;
	return NULL;
}

/* libcurl asks before every connect (after DNS, to the address itself): refuse fenced ones. */
static curl_socket_t
open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct xfer *x = ud;
	const char *why;

	if (purpose == CURLSOCKTYPE_IPCXN && (why = fences_refuse(x->fences, &addr->addr)) != NULL) {
		x->refused = why;
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
	char *scheme = NULL, *host = NULL, *user = NULL;
	const char *why = NULL;

	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		why = "the webhook URL is not valid";
	else if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)
		why = "only http and https webhook URLs are allowed";
	else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		why = "the webhook URL has no host";
	else if (curl_url_get(u, CURLUPART_USER, &user, 0) != CURLUE_NO_USER)
		why = "the webhook URL has user info (user:password@): not sent";
	else if (!host_allowed(conf->webhook_allow_hosts, host))
		why = "the host is not in [webhook] allow_hosts";
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
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
xfer_new(const struct bj_conf *conf, const struct fences *fences, const unsigned char *key,
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
	x->fences = fences;
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
	/* "" turns off http_proxy, https_proxy, all_proxy and no_proxy from the environment */
	curl_easy_setopt(x->easy, CURLOPT_PROXY, conf->webhook_proxy);
	curl_easy_setopt(x->easy, CURLOPT_NOPROXY, "");
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
		if (x->refused != NULL) {
			bj_note_set(note, BJ_NOTE_DEAD, 0, x->refused);
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
	struct fences fences;
	const char *why = NULL;
	unsigned char *key = NULL;
	size_t keylen = 0;
	CURLM *multi;
	int next = 0, active = 0, parallel = conf->notify_parallel > 0 ? conf->notify_parallel : 1;

	if (fences_parse(&fences, conf, &why) == -1) {
		/* main() checks this at start-up; be safe anyway */
		for (int i = 0; i < n; i++)
			if (notes[i]->job != NULL && strcmp(notes[i]->channel, "webhook") == 0)
				bj_note_set(notes[i], BJ_NOTE_RETRY, 0, why);
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
			if ((x = xfer_new(conf, &fences, key, keylen, note)) == NULL)
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

/* Validate [webhook] allow_networks and deny_networks at start-up. */
int
bj_webhook_fence_check(const struct bj_conf *conf, const char **why)
{
	struct fences fs;

	return fences_parse(&fs, conf, why);
}

/* The fence's verdict on one address under conf's lists (start-up checks and tests). */
const char *
bj_webhook_fence_refuses(const struct bj_conf *conf, const struct sockaddr *sa)
{
	struct fences fs;
	const char *why;

	if (fences_parse(&fs, conf, &why) == -1)
		return why;
	return fences_refuse(&fs, sa);
}
