/* Unit tests of log: redaction of secrets and access_key parameters. */
#include "ac-config.h"

#include "log.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
redacts(const char *in, const char *want, const char *what)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", in);
	tap_is_str(log_redact(buf), want, "%s", what);
}

int
main(void)
{
	char buf[512];

	redacts("GET https://x/api/v2/tickets?access_key=abc123&page=2", "GET https://x/api/v2/tickets?access_key=***&page=2",
		"access_key parameter is masked even before any secret is known");
	redacts("access_key=", "access_key=", "empty access_key parameter stays as it is");
	log_add_secret("s3cr3t/k+y");
	redacts("key is s3cr3t/k+y.", "key is ***.", "a registered secret is masked");
	redacts("url ...?access_key=s3cr3t%2Fk%2By&x=1", "url ...?access_key=***&x=1",
		"the URL-encoded form of a secret is masked");
	redacts("s3cr3t/k+ys3cr3t/k+y", "******", "adjacent occurrences are all masked");
	redacts("no secret here", "no secret here", "text without secrets is unchanged");
	redacts("{\"access_key\":\"s3cr3t/k+y\"}", "{\"access_key\":\"***\"}", "a secret inside JSON is masked");
	log_add_secret("ab");
	redacts("xaby", "x**y", "a short secret is masked without growing the text");
	log_forget_secrets();
	redacts("s3cr3t/k+y", "s3cr3t/k+y", "forgotten secrets are no longer masked");

	/* The logging path itself: capture stderr into a file and look. */
	log_add_secret("TOPSECRETKEY");
	{
		struct tap_capture c;

		tap_capture_begin(&c);
		log_init(1);
		log_error("request to https://h/api/v2/users?access_key=TOPSECRETKEY failed");
		log_debug("debug with TOPSECRETKEY\nsecond line");
		tap_capture_end(&c, buf, sizeof(buf));
		tap_ok(strstr(buf, "TOPSECRETKEY") == NULL, "log lines never hold the secret");
		tap_ok(strstr(buf, "mojosync: error: request to https://h/api/v2/users?access_key=*** failed\n") != NULL,
		       "error line is prefixed and redacted");
		tap_ok(strstr(buf, "debug with *** second line\n") != NULL, "newlines inside one event are flattened");
	}
	{
		struct tap_capture c;

		tap_capture_begin(&c);
		log_init(0);
		log_debug("hidden debug");
		log_info("shown info");
		tap_capture_end(&c, buf, sizeof(buf));
		tap_ok(strstr(buf, "hidden debug") == NULL, "debug lines need -v");
		tap_ok(strstr(buf, "shown info") != NULL, "info lines are shown");
	}
	{
		/* Started by systemd: stderr is the stream named by $JOURNAL_STREAM. */
		struct tap_capture c;
		struct stat st;
		char js[64];

		tap_capture_begin(&c);
		fstat(2, &st);
		snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
		setenv("JOURNAL_STREAM", js, 1);
		log_init(1);
		log_error("e");
		log_warn("w");
		log_info("i");
		log_debug("d");
		setenv("JOURNAL_STREAM", "1:2", 1);
		log_init(0);
		log_error("plain again");
		unsetenv("JOURNAL_STREAM");
		tap_capture_end(&c, buf, sizeof(buf));
		tap_is_str(buf, "<3>e\n<4>w\n<6>i\n<7>d\nmojosync: error: plain again\n",
			   "priority prefixes only when stderr is the journal stream");
	}
	{
		struct tap_capture c;

		tap_capture_begin(&c);
		log_init(0);
		log_progress("step %d", 1);
		log_progress("step %d", 2);
		log_warn("in between");
		log_progress("step %d", 3);
		log_progress_end();
		log_progress_end();
		tap_capture_end(&c, buf, sizeof(buf));
		tap_is_str(buf, "\rmojosync: step 1 \rmojosync: step 2 \nmojosync: warning: in between\n\rmojosync: step 3 \n",
			   "a progress line is rewritten in place, and a log line starts on a new line");
	}
	log_forget_secrets();
	return tap_done();
}
