/* libFuzzer target for a sandbox's state.json, read as `sandbox list`, `get`,
 * `exec` and `delete` read it: any text is refused with a message or yields
 * a summary, the recorded processes as stored, and an effective policy that
 * reloads unchanged. */
#include <stdio.h>
#include <stdlib.h>

#include "policy/effective_load.h"
#include "sandbox/record.h"
#include "sandbox/state.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void fail(const char *what, const json_t *rec)
{
	char *text = rec ? json_dumps(rec, JSON_COMPACT) : NULL;

	fprintf(stderr, "%s\n%s\n", what, text ? text : "");
	free(text);
	abort();
}

/* A pid that record_process() returns is the one stored, never a truncation. */
static void check_process(const json_t *rec, const char *which)
{
	struct record_process p;

	if (record_process(rec, which, &p) < 0)
		return;
	if (p.pid <= 0 ||
	    (json_int_t)p.pid != json_integer_value(json_object_get(json_object_get(rec, which),
								       "pid")))
		fail("record_process returned a pid that is not the one stored", rec);
}

static void check_summary(const json_t *rec)
{
	json_t *summary = record_summary(rec);
	char *text = summary ? json_dumps(summary, JSON_COMPACT) : NULL;

	if (!text)
		fail("no summary", rec);
	free(text);
	json_decref(summary);
}

/* Both output forms of `sandbox get`, written to a memory stream. */
static void emit(const json_t *doc, const json_t *rec)
{
	struct error err = {0};
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	if (!out || effective_document_emit(doc, FORMAT_YAML, out, &err) < 0 ||
	    effective_document_emit(doc, FORMAT_JSON, out, &err) < 0 || fclose(out) != 0)
		fail("the effective policy cannot be emitted", rec);
	free(text);
}

static void check_paths(const struct effective_path_list *list, const json_t *rec)
{
	for (size_t i = 0; i < list->len; i++)
		if (list->items[i].path[0] != '/')
			fail("a rebuilt effective policy holds a relative path", rec);
}

/* Only what effective_build() can produce: absolute paths, and runtime
 * additions that grant some right. A relative path would be resolved
 * against the directory `sandbox exec` runs in. */
static void check_buildable(const struct effective *eff, const json_t *rec)
{
	check_paths(&eff->read_only, rec);
	check_paths(&eff->read_write, rec);
	for (size_t i = 0; i < eff->n_additions; i++)
		if (eff->additions[i].path[0] != '/' || eff->additions[i].access == 0)
			fail("a rebuilt runtime addition is relative or grants nothing", rec);
}

static const json_t *landlock_abi(const json_t *doc)
{
	return json_object_get(json_object_get(doc, "landlock"), "abi");
}

/* What `sandbox get` prints must load again to what it printed, and show
 * the Landlock ABI stored. */
static void check_reload(const struct effective *eff, const json_t *rec)
{
	json_t *doc = effective_to_json(eff), *again_doc = NULL;
	struct effective again = {0};
	struct error err = {0};

	if (!doc)
		fail("effective_to_json failed", rec);
	if (!json_equal(landlock_abi(doc), landlock_abi(json_object_get(rec, "effective"))))
		fail("the Landlock ABI shown is not the one stored", rec);
	emit(doc, rec);
	if (effective_from_json(doc, eff->policy, &again, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		fail("a rebuilt effective policy does not load again", rec);
	}
	again_doc = effective_to_json(&again);
	if (!again_doc || !json_equal(doc, again_doc))
		fail("a rebuilt effective policy changed on reload", rec);
	json_decref(again_doc);
	json_decref(doc);
	effective_free(&again);
}

/* The rebuild `sandbox exec` and `sandbox get` make. */
static void check_effective(const json_t *rec)
{
	struct policy policy = {0};
	struct effective eff = {0};
	struct error err = {0};

	if (policy_from_json(json_object_get(rec, "policy"), "<stored>", &policy, &err) < 0) {
		if (!err.message[0])
			fail("a stored policy refused without a message", rec);
		return;
	}
	if (effective_from_json(json_object_get(rec, "effective"), &policy, &eff, &err) < 0) {
		if (!err.message[0])
			fail("a stored effective policy refused without a message", rec);
	} else {
		check_buildable(&eff, rec);
		check_reload(&eff, rec);
		effective_free(&eff);
	}
	policy_free(&policy);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct error err = {0};
	json_t *rec = NULL;

	if (state_parse("fuzz", (const char *)data, size, &rec, &err) < 0) {
		if (!err.message[0])
			fail("a state file refused without a message", NULL);
		return 0;
	}
	check_process(rec, "supervisor");
	check_process(rec, "main");
	check_summary(rec);
	check_effective(rec);
	json_decref(rec);
	return 0;
}
