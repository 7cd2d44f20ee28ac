/* Named sandboxes: create (in the foreground, or detached under a daemon that
 * supervises it), exec into a running one with the effective policy it was
 * created with, list, get and delete. The state lives in state.h's
 * directories; the launch itself is the supervisor's.
 *
 * A sandbox's state.json records: name, status (creating, running, exited,
 * deleting), created, the supervisor's pid and start time, the main pid (the
 * sandbox's PID 1) and its start time, the command (null for an idle
 * sandbox), workdir, detached, keep, exit_code and finished once the main
 * process ended, the policy as written (policy_to_json) and the effective
 * policy (effective_to_json). The state shown to users adds liveness: a
 * sandbox whose supervisor is gone is "stopped". */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "base/error.h"
#include "host/host.h"
#include "policy/effective.h"
#include "sandbox/state.h"
#include "supervisor/supervisor.h"

#define SANDBOX_DELETE_GRACE_S 5.0

/* The effective policy is built once the name is reserved: the name is the
 * sandbox's hostname. */
struct sandbox_spec {
	const char *name; /* NULL: a generated one */
	const struct policy *policy;
	struct effective_request request; /* hostname is set to the name */
	const struct host *host;
	char *const *argv; /* NULL: an idle sandbox (detached only) */
	char *const *env_extra;
	const char *workdir; /* absolute */
	bool keep;	     /* keep the state once the main process has exited */
};

/* A sandbox created in the foreground, running under this process. */
struct sandbox_session {
	struct supervisor sup;
	int state_fd; /* borrowed */
	char name[SANDBOX_NAME_MAX + 1];
	bool keep;
};

/* Reserves the name, builds the effective policy and starts the sandbox
 * with this process as its supervisor. Returns 0 when its main process runs; LAUNCH_EXIT_NOT_FOUND
 * or LAUNCH_EXIT_CANNOT_EXECUTE with err naming the command; a negative errno with err otherwise.
 * The state is removed again on any failure. */
int sandbox_create_foreground(int state_fd, const struct sandbox_spec *spec,
			      struct sandbox_session *ret, struct error *err);
/* Supervises until the main process has exited, records its exit code in
 * the state (or removes the state when !keep) and returns the code. */
int sandbox_session_wait(struct sandbox_session *s);

/* Starts the sandbox under a daemon (double fork, new session, stdin from
 * /dev/null, stdout and stderr appended to the sandbox's log file) and
 * returns once its main process runs or it failed, with the same results
 * as sandbox_create_foreground. ret_name receives the name. */
int sandbox_create_detached(int state_fd, const struct sandbox_spec *spec,
			    char ret_name[static SANDBOX_NAME_MAX + 1], struct error *err);

struct sandbox_exec_spec {
	const char *name;
	char *const *argv;
	char *const *env_extra;
	const char *workdir; /* NULL: the sandbox's workdir */
	double timeout_s;
	double kill_after_s;
};

/* Starts argv inside the running sandbox's namespaces under the effective
 * policy rebuilt from its state. Results as supervisor_start(); a sandbox
 * that is missing or not running is -ENOENT or -ESRCH with err naming it. */
int sandbox_exec_start(int state_fd, const struct sandbox_exec_spec *x, struct supervisor *ret,
		       struct error *err);

/* Summaries of every sandbox, sorted by name: an array of objects with
 * name, state, main_pid, supervisor_pid, created, gpu, network, command,
 * workdir and, once exited, exit_code. */
int sandbox_list(int state_fd, json_t **ret, struct error *err);
/* The summary of one sandbox plus "effective_policy", rebuilt from the
 * stored state as `sandbox exec` enforces it. */
int sandbox_get(int state_fd, const char *name, json_t **ret, struct error *err);

/* Ends a sandbox (SIGTERM to its supervisor, grace_s, SIGKILL, then waits
 * until its supervisor and PID 1 are gone) and removes its state. A stopped
 * or exited sandbox is only cleaned. -ENOENT naming it when there is none. */
int sandbox_delete(int state_fd, const char *name, double grace_s, struct error *err);
