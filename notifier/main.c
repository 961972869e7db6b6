/*
 * main.c: bulkjobs-notify [-c FILE] [-v] [--limit N] [--watch SECONDS]
 *
 * One pass by default (what the reaper runs): claim due notifications in
 * batches, deliver them, record the outcomes, until none is due or --limit
 * were handled. --watch repeats the pass every SECONDS until SIGTERM.
 * Exit 0 when the pass ran (failed deliveries are rescheduled, not
 * errors), 1 on a config or database error, 64 on a usage error.
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <curl/curl.h>
#include <mysql.h>

#include "i18n.h"
#include "log.h"
#include "mailmsg.h"
#include "notify.h"
#include "webhook_sig.h"

#define BATCH_PER_LANE	4	/* notes claimed per pass step, per [notify] parallel lane */

struct counts {
	int	sent, retry, dead, lost;
};

static volatile sig_atomic_t stopping;

/* SIGTERM/SIGINT end --watch after the pass in progress. */
static void
on_signal(int sig)
{
	stopping = 1;
}

/* The synopsis, for -h and usage errors. */
static void
usage(FILE *f)
{
	fprintf(f, "usage: bulkjobs-notify [-c FILE] [-v] [--limit N] [--watch SECONDS]\n");
}

/* Refuse a configuration the notifier cannot work with; 0 or -1 (logged). */
static int
check_conf(const struct bj_conf *conf, const char *path)
{
	const char *why = NULL;

	if (bj_backoff_check(conf->notify_backoff) == -1) {
		bj_log_err("%s: [notify] backoff must be a comma-separated list of seconds,"
		    " each 1 to %d", path, BJ_BACKOFF_STEP_MAX);
		return -1;
	}
	if (bj_mail_transport_check(conf->mail_transport, &why) == -1) {
		bj_log_err("%s: [mail] transport %s", path, why);
		return -1;
	}
	if (!bj_mailmsg_addr_ok(conf->mail_from)) {
		bj_log_err("%s: [mail] from is not a plain address", path);
		return -1;
	}
	if (bj_webhook_fence_check(conf, &why) == -1) {
		bj_log_err("%s: %s", path, why);
		return -1;
	}
	if (conf->webhook_secret[0] != '\0') {
		size_t keylen;
		unsigned char *key = bj_webhook_key(conf->webhook_secret, &keylen, &why);

		if (key == NULL) {
			bj_log_err("%s: [webhook] secret %s", path, why);
			return -1;
		}
		free(key);
	}
	return 0;
}

/* Claim, deliver and record one batch; the number claimed, or -1 on a database error. */
static int
batch(struct bj_db *db, const struct bj_conf *conf, int limit, struct counts *c)
{
	struct bj_note **notes = NULL;
	int lanes = conf->notify_parallel;
	/* long enough for the webhooks in lanes and every email one after another */
	int lease = (limit / lanes + 1) * conf->webhook_timeout +
	    limit * conf->webhook_timeout * 2 + 60;
	int n, rc = 0;

	if ((n = bj_notify_claim(db, limit, lease, &notes)) <= 0)
		return n;
	for (int i = 0; i < n; i++) {
		int r = bj_notify_load(db, notes[i]);

		if (r == -1) {
			rc = -1;
			goto out;
		}
		if (r == 1)
			bj_note_set(notes[i], BJ_NOTE_DEAD, 0, "the job no longer exists");
	}
	bj_webhook_deliver(conf, notes, n);
	for (int i = 0; i < n; i++)
		if (notes[i]->job != NULL && strcmp(notes[i]->channel, "email") == 0)
			bj_mail_deliver(conf, notes[i]);
	for (int i = 0; i < n; i++) {
		struct bj_note *note = notes[i];
		int r = bj_notify_record(db, conf, note);

		if (r == -1) {
			rc = -1;
			goto out;
		}
		if (r == 0) {
			c->lost++;
			bj_log_warn("notification %lld: lease lost, outcome not recorded", note->id);
			continue;
		}
		switch (note->outcome) {
		case BJ_NOTE_SENT:
			c->sent++;
			break;
		case BJ_NOTE_DEAD:
			c->dead++;
			bj_log_warn("notification %lld (%s to %s): given up after attempt %d: %s",
			    note->id, note->channel, note->target, note->attempt,
			    note->error ? note->error : "");
			break;
		default:
			c->retry++;
			bj_log_info("notification %lld (%s to %s): attempt %d failed: %s",
			    note->id, note->channel, note->target, note->attempt,
			    note->error ? note->error : "");
			break;
		}
	}
	rc = n;
out:
	bj_notes_free(notes, n);
	return rc;
}

