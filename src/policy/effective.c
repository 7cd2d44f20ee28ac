/* Building the effective policy: the policy's lists with their marks, the
 * workdir, the isolation and network mode and the host's Landlock ABI, then
 * the GPU baseline and runtime addition for GPU requests; and freeing it. */
#include "policy/effective.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "policy/gpu.h"

/* The network mode when the caller chose none: the single place to change.
 * No network policies means no egress, as in OpenShell. */
#define NETWORK_DEFAULT(policy) ((policy)->n_network_policies ? NETWORK_HOST : NETWORK_NONE)

#define NOTE_NO_USERNS                                                                             \
	"user namespaces are unavailable to this user: no namespaces, no private /proc, /dev "     \
	"and /tmp, the host's network; Landlock and seccomp only (best_effort)"

#define NOTE_ROOT_WORKDIR                                                                          \
	"the workdir is /, which include_workdir would make writable as a whole: it is not "      \
	"added to read_write (pass --workdir DIR)"

int effective_path_list_add(struct effective_path_list *list, const char *path,
			    enum entry_source source, struct source_mark mark, bool is_device)
{
	_cleanup_free_ char *copy = strdup(path);
	struct effective_path *items;

	if (!copy)
		return -ENOMEM;
	items = realloc(list->items, (list->len + 1) * sizeof(*items));
	if (!items)
		return -ENOMEM; /* NOLINT(clang-analyzer-unix.Malloc): _cleanup_free_ frees it */
	items[list->len++] = (struct effective_path){
	    .path = TAKE_PTR(copy),
	    .source = source,
	    .mark = source == SOURCE_POLICY ? mark : (struct source_mark){0},
	    .is_device = is_device,
	};
	list->items = items;
	return 0;
}

struct effective_path *effective_path_list_find(const struct effective_path_list *list,
						const char *path)
{
	for (size_t i = 0; i < list->len; i++)
		if (strcmp(list->items[i].path, path) == 0)
			return &list->items[i];
	return NULL;
}

bool effective_lists_path(const struct effective *eff, const char *path)
{
	return effective_path_list_find(&eff->read_only, path) ||
	       effective_path_list_find(&eff->read_write, path);
}

int effective_addition_add(struct effective *eff, const char *path, uint64_t access,
			   const char *reason)
{
	struct runtime_addition *additions;
	_cleanup_free_ char *path_copy = strdup(path);
	_cleanup_free_ char *reason_copy = strdup(reason);

	if (!path_copy || !reason_copy)
		return -ENOMEM; /* NOLINT(clang-analyzer-unix.Malloc): _cleanup_free_ frees it */
	additions = realloc(eff->additions, (eff->n_additions + 1) * sizeof(*additions));
	if (!additions)
		return -ENOMEM;
	additions[eff->n_additions++] = (struct runtime_addition){
	    .path = TAKE_PTR(path_copy),
	    .access = access,
	    .reason = TAKE_PTR(reason_copy),
	};
	eff->additions = additions;
	return 0;
}

static int copy_policy_list(struct effective_path_list *dst, const struct path_list *src,
			    struct error *err)
{
	for (size_t i = 0; i < src->len; i++) {
		const struct policy_path *p = &src->items[i];
		int r = effective_path_list_add(dst, p->path, SOURCE_POLICY, p->mark, false);
		if (r < 0)
			return error_set(err, -r, "effective policy: copying '%s'", p->path);
	}
	return 0;
}

static int add_workdir(struct effective *eff, const char *workdir, struct error *err)
{
	int r;

	eff->workdir = strdup(workdir);
	if (!eff->workdir)
		return error_set(err, ENOMEM, "effective policy: workdir '%s'", workdir);
	if (effective_path_list_find(&eff->read_write, workdir))
		return 0;
	/* A policy may not list "/" read_write; a workdir of "/" (lockshell
	 * started from the root directory) would grant the same. */
	if (strcmp(workdir, "/") == 0) {
		if (strv_push(&eff->notes, NOTE_ROOT_WORKDIR) < 0)
			return error_set(err, ENOMEM, "effective policy: out of memory");
		return 0;
	}
	r = effective_path_list_add(&eff->read_write, workdir, SOURCE_WORKDIR,
				    (struct source_mark){0}, false);
	if (r < 0)
		return error_set(err, -r, "effective policy: adding workdir '%s'", workdir);
	return 0;
}

