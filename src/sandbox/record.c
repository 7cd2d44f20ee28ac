/* The state document of one sandbox: what create writes, the transitions the
 * supervisor and delete make, and the summary list and get print. */
#include "sandbox/record.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "policy/emit.h"

/* json_object_set_new takes the reference even on failure. */
static bool set_new(json_t *obj, const char *key, json_t *value)
{
	return value && json_object_set_new(obj, key, value) == 0;
}

static json_t *time_now(void)
{
	char buf[32];
	time_t now = time(NULL);
	struct tm tm;

	if (!gmtime_r(&now, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return NULL;
	return json_string(buf);
}

static json_t *strings_json(char *const *items)
{
	json_t *array;

	if (!items)
		return json_null();
	array = json_array();
	for (size_t i = 0; array && items[i]; i++)
		if (json_array_append_new(array, json_string(items[i])) < 0) {
			json_decref(array);
			return NULL;
		}
	return array;
}

static json_t *process_json(pid_t pid, uint64_t start_time)
{
	return json_pack("{s:i, s:I}", "pid", (json_int_t)pid, "start_time",
			 (json_int_t)start_time);
}

static json_t *process_self(void)
{
	uint64_t start;

	if (process_start_time(getpid(), &start) < 0)
		return NULL;
	return process_json(getpid(), start);
}

json_t *record_new(const char *name, const struct sandbox_spec *spec)
{
	json_t *rec = json_object();

	if (rec && set_new(rec, "name", json_string(name)) &&
	    set_new(rec, "status", json_string(STATUS_CREATING)) &&
	    set_new(rec, "created", time_now()) && set_new(rec, "supervisor", process_self()) &&
	    set_new(rec, "main", json_null()) &&
	    set_new(rec, "command", strings_json(spec->argv)) &&
	    set_new(rec, "workdir", json_string(spec->workdir)) &&
	    set_new(rec, "keep", json_boolean(spec->keep)) &&
	    set_new(rec, "exit_code", json_null()) && set_new(rec, "finished", json_null()))
		return rec;
	json_decref(rec);
	return NULL;
}

int record_set_policy(json_t *rec, const struct effective *eff)
{
	if (set_new(rec, "policy_source", json_string(eff->policy->source_name)) &&
	    set_new(rec, "policy", policy_to_json(eff->policy)) &&
	    set_new(rec, "effective", effective_to_json(eff)))
		return 0;
	return -ENOMEM;
}

int record_set_name(json_t *rec, const char *name)
{
	return set_new(rec, "name", json_string(name)) ? 0 : -ENOMEM;
}

int record_set_status(json_t *rec, const char *status)
{
	return set_new(rec, "status", json_string(status)) ? 0 : -ENOMEM;
}

int record_set_running(json_t *rec, pid_t supervisor, pid_t main_pid)
{
	uint64_t sup_start, main_start;

	if (process_start_time(supervisor, &sup_start) < 0 ||
	    process_start_time(main_pid, &main_start) < 0)
		return -ESRCH;
	if (!set_new(rec, "supervisor", process_json(supervisor, sup_start)) ||
	    !set_new(rec, "main", process_json(main_pid, main_start)))
		return -ENOMEM;
	return record_set_status(rec, STATUS_RUNNING);
}

int record_set_exited(json_t *rec, int exit_code)
{
	if (!set_new(rec, "exit_code", json_integer(exit_code)) ||
	    !set_new(rec, "finished", time_now()))
		return -ENOMEM;
	return record_set_status(rec, STATUS_EXITED);
}

const char *record_status(const json_t *rec)
{
	const char *status = json_string_value(json_object_get(rec, "status"));

	return status ? status : "unknown";
}

int record_process(const json_t *rec, const char *which, struct record_process *ret)
{
	const json_t *p = json_object_get(rec, which);
	const json_t *pid = json_object_get(p, "pid");
	const json_t *start = json_object_get(p, "start_time");

	/* A pid beyond pid_t would name another process once truncated. */
	if (!json_is_integer(pid) || !json_is_integer(start) || json_integer_value(pid) <= 0 ||
	    json_integer_value(pid) > INT_MAX || json_integer_value(start) < 0)
		return -ENOENT;
	ret->pid = (pid_t)json_integer_value(pid);
	ret->start_time = (uint64_t)json_integer_value(start);
	return 0;
}

const char *record_state(const json_t *rec)
{
	const char *status = record_status(rec);
	struct record_process sup;

	if (strcmp(status, STATUS_EXITED) == 0)
		return status;
	if (record_process(rec, "supervisor", &sup) < 0 ||
	    !process_matches(sup.pid, sup.start_time))
		return STATE_STOPPED;
	return status;
}

/* "none", "all" or the indices as "0,2". */
static json_t *gpu_summary(const json_t *effective)
{
	const json_t *gpu = json_object_get(effective, "gpu");
	const json_t *selection = json_object_get(gpu, "selection");
	char buf[GPU_SELECTION_MAX * 11] = "";
	size_t len = 0;

	if (!json_is_true(json_object_get(gpu, "requested")))
		return json_string("none");
	if (json_is_string(selection))
		return json_copy((json_t *)selection);
	for (size_t i = 0; i < json_array_size(selection) && len < sizeof(buf); i++)
		len +=
		    (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%lld", i ? "," : "",
				     (long long)json_integer_value(json_array_get(selection, i)));
	return json_string(buf);
}

/* The pid while the sandbox lives; null once it is exited or stopped. */
static json_t *pid_of(const json_t *rec, const char *state, const char *which)
{
	struct record_process p;

	if (strcmp(state, STATUS_EXITED) == 0 || strcmp(state, STATE_STOPPED) == 0 ||
	    record_process(rec, which, &p) < 0)
		return json_null();
	return json_integer(p.pid);
}

static json_t *member_copy(const json_t *rec, const char *key)
{
	const json_t *v = json_object_get(rec, key);

	return v ? json_deep_copy(v) : json_null();
}

json_t *record_summary(const json_t *rec)
{
	const json_t *effective = json_object_get(rec, "effective");
	const char *state = record_state(rec);
	const char *network =
	    json_string_value(json_object_get(json_object_get(effective, "network"), "mode"));
	json_t *s = json_object();

	if (s && set_new(s, "name", member_copy(rec, "name")) &&
	    set_new(s, "state", json_string(state)) &&
	    set_new(s, "main_pid", pid_of(rec, state, "main")) &&
	    set_new(s, "supervisor_pid", pid_of(rec, state, "supervisor")) &&
	    set_new(s, "created", member_copy(rec, "created")) &&
	    set_new(s, "gpu", gpu_summary(effective)) &&
	    set_new(s, "network", json_string(network ? network : "unknown")) &&
	    set_new(s, "command", member_copy(rec, "command")) &&
	    set_new(s, "workdir", member_copy(rec, "workdir")) &&
	    (strcmp(state, STATUS_EXITED) != 0 ||
	     set_new(s, "exit_code", member_copy(rec, "exit_code"))))
		return s;
	json_decref(s);
	return NULL;
}
