/* The built-in default policy: OpenShell's restrictive default. System paths
 * read-only, /tmp and /dev/null writable, the working directory included,
 * Landlock best effort, no network policy (no network). */
#include <errno.h>
#include <string.h>

#include "base/cleanup.h"
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

const char *policy_default_text(size_t *ret_size)
{
	*ret_size = sizeof(default_policy) - 1;
	return default_policy;
}

/* The text above as the loader reads it, built without parsing it: a run on
 * the default policy starts without libyaml's parser and the schema's
 * checks (about 60 us of a cold start). Each entry carries the line and
 * column of its path in the text; the unit tests hold the two identical. */
static const struct {
	const char *path;
	unsigned line;
	bool read_write;
} default_paths[] = {
    {"/usr", 5, false},	 {"/lib", 6, false},     {"/proc", 7, false},
    {"/dev/urandom", 8, false}, {"/app", 9, false}, {"/etc", 10, false},
    {"/var/log", 11, false}, {"/tmp", 13, true},      {"/dev/null", 14, true},
};

int policy_load_default(struct policy *ret, struct diagnostics *diags)
{
	struct policy p = {.version = 1,
			   .has_filesystem_policy = true,
			   .include_workdir = true,
			   .compat = COMPAT_BEST_EFFORT,
			   .marks = {.version = {1, 10}, .compatibility = {16, 18}}};
	size_t errors = diags->n_errors;
	int r;

	if (diag_set_file(diags, POLICY_DEFAULT_NAME) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(default_paths); i++)
		if (path_list_push(default_paths[i].read_write ? &p.read_write : &p.read_only,
				   default_paths[i].path,
				   (struct source_mark){default_paths[i].line, 7}) < 0) {
			policy_free(&p);
			return -ENOMEM;
		}
	policy_validate(&p, diags);
	diag_sort(diags);
	p.source_name = strdup(POLICY_DEFAULT_NAME);
	r = !p.source_name ? -ENOMEM : diags->n_errors > errors ? -EINVAL : 0;
	if (r < 0) {
		policy_free(&p);
		return r;
	}
	*ret = p;
	return 0;
}

bool policy_is_default(const struct policy *p)
{
	return p && p->source_name && strcmp(p->source_name, POLICY_DEFAULT_NAME) == 0;
}
