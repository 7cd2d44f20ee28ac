/* GPU enrichment: parsing a GPU selection, the GPU baseline added to the
 * effective policy, the procfs runtime addition, and the conflict check. */
#pragma once

#include "base/error.h"
#include "host/host.h"
#include "policy/effective.h"

/* "all" (also for NULL/empty) or a comma list of indices "0,2". */
int gpu_selection_parse(const char *s, struct gpu_selection *ret, struct error *err);
