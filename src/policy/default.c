/* The built-in default policy: OpenShell's restrictive default. System paths
 * read-only, /tmp and /dev/null writable, the working directory included,
 * Landlock best effort, no network policy (no network). */
#include <string.h>

#include "policy/loader.h"

static const char default_policy[] = "version: 1\n"
				     "filesystem_policy:\n"
				     "  include_workdir: true\n"
				     "  read_only:\n"
				     "    - /usr\n"
				     "    - /lib\n"
				     "    - /proc\n"
				     "    - /dev/urandom\n"
				     "    - /app\n"
				     "    - /etc\n"
				     "    - /var/log\n"
				     "  read_write:\n"
				     "    - /tmp\n"
				     "    - /dev/null\n"
				     "landlock:\n"
				     "  compatibility: best_effort\n";

int policy_load_default(struct policy *ret, struct diagnostics *diags)
{
	return policy_load_buffer(POLICY_DEFAULT_NAME, default_policy, sizeof(default_policy) - 1,
				  ret, diags);
}

bool policy_is_default(const struct policy *p)
{
	return p && p->source_name && strcmp(p->source_name, POLICY_DEFAULT_NAME) == 0;
}