/* One pass: batches until nothing is due or limit notes were handled; 0 or -1. */
static int
pass(struct bj_db *db, const struct bj_conf *conf, int limit, struct counts *c)
{
	int done = 0, step = conf->notify_parallel * BATCH_PER_LANE;

	while (done < limit) {
		int want = limit - done < step ? limit - done : step;
		int n = batch(db, conf, want, c);

		if (n == -1) {
			bj_log_err("database: %s", bj_db_error(db));
			return -1;
		}
		if (n < want)
			break;
		done += n;
	}
	return 0;
}

/* Options, config, one pass or a --watch loop; see the header for exit codes. */
int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "limit", required_argument, NULL, 'l' },
		{ "watch", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = NULL;
	struct bj_conf conf;
	struct bj_db *db = NULL;
	struct counts c = { 0 };
	char *cause = NULL, *end;
	long limit = 1000, watch = 0;
	struct sigaction sa;
	int ch, verbose = 0, rc = EX_TEMPFAIL;	/* a pass failed: the next run tries again */

	while ((ch = getopt_long(argc, argv, "c:vhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': conf_path = optarg; break;
		case 'v': verbose = 1; break;
		case 'l':
			limit = strtol(optarg, &end, 10);
			if (*end != '\0' || end == optarg || limit < 1 || limit > 1000000) {
				fprintf(stderr, "bulkjobs-notify: --limit must be 1 to 1000000\n");
				return EX_USAGE;
			}
			break;
		case 'w':
			watch = strtol(optarg, &end, 10);
			if (*end != '\0' || end == optarg || watch < 1 || watch > BJ_WATCH_MAX) {
				fprintf(stderr, "bulkjobs-notify: --watch must be 1 to %d seconds\n",
				    BJ_WATCH_MAX);
				return EX_USAGE;
			}
			break;
		case 'h': usage(stdout); return 0;
		case 'V': puts(PACKAGE_STRING); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	bj_log_open("bulkjobs-notify", 1, 1);
	bj_log_set_verbose(verbose);
	bj_conf_defaults(&conf);
	conf_path = bj_conf_locate(conf_path);
	if (bj_conf_load(&conf, conf_path, &cause) == -1) {
		bj_log_err("%s", cause);
		free(cause);
		bj_conf_free(&conf);
		return EX_CONFIG;
	}
	if (check_conf(&conf, conf_path) == -1) {
		bj_conf_free(&conf);
		return EX_CONFIG;
	}
	bj_i18n_init();
	if (mysql_library_init(0, NULL, NULL) != 0)
		bj_fatal("cannot initialise the MariaDB client library");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		bj_fatal("cannot initialise libcurl");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;	/* a signal ends --watch between passes, not a write */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	db = bj_db_new(&conf);
	if (bj_db_connect(db) == -1) {
		bj_log_err("cannot connect to the database: %s", bj_db_error(db));
		rc = EX_UNAVAILABLE;
		goto out;
	}
	for (;;) {
		if (pass(db, &conf, (int)limit, &c) == -1 && !watch)
			goto out;
		if (verbose)
			fprintf(stderr, "bulkjobs-notify: %d sent, %d rescheduled, %d dead%s\n",
			    c.sent, c.retry, c.dead, c.lost ? " (some leases lost)" : "");
		if (!watch || stopping)
			break;
		memset(&c, 0, sizeof c);
		for (long s = 0; s < watch && !stopping; s++)
			sleep(1);
		if (stopping)
			break;
	}
	rc = EX_OK;
out:
	bj_db_free(db);
	curl_global_cleanup();
	mysql_library_end();
	bj_conf_free(&conf);
	return rc;
}
