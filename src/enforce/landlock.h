/* Landlock: a ruleset generated from the effective policy, prepared while
 * still privileged (paths opened O_PATH, rights tailored by fstat) and
 * enforced after the privilege drop. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "host/host.h"
#include "policy/effective.h"

struct landlock_ruleset;

/* Rights for one entry, by class and file type, within `handled`. */
uint64_t landlock_rights_for(bool read_write, mode_t mode, uint64_t handled);

/* Builds the ruleset. best_effort skips (and reports through log events)
 * missing paths and rights the kernel lacks; hard_requirement fails on them.
 * A ruleset in which no path could be opened is refused in both modes. When
 * Landlock is unavailable under best_effort, *ret is a ruleset whose enforce
 * is a reported no-op. */
int landlock_prepare(const struct effective *eff, const struct host *host,
		     struct landlock_ruleset **ret, struct error *err);
/* landlock_restrict_self(); no_new_privs must already be set. */
int landlock_enforce(struct landlock_ruleset *rs, struct error *err);
/* Counts for the info log. */
size_t landlock_ruleset_rule_count(const struct landlock_ruleset *rs);
/* The ABI in use; 0 when Landlock is unavailable and enforce is a no-op. */
int landlock_ruleset_abi(const struct landlock_ruleset *rs);
/* Paths skipped under best_effort, each "path: reason". */
const struct strv *landlock_ruleset_skipped(const struct landlock_ruleset *rs);
/* Rights the rules wanted that the ABI cannot control (best_effort). */
uint64_t landlock_ruleset_dropped(const struct landlock_ruleset *rs);
void landlock_ruleset_free(struct landlock_ruleset *rs);
