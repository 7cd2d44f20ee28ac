/* GPU enrichment: parsing a GPU selection and checking it against the host,
 * the GPU baseline (device nodes read-write, support paths read-only), the
 * procfs runtime addition CUDA needs to name its threads, and the check that
 * refuses policies keeping GPU device nodes read-only. */
#include "policy/gpu.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/cleanup.h"

#define MIG_CAP_PREFIX	 "/dev/nvidia-caps/nvidia-cap"
#define INDEX_MAX_DIGITS 9

#define PROCFS_REASON                                                                              \
	"CUDA names its threads through /proc/<pid>/task/<tid>/comm (opened read-write, "          \
	"written; a shell's '>' also truncates); without the write right cuInit fails with "       \
	"error 304 (cudaErrorOperatingSystem). A rule on /proc itself covers every descendant "    \
	"process, which a rule on /proc/self cannot."
#define NOTE_PROC_READ_WRITE                                                                       \
	"/proc is already read_write in the policy, so CUDA can write "                            \
	"/proc/<pid>/task/<tid>/comm: no procfs runtime addition is needed."
#define NOTE_PROC_WITHHELD                                                                         \
	"The procfs runtime addition (write_file on /proc) was withheld on request, a diagnostic " \
	"setting: CUDA is expected to fail in cuInit with error 304 (cudaErrorOperatingSystem)."

/* Shared device nodes, read-write when present. */
static const char *const shared_nodes[] = {
    "/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset", "/dev/dxg",
};

/* Read-only support paths before and after the selected GPUs' PCI directories. */
static const char *const support_paths_head[] = {
    "/run/nvidia-persistenced",
    "/usr/lib/wsl",
    "/sys/module/nvidia",
    "/sys/module/nvidia_uvm",
};
static const char *const support_paths_tail[] = {
    "/sys/devices/system/cpu",
    "/sys/devices/system/node",
    "/proc",
};

static bool all_digits(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool selection_has(const struct gpu_selection *sel, unsigned index)
{
	for (size_t i = 0; i < sel->n_indices; i++)
		if (sel->indices[i] == index)
			return true;
	return false;
}

static int parse_indices(const char *s, struct gpu_selection *sel, struct error *err)
{
	for (const char *p = s;; p++) {
		size_t len = strcspn(p, ",");
		unsigned index = 0;

		if (!all_digits(p, len) || len > INDEX_MAX_DIGITS)
			return error_set(err, EINVAL,
					 "invalid GPU selection '%s': '%.*s' is not a GPU index "
					 "(expected 'all' or a comma list of indices such as 0,2)",
					 s, (int)len, p);
		for (size_t i = 0; i < len; i++)
			index = index * 10 + (unsigned)(p[i] - '0');
		if (!selection_has(sel, index)) {
			if (sel->n_indices == GPU_SELECTION_MAX)
				return error_set(err, EINVAL,
						 "invalid GPU selection '%s': more than %d GPUs", s,
						 GPU_SELECTION_MAX);
			sel->indices[sel->n_indices++] = index;
		}
		p += len;
		if (*p == '\0')
			return 0;
	}
}

int gpu_selection_parse(const char *s, struct gpu_selection *ret, struct error *err)
{
	struct gpu_selection sel = {.requested = true};
	int r;

	if (!s || !*s || strcmp(s, "all") == 0) {
		sel.all = true;
		*ret = sel;
		return 0;
	}
	r = parse_indices(s, &sel, err);
	if (r < 0)
		return r;
	*ret = sel;
	return 0;
}

static const struct host_gpu *host_gpu_find(const struct host *host, unsigned index)
{
	for (size_t i = 0; i < host->n_gpus; i++)
		if (host->gpus[i].index == index)
			return &host->gpus[i];
	return NULL;
}

/* The host's GPUs the selection names; indices the host lacks are left out. */
static size_t selected_gpus(const struct gpu_selection *sel, const struct host *host,
			    const struct host_gpu *ret[static HOST_GPU_MAX])
{
	size_t n = 0;

	if (sel->all) {
		for (size_t i = 0; i < host->n_gpus && i < HOST_GPU_MAX; i++)
			ret[n++] = &host->gpus[i];
		return n;
	}
	for (size_t i = 0; i < sel->n_indices && n < HOST_GPU_MAX; i++) {
		const struct host_gpu *gpu = host_gpu_find(host, sel->indices[i]);
		if (gpu)
			ret[n++] = gpu;
	}
	return n;
}

static void format_present_indices(const struct host *host, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < host->n_gpus && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%u", i ? ", " : "",
					host->gpus[i].index);
}

