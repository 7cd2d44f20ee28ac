/* Facts about the host, gathered once by host_probe() and passed down, so
 * the effective-policy logic stays pure and unit tests can use a fake host. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "base/strv.h"

enum landlock_status {
	LANDLOCK_AVAILABLE,
	LANDLOCK_NOT_BUILT,	/* ENOSYS from the kernel: not compiled in */
	LANDLOCK_NOT_ENABLED,	/* EOPNOTSUPP: built but not in the lsm= list */
	LANDLOCK_BLOCKED,	/* ENOSYS/EPERM from a seccomp profile (container) */
	LANDLOCK_OTHER,
};

#define HOST_GPU_MAX 64

struct host_gpu {
	unsigned index;	   /* N of /dev/nvidia<N> (the device minor) */
	char pci_bdf[32];  /* "0000:3b:00.0", empty when unknown */
};

struct host {
	char kernel_release[65];
	int landlock_abi; /* 0 when unavailable */
	enum landlock_status landlock_status;
	int landlock_errno;
	bool seccomp_available;
	bool user_namespaces; /* unprivileged user namespaces usable */
	bool no_new_privs;    /* already set on this process */
	/* GPU inventory */
	bool gpu_present; /* /dev/nvidiactl or /dev/dxg exists */
	struct host_gpu gpus[HOST_GPU_MAX];
	size_t n_gpus;
	/* Every GPU-baseline candidate path that exists on this host (device
	 * nodes, /dev/nvidia-caps/nvidia-cap*, /run/nvidia-persistenced,
	 * /usr/lib/wsl, /sys/module/nvidia*, PCI device directories, ...). */
	struct strv present_paths;
};

/* Probes the real host. */
int host_probe(struct host *ret, struct error *err);
bool host_path_present(const struct host *h, const char *path);
const char *landlock_status_name(enum landlock_status s);
/* A sentence a user can act on, for an unavailable Landlock. */
const char *landlock_status_advice(enum landlock_status s);
void host_free(struct host *h);
