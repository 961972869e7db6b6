/* clock.c: see clock.h. */
#include "config.h"

#include <time.h>

#include "buf.h"
#include "clock.h"

double
bj_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* n digits at *p into *out, moving *p past them; 0 when they are not all digits. */
static int
digits(const char **p, int n, int *out)
{
	*out = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return 0;
		*out = *out * 10 + (**p - '0');
	}
	return 1;
}

int
bj_time_parse(const char *v, long long *us)
{
	struct tm tm = { 0 };
	long long micro = 0;
	int n;
	time_t t;

	*us = 0;
	if (v == NULL || !digits(&v, 4, &tm.tm_year) || *v++ != '-' ||
	    !digits(&v, 2, &tm.tm_mon) || *v++ != '-' || !digits(&v, 2, &tm.tm_mday) ||
	    (*v != ' ' && *v != 'T'))
		return 0;
	v++;
	if (!digits(&v, 2, &tm.tm_hour) || *v++ != ':' || !digits(&v, 2, &tm.tm_min) ||
	    *v++ != ':' || !digits(&v, 2, &tm.tm_sec))
		return 0;
	if (*v == '.') {
		v++;
		for (n = 0; n < 6 && *v >= '0' && *v <= '9'; n++, v++)
			micro = micro * 10 + (*v - '0');
		if (n == 0)
			return 0;
		for (; n < 6; n++)
			micro *= 10;
	}
	if (*v == 'Z')
		v++;
	if (*v != '\0')
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon--;
	if ((t = timegm(&tm)) == (time_t)-1)
		return 0;
	*us = (long long)t * 1000000 + micro;
	return 1;
}

char *
bj_time_iso(const char *v, int micro, long long *us)
{
	long long t;

	if (!bj_time_parse(v, &t)) {
		if (us != NULL)
			*us = 0;
		return v != NULL ? bj_xstrdup(v) : NULL;
	}
	if (us != NULL)
		*us = t;
	if (micro)
		return bj_xasprintf("%.10sT%.8s.%06lldZ", v, v + 11, t % 1000000);
	return bj_xasprintf("%.10sT%.8sZ", v, v + 11);
}
