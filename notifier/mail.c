/*
 * mail.c: the notification email: its text and HTML, and its transport,
 * "sendmail:PATH" (PATH -t -oi, the message on stdin) or an SMTP URL
 * through libcurl ("smtp://", "smtps://", or "smtp+starttls://" to
 * require STARTTLS; credentials as user:password@ in the URL).
 *
 * The text is in the job's language (gettext, as the pages). Headers
 * come only from bj_mailmsg_build(), which refuses bad addresses
 * and strips CR/LF from every value. Ownership: everything allocated here
 * is freed before bj_mail_deliver() returns; the note is borrowed.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "clock.h"
#include "html.h"
#include "i18n.h"
#include "log.h"
#include "mailmsg.h"
#include "notify.h"

/* The outcome as the pages name it, in the reader's language. */
static const char *
outcome_label(const char *event)
{
	if (strcmp(event, "job.succeeded") == 0)
		return _("Succeeded");
	if (strcmp(event, "job.failed") == 0)
		return _("Failed");
	if (strcmp(event, "job.cancelled") == 0)
		return _("Cancelled");
	return _("Expired");
}

/* The job's name in the mail: its title, else "kind #id" (caller frees). */
static char *
job_name(const struct bj_note *note)
{
	const struct bj_job *j = note->job;

	if (j->title != NULL && j->title[0] != '\0')
		return bj_xstrdup(j->title);
	return bj_xasprintf("%s #%lld", j->kind ? j->kind : "job", j->id);
}

/* The download link when the job has an artifact still on offer (caller frees), else NULL. */
static char *
download_url(const struct bj_conf *conf, const struct bj_note *note)
{
	char *status, *url;

	/* a job retried since is to make its file again: its page says how far */
	if (note->job->artifact == NULL || note->job->artifact_deleted ||
	    note->job->artifact_expired || note->retried_since)
		return NULL;
	status = bj_note_status_url(conf, note);
	url = bj_xasprintf("%s/download", status);
	free(status);
	return url;
}

/* "Available until <date> (<in 7 days>)." for the artifact, or NULL (caller frees). */
static char *
expiry_text(const struct bj_conf *conf, const struct bj_note *note)
{
	long long at;
	char date[128], rel[128];

	if (!bj_time_parse(note->job->artifact_expires_at, &at))
		return NULL;
	at /= 1000000;
	bj_i18n_datetime(at, conf->time_zone, date, sizeof date);
	bj_i18n_relative(at - note->now, rel, sizeof rel);
	return bj_xasprintf(_("Available until %s (%s)."), date, rel);
}

/* "67% done: 2 of 3 items ended" (caller frees). */
static char *
progress_text(const struct bj_job *j)
{
	long long ended = j->n_succeeded + j->n_failed + j->n_cancelled;
	int pct = j->n_total > 0 ? (int)(ended * 100 / j->n_total) : 100;

	return bj_xasprintf(ngettext("%d%% done: %lld of %lld item ended",
	    "%d%% done: %lld of %lld items ended", (unsigned long)j->n_total),
	    pct, ended, j->n_total);
}

/* Said when the job was retried before this note went out. */
static const char *
retried_text(void)
{
	return _("The job has been retried since. Its status page shows how the new run is going.");
}

/* "(2 succeeded, 1 failed, …)" (caller frees). */
static char *
counts_text(const struct bj_job *j)
{
	return bj_xasprintf(_("(%lld succeeded, %lld failed, %lld cancelled, %lld in progress, %lld waiting)"),
	    j->n_succeeded, j->n_failed, j->n_cancelled, j->n_claimed, j->n_pending);
}

/* The text/plain body, in the current language (caller frees). */
static char *
mail_text(const struct bj_conf *conf, const struct bj_note *note)
{
	const struct bj_job *j = note->job;
	struct bj_buf b = { 0 };
	char *name = job_name(note), *status = bj_note_status_url(conf, note);
	char *dl = download_url(conf, note), *progress = progress_text(j);
	char *counts = counts_text(j), *expiry = dl ? expiry_text(conf, note) : NULL;

	bj_buf_printf(&b, "%s: %s\n", _("Job"), name);
	bj_buf_printf(&b, "%s%s\n", _("Kind: "), j->kind ? j->kind : "");
	bj_buf_printf(&b, "%s%s\n\n", _("State: "), outcome_label(note->event));
	bj_buf_printf(&b, "%s\n%s\n", progress, counts);
	if (note->retried_since)
		bj_buf_printf(&b, "\n%s\n", retried_text());
	if (note->n_errors > 0) {
		bj_buf_printf(&b, "\n%s:\n", _("Failed items"));
		for (int i = 0; i < note->n_errors; i++)
			bj_buf_printf(&b, "  - %s: %s\n", note->err_key[i], note->err_text[i]);
	}
	bj_buf_printf(&b, "\n%s: %s\n", _("Status page"), status);
	if (dl != NULL) {
		bj_buf_printf(&b, "%s: %s\n", _("Download"), dl);
		if (expiry != NULL)
			bj_buf_printf(&b, "  %s\n", expiry);
	}
	bj_buf_adds(&b, "\n-- \nbulkjobs\n");
	free(name);
	free(status);
	free(dl);
	free(progress);
	free(counts);
	free(expiry);
	return bj_buf_steal(&b);
}

