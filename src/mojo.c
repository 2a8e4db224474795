#include "ac-config.h"

#include "mojo.h"

#include "config.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *
mojo_url(const struct config *cfg, const char *path, const char *query)
{
	const char *base = cfg->api == CONFIG_API_V1 ? "/api/" : "/api/v2/";
	char *key, *url;
	const char *rest = path;
	const char *name = "";
	size_t len;

	if (cfg->api == CONFIG_API_V1 && strncmp(path, "groups", 6) == 0) {
		name = "companies";
		rest = path + 6;
	}
	key = curl_easy_escape(NULL, cfg->access_key, 0);
	if (key == NULL)
		return NULL;
	len = strlen(cfg->url) + strlen(base) + strlen(name) + strlen(rest) + strlen(key) +
	      (query ? strlen(query) : 0) + 32;
	url = malloc(len);
	if (url != NULL)
		snprintf(url, len, "%s%s%s%s?access_key=%s%s%s", cfg->url, base, name, rest, key,
			 query && *query ? "&" : "", query ? query : "");
	explicit_bzero(key, strlen(key));
	curl_free(key);
	return url;
}

void
mojo_url_free(char *url)
{
	if (url == NULL)
		return;
	explicit_bzero(url, strlen(url));
	free(url);
}

void
mojo_error_text(const char *body, size_t len, char *buf, size_t buflen)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *obj = NULL, *m;
	const char *text = NULL;
	size_t i;

	if (tok != NULL) {
		obj = json_tokener_parse_ex(tok, body, (int)(len > 65536 ? 65536 : len));
		json_tokener_free(tok);
	}
	if (obj != NULL && json_object_is_type(obj, json_type_object)) {
		if (json_object_object_get_ex(obj, "message", &m) && json_object_is_type(m, json_type_string))
			text = json_object_get_string(m);
		else if (json_object_object_get_ex(obj, "error", &m) && json_object_is_type(m, json_type_string))
			text = json_object_get_string(m);
	}
	if (text != NULL) {
		snprintf(buf, buflen, "%s", text);
	} else {
		/* Not JSON: the start of the body, printable characters only. */
		snprintf(buf, buflen, "%.*s", (int)(len > 120 ? 120 : len), body);
	}
	for (i = 0; buf[i]; i++)
		if ((unsigned char)buf[i] < 0x20)
			buf[i] = ' ';
	json_object_put(obj);
}
