/* clock.h: seconds on the monotonic clock, for measuring intervals. */
#ifndef BJ_CLOCK_H
#define BJ_CLOCK_H

/* Seconds since an arbitrary start; for intervals only, never stored. */
double bj_now(void);

#endif
