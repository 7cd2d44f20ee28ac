/* Rebuilding an effective policy from what was stored when a sandbox was
 * created: the policy as written (policy_to_json() form) and the document
 * effective_to_json() produced. `sandbox exec` enforces the rebuilt struct,
 * so every process entering a sandbox gets the policy it was created with,
 * including the GPU baseline and runtime additions, without probing again. */
#pragma once

#include <jansson.h>

#include "base/error.h"
#include "policy/effective.h"
#include "policy/policy.h"

/* Loads the canonical JSON of a policy (JSON is YAML) through the policy
 * loader, so it is validated again; name is used in messages. */
int policy_from_json(const json_t *doc, const char *name, struct policy *ret, struct error *err);

/* Rebuilds the effective policy from doc (effective_to_json() output).
 * policy is the policy as written, borrowed by *ret as in effective_build().
 * Returns -EINVAL with err naming the key when doc is malformed. */
int effective_from_json(const json_t *doc, const struct policy *policy, struct effective *ret,
			struct error *err);
