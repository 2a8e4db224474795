/*
 * sched: the arithmetic of waiting.  Backoff with jitter for retries and
 * reconnects, jitter for timers.  Pure functions: the caller supplies the
 * random number, so that the tests can pin it.
 */
#ifndef MOJOSYNC_SCHED_H
#define MOJOSYNC_SCHED_H

#include <stdint.h>

#define SCHED_BACKOFF_BASE_MS	500
#define SCHED_BACKOFF_MAX_MS	30000
#define SCHED_RETRY_AFTER_MAX_MS (5 * 60 * 1000)

/*
 * The wait before retrying after attempt `attempt` (1-based) failed:
 * exponential from SCHED_BACKOFF_BASE_MS, capped at SCHED_BACKOFF_MAX_MS,
 * with "equal jitter" (between half and all of it).  A server's Retry-After
 * (ms, or -1) wins when longer, up to SCHED_RETRY_AFTER_MAX_MS.
 */
int64_t sched_backoff_ms(int attempt, int64_t retry_after_ms, uint32_t rnd);

/* The next period of a timer: interval_ms plus or minus up to 10%, never below 1 ms. */
int64_t sched_jitter_ms(int64_t interval_ms, uint32_t rnd);

/* The wait before reconnect attempt `failures` (1-based): 1 s doubling to 60 s, with equal jitter. */
int64_t sched_reconnect_ms(int failures, uint32_t rnd);

#endif
