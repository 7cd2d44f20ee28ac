/* The workload's steps between fork and exec: the terminal, its
 * preparation (identity, seccomp filter, environment), joining the
 * namespaces of a running sandbox for `sandbox exec`, preparing the Landlock
 * rules in the sandbox's mounts, the privilege drop, the hardening, Landlock,
 * seccomp last, exec. Any failure becomes one report on the error pipe and
 * an exit code. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "supervisor/launch.h"

int launch_parent_pidfd_open(struct prepared *p, struct error *err)
{
	int fd = pidfd_open(getpid(), 0);

	if (fd < 0)
		return error_set_errno(err, errno, "pidfd_open");
	if (p->parent_pidfd >= 0)
		close(p->parent_pidfd);
	p->parent_pidfd = fd;
	return 0;
}

bool launch_parent_exited(const struct prepared *p)
{
	struct pollfd pfd = {.fd = p->parent_pidfd, .events = POLLIN};

	return poll(&pfd, 1, 0) > 0;
}

/* One init_message carrying one fd (SCM_RIGHTS), either direction. */
struct fd_message {
	struct init_message m;
	struct iovec iov;
	struct msghdr msg;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control; /* last: clang sees a variable size in CMSG_SPACE */
};

static struct cmsghdr *fd_message_init(struct fd_message *f, int kind)
{
	*f = (struct fd_message){.m = {.kind = kind}};
	f->iov = (struct iovec){.iov_base = &f->m, .iov_len = sizeof(f->m)};
	f->msg = (struct msghdr){.msg_iov = &f->iov,
				 .msg_iovlen = 1,
				 .msg_control = f->control.buf,
				 .msg_controllen = sizeof(f->control.buf)};
	return CMSG_FIRSTHDR(&f->msg);
}

