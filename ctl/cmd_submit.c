/*
 * cmd_submit.c: bulkjobsctl submit, a job from the command line.
 *
 * The items come from an NDJSON file, one {"key","stage","payload"} per
 * line; the job is checked and inserted by bj_job_spec_check() and
 * bj_job_create(), exactly as POST /v1/jobs does. The parsed lines are
 * kept until the insert is done: the spec borrows their strings.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "create.h"
#include "ctl.h"
#include "job.h"
#include "json.h"

#define MAX_TARGETS	16

struct ndjson {
	struct json_object	**objs;		/* one per item, owned */
	struct bj_item_spec	 *items;	/* borrowing from objs */
	size_t			  n, cap;
};

/* Release what read_items() built. */
static void
ndjson_free(struct ndjson *nd)
{
	for (size_t i = 0; i < nd->n; i++)
		json_object_put(nd->objs[i]);
	free(nd->objs);
	free(nd->items);
	memset(nd, 0, sizeof *nd);
}

/* Turn one line into an item; NULL or a message naming the problem (static). */
static const char *
parse_line(struct ndjson *nd, const char *line, size_t len, int max_depth)
{
	struct json_object *obj, *payload = NULL;
	struct bj_item_spec *it;
	enum bj_err err;
	const char *why;
	long long stage = 0;

	if ((obj = bj_json_parse(line, len, max_depth, &err, &why)) == NULL)
		return why;
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return "not a JSON object";
	}
	if (bj_json_str(obj, "key") == NULL) {
		json_object_put(obj);
		return "\"key\" is missing or not a string";
	}
	if (bj_json_int(obj, "stage", &stage) == -1) {
		json_object_put(obj);
		return "\"stage\" is not an integer";
	}
	if (nd->n == nd->cap) {
		nd->cap = nd->cap ? nd->cap * 2 : 64;
		nd->objs = bj_xreallocarray(nd->objs, nd->cap, sizeof *nd->objs);
		nd->items = bj_xreallocarray(nd->items, nd->cap, sizeof *nd->items);
	}
	nd->objs[nd->n] = obj;
	it = &nd->items[nd->n++];
	it->key = bj_json_str(obj, "key");
	it->stage = stage;
	it->payload = NULL;
	if (json_object_object_get_ex(obj, "payload", &payload) && payload != NULL)
		it->payload = json_object_to_json_string_ext(payload,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	return NULL;
}

/* Read the NDJSON file (or stdin for "-"); blank lines are skipped. Returns an exit code. */
static int
read_items(const char *path, struct ndjson *nd, int max_depth, int max_items)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;
	int rc = EX_OK;

	if (f == NULL) {
		fprintf(stderr, "bulkjobsctl: cannot open %s: %s\n", path, strerror(errno));
		return EX_NOINPUT;
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		const char *why;
		size_t n = (size_t)len;

		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (strspn(line, " \t") == n)
			continue;
		if (nd->n == (size_t)max_items) {
			fprintf(stderr, "bulkjobsctl: %s:%ld: more than %d items\n", path, lineno,
			    max_items);
			rc = EX_DATAERR;
			break;
		}
		if ((why = parse_line(nd, line, n, max_depth)) != NULL) {
			fprintf(stderr, "bulkjobsctl: %s:%ld: %s\n", path, lineno, why);
			rc = EX_DATAERR;
			break;
		}
	}
	if (rc == EX_OK && ferror(f)) {
		fprintf(stderr, "bulkjobsctl: reading %s: %s\n", path, strerror(errno));
		rc = EX_NOINPUT;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

/* bulkjobsctl submit --kind K --owner O [--title T] --items FILE.ndjson [...] */
int
bj_ctl_submit(struct bj_ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "owner", required_argument, NULL, 'o' },
		{ "title", required_argument, NULL, 't' },
		{ "items", required_argument, NULL, 'i' },
		{ "email", required_argument, NULL, 'e' },
		{ "webhook", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	struct bj_conf *c = ctl->conf;
	struct bj_job_spec spec;
	struct ndjson nd = { 0 };
	struct bj_job *job = NULL;
	const char *items_path = NULL, *emails[MAX_TARGETS], *webhooks[MAX_TARGETS];
	char why[256];
	long long id = 0;
	int ch, rc, existed = 0;
	enum bj_err e;

	memset(&spec, 0, sizeof spec);
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'k': spec.kind = optarg; break;
		case 'o': spec.owner = optarg; break;
		case 't': spec.title = optarg; break;
		case 'i': items_path = optarg; break;
		case 'e':
		case 'w':
			if ((ch == 'e' ? spec.nemails : spec.nwebhooks) == MAX_TARGETS) {
				fprintf(stderr, "bulkjobsctl: at most %d of each --email and --webhook\n",
				    MAX_TARGETS);
				return EX_USAGE;
			}
			if (ch == 'e')
				emails[spec.nemails++] = optarg;
			else
				webhooks[spec.nwebhooks++] = optarg;
			break;
		default: return EX_USAGE;
		}
	}
	if (spec.kind == NULL || spec.owner == NULL || items_path == NULL || optind != argc) {
		fprintf(stderr, "usage: bulkjobsctl submit --kind K --owner O [--title T] "
		    "--items FILE.ndjson [--email ADDR] [--webhook URL]\n");
		return EX_USAGE;
	}
	if ((rc = read_items(items_path, &nd, c->max_json_depth, c->max_items)) != EX_OK)
		goto out;
	/* the config's defaults, as the API applies them */
	spec.language = c->default_language;
	spec.max_attempts = c->max_attempts;
	spec.lease_seconds = c->lease_seconds;
	spec.on_item_failure = c->on_item_failure;
	spec.deadline_seconds = c->deadline_seconds;
	spec.retention_seconds = c->retention_seconds;
	spec.items = nd.items;
	spec.nitems = nd.n;
	spec.emails = emails;
	spec.webhooks = webhooks;
	if (bj_job_spec_check(&spec, c->max_items, why, sizeof why) != BJ_OK) {
		fprintf(stderr, "bulkjobsctl: %s: %s\n", items_path, why);
		rc = EX_DATAERR;
		goto out;
	}
	if ((e = bj_job_create(ctl->db, &spec, &id, &existed)) != BJ_OK) {
		fprintf(stderr, "bulkjobsctl: cannot create the job: %s (%s)\n", bj_strerror(e),
		    bj_db_error(ctl->db));
		rc = e == BJ_ERR_DB_UNAVAILABLE ? EX_TEMPFAIL : EX_SOFTWARE;
		goto out;
	}
	printf("created job %lld with %zu item%s\n", id, nd.n, nd.n == 1 ? "" : "s");
	if (bj_job_get(ctl->db, id, &job) == BJ_OK && job->token != NULL)
		printf("status page: %s/jobs/%s\n", c->public_url, job->token);
	rc = EX_OK;
out:
	bj_job_free(job);
	ndjson_free(&nd);
	return rc;
}
