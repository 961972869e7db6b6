/*
 * log.h: messages to stderr and syslog.
 *
 * bj_log_open() names the program; until it is called messages go to
 * stderr only. Values from outside are passed through bj_log_clean() so
 * that CR/LF never reach a log line intact.
 */
#ifndef BJ_LOG_H
#define BJ_LOG_H

#include <stdarg.h>

enum bj_log_level { BJ_LOG_ERR, BJ_LOG_WARN, BJ_LOG_INFO, BJ_LOG_DEBUG };

void bj_log_open(const char *ident, int use_syslog, int use_stderr);
void bj_log_set_verbose(int verbose);
void bj_log(enum bj_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void bj_log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bj_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bj_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * A budget of lines per interval for a message that an outage repeats on
 * every request: past max lines in an interval the rest are counted, and
 * the count is logged with the first line of a later interval.
 */
struct bj_log_rate {
	int	 max;		/* lines per interval */
	double	 interval;	/* seconds */
	double	 start;		/* of the current interval, bj_now() */
	int	 used;
	long	 suppressed;
};
#define BJ_LOG_RATE(max, seconds) { (max), (seconds), 0, 0, 0 }
/* bj_log() within r's budget. */
void bj_log_limited(struct bj_log_rate *r, enum bj_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Log at error level and exit 71 (EX_OSERR): only at start-up, when the
 * system refuses what the program needs (a socket, a pipe, a library).
 */
void bj_fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#endif
