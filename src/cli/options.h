/* Option values shared by the commands that launch workloads (`run`,
 * `sandbox create`, `sandbox exec`): seconds, NAME=VALUE assignments,
 * working directories, and loading a policy with its diagnostics printed.
 * Each prints its own message and returns a negative errno on failure. */
#pragma once

#include "policy/effective.h"
#include "policy/policy.h"

/* The UTS hostname of the sandboxes `run` creates. */
#define CLI_RUN_HOSTNAME "lockshell"

/* A non-negative finite number of seconds. */
int cli_seconds_parse(const char *option, const char *s, double *ret);
/* NAME=VALUE, NAME of letters, digits and '_', not starting with a digit. */
int cli_env_assignment_check(const char *option, const char *kv);
/* dir (the current directory when NULL) as an absolute path to a directory. */
int cli_workdir_resolve(const char *dir, char **ret);
/* FILE, or the built-in default when NULL: errors printed when refused,
 * warnings reported as events when it loads. */
int cli_policy_load(const char *file, struct policy *ret);
/* --network: "none" or "host". */
int cli_network_parse(const char *arg, enum network_mode *ret);
/* --gpu[=SEL]: "all" (also when arg is NULL) or a comma list of indices. */
int cli_gpu_parse(const char *arg, struct gpu_selection *ret);
