/*
 * clock.h: seconds on the monotonic clock, for measuring intervals, and
 * the one reader of the times the database and the API write.
 */
#ifndef BJ_CLOCK_H
#define BJ_CLOCK_H

/* Seconds since an arbitrary start; for intervals only, never stored. */
double bj_now(void);

/*
 * A UTC time as the database writes it ("2026-12-05 09:29:34[.123456]")
 * or as the API does ("2026-12-05T09:29:34[.123456]Z") into microseconds
 * since the epoch: 1 when the whole of v is one, else 0 with *us = 0
 * (also past a 32-bit time_t's end, or before 1970).
 */
int bj_time_parse(const char *v, long long *us);
/*
 * v (as bj_time_parse reads it) in the API's spelling, with microseconds
 * when micro, and its value into *us (may be NULL); a v that is not a time
 * comes back as a copy (NULL for NULL) with *us = 0. Caller frees.
 */
char *bj_time_iso(const char *v, int micro, long long *us);

#endif
