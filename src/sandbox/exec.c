/* `sandbox exec`: the stored policy and effective policy are rebuilt, then
 * the supervisor starts the command inside the running sandbox's namespaces
 * with the same Landlock rules, seccomp filter and identity. */
#include <errno.h>
#include <string.h>
#include <sys/file.h>

#include "policy/effective_load.h"
#include "sandbox/record.h"
#include "sandbox/sandbox.h"

/* What exec needs, freed together. */
struct exec_context {
	struct sandbox_dir dir;
	json_t *rec;
	struct policy policy;
	struct effective eff;
	struct host host;
	struct record_process main;
};

static void exec_context_free(struct exec_context *c)
{
	effective_free(&c->eff);
	policy_free(&c->policy);
	host_free(&c->host);
	json_decref(c->rec);
	sandbox_dir_close(&c->dir);
}

/* The record of a running sandbox, read under the shared lock (held until
 * the command has joined, so that a deletion waits for it). */
static int running_record(int state_fd, const char *name, struct exec_context *c, struct error *err)
{
	const char *state;
	int r;

	r = sandbox_dir_open(state_fd, name, LOCK_SH, &c->dir, err);
	if (r >= 0)
		r = state_read(&c->dir, &c->rec, err);
	if (r < 0)
		return r;
	state = record_state(c->rec);
	if (strcmp(state, STATUS_RUNNING) != 0)
		return error_set(err, ESRCH, "sandbox '%s' is not running (it is %s)", name, state);
	if (record_process(c->rec, "main", &c->main) < 0)
		return error_set(err, EINVAL, "sandbox '%s': its state names no main process",
				 name);
	return 0;
}

static int rebuild(struct exec_context *c, struct error *err)
{
	const char *source = json_string_value(json_object_get(c->rec, "policy_source"));
	int r;

	r = policy_from_json(json_object_get(c->rec, "policy"), source ? source : "<stored>",
			     &c->policy, err);
	if (r >= 0)
		r = effective_from_json(json_object_get(c->rec, "effective"), &c->policy, &c->eff,
					err);
	if (r < 0)
		return error_prefix(err, "sandbox '%s'", c->dir.name);
	return host_probe(&c->host, err);
}

static int join(const struct sandbox_exec_spec *x, struct exec_context *c, struct supervisor *ret,
		struct error *err)
{
	const char *workdir =
	    x->workdir ? x->workdir : json_string_value(json_object_get(c->rec, "workdir"));
	struct launch l = {
	    .eff = &c->eff,
	    .host = &c->host,
	    .argv = x->argv,
	    .env_extra = x->env_extra,
	    .workdir = workdir ? workdir : "/",
	    .timeout_s = x->timeout_s,
	    .kill_after_s = x->kill_after_s,
	    /* A sandbox without namespaces (best_effort without user
	     * namespaces) has none to join: the same policy is enough. */
	    .join_pid = c->eff.isolation.enabled ? c->main.pid : 0,
	};

	if (!process_matches(c->main.pid, c->main.start_time))
		return error_set(err, ESRCH,
				 "sandbox '%s' is not running (its main process is gone)",
				 c->dir.name);
	return supervisor_start(&l, ret, err);
}

int sandbox_exec_start(int state_fd, const struct sandbox_exec_spec *x, struct supervisor *ret,
		       struct error *err)
{
	struct exec_context c = {.dir = SANDBOX_DIR_INIT};
	int r;

	r = running_record(state_fd, x->name, &c, err);
	if (r >= 0)
		r = rebuild(&c, err);
	if (r >= 0)
		r = join(x, &c, ret, err);
	exec_context_free(&c);
	return r;
}
