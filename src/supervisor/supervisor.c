/* The supervisor: the launch sequence (the parent's preparation while
 * privileged, fork, the child's steps up to exec) and the wait loop that
 * forwards signals, enforces the timeout, reaps every descendant and hands
 * the terminal back. */
#include "supervisor/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/strv.h"
#include "enforce/creds.h"
#include "enforce/landlock.h"
#include "enforce/seccomp.h"

static const int forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

/* What the child's steps need, prepared by the parent before fork. */
struct prepared {
	struct creds creds;
	struct landlock_ruleset *ruleset;
	struct seccomp_filter *filter;
	struct strv env;
	pid_t supervisor_pid;
	bool take_terminal;
	struct sigaction saved_sigttou;
	sigset_t saved_mask;
	int report_fd; /* the write end of the CLOEXEC error pipe */
};

/* The child's failure report: one write(2), atomic below PIPE_BUF. The
 * parent reads EOF instead when exec succeeded. */
struct child_report {
	int exit_code;
	int code;
	char message[ERROR_MESSAGE_MAX];
};

static void prepared_free(struct prepared *p)
{
	creds_free(&p->creds);
	landlock_ruleset_free(p->ruleset);
	seccomp_filter_free(p->filter);
	strv_clear(&p->env);
	closep(&p->report_fd);
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

static void log_effective(const struct effective *eff)
{
	for (size_t i = 0; i < eff->n_additions; i++) {
		const struct runtime_addition *a = &eff->additions[i];
		char rights[256] = "";
		size_t len = 0;

		for (uint64_t bit = 1; bit & ACCESS_ALL; bit <<= 1)
			if ((a->access & bit) && len < sizeof(rights))
				len += snprintf(rights + len, sizeof(rights) - len, "%s%s",
						len ? "," : "", access_right_name(bit));
		log_info("runtime_addition", "runtime addition: %s %s (%s)", a->path, rights,
			 a->reason);
	}
	for (size_t i = 0; i < eff->notes.len; i++)
		log_info("effective_note", "effective policy: %s", eff->notes.items[i]);
}

/* Identity, Landlock rules, seccomp filter and environment, while still
 * privileged and before fork. */
static int prepare(const struct launch *l, struct prepared *p, struct error *err)
{
	const struct policy *policy = l->eff->policy;
	int r;

	r = creds_resolve(policy->run_as_user, policy->run_as_group, geteuid(), getegid(),
			  &p->creds, err);
	if (r < 0)
		return r;
	log_identity(&p->creds);
	log_effective(l->eff);
	r = landlock_prepare(l->eff, l->host, &p->ruleset, err);
	if (r < 0)
		return r;
	r = seccomp_filter_build(l->eff, &p->filter, err);
	if (r < 0)
		return error_prefix(err, "building the seccomp filter");
	return env_build(l, &p->creds, &p->env, err);
}

static int signals_block(sigset_t *ret_saved, int *ret_fd, struct error *err)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded_signals); i++)
		sigaddset(&set, forwarded_signals[i]);
	if (sigprocmask(SIG_BLOCK, &set, ret_saved) < 0)
		return error_set_errno(err, errno, "sigprocmask");
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return error_set_errno(err, errno, "signalfd");
	*ret_fd = fd;
	return 0;
}

/* Ignores SIGTTOU so that the supervisor and the child can hand the
 * terminal over from a background process group. The workload takes the
 * terminal when stdin is lockshell's controlling terminal and lockshell is
 * in its foreground. */
static int terminal_prepare(struct prepared *p, struct supervisor *s, struct error *err)
{
	struct sigaction ignore = {.sa_handler = SIG_IGN};
	pid_t foreground;

	if (sigaction(SIGTTOU, &ignore, &p->saved_sigttou) < 0)
		return error_set_errno(err, errno, "sigaction(SIGTTOU)");
	s->saved_sigttou = p->saved_sigttou;
	foreground = tcgetpgrp(STDIN_FILENO);
	s->on_terminal = foreground >= 0;
	p->take_terminal =
	    foreground == getpgrp() && tcgetattr(STDIN_FILENO, &s->saved_termios) == 0;
	s->owns_terminal = p->take_terminal;
	return 0;
}

