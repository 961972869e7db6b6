/* test_i18n.c: language negotiation, plural forms and dates in English and Japanese. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "i18n.h"

/* Compile the catalogs of po/ into a private locale dir and bind it. */
static int
init(void)
{
	const char *src = getenv("BJ_SRCDIR");
	char dir[] = "/tmp/bji18nXXXXXX", cmd[2048];

	if (src == NULL || mkdtemp(dir) == NULL)
		return 1;
	for (int i = 0; i < 2; i++) {
		const char *lang = i == 0 ? "ja" : "en";
		snprintf(cmd, sizeof cmd, "mkdir -p %s/%s/LC_MESSAGES && msgfmt -o "
		    "%s/%s/LC_MESSAGES/%s.mo '%s/po/%s.po'", dir, lang, dir, lang, PACKAGE, src, lang);
		if (system(cmd) != 0)
			return 1;
	}
	setenv("BULKJOBS_LOCALEDIR", dir, 1);
	bj_i18n_init();
	return 0;
}

static void
test_negotiate(void)
{
	CU_ASSERT_STRING_EQUAL(bj_i18n_negotiate("ja", "en"), "ja");
	CU_ASSERT_STRING_EQUAL(bj_i18n_negotiate("ja-JP,ja;q=0.9,en-US;q=0.8,en;q=0.7", "en"), "ja");
	CU_ASSERT_STRING_EQUAL(bj_i18n_negotiate("en-US,en;q=0.9,ja;q=0.8", "ja"), "en");
	CU_ASSERT_STRING_EQUAL(bj_i18n_negotiate("fr-FR, ja;q=0.5, en;q=0.4", "en"), "ja");
	CU_ASSERT_STRING_EQUAL(bj_i18n_negotiate("fr, de", "ja"), "ja");	/* fallback */
	CU_ASSERT_STRING_EQUAL(bj_i18n_negotiate("*", "ja"), "ja");
	CU_ASSERT_STRING_EQUAL(bj_i18n_negotiate("ja;q=0, en;q=0.1", "ja"), "en");
	CU_ASSERT_STRING_EQUAL(bj_i18n_negotiate(NULL, "en"), "en");
	CU_ASSERT_STRING_EQUAL(bj_i18n_negotiate("", "xx"), "en");		/* bad fallback */
	CU_ASSERT_STRING_EQUAL(bj_i18n_negotiate("jax, english", "en"), "en");
	CU_ASSERT_STRING_EQUAL(bj_i18n_negotiate("JA-jp", "en"), "ja");
}

static void
test_relative_english_plurals(void)
{
	char b[64];

	bj_i18n_use("en");
	bj_i18n_relative(-10, b, sizeof b);
	CU_ASSERT_STRING_EQUAL(b, "just now");
	bj_i18n_relative(0, b, sizeof b);
	CU_ASSERT_STRING_EQUAL(b, "just now");
	/* a deadline a few seconds ahead has not passed */
	bj_i18n_relative(10, b, sizeof b);
	CU_ASSERT_STRING_EQUAL(b, "in less than a minute");
	bj_i18n_relative(-60, b, sizeof b);
	CU_ASSERT_STRING_EQUAL(b, "1 minute ago");
	bj_i18n_relative(-180, b, sizeof b);
	CU_ASSERT_STRING_EQUAL(b, "3 minutes ago");
	bj_i18n_relative(2 * 3600, b, sizeof b);
	CU_ASSERT_STRING_EQUAL(b, "in 2 hours");
	bj_i18n_relative(-86400 * 3, b, sizeof b);
	CU_ASSERT_STRING_EQUAL(b, "3 days ago");
}

static void
test_relative_japanese(void)
{
	char b[64];

	bj_i18n_use("ja");
	CU_ASSERT_STRING_EQUAL(bj_i18n_current(), "ja");
	bj_i18n_relative(-180, b, sizeof b);
	CU_ASSERT_STRING_EQUAL(b, "3分前");
	bj_i18n_relative(10, b, sizeof b);
	CU_ASSERT_STRING_EQUAL(b, "1分以内");
	bj_i18n_relative(-60, b, sizeof b);
	CU_ASSERT_STRING_EQUAL(b, "1分前");
	bj_i18n_relative(5 * 3600, b, sizeof b);
	CU_ASSERT_STRING_EQUAL(b, "5時間後");
	bj_i18n_relative(0, b, sizeof b);
	CU_ASSERT_STRING_EQUAL(b, "たった今");
	bj_i18n_use("en");
	bj_i18n_relative(-180, b, sizeof b);
	CU_ASSERT_STRING_EQUAL(b, "3 minutes ago");	/* switching back works */
}

static void
test_datetime_zone_and_convention(void)
{
	char b[96];
	long long t = 1795336200;	/* 2026-11-22 08:30:00 UTC */

	bj_i18n_use("en");
	bj_i18n_datetime(t, "UTC", b, sizeof b);
	CU_ASSERT_STRING_EQUAL(b, "22 Nov 2026, 08:30 UTC");
	bj_i18n_use("ja");
	bj_i18n_datetime(t, "Asia/Tokyo", b, sizeof b);
	CU_ASSERT_STRING_EQUAL(b, "2026年11月22日 17:30 JST");
	/* the time of day alone, in the same zone and convention */
	bj_i18n_time(t, "Asia/Tokyo", b, sizeof b);
	CU_ASSERT_STRING_EQUAL(b, "17:30 JST");
	bj_i18n_use("en");
	bj_i18n_time(t, "UTC", b, sizeof b);
	CU_ASSERT_STRING_EQUAL(b, "08:30 UTC");
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("i18n", init, NULL);

	CU_add_test(s, "Accept-Language negotiation with q-values", test_negotiate);
	CU_add_test(s, "relative times and English plurals", test_relative_english_plurals);
	CU_add_test(s, "relative times in Japanese from the catalog", test_relative_japanese);
	CU_add_test(s, "dates in a time zone, per language", test_datetime_zone_and_convention);
	return bj_test_run();
}
