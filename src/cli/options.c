/* Option values shared by the launching commands: parsing and checking
 * them, and loading the policy a launch uses. */
#include "cli/options.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "cli/cli.h"
#include "policy/gpu.h"
#include "policy/loader.h"

int cli_seconds_parse(const char *option, const char *s, double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0) {
		cli_errorf("invalid %s '%s': expected a number of seconds", option, s);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

int cli_env_assignment_check(const char *option, const char *kv)
{
	size_t name_len = strspn(kv, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				     "0123456789_");

	if (name_len == 0 || kv[name_len] != '=' || (kv[0] >= '0' && kv[0] <= '9')) {
		cli_errorf("invalid %s '%s': expected NAME=VALUE, NAME of letters, digits and "
			   "'_', not starting with a digit",
			   option, kv);
		return -EINVAL;
	}
	return 0;
}

int cli_workdir_resolve(const char *dir, char **ret)
{
	_cleanup_free_ char *path = realpath(dir ? dir : ".", NULL);
	struct stat st;

	if (!path || stat(path, &st) < 0) {
		cli_errorf("workdir %s: %s", dir ? dir : ".", strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		cli_errorf("workdir %s: not a directory", path);
		return -ENOTDIR;
	}
	*ret = TAKE_PTR(path);
	return 0;
}

int cli_policy_load(const char *file, struct policy *ret)
{
	struct diagnostics diags = {0};
	char line[4096];
	bool invalid;
	int r;

	r = file ? policy_load_file(file, ret, &diags) : policy_load_default(ret, &diags);
	invalid = r == -EINVAL && diags.n_errors > 0;
	for (size_t i = 0; i < diags.len && (r >= 0 || invalid); i++) {
		diag_format(&diags, i, line, sizeof(line));
		if (r < 0)
			fprintf(stderr, "%s\n", line);
		else
			log_warning("policy_warning", "%s", line);
	}
	if (invalid)
		cli_errorf("policy %s is invalid: %zu error%s", file ? file : "<default>",
			   diags.n_errors, diags.n_errors == 1 ? "" : "s");
	else if (r < 0)
		cli_errorf("cannot load policy %s: %s", file ? file : "<default>", strerror(-r));
	diag_free(&diags);
	if (r >= 0)
		log_info("policy", "policy %s loaded: %zu read-only, %zu read-write paths, %s",
			 ret->source_name, ret->read_only.len, ret->read_write.len,
			 landlock_compat_name(ret->compat));
	return r;
}

int cli_network_parse(const char *arg, enum network_mode *ret)
{
	if (strcmp(arg, "none") != 0 && strcmp(arg, "host") != 0) {
		cli_errorf("invalid --network '%s' (none or host)", arg);
		return -EINVAL;
	}
	*ret = strcmp(arg, "none") == 0 ? NETWORK_NONE : NETWORK_HOST;
	return 0;
}

int cli_gpu_parse(const char *arg, struct gpu_selection *ret)
{
	struct error err = {0};

	if (gpu_selection_parse(arg, ret, &err) == 0)
		return 0;
	cli_error(&err);
	return -EINVAL;
}
