/* emu.c: mojo-emulator's main: options, startup, the event loop, shutdown */
#include "emu.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/http.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void usage(FILE *out)
{
	fputs("usage: mojo-emulator [OPTIONS]\n"
	      "A Mojo Helpdesk API emulator (v1 under /api/, v2 under /api/v2/) with\n"
	      "fault injection and a control plane under /_emu/ (see README.md).\n\n"
	      "  --port N                 TCP port on 127.0.0.1 (0: any free port; default 0)\n"
	      "  --access-key KEY         the agent key (default 0123abcd)\n"
	      "  --read-only-key KEY      a key that may read but gets 401 on writes\n"
	      "  --seed N                 data and fault seed (default 1)\n"
	      "  --tickets N              generated tickets (default 1000)\n"
	      "  --comments-per-ticket N  average comments per ticket (default 3)\n"
	      "  --users N                generated users (default 100, at least 1)\n"
	      "  --queues N               generated ticket queues (default 6, at least 1)\n"
	      "  --groups N               generated groups/companies (default 10)\n"
	      "  --millis                 dates with milliseconds (.123Z)\n"
	      "  --clock-offset SECONDS   the emulator's clock minus the host's (may be < 0)\n"
	      "  --base-time EPOCH|DATE   end of the generated history (default: the clock at start)\n"
	      "faults (all also settable at run time with POST /_emu/faults):\n"
	      "  --latency-ms N           delay before each API answer\n"
	      "  --latency-jitter-ms N    plus a random 0..N ms\n"
	      "  --error-rate F           fraction answered 500/502/503 (0..1)\n"
	      "  --rate-429 F             fraction answered 429 (0..1)\n"
	      "  --retry-after S          Retry-After seconds on 429 (default 1)\n"
	      "  --retry-after-mode M     mixed (default), seconds, date, none\n"
	      "  --cut-rate F             fraction of 200/201 bodies cut in the middle\n"
	      "  --malformed-ids LIST     ticket ids served malformed (comma-separated)\n"
	      "  --wrong-type-ids LIST    ticket ids served with wrong JSON types\n"
	      "  --search-lag S           search sees tickets as they were S seconds ago\n"
	      "  --shift-pages            a change lands between the page requests of a client\n"
	      "  --quiet-comment-delete   deleting a comment does not bump its ticket\n"
	      "  --quiet                  no startup report on stderr\n"
	      "  --help\n",
	      out);
}

enum {
	O_PORT = 256, O_KEY, O_ROKEY, O_SEED, O_TICKETS, O_CPT, O_USERS, O_QUEUES,
	O_GROUPS, O_MILLIS, O_OFFSET, O_BASE, O_LAT, O_JIT, O_ERR, O_429, O_RA,
	O_RAMODE, O_CUT, O_MAL, O_WT, O_LAG, O_SHIFT, O_QCD, O_QUIET, O_HELP,
};

static int num(const char *opt, const char *s, int64_t min, int64_t max, int64_t *out)
{
	if (parse_int64(s, out) < 0 || *out < min || *out > max) {
		fprintf(stderr, "mojo-emulator: %s: expected an integer in [%lld, %lld], got '%s'\n",
			opt, (long long)min, (long long)max, s);
		return -1;
	}
	return 0;
}

