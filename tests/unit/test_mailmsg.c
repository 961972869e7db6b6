/* test_mailmsg.c: message building: header injection, RFC 2047, addresses, structure. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "harness.h"
#include "mailmsg.h"
#include "token.h"

/* The header block of msg (up to the first empty line), caller frees. */
static char *
header_block(const char *msg)
{
	const char *end = strstr(msg, "\r\n\r\n");

	CU_ASSERT_PTR_NOT_NULL(end);
	return bj_xstrndup(msg, end ? (size_t)(end - msg) + 2 : strlen(msg));
}

/* Number of header lines (not continuation lines) named name in the block. */
static int
count_headers(const char *block, const char *name)
{
	size_t n = strlen(name);
	int count = 0;

	for (const char *p = block; p && *p; ) {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			count++;
		p = strstr(p, "\r\n");
		if (p)
			p += 2;
	}
	return count;
}

/* Every line break in the block is CRLF, and every line is a header or a continuation. */
static void
assert_well_formed(const char *block)
{
	for (const char *p = block; *p; ) {
		const char *eol = strstr(p, "\r\n");
		CU_ASSERT_PTR_NOT_NULL_FATAL(eol);
		CU_ASSERT_PTR_NULL(memchr(p, '\n', (size_t)(eol - p)));
		CU_ASSERT_PTR_NULL(memchr(p, '\r', (size_t)(eol - p)));
		if (*p != ' ' && *p != '\t') {
			const char *colon = memchr(p, ':', (size_t)(eol - p));
			CU_ASSERT_PTR_NOT_NULL(colon);
		}
		CU_ASSERT_TRUE(eol - p <= 998);
		p = eol + 2;
	}
}

/* Only plain addr-specs pass; anything that could carry a header does not. */
static void
test_addresses(void)
{
	CU_ASSERT_TRUE(bj_mailmsg_addr_ok("alice@example.org"));
	CU_ASSERT_TRUE(bj_mailmsg_addr_ok("a.b+tag@mail.example.co.uk"));
	CU_ASSERT_FALSE(bj_mailmsg_addr_ok("alice@example.org\r\nBcc: eve@evil.test"));
	CU_ASSERT_FALSE(bj_mailmsg_addr_ok("alice@example.org\nBcc: eve@evil.test"));
	CU_ASSERT_FALSE(bj_mailmsg_addr_ok("Alice <alice@example.org>"));
	CU_ASSERT_FALSE(bj_mailmsg_addr_ok("alice@example.org, eve@evil.test"));
	CU_ASSERT_FALSE(bj_mailmsg_addr_ok("alice"));
	CU_ASSERT_FALSE(bj_mailmsg_addr_ok("@example.org"));
	CU_ASSERT_FALSE(bj_mailmsg_addr_ok("alice@"));
	CU_ASSERT_FALSE(bj_mailmsg_addr_ok("a@b@c"));
	CU_ASSERT_FALSE(bj_mailmsg_addr_ok("al..ice@example.org"));
	CU_ASSERT_FALSE(bj_mailmsg_addr_ok("alice@exa mple.org"));
	CU_ASSERT_FALSE(bj_mailmsg_addr_ok(""));
	CU_ASSERT_FALSE(bj_mailmsg_addr_ok(NULL));
}

/* A title carrying CRLF + "Bcc:" stays inside the Subject line. */
static void
test_subject_injection(void)
{
	struct bj_mailmsg m = { "bulkjobs@example.org", "alice@example.org",
	    "Export done\r\nBcc: eve@evil.test\r\n\r\nfake body", 1795337498LL,
	    "<notify-1@example.org>", "hello\n", NULL };
	const char *why = NULL;
	char *msg = bj_mailmsg_build(&m, &why), *hb;

	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	hb = header_block(msg);
	assert_well_formed(hb);
	CU_ASSERT_EQUAL(count_headers(hb, "Bcc"), 0);
	CU_ASSERT_EQUAL(count_headers(hb, "Subject"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(hb, "Subject: Export done  Bcc: eve@evil.test    fake body\r\n"));
	free(hb);
	free(msg);
}

/* A bad sender or recipient yields no message and says which. */
static void
test_bad_address_refused(void)
{
	struct bj_mailmsg m = { "bulkjobs@example.org", "alice@example.org\r\nBcc: eve@evil.test",
	    "s", 0, NULL, "t", NULL };
	const char *why = NULL;

	CU_ASSERT_PTR_NULL(bj_mailmsg_build(&m, &why));
	CU_ASSERT_STRING_EQUAL(why, "the recipient address is not valid");
	m.to = "alice@example.org";
	m.from = "x";
	CU_ASSERT_PTR_NULL(bj_mailmsg_build(&m, &why));
	CU_ASSERT_STRING_EQUAL(why, "the sender address is not valid");
}

/* Decode a sequence of "=?UTF-8?B?…?=" words back to text (test helper). */
static char *
decode_words(const char *s)
{
	struct bj_buf b = { 0 };
	const char *p = s;

	while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
		const char *end = strstr(p + 10, "?=");
		char *chunk;
		unsigned char *raw;
		size_t n = 0;

		CU_ASSERT_PTR_NOT_NULL_FATAL(end);
		CU_ASSERT_TRUE(end + 2 - p <= 75);
		chunk = bj_xstrndup(p + 10, (size_t)(end - p - 10));
		raw = bj_base64_decode(chunk, &n);
		CU_ASSERT_PTR_NOT_NULL_FATAL(raw);
		/* each word holds whole UTF-8 characters: it never starts on a continuation byte */
		CU_ASSERT_NOT_EQUAL(raw[0] & 0xc0, 0x80);
		bj_buf_add(&b, raw, n);
		free(raw);
		free(chunk);
		p = end + 2;
	}
	return bj_buf_steal(&b);
}

