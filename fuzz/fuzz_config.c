/* libFuzzer target: a configuration file, through the parser. */
#include "ac-config.h"

#include "config.h"
#include "log.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	static int quiet;
	struct config *cfg;
	FILE *fp;

	if (!quiet) {
		/* Every error message would go to stderr: keep the fuzzer's output readable. */
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, STDERR_FILENO);
		snprintf(path, sizeof(path), "/tmp/mojosync-fuzz-config.%d", (int)getpid());
		unsetenv("MOJOSYNC_ACCESS_KEY");
		unsetenv("CREDENTIALS_DIRECTORY");
		quiet = 1;
	}
	fp = fopen(path, "w");
	if (fp == NULL)
		return 0;
	fwrite(data, 1, size, fp);
	fclose(fp);
	cfg = config_load(path);
	config_free(cfg);
	log_forget_secrets();
	unlink(path);
	return 0;
}
