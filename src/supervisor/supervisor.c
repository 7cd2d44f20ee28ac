/* The supervisor: the launch sequence in the supervisor's process (the
 * isolation spec, the user and PID namespaces, fork) and the wait loop that
 * forwards signals, enforces the timeout, reaps, follows the workload's
 * stops and hands the terminal back. The workload's own steps are in
 * child.c, the sandbox's PID 1 in init.c. */
#include "supervisor/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "supervisor/launch.h"

const int launch_forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
const size_t launch_n_forwarded_signals = ARRAY_SIZE(launch_forwarded_signals);

#define TMP_PREFIX "/tmp/"
#define RUN_PREFIX "/run/"

static void prepared_free(struct prepared *p)
{
	creds_free(&p->creds);
	landlock_ruleset_free(p->ruleset);
	seccomp_filter_free(p->filter);
	strv_clear(&p->env);
	free(p->device_paths);
	free(p->tmp_paths);
	free(p->run_paths);
	free(p->ro_paths);
	free(p->rw_paths);
	closep(&p->join_pidfd);
	closep(&p->parent_pidfd);
	closep(&p->report_fd);
	closep(&p->init_fd);
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

static void warn_without_isolation(const char *cause)
{
	log_warning("isolation",
		    "%s: the sandbox runs WITHOUT namespaces and without a private /proc, /dev "
		    "and /tmp; only Landlock and seccomp confine it (landlock compatibility "
		    "best_effort)",
		    cause);
}

/* The entries of list that are device nodes (prefix NULL) or lie below
 * prefix. */
static void paths_add(const struct effective_path_list *list, const char *prefix,
		      const char **paths, size_t *n)
{
	for (size_t i = 0; i < list->len; i++) {
		const struct effective_path *e = &list->items[i];

		if (prefix ? strncmp(e->path, prefix, strlen(prefix)) == 0 : e->is_device)
			paths[(*n)++] = e->path;
	}
}

/* The isolation spec from the effective policy: its GPU device nodes for the
 * private /dev, and the workdir and policy entries below /tmp/ and /run/ for
 * the private /tmp and /run. */
static int isolation_spec_build(const struct launch *l, struct prepared *p, struct error *err)
{
	const struct effective *eff = l->eff;
	size_t max = eff->read_only.len + eff->read_write.len + 1;
	struct isolation_spec *spec = &p->spec;

	p->device_paths = calloc(max, sizeof(*p->device_paths));
	p->tmp_paths = calloc(max, sizeof(*p->tmp_paths));
	p->run_paths = calloc(max, sizeof(*p->run_paths));
	p->ro_paths = calloc(max, sizeof(*p->ro_paths));
	p->rw_paths = calloc(max, sizeof(*p->rw_paths));
	if (!p->device_paths || !p->tmp_paths || !p->run_paths || !p->ro_paths || !p->rw_paths)
		return error_set(err, ENOMEM, "out of memory");
	*spec = (struct isolation_spec){
	    .user_ns = eff->isolation.user,
	    .net_none = eff->network == NETWORK_NONE,
	    .hostname = l->hostname ? l->hostname : eff->isolation.hostname,
	    .private_tmp = eff->isolation.private_tmp,
	    .device_paths = p->device_paths,
	    .tmp_paths = p->tmp_paths,
	    .run_paths = p->run_paths,
	    .read_only_paths = p->ro_paths,
	    .read_write_paths = p->rw_paths,
	};
	paths_add(&eff->read_only, NULL, p->device_paths, &spec->n_device_paths);
	paths_add(&eff->read_write, NULL, p->device_paths, &spec->n_device_paths);
	paths_add(&eff->read_only, TMP_PREFIX, p->tmp_paths, &spec->n_tmp_paths);
	paths_add(&eff->read_write, TMP_PREFIX, p->tmp_paths, &spec->n_tmp_paths);
	paths_add(&eff->read_only, RUN_PREFIX, p->run_paths, &spec->n_run_paths);
	paths_add(&eff->read_write, RUN_PREFIX, p->run_paths, &spec->n_run_paths);
	paths_add(&eff->read_only, "/", p->ro_paths, &spec->n_read_only_paths);
	paths_add(&eff->read_write, "/", p->rw_paths, &spec->n_read_write_paths);
	if (strncmp(l->workdir, TMP_PREFIX, strlen(TMP_PREFIX)) == 0)
		p->tmp_paths[spec->n_tmp_paths++] = l->workdir;
	if (strncmp(l->workdir, RUN_PREFIX, strlen(RUN_PREFIX)) == 0)
		p->run_paths[spec->n_run_paths++] = l->workdir;
	return 0;
}

/* Whether this launch builds a new sandbox: asked for, and possible. */
static bool isolation_wanted(const struct launch *l)
{
	if (!l->isolate || l->join_pid > 0)
		return false;
	if (!l->eff->isolation.enabled)
		warn_without_isolation("user namespaces are unavailable to this user");
	return l->eff->isolation.enabled;
}

/* What the supervisor settles before fork: whether to isolate, and the
 * isolation spec (also for a sandbox joined, whose namespaces it names).
 * The workload's identity, seccomp filter, environment and Landlock rules
 * are prepared inside the sandbox (launch_workload_prepare()). */
static int prepare(const struct launch *l, struct prepared *p, struct error *err)
{
	log_effective(l->eff);
	p->isolate = isolation_wanted(l);
	if (!l->argv && !p->isolate)
		return error_set(err, EINVAL, "a sandbox without a command needs isolation");
	if (p->isolate || (l->join_pid > 0 && l->eff->isolation.enabled))
		return isolation_spec_build(l, p, err);
	return 0;
}

static int signals_block(sigset_t *ret_saved, int *ret_fd, struct error *err)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < launch_n_forwarded_signals; i++)
		sigaddset(&set, launch_forwarded_signals[i]);
	if (sigprocmask(SIG_BLOCK, &set, ret_saved) < 0)
		return error_set_errno(err, errno, "sigprocmask");
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return error_set_errno(err, errno, "signalfd");
	*ret_fd = fd;
	return 0;
}

