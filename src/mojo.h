/*
 * mojo: the Mojo Helpdesk API without I/O: URLs of both dialects, and
 * (with the sync engine) JSON to records.
 */
#ifndef MOJOSYNC_MOJO_H
#define MOJOSYNC_MOJO_H

#include <stddef.h>

struct config;

/*
 * Builds <url>/api/v2/<path>?access_key=KEY[&query] (v1: <url>/api/<path>).
 * In v1, a path starting with "groups" becomes "companies".  query is
 * appended as given (already escaped).  Returns a new string, or NULL.
 * The result holds the key: free it with mojo_url_free().
 */
char *mojo_url(const struct config *cfg, const char *path, const char *query);
void mojo_url_free(char *url);

/* A one-line description of an error body ({"message":…} or {"error":…}), into buf. */
void mojo_error_text(const char *body, size_t len, char *buf, size_t buflen);

#endif
