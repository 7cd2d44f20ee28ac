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
 * naming the syscall (and the file, for the id maps). */
int namespaces_enter(const struct isolation_spec *spec, struct error *err);

/* Brings the loopback interface of the current network namespace up
 * (SIOCSIFFLAGS on an AF_INET socket). Needs CAP_NET_ADMIN over it. */
int network_loopback_up(struct error *err);
