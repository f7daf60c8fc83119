/*
 * clock.h - a monotonic clock in seconds: timeouts, deadlines, progress and timings.
 */
#ifndef SW_CLOCK_H
#define SW_CLOCK_H

#include <time.h>

/* Seconds on CLOCK_MONOTONIC (unaffected by changes of the wall clock). */
static inline double sw_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
