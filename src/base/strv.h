/* A growable NULL-terminated vector of owned strings. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct strv {
	char **items; /* NULL-terminated once non-empty */
	size_t len;
	size_t cap;
};

int strv_push(struct strv *v, const char *s);       /* copies s; -ENOMEM */
int strv_push_take(struct strv *v, char *s);        /* takes ownership of s */
bool strv_contains(const struct strv *v, const char *s);
void strv_clear(struct strv *v);