static noreturn void child_report_exit(int fd, int exit_code, const struct error *err)
{
	struct child_report rep = {.exit_code = exit_code, .code = err->code};

	memcpy(rep.message, err->message, sizeof(rep.message));
	(void)!write(fd, &rep, sizeof(rep));
	_exit(exit_code);
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

static int child_harden(const struct launch *l, const struct prepared *p, struct error *err)
{
	const struct rlimit no_core = {0, 0};

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return error_set_errno(err, errno, "prctl(PR_SET_PDEATHSIG)");
	if (getppid() != p->supervisor_pid)
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
	return 0;
}

/* Every step between fork and exec; the seccomp filter goes last so that
 * it constrains nothing but the workload. */
static int child_setup(const struct launch *l, struct prepared *p, struct error *err)
{
	int r;

	r = child_take_terminal(p, err);
	if (r < 0)
		return r;
	r = creds_drop(&p->creds, err);
	if (r < 0)
		return error_prefix(err, "dropping privileges");
	r = child_harden(l, p, err);
	if (r < 0)
		return r;
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

static noreturn void child_main(const struct launch *l, struct prepared *p)
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

static void terminal_reclaim(const struct supervisor *s)
{
	if (!s->owns_terminal)
		return;
	tcsetpgrp(STDIN_FILENO, getpgrp());
	tcsetattr(STDIN_FILENO, TCSADRAIN, &s->saved_termios);
}

static void supervisor_close(struct supervisor *s)
{
	terminal_reclaim(s);
	sigaction(SIGTTOU, &s->saved_sigttou, NULL);
	closep(&s->signal_fd);
	closep(&s->timer_fd);
}

/* EOF: exec succeeded. A report: the child failed and exited. */
static int launch_result(struct supervisor *s, int fd, struct error *err)
{
	struct child_report rep;
	ssize_t n;

	do
		n = read(fd, &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0;
	waitpid(s->pid, NULL, 0);
	if (n != sizeof(rep))
		return error_set(err, EIO, "the workload's launch failed without a report");
	rep.message[sizeof(rep.message) - 1] = '\0';
	error_set(err, rep.code, "%s", rep.message);
	if (rep.exit_code == LAUNCH_EXIT_FAILED)
		return -err->code;
	return rep.exit_code;
}

static int timer_arm(int fd, double seconds)
{
	struct itimerspec its = {0};

	its.it_value.tv_sec = (time_t)seconds;
	its.it_value.tv_nsec = (long)((seconds - (double)its.it_value.tv_sec) * 1e9);
	if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
		its.it_value.tv_nsec = 1;
	return timerfd_settime(fd, 0, &its, NULL);
}

static int parent_start(const struct launch *l, struct prepared *p, struct supervisor *s,
			struct error *err)
{
	int fds[2];
	int r;

	r = terminal_prepare(p, s, err);
	if (r < 0)
		return r;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return error_set_errno(err, errno, "pipe2");
	p->report_fd = fds[1];
	_cleanup_close_ int report_read = fds[0];
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		return error_set_errno(err, errno, "prctl(PR_SET_CHILD_SUBREAPER)");
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->timer_fd < 0)
		return error_set_errno(err, errno, "timerfd_create");
	r = signals_block(&p->saved_mask, &s->signal_fd, err);
	if (r < 0)
		return r;
	p->supervisor_pid = getpid();
	s->pid = fork();
	if (s->pid < 0)
		return error_set_errno(err, errno, "fork");
	if (s->pid == 0)
		child_main(l, p);
	setpgid(s->pid, s->pid);
	close(TAKE_FD(p->report_fd));
	return launch_result(s, report_read, err);
}

int supervisor_start(const struct launch *l, struct supervisor *ret, struct error *err)
{
	_cleanup_(prepared_free) struct prepared p = {.report_fd = -1};
	struct supervisor s = {.signal_fd = -1, .timer_fd = -1, .kill_after_s = l->kill_after_s};
	size_t seccomp_rules;
	int r;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return error_set_errno(err, errno, "prctl(PR_SET_DUMPABLE)");
	r = prepare(l, &p, err);
	if (r < 0)
		return r;
	seccomp_rules = seccomp_filter_rule_count(p.filter);
	r = parent_start(l, &p, &s, err);
	if (r != 0) {
		supervisor_close(&s);
		return r;
	}
	log_info("seccomp", "seccomp filter installed: %zu rules", seccomp_rules);
	log_info("launch", "launched pid %d: %s", (int)s.pid, l->argv[0]);
	if (l->timeout_s > 0 && timer_arm(s.timer_fd, l->timeout_s) < 0)
		log_warning("timeout", "cannot arm the timeout: %s", strerror(errno));
	*ret = s;
	return 0;
}

/* The timeout: SIGTERM to the workload's group, SIGKILL after the grace. */
static void timer_fired(struct supervisor *s)
{
	uint64_t expirations;

	if (read(s->timer_fd, &expirations, sizeof(expirations)) < 0)
		return;
	if (!s->timed_out) {
		s->timed_out = true;
		log_info("timeout", "timeout: sending SIGTERM to the workload, SIGKILL in %gs",
			 s->kill_after_s);
		kill(-s->pid, SIGTERM);
		kill(-s->pid, SIGCONT);
		timer_arm(s->timer_fd, s->kill_after_s);
	} else if (!s->killing) {
		s->killing = true;
		log_info("timeout", "timeout: sending SIGKILL to the workload");
		kill(-s->pid, SIGKILL);
	}
}

/* The workload stopped (Ctrl-Z, or a read from the terminal in the
 * background): give the terminal back and stop too, as a shell expects of
 * its job; once continued, hand the terminal over if lockshell is now in
 * the foreground, and continue the workload. */
static void suspend_with_workload(struct supervisor *s)
{
	struct termios workload_termios;
	bool saved = s->owns_terminal && tcgetattr(STDIN_FILENO, &workload_termios) == 0;

	terminal_reclaim(s);
	kill(getpid(), SIGSTOP);
	if (tcgetpgrp(STDIN_FILENO) == getpgrp()) {
		if (!s->owns_terminal)
			s->owns_terminal = tcgetattr(STDIN_FILENO, &s->saved_termios) == 0;
		if (saved)
			tcsetattr(STDIN_FILENO, TCSADRAIN, &workload_termios);
		if (s->owns_terminal)
			tcsetpgrp(STDIN_FILENO, s->pid);
	}
	kill(-s->pid, SIGCONT);
}

/* Reaps every exited child; true once the workload's main process is gone. */
static bool children_reap(struct supervisor *s, int *ret_status)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG | WUNTRACED)) > 0) {
		if (pid != s->pid)
			continue;
		if (WIFSTOPPED(status)) {
			if (s->on_terminal)
				suspend_with_workload(s);
			continue;
		}
		*ret_status = status;
		return true;
	}
	return false;
}

