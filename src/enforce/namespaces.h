/* Isolation of a sandbox: the namespaces its processes live in (this file)
 * and the filesystem view built inside them (mounts.h). One spec describes
 * both; the call order below is the contract with the launch sequence.
 *
 * Call order (the launching process must be single-threaded):
 *
 *   launching process P
 *     namespaces_enter(&spec, &err)
 *         user namespace first when spec.user_ns (rootless), then IPC, UTS
 *         (hostname), network (spec.net_none: loopback only, brought up
 *         here) and PID. P now lives in the new user, IPC, UTS and network
 *         namespaces; its own pid, its mounts and its /proc stay the host's.
 *         (Or split in three, as below.)
 *     fork()
 *         The first child is PID 1 of the new PID namespace: the sandbox's
 *         init. Every later process P forks also lands in that namespace;
 *         once PID 1 has exited, fork() in P fails with ENOMEM.
 *
 *   the child, PID 1 (still privileged in its namespaces)
 *     mounts_setup(&spec, &err)             (mounts.h)
 *         new mount namespace with private propagation, private /dev,
 *         fresh /proc, private /tmp. P never sees these mounts.
 *     landlock_prepare(...)                 (landlock.h)
 *         AFTER mounts_setup: Landlock rules bind to the inodes a path names
 *         when the rule is added, so rules on /proc and /dev must be opened
 *         once the sandbox's /proc and /dev are in place; rules prepared
 *         before would cover the host's, hidden, procfs and devtmpfs.
 *     privilege drop, landlock_enforce, seccomp load, exec (or fork the
 *     workload and stay its init).
 *
 * Rootless (spec.user_ns): the caller's effective uid and gid are mapped to
 * themselves (uid_map "U U 1", gid_map "G G 1"), and setgroups is denied, as
 * the kernel requires for an unprivileged gid_map. Inside, the process keeps
 * its uid and holds every capability over the new namespaces until it execs
 * (exec as a non-zero uid clears them). Files keep their owners. */
#pragma once

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

struct isolation_spec {
	bool user_ns;	      /* create a user namespace first (rootless use) */
	bool net_none;	      /* new network namespace with only loopback, up */
	const char *hostname; /* the sandbox's name (UTS); NULL keeps the host's */
	bool private_tmp;     /* a fresh tmpfs on /tmp; false shares the host's */
	/* Device nodes to carry into the private /dev, at the same path:
	 * absolute paths under /dev/ naming character or block devices, for
	 * example the effective policy's read_write entries with is_device. */
	const char *const *device_paths;
	size_t n_device_paths;
	/* Host paths strictly below /tmp/ that stay visible, at the same place,
	 * in the private /tmp (for example the workdir and the policy's
	 * entries there): absolute, without ".." components. Ignored without
	 * private_tmp. */
	const char *const *tmp_paths;
	size_t n_tmp_paths;
	/* Host paths strictly below /run/ that stay visible, at the same place,
	 * in the private /run: a tmpfs over the host's, which hides the host's
	 * unix sockets (session and system bus, container engines), since
	 * Landlock does not govern connect(2) to a socket file. Same rules as
	 * tmp_paths. */
	const char *const *run_paths;
	size_t n_run_paths;
	/* The policy's filesystem entries (device nodes aside), for the
	 * read-only view: every host mount read-only, the read_write entries
	 * bound back writable, read_only entries below those bound read-only. */
	const char *const *read_only_paths;
	size_t n_read_only_paths;
	const char *const *read_write_paths;
	size_t n_read_write_paths;
};

/* Returned by namespaces_enter() when spec.user_ns is set and the kernel or
 * the environment refuses this user a user namespace (disabled by sysctl,
 * limit reached, a seccomp profile, a security module, not built in). The
 * message says which. When unshare(CLONE_NEWUSER) itself was refused nothing
 * has changed; when the namespace was created but writing its id maps was
 * refused (a security module's restriction), P is left in a user namespace
 * where it holds no privilege. Either way Landlock and seccomp still work,
 * so best_effort can continue with them alone after a warning. No other
 * failure returns this value. */
