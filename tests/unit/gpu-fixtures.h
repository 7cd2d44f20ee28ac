/* Hand-built policies and hosts for the GPU and effective-policy tests: a
 * policy from literal paths with marks, and fake hosts (discrete NVIDIA GPUs,
 * WSL2 with only /dev/dxg, no GPU) whose present paths are listed by hand. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host.h"
#include "policy/policy.h"

#define FIXTURE_PATHS_MAX 16

struct fixture {
	struct policy policy;
	struct policy_path read_only[FIXTURE_PATHS_MAX];
	struct policy_path read_write[FIXTURE_PATHS_MAX];
	struct host host;
};

static inline void fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->policy.source_name = (char *)"policy.yaml";
	f->policy.version = 1;
	f->policy.has_filesystem_policy = true;
	f->policy.read_only.items = f->read_only;
	f->policy.read_write.items = f->read_write;
	f->host.landlock_abi = 7;
}

static inline void fixture_read_only(struct fixture *f, const char *path, unsigned line,
				     unsigned column)
{
	f->read_only[f->policy.read_only.len++] = (struct policy_path){
	    .path = (char *)path,
	    .mark = {.line = line, .column = column},
	};
}

static inline void fixture_read_write(struct fixture *f, const char *path, unsigned line,
				      unsigned column)
{
	f->read_write[f->policy.read_write.len++] = (struct policy_path){
	    .path = (char *)path,
	    .mark = {.line = line, .column = column},
	};
}

static inline void fixture_present(struct fixture *f, const char *path)
{
	if (strv_push(&f->host.present_paths, path) < 0)
		abort();
}

/* /proc and the system directories every Linux host has. */
static inline void fixture_plain_host(struct fixture *f)
{
	fixture_present(f, "/proc");
	fixture_present(f, "/sys/devices/system/cpu");
	fixture_present(f, "/sys/devices/system/node");
}

/* A host with n discrete NVIDIA GPUs 0..n-1 and the usual driver paths. */
static inline void fixture_nvidia_host(struct fixture *f, unsigned n)
{
	char path[96];

	fixture_plain_host(f);
	f->host.gpu_present = true;
	fixture_present(f, "/dev/nvidiactl");
	fixture_present(f, "/dev/nvidia-uvm");
	fixture_present(f, "/dev/nvidia-uvm-tools");
	fixture_present(f, "/dev/nvidia-modeset");
	fixture_present(f, "/run/nvidia-persistenced");
	fixture_present(f, "/sys/module/nvidia");
	fixture_present(f, "/sys/module/nvidia_uvm");
	for (unsigned i = 0; i < n; i++) {
		struct host_gpu *gpu = &f->host.gpus[f->host.n_gpus++];
		gpu->index = i;
		snprintf(gpu->pci_bdf, sizeof(gpu->pci_bdf), "0000:%02x:00.0", 0x10 + i);
		snprintf(path, sizeof(path), "/dev/nvidia%u", i);
		fixture_present(f, path);
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", gpu->pci_bdf);
		fixture_present(f, path);
	}
}

/* WSL2: /dev/dxg is the only GPU node, the driver lives under /usr/lib/wsl. */
static inline void fixture_wsl_host(struct fixture *f)
{
	fixture_plain_host(f);
	f->host.gpu_present = true;
	fixture_present(f, "/dev/dxg");
	fixture_present(f, "/usr/lib/wsl");
}

static inline void fixture_free(struct fixture *f)
{
	host_free(&f->host);
}