/* Ignores SIGTTOU so that the supervisor, PID 1 and the workload can hand
 * the terminal over from a background process group. The workload takes
 * the terminal when stdin is lockshell's controlling terminal and lockshell
 * is in its foreground. */
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
	closep(&s->init_fd);
}

/* EOF: exec succeeded (or an idle PID 1 is ready). A report: the child
 * failed and exited. */
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

/* New user and PID namespaces (PID 1 creates the others), or (`sandbox
 * exec`) those of a running sandbox. Where user namespaces turn out to be
 * unavailable, best_effort goes on without isolation after a warning. */
static int namespaces_prepare(const struct launch *l, struct prepared *p, struct net_creation *net,
			      struct error *err)
{
	int r;

	if (l->join_pid > 0 && l->eff->isolation.enabled) {
		p->join_pidfd = pidfd_open(l->join_pid, 0);
		if (p->join_pidfd < 0)
			return error_set_errno(err, errno, "pidfd_open(%d), the sandbox's PID 1",
					       (int)l->join_pid);
		return namespaces_join_user_pid(p->join_pidfd, err);
	}
	if (!p->isolate)
		return 0;
	r = namespaces_enter_user_pid(&p->spec, net, err);
	if (r != NAMESPACES_USERNS_UNAVAILABLE)
		return r;
	if (l->eff->compat == COMPAT_HARD_REQUIREMENT || !l->argv)
		return error_prefix(err, "the sandbox's isolation needs a user namespace%s",
				    l->argv ? " (landlock compatibility: hard_requirement)" : "");
	warn_without_isolation(err->message);
	p->isolate = false;
	return 0;
}

