/*
 * metrics: counters and gauges, rendered as Prometheus text (format 0.0.4)
 * and served at /metrics by libevent's evhttp when [metrics] listen is set.
 */
#ifndef MOJOSYNC_METRICS_H
#define MOJOSYNC_METRICS_H

struct event_base;
struct metrics;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);	/* NULL-safe; stops serving */

/* Counters grow by v; gauges are set to v.  labels is 'a="x",b="y"' or "". m may be NULL. */
void metrics_add(struct metrics *m, const char *name, const char *labels, double v);
void metrics_set(struct metrics *m, const char *name, const char *labels, double v);

/* The exposition text; free() it. */
char *metrics_render(const struct metrics *m);

/* Serves /metrics on host:port. Returns 0, or -1 after logging. */
int metrics_listen(struct metrics *m, struct event_base *base, const char *hostport);

#endif
