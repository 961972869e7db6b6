/* log.c: one place that writes diagnostics, to stderr and/or syslog. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <syslog.h>

#include "clock.h"
#include "log.h"

static const char *log_ident = "bulkjobs";
static int log_syslog;
static int log_stderr = 1;
static int log_verbose;

/* Choose where messages go; ident must outlive the process. */
void
bj_log_open(const char *ident, int use_syslog, int use_stderr)
{
	log_ident = ident;
	log_syslog = use_syslog;
	log_stderr = use_stderr;
	if (use_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

/* With verbose set, info messages reach stderr too. */
void
bj_log_set_verbose(int verbose)
{
	log_verbose = verbose;
}

/* Write one message; control characters are replaced so a line stays one line. */
static void
log_v(enum bj_log_level lvl, const char *fmt, va_list ap)
{
	char msg[2048];
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *name[] = { "error", "warning", "info", "debug" };

	vsnprintf(msg, sizeof msg, fmt, ap);
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			*p = '?';
	if (log_syslog && lvl != BJ_LOG_DEBUG)
		syslog(prio[lvl], "%s", msg);
	if (log_stderr && (lvl <= BJ_LOG_WARN || log_verbose))
		fprintf(stderr, "%s: %s: %s\n", log_ident, name[lvl], msg);
}

void
bj_log(enum bj_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(lvl, fmt, ap);
	va_end(ap);
}

void
bj_log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(BJ_LOG_ERR, fmt, ap);
	va_end(ap);
}

void
bj_log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(BJ_LOG_WARN, fmt, ap);
	va_end(ap);
}

void
bj_log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(BJ_LOG_INFO, fmt, ap);
	va_end(ap);
}

void
bj_log_limited(struct bj_log_rate *r, enum bj_log_level lvl, const char *fmt, ...)
{
	double now = bj_now();
	va_list ap;

	if (r->used == 0 || now - r->start >= r->interval) {
		if (r->suppressed > 0)
			bj_log(lvl, "%ld more such messages were not logged in %.0f s", r->suppressed,
			    now - r->start);
		r->start = now;
		r->used = 0;
		r->suppressed = 0;
	}
	if (r->used >= r->max) {
		r->suppressed++;
		return;
	}
	r->used++;
	va_start(ap, fmt);
	log_v(lvl, fmt, ap);
	va_end(ap);
}

void
bj_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(BJ_LOG_ERR, fmt, ap);
	va_end(ap);
	exit(EX_OSERR);
}