static int init_channel_open(struct prepared *p, struct supervisor *s, struct error *err)
{
	int fds[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
		return error_set_errno(err, errno, "socketpair");
	s->init_fd = fds[0];
	p->init_fd = fds[1];
	s->via_init = true;
	return 0;
}

/* The first fork: PID 1 of the new sandbox under isolation, the workload
 * otherwise (inside the joined sandbox for `sandbox exec`). */
static int fork_first(const struct launch *l, struct prepared *p, struct supervisor *s,
		      struct error *err)
{
	int r = p->isolate ? init_channel_open(p, s, err) : 0;

	if (r >= 0)
		r = launch_parent_pidfd_open(p, err);
	if (r < 0)
		return r;
	s->pid = fork();
	if (s->pid < 0)
		return error_set_errno(err, errno, "fork");
	if (s->pid == 0) {
		closep(&s->signal_fd);
		closep(&s->timer_fd);
		closep(&s->init_fd);
		closep(&p->report_read_fd);
		if (p->isolate)
			init_main(l, p);
		child_main(l, p);
	}
	setpgid(s->pid, s->pid);
	s->init_pid = p->isolate ? s->pid : p->join_pidfd >= 0 ? l->join_pid : 0;
	return 0;
}

/* The sandbox's network namespace (--network none), created by a thread of
 * the supervisor while it forks PID 1 and PID 1 builds the mounts: the two
 * costliest steps of the launch overlap. The thread sends PID 1 the
 * namespace as soon as it is ready, which PID 1 joins before it forks the
 * workload: no wake-up of the supervisor's own thread on that path. */
static int network_send(int fd, void *userdata)
{
	const struct supervisor *s = userdata;

	return launch_fd_send(s->init_fd, INIT_NETWORK, fd);
}

/* The thread's end: the namespace was created and sent, or why not. */
static int network_handed_over(struct net_creation *net, struct error *err)
{
	int r = namespaces_net_create_finish(net, err);

	if (r < 0)
		return r;
	r = net->hand_over_result;
	/* A PID 1 already gone has reported why on the error pipe. */
	if (r < 0 && r != -EPIPE && r != -ECONNRESET)
		return error_set_errno(err, -r, "handing the network namespace to PID 1");
	return 0;
}

static int parent_start(const struct launch *l, struct prepared *p, struct supervisor *s,
			struct error *err)
{
	/* The thread creating the network namespace ends within this call. */
	struct net_creation net = {0};
	int fds[2];
	int r;

	r = terminal_prepare(p, s, err);
	if (r < 0)
		return r;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return error_set_errno(err, errno, "pipe2");
	p->report_fd = fds[1];
	_cleanup_close_ int report_read = p->report_read_fd = fds[0];
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		return error_set_errno(err, errno, "prctl(PR_SET_CHILD_SUBREAPER)");
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->timer_fd < 0)
		return error_set_errno(err, errno, "timerfd_create");
	r = signals_block(&p->saved_mask, &s->signal_fd, err);
	if (r < 0)
		return r;
	r = namespaces_prepare(l, p, &net, err);
	if (r < 0)
		return r;
	r = fork_first(l, p, s, err);
	if (r < 0) {
		namespaces_net_create_abandon(&net);
		return r;
	}
	namespaces_net_create_forked(&net, network_send, s);
	close(TAKE_FD(p->report_fd));
	if (p->isolate)
		close(TAKE_FD(p->init_fd));
	if (net.started && network_handed_over(&net, err) < 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		return -err->code;
	}
	return launch_result(s, report_read, err);
}

static void log_launched(const struct launch *l, const struct supervisor *s)
{
	if (!l->argv)
		log_info("launch", "sandbox started: PID 1 is pid %d, idle", (int)s->pid);
	else if (s->via_init)
		log_info("launch", "launched pid %d: %s (the sandbox's PID 1, which runs it)",
			 (int)s->pid, l->argv[0]);
	else
		log_info("launch", "launched pid %d: %s", (int)s->pid, l->argv[0]);
}

