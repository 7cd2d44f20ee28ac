/* Facts about the host, gathered once by host_probe() and passed down, so
 * the effective-policy logic stays pure and unit tests can use a fake host. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "base/strv.h"

enum landlock_status {
	LANDLOCK_AVAILABLE,
	LANDLOCK_NOT_BUILT,   /* ENOSYS from the kernel: not compiled in */
	LANDLOCK_NOT_ENABLED, /* EOPNOTSUPP: built but not in the lsm= list */
	LANDLOCK_BLOCKED,     /* ENOSYS/EPERM from a seccomp profile (container) */
	LANDLOCK_OTHER,
};

#define HOST_GPU_MAX 64

struct host_gpu {
	unsigned index;	  /* N of /dev/nvidia<N> (the device minor) */
	char pci_bdf[32]; /* "0000:3b:00.0", empty when unknown */
};

struct host {
	char kernel_release[65];
	int landlock_abi; /* 0 when unavailable */
	enum landlock_status landlock_status;
	int landlock_errno;
	/* The kernel's LSM list (/sys/kernel/security/lsm), empty when
	 * unreadable; evidence for classifying an unavailable Landlock. */
	char lsm[256];
	bool seccomp_available; /* seccomp filter mode is offered */
	int seccomp_mode;	/* of this process: 0 none, 1 strict, 2 filter; -1 unread */
	bool user_namespaces;	/* unprivileged user namespaces usable */
	bool no_new_privs;	/* already set on this process */
	/* GPU inventory */
	bool gpu_present; /* /dev/nvidiactl or /dev/dxg exists */
	struct host_gpu gpus[HOST_GPU_MAX];
	size_t n_gpus;
	/* Every GPU-baseline candidate path that exists on this host (device
	 * nodes, /dev/nvidia-caps/nvidia-cap*, /run/nvidia-persistenced,
	 * /usr/lib/wsl, /sys/module/nvidia*, PCI device directories, ...). */
	struct strv present_paths;
};

/* The GPU baseline candidates probed by name, NULL-terminated, in the order
 * present_paths records them: shared device nodes (then /dev/nvidia<N> and
 * /dev/nvidia-caps/nvidia-cap*), support paths (then each GPU's
 * /sys/bus/pci/devices/<bdf>), system paths. */
extern const char *const host_gpu_shared_nodes[];
extern const char *const host_gpu_support_paths[];
extern const char *const host_gpu_system_paths[];

/* Probes the real host. */
int host_probe(struct host *ret, struct error *err);
/* What `lockshell run` without a GPU request needs, and no more: no GPU
 * inventory (gpu_present false, no GPUs and no present paths); besides the
 * kernel release, Landlock's ABI and seccomp's availability, the LSM list and
 * this process's seccomp mode only where Landlock is unavailable (to tell
 * why; seccomp_mode is -1 otherwise), the user-namespace switches only for a
 * `rootless` launch (user_namespaces is true otherwise), no_new_privs never. */
int host_probe_launch(bool rootless, struct host *ret, struct error *err);
/* host_probe() with every file looked up under `root` instead of "/" (the
 * paths recorded stay host paths), so tests can use a fake tree. */
int host_probe_at(const char *root, struct host *ret, struct error *err);
/* Why landlock_create_ruleset() failed with `errno_value`, from this
 * process's seccomp mode and the LSM list ("" when unknown). */
enum landlock_status host_classify_landlock(int errno_value, int seccomp_mode, const char *lsm);
bool host_path_present(const struct host *h, const char *path);
/* Parsers of the files host_probe() reads, exposed for tests: the integer
 * after key at the start of a line ("Seccomp:" in /proc/self/status,
 * "Device Minor:" in a GPU's information file), and the integer a sysctl
 * file starts with. false, *ret untouched, when there is none. */
bool host_field_long(const char *text, const char *key, long *ret);
bool host_sysctl_long(const char *text, long *ret);
const char *landlock_status_name(enum landlock_status s);
/* A sentence a user can act on, for an unavailable Landlock. */
const char *landlock_status_advice(enum landlock_status s);
void host_free(struct host *h);
