/* i18n.c: language negotiation, switching, and dates in the reader's convention. */
#include "config.h"

#include <ctype.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "i18n.h"

#ifndef LOCALEDIR
#define LOCALEDIR "/usr/share/locale"
#endif

static const char *const languages[] = { "en", "ja" };
static const char *current = "en";
static const char *asked;	/* by the last bj_i18n_use: current follows from it */

/* gettext caches translations; bumping this makes it look again */
extern int _nl_msg_cat_cntr;

void
bj_i18n_init(void)
{
	const char *dir = getenv("BULKJOBS_LOCALEDIR");

	/* LANGUAGE is honoured under any locale but plain "C" */
	if (setlocale(LC_ALL, "C.UTF-8") == NULL)
		setlocale(LC_ALL, "");
	bindtextdomain(PACKAGE, dir != NULL && *dir ? dir : LOCALEDIR);
	bind_textdomain_codeset(PACKAGE, "UTF-8");
	textdomain(PACKAGE);
	asked = NULL;
	bj_i18n_use("en");
}

int
bj_i18n_supported(const char *lang)
{
	for (size_t i = 0; i < sizeof languages / sizeof languages[0]; i++)
		if (lang != NULL && strcmp(lang, languages[i]) == 0)
			return 1;
	return 0;
}

/* The static name of lang's primary subtag when supported, else NULL. */
static const char *
primary(const char *tag, size_t len)
{
	char sub[9];
	size_t n = 0;

	while (n < len && n < sizeof sub - 1 && isalpha((unsigned char)tag[n])) {
		sub[n] = (char)tolower((unsigned char)tag[n]);
		n++;
	}
	sub[n] = '\0';
	if (n < len && tag[n] != '-' && tag[n] != '_')
		return NULL;
	for (size_t i = 0; i < sizeof languages / sizeof languages[0]; i++)
		if (strcmp(sub, languages[i]) == 0)
			return languages[i];
	return NULL;
}

const char *
bj_i18n_negotiate(const char *header, const char *fallback)
{
	const char *best = NULL, *p = header;
	double best_q = 0.0;

	if (!bj_i18n_supported(fallback))
		fallback = "en";
	while (p != NULL && *p) {
		const char *end = strchr(p, ','), *semi, *lang;
		size_t len = end ? (size_t)(end - p) : strlen(p);
		double q = 1.0;

		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		semi = memchr(p, ';', len);
		if (semi != NULL) {
			const char *qp = semi + 1;
			while (qp < p + len && (*qp == ' ' || *qp == '\t'))
				qp++;
			if (qp + 2 <= p + len && qp[0] == 'q' && qp[1] == '=')
				q = strtod(qp + 2, NULL);
			if (q < 0.0 || q > 1.0)
				q = 0.0;
		}
		{
			size_t taglen = semi ? (size_t)(semi - p) : len;
			while (taglen > 0 && (p[taglen - 1] == ' ' || p[taglen - 1] == '\t'))
				taglen--;
			lang = taglen == 1 && p[0] == '*' ? fallback : primary(p, taglen);
		}
		if (lang != NULL && q > best_q) {
			best = lang;
			best_q = q;
		}
		p = end ? end + 1 : NULL;
	}
	return best ? best : fallback;
}

void
bj_i18n_use(const char *lang)
{
	if (!bj_i18n_supported(lang))
		lang = "en";
	/* setting the language empties gettext's cache (below): only on a change */
	if (asked != NULL && strcmp(lang, asked) == 0)
		return;
	for (size_t i = 0; i < sizeof languages / sizeof languages[0]; i++)
		if (strcmp(lang, languages[i]) == 0)
			current = asked = languages[i];
	setenv("LANGUAGE", current, 1);
	++_nl_msg_cat_cntr;
	/*
	 * A loaded catalog translates "" to its header. Without one (not
	 * installed, no BULKJOBS_LOCALEDIR) the text stays English: say so,
	 * rather than lang="ja" over English words.
	 */
	if (strcmp(current, "en") != 0 && *gettext("") == '\0') {
		current = "en";
		setenv("LANGUAGE", current, 1);
		++_nl_msg_cat_cntr;
	}
}

const char *
bj_i18n_current(void)
{
	return current;
}

void
bj_i18n_relative(long long s, char *buf, size_t len)
{
	long long a = s < 0 ? -s : s, n;
	unsigned long k;

	/* each call keeps its literal format so the compiler checks it */
	if (a < 45 && s > 0) {
		snprintf(buf, len, "%s", _("in less than a minute"));
	} else if (a < 45) {
		snprintf(buf, len, "%s", _("just now"));
	} else if (a < 90 * 60) {
		n = (a + 30) / 60;
		k = (unsigned long)n;
		if (s < 0)
			snprintf(buf, len, ngettext("%lld minute ago", "%lld minutes ago", k), n);
		else
			snprintf(buf, len, ngettext("in %lld minute", "in %lld minutes", k), n);
	} else if (a < 36 * 3600) {
		n = (a + 1800) / 3600;
		k = (unsigned long)n;
		if (s < 0)
			snprintf(buf, len, ngettext("%lld hour ago", "%lld hours ago", k), n);
		else
			snprintf(buf, len, ngettext("in %lld hour", "in %lld hours", k), n);
	} else {
		n = (a + 43200) / 86400;
		k = (unsigned long)n;
		if (s < 0)
			snprintf(buf, len, ngettext("%lld day ago", "%lld days ago", k), n);
		else
			snprintf(buf, len, ngettext("in %lld day", "in %lld days", k), n);
	}
}

/* epoch as the local time of time zone tz, into tm. */
static void
in_zone(long long epoch, const char *tz, struct tm *tm)
{
	const char *want = tz != NULL && *tz ? tz : "UTC", *cur = getenv("TZ");
	time_t t = (time_t)epoch;

	/*
	 * TZ stays at the zone asked for: switching it back and forth would
	 * make glibc look at the zone files again on each tzset(), twice per
	 * time shown, and a process shows all its times in one zone.
	 */
	if (cur == NULL || strcmp(cur, want) != 0)
		setenv("TZ", want, 1);
	tzset();	/* a no-op while TZ is unchanged */
	localtime_r(&t, tm);
}

void
bj_i18n_datetime(long long epoch, const char *tz, char *buf, size_t len)
{
	struct tm tm;

	in_zone(epoch, tz, &tm);
	/* TRANSLATORS: strftime(3) format of a date and time with its zone */
	if (strftime(buf, len, _("%d %b %Y, %H:%M %Z"), &tm) == 0 && len > 0)
		buf[0] = '\0';
}

void
bj_i18n_time(long long epoch, const char *tz, char *buf, size_t len)
{
	struct tm tm;

	in_zone(epoch, tz, &tm);
	/* TRANSLATORS: strftime(3) format of a time of day with its zone */
	if (strftime(buf, len, _("%H:%M %Z"), &tm) == 0 && len > 0)
		buf[0] = '\0';
}
