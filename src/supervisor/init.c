/* PID 1 of a sandbox, the namespace's init: builds the sandbox's other
 * namespaces and its mounts, prepares the workload, joins the network
 * namespace the supervisor made, vforks the workload, then reaps every
 * process of the sandbox, forwards the supervisor's signals to the workload
 * and reports its stops and its end to the supervisor. Without a workload it
 * reaps until asked to stop. When it exits, the kernel kills every other
 * process of the sandbox. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "enforce/mounts.h"
#include "enforce/namespaces.h"
#include "supervisor/launch.h"

struct init_state {
	pid_t workload; /* 0: an idle sandbox */
	int signal_fd;
	int fd; /* the channel to the supervisor */
};

/* Rootless, PID 1 is made dumpable: setns(2) through a pidfd requires
 * ptrace read access to the target, which a non-dumpable process grants only
 * to holders of CAP_SYS_PTRACE in the initial user namespace. The processes
 * that may now trace it have the invoking user's uid; the workload among
 * them is refused by Landlock's ptrace scoping and by seccomp. */
static int init_dumpable(const struct prepared *p, struct error *err)
{
	if (p->spec.user_ns && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return error_set_errno(err, errno, "prctl(PR_SET_DUMPABLE)");
	return 0;
}

static int init_setup(struct prepared *p, struct error *err)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return error_set_errno(err, errno, "prctl(PR_SET_PDEATHSIG)");
	if (init_dumpable(p, err) < 0)
		return -err->code;
	if (launch_parent_exited(p))
		return error_set(err, ESRCH, "the supervisor exited during the launch");
	if (setpgid(0, 0) < 0)
		return error_set_errno(err, errno, "setpgid");
	return 0;
}

/* The network namespace the supervisor created meanwhile: the first
 * message on the channel. */
static int init_network_join(int channel, struct error *err)
{
	_cleanup_close_ int fd = launch_fd_receive(channel, INIT_NETWORK, "network namespace", err);

	if (fd < 0)
		return fd;
	return namespaces_net_join(fd, err);
}

static int init_build_sandbox(struct prepared *p, struct error *err)
{
	int r = namespaces_enter_rest(&p->spec, err);

	if (r >= 0)
		r = mounts_setup(&p->spec, err);
	if (r < 0)
		return error_prefix(err, "building the sandbox");
	return 0;
}

/* SIGCONT joins the forwarded signals: the timeout's SIGCONT must reach a
 * stopped workload. */
static int init_signals_open(struct error *err)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGCONT);
	for (size_t i = 0; i < launch_n_forwarded_signals; i++)
		sigaddset(&set, launch_forwarded_signals[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return error_set_errno(err, errno, "sigprocmask");
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return error_set_errno(err, errno, "signalfd");
	return fd;
}

/* The workload starts inside the finished sandbox: it inherits every
 * namespace and the mounts, and what launch_workload_prepare() made. It is
 * vfork()ed: it borrows PID 1's memory until its exec, which spares copying
 * that memory and the page faults of writing to the copies, while PID 1
 * waits. It must therefore change nothing PID 1 reads afterwards: it
 * closes fds in its own table only, leaves `p` as it is, and ends in exec
 * or _exit. What it does change in the shared memory is restored here: the
 * environ pointer, and the dumpable flag, which belongs to the memory and
 * which the workload's privilege drop clears. */
static int init_fork_workload(const struct launch *l, struct prepared *p, struct error *err)
{
	char **env = environ; /* the workload sets its own before exec */
	int r = launch_parent_pidfd_open(p, err);
	pid_t pid;

	if (r < 0)
		return r;
	/* vfork on purpose, with the rules above (the analyzer knows only
	 * exec and _exit as safe in the child). */
	pid = vfork(); /* NOLINT(clang-analyzer-security.insecureAPI.vfork) */
	if (pid == 0) {
		close(p->init_fd); /* NOLINT(clang-analyzer-unix.Vfork) */
		child_main(l, p);  /* NOLINT(clang-analyzer-unix.Vfork) */
	}
	environ = env;
	if (pid < 0)
		return error_set_errno(err, errno, "vfork");
	setpgid(pid, pid);
	r = init_dumpable(p, err);
	if (r < 0) {
		kill(pid, SIGKILL);
		return r;
	}
	return pid;
}

static void init_send(const struct init_state *st, int kind, int value)
{
	struct init_message m = {.kind = kind, .value = value};

	(void)!send(st->fd, &m, sizeof(m), MSG_NOSIGNAL);
}

/* Ends PID 1 with the workload's code; the message carries the exact wait
 * status. */
static noreturn void init_exit_with(const struct init_state *st, int status)
{
	init_send(st, INIT_WORKLOAD_EXITED, status);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* Reaps every process that has exited; reports the workload's stops and
 * ends with it. */
static void init_reap(const struct init_state *st)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG | WUNTRACED)) > 0) {
		if (pid != st->workload)
			continue;
		if (WIFSTOPPED(status))
			init_send(st, INIT_WORKLOAD_STOPPED, status);
		else
			init_exit_with(st, status);
	}
}

static bool signal_requests_stop(const struct signalfd_siginfo *si)
{
	int sig = (int)si->ssi_signo;

	/* ssi_pid is 0 for a sender outside the sandbox's PID namespace. */
	return si->ssi_pid == 0 &&
	       (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT);
}

static void init_signals_handle(const struct init_state *st)
{
	struct signalfd_siginfo si;

	while (read(st->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			init_reap(st);
		else if (st->workload > 0)
			kill(-st->workload, (int)si.ssi_signo);
		else if (signal_requests_stop(&si))
			_exit(0);
	}
}

/* The supervisor was continued after the workload stopped. */
static void init_message_handle(const struct init_state *st)
{
	struct init_message m;

	if (recv(st->fd, &m, sizeof(m), MSG_DONTWAIT) != sizeof(m) || m.kind != INIT_RESUME ||
	    st->workload <= 0)
		return;
	if (m.value)
		tcsetpgrp(STDIN_FILENO, st->workload);
	kill(-st->workload, SIGCONT);
}

static noreturn void init_loop(const struct init_state *st)
{
	for (;;) {
		struct pollfd fds[] = {{st->signal_fd, POLLIN, 0}, {st->fd, POLLIN, 0}};

		if (poll(fds, ARRAY_SIZE(fds), -1) < 0)
			continue;
		if (fds[0].revents & POLLIN)
			init_signals_handle(st);
		if (fds[1].revents & POLLIN)
			init_message_handle(st);
		else if (fds[1].revents & (POLLHUP | POLLERR))
			_exit(LAUNCH_EXIT_FAILED); /* the supervisor is gone */
	}
}

noreturn void init_main(const struct launch *l, struct prepared *p)
{
	struct init_state st = {.fd = p->init_fd};
	struct error err = {0};
	int r;

	r = init_setup(p, &err);
	if (r >= 0)
		r = init_build_sandbox(p, &err);
	/* while the supervisor creates the network namespace */
	if (r >= 0 && l->argv)
		r = launch_workload_prepare(l, p, &err);
	if (r >= 0 && p->spec.net_none)
		r = init_network_join(p->init_fd, &err);
	if (r >= 0 && l->argv) {
		r = st.workload = init_fork_workload(l, p, &err);
		launch_workload_release(p);
	}
	if (r >= 0)
		r = st.signal_fd = init_signals_open(&err);
	if (r < 0)
		child_report_exit(p->report_fd, LAUNCH_EXIT_FAILED, &err);
	close(TAKE_FD(p->report_fd));
	init_loop(&st);
}
