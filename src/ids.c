#include "ac-config.h"

#include "ids.h"

#include <stdlib.h>
#include <string.h>

int
ids_add(struct ids *a, int64_t id)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		int64_t *v = realloc(a->v, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = id;
	return 0;
}

static int
cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

void
ids_sort(struct ids *a)
{
	size_t i, j;

	if (a->n == 0)
		return;
	qsort(a->v, a->n, sizeof(*a->v), cmp_id);
	for (i = 1, j = 1; i < a->n; i++)
		if (a->v[i] != a->v[j - 1])
			a->v[j++] = a->v[i];
	a->n = j;
}

bool
ids_has(const struct ids *a, int64_t id)
{
	return a->n > 0 && bsearch(&id, a->v, a->n, sizeof(*a->v), cmp_id) != NULL;
}

void
ids_free(struct ids *a)
{
	free(a->v);
	memset(a, 0, sizeof(*a));
}
