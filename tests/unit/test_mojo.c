/* Unit tests of mojo: times, URLs, endpoint classes, JSON bodies to records, custom fields. */
#include "ac-config.h"

#include "config.h"
#include "log.h"
#include "mojo.h"
#include "tap.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

static int64_t
t(const char *s)
{
	int64_t us;

	return mojo_parse_time(s, &us) == 0 ? us : -42;
}

static const char *
cls(const char *path)
{
	static char buf[64];

	mojo_endpoint_class(path, buf, sizeof(buf));
	return buf;
}

/* Makes a record of kind from JSON text; returns 0/-1, why filled. */
static int
make(enum mojo_kind kind, const char *json, struct mojo_record *rec, char *why)
{
	struct json_object *obj;
	char err[128];
	int rc;

	obj = mojo_parse_body(json, strlen(json), err, sizeof(err));
	if (obj == NULL) {
		snprintf(why, 256, "parse: %s", err);
		return -2;
	}
	rc = mojo_record_make(rec, kind, obj, 77, why, 256);
	json_object_put(obj);
	return rc;
}

int
main(void)
{
	struct mojo_record rec;
	struct json_object *obj, *cf, *v;
	struct config cfg;
	char why[256], buf[64], err[128];
	char *url;

	/* Times */
	tap_is_int(t("2013-11-11T21:37:02Z"), 1384205822000000LL, "documented form");
	tap_is_int(t("2013-11-11T21:37:02.123Z"), 1384205822123000LL, "milliseconds");
	tap_is_int(t("2013-11-11T21:37:02.1234567Z"), 1384205822123456LL, "fractions beyond microseconds are cut");
	tap_is_int(t("2013-11-11T22:37:02+01:00"), 1384205822000000LL, "explicit offset");
	tap_is_int(t("2013-11-11T16:07:02-0530"), 1384205822000000LL, "offset without colon");
	tap_is_int(t("2013-11-11 21:37:02"), 1384205822000000LL, "space separator, no zone: UTC");
	tap_is_int(t("1969-12-31T23:59:59Z"), -1000000LL, "before the epoch");
	tap_is_int(t("2024-02-29T00:00:00Z"), 1709164800000000LL, "leap day");
	tap_is_int(t("2023-02-29T00:00:00Z"), -42, "no such day");
	tap_is_int(t("2013-13-11T21:37:02Z"), -42, "month 13");
	tap_is_int(t("2013-11-11T24:00:00Z"), -42, "hour 24");
	tap_is_int(t("2013-11-11"), -42, "a date is not a time");
	tap_is_int(t("2013-11-11T21:37:02Zjunk"), -42, "trailing junk");
	tap_is_int(t(""), -42, "empty");
	mojo_format_time(1384205822123456LL, true, buf, sizeof(buf));
	tap_is_str(buf, "2013-11-11T21:37:02.123456Z", "format with fraction");
	mojo_format_time(1384205822999999LL, false, buf, sizeof(buf));
	tap_is_str(buf, "2013-11-11T21:37:02Z", "format floors to the second");
	mojo_format_time(-1, false, buf, sizeof(buf));
	tap_is_str(buf, "1969-12-31T23:59:59Z", "floor before the epoch");

	/* URLs: the key escaped, dialect paths */
	memset(&cfg, 0, sizeof(cfg));
	cfg.url = (char *)"https://h.example";
	cfg.access_key = (char *)"k/+y 1";
	cfg.api = CONFIG_API_V2;
	url = mojo_url(&cfg, "tickets/search", "page=2");
	tap_is_str(url, "https://h.example/api/v2/tickets/search?access_key=k%2F%2By%201&page=2", "v2 URL, key escaped");
	mojo_url_free(url);
	cfg.api = CONFIG_API_V1;
	url = mojo_url(&cfg, "groups/5", NULL);
	tap_is_str(url, "https://h.example/api/companies/5?access_key=k%2F%2By%201", "v1: groups are companies");
	mojo_url_free(url);

	/* Endpoint classes */
	tap_is_str(cls("tickets/search"), "tickets.search", "class tickets.search");
	tap_is_str(cls("tickets/12"), "tickets.show", "class tickets.show");
	tap_is_str(cls("tickets"), "tickets.list", "class tickets.list");
	tap_is_str(cls("tickets/12/comments"), "comments.list", "class comments.list");
	tap_is_str(cls("users/techs"), "users.techs", "class users.techs");
	tap_is_str(cls("users/3"), "users.show", "class users.show");
	tap_is_str(cls("groups"), "groups.list", "class groups.list");

	/* Bodies */
	tap_ok(mojo_parse_body("[{\"id\":1}", 9, err, sizeof(err)) == NULL && strstr(err, "truncated") != NULL,
	       "truncated JSON is named so");
	tap_ok(mojo_parse_body("{\"id\":1} x", 10, err, sizeof(err)) == NULL && strstr(err, "malformed") != NULL,
	       "trailing garbage is malformed");
	tap_ok(mojo_parse_body("{\"id\":}", 7, err, sizeof(err)) == NULL && strstr(err, "malformed JSON at byte") != NULL,
	       "malformed JSON names the byte");
	{
		char deep[400];
		memset(deep, '[', 200);
		memset(deep + 200, ']', 200);
		obj = mojo_parse_body(deep, 400, err, sizeof(err));
		tap_ok(obj == NULL, "nesting deeper than the cap is refused");
		json_object_put(obj);
	}
	obj = mojo_parse_body("{\"ticket\":{\"id\":5}}", 19, err, sizeof(err));
	tap_is_int(mojo_object_id(mojo_show_object(obj, MOJO_TICKETS, err, sizeof(err))), 5, "v1 show unwrapped");
	json_object_put(obj);
	obj = mojo_parse_body("[{\"user\":{\"id\":9}},{\"id\":10},3]", 31, err, sizeof(err));
	tap_is_int(mojo_list_length(obj), 3, "list length");
	tap_is_int(mojo_object_id(mojo_list_item(obj, 0, MOJO_USERS)), 9, "v1 list item unwrapped");
	tap_is_int(mojo_object_id(mojo_list_item(obj, 1, MOJO_USERS)), 10, "v2 list item as it is");
	tap_ok(mojo_list_item(obj, 2, MOJO_USERS) == NULL, "a list item that is not an object");
	json_object_put(obj);

	/* Records */
	tap_is_int(make(MOJO_TICKETS, "{\"id\":7,\"title\":\"x\",\"status_id\":10,\"updated_on\":\"2020-01-01T00:00:00Z\","
				      "\"user_id\":3,\"assigned_to_id\":null,\"extra\":{\"new\":[1]}}",
			&rec, why),
		   0, "a ticket with an unknown extra field is fine");
	tap_is_int(rec.id, 7, "record id");
	tap_is_int(rec.updated_on, 1577836800000000LL, "record updated_on");
	tap_is_int(rec.users[0], 3, "record refers to its requester");
	tap_ok(strstr(rec.json, "\"extra\":{\"new\":[1]}") != NULL, "unknown fields are kept in raw");
	mojo_record_clear(&rec);
	tap_is_int(make(MOJO_TICKETS, "{\"id\":7,\"status_id\":\"ten\"}", &rec, why), -1, "a wrong type is refused");
	tap_ok(strstr(why, "status_id") != NULL && strstr(why, "integer") != NULL, "and the reason names field and type");
	tap_is_int(make(MOJO_TICKETS, "{\"id\":7,\"due_on\":\"tomorrow\"}", &rec, why), -1, "a malformed date is refused");
	tap_is_int(make(MOJO_TICKETS, "{\"title\":\"no id\"}", &rec, why), -1, "no id is refused");
	tap_is_int(make(MOJO_TICKETS, "{\"id\":-3}", &rec, why), -1, "a negative id is refused");
	tap_is_int(make(MOJO_TICKETS, "{\"id\":1.5}", &rec, why), -1, "a fractional id is refused");
	tap_is_int(make(MOJO_TICKETS, "{\"id\":99999999999999999999}", &rec, why), -1, "an id out of range is refused");
	tap_is_int(make(MOJO_COMMENTS, "{\"id\":7,\"is_private\":\"yes\"}", &rec, why), -1, "a flag must be a boolean");
	tap_is_int(make(MOJO_GROUPS, "{\"id\":7,\"support_start_date\":\"2024-01-01\"}", &rec, why), 0, "a plain date");
	mojo_record_clear(&rec);
	tap_is_int(make(MOJO_GROUPS, "{\"id\":7,\"support_start_date\":\"2024-02-30\"}", &rec, why), -1, "an impossible date");
	tap_is_int(make(MOJO_TICKETS, "{\"id\":8,\"title\":\"a\\u0000b\"}", &rec, why), 0, "U+0000 is accepted");
	tap_ok(rec.json && strstr(rec.json, "\"a\xef\xbf\xbd" "b\"") != NULL, "and stored as U+FFFD");
	mojo_record_clear(&rec);
	tap_is_int(make(MOJO_TICKETS, "{\"id\":9,\"title\":\"bad \xff\xfe\"}", &rec, why), -1, "invalid UTF-8 is refused");
	tap_ok(strstr(why, "title") != NULL && strstr(why, "UTF-8") != NULL, "and the reason names the field");
	tap_is_int(make(MOJO_TICKETS, "{\"id\":9,\"title\":\"\xed\xa0\x80\"}", &rec, why), -1, "a UTF-8 surrogate is refused");
	tap_is_int(make(MOJO_TICKETS, "{\"id\":9,\"title\":\"\xc0\xaf\"}", &rec, why), -1, "an overlong form is refused");
	tap_is_int(make(MOJO_TICKETS, "{\"id\":9,\"title\":\"日本語 😀 عربى\"}", &rec, why), 0, "CJK, emoji and RTL are fine");
	mojo_record_clear(&rec);
	tap_is_int(make(MOJO_COMMENTS, "{\"id\":1,\"body\":\"x\"}", &rec, why), 0, "a comment without ticket_id");
	tap_ok(strstr(rec.json, "\"parent_id\":77") != NULL, "gets the ticket it was listed under");
	mojo_record_clear(&rec);

	/* Custom fields, both forms */
	obj = json_tokener_parse("{\"custom_field_values\":[{\"name\":\"custom_field_Kunden-Nr.\",\"value\":\"12\"},"
				 "{\"name\":\"custom_field_優先度\",\"value\":null}],\"custom_field_types\":[]}");
	cf = mojo_custom_fields(obj);
	tap_is_str(json_object_to_json_string_ext(cf, JSON_C_TO_STRING_PLAIN),
		   "{\"Kunden-Nr.\":\"12\",\"優先度\":null}", "v2 custom_field_values by name, prefix dropped");
	json_object_put(cf);
	json_object_put(obj);
	obj = json_tokener_parse("{\"custom_field_due date (legacy)\":\"2021-01-01\",\"custom_field_types\":[],\"title\":\"t\"}");
	cf = mojo_custom_fields(obj);
	tap_ok(json_object_object_get_ex(cf, "due date (legacy)", &v) && strcmp(json_object_get_string(v), "2021-01-01") == 0 &&
		       json_object_object_length(cf) == 1,
	       "v1 top-level custom_field_ keys by name");
	json_object_put(cf);
	json_object_put(obj);
	return tap_done();
}
