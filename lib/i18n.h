/*
 * i18n.h: the reader's language for pages and emails (GNU gettext).
 *
 * Every string a person reads on a page or in an email goes through _()
 * or ngettext(); the JSON API and its error messages stay English.
 * A process serves one request at a time, so the language is switched per
 * request with bj_i18n_use() (gettext's LANGUAGE, under the C.UTF-8
 * locale). Returned strings are static or written to the caller's buffer.
 */
#ifndef BJ_I18N_H
#define BJ_I18N_H

#include <stddef.h>

#include <libintl.h>

#define _(s)	gettext(s)
#define N_(s)	(s)

/* Bind the catalogs ($BULKJOBS_LOCALEDIR, else the installed ones). */
void bj_i18n_init(void);
/* 1 when lang is one bulkjobs has a catalog for ("en", "ja"). */
int bj_i18n_supported(const char *lang);
/*
 * The best supported language for an Accept-Language header (q-values,
 * region subtags and "*" honoured), else fallback, else "en". Static.
 */
const char *bj_i18n_negotiate(const char *accept_language, const char *fallback);
/* Switch the messages of this process to lang ("en" when its catalog is not found). */
void bj_i18n_use(const char *lang);
/* The language in use (static). */
const char *bj_i18n_current(void);
/* "3 minutes ago" / "in 2 hours" / "just now" / "in less than a minute", in the current language. */
void bj_i18n_relative(long long seconds_from_now, char *buf, size_t len);
/*
 * A date and time in time zone tz ("UTC", "Asia/Tokyo"), in the reader's
 * convention. The process's TZ is left at tz: the next call in the same
 * zone costs no look at the zone files (every other time the programs
 * write is UTC).
 */
void bj_i18n_datetime(long long epoch, const char *tz, char *buf, size_t len);
/* The time of day alone ("10:42 UTC"), as bj_i18n_datetime() writes it. */
void bj_i18n_time(long long epoch, const char *tz, char *buf, size_t len);

#endif
