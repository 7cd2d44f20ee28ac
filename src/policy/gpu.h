/* GPU enrichment: parsing a GPU selection, the GPU baseline added to the
 * effective policy, the procfs runtime addition, and the conflict check. */
#pragma once

#include "base/error.h"
#include "host/host.h"
#include "policy/effective.h"

/* "all" (also for NULL/empty) or a comma list of indices "0,2". */
int gpu_selection_parse(const char *s, struct gpu_selection *ret, struct error *err);
/* Fails with a message a user can act on when the host has no GPU (neither
 * /dev/nvidiactl nor /dev/dxg) or when a selected index does not exist. */
int gpu_selection_check(const struct gpu_selection *sel, const struct host *host,
			struct error *err);
/* -EINVAL with "FILE:LINE:COL: ..." when a GPU device node the selection
 * would use (present on the host) is listed read_only, or lies under a
 * read_only directory, and is not itself listed read_write. Selected indices
 * the host lacks are ignored here: gpu_selection_check() reports them. */
int gpu_conflicts_check(const struct policy *policy, const struct gpu_selection *sel,
			const struct host *host, struct error *err);
/* Adds the GPU baseline for eff->gpu to eff's lists (source gpu): device
 * nodes read_write, support paths read_only, each only if present on the
 * host and not listed already. */
int gpu_baseline_add(struct effective *eff, const struct host *host, struct error *err);
/* The runtime addition on /proc that lets CUDA name its threads (write_file,
 * plus truncate from Landlock ABI 3), or a note saying why there is none. */
int gpu_procfs_addition_add(struct effective *eff, bool withhold, struct error *err);
