#include "ac-config.h"

#include "log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_MAX_SECRETS 8
#define LOG_LINE_MAX	8192

/* Logging is the one process-wide module: every other module logs through it. */
static struct {
	int verbose;
	bool journal;
	char *secrets[LOG_MAX_SECRETS];
	size_t nsecrets;
	bool progress;		/* a progress line is on screen without its newline */
} logger;

static void
wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* True when fd 2 is the stream systemd named in $JOURNAL_STREAM. */
static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
log_init(int verbose)
{
	logger.verbose = verbose;
	logger.journal = stderr_is_journal();
}

int
log_verbose(void)
{
	return logger.verbose;
}

static void
add_one(const char *s)
{
	size_t i;

	if (s == NULL || *s == '\0' || logger.nsecrets == LOG_MAX_SECRETS)
		return;
	for (i = 0; i < logger.nsecrets; i++)
		if (strcmp(logger.secrets[i], s) == 0)
			return;
	logger.secrets[logger.nsecrets] = strdup(s);
	if (logger.secrets[logger.nsecrets] != NULL)
		logger.nsecrets++;
}

void
log_add_secret(const char *secret)
{
	static const char hex[] = "0123456789ABCDEF";
	char *enc, *p;
	const unsigned char *s;

	if (secret == NULL || *secret == '\0')
		return;
	add_one(secret);
	/* The form a URL carries: RFC 3986 unreserved characters stay, the rest %XX. */
	enc = malloc(strlen(secret) * 3 + 1);
	if (enc == NULL)
		return;
	for (p = enc, s = (const unsigned char *)secret; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		    *s == '-' || *s == '.' || *s == '_' || *s == '~') {
			*p++ = (char)*s;
		} else {
			*p++ = '%';
			*p++ = hex[*s >> 4];
			*p++ = hex[*s & 15];
		}
	}
	*p = '\0';
	add_one(enc);
	wipe_free(enc);
}

void
log_forget_secrets(void)
{
	size_t i;

	for (i = 0; i < logger.nsecrets; i++) {
		wipe_free(logger.secrets[i]);
		logger.secrets[i] = NULL;
	}
	logger.nsecrets = 0;
}

/* Replaces [p, p+len) by "***" within buf; returns the position after it. */
static char *
splice_mask(char *p, size_t len)
{
	static const char mask[] = "***";
	size_t ml = sizeof(mask) - 1;

	if (len < ml) {
		/* Never make the text longer: a short secret becomes as many '*'. */
		memset(p, '*', len);
		return p + len;
	}
	memcpy(p, mask, ml);
	memmove(p + ml, p + len, strlen(p + len) + 1);
	return p + ml;
}

char *
log_redact(char *buf)
{
	static const char param[] = "access_key=";
	size_t i;
	char *p;

	if (buf == NULL)
		return buf;
	for (i = 0; i < logger.nsecrets; i++) {
		size_t sl = strlen(logger.secrets[i]);
		p = buf;
		while ((p = strstr(p, logger.secrets[i])) != NULL)
			p = splice_mask(p, sl);
	}
	p = buf;
	while ((p = strstr(p, param)) != NULL) {
		size_t vl;
		p += sizeof(param) - 1;
		vl = strcspn(p, "&# \t\r\n\"'<>;,)");
		if (vl == 0 || strncmp(p, "***", vl) == 0 || strspn(p, "*") >= vl) {
			p += vl;
			continue;
		}
		p = splice_mask(p, vl);
	}
	return buf;
}

static const char *
pri_word(int pri)
{
	switch (pri) {
	case LOG_PRI_ERR:
		return "error: ";
	case LOG_PRI_WARNING:
		return "warning: ";
	default:
		return "";
	}
}

void
log_vmsg(int pri, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	int saved = errno;
	char *nl;

	if (pri >= LOG_PRI_DEBUG && !logger.verbose)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	log_redact(line);
	/* One event, one line: embedded newlines would split it in the journal. */
	for (nl = line; (nl = strpbrk(nl, "\r\n")) != NULL;)
		*nl = ' ';
	log_progress_end();
	if (logger.journal)
		fprintf(stderr, "<%d>%s\n", pri, line);
	else
		fprintf(stderr, "mojosync: %s%s\n", pri_word(pri), line);
	fflush(stderr);
	errno = saved;
}

void
log_msg(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(pri, fmt, ap);
	va_end(ap);
}

#define LOG_FN(name, pri)                     \
	void name(const char *fmt, ...)       \
	{                                     \
		va_list ap;                   \
		va_start(ap, fmt);            \
		log_vmsg(pri, fmt, ap);       \
		va_end(ap);                   \
	}

LOG_FN(log_error, LOG_PRI_ERR)
LOG_FN(log_warn, LOG_PRI_WARNING)
LOG_FN(log_info, LOG_PRI_INFO)
LOG_FN(log_debug, LOG_PRI_DEBUG)

void
log_out(const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_redact(line);
	fputs(line, stdout);
}

void
log_progress(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_redact(line);
	fprintf(stderr, "\rmojosync: %s ", line);
	fflush(stderr);
	logger.progress = true;
}

void
log_progress_end(void)
{
	if (!logger.progress)
		return;
	fputc('\n', stderr);
	logger.progress = false;
}
