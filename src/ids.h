/* ids: a growing array of record ids, sortable and searchable. */
#ifndef MOJOSYNC_IDS_H
#define MOJOSYNC_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ids {
	int64_t *v;
	size_t n, cap;
};

#define IDS_INIT { NULL, 0, 0 }

/* Appends id; -1 when out of memory. */
int ids_add(struct ids *a, int64_t id);
/* Sorts ascending and drops duplicates. */
void ids_sort(struct ids *a);
/* Binary search: a must be sorted. */
bool ids_has(const struct ids *a, int64_t id);
/* Frees the array; the struct is empty again. */
void ids_free(struct ids *a);

#endif
