#include "ac-config.h"

#include "http.h"

#include "log.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct request {
	struct http *h;
	struct request *next;	/* in the wait queue, or the running list */
	struct request *prev;	/* in the running list */
	CURL *easy;
	char *url;
	char *body;
	size_t len, cap;
	bool too_big;
	char retry_after[64];	/* the header's value, "" when absent */
	int64_t server_date;	/* the response's Date header (Unix seconds), 0 when absent */
	struct timespec started;
	http_done_cb cb;
	void *arg;
	char errbuf[CURL_ERROR_SIZE];
};

/* A socket curl asked us to watch. */
struct sock {
	struct http *h;
	curl_socket_t fd;
	struct event *ev;
};

struct http {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct event *pace;	/* max_rate: wakes the queue when the next start is due */
	int64_t next_start_ms;	/* monotonic */
	struct http_options opt;
	struct request *wait_head, *wait_tail;
	struct request *run_head;	/* transfers inside the multi handle */
	size_t running;		/* transfers inside the multi handle */
	size_t waiting;
};

static int64_t
ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

static void
request_free(struct request *r)
{
	if (r == NULL)
		return;
	if (r->easy != NULL)
		curl_easy_cleanup(r->easy);
	if (r->url != NULL) {
		explicit_bzero(r->url, strlen(r->url));	/* the URL carries the key */
		free(r->url);
	}
	free(r->body);
	free(r);
}

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct request *r = userdata;
	size_t n = size * nmemb;
	char *nb;
	size_t cap;

	if (r->len + n + 1 > r->h->opt.max_body) {
		r->too_big = true;
		return 0;	/* aborts the transfer with CURLE_WRITE_ERROR */
	}
	if (r->len + n + 1 > r->cap) {
		cap = r->cap ? r->cap : 16384;
		while (cap < r->len + n + 1)
			cap *= 2;
		nb = realloc(r->body, cap);
		if (nb == NULL)
			return 0;
		r->body = nb;
		r->cap = cap;
	}
	memcpy(r->body + r->len, ptr, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/* An HTTP date (RFC 7231 IMF-fixdate) in Unix seconds, or -1. */
static int64_t
parse_http_date(const char *v)
{
	struct tm tm;
	time_t t;

	while (*v == ' ' || *v == '\t')
		v++;
	memset(&tm, 0, sizeof(tm));
	if (strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm) == NULL)
		return -1;
	t = timegm(&tm);
	return t == (time_t)-1 ? -1 : (int64_t)t;
}

int64_t
http_parse_retry_after(const char *v, int64_t now)
{
	char *end;
	long long secs;
	time_t t;

	while (*v == ' ' || *v == '\t')
		v++;
	if (*v >= '0' && *v <= '9') {
		secs = strtoll(v, &end, 10);
		while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
			end++;
		if (*end != '\0' || secs < 0 || secs > 86400 * 7)
			return -1;
		return secs * 1000;
	}
	t = (time_t)parse_http_date(v);
	if (t == (time_t)-1)
		return -1;
	return t <= now ? 0 : ((int64_t)t - now) * 1000;
}

static size_t
header_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct request *r = userdata;
	size_t n = size * nitems;
	char line[256];

	if (n >= sizeof(line))
		return n;
	memcpy(line, buf, n);
	line[n] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (strncasecmp(line, "retry-after:", 12) == 0)
		snprintf(r->retry_after, sizeof(r->retry_after), "%.63s", line + 12);
	else if (strncasecmp(line, "date:", 5) == 0)
		r->server_date = parse_http_date(line + 5) > 0 ? parse_http_date(line + 5) : 0;
	return n;
}

static void check_multi_info(struct http *h);
static void pace_cb(evutil_socket_t fd, short what, void *arg);

static void
unlink_running(struct http *h, struct request *r)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		h->run_head = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	r->next = r->prev = NULL;
	h->running--;
}
static void start_waiting(struct http *h);

static void
finish(struct http *h, struct request *r, CURLcode code)
{
	struct http_response resp;
	char err[CURL_ERROR_SIZE + 64];
	long status = 0;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	memset(&resp, 0, sizeof(resp));
	resp.url = r->url;
	resp.status = status;
	resp.body = r->body != NULL ? r->body : "";
	resp.len = r->len;
	/*
	 * A Retry-After date counts from the server's own Date header when it
	 * sent one: the server's clock and ours may differ.
	 */
	resp.retry_after_ms = -1;
	resp.server_date = r->server_date;
	if (r->retry_after[0] != '\0')
		resp.retry_after_ms = http_parse_retry_after(r->retry_after,
							     r->server_date > 0 ? r->server_date : (int64_t)time(NULL));
	resp.elapsed_ms = ms_since(&r->started);
	if (r->too_big) {
		snprintf(err, sizeof(err), "response body larger than %zu bytes", h->opt.max_body);
		resp.error = err;
	} else if (code != CURLE_OK) {
		snprintf(err, sizeof(err), "%s", r->errbuf[0] ? r->errbuf : curl_easy_strerror(code));
		log_redact(err);
		resp.error = err;
	}
	r->cb(&resp, r->arg);
	request_free(r);
}

static void
check_multi_info(struct http *h)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		struct request *r;
		CURL *easy;
		CURLcode code;

		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		code = msg->data.result;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
		curl_multi_remove_handle(h->multi, easy);
		unlink_running(h, r);
		finish(h, r, code);
	}
	start_waiting(h);
}

