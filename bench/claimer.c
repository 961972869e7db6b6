/*
 * claimer.c: the worker side of claim_complete. W threads claim items of
 * kind "bench" through the HTTP API in batches of B and complete each
 * batch with one POST /v1/items/complete, until a claim comes back empty
 * (or, given SECONDS, for that long, polling every 10 ms when nothing is
 * due); prints items/s and the p99 of the claim requests' latency as JSON.
 * BASE_URL may list several front ends, comma-separated: worker i uses
 * the (i mod n)th. A 503 (a cluster's node lost, or conflicts outlasting
 * the server's tries) is asked again after 10 ms, as a worker would.
 *
 * usage: claimer BASE_URL[,BASE_URL...] TOKEN WORKERS BATCH [KIND [SECONDS]]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#define MAX_BASES 8
static const char *bases[MAX_BASES], *token, *kind = "bench";
static int nbases;
static int batch;
static double run_for;		/* seconds, 0: until nothing is left */
static struct timespec started;

#define MAX_SAMPLES 200000
static double lat[MAX_SAMPLES];	/* seconds per claim request */
static int nlat;
static pthread_mutex_t lat_lock = PTHREAD_MUTEX_INITIALIZER;

/* Keep one claim's latency. */
static void
sample(double secs)
{
	pthread_mutex_lock(&lat_lock);
	if (nlat < MAX_SAMPLES)
		lat[nlat++] = secs;
	pthread_mutex_unlock(&lat_lock);
}

static int
by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Seconds since the start. */
static double
elapsed(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - started.tv_sec) + (now.tv_nsec - started.tv_nsec) / 1e9;
}

struct resp {
	char	*data;
	size_t	 len;
};

static size_t
collect(char *p, size_t sz, size_t n, void *ud)
{
	struct resp *r = ud;

	r->data = realloc(r->data, r->len + sz * n + 1);
	memcpy(r->data + r->len, p, sz * n);
	r->len += sz * n;
	r->data[r->len] = '\0';
	return sz * n;
}

/* POST body to path of base until it answers other than 503; the HTTP status, the reply in *out. */
static long
post(CURL *c, const char *base, struct curl_slist *h, const char *path, const char *body,
    struct resp *out)
{
	char url[512];
	long status = 0;

	snprintf(url, sizeof url, "%s%s", base, path);
	do {
		if (status == 503)
			usleep(10000);
		out->len = 0;
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
		if (curl_easy_perform(c) != CURLE_OK)
			return -1;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	} while (status == 503);
	return status;
}

/* Complete the n claimed items with one request; 0 when it answered 200. */
static int
complete(CURL *c, const char *base, struct curl_slist *h, struct json_object *items, size_t n, struct resp *out)
{
	size_t cap = 64 + n * 128, len = 0;
	char *body = malloc(cap);
	long st;

	len += (size_t)snprintf(body + len, cap - len, "{\"items\":[");
	for (size_t i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(items, i), *id, *lt;

		json_object_object_get_ex(it, "id", &id);
		json_object_object_get_ex(it, "lease_token", &lt);
		len += (size_t)snprintf(body + len, cap - len,
		    "%s{\"id\":%lld,\"lease_token\":\"%s\",\"result\":{\"ok\":true}}",
		    i ? "," : "", (long long)json_object_get_int64(id), json_object_get_string(lt));
	}
	snprintf(body + len, cap - len, "]}");
	st = post(c, base, h, "/v1/items/complete", body, out);
	free(body);
	if (st != 200)
		fprintf(stderr, "claimer: complete answered %ld: %.200s\n", st,
		    out->data ? out->data : "");
	return st == 200 ? 0 : -1;
}

/* The items a batch completion answered ok. */
static long
count_ok(const char *text)
{
	struct json_object *o = json_tokener_parse(text), *items, *ok;
	long k = 0;

	if (o == NULL)
		return 0;
	if (json_object_object_get_ex(o, "items", &items))
		for (size_t i = 0; i < json_object_array_length(items); i++)
			if (json_object_object_get_ex(json_object_array_get_idx(items, i), "ok", &ok) &&
			    json_object_get_boolean(ok))
				k++;
	json_object_put(o);
	return k;
}

struct worker {
	const char	*base;
	long		 done;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct resp r = { 0 }, r2 = { 0 };
	char auth[256], claim[256];
	int empty = 0;

	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Content-Type: application/json");
	snprintf(claim, sizeof claim, "{\"worker\":\"bench-%p\",\"kinds\":[\"%s\"],\"limit\":%d,"
	    "\"lease_seconds\":300}", arg, kind, batch);
	while (run_for > 0 ? elapsed() < run_for : empty < 3) {
		struct json_object *o, *items;
		double t0 = elapsed();
		long st = post(c, w->base, h, "/v1/claims", claim, &r);
		size_t n;

		sample(elapsed() - t0);
		if (st != 200 || (o = json_tokener_parse(r.data)) == NULL) {
			fprintf(stderr, "claimer: claim answered %ld: %.200s\n", st, r.data ? r.data : "");
			break;
		}
		if (!json_object_object_get_ex(o, "items", &items) ||
		    (n = json_object_array_length(items)) == 0) {
			json_object_put(o);
			empty++;
			if (run_for > 0)
				usleep(10000);
			continue;
		}
		empty = 0;
		if (complete(c, w->base, h, items, n, &r2) == 0)
			w->done += count_ok(r2.data);
		json_object_put(o);
	}
	free(r.data);
	free(r2.data);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t t[256];
	struct worker w[256];
	long sum = 0;
	struct timespec a, b;
	int workers;
	double secs;
	char *list, *p;

	if (argc < 5 || argc > 7)
		return 64;
	list = strdup(argv[1]);
	for (p = strtok(list, ","); p != NULL && nbases < MAX_BASES; p = strtok(NULL, ","))
		bases[nbases++] = p;
	token = argv[2];
	workers = atoi(argv[3]);
	if (nbases == 0 || workers < 1 || workers > 256)
		return 64;
	batch = atoi(argv[4]);
	if (argc > 5)
		kind = argv[5];
	if (argc > 6)
		run_for = atof(argv[6]);
	curl_global_init(CURL_GLOBAL_ALL);
	clock_gettime(CLOCK_MONOTONIC, &a);
	started = a;
	for (int i = 0; i < workers; i++) {
		w[i].base = bases[i % nbases];
		w[i].done = 0;
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < workers; i++)
		pthread_join(t[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	for (int i = 0; i < workers; i++)
		sum += w[i].done;
	secs = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	qsort(lat, (size_t)nlat, sizeof lat[0], by_value);
	printf("{\"items\":%ld,\"seconds\":%.3f,\"per_s\":%.1f,\"claims\":%d,\"claim_p99_ms\":%.3f}\n",
	    sum, secs, sum / secs, nlat, nlat ? lat[(nlat * 99) / 100] * 1000 : 0.0);
	free(list);
	return 0;
}