static int rate(const char *opt, const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v >= 0 && v <= 1)) {
		fprintf(stderr, "mojo-emulator: %s: expected a fraction in [0, 1], got '%s'\n", opt, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_args(struct emu *e, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, O_PORT },
		{ "access-key", required_argument, NULL, O_KEY },
		{ "read-only-key", required_argument, NULL, O_ROKEY },
		{ "seed", required_argument, NULL, O_SEED },
		{ "tickets", required_argument, NULL, O_TICKETS },
		{ "comments-per-ticket", required_argument, NULL, O_CPT },
		{ "users", required_argument, NULL, O_USERS },
		{ "queues", required_argument, NULL, O_QUEUES },
		{ "groups", required_argument, NULL, O_GROUPS },
		{ "millis", no_argument, NULL, O_MILLIS },
		{ "clock-offset", required_argument, NULL, O_OFFSET },
		{ "base-time", required_argument, NULL, O_BASE },
		{ "latency-ms", required_argument, NULL, O_LAT },
		{ "latency-jitter-ms", required_argument, NULL, O_JIT },
		{ "error-rate", required_argument, NULL, O_ERR },
		{ "rate-429", required_argument, NULL, O_429 },
		{ "retry-after", required_argument, NULL, O_RA },
		{ "retry-after-mode", required_argument, NULL, O_RAMODE },
		{ "cut-rate", required_argument, NULL, O_CUT },
		{ "malformed-ids", required_argument, NULL, O_MAL },
		{ "wrong-type-ids", required_argument, NULL, O_WT },
		{ "search-lag", required_argument, NULL, O_LAG },
		{ "shift-pages", no_argument, NULL, O_SHIFT },
		{ "quiet-comment-delete", no_argument, NULL, O_QCD },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct opts *o = &e->opt;
	struct faults *f = &e->f;
	int64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const char *name = argv[optind - 1];
		switch (c) {
		case O_PORT:
			if (num(name, optarg, 0, 65535, &v)) return -1;
			o->port = (int)v;
			break;
		case O_KEY:
			free(o->access_key);
			o->access_key = xstrdup(optarg);
			break;
		case O_ROKEY:
			free(o->read_only_key);
			o->read_only_key = xstrdup(optarg);
			break;
		case O_SEED:
			if (num(name, optarg, 0, INT64_MAX, &v)) return -1;
			o->seed = (uint64_t)v;
			break;
		case O_TICKETS:
			if (num(name, optarg, 0, 20000000, &v)) return -1;
			o->tickets = (int)v;
			break;
		case O_CPT:
			if (num(name, optarg, 0, 1000, &v)) return -1;
			o->comments_per_ticket = (int)v;
			break;
		case O_USERS:
			if (num(name, optarg, 1, 10000000, &v)) return -1;
			o->users = (int)v;
			break;
		case O_QUEUES:
			if (num(name, optarg, 1, 100000, &v)) return -1;
			o->queues = (int)v;
			break;
		case O_GROUPS:
			if (num(name, optarg, 0, 1000000, &v)) return -1;
			o->groups = (int)v;
			break;
		case O_MILLIS:
			o->millis = true;
			break;
		case O_OFFSET:
			if (num(name, optarg, -3153600000LL, 3153600000LL, &v)) return -1;
			o->clock_offset_ms = v * 1000;
			break;
		case O_BASE:
			if (parse_int64(optarg, &v) == 0)
				o->base_time_ms = v * 1000;
			else if (parse_ts(optarg, strlen(optarg), &v) == 0)
				o->base_time_ms = v;
			else {
				fprintf(stderr, "mojo-emulator: --base-time: expected epoch seconds or a date, got '%s'\n", optarg);
				return -1;
			}
			break;
		case O_LAT:
			if (num(name, optarg, 0, 600000, &v)) return -1;
			f->latency_ms = (int)v;
			break;
		case O_JIT:
			if (num(name, optarg, 0, 600000, &v)) return -1;
			f->latency_jitter_ms = (int)v;
			break;
		case O_ERR:
			if (rate(name, optarg, &f->error_rate)) return -1;
			break;
		case O_429:
			if (rate(name, optarg, &f->rate_429)) return -1;
			break;
		case O_RA:
			if (num(name, optarg, 0, 86400, &v)) return -1;
			f->retry_after_s = (int)v;
			break;
		case O_RAMODE:
			if (strcmp(optarg, "mixed") && strcmp(optarg, "seconds") &&
			    strcmp(optarg, "date") && strcmp(optarg, "none")) {
				fprintf(stderr, "mojo-emulator: --retry-after-mode: mixed, seconds, date or none\n");
				return -1;
			}
			snprintf(f->retry_after_mode, sizeof(f->retry_after_mode), "%s", optarg);
			break;
		case O_CUT:
			if (rate(name, optarg, &f->cut_rate)) return -1;
			break;
		case O_MAL:
		case O_WT:
			if (idset_parse_list(c == O_MAL ? &f->malformed[K_TICKET] : &f->wrong_type[K_TICKET], optarg)) {
				fprintf(stderr, "mojo-emulator: %s: expected comma-separated ids\n", name);
				return -1;
			}
			break;
		case O_LAG:
			if (num(name, optarg, 0, 86400 * 30, &v)) return -1;
			f->search_lag_s = (int)v;
			break;
		case O_SHIFT:
			f->shift_pages = true;
			break;
		case O_QCD:
			f->quiet_comment_delete = true;
			break;
		case O_QUIET:
			o->quiet = true;
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mojo-emulator: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

static void stop_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
	struct emu e;
	struct evhttp_bound_socket *bs;
	struct event *sigint = NULL, *sigterm = NULL;
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	int64_t t0;
	int rc = 1, one = 1;

	memset(&e, 0, sizeof(e));
	e.opt.access_key = xstrdup("0123abcd");
	e.opt.seed = 1;
	e.opt.tickets = 1000;
	e.opt.comments_per_ticket = 3;
	e.opt.users = 100;
	e.opt.queues = 6;
	e.opt.groups = 10;
	e.opt.base_time_ms = TS_NULL;
	faults_init(&e.f);
	if (parse_args(&e, argc, argv) < 0) {
		rc = 2;
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	rng_seed(&e.rng, e.opt.seed);
	rng_seed(&e.frng, e.opt.seed ^ 0x5eed5eed5eedULL);

	t0 = host_now_ms();
	store_generate(&e);
	if (!e.opt.quiet)
		fprintf(stderr, "mojo-emulator: generated %zu tickets, %zu comments, %zu users, "
			"%zu queues, %zu groups in %lld ms (seed %llu)\n",
			e.st.live[K_TICKET].n, e.st.live[K_COMMENT].n, e.st.live[K_USER].n,
			e.st.live[K_QUEUE].n, e.st.live[K_GROUP].n,
			(long long)(host_now_ms() - t0), (unsigned long long)e.opt.seed);

	e.base = event_base_new();
	e.http = e.base ? evhttp_new(e.base) : NULL;
	if (e.http == NULL) {
		fprintf(stderr, "mojo-emulator: cannot set up libevent\n");
		goto out;
	}
	evhttp_set_allowed_methods(e.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
					   EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH | EVHTTP_REQ_HEAD);
	evhttp_set_max_body_size(e.http, 32 * 1024 * 1024);
	evhttp_set_timeout(e.http, 120);
	evhttp_set_gencb(e.http, http_api_cb, &e);
	bs = evhttp_bind_socket_with_handle(e.http, "127.0.0.1", (ev_uint16_t)e.opt.port);
	if (bs == NULL) {
		fprintf(stderr, "mojo-emulator: cannot listen on 127.0.0.1:%d: %s\n", e.opt.port,
			strerror(errno));
		goto out;
	}
	/* accepted sockets inherit it: no Nagle stalls on keep-alive answers */
	setsockopt(evhttp_bound_socket_get_fd(bs), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &slen) < 0) {
		fprintf(stderr, "mojo-emulator: getsockname: %s\n", strerror(errno));
		goto out;
	}
	sigint = evsignal_new(e.base, SIGINT, stop_cb, e.base);
	sigterm = evsignal_new(e.base, SIGTERM, stop_cb, e.base);
	evsignal_add(sigint, NULL);
	evsignal_add(sigterm, NULL);
	printf("listening on 127.0.0.1:%d\n", ntohs(sin.sin_port));
	fflush(stdout);

	event_base_dispatch(e.base);
	rc = 0;
out:
	http_pending_free_all(&e);
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	if (e.http)
		evhttp_free(e.http);
	if (e.base)
		event_base_free(e.base);
	libevent_global_shutdown();
	store_free(&e.st);
	faults_free(&e.f);
	stats_free(&e);
	free(e.opt.access_key);
	free(e.opt.read_only_key);
	return rc;
}