static const char *signal_name(int sig)
{
	const char *name = sigabbrev_np(sig);

	return name ? name : "?";
}

static bool signals_handle(struct supervisor *s, int *ret_status)
{
	struct signalfd_siginfo si;
	bool done = false;

	while (read(s->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			done = children_reap(s, ret_status) || done;
			continue;
		}
		log_info("signal", "forwarding SIG%s to the workload", signal_name(si.ssi_signo));
		kill(-s->pid, si.ssi_signo);
	}
	return done;
}

/* SIGKILL to every child the subreaper has (orphans included). */
static void children_kill(void)
{
	char path[64];
	_cleanup_fclose_ FILE *f = NULL;
	int pid;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	f = fopen(path, "re");
	while (f && fscanf(f, "%d", &pid) == 1)
		kill(pid, SIGKILL);
}

/* The main process is gone: end what remains of the sandbox and reap it. */
static void remains_end(const struct supervisor *s)
{
	kill(-s->pid, SIGKILL);
	for (;;) {
		children_kill();
		if (waitpid(-1, NULL, 0) < 0 && errno == ECHILD)
			return;
	}
}

static int exit_code_of(const struct supervisor *s, int status)
{
	if (WIFSIGNALED(status)) {
		log_info("exit", "workload killed by signal %d (SIG%s)", WTERMSIG(status),
			 signal_name(WTERMSIG(status)));
		return s->timed_out ? LAUNCH_EXIT_TIMEOUT : 128 + WTERMSIG(status);
	}
	log_info("exit", "workload exited with code %d", WEXITSTATUS(status));
	return s->timed_out ? LAUNCH_EXIT_TIMEOUT : WEXITSTATUS(status);
}

int supervisor_wait(struct supervisor *s)
{
	int status = 0;
	bool done = false;

	while (!done) {
		struct pollfd fds[] = {{s->signal_fd, POLLIN, 0}, {s->timer_fd, POLLIN, 0}};

		if (poll(fds, ARRAY_SIZE(fds), -1) < 0) {
			if (errno == EINTR)
				continue;
			waitpid(s->pid, &status, 0);
			break;
		}
		if (fds[1].revents & POLLIN)
			timer_fired(s);
		if (fds[0].revents & POLLIN)
			done = signals_handle(s, &status);
	}
	remains_end(s);
	supervisor_close(s);
	if (s->timed_out)
		log_info("exit", "timeout expired");
	return exit_code_of(s, status);
}
