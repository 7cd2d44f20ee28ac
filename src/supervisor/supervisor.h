/* The supervisor: prepares enforcement while privileged, starts the workload
 * through the launch sequence, then forwards signals, enforces the timeout,
 * reaps every descendant and hands the terminal back.
 *
 * The launch sequence, in order:
 *   parent: resolve identity, prepare Landlock rules, build the seccomp
 *           filter, build the environment, become a child subreaper, block
 *           the forwarded signals, fork;
 *   child:  own process group (and the terminal's foreground), drop
 *           privileges, die with the supervisor, chdir, no_new_privs,
 *           no core dumps, not dumpable, enforce Landlock, close inherited
 *           fds, restore signals, load seccomp (last), exec.
 * Namespaces slot in around the fork (namespaces_enter() before it) and
 * between taking the terminal and dropping privileges (mounts_setup(), then
 * landlock_prepare(), which must follow the mounts because Landlock rules
 * bind to the inodes of the sandbox's own /proc and /dev); `sandbox exec`
 * reuses the same child steps after joining a sandbox's namespaces. */
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
	char *const *argv;	/* the command; argv[0] is searched in PATH */
	char *const *env_extra; /* "K=V" applied over the inherited environment; may be NULL */
	const char *workdir;	/* the workload's current directory */
	double timeout_s;	/* 0: none */
	double kill_after_s;	/* SIGKILL this long after the timeout's SIGTERM */
};

/* A running workload. */
struct supervisor {
	pid_t pid; /* the workload; also its process group */
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

/* Runs the parent's half of the launch sequence and forks. Returns 0 when the
 * workload's program is running (exec succeeded); LAUNCH_EXIT_NOT_FOUND or
 * LAUNCH_EXIT_CANNOT_EXECUTE with err naming the command when exec failed;
 * a negative errno with err naming the step when lockshell itself failed.
 * On success the caller may free l->eff, l->host and the policy before
 * supervisor_wait(). */
int supervisor_start(const struct launch *l, struct supervisor *ret, struct error *err);

/* Supervises until the workload's main process has exited, then kills and
 * reaps every other descendant, restores the terminal, and returns the exit
 * code: the workload's own, 128+N when signal N killed it,
 * LAUNCH_EXIT_TIMEOUT when the timeout expired. The forwarded signals stay
 * blocked (a late one must not end lockshell before it reports the code). */
int supervisor_wait(struct supervisor *s);
