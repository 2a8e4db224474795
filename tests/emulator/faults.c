/* faults.c: the warts a proxy or a sick server produces */
#include "emu.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <string.h>

void faults_date_header(struct emu *e, struct evhttp_request *req)
{
	char date[64];

	fmt_http_date(date, sizeof(date), emu_now(e));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Date", date);
}

static void send_status(struct evhttp_request *req, int code, const char *ctype,
			const char *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *buf = evbuffer_new();

	evhttp_add_header(h, "Content-Type", ctype);
	evbuffer_add(buf, body, strlen(body));
	evhttp_send_reply(req, code, NULL, buf);
	evbuffer_free(buf);
}

static void send_429(struct emu *e, struct evhttp_request *req)
{
	struct faults *f = &e->f;
	const char *mode = f->retry_after_mode;
	char val[64];

	if (strcmp(mode, "mixed") == 0) {
		static const char *const modes[] = { "seconds", "date", "none" };
		mode = modes[rng_below(&e->frng, 3)];
	}
	if (strcmp(mode, "seconds") == 0) {
		snprintf(val, sizeof(val), "%d", f->retry_after_s);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", val);
	} else if (strcmp(mode, "date") == 0) {
		/* on the emulator's clock, rounded up to the next second */
		fmt_http_date(val, sizeof(val), emu_now(e) + (int64_t)f->retry_after_s * 1000 + 999);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", val);
	}
	send_status(req, 429, "application/json; charset=utf-8",
		    "{\"message\":\"Rate limit exceeded, retry later.\"}");
}

static void send_5xx(struct evhttp_request *req, int code)
{
	switch (code) {
	case 502:
		send_status(req, 502, "text/html",
			    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n"
			    "<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n"
			    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n");
		break;
	case 503:
		send_status(req, 503, "text/html",
			    "<html><body><h1>503 Service Unavailable</h1>\n"
			    "No server is available to handle this request.\n</body></html>\n");
		break;
	case 504:
		send_status(req, 504, "text/html",
			    "<html><body><h1>504 Gateway Time-out</h1></body></html>\n");
		break;
	default:
		send_status(req, code, "application/json; charset=utf-8",
			    "{\"status\":500,\"error\":\"Internal Server Error\"}");
		break;
	}
}

bool faults_intercept(struct emu *e, struct evhttp_request *req, const char *cls)
{
	static const int codes[] = { 500, 502, 503 };
	struct faults *f = &e->f;
	int code = 0;

	if (f->fail_next > 0) {
		f->fail_next--;
		code = f->fail_next_code ? f->fail_next_code : 503;
	} else if (f->throttle_next > 0) {
		f->throttle_next--;
		code = 429;
	} else if (rng_chance(&e->frng, f->error_rate)) {
		code = codes[rng_below(&e->frng, 3)];
	} else if (rng_chance(&e->frng, f->rate_429)) {
		code = 429;
	}
	if (code == 0)
		return false;
	e->injected++;
	stat_count(e, cls, code);
	if (code == 429)
		send_429(e, req);
	else
		send_5xx(req, code);
	return true;
}

static void cut_cb(struct evhttp_connection *evcon, void *arg)
{
	(void)arg;
	evhttp_connection_free(evcon);
}

void faults_send(struct emu *e, struct evhttp_request *req, int code, struct sbuf *sb)
{
	struct faults *f = &e->f;
	bool cut = false;
	char len[32];
	struct evbuffer *buf;
	struct evkeyvalq *h;

	if (sb->len && sb->p[sb->len - 1] == ',')
		sb->p[--sb->len] = '\0';
	if ((code == 200 || code == 201) && sb->len >= 2) {
		if (f->cut_next > 0) {
			f->cut_next--;
			cut = true;
		} else {
			cut = rng_chance(&e->frng, f->cut_rate);
		}
	}
	if (!cut || evhttp_request_get_connection(req) == NULL) {
		send_json(req, code, sb);
		return;
	}
	/* the headers promise the whole body; half of it comes, then EOF */
	e->cuts++;
	h = evhttp_request_get_output_headers(req);
	snprintf(len, sizeof(len), "%zu", sb->len);
	evhttp_add_header(h, "Content-Type", "application/json; charset=utf-8");
	evhttp_add_header(h, "Content-Length", len);
	evhttp_send_reply_start(req, code, NULL);
	buf = evbuffer_new();
	evbuffer_add(buf, sb->p, sb->len / 2);
	evhttp_send_reply_chunk_with_cb(req, buf, cut_cb, NULL);
	evbuffer_free(buf);
}
