/* mailmsg.c: building RFC 5322 / MIME messages whose headers cannot be injected. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "mailmsg.h"
#include "token.h"

#define LINE_MAX_SOFT	78	/* RFC 5322 §2.1.1 */
#define WORD_BYTES	45	/* bytes of text per encoded word: 60 base64 chars + 12 = 72 */

/* Characters allowed in the local part of an address (RFC 5322 atext and '.'). */
static int
atext(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL;
}

/* A plain local@domain: no display names, quotes, comments, spaces or controls. */
int
bj_mailmsg_addr_ok(const char *addr)
{
	const char *at, *p;
	size_t len;

	if (addr == NULL || (len = strlen(addr)) == 0 || len > 254)
		return 0;
	if ((at = strchr(addr, '@')) == NULL || strchr(at + 1, '@') != NULL)
		return 0;
	if (at == addr || at - addr > 64 || addr[0] == '.' || at[-1] == '.')
		return 0;
	for (p = addr; p < at; p++)
		if (!atext((unsigned char)*p) || (p[0] == '.' && p[1] == '.'))
			return 0;
	p = at + 1;
	if (*p == '\0' || *p == '.' || *p == '-' || addr[len - 1] == '.' || addr[len - 1] == '-')
		return 0;
	for (; *p; p++) {
		int c = (unsigned char)*p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return 0;
		if (p[0] == '.' && p[1] == '.')
			return 0;
	}
	return 1;
}

/* Control characters become spaces: what a header value may never carry. */
char *
bj_mailmsg_clean(const char *v)
{
	char *s = bj_xstrdup(v ? v : "");

	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return s;
}

/* 1 when s is printable ASCII only. */
static int
plain_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* RFC 2047 "B" words for non-ASCII text, split on character boundaries. */
char *
bj_mailmsg_encode_words(const char *v)
{
	char *clean = bj_mailmsg_clean(v);
	struct bj_buf b = { 0 };
	size_t len = strlen(clean), at = 0;

	if (plain_ascii(clean))
		return clean;
	while (at < len) {
		size_t n = len - at;
		char *enc;

		if (n > WORD_BYTES) {
			n = WORD_BYTES;
			/* never split a UTF-8 sequence: back up over continuation bytes */
			while (n > 0 && ((unsigned char)clean[at + n] & 0xc0) == 0x80)
				n--;
			if (n == 0)
				n = WORD_BYTES;
		}
		enc = bj_base64(clean + at, n, 0);
		if (b.len > 0)
			bj_buf_addc(&b, ' ');
		bj_buf_printf(&b, "=?UTF-8?B?%s?=", enc);
		free(enc);
		at += n;
	}
	free(clean);
	return bj_buf_steal(&b);
}

/* An RFC 5322 date in UTC, with English names whatever the locale. */
char *
bj_mailmsg_date(long long t)
{
	static const char *days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	    "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	return bj_xasprintf("%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
	    tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/*
 * The one place a header line is written: control characters in value
 * become spaces, and long values are folded at spaces (CRLF + the space),
 * so the only line breaks are the ones made here.
 */
static void
header_add(struct bj_buf *b, const char *name, const char *value)
{
	char *v = bj_mailmsg_clean(value);
	size_t col = strlen(name) + 2;
	char *p = v, *sp;

	bj_buf_printf(b, "%s: ", name);
	while (*p) {
		size_t word;

		sp = strchr(p + (*p == ' ' ? 1 : 0), ' ');
		word = sp ? (size_t)(sp - p) : strlen(p);
		if (*p == ' ' && col + word > LINE_MAX_SOFT && col > strlen(name) + 2) {
			bj_buf_adds(b, "\r\n");
			col = 0;
		}
		bj_buf_add(b, p, word);
		col += word;
		p += word;
	}
	bj_buf_adds(b, "\r\n");
	free(v);
}

/* A body part in base64 lines of 76 characters. */
static void
part_add(struct bj_buf *b, const char *type, const char *body)
{
	char *enc = bj_base64(body, strlen(body), 0);
	size_t len = strlen(enc);

	header_add(b, "Content-Type", type);
	header_add(b, "Content-Transfer-Encoding", "base64");
	bj_buf_adds(b, "\r\n");
	for (size_t at = 0; at < len; at += 76) {
		bj_buf_add(b, enc + at, len - at > 76 ? 76 : len - at);
		bj_buf_adds(b, "\r\n");
	}
	free(enc);
}

/* Headers through header_add() only, then the text (and HTML) parts in base64. */
char *
bj_mailmsg_build(const struct bj_mailmsg *m, const char **why)
{
	struct bj_buf b = { 0 };
	char *date, *subject, boundary[80], hex[BJ_SHA256_HEX];

	if (!bj_mailmsg_addr_ok(m->from)) {
		*why = "the sender address is not valid";
		return NULL;
	}
	if (!bj_mailmsg_addr_ok(m->to)) {
		*why = "the recipient address is not valid";
		return NULL;
	}
	if (m->text == NULL) {
		*why = "the message has no text";
		return NULL;
	}
	date = bj_mailmsg_date(m->date);
	subject = bj_mailmsg_encode_words(m->subject ? m->subject : "");
	header_add(&b, "Date", date);
	header_add(&b, "From", m->from);
	header_add(&b, "To", m->to);
	header_add(&b, "Subject", subject);
	if (m->message_id != NULL)
		header_add(&b, "Message-ID", m->message_id);
	header_add(&b, "Auto-Submitted", "auto-generated");
	header_add(&b, "MIME-Version", "1.0");
	free(date);
	free(subject);
	if (m->html == NULL) {
		part_add(&b, "text/plain; charset=UTF-8", m->text);
		return bj_buf_steal(&b);
	}
	/* '=' followed by '_' never occurs in base64, so the boundary cannot either */
	bj_sha256_hex(m->text, strlen(m->text), hex);
	snprintf(boundary, sizeof boundary, "=_bj_%.32s", hex);
	{
		char *ct = bj_xasprintf("multipart/alternative; boundary=\"%s\"", boundary);
		header_add(&b, "Content-Type", ct);
		free(ct);
	}
	bj_buf_adds(&b, "\r\n");
	bj_buf_printf(&b, "--%s\r\n", boundary);
	part_add(&b, "text/plain; charset=UTF-8", m->text);
	bj_buf_printf(&b, "--%s\r\n", boundary);
	part_add(&b, "text/html; charset=UTF-8", m->html);
	bj_buf_printf(&b, "--%s--\r\n", boundary);
	return bj_buf_steal(&b);
}
