/* Diagnostics: collecting violations with their marks, ordering them, and
 * formatting each as one "FILE:LINE:COL: severity: message" line. Messages
 * quote user text, so control characters are escaped when stored. */
#include "policy/diag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A copy of s in which control characters read as \xNN. */
static char *escape_controls(const char *s)
{
	size_t len = strlen(s);
	char *out = malloc(len * 4 + 1);
	char *o = out;

	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			o += sprintf(o, "\\x%02x", *p);
		else
			*o++ = (char)*p;
	}
	*o = '\0';
	return out;
}

void diag_add(struct diagnostics *d, enum diag_severity sev, struct source_mark mark,
	      const char *fmt, ...)
{
	struct diagnostic *items;
	char *raw = NULL, *message;
	va_list ap;
	int r;

	if (sev == DIAG_ERROR)
		d->n_errors++;
	if (d->len >= DIAG_MAX_KEPT) {
		d->n_dropped++;
		return;
	}
	va_start(ap, fmt);
	r = vasprintf(&raw, fmt, ap);
	va_end(ap);
	message = r < 0 ? NULL : escape_controls(raw);
	free(r < 0 ? NULL : raw);
	items = message ? realloc(d->items, (d->len + 1) * sizeof(*items)) : NULL;
	if (!items) {
		free(message);
		d->n_dropped++;
		return;
	}
	items[d->len++] = (struct diagnostic){.severity = sev, .mark = mark, .message = message};
	d->items = items;
}

void diag_format(const struct diagnostics *d, size_t i, char *buf, size_t size)
{
	const struct diagnostic *g = &d->items[i];
	const char *file = d->file ? d->file : "<input>";
	const char *sev = g->severity == DIAG_ERROR ? "error" : "warning";

	if (g->mark.line == 0)
		snprintf(buf, size, "%s: %s: %s", file, sev, g->message);
	else
		snprintf(buf, size, "%s:%u:%u: %s: %s", file, g->mark.line, g->mark.column, sev,
			 g->message);
}

int diag_set_file(struct diagnostics *d, const char *file)
{
	if (d->file)
		return 0;
	d->file = strdup(file);
	return d->file ? 0 : -ENOMEM;
}

static bool mark_before(struct source_mark a, struct source_mark b)
{
	return a.line < b.line || (a.line == b.line && a.column < b.column);
}

void diag_sort(struct diagnostics *d)
{
	for (size_t i = 1; i < d->len; i++) {
		struct diagnostic g = d->items[i];
		size_t j = i;

		for (; j > 0 && mark_before(g.mark, d->items[j - 1].mark); j--)
			d->items[j] = d->items[j - 1];
		d->items[j] = g;
	}
}

size_t diag_count(const struct diagnostics *d, enum diag_severity sev)
{
	size_t n = 0;

	for (size_t i = 0; i < d->len; i++)
		n += d->items[i].severity == sev;
	return n;
}

void diag_free(struct diagnostics *d)
{
	for (size_t i = 0; i < d->len; i++)
		free(d->items[i].message);
	free(d->items);
	free(d->file);
	memset(d, 0, sizeof(*d));
}