static int missing_index_error(const struct host *host, unsigned index, struct error *err)
{
	char present[512];

	if (host->n_gpus == 0)
		return error_set(err, ENODEV,
				 "GPU %u does not exist on this host: there is no /dev/nvidia<N> "
				 "node%s",
				 index,
				 host_path_present(host, "/dev/dxg")
				     ? " (on WSL2 every GPU is reached through /dev/dxg: use "
				       "--gpu or --gpu=all)"
				     : "");
	format_present_indices(host, present, sizeof(present));
	return error_set(err, ENODEV,
			 "GPU %u does not exist on this host (no /dev/nvidia%u); the GPUs present "
			 "are: %s",
			 index, index, present);
}

int gpu_selection_check(const struct gpu_selection *sel, const struct host *host, struct error *err)
{
	if (!sel->requested)
		return 0;
	if (!host->gpu_present)
		return error_set(
		    err, ENODEV,
		    "a GPU was requested but none is present: looked for "
		    "/dev/nvidiactl (NVIDIA driver) and /dev/dxg (WSL2). Check that the "
		    "NVIDIA driver is loaded (nvidia-smi, lsmod | grep nvidia); in a "
		    "container, check that the GPU devices were injected (for example "
		    "docker run --gpus all, or a CDI device such as nvidia.com/gpu=all)");
	for (size_t i = 0; !sel->all && i < sel->n_indices; i++)
		if (!host_gpu_find(host, sel->indices[i]))
			return missing_index_error(host, sel->indices[i], err);
	return 0;
}

static bool is_mig_cap(const char *path)
{
	size_t prefix = strlen(MIG_CAP_PREFIX);

	return strncmp(path, MIG_CAP_PREFIX, prefix) == 0 &&
	       all_digits(path + prefix, strlen(path + prefix));
}

static int push_if_present(struct strv *v, const struct host *host, const char *path)
{
	if (!host_path_present(host, path))
		return 0;
	return strv_push(v, path);
}

