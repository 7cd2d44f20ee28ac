/* Reading back a stored effective policy: the policy as written goes through
 * the loader again, the effective document's lists, sources, runtime
 * additions, GPU selection, network mode, isolation, Landlock ABI and notes
 * become a struct effective equal to the one effective_to_json() was given. */
#include "policy/effective_load.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "host/host.h"
#include "policy/loader.h"

#define MIG_CAP_DIR "/dev/nvidia-caps/"

static int malformed(struct error *err, const char *key)
{
	return error_set(err, EINVAL, "stored effective policy: '%s' is missing or malformed", key);
}

int policy_from_json(const json_t *doc, const char *name, struct policy *ret, struct error *err)
{
	_cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT);
	struct diagnostics diags = {0};
	char line[1024] = "";
	int r;

	if (!text)
		return error_set(err, ENOMEM, "stored policy %s: cannot serialize it", name);
	r = policy_load_buffer(name, text, strlen(text), ret, &diags);
	for (size_t i = 0; r < 0 && i < diags.len && !line[0]; i++)
		if (diags.items[i].severity == DIAG_ERROR)
			diag_format(&diags, i, line, sizeof(line));
	diag_free(&diags);
	if (r < 0)
		return error_set(err, -r, "stored policy %s is invalid: %s", name,
				 line[0] ? line : strerror(-r));
	return 0;
}

static bool name_in(const char *const *names, const char *s)
{
	for (; *names; names++)
		if (strcmp(*names, s) == 0)
			return true;
	return false;
}

/* "/dev/nvidia<N>" with N selected. */
static bool selected_gpu_node(const struct gpu_selection *sel, const char *path)
{
	const char *digits = path + strlen("/dev/nvidia");
	char *end;
	unsigned long index;

	if (strncmp(path, "/dev/nvidia", strlen("/dev/nvidia")) != 0 || *digits < '0' ||
	    *digits > '9')
		return false;
	index = strtoul(digits, &end, 10);
	if (*end)
		return false;
	for (size_t i = 0; !sel->all && i < sel->n_indices; i++)
		if (sel->indices[i] == index)
			return true;
	return sel->all;
}

/* The read_write entries the GPU baseline marks as device nodes. */
static bool gpu_device_node(const struct gpu_selection *sel, const char *path)
{
	if (!sel->requested)
		return false;
	return name_in(host_gpu_shared_nodes, path) || selected_gpu_node(sel, path) ||
	       strncmp(path, MIG_CAP_DIR, strlen(MIG_CAP_DIR)) == 0;
}

static int source_from_name(const char *name, enum entry_source *ret)
{
	static const enum entry_source all[] = {SOURCE_POLICY, SOURCE_WORKDIR, SOURCE_GPU};

	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		if (strcmp(entry_source_name(all[i]), name) == 0) {
			*ret = all[i];
			return 0;
		}
	return -EINVAL;
}

static int load_entry(struct effective *eff, struct effective_path_list *list, const char *path,
		      const json_t *sources, bool read_write, struct error *err)
{
	const json_t *source_json = json_object_get(sources, path);
	enum entry_source source = SOURCE_POLICY;
	bool device = read_write && gpu_device_node(&eff->gpu, path);
	int r;

	if (source_json && (!json_is_string(source_json) ||
			    source_from_name(json_string_value(source_json), &source) < 0))
		return malformed(err, "filesystem_policy.sources");
	r = effective_path_list_add(list, path, source, (struct source_mark){0}, device);
	if (r < 0)
		return error_set(err, -r, "stored effective policy: adding '%s'", path);
	if (source == SOURCE_WORKDIR && !eff->workdir) {
		eff->workdir = strdup(path);
		if (!eff->workdir)
			return error_set(err, ENOMEM, "stored effective policy: workdir '%s'",
					 path);
	}
	return 0;
}