/* The text/html alternative, built (and escaped) by the HTML module (caller frees). */
static char *
mail_html(const struct bj_conf *conf, const struct bj_note *note, const char *subject)
{
	const struct bj_job *j = note->job;
	struct bj_html *h = bj_html_new(bj_i18n_current(), subject);
	struct bj_html_el *body = bj_html_body(h), *p, *ul;
	char *name = job_name(note), *status = bj_note_status_url(conf, note);
	char *dl = download_url(conf, note), *progress = progress_text(j);
	char *counts = counts_text(j), *expiry = dl ? expiry_text(conf, note) : NULL, *out;

	bj_html_add(body, "h1", subject);
	p = bj_html_add(body, "p", NULL);
	bj_html_text(p, _("Job"));
	bj_html_text(p, ": ");
	bj_html_add(p, "strong", name);
	bj_html_add(p, "br", NULL);
	bj_html_text(p, _("Kind: "));
	bj_html_text(p, j->kind ? j->kind : "");
	bj_html_add(p, "br", NULL);
	bj_html_text(p, _("State: "));
	bj_html_text(p, outcome_label(note->event));
	p = bj_html_add(body, "p", progress);
	bj_html_add(p, "br", NULL);
	bj_html_text(p, counts);
	if (note->retried_since)
		bj_html_add(body, "p", retried_text());
	if (note->n_errors > 0) {
		bj_html_add(body, "h2", _("Failed items"));
		ul = bj_html_add(body, "ul", NULL);
		for (int i = 0; i < note->n_errors; i++) {
			struct bj_html_el *li = bj_html_add(ul, "li", NULL);
			bj_html_add(li, "code", note->err_key[i]);
			bj_html_text(li, ": ");
			bj_html_text(li, note->err_text[i]);
		}
	}
	p = bj_html_add(body, "p", NULL);
	bj_html_link(p, status, _("Status page"));
	if (dl != NULL) {
		p = bj_html_add(body, "p", NULL);
		bj_html_link(p, dl, _("Download"));
		if (expiry != NULL) {
			bj_html_text(p, " ");
			bj_html_text(p, expiry);
		}
	}
	out = bj_html_render(h, NULL);
	bj_html_free(h);
	free(name);
	free(status);
	free(dl);
	free(progress);
	free(counts);
	free(expiry);
	return out;
}

/* The domain of the sender, for Message-ID. */
static const char *
from_domain(const char *from)
{
	const char *at = strrchr(from, '@');

	return at ? at + 1 : "localhost";
}

/* Check [mail] transport at start-up, so a typo is a config error, not a dead letter. */
int
bj_mail_transport_check(const char *t, const char **why)
{
	if (t == NULL || *t == '\0') {
		*why = "is empty";
		return -1;
	}
	if (strncmp(t, "sendmail:", 9) == 0) {
		if (t[9] != '/') {
			*why = "sendmail: needs an absolute path";
			return -1;
		}
		return 0;
	}
	if (strncmp(t, "smtp://", 7) == 0 || strncmp(t, "smtps://", 8) == 0 ||
	    strncmp(t, "smtp+starttls://", 16) == 0)
		return 0;
	*why = "must be sendmail:PATH, smtp://, smtps:// or smtp+starttls://";
	return -1;
}

