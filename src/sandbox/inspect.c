/* `sandbox list` and `sandbox get`: records read under the shared lock,
 * their liveness checked, and for get the effective policy rebuilt exactly
 * as `sandbox exec` would enforce it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/strv.h"
#include "policy/effective_load.h"
#include "sandbox/record.h"
#include "sandbox/sandbox.h"

static int names_compare(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every sandbox name in the state directory, sorted; entries in the making
 * (dot names) are left out. */
static int names_read(int state_fd, struct strv *ret, struct error *err)
{
	int fd = openat(state_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_closedir_ DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!dir) {
		closep(&fd);
		return error_set_errno(err, errno, "reading the state directory");
	}
	while ((de = readdir(dir)))
		if (sandbox_name_valid(de->d_name) && strv_push(ret, de->d_name) < 0)
			return error_set(err, ENOMEM, "listing sandboxes: out of memory");
	if (ret->len)
		qsort(ret->items, ret->len, sizeof(*ret->items), names_compare);
	return 0;
}

static int record_load(int state_fd, const char *name, json_t **ret, struct error *err)
{
	struct sandbox_dir d = SANDBOX_DIR_INIT;
	int r;

	r = sandbox_dir_open(state_fd, name, LOCK_SH, &d, err);
	if (r >= 0)
		r = state_read(&d, ret, err);
	sandbox_dir_close(&d);
	return r;
}

/* A sandbox removed meanwhile is left out; an unreadable one is reported
 * and left out. */
static int list_append(int state_fd, const char *name, json_t *list, struct error *err)
{
	struct error one = {0};
	json_t *rec = NULL;
	int r = record_load(state_fd, name, &rec, &one);

	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		log_warning("sandbox_state", "%s", one.message);
		return 0;
	}
	r = json_array_append_new(list, record_summary(rec));
	json_decref(rec);
	return r < 0 ? error_set(err, ENOMEM, "listing sandboxes: out of memory") : 0;
}

int sandbox_list(int state_fd, json_t **ret, struct error *err)
{
	_cleanup_(strv_clear) struct strv names = {0};
	json_t *list = json_array();
	int r;

	if (!list)
		return error_set(err, ENOMEM, "listing sandboxes: out of memory");
	r = names_read(state_fd, &names, err);
	for (size_t i = 0; r >= 0 && i < names.len; i++)
		r = list_append(state_fd, names.items[i], list, err);
	if (r < 0) {
		json_decref(list);
		return r;
	}
	*ret = list;
	return 0;
}

/* The stored effective policy through effective_load and back. */
static json_t *effective_rebuilt(const json_t *rec, struct error *err)
{
	const char *source = json_string_value(json_object_get(rec, "policy_source"));
	struct policy policy = {0};
	struct effective eff = {0};
	json_t *doc = NULL;
	int r;

	r = policy_from_json(json_object_get(rec, "policy"), source ? source : "<stored>", &policy,
			     err);
	if (r >= 0)
		r = effective_from_json(json_object_get(rec, "effective"), &policy, &eff, err);
	if (r >= 0) {
		doc = effective_to_json(&eff);
		if (!doc)
			error_set(err, ENOMEM, "effective policy: out of memory");
	}
	effective_free(&eff);
	policy_free(&policy);
	return doc;
}

int sandbox_get(int state_fd, const char *name, json_t **ret, struct error *err)
{
	json_t *rec = NULL, *summary = NULL, *effective;
	int r;

	r = record_load(state_fd, name, &rec, err);
	if (r < 0)
		return r;
	summary = record_summary(rec);
	if (!summary)
		/* NOLINTNEXTLINE(bugprone-branch-clone): two failures, one message */
		r = error_set(err, ENOMEM, "sandbox %s: out of memory", name);
	else if (!json_object_get(rec, "effective"))
		r = error_set(err, EAGAIN, "sandbox '%s' has no effective policy yet (it is %s)",
			      name, record_state(rec));
	else if (!(effective = effective_rebuilt(rec, err)))
		r = error_prefix(err, "sandbox '%s'", name);
	else if (json_object_set_new(summary, "effective_policy", effective) < 0)
		r = error_set(err, ENOMEM, "sandbox %s: out of memory", name);
	json_decref(rec);
	if (r < 0) {
		json_decref(summary);
		return r;
	}
	*ret = summary;
	return 0;
}
