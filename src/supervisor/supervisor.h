/* The supervisor: builds the sandbox (its namespaces, its PID 1), starts
 * the workload through the launch sequence, then forwards signals, enforces
 * the timeout, reaps every descendant and hands the terminal back.
 *
 * The launch sequence, in order (docs/isolation.md has the picture):
 *   supervisor: become a child subreaper, block the forwarded signals,
 *           then namespaces_enter_user_pid() (isolate: user namespace when
 *           rootless, PID namespace) or, for `sandbox exec`,
 *           namespaces_join_user_pid() into a running sandbox (with
 *           network none, a thread of the supervisor starts creating the
 *           network namespace between the two); fork; the thread hands
 *           PID 1 an fd of that namespace as soon as it is ready, and the
 *           supervisor collects the thread;
 *   PID 1 (isolate): die with the supervisor, own process group,
 *           namespaces_enter_rest() (IPC, UTS) and mounts_setup() (private
 *           /dev, /proc, /tmp, /run, read-only view); prepare the workload
 *           (identity, bounding set dropped as root, seccomp filter,
 *           environment, Landlock rules: inside the sandbox's mounts, since
 *           rules bind to the inodes of its own /proc, /dev and /tmp); join
 *           the network namespace; vfork the workload; then reap every
 *           process of the sandbox, forward the signals the supervisor sends
 *           it to the workload's process group, report the workload's stops
 *           and wait status to the supervisor, and exit with the workload.
 *           Its exit ends every process of the sandbox;
 *   workload: own process group (and the terminal's foreground); for
 *           `sandbox exec` join the sandbox's mount, IPC, UTS (and network)
 *           namespaces and prepare as PID 1 does above; drop privileges, die
 *           with its parent, chdir, no_new_privs, no core dumps, not
 *           dumpable, enforce Landlock, close inherited fds, restore
 *           signals, load seccomp (last), exec.
 * Without isolation (user namespaces unavailable to an ordinary user under
 * best_effort) the supervisor forks the workload directly. Every failure
 * before exec reaches the supervisor as one report on a CLOEXEC pipe. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>
#include <termios.h>

#include "base/error.h"
#include "host/host.h"
#include "policy/effective.h"

/* Exit codes the supervisor produces itself (DESIGN.md). */
enum {
	LAUNCH_EXIT_TIMEOUT = 124,
	LAUNCH_EXIT_FAILED = 125,
	LAUNCH_EXIT_CANNOT_EXECUTE = 126,
	LAUNCH_EXIT_NOT_FOUND = 127,
};

#define LAUNCH_DEFAULT_KILL_AFTER_S 5.0

struct launch {
	const struct effective *eff; /* needed until supervisor_start returns */
	const struct host *host;
	/* The command; argv[0] is searched in PATH. NULL (with isolate): an
	 * idle sandbox whose PID 1 only reaps until SIGTERM, SIGINT, SIGHUP or
	 * SIGQUIT from outside the sandbox (the supervisor forwards its own)
	 * ends it with code 0. */
	char *const *argv;
	char *const *env_extra; /* "K=V" applied over the inherited environment; may be NULL */
	const char *workdir;	/* the workload's current directory */
	double timeout_s;	/* 0: none */
	double kill_after_s;	/* SIGKILL this long after the timeout's SIGTERM */
	/* A new sandbox as eff->isolation and eff->network describe it: user
	 * (rootless), PID, mount, IPC, UTS and network namespaces, private
	 * /proc, /dev (with the GPU nodes) and /tmp. When eff->isolation is
	 * disabled (no user namespaces, best_effort), a warning and none. */
	bool isolate;
	const char *hostname; /* the UTS hostname; NULL: eff->isolation.hostname */
	/* > 0: `sandbox exec` into the sandbox whose PID 1 has this pid: its
	 * namespaces are joined instead of created (isolate is ignored). */
	pid_t join_pid;
};

/* A running workload. */
struct supervisor {
	/* The process supervisor_wait() waits for and signals, leader of its
	 * own process group: the sandbox's PID 1 under isolation, otherwise
	 * the workload. */
	pid_t pid;
	/* The sandbox's PID 1: pid under isolation, launch.join_pid for
	 * `sandbox exec`, 0 without isolation. */
	pid_t init_pid;
	int init_fd;	     /* the channel to PID 1; -1 without isolation */
	bool via_init;	     /* pid is PID 1, which relays the workload's stops and end */
	bool workload_ended; /* PID 1 reported the workload's wait status */
	int workload_status;
	int signal_fd;
	int timer_fd;
	double kill_after_s;
	bool timed_out;
	bool killing;	  /* the timeout's SIGKILL is armed or sent */
	bool on_terminal; /* stdin is the controlling terminal: job control applies */
	/* The terminal is handed to the workload's process group. */
	bool owns_terminal;
	struct termios saved_termios;
	struct sigaction saved_sigttou; /* SIGTTOU is ignored while supervising */
};

/* Runs the supervisor's half of the launch sequence and forks. Must be
 * called single-threaded. Returns 0 when the workload's program is running
 * (exec succeeded), or for an idle sandbox when its mounts are built;
 * LAUNCH_EXIT_NOT_FOUND or LAUNCH_EXIT_CANNOT_EXECUTE with err naming the
 * command when exec failed;
 * a negative errno with err naming the step when lockshell itself failed.
 * On success the caller may free l->eff, l->host and the policy before
 * supervisor_wait(). */
int supervisor_start(const struct launch *l, struct supervisor *ret, struct error *err);

/* Supervises until the workload's main process has exited (under isolation:
 * until PID 1 has, which follows the workload), then kills and reaps every
 * other descendant, restores the terminal, and returns the exit code: the
 * workload's own, 128+N when signal N killed it, LAUNCH_EXIT_TIMEOUT when
 * the timeout expired. The forwarded signals stay
 * blocked (a late one must not end lockshell before it reports the code). */
int supervisor_wait(struct supervisor *s);
