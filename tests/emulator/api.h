/* api.h: what the API handlers (http.c, writes.c) share; private to the emulator */
#ifndef MOJO_EMU_API_H
#define MOJO_EMU_API_H

#include "emu.h"

#include <json-c/json.h>

enum op {
	OP_NONE,
	OP_TICKETS_LIST, OP_TICKETS_CREATE, OP_TICKETS_SEARCH, OP_TICKETS_SHOW,
	OP_TICKETS_UPDATE, OP_TICKETS_DELETE, OP_COMMENTS_LIST,
	OP_COMMENTS_CREATE, OP_COMMENTS_SHOW, OP_COMMENTS_UPDATE,
	OP_COMMENTS_DELETE, OP_USERS_LIST, OP_USERS_CREATE, OP_USERS_TECHS,
	OP_USERS_BY_EMAIL, OP_USERS_SHOW, OP_USERS_UPDATE, OP_USERS_DELETE,
	OP_QUEUES_LIST, OP_QUEUES_CREATE, OP_QUEUES_SHOW, OP_QUEUES_UPDATE,
	OP_QUEUES_DELETE, OP_GROUPS_LIST, OP_GROUPS_CREATE, OP_GROUPS_SHOW,
	OP_GROUPS_UPDATE, OP_GROUPS_DELETE,
};


struct route {
	enum op op;
	bool v1;
	int64_t id, id2;
	bool id_ok, id2_ok;
	bool write;
};

struct hctx {
	struct emu *e;
	struct evhttp_request *req;
	struct route rt;
	struct qparams qp;
	struct rctx rc;
	struct sbuf out;
	int code;
	json_object *body; /* writes: the fields (unwrapped) */
	json_object *body_root;
};

void reply(struct hctx *h, int code);
void err_message(struct hctx *h, int code, const char *msg, bool messages);
void err_error(struct hctx *h, int code, const char *msg);
void not_found(struct hctx *h);
void item_begin(struct hctx *h, const char *wrap);
void item_end(struct hctx *h);
struct ticket *route_ticket(struct hctx *h);
void show_ticket(struct hctx *h, struct ticket *t, int code);
void emit_user_related(struct hctx *h, void *p);
void emit_queue(struct hctx *h, void *p);
void emit_group(struct hctx *h, void *p);
void h_tickets_create(struct hctx *h);
void h_tickets_update(struct hctx *h);
void h_tickets_delete(struct hctx *h);
void h_comments_create(struct hctx *h);
void h_comments_update(struct hctx *h);
void h_comments_delete(struct hctx *h);
void h_users_create(struct hctx *h);
void h_users_update(struct hctx *h);
void h_users_delete(struct hctx *h);
void h_queues_write(struct hctx *h);
void h_groups_write(struct hctx *h);

#endif