#define NAMESPACES_USERNS_UNAVAILABLE (-EOPNOTSUPP)

/* Enters the namespaces of spec in the calling process, as described above.
 * Returns 0, NAMESPACES_USERNS_UNAVAILABLE, or a negative errno with err
 * naming the syscall (and the file, for the id maps). Equivalent to
 * namespaces_enter_user_pid() then namespaces_enter_rest(). */
int namespaces_enter(const struct isolation_spec *spec, struct error *err);

/* namespaces_enter() in three parts, for a launch that builds the sandbox
 * in two processes at once: the user namespace (spec.user_ns) and the PID
 * namespace in the launching process; then IPC and UTS (hostname) in PID 1,
 * before mounts_setup(); and the network namespace (spec.net_none), which
 * takes the kernel as long to create as all the mounts together: with `net`
 * given, namespaces_enter_user_pid() starts a thread that creates it, and
 * the launching process forks PID 1 meanwhile; the thread hands an fd of
 * the namespace to PID 1 the moment it is ready, PID 1 joins it with
 * namespaces_net_join(), and the launching process collects the thread with
 * namespaces_net_create_finish(). The launching process stays outside every
 * other namespace of the sandbox. Same results. */
struct net_creation {
	pthread_t thread;
	sem_t forked; /* posted once the launching process has forked */
	bool started; /* the thread runs, or has run, and is not joined */
	int result;   /* 0 once the namespace was made, or a negative errno */
	struct error err;
	/* Set with namespaces_net_create_forked(): the thread passes the
	 * namespace's fd to it as soon as it is ready, keeps its result and
	 * closes the fd. */
	int (*hand_over)(int fd, void *userdata);
	void *userdata;
	int hand_over_result;
};
int namespaces_enter_user_pid(const struct isolation_spec *spec, struct net_creation *net,
			      struct error *err);
int namespaces_enter_rest(const struct isolation_spec *spec, struct error *err);
/* Tells the thread that the launching process has forked PID 1 (once);
 * until then it opens no descriptor that PID 1 would inherit. The thread
 * itself calls hand_over(fd, userdata) (when not NULL) once the namespace
 * is ready, so it must be safe there; the fd is the thread's, closed after. */
void namespaces_net_create_forked(struct net_creation *c, int (*hand_over)(int fd, void *userdata),
				  void *userdata);
/* After namespaces_net_create_forked(): waits for the thread and returns 0
 * when it made the namespace, or a negative errno with err set;
 * c->hand_over_result is then hand_over()'s result. */
int namespaces_net_create_finish(struct net_creation *c, struct error *err);
/* Ends the thread of a failed launch, before or after the fork; nothing
 * when none started. */
void namespaces_net_create_abandon(struct net_creation *c);
/* Joins the network namespace `fd` refers to. */
int namespaces_net_join(int fd, struct error *err);
/* The CLONE_NEW* flags of the namespaces namespaces_enter_rest() and
 * mounts_setup() create: what a process must setns to join PID 1 in them. */
int namespaces_rest_flags(const struct isolation_spec *spec);

/* `sandbox exec`: joins, in the calling process, the user namespace of the
 * sandbox's PID 1 (`pidfd` from pidfd_open()) when it differs from the
 * caller's, and its PID namespace: the caller keeps its own pid, its next
 * fork lands in the sandbox, and that child joins the rest with
 * namespaces_join_rest(pidfd, namespaces_rest_flags(spec)) for the spec the
 * sandbox was built from. The caller must be single-threaded. */
int namespaces_join_user_pid(int pidfd, struct error *err);

/* Joins the namespaces `flags` names of the process `pidfd` refers to, in
 * one setns(2). With CLONE_NEWNS the current and root directories become
 * the root of that mount namespace. */
int namespaces_join_rest(int pidfd, int flags, struct error *err);

/* Brings the loopback interface of the current network namespace up
 * (SIOCSIFFLAGS on an AF_INET socket). Needs CAP_NET_ADMIN over it. */
int network_loopback_up(struct error *err);