/* The device nodes a GPU sandbox with this selection opens, those present. */
static int device_nodes(const struct gpu_selection *sel, const struct host *host, struct strv *ret)
{
	const struct host_gpu *gpus[HOST_GPU_MAX];
	size_t n = selected_gpus(sel, host, gpus);
	char node[64];
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(shared_nodes); i++) {
		r = push_if_present(ret, host, shared_nodes[i]);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(node, sizeof(node), "/dev/nvidia%u", gpus[i]->index);
		r = push_if_present(ret, host, node);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < host->present_paths.len; i++) {
		const char *path = host->present_paths.items[i];
		if (!is_mig_cap(path))
			continue;
		r = strv_push(ret, path);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Whether dir is path or one of its ancestors. */
static bool path_covers(const char *dir, const char *path)
{
	size_t len = strlen(dir);

	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (len == 1 && dir[0] == '/')
		return path[0] == '/';
	return strncmp(dir, path, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

static bool path_list_has(const struct path_list *list, const char *path)
{
	for (size_t i = 0; i < list->len; i++)
		if (strcmp(list->items[i].path, path) == 0)
			return true;
	return false;
}

static const struct policy_path *read_only_cover(const struct policy *policy, const char *node)
{
	for (size_t i = 0; i < policy->read_only.len; i++)
		if (path_covers(policy->read_only.items[i].path, node))
			return &policy->read_only.items[i];
	return NULL;
}

static int conflict_error(const struct policy *policy, const struct policy_path *entry,
			  const char *node, struct error *err)
{
	const char *file = policy->source_name ? policy->source_name : "<policy>";

	if (strcmp(entry->path, node) == 0)
		return error_set(err, EINVAL,
				 "%s:%u:%u: read_only lists the GPU device node %s; NVML and "
				 "CUDA open GPU device nodes read-write, so CUDA would fail inside "
				 "the sandbox. Remove '%s' from read_only: a GPU sandbox grants it "
				 "read-write by itself (or list it in read_write).",
				 file, entry->mark.line, entry->mark.column, node, entry->path);
	return error_set(err, EINVAL,
			 "%s:%u:%u: read_only path '%s' covers the GPU device node %s; NVML and "
			 "CUDA open GPU device nodes read-write, so CUDA would fail inside the "
			 "sandbox. Remove '%s' from read_only and list the device paths the "
			 "workload needs instead (e.g. /dev/urandom in read_only, /dev/null in "
			 "read_write); a GPU sandbox adds its GPU device nodes read-write by "
			 "itself.",
			 file, entry->mark.line, entry->mark.column, entry->path, node,
			 entry->path);
}

int gpu_conflicts_check(const struct policy *policy, const struct gpu_selection *sel,
			const struct host *host, struct error *err)
{
	_cleanup_(strv_clear) struct strv nodes = {0};
	int r;

	if (!sel->requested)
		return 0;
	r = device_nodes(sel, host, &nodes);
	if (r < 0)
		return error_set(err, -r, "GPU conflict check: listing device nodes");
	for (size_t i = 0; i < nodes.len; i++) {
		const struct policy_path *entry;

		if (path_list_has(&policy->read_write, nodes.items[i]))
			continue;
		entry = read_only_cover(policy, nodes.items[i]);
		if (entry)
			return conflict_error(policy, entry, nodes.items[i], err);
	}
	return 0;
}

/* Adds path to list unless either list has it already: the user's entries
 * stay as written, a GPU node among them is marked as a device. */
static int baseline_add(struct effective *eff, struct effective_path_list *list, const char *path,
			bool is_device, struct error *err)
{
	struct effective_path *listed = effective_path_list_find(&eff->read_write, path);
	int r;

	if (!listed)
		listed = effective_path_list_find(&eff->read_only, path);
	if (listed) {
		listed->is_device = listed->is_device || is_device;
		return 0;
	}
	r = effective_path_list_add(list, path, SOURCE_GPU, (struct source_mark){0}, is_device);
	if (r < 0)
		return error_set(err, -r, "GPU baseline: adding '%s'", path);
	return 0;
}

static int add_support_path(struct effective *eff, const struct host *host, const char *path,
			    struct error *err)
{
	if (!host_path_present(host, path))
		return 0;
	return baseline_add(eff, &eff->read_only, path, false, err);
}

static int add_support_paths(struct effective *eff, const struct host *host,
			     const char *const *paths, size_t n, struct error *err)
{
	for (size_t i = 0; i < n; i++) {
		int r = add_support_path(eff, host, paths[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_pci_dirs(struct effective *eff, const struct host *host, struct error *err)
{
	const struct host_gpu *gpus[HOST_GPU_MAX];
	size_t n = selected_gpus(&eff->gpu, host, gpus);
	char dir[96];

	for (size_t i = 0; i < n; i++) {
		if (!gpus[i]->pci_bdf[0])
			continue;
		snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", gpus[i]->pci_bdf);
		int r = add_support_path(eff, host, dir, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_device_nodes(struct effective *eff, const struct host *host, struct error *err)
{
	_cleanup_(strv_clear) struct strv nodes = {0};
	int r;

	r = device_nodes(&eff->gpu, host, &nodes);
	if (r < 0)
		return error_set(err, -r, "GPU baseline: listing device nodes");
	for (size_t i = 0; i < nodes.len; i++) {
		r = baseline_add(eff, &eff->read_write, nodes.items[i], true, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int gpu_baseline_add(struct effective *eff, const struct host *host, struct error *err)
{
	int r;

	r = add_device_nodes(eff, host, err);
	if (r < 0)
		return r;
	r = add_support_paths(eff, host, support_paths_head, ARRAY_SIZE(support_paths_head), err);
	if (r < 0)
		return r;
	r = add_pci_dirs(eff, host, err);
	if (r < 0)
		return r;
	return add_support_paths(eff, host, support_paths_tail, ARRAY_SIZE(support_paths_tail),
				 err);
}

static int add_note(struct effective *eff, const char *note, struct error *err)
{
	int r = strv_push(&eff->notes, note);

	if (r < 0)
		return error_set(err, -r, "effective policy: adding a note");
	return 0;
}

int gpu_procfs_addition_add(struct effective *eff, bool withhold, struct error *err)
{
	uint64_t access = ACCESS_WRITE_FILE | (eff->landlock_abi >= 3 ? ACCESS_TRUNCATE : 0);
	int r;

	if (effective_path_list_find(&eff->read_write, "/proc"))
		return add_note(eff, NOTE_PROC_READ_WRITE, err);
	if (withhold)
		return add_note(eff, NOTE_PROC_WITHHELD, err);
	r = effective_addition_add(eff, "/proc", access, PROCFS_REASON);
	if (r < 0)
		return error_set(err, -r, "GPU procfs runtime addition");
	return 0;
}