static void
event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http *h = arg;
	int action = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
	int still;

	curl_multi_socket_action(h->multi, fd, action, &still);
	check_multi_info(h);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http *h = arg;
	int still;

	(void)fd;
	(void)what;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &still);
	check_multi_info(h);
}

static int
multi_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http *h = userp;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(h->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(h->timer, &tv);
	return 0;
}

static int
sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct http *h = userp;
	struct sock *sk = socketp;
	short kind;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (sk != NULL) {
			event_free(sk->ev);
			free(sk);
			curl_multi_assign(h->multi, s, NULL);
		}
		return 0;
	}
	kind = (short)((what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0) | EV_PERSIST);
	if (sk == NULL) {
		sk = calloc(1, sizeof(*sk));
		if (sk == NULL)
			return -1;
		sk->h = h;
		sk->fd = s;
		curl_multi_assign(h->multi, s, sk);
	} else {
		event_free(sk->ev);
	}
	sk->ev = event_new(h->base, s, kind, event_cb, h);
	if (sk->ev == NULL)
		return -1;
	event_add(sk->ev, NULL);
	return 0;
}

void
http_options_init(struct http_options *o, int concurrency, int64_t timeout_ms, int64_t max_rate)
{
	const char *env = getenv("MOJOSYNC_MAX_BODY");
	long long cap = env != NULL ? atoll(env) : 0;

	o->concurrency = concurrency;
	o->timeout_ms = timeout_ms;
	o->max_rate = max_rate;
	o->max_body = cap >= 1024 ? (size_t)cap : (size_t)256 << 20;
}

struct http *
http_new(struct event_base *base, const struct http_options *opt)
{
	struct http *h;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("cannot initialise libcurl");
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->base = base;
	h->opt = *opt;
	if (h->opt.concurrency < 1)
		h->opt.concurrency = 1;
	h->multi = curl_multi_init();
	h->timer = evtimer_new(base, timer_cb, h);
	h->pace = evtimer_new(base, pace_cb, h);
	if (h->multi == NULL || h->timer == NULL || h->pace == NULL) {
		log_error("cannot set up the HTTP client");
		http_free(h);
		return NULL;
	}
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, multi_timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)h->opt.concurrency);
	return h;
}

void
http_free(struct http *h)
{
	struct request *r, *next;

	if (h == NULL)
		return;
	while ((r = h->run_head) != NULL) {
		curl_multi_remove_handle(h->multi, r->easy);
		unlink_running(h, r);
		request_free(r);
	}
	for (r = h->wait_head; r != NULL; r = next) {
		next = r->next;
		request_free(r);
	}
	if (h->timer != NULL)
		event_free(h->timer);
	if (h->pace != NULL)
		event_free(h->pace);
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	free(h);
	curl_global_cleanup();
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
pace_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	start_waiting(arg);
}

static void
start_waiting(struct http *h)
{
	while (h->wait_head != NULL && h->running < (size_t)h->opt.concurrency) {
		struct request *r = h->wait_head;
		CURLMcode mc;

		if (h->opt.max_rate > 0) {
			int64_t now = mono_ms();
			if (now < h->next_start_ms) {
				int64_t wait = h->next_start_ms - now;
				struct timeval tv = { (time_t)(wait / 1000), (suseconds_t)((wait % 1000) * 1000) };
				if (!evtimer_pending(h->pace, NULL))
					evtimer_add(h->pace, &tv);
				return;
			}
			h->next_start_ms = (now > h->next_start_ms ? now : h->next_start_ms) + 60000 / h->opt.max_rate;
		}

		h->wait_head = r->next;
		if (h->wait_head == NULL)
			h->wait_tail = NULL;
		h->waiting--;
		clock_gettime(CLOCK_MONOTONIC, &r->started);
		mc = curl_multi_add_handle(h->multi, r->easy);
		if (mc != CURLM_OK) {
			snprintf(r->errbuf, sizeof(r->errbuf), "cannot start request: %s", curl_multi_strerror(mc));
			finish(h, r, CURLE_FAILED_INIT);
			continue;
		}
		r->next = h->run_head;
		r->prev = NULL;
		if (h->run_head != NULL)
			h->run_head->prev = r;
		h->run_head = r;
		h->running++;
	}
}

int
http_get(struct http *h, const char *url, http_done_cb cb, void *arg)
{
	struct request *r;

	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -1;
	r->h = h;
	r->cb = cb;
	r->arg = arg;
	r->url = strdup(url);
	r->easy = curl_easy_init();
	if (r->url == NULL || r->easy == NULL) {
		request_free(r);
		return -1;
	}
	curl_easy_setopt(r->easy, CURLOPT_URL, r->url);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, (long)h->opt.timeout_ms);
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)(h->opt.timeout_ms < 10000 ? h->opt.timeout_ms : 10000));
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(r->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(r->easy, CURLOPT_USERAGENT, "mojosync/" PACKAGE_VERSION);
	curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	if (h->wait_tail != NULL)
		h->wait_tail->next = r;
	else
		h->wait_head = r;
	h->wait_tail = r;
	h->waiting++;
	start_waiting(h);
	return 0;
}

void
http_set_options(struct http *h, const struct http_options *opt)
{
	h->opt = *opt;
	if (h->opt.concurrency < 1)
		h->opt.concurrency = 1;
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)h->opt.concurrency);
	start_waiting(h);
}

size_t
http_pending(const struct http *h)
{
	return h->running + h->waiting;
}