int launch_fd_send(int channel, int kind, int fd)
{
	struct fd_message f;
	struct cmsghdr *cmsg = fd_message_init(&f, kind);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return sendmsg(channel, &f.msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int launch_fd_receive(int channel, int kind, const char *what, struct error *err)
{
	struct fd_message f;
	struct cmsghdr *cmsg;
	_cleanup_close_ int fd = -1;
	ssize_t n;

	fd_message_init(&f, -1);
	do
		n = recvmsg(channel, &f.msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return error_set_errno(err, errno, "receiving the %s", what);
	cmsg = CMSG_FIRSTHDR(&f.msg);
	if (cmsg && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
	    cmsg->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	if (n == 0)
		return error_set(err, ESRCH, "the supervisor exited during the launch");
	if (n != sizeof(f.m) || f.m.kind != kind || fd < 0)
		return error_set(err, EPROTO, "no %s from the supervisor", what);
	return TAKE_FD(fd);
}

noreturn void child_report_exit(int fd, int exit_code, const struct error *err)
{
	struct child_report rep = {.exit_code = exit_code, .code = err->code};

	memcpy(rep.message, err->message, sizeof(rep.message));
	(void)!write(fd, &rep, sizeof(rep));
	_exit(exit_code);
}

/* Sets "K=V" in env, replacing an existing K. */
static int env_put(struct strv *env, const char *kv)
{
	size_t klen = strcspn(kv, "=") + 1;

	for (size_t i = 0; i < env->len; i++)
		if (strncmp(env->items[i], kv, klen) == 0) {
			char *copy = strdup(kv);

			if (!copy)
				return -ENOMEM;
			free(env->items[i]);
			env->items[i] = copy;
			return 0;
		}
	return strv_push(env, kv);
}

static int env_put_pair(struct strv *env, const char *key, const char *value)
{
	_cleanup_free_ char *kv = NULL;

	if (asprintf(&kv, "%s=%s", key, value) < 0)
		return -ENOMEM;
	return env_put(env, kv);
}

/* Inherited, then the identity's HOME/USER/LOGNAME, then -e, then the
 * marker, which nothing overrides. */
static int env_build(const struct launch *l, const struct creds *c, struct strv *env,
		     struct error *err)
{
	int r = 0;

	for (char **e = environ; e && *e && r >= 0; e++)
		r = strchr(*e, '=') ? env_put(env, *e) : 0;
	if (r >= 0)
		r = env_put_pair(env, "HOME", c->home);
	if (r >= 0)
		r = env_put_pair(env, "USER", c->user);
	if (r >= 0)
		r = env_put_pair(env, "LOGNAME", c->user);
	for (char *const *e = l->env_extra; e && *e && r >= 0; e++)
		r = env_put(env, *e);
	if (r >= 0)
		r = env_put(env, "LOCKSHELL_SANDBOX=1");
	if (r < 0)
		return error_set(err, ENOMEM, "building the environment: out of memory");
	return 0;
}

static void log_identity(const struct creds *c)
{
	if (c->change)
		log_info("identity", "identity: uid %u gid %u, %zu supplementary groups, HOME=%s",
			 c->uid, c->gid, c->n_groups, c->home);
	else
		log_info(
		    "identity",
		    "identity: invoked as uid %u (not root): the workload runs as the invoking "
		    "user, uid %u gid %u, groups unchanged",
		    c->uid, c->uid, c->gid);
}

/* Identity (and, as root, the capability bounding set dropped already: PID 1
 * keeps its own capabilities), seccomp filter, environment, then the
 * Landlock rules, which bind to the inodes of the sandbox's own /proc, /dev
 * and /tmp: prepared inside the finished sandbox. */
int launch_workload_prepare(const struct launch *l, struct prepared *p, struct error *err)
{
	const struct policy *policy = l->eff->policy;
	int r;

	r = creds_resolve(policy->run_as_user, policy->run_as_group, geteuid(), getegid(),
			  &p->creds, err);
	if (r < 0)
		return r;
	log_identity(&p->creds);
	r = creds_bounding_set_drop(&p->creds, err);
	if (r < 0)
		return error_prefix(err, "dropping privileges");
	r = seccomp_filter_build(l->eff, &p->filter, err);
	if (r < 0)
		return error_prefix(err, "building the seccomp filter");
	r = env_build(l, &p->creds, &p->env, err);
	if (r >= 0)
		r = landlock_prepare(l->eff, l->host, &p->ruleset, err);
	if (r < 0)
		return r;
	p->workload_prepared = true;
	return 0;
}

void launch_workload_release(struct prepared *p)
{
	creds_free(&p->creds);
	landlock_ruleset_free(TAKE_PTR(p->ruleset));
	seccomp_filter_free(TAKE_PTR(p->filter));
	strv_clear(&p->env);
	p->workload_prepared = false;
}

static int child_take_terminal(const struct prepared *p, struct error *err)
{
	if (setpgid(0, 0) < 0)
		return error_set_errno(err, errno, "setpgid");
	if (p->take_terminal && tcsetpgrp(STDIN_FILENO, getpid()) < 0)
		return error_set_errno(err, errno,
				       "tcsetpgrp (handing the terminal to the workload)");
	if (sigaction(SIGTTOU, &p->saved_sigttou, NULL) < 0)
		return error_set_errno(err, errno, "sigaction(SIGTTOU)");
	return 0;
}

/* `sandbox exec`: the sandbox's mount, IPC, UTS (and network) namespaces,
 * joined through PID 1's pidfd before the workload prepares inside. A new
 * sandbox's workload inherits them from PID 1, which prepared it. */
static int child_enter_sandbox(const struct launch *l, struct prepared *p, struct error *err)
{
	if (p->join_pidfd >= 0 &&
	    namespaces_join_rest(p->join_pidfd, namespaces_rest_flags(&p->spec), err) < 0)
		return error_prefix(err, "entering the sandbox");
	if (p->workload_prepared)
		return 0;
	return launch_workload_prepare(l, p, err);
}

/* The workload's RLIMIT_NPROC: the inherited limit, lowered to a ceiling
 * of NPROC_DEFAULT processes per uid or to $LOCKSHELL_NPROC, never raised,
 * so that a fork bomb cannot take the host's pid space (docs/isolation.md,
 * "Limits"). */
#define NPROC_DEFAULT 4096
#define NPROC_MAX 4194304 /* the kernel's PID_MAX_LIMIT */

static int nproc_limit(struct error *err)
{
	const char *value = getenv("LOCKSHELL_NPROC");
	rlim_t ceiling = NPROC_DEFAULT;
	struct rlimit lim;

	if (value) {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(value, &end, 10);
		if (!*value || *value == '-' || *end || errno || n < 1 || n > NPROC_MAX)
			return error_set(err, EINVAL,
					 "LOCKSHELL_NPROC='%s': expected a number of processes from 1 "
					 "to %d",
					 value, NPROC_MAX);
		ceiling = n;
	}
	if (getrlimit(RLIMIT_NPROC, &lim) < 0)
		return error_set_errno(err, errno, "getrlimit(RLIMIT_NPROC)");
	if (lim.rlim_cur > ceiling)
		lim.rlim_cur = ceiling;
	if (lim.rlim_max > ceiling)
		lim.rlim_max = ceiling;
	if (setrlimit(RLIMIT_NPROC, &lim) < 0)
		return error_set_errno(err, errno, "setrlimit(RLIMIT_NPROC)");
	return 0;
}

static int child_harden(const struct launch *l, const struct prepared *p, struct error *err)
{
	const struct rlimit no_core = {0, 0};

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return error_set_errno(err, errno, "prctl(PR_SET_PDEATHSIG)");
	if (launch_parent_exited(p))
		return error_set(err, ESRCH, "the supervisor exited during the launch");
	if (chdir(l->workdir) < 0)
		return error_set_errno(err, errno, "cannot enter the workdir %s as uid %u",
				       l->workdir, p->creds.uid);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return error_set_errno(err, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
	if (setrlimit(RLIMIT_CORE, &no_core) < 0)
		return error_set_errno(err, errno, "setrlimit(RLIMIT_CORE)");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return error_set_errno(err, errno, "prctl(PR_SET_DUMPABLE)");
	return nproc_limit(err);
}

/* Every step between fork and exec; the seccomp filter goes last so that
 * it constrains nothing but the workload. */
static int child_setup(const struct launch *l, struct prepared *p, struct error *err)
{
	int r;

	r = child_take_terminal(p, err);
	if (r >= 0)
		r = child_enter_sandbox(l, p, err);
	if (r < 0)
		return r;
	r = creds_drop(&p->creds, err);
	if (r < 0)
		return error_prefix(err, "dropping privileges");
	r = child_harden(l, p, err);
	if (r >= 0)
		r = landlock_enforce(p->ruleset, err);
	if (r < 0)
		return r;
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return error_set_errno(err, errno, "close_range");
	if (sigprocmask(SIG_SETMASK, &p->saved_mask, NULL) < 0)
		return error_set_errno(err, errno, "sigprocmask");
	environ = p->env.items;
	r = seccomp_filter_load(p->filter, err);
	if (r < 0)
		return error_prefix(err, "loading the seccomp filter");
	log_info("seccomp", "seccomp filter installed: %zu rules",
		 seccomp_filter_rule_count(p->filter));
	return 0;
}

/* Whether cmd names an existing file, directly or through PATH. execvp
 * reports EACCES when any PATH entry was not searchable, which says nothing
 * about the command when it exists nowhere. */
static bool command_exists(const char *cmd)
{
	const char *dir = getenv("PATH");
	char candidate[PATH_MAX];
	struct stat st;

	if (strchr(cmd, '/'))
		return stat(cmd, &st) == 0;
	for (dir = dir ? dir : "/bin:/usr/bin";; dir++) {
		int len = (int)strcspn(dir, ":");

		snprintf(candidate, sizeof(candidate), "%.*s/%s", len ? len : 1, len ? dir : ".",
			 cmd);
		if (stat(candidate, &st) == 0 && !S_ISDIR(st.st_mode))
			return true;
		dir += len;
		if (!*dir)
			return false;
	}
}

noreturn void child_main(const struct launch *l, struct prepared *p)
{
	struct error err = {0};
	const char *cmd = l->argv[0];

	if (child_setup(l, p, &err) < 0)
		child_report_exit(p->report_fd, LAUNCH_EXIT_FAILED, &err);
	execvp(cmd, l->argv);
	if (errno == ENOENT || (errno == EACCES && !command_exists(cmd))) {
		error_set(&err, ENOENT, "command not found: %s", cmd);
		child_report_exit(p->report_fd, LAUNCH_EXIT_NOT_FOUND, &err);
	}
	error_set_errno(&err, errno, "cannot execute %s", cmd);
	child_report_exit(p->report_fd, LAUNCH_EXIT_CANNOT_EXECUTE, &err);
}
