/* Helpers shared by the policy unit tests. Every policy a test loads
 * successfully through test_load() also goes through the canonical round
 * trip (policy_to_json, emitted as YAML and as JSON, loaded again) and must
 * come back equal, so every valid test policy is a round-trip case. */
#pragma once

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "policy/emit.h"
#include "policy/loader.h"
#include "policy/network.h"
#include "policy/yamltree.h"

#define TEST_FILE "test.yaml"

/* Emits p in fmt into a new string. */
static inline char *test_emit(const struct policy *p, enum output_format fmt)
{
	struct error err = {0};
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	json_t *doc = policy_to_json(p);

	assert_non_null(out);
	assert_non_null(doc);
	assert_int_equal(document_emit(doc, fmt, out, &err), 0);
	assert_int_equal(fclose(out), 0);
	json_decref(doc);
	return text;
}

static inline void print_diagnostics(const struct diagnostics *d)
{
	char line[8192];

	for (size_t i = 0; i < d->len; i++) {
		diag_format(d, i, line, sizeof(line));
		print_message("%s\n", line);
	}
}

/* p -> canonical fmt -> load must give a model equal to p. */
static inline void assert_round_trip(const struct policy *p, enum output_format fmt)
{
	struct diagnostics d = {0};
	struct policy again = {0};
	char *text = test_emit(p, fmt);
	int r = policy_load_buffer("canonical", text, strlen(text), &again, &d);

	if (r != 0 || !policy_equal(p, &again)) {
		print_message("canonical form that did not round-trip:\n%s\n", text);
		print_diagnostics(&d);
		fail_msg("round trip through %s failed (r=%d)",
			 fmt == FORMAT_YAML ? "YAML" : "JSON", r);
	}
	policy_free(&again);
	diag_free(&d);
	free(text);
}

/* Loads text as TEST_FILE; a policy that loads is also round-tripped. */
static inline int test_load(const char *text, struct policy *p, struct diagnostics *d)
{
	int r = policy_load_buffer(TEST_FILE, text, strlen(text), p, d);

	if (r == 0) {
		assert_round_trip(p, FORMAT_YAML);
		assert_round_trip(p, FORMAT_JSON);
	}
	return r;
}

/* The diagnostic at line:col of the given severity whose message contains
 * text; fails the test when there is none. */
static inline const struct diagnostic *find_diag(const struct diagnostics *d,
						 enum diag_severity sev, unsigned line,
						 unsigned col, const char *text)
{
	for (size_t i = 0; i < d->len; i++) {
		const struct diagnostic *g = &d->items[i];

		if (g->severity == sev && g->mark.line == line && g->mark.column == col &&
		    strstr(g->message, text))
			return g;
	}
	print_diagnostics(d);
	fail_msg("no %s at %u:%u containing \"%s\"", sev == DIAG_ERROR ? "error" : "warning", line,
		 col, text);
	return NULL;
}

/* text loads; the model is left in *p for the caller to inspect and free. */
static inline void load_ok(const char *text, struct policy *p)
{
	struct diagnostics d = {0};
	int r = test_load(text, p, &d);

	if (r != 0)
		print_diagnostics(&d);
	assert_int_equal(r, 0);
	assert_int_equal(d.n_errors, 0);
	diag_free(&d);
}

/* text loads (warnings allowed) and is freed again. */
static inline void expect_valid(const char *text)
{
	struct policy p = {0};

	load_ok(text, &p);
	policy_free(&p);
}

/* text is refused, among others with an error at line:col containing msg. */
static inline void expect_error(const char *text, unsigned line, unsigned col, const char *msg)
{
	struct diagnostics d = {0};
	struct policy p = {0};

	assert_int_equal(test_load(text, &p, &d), -EINVAL);
	assert_true(d.n_errors > 0);
	find_diag(&d, DIAG_ERROR, line, col, msg);
	diag_free(&d);
}

/* text is refused with exactly this one error. */
static inline void expect_only_error(const char *text, unsigned line, unsigned col, const char *msg)
{
	struct diagnostics d = {0};
	struct policy p = {0};

	assert_int_equal(test_load(text, &p, &d), -EINVAL);
	if (d.n_errors != 1)
		print_diagnostics(&d);
	assert_int_equal(d.n_errors, 1);
	find_diag(&d, DIAG_ERROR, line, col, msg);
	diag_free(&d);
}

/* text loads, with a warning at line:col containing msg. */
static inline void expect_warning(const char *text, unsigned line, unsigned col, const char *msg)
{
	struct diagnostics d = {0};
	struct policy p = {0};

	assert_int_equal(test_load(text, &p, &d), 0);
	assert_int_equal(d.n_errors, 0);
	find_diag(&d, DIAG_WARNING, line, col, msg);
	policy_free(&p);
	diag_free(&d);
}