int supervisor_start(const struct launch *l, struct supervisor *ret, struct error *err)
{
	_cleanup_(prepared_free) struct prepared p = {
	    .join_pidfd = -1, .parent_pidfd = -1, .report_fd = -1, .report_read_fd = -1,
	    .init_fd = -1};
	struct supervisor s = {
	    .signal_fd = -1, .timer_fd = -1, .init_fd = -1, .kill_after_s = l->kill_after_s};
	int r;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return error_set_errno(err, errno, "prctl(PR_SET_DUMPABLE)");
	r = prepare(l, &p, err);
	if (r < 0)
		return r; /* NOLINT(clang-analyzer-unix.Malloc): prepared_free frees it */
	r = parent_start(l, &p, &s, err);
	if (r != 0) {
		supervisor_close(&s);
		return r;
	}
	log_launched(l, &s);
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

/* Continues the stopped workload, handing it the terminal first when
 * take_terminal; PID 1 does both inside the sandbox. */
static void workload_resume(const struct supervisor *s, bool take_terminal)
{
	struct init_message m = {.kind = INIT_RESUME, .value = take_terminal};

	if (s->via_init) {
		(void)!send(s->init_fd, &m, sizeof(m), MSG_NOSIGNAL);
		return;
	}
	if (take_terminal)
		tcsetpgrp(STDIN_FILENO, s->pid);
	kill(-s->pid, SIGCONT);
}

/* The workload stopped (Ctrl-Z, or a read from the terminal in the
 * background): give the terminal back and stop too, as a shell expects of
 * its job; once continued, hand the terminal over if lockshell is now in
 * the foreground, and continue the workload. */
static void suspend_with_workload(struct supervisor *s)
{
	struct termios workload_termios;
	bool saved = s->owns_terminal && tcgetattr(STDIN_FILENO, &workload_termios) == 0;
	bool foreground;

	terminal_reclaim(s);
	kill(getpid(), SIGSTOP);
	foreground = tcgetpgrp(STDIN_FILENO) == getpgrp();
	if (foreground) {
		if (!s->owns_terminal)
			s->owns_terminal = tcgetattr(STDIN_FILENO, &s->saved_termios) == 0;
		if (saved)
			tcsetattr(STDIN_FILENO, TCSADRAIN, &workload_termios);
	}
	workload_resume(s, foreground && s->owns_terminal);
}

/* PID 1's reports: the workload stopped, or ended with a wait status. The
 * channel is closed at its end of file. */
static void init_messages_handle(struct supervisor *s)
{
	struct init_message m;
	ssize_t n;

	while ((n = recv(s->init_fd, &m, sizeof(m), MSG_DONTWAIT)) == sizeof(m)) {
		if (m.kind == INIT_WORKLOAD_EXITED) {
			s->workload_ended = true;
			s->workload_status = m.value;
		} else if (m.kind == INIT_WORKLOAD_STOPPED && s->on_terminal) {
			suspend_with_workload(s);
		}
	}
	if (n >= 0 || (errno != EAGAIN && errno != EINTR))
		close(TAKE_FD(s->init_fd));
}

/* Reaps every exited child; true once the process waited for is gone. The
 * workload's stops are seen here without isolation, reported by PID 1
 * with it. */
static bool children_reap(struct supervisor *s, int *ret_status)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG | WUNTRACED)) > 0) {
		if (pid != s->pid)
			continue;
		if (WIFSTOPPED(status)) {
			if (s->on_terminal && !s->via_init)
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
		kill(-s->pid, (int)si.ssi_signo);
	}
	return done;
}

/* SIGKILL to every child the subreaper has (orphans included). */
static void children_kill(void)
{
	char path[64], word[16], *end;
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	f = fopen(path, "re");
	/* Never 0 or a negative number: kill() would read a process group. */
	while (f && fscanf(f, "%15s", word) == 1) {
		long pid = strtol(word, &end, 10);

		if (*end == '\0' && pid > 0 && pid <= INT_MAX)
			kill((pid_t)pid, SIGKILL);
	}
}

/* The main process is gone: end what remains of the sandbox and reap it.
 * Under isolation that process was PID 1, and the kernel has already ended
 * the rest of the sandbox. */
static void remains_end(const struct supervisor *s)
{
	if (s->via_init) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		return;
	}
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
		struct pollfd fds[] = {
		    {s->signal_fd, POLLIN, 0}, {s->timer_fd, POLLIN, 0}, {s->init_fd, POLLIN, 0}};

		if (poll(fds, ARRAY_SIZE(fds), -1) < 0) {
			if (errno == EINTR)
				continue;
			waitpid(s->pid, &status, 0);
			break;
		}
		if (fds[1].revents & POLLIN)
			timer_fired(s);
		if (fds[2].revents)
			init_messages_handle(s);
		if (fds[0].revents & POLLIN)
			done = signals_handle(s, &status);
	}
	if (s->init_fd >= 0)
		init_messages_handle(s);
	if (s->workload_ended)
		status = s->workload_status;
	remains_end(s);
	supervisor_close(s);
	if (s->timed_out)
		log_info("exit", "timeout expired");
	return exit_code_of(s, status);
}
