/* Regression tests for the bugs fuzzing found (docs/fuzzing.md lists them):
 * each case is the shape of a reproducer kept in tests/fuzz/corpus/state/,
 * checked here on its own, next to the well-formed value that must pass. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gpu-fixtures.h"
#include "policy/effective_load.h"
#include "policy/loader.h"
#include "sandbox/record.h"
#include "sandbox/state.h"

/* 2^32 + 1: truncated to pid_t, it names process 1. */
#define PID_WRAPPING_TO_1 4294967297LL

static json_t *record_with(const char *which, json_int_t pid, json_int_t start)
{
	json_t *rec = json_pack("{s:s, s:{s:I, s:I}}", "status", STATUS_RUNNING, which, "pid",
				pid, "start_time", start);

	assert_non_null(rec);
	return rec;
}

/* repro-pid-beyond-int.json: a stored pid beyond pid_t was truncated. */
static void test_record_pid_beyond_pid_t(void **state)
{
	struct record_process p = {0};
	json_t *rec;

	(void)state;
	rec = record_with("main", 42, 5);
	assert_int_equal(record_process(rec, "main", &p), 0);
	assert_int_equal(p.pid, 42);
	assert_int_equal(p.start_time, 5);
	json_decref(rec);
	rec = record_with("main", PID_WRAPPING_TO_1, 5);
	assert_int_equal(record_process(rec, "main", &p), -ENOENT);
	json_decref(rec);
	rec = record_with("main", 3221474878LL, 6);
	assert_int_equal(record_process(rec, "main", &p), -ENOENT);
	json_decref(rec);
	rec = record_with("main", 42, -1);
	assert_int_equal(record_process(rec, "main", &p), -ENOENT);
	json_decref(rec);
}

/* What the truncation did: a record naming 2^32 + 1 with the start time of
 * process 1 passed for a live supervisor, which `sandbox delete` would then
 * signal and `sandbox exec` would join. */
static void test_record_wrapping_pid_is_not_process_1(void **state)
{
	uint64_t init_start;
	json_t *rec;

	(void)state;
	assert_int_equal(process_start_time(1, &init_start), 0);
	rec = record_with("supervisor", 1, (json_int_t)init_start);
	assert_string_equal(record_state(rec), STATUS_RUNNING);
	json_decref(rec);
	rec = record_with("supervisor", PID_WRAPPING_TO_1, (json_int_t)init_start);
	assert_string_equal(record_state(rec), STATE_STOPPED);
	json_decref(rec);
}

/* The stored form of an effective policy built from the default policy on a
 * host with two GPUs, GPU 0 selected (a runtime addition on /proc). */
static json_t *stored_effective(struct policy *policy)
{
	struct effective_request req = {.gpu = {.requested = true, .indices = {0}, .n_indices = 1}};
	struct diagnostics diags = {0};
	struct effective eff = {0};
	struct error err = {0};
	struct fixture f;
	json_t *doc;

	fixture_init(&f);
	fixture_nvidia_host(&f, 2);
	assert_int_equal(policy_load_default(policy, &diags), 0);
	diag_free(&diags);
	if (effective_build(policy, &req, &f.host, &eff, &err) < 0)
		fail_msg("effective_build: %s", err.message);
	doc = effective_to_json(&eff);
	assert_non_null(doc);
	assert_int_equal(json_array_size(json_object_get(doc, "runtime_additions")), 1);
	effective_free(&eff);
	fixture_free(&f);
	return doc;
}

static int load(const json_t *doc, const struct policy *policy, struct error *err)
{
	struct effective eff = {0};
	int r;

	*err = (struct error){0};
	r = effective_from_json(doc, policy, &eff, err);
	effective_free(&eff);
	return r;
}

static void assert_loads(const json_t *doc, const struct policy *policy)
{
	struct error err;

	if (load(doc, policy, &err) < 0)
		fail_msg("effective_from_json: %s", err.message);
}

static void assert_malformed(const json_t *doc, const struct policy *policy, const char *key)
{
	struct error err;

	assert_int_equal(load(doc, policy, &err), -EINVAL);
	assert_non_null(strstr(err.message, key));
}

/* repro-abi-beyond-int.json: a Landlock ABI beyond int was truncated, so
 * `sandbox get` showed another number than the one stored. */
static void test_effective_abi_beyond_int(void **state)
{
	struct policy policy = {0};
	json_t *doc = stored_effective(&policy);
	json_t *landlock = json_object_get(doc, "landlock");

	(void)state;
	assert_loads(doc, &policy);
	json_object_set_new(landlock, "abi", json_integer(4294967303LL));
	assert_malformed(doc, &policy, "landlock.abi");
	json_object_set_new(landlock, "abi", json_integer(-1));
	assert_malformed(doc, &policy, "landlock.abi");
	json_object_set_new(landlock, "abi", json_integer(0));
	assert_loads(doc, &policy);
	json_decref(doc);
	policy_free(&policy);
}

static void set_list(json_t *doc, const char *key, const char *path)
{
	json_object_set_new(json_object_get(doc, "filesystem_policy"), key,
			    json_pack("[s, s]", "/usr", path));
}

/* repro-relative-path.json: relative paths were accepted in the stored
 * lists, where Landlock would resolve them against exec's directory. */
static void test_effective_relative_paths(void **state)
{
	struct policy policy = {0};
	json_t *doc = stored_effective(&policy);
	json_t *fs = json_object_get(doc, "filesystem_policy");
	json_t *read_only = json_deep_copy(json_object_get(fs, "read_only"));
	json_t *read_write = json_deep_copy(json_object_get(fs, "read_write"));

	(void)state;
	set_list(doc, "read_only", "etc");
	assert_malformed(doc, &policy, "read_only");
	json_object_set(fs, "read_only", read_only);
	set_list(doc, "read_write", "");
	assert_malformed(doc, &policy, "read_write");
	json_object_set(fs, "read_write", read_write);
	assert_loads(doc, &policy);
	json_decref(read_only);
	json_decref(read_write);
	json_decref(doc);
	policy_free(&policy);
}

/* Found with the relative paths: additions on a relative path or with no
 * right at all, which effective_build() never makes. */
static void test_effective_additions_relative_or_empty(void **state)
{
	struct policy policy = {0};
	json_t *doc = stored_effective(&policy);
	json_t *addition = json_array_get(json_object_get(doc, "runtime_additions"), 0);
	json_t *access = json_deep_copy(json_object_get(addition, "access"));

	(void)state;
	json_object_set_new(addition, "path", json_string("proc"));
	assert_malformed(doc, &policy, "runtime_additions");
	json_object_set_new(addition, "path", json_string("/proc"));
	json_object_set_new(addition, "access", json_array());
	assert_malformed(doc, &policy, "runtime_additions");
	json_object_set(addition, "access", access);
	assert_loads(doc, &policy);
	json_decref(access);
	json_decref(doc);
	policy_free(&policy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_record_pid_beyond_pid_t),
	    cmocka_unit_test(test_record_wrapping_pid_is_not_process_1),
	    cmocka_unit_test(test_effective_abi_beyond_int),
	    cmocka_unit_test(test_effective_relative_paths),
	    cmocka_unit_test(test_effective_additions_relative_or_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
