/* PID 1 of a sandbox, the namespace's init: builds the sandbox's other
 * namespaces and its mounts, forks the workload into them, then reaps every
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
static int init_setup(struct prepared *p, struct error *err)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return error_set_errno(err, errno, "prctl(PR_SET_PDEATHSIG)");
	if (p->spec.user_ns && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return error_set_errno(err, errno, "prctl(PR_SET_DUMPABLE)");
	if (launch_parent_exited(p))
		return error_set(err, ESRCH, "the supervisor exited during the launch");
	if (setpgid(0, 0) < 0)
		return error_set_errno(err, errno, "setpgid");
	return 0;
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
 * namespace and the mounts. */
static int init_fork_workload(const struct launch *l, struct prepared *p, struct error *err)
{
	int r = launch_parent_pidfd_open(p, err);
	pid_t pid;

	if (r < 0)
		return r;
	pid = fork();
	if (pid < 0)
		return error_set_errno(err, errno, "fork");
	if (pid == 0) {
		close(TAKE_FD(p->init_fd));
		child_main(l, p);
	}
	setpgid(pid, pid);
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
	if (r >= 0 && l->argv)
		r = st.workload = init_fork_workload(l, p, &err);
	if (r >= 0)
		r = st.signal_fd = init_signals_open(&err);
	if (r < 0)
		child_report_exit(p->report_fd, LAUNCH_EXIT_FAILED, &err);
	close(TAKE_FD(p->report_fd));
	init_loop(&st);
}
