/* Unit tests of http: Retry-After parsing. */
#include "ac-config.h"

#include "http.h"
#include "tap.h"

int
main(void)
{
	/* 2026-12-04 12:00:00 UTC */
	const int64_t now = 1796385600;

	tap_is_int(http_parse_retry_after("120", now), 120000, "seconds");
	tap_is_int(http_parse_retry_after(" 0\r\n", now), 0, "zero with whitespace");
	tap_is_int(http_parse_retry_after("Fri, 04 Dec 2026 12:00:30 GMT\r\n", now), 30000, "HTTP date 30 s ahead");
	tap_is_int(http_parse_retry_after("Fri, 04 Dec 2026 11:00:00 GMT", now), 0, "HTTP date in the past: now");
	tap_is_int(http_parse_retry_after("soon", now), -1, "garbage");
	tap_is_int(http_parse_retry_after("-5", now), -1, "negative");
	tap_is_int(http_parse_retry_after("12abc", now), -1, "number with junk");
	tap_is_int(http_parse_retry_after("99999999", now), -1, "absurdly far");
	return tap_done();
}
