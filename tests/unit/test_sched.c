/* Unit tests of sched: backoff, Retry-After, jitter bounds. */
#include "ac-config.h"

#include "sched.h"
#include "tap.h"

int
main(void)
{
	uint32_t r;
	int ok, a;

	tap_is_int(sched_backoff_ms(1, -1, 0), 250, "attempt 1, lowest jitter: half of 500 ms");
	tap_is_int(sched_backoff_ms(1, -1, 250), 500, "attempt 1, highest jitter: 500 ms");
	tap_is_int(sched_backoff_ms(2, -1, 500), 1000, "attempt 2 doubles");
	tap_is_int(sched_backoff_ms(4, -1, 2000), 4000, "attempt 4: 4 s");
	tap_is_int(sched_backoff_ms(30, -1, 15000), 30000, "capped at 30 s");
	tap_is_int(sched_backoff_ms(1, 7000, 0), 7000, "a longer Retry-After wins");
	tap_is_int(sched_backoff_ms(3, 100, 1000), 2000, "a shorter Retry-After does not shorten the backoff");
	tap_is_int(sched_backoff_ms(1, 3600000, 0), 300000, "Retry-After is capped at 5 minutes");
	for (ok = 1, a = 1; a < 40; a++)
		for (r = 0; r < 100000; r += 997) {
			int64_t d = sched_backoff_ms(a, -1, r);
			if (d < 250 || d > 30000)
				ok = 0;
		}
	tap_ok(ok, "backoff always within [250 ms, 30 s]");
	for (ok = 1, r = 0; r < 200000; r += 13) {
		int64_t d = sched_jitter_ms(60000, r);
		if (d < 54000 || d > 66000)
			ok = 0;
	}
	tap_ok(ok, "interval jitter within 10%%");
	tap_is_int(sched_jitter_ms(60000, 6000), 60000, "jitter centred on the interval");
	tap_is_int(sched_jitter_ms(5, 3), 5, "tiny intervals are not jittered below 1");
	tap_is_int(sched_reconnect_ms(1, 500), 1000, "reconnect 1: 1 s");
	tap_is_int(sched_reconnect_ms(3, 2000), 4000, "reconnect 3: 4 s");
	tap_is_int(sched_reconnect_ms(20, 30000), 60000, "reconnect capped at 60 s");
	return tap_done();
}
