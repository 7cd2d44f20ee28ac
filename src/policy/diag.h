/* Diagnostics: every violation found in a policy file, with file, line and
 * column, collected (not only the first) for `policy check` to print. */
#pragma once

#include <stddef.h>

#include "policy/policy.h"

enum diag_severity { DIAG_ERROR, DIAG_WARNING };

struct diagnostic {
	enum diag_severity severity;
	struct source_mark mark; /* line 0: the whole file */
	char *message;
};

/* At most this many diagnostics are kept; the rest are only counted. */
#define DIAG_MAX_KEPT 100

struct diagnostics {
	char *file;
	struct diagnostic *items;
	size_t len;
	size_t n_errors;
	size_t n_dropped; /* found beyond DIAG_MAX_KEPT (or without memory) */
};

void diag_add(struct diagnostics *d, enum diag_severity sev, struct source_mark mark,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* One line per diagnostic: "FILE:LINE:COL: error: message". */
void diag_format(const struct diagnostics *d, size_t i, char *buf, size_t size);
void diag_free(struct diagnostics *d);
/* Sets the file name used by diag_format when none is set yet. */
int diag_set_file(struct diagnostics *d, const char *file);
/* Orders the diagnostics by line and column, keeping the order of equals. */
void diag_sort(struct diagnostics *d);
size_t diag_count(const struct diagnostics *d, enum diag_severity sev);
