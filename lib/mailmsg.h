/*
 * mailmsg.h: RFC 5322 messages for the notification emails.
 *
 * Every header line is written by one function that turns CR, LF and other
 * control characters of its value into spaces, so no value (a job title,
 * an address) can start a header of its own. Addresses are validated
 * before use; non-ASCII subjects are RFC 2047 encoded words; bodies are
 * UTF-8 in base64, text/plain with an optional text/html alternative.
 * Pure functions: no I/O, no clock (the date is passed in).
 *
 * Ownership: the struct's strings are borrowed; returned strings belong to
 * the caller (free).
 */
#ifndef BJ_MAILMSG_H
#define BJ_MAILMSG_H

struct bj_mailmsg {
	const char	*from;		/* a bare address: user@example.org */
	const char	*to;		/* a bare address */
	const char	*subject;	/* UTF-8 */
	long long	 date;		/* unix seconds, UTC */
	const char	*message_id;	/* "<…@…>" */
	const char	*text;		/* UTF-8 text/plain body */
	const char	*html;		/* UTF-8 text/html alternative, or NULL */
};

/* 1 when addr is a plain addr-spec we are willing to write into a header. */
int bj_mailmsg_addr_ok(const char *addr);

/* A copy of v with every control character (CR, LF, TAB …) made a space. */
char *bj_mailmsg_clean(const char *v);

/*
 * v as header text: unchanged when printable ASCII, else RFC 2047 "B"
 * encoded words of UTF-8 (each at most 75 characters, whole characters
 * only) separated by spaces.
 */
char *bj_mailmsg_encode_words(const char *v);

/* The Date header value for t: "Sun, 22 Nov 2026 08:51:38 +0000". */
char *bj_mailmsg_date(long long t);

/*
 * The whole message, CRLF line ends. NULL with a static *why when an
 * address is not valid or a body is missing.
 */
char *bj_mailmsg_build(const struct bj_mailmsg *m, const char **why);

#endif
