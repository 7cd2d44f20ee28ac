/* The effective policy: what is enforced. Built by effective_build() from the
 * policy as written, the request (workdir, GPU selection, isolation, network
 * mode) and the host facts. Every entry carries its source and, for anything the
 * runtime adds, a reason. Landlock rules, the seccomp filter, the mount setup
 * and `policy show --effective` are all generated from this struct. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/error.h"
#include "base/strv.h"
#include "host/host.h"
#include "policy/emit.h"
#include "policy/policy.h"

/* Landlock filesystem rights, in the kernel's bit order (LANDLOCK_ACCESS_FS_*). */
enum fs_access {
	ACCESS_EXECUTE = 1ULL << 0,
	ACCESS_WRITE_FILE = 1ULL << 1,
	ACCESS_READ_FILE = 1ULL << 2,
	ACCESS_READ_DIR = 1ULL << 3,
	ACCESS_REMOVE_DIR = 1ULL << 4,
	ACCESS_REMOVE_FILE = 1ULL << 5,
	ACCESS_MAKE_CHAR = 1ULL << 6,
	ACCESS_MAKE_DIR = 1ULL << 7,
	ACCESS_MAKE_REG = 1ULL << 8,
	ACCESS_MAKE_SOCK = 1ULL << 9,
	ACCESS_MAKE_FIFO = 1ULL << 10,
	ACCESS_MAKE_BLOCK = 1ULL << 11,
	ACCESS_MAKE_SYM = 1ULL << 12,
	ACCESS_REFER = 1ULL << 13,    /* ABI 2 */
	ACCESS_TRUNCATE = 1ULL << 14, /* ABI 3 */
	ACCESS_IOCTL_DEV = 1ULL << 15, /* ABI 5 */
};
#define ACCESS_ALL ((uint64_t)((1ULL << 16) - 1))

/* Every right the kernel's Landlock ABI handles (0 for ABI 0). */
uint64_t access_handled_by_abi(int abi);
/* Lower snake case right name ("read_file"), NULL for an unknown bit. */
const char *access_right_name(uint64_t bit);

enum entry_source {
	SOURCE_POLICY,	/* written in the policy file */
	SOURCE_WORKDIR, /* include_workdir */
	SOURCE_GPU,	/* the GPU baseline */
};
const char *entry_source_name(enum entry_source s);

struct effective_path {
	char *path;
	enum entry_source source;
	struct source_mark mark; /* for SOURCE_POLICY; zero otherwise */
	bool is_device;		 /* a GPU device node: gets ioctl_dev */
};

struct effective_path_list {
	struct effective_path *items;
	size_t len;
};

/* A Landlock rule the runtime adds outside filesystem_policy, with an
 * explicit set of rights. */
struct runtime_addition {
	char *path;
	uint64_t access;
	char *reason;
};

#define GPU_SELECTION_MAX 64

struct gpu_selection {
	bool requested; /* --gpu given */
	bool all;	/* --gpu or --gpu=all */
	unsigned indices[GPU_SELECTION_MAX];
	size_t n_indices;
};

enum network_mode {
	NETWORK_HOST, /* share the host's network namespace */
	NETWORK_NONE, /* a new network namespace with loopback only */
};
const char *network_mode_name(enum network_mode m);

struct effective_request {
	const char *workdir; /* absolute; NULL means no workdir */
	struct gpu_selection gpu;
	/* Diagnostic only: leave out the GPU procfs write addition, to show
	 * the CUDA error 304 it prevents. */
	bool withhold_procfs_addition;
	bool network_set; /* the caller chose a network mode */
	enum network_mode network;
	/* Namespaces and private mounts (docs/isolation.md). */
	bool isolate;
	bool rootless;	      /* invoked by an ordinary user: a user namespace first */
	bool share_tmp;	      /* keep the host's /tmp instead of a private one */
	const char *hostname; /* the sandbox's hostname */
};

/* The sandbox's namespaces and private mounts. Without isolation (not
 * requested, or user namespaces unavailable to an ordinary user under
 * best_effort: a note says so, and the network mode is then host) every
 * field is false and hostname NULL. */
struct effective_isolation {
	bool enabled;	  /* new PID, mount, IPC and UTS namespaces; private /proc and /dev */
	bool user;	  /* a user namespace first (rootless) */
	bool private_tmp; /* a private /tmp */
	char *hostname;
};

struct effective {
	const struct policy *policy; /* borrowed: the policy as written */
	enum landlock_compat compat;
	char *workdir; /* NULL when include_workdir is false */
	struct effective_path_list read_only;
	struct effective_path_list read_write;
	struct runtime_addition *additions;
	size_t n_additions;
	struct gpu_selection gpu;
	enum network_mode network;
	struct effective_isolation isolation;
	int landlock_abi; /* of the host the effective policy was built for */
	/* Decisions worth showing that add nothing, e.g. why no procfs
	 * addition was made. */
	struct strv notes;
};

/* Pure: reads only policy, request and host. The network mode is the
 * request's, or by default none when the policy has no network_policies
 * (no egress, as in OpenShell) and host otherwise. Fails (with a message
 * naming the path or GPU index) on a GPU request the host cannot satisfy or
 * on a policy that conflicts with the GPU baseline. */
int effective_build(const struct policy *policy, const struct effective_request *request,
		    const struct host *host, struct effective *ret, struct error *err);
void effective_free(struct effective *eff);

/* Appends a copy of path; mark is kept for SOURCE_POLICY only. -ENOMEM. */
int effective_path_list_add(struct effective_path_list *list, const char *path,
			    enum entry_source source, struct source_mark mark, bool is_device);
/* The entry whose path is exactly path, or NULL. */
struct effective_path *effective_path_list_find(const struct effective_path_list *list,
						const char *path);
/* Whether path is listed in read_only or read_write. */
bool effective_lists_path(const struct effective *eff, const char *path);
/* Appends a runtime addition (copies path and reason). -ENOMEM. */
int effective_addition_add(struct effective *eff, const char *path, uint64_t access,
			   const char *reason);

/* `policy show --effective`: the canonical policy document with the lists as
 * enforced, filesystem_policy.sources (path -> "workdir" | "gpu" for every
 * entry not written in the policy), landlock.abi, runtime_additions, gpu,
 * network ({mode}), isolation ({pid, mount, ipc, uts, user, private_tmp:
 * booleans, hostname: string or null}) and notes. New reference; NULL on allocation failure. */
json_t *effective_to_json(const struct effective *eff);
/* Writes an effective_to_json() document. In YAML, each list entry that
 * filesystem_policy.sources names also carries its source as a comment
 * ("- /dev/nvidiactl  # gpu"); the sources map stays for JSON readers. */
int effective_document_emit(const json_t *doc, enum output_format fmt, FILE *out,
			    struct error *err);