/* Write all of msg to fd; 0 or -1. */
static int
write_all(int fd, const char *msg, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, msg, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		msg += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Hand the message to PATH -t -oi; exit 75 (and failing to run it) retries. */
static void
send_sendmail(const char *path, int timeout, const char *msg, struct bj_note *note)
{
	struct bj_buf lf = { 0 };
	int fds[2], st = 0;
	pid_t pid;
	char err[256];
	void (*old)(int);

	/* a local mailer takes local line ends */
	for (const char *p = msg; *p; p++)
		if (!(p[0] == '\r' && p[1] == '\n'))
			bj_buf_addc(&lf, *p);
	if (pipe(fds) == -1) {
		bj_note_set(note, BJ_NOTE_RETRY, 0, "pipe failed");
		goto out;
	}
	if ((pid = fork()) == -1) {
		close(fds[0]);
		close(fds[1]);
		bj_note_set(note, BJ_NOTE_RETRY, 0, "fork failed");
		goto out;
	}
	if (pid == 0) {
		dup2(fds[0], 0);
		close(fds[0]);
		close(fds[1]);
		execl(path, path, "-t", "-oi", (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	old = signal(SIGPIPE, SIG_IGN);
	write_all(fds[1], lf.data ? lf.data : "", lf.len);
	close(fds[1]);
	signal(SIGPIPE, old);
	/* a mailer that hangs is killed after the time an SMTP exchange gets */
	for (int waited = 0;; waited++) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid || (r == -1 && errno != EINTR))
			break;
		if (waited >= timeout * 10) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
				;
			snprintf(err, sizeof err, "%s did not finish within %d s", path, timeout);
			bj_note_set(note, BJ_NOTE_RETRY, 0, err);
			goto out;
		}
		usleep(100000);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		bj_note_set(note, BJ_NOTE_SENT, 0, NULL);
	} else if (WIFEXITED(st)) {
		int code = WEXITSTATUS(st);
		snprintf(err, sizeof err, "%s exited with status %d", path, code);
		/* sysexits other than EX_TEMPFAIL are final; anything else may pass */
		bj_note_set(note, code >= EX__BASE && code <= EX__MAX && code != EX_TEMPFAIL ?
		    BJ_NOTE_DEAD : BJ_NOTE_RETRY, code, err);
	} else {
		snprintf(err, sizeof err, "%s was killed by signal %d", path,
		    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
		bj_note_set(note, BJ_NOTE_RETRY, 0, err);
	}
out:
	bj_buf_free(&lf);
}

struct upload {
	const char	*data;
	size_t		 left;
};

/* libcurl reads the message from here. */
static size_t
read_msg(char *buf, size_t sz, size_t n, void *ud)
{
	struct upload *u = ud;
	size_t len = sz * n < u->left ? sz * n : u->left;

	memcpy(buf, u->data, len);
	u->data += len;
	u->left -= len;
	return len;
}

/* Send through an SMTP server; a 5xx reply is final, everything else retries. */
static void
send_smtp(const struct bj_conf *conf, const char *msg, struct bj_note *note)
{
	CURL *c = curl_easy_init();
	struct curl_slist *rcpt = NULL;
	struct upload up = { msg, strlen(msg) };
	char errbuf[CURL_ERROR_SIZE] = "", from[300], to[300], *url;
	long code = 0;
	long ssl = CURLUSESSL_TRY;
	CURLcode rc;

	if (strncmp(conf->mail_transport, "smtp+starttls://", 16) == 0) {
		url = bj_xasprintf("smtp://%s", conf->mail_transport + 16);
		ssl = CURLUSESSL_ALL;
	} else {
		url = bj_xstrdup(conf->mail_transport);
	}
	snprintf(from, sizeof from, "<%s>", conf->mail_from);
	snprintf(to, sizeof to, "<%s>", note->target);
	rcpt = curl_slist_append(rcpt, to);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	/* straight to the configured server: no all_proxy from the environment */
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_USE_SSL, ssl);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_msg);
	curl_easy_setopt(c, CURLOPT_READDATA, &up);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)conf->webhook_timeout);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)conf->webhook_timeout * 2);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OK) {
		bj_note_set(note, BJ_NOTE_SENT, (int)code, NULL);
	} else {
		char err[CURL_ERROR_SIZE + 64];
		snprintf(err, sizeof err, "%s%s%s", curl_easy_strerror(rc), errbuf[0] ? ": " : "",
		    errbuf);
		bj_note_set(note, code >= 500 && code < 600 ? BJ_NOTE_DEAD : BJ_NOTE_RETRY,
		    (int)code, err);
	}
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	free(url);
}

/* Build the job's message and hand it to the transport; the outcome lands in the note. */
void
bj_mail_deliver(const struct bj_conf *conf, struct bj_note *note)
{
	char *name, *subject, *text, *html, *msg, *mid;
	const char *why = NULL;
	struct bj_mailmsg m;

	if (!bj_mailmsg_addr_ok(note->target)) {
		bj_note_set(note, BJ_NOTE_DEAD, 0, "the recipient address is not valid");
		return;
	}
	/* the job's language, as its pages fall back to */
	bj_i18n_use(note->job->language ? note->job->language : conf->default_language);
	name = job_name(note);
	subject = bj_xasprintf("[bulkjobs] %s: %s", name, outcome_label(note->event));
	text = mail_text(conf, note);
	html = mail_html(conf, note, subject);
	mid = bj_xasprintf("<bulkjobs.%lld.%lld@%s>", note->job_id, note->id,
	    from_domain(conf->mail_from));
	m.from = conf->mail_from;
	m.to = note->target;
	m.subject = subject;
	m.date = note->now;
	m.message_id = mid;
	m.text = text;
	m.html = html;
	if ((msg = bj_mailmsg_build(&m, &why)) == NULL)
		bj_note_set(note, BJ_NOTE_DEAD, 0, why);
	else if (strncmp(conf->mail_transport, "sendmail:", 9) == 0)
		send_sendmail(conf->mail_transport + 9, conf->webhook_timeout * 2, msg, note);
	else
		send_smtp(conf, msg, note);
	free(name);
	free(subject);
	free(text);
	free(html);
	free(mid);
	free(msg);
}
