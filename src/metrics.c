#include "ac-config.h"

#include "metrics.h"

#include "log.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every family the daemon exports, with its type and help: the one place they are described. */
static const struct family {
	const char *name;
	const char *type;
	const char *help;
} families[] = {
	{ "mojosync_http_requests_total", "counter", "HTTP requests to the helpdesk by endpoint class and status (0: no answer)" },
	{ "mojosync_http_retries_total", "counter", "HTTP requests retried after a fault, by endpoint class" },
	{ "mojosync_rows_total", "counter", "Rows written by resource and operation (inserted, updated, deleted)" },
	{ "mojosync_records_failed_total", "counter", "Records that could not be fetched, parsed or stored, by resource" },
	{ "mojosync_last_success_timestamp_seconds", "gauge", "Unix time of the last successful cycle, by resource" },
	{ "mojosync_watermark_age_seconds", "gauge", "Seconds between now and the watermark (helpdesk clock), by resource" },
	{ "mojosync_cycle_duration_seconds", "gauge", "Duration of the last cycle" },
	{ "mojosync_cycle_seconds_total", "counter", "Time spent in cycles" },
	{ "mojosync_cycles_total", "counter", "Cycles by outcome (ok, failed) and kind (incremental, full)" },
	{ "mojosync_db_reconnects_total", "counter", "Reconnections to PostgreSQL after it went away" },
	{ "mojosync_up", "gauge", "1 while the daemon runs" },
};

#define NFAMILIES (sizeof(families) / sizeof(families[0]))

struct series {
	size_t family;
	char *labels;
	double value;
};

struct metrics {
	struct series *s;
	size_t n, cap;
	struct evhttp *http;
};

struct metrics *
metrics_new(void)
{
	return calloc(1, sizeof(struct metrics));
}

void
metrics_free(struct metrics *m)
{
	size_t i;

	if (m == NULL)
		return;
	if (m->http != NULL)
		evhttp_free(m->http);
	for (i = 0; i < m->n; i++)
		free(m->s[i].labels);
	free(m->s);
	free(m);
}

static struct series *
find(struct metrics *m, const char *name, const char *labels)
{
	size_t f, i;

	for (f = 0; f < NFAMILIES; f++)
		if (strcmp(families[f].name, name) == 0)
			break;
	if (f == NFAMILIES) {
		log_error("metrics: %s is not a known family", name);	/* a programming error */
		return NULL;
	}
	for (i = 0; i < m->n; i++)
		if (m->s[i].family == f && strcmp(m->s[i].labels, labels) == 0)
			return &m->s[i];
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct series *s = realloc(m->s, cap * sizeof(*s));
		if (s == NULL)
			return NULL;
		m->s = s;
		m->cap = cap;
	}
	m->s[m->n].family = f;
	m->s[m->n].labels = strdup(labels);
	m->s[m->n].value = 0;
	if (m->s[m->n].labels == NULL)
		return NULL;
	return &m->s[m->n++];
}

void
metrics_add(struct metrics *m, const char *name, const char *labels, double v)
{
	struct series *s;

	if (m != NULL && (s = find(m, name, labels)) != NULL)
		s->value += v;
}

void
metrics_set(struct metrics *m, const char *name, const char *labels, double v)
{
	struct series *s;

	if (m != NULL && (s = find(m, name, labels)) != NULL)
		s->value = v;
}

char *
metrics_render(const struct metrics *m)
{
	char *buf = NULL;
	size_t len = 0, f, i;
	FILE *fp = open_memstream(&buf, &len);

	if (fp == NULL)
		return NULL;
	for (f = 0; f < NFAMILIES; f++) {
		bool any = false;
		for (i = 0; i < m->n; i++) {
			if (m->s[i].family != f)
				continue;
			if (!any)
				fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", families[f].name, families[f].help,
					families[f].name, families[f].type);
			any = true;
			if (*m->s[i].labels)
				fprintf(fp, "%s{%s} %.17g\n", families[f].name, m->s[i].labels, m->s[i].value);
			else
				fprintf(fp, "%s %.17g\n", families[f].name, m->s[i].value);
		}
	}
	fclose(fp);
	return buf;
}

static void
metrics_cb(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	struct evbuffer *out;
	char *text;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_send_error(req, 405, "only GET");
		return;
	}
	text = metrics_render(m);
	out = evbuffer_new();
	if (text == NULL || out == NULL) {
		free(text);
		if (out != NULL)
			evbuffer_free(out);
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	evbuffer_add(out, text, strlen(text));
	free(text);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

static void
notfound_cb(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_send_error(req, 404, "try /metrics");
}

int
metrics_listen(struct metrics *m, struct event_base *base, const char *hostport)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	size_t hl;
	int port;

	if (colon == NULL)
		return -1;
	hl = (size_t)(colon - hostport);
	if (hostport[0] == '[' && hl >= 2 && hostport[hl - 1] == ']') {
		hostport++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return -1;
	memcpy(host, hostport, hl);
	host[hl] = '\0';
	port = atoi(colon + 1);
	m->http = evhttp_new(base);
	if (m->http == NULL)
		return -1;
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
	evhttp_set_cb(m->http, "/metrics", metrics_cb, m);
	evhttp_set_gencb(m->http, notfound_cb, m);
	evhttp_set_timeout(m->http, 10);
	if (evhttp_bind_socket(m->http, host, (unsigned short)port) != 0) {
		log_error("metrics: cannot listen on %s:%d (from [metrics] listen); is the port taken?", host, port);
		evhttp_free(m->http);
		m->http = NULL;
		return -1;
	}
	log_info("metrics: serving Prometheus text on http://%s:%d/metrics", host, port);
	return 0;
}