/* Non-ASCII titles become encoded words that decode back exactly. */
static void
test_rfc2047(void)
{
	const char *title = "Export terminé: «rapports» 日本語のタイトルがとても長い場合の折り返しテスト ✓✓✓";
	char *w = bj_mailmsg_encode_words(title), *back;

	CU_ASSERT_EQUAL(strncmp(w, "=?UTF-8?B?", 10), 0);
	back = decode_words(w);
	CU_ASSERT_STRING_EQUAL(back, title);
	free(back);
	free(w);
	w = bj_mailmsg_encode_words("plain ascii");
	CU_ASSERT_STRING_EQUAL(w, "plain ascii");
	free(w);
}

/* A long encoded subject is folded onto continuation lines that decode to the title. */
static void
test_long_subject_folds(void)
{
	const char *title = "Übersicht aller Bestellungen des Jahres 2026 für die Filialen Nord, Süd, Ost und West";
	struct bj_mailmsg m = { "bulkjobs@example.org", "alice@example.org", title, 0,
	    "<n@example.org>", "x", NULL };
	const char *why = NULL;
	char *msg = bj_mailmsg_build(&m, &why), *hb, *back;

	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	hb = header_block(msg);
	assert_well_formed(hb);
	CU_ASSERT_PTR_NOT_NULL(strstr(hb, "\r\n =?UTF-8?B?"));
	back = decode_words(strstr(hb, "Subject:"));
	CU_ASSERT_STRING_EQUAL(back, title);
	free(back);
	free(hb);
	free(msg);
}

/* The headers a mail reader expects, CRLF everywhere, both alternatives. */
static void
test_structure(void)
{
	struct bj_mailmsg m = { "bulkjobs@example.org", "alice@example.org", "Done", 0,
	    "<notify-7@example.org>", "plain text ✓\n", "<p>html</p>" };
	const char *why = NULL;
	char *msg = bj_mailmsg_build(&m, &why), *hb, *d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	hb = header_block(msg);
	assert_well_formed(hb);
	CU_ASSERT_PTR_NOT_NULL(strstr(hb, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(hb, "From: bulkjobs@example.org\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(hb, "To: alice@example.org\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(hb, "Message-ID: <notify-7@example.org>\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(hb, "MIME-Version: 1.0\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(hb, "Content-Type: multipart/alternative;"));
	CU_ASSERT_PTR_NOT_NULL(strstr(hb, "boundary=\"=_bj_"));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "Content-Type: text/plain; charset=UTF-8\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "Content-Type: text/html; charset=UTF-8\r\n"));
	/* no bare LF anywhere in the message */
	for (const char *p = msg; (p = strchr(p, '\n')) != NULL; p++)
		CU_ASSERT_EQUAL(p[-1], '\r');
	d = bj_mailmsg_date(1795337498LL);
	CU_ASSERT_STRING_EQUAL(d, "Sun, 22 Nov 2026 08:51:38 +0000");
	free(d);
	free(hb);
	free(msg);
}

/* Register the suite and run it. */
int
main(void)
{
	CU_pSuite s = bj_test_suite("mail messages", NULL, NULL);

	CU_add_test(s, "addresses are validated", test_addresses);
	CU_add_test(s, "CRLF + Bcc: in a title adds no header", test_subject_injection);
	CU_add_test(s, "an invalid address is refused", test_bad_address_refused);
	CU_add_test(s, "RFC 2047 words hold whole characters", test_rfc2047);
	CU_add_test(s, "long subjects fold and decode back", test_long_subject_folds);
	CU_add_test(s, "headers and MIME structure", test_structure);
	return bj_test_run();
}
