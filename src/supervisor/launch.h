/* Inside the supervisor: what the processes of the launch sequence share
 * (prepared by the supervisor before it forks), the workload's steps up to
 * exec (child.c) and the sandbox's init, PID 1 (init.c). */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdnoreturn.h>

#include "base/error.h"
#include "base/strv.h"
#include "enforce/creds.h"
#include "enforce/landlock.h"
#include "enforce/namespaces.h"
#include "enforce/seccomp.h"
#include "supervisor/supervisor.h"

struct prepared {
	/* Prepared by the workload itself. */
	struct creds creds;
	struct landlock_ruleset *ruleset;
	struct seccomp_filter *filter;
	struct strv env;
	bool workload_prepared; /* the four above are ready */
	/* Prepared by the supervisor before it forks. */
	bool isolate;		    /* the first fork is the sandbox's PID 1 */
	struct isolation_spec spec; /* with isolate, or of the sandbox joined */
	const char **device_paths;  /* spec.device_paths, borrowed strings */
	const char **tmp_paths;	    /* spec.tmp_paths, borrowed strings */
	const char **run_paths;	    /* spec.run_paths, borrowed strings */
	const char **ro_paths;	    /* spec.read_only_paths, borrowed strings */
	const char **rw_paths;	    /* spec.read_write_paths, borrowed strings */
	int join_pidfd;		    /* `sandbox exec`: the sandbox's PID 1, or -1 */
	int parent_pidfd;	    /* the forking process, to notice its death */
	bool take_terminal;
	struct sigaction saved_sigttou;
	sigset_t saved_mask;
	int report_fd;	    /* the write end of the CLOEXEC error pipe */
	int report_read_fd; /* its read end, the supervisor's: closed in the child */
	int init_fd;   /* PID 1's end of its channel to the supervisor */
};

/* The child's failure report: one write(2), atomic below PIPE_BUF. The
 * supervisor reads EOF instead when exec succeeded. */
struct child_report {
	int exit_code;
	int code;
	char message[ERROR_MESSAGE_MAX];
};

/* Between PID 1 and the supervisor, over a SOCK_SEQPACKET pair. */
enum init_message_kind {
	INIT_WORKLOAD_STOPPED, /* PID 1 -> supervisor; value: the wait status */
	INIT_WORKLOAD_EXITED,  /* PID 1 -> supervisor; value: the wait status */
	INIT_RESUME,	       /* supervisor -> PID 1; value: 1 to hand over the terminal */
	INIT_NETWORK,	       /* supervisor -> PID 1, first: the network namespace's fd */
};

struct init_message {
	int kind;
	int value;
};

/* The signals the supervisor forwards to the workload (through PID 1 under
 * isolation). */
extern const int launch_forwarded_signals[];
extern const size_t launch_n_forwarded_signals;

/* Opens a pidfd of the calling process into p->parent_pidfd (closing the
 * previous one), for the child it is about to fork. */
int launch_parent_pidfd_open(struct prepared *p, struct error *err);
/* In the child, once PR_SET_PDEATHSIG is set: whether the process that
 * forked it has already exited. */
bool launch_parent_exited(const struct prepared *p);

/* Over the channel between the supervisor and PID 1: a message of `kind`
 * carrying `fd`; 0 or a negative errno. */
int launch_fd_send(int channel, int kind, int fd);
/* Waits for that message; returns the fd (close-on-exec), or a negative
 * errno with err naming `what` (or the supervisor's exit). */
int launch_fd_receive(int channel, int kind, const char *what, struct error *err);

noreturn void child_report_exit(int fd, int exit_code, const struct error *err);
/* The workload's identity, seccomp filter, environment and Landlock rules,
 * prepared inside the finished sandbox: by PID 1 for a new sandbox (its
 * child inherits them), by the workload itself when it joins one. */
int launch_workload_prepare(const struct launch *l, struct prepared *p, struct error *err);
/* What launch_workload_prepare() made, released in PID 1 once forked. */
void launch_workload_release(struct prepared *p);
/* The workload: from fork to exec (or a report and _exit). */
noreturn void child_main(const struct launch *l, struct prepared *p);
/* PID 1 of the sandbox: builds the namespaces and mounts, forks the
 * workload into them (unless l->argv is NULL), then reaps every process
 * until the workload ends. */
noreturn void init_main(const struct launch *l, struct prepared *p);