static int add_gpu(struct effective *eff, const struct effective_request *request,
		   const struct host *host, struct error *err)
{
	int r;

	r = gpu_selection_check(&request->gpu, host, err);
	if (r < 0)
		return r;
	r = gpu_conflicts_check(eff->policy, &request->gpu, host, err);
	if (r < 0)
		return r;
	r = gpu_baseline_add(eff, host, err);
	if (r < 0)
		return r;
	return gpu_procfs_addition_add(eff, request->withhold_procfs_addition, err);
}

/* Rootless isolation needs a user namespace. Where the host has none for
 * ordinary users, best_effort goes on with Landlock and seccomp alone (said
 * in a note); hard_requirement keeps the isolation it requires, and the
 * launch fails on it, naming the cause. */
static int add_isolation(struct effective *eff, const struct effective_request *request,
			 const struct host *host, struct error *err)
{
	if (request->rootless && !host->user_namespaces && eff->compat == COMPAT_BEST_EFFORT) {
		eff->network = NETWORK_HOST;
		if (strv_push(&eff->notes, NOTE_NO_USERNS) < 0)
			return error_set(err, ENOMEM, "effective policy: out of memory");
		return 0;
	}
	eff->isolation = (struct effective_isolation){
	    .enabled = true,
	    .user = request->rootless,
	    .private_tmp = !request->share_tmp,
	    .hostname = request->hostname ? strdup(request->hostname) : NULL,
	};
	if (request->hostname && !eff->isolation.hostname)
		return error_set(err, ENOMEM, "effective policy: out of memory");
	return 0;
}

static int build(const struct effective_request *request, const struct host *host,
		 struct effective *eff, struct error *err)
{
	const struct policy *policy = eff->policy;
	int r;

	if (request->isolate) {
		r = add_isolation(eff, request, host, err);
		if (r < 0)
			return r;
	}
	r = copy_policy_list(&eff->read_only, &policy->read_only, err);
	if (r < 0)
		return r;
	r = copy_policy_list(&eff->read_write, &policy->read_write, err);
	if (r < 0)
		return r;
	if (policy->include_workdir && request->workdir) {
		r = add_workdir(eff, request->workdir, err);
		if (r < 0)
			return r;
	}
	if (request->gpu.requested)
		return add_gpu(eff, request, host, err);
	return 0;
}

int effective_build(const struct policy *policy, const struct effective_request *request,
		    const struct host *host, struct effective *ret, struct error *err)
{
	struct effective eff = {
	    .policy = policy,
	    .compat = policy->compat,
	    .gpu = request->gpu,
	    .network = request->network_set ? request->network : NETWORK_DEFAULT(policy),
	    .landlock_abi = host->landlock_abi,
	};
	int r = build(request, host, &eff, err);

	if (r < 0) {
		effective_free(&eff);
		return r;
	}
	*ret = eff;
	return 0;
}

static void effective_path_list_free(struct effective_path_list *list)
{
	for (size_t i = 0; i < list->len; i++)
		free(list->items[i].path);
	free(list->items);
}

void effective_free(struct effective *eff)
{
	if (!eff)
		return;
	effective_path_list_free(&eff->read_only);
	effective_path_list_free(&eff->read_write);
	for (size_t i = 0; i < eff->n_additions; i++) {
		free(eff->additions[i].path);
		free(eff->additions[i].reason);
	}
	free(eff->additions);
	free(eff->workdir);
	free(eff->isolation.hostname);
	strv_clear(&eff->notes);
	*eff = (struct effective){0};
}