static int load_list(struct effective *eff, const json_t *fs, bool read_write, struct error *err)
{
	const char *key = read_write ? "read_write" : "read_only";
	const json_t *array = json_object_get(fs, key);
	const json_t *sources = json_object_get(fs, "sources");
	struct effective_path_list *list = read_write ? &eff->read_write : &eff->read_only;

	if (!json_is_array(array) || (sources && !json_is_object(sources)))
		return malformed(err, read_write ? "filesystem_policy.read_write"
						 : "filesystem_policy.read_only");
	for (size_t i = 0; i < json_array_size(array); i++) {
		const char *path = json_string_value(json_array_get(array, i));
		int r;

		/* effective_build() lists absolute paths only; a relative one
		 * would be resolved against the directory exec runs in. */
		if (!path || path[0] != '/')
			return malformed(err, key);
		r = load_entry(eff, list, path, sources, read_write, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int access_from_json(const json_t *names, uint64_t *ret)
{
	uint64_t access = 0;

	if (!json_is_array(names))
		return -EINVAL;
	for (size_t i = 0; i < json_array_size(names); i++) {
		const char *name = json_string_value(json_array_get(names, i));
		uint64_t bit = 1;

		while ((bit & ACCESS_ALL) && !(name && strcmp(access_right_name(bit), name) == 0))
			bit <<= 1;
		if (!(bit & ACCESS_ALL))
			return -EINVAL;
		access |= bit;
	}
	*ret = access;
	return 0;
}

static int load_additions(struct effective *eff, const json_t *array, struct error *err)
{
	if (!json_is_array(array))
		return malformed(err, "runtime_additions");
	for (size_t i = 0; i < json_array_size(array); i++) {
		const json_t *a = json_array_get(array, i);
		const char *path = json_string_value(json_object_get(a, "path"));
		const char *reason = json_string_value(json_object_get(a, "reason"));
		uint64_t access;
		int r;

		if (!path || path[0] != '/' || !reason ||
		    access_from_json(json_object_get(a, "access"), &access) < 0 || access == 0)
			return malformed(err, "runtime_additions");
		r = effective_addition_add(eff, path, access, reason);
		if (r < 0)
			return error_set(err, -r, "stored effective policy: addition on '%s'",
					 path);
	}
	return 0;
}

static int load_indices(struct gpu_selection *sel, const json_t *array)
{
	if (!json_is_array(array) || json_array_size(array) > GPU_SELECTION_MAX)
		return -EINVAL;
	for (size_t i = 0; i < json_array_size(array); i++) {
		const json_t *index = json_array_get(array, i);

		if (!json_is_integer(index) || json_integer_value(index) < 0 ||
		    json_integer_value(index) > (json_int_t)UINT32_MAX)
			return -EINVAL;
		sel->indices[sel->n_indices++] = (unsigned)json_integer_value(index);
	}
	return 0;
}

static int load_gpu(struct effective *eff, const json_t *gpu, struct error *err)
{
	const json_t *requested = json_object_get(gpu, "requested");
	const json_t *selection = json_object_get(gpu, "selection");
	struct gpu_selection sel = {0};

	if (!json_is_boolean(requested) || !selection)
		return malformed(err, "gpu");
	sel.requested = json_is_true(requested);
	if (json_is_string(selection) && strcmp(json_string_value(selection), "all") == 0)
		sel.all = sel.requested;
	else if (load_indices(&sel, selection) < 0)
		return malformed(err, "gpu.selection");
	eff->gpu = sel;
	return 0;
}

static int load_network(struct effective *eff, const json_t *network, struct error *err)
{
	static const enum network_mode all[] = {NETWORK_HOST, NETWORK_NONE};
	const char *mode = json_string_value(json_object_get(network, "mode"));

	for (size_t i = 0; mode && i < ARRAY_SIZE(all); i++)
		if (strcmp(network_mode_name(all[i]), mode) == 0) {
			eff->network = all[i];
			return 0;
		}
	return malformed(err, "network.mode");
}

/* Absent in documents from before isolation existed: no isolation. */
static int load_isolation(struct effective *eff, const json_t *iso, struct error *err)
{
	const json_t *pid = json_object_get(iso, "pid");
	const json_t *hostname = json_object_get(iso, "hostname");

	if (!iso)
		return 0;
	if (!json_is_boolean(pid) || !json_is_boolean(json_object_get(iso, "user")) ||
	    !json_is_boolean(json_object_get(iso, "private_tmp")) ||
	    !(json_is_null(hostname) || json_is_string(hostname)))
		return malformed(err, "isolation");
	eff->isolation = (struct effective_isolation){
	    .enabled = json_is_true(pid),
	    .user = json_is_true(json_object_get(iso, "user")),
	    .private_tmp = json_is_true(json_object_get(iso, "private_tmp")),
	};
	if (json_is_string(hostname)) {
		eff->isolation.hostname = strdup(json_string_value(hostname));
		if (!eff->isolation.hostname)
			return error_set(err, ENOMEM, "stored effective policy: hostname");
	}
	return 0;
}

static int load_notes(struct effective *eff, const json_t *notes, struct error *err)
{
	if (!json_is_array(notes))
		return malformed(err, "notes");
	for (size_t i = 0; i < json_array_size(notes); i++) {
		const char *note = json_string_value(json_array_get(notes, i));

		if (!note)
			return malformed(err, "notes");
		if (strv_push(&eff->notes, note) < 0)
			return error_set(err, ENOMEM, "stored effective policy: notes");
	}
	return 0;
}

static int load(const json_t *doc, struct effective *eff, struct error *err)
{
	const json_t *fs = json_object_get(doc, "filesystem_policy");
	const json_t *abi = json_object_get(json_object_get(doc, "landlock"), "abi");
	int r;

	if (!json_is_integer(abi) || json_integer_value(abi) < 0 ||
	    json_integer_value(abi) > INT_MAX)
		return malformed(err, "landlock.abi");
	eff->landlock_abi = (int)json_integer_value(abi);
	r = load_gpu(eff, json_object_get(doc, "gpu"), err);
	if (r >= 0)
		r = load_network(eff, json_object_get(doc, "network"), err);
	if (r >= 0)
		r = load_isolation(eff, json_object_get(doc, "isolation"), err);
	if (r >= 0 && !json_is_object(fs))
		r = malformed(err, "filesystem_policy");
	if (r >= 0)
		r = load_list(eff, fs, false, err);
	if (r >= 0)
		r = load_list(eff, fs, true, err);
	if (r >= 0)
		r = load_additions(eff, json_object_get(doc, "runtime_additions"), err);
	if (r >= 0)
		r = load_notes(eff, json_object_get(doc, "notes"), err);
	return r;
}

int effective_from_json(const json_t *doc, const struct policy *policy, struct effective *ret,
			struct error *err)
{
	struct effective eff = {.policy = policy, .compat = policy->compat};
	int r;

	if (!json_is_object(doc))
		return malformed(err, "(document)");
	r = load(doc, &eff, err);
	if (r < 0) {
		effective_free(&eff);
		return r;
	}
	*ret = eff;
	return 0;
}
