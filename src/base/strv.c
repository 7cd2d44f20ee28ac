/* The string vector: push, search, clear. */
#include "base/strv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int strv_push_take(struct strv *v, char *s)
{
	if (!s)
		return -ENOMEM;
	if (v->len + 2 > v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		char **items = realloc(v->items, cap * sizeof(*items));
		if (!items) {
			free(s);
			return -ENOMEM;
		}
		v->items = items;
		v->cap = cap;
	}
	v->items[v->len++] = s;
	v->items[v->len] = NULL;
	return 0;
}

int strv_push(struct strv *v, const char *s)
{
	return strv_push_take(v, strdup(s));
}

bool strv_contains(const struct strv *v, const char *s)
{
	for (size_t i = 0; i < v->len; i++)
		if (strcmp(v->items[i], s) == 0)
			return true;
	return false;
}

void strv_clear(struct strv *v)
{
	for (size_t i = 0; i < v->len; i++)
		free(v->items[i]);
	free(v->items);
	v->items = NULL;
	v->len = v->cap = 0;
}
