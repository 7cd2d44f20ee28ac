/* Loading a policy: YAML text -> struct policy, validated. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "policy/diag.h"
#include "policy/policy.h"

/* Loads and validates FILE. Returns 0 with *ret filled when no error was
 * found (warnings may be in diags); -EINVAL (or the errno of reading the file)
 * otherwise, with every violation in diags and *ret untouched. */
int policy_load_file(const char *path, struct policy *ret, struct diagnostics *diags);
/* Same, from a buffer; name is used in messages. */
int policy_load_buffer(const char *name, const char *data, size_t size, struct policy *ret,
		       struct diagnostics *diags);
/* The built-in default policy (OpenShell's restrictive default): the same
 * model, marks included, as policy_load_buffer() of policy_default_text(). */
int policy_load_default(struct policy *ret, struct diagnostics *diags);
/* The default policy as written (YAML). */
const char *policy_default_text(size_t *ret_size);
/* Checks a model against the rules (paths, process identities, network
 * policies and middlewares) and adds every violation to diags. The loaders
 * call it; it is exported for models built in code. */
void policy_validate(const struct policy *p, struct diagnostics *diags);
/* Structural equality of two models (marks and source names ignored). */
bool policy_equal(const struct policy *a, const struct policy *b);
