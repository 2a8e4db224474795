#include "ac-config.h"

#include "sched.h"

/* Between half and all of d. */
static int64_t
equal_jitter(int64_t d, uint32_t rnd)
{
	return d / 2 + (int64_t)(rnd % (uint32_t)(d / 2 + 1));
}

static int64_t
doubling(int64_t base, int n, int64_t cap)
{
	int64_t d = base;

	while (--n > 0 && d < cap)
		d *= 2;
	return d < cap ? d : cap;
}

int64_t
sched_backoff_ms(int attempt, int64_t retry_after_ms, uint32_t rnd)
{
	int64_t d = equal_jitter(doubling(SCHED_BACKOFF_BASE_MS, attempt < 1 ? 1 : attempt, SCHED_BACKOFF_MAX_MS), rnd);

	if (retry_after_ms > d)
		d = retry_after_ms > SCHED_RETRY_AFTER_MAX_MS ? SCHED_RETRY_AFTER_MAX_MS : retry_after_ms;
	return d;
}

int64_t
sched_jitter_ms(int64_t interval_ms, uint32_t rnd)
{
	int64_t span = interval_ms / 10, d;

	d = interval_ms - span + (span > 0 ? (int64_t)(rnd % (uint32_t)(2 * span + 1)) : 0);
	return d < 1 ? 1 : d;
}

int64_t
sched_reconnect_ms(int failures, uint32_t rnd)
{
	return equal_jitter(doubling(1000, failures < 1 ? 1 : failures, 60000), rnd);
}
