/* The sandbox's filesystem view, built by PID 1 of the sandbox's PID
 * namespace right after fork (see the call order in namespaces.h):
 *
 *   - a new mount namespace; "/" is made MS_REC|MS_PRIVATE before anything
 *     is mounted, so nothing propagates to or from the host;
 *   - the read-only view: every mount inherited from the host read-only,
 *     the spec's read_write_paths bound back as the host has them and its
 *     read_only_paths below those bound read-only (/dev and /proc aside);
 *   - /dev: a tmpfs (mode 0755, nosuid, nodev, noexec) holding null, zero,
 *     full, random, urandom and tty (those the host has) and the spec's
 *     device_paths (with their parent directories), each the host's node
 *     bind-mounted onto an empty
 *     file. A bind mount keeps the flags of the host's /dev mount, so the
 *     nodes work although the tmpfs is nodev; this works rootless too, where
 *     a node made with mknod would never open. devpts (newinstance,
 *     ptmxmode=0666) on /dev/pts with the symlink ptmx -> pts/ptmx; a tmpfs
 *     on /dev/shm; the symlinks fd, stdin, stdout, stderr into
 *     /proc/self/fd. Nothing else of the host's /dev exists inside;
 *   - /proc: a fresh procfs of the sandbox's PID namespace; /proc/sys,
 *     /proc/sysrq-trigger, /proc/irq, /proc/bus and /proc/fs read-only
 *     (bound onto themselves and remounted MS_RDONLY, keeping the nosuid,
 *     nodev, noexec and atime flags the kernel may lock); /proc/kcore,
 *     /proc/keys, /proc/timer_list and /proc/sched_debug masked by
 *     /dev/null; /proc/acpi masked by an empty read-only tmpfs. Entries this
 *     kernel does not have are skipped;
 *   - /tmp: a fresh tmpfs (mode 1777) when spec.private_tmp, holding the
 *     spec's tmp_paths (those that exist) at the same place: each the
 *     host's file or directory bind-mounted with the mounts below it, onto
 *     an empty file or directory (parents created, mode 0755); an entry
 *     below another is visible through it;
 *   - /run (when the host has one): a fresh tmpfs (mode 0755) holding the
 *     spec's run_paths the same way. It hides the host's unix sockets
 *     there (system and session buses, container engines), which Landlock
 *     cannot refuse a connect(2) to.
 *
 * The caller must still hold CAP_SYS_ADMIN over its user namespace (root, or
 * the rootless user inside the user namespace of namespaces_enter()), and
 * must be in the PID namespace the new procfs should show: call this in the
 * child, after fork, never in the process that called namespaces_enter().
 * Landlock rules on /proc and /dev paths must be prepared after this call. */
#pragma once

#include "base/error.h"
#include "enforce/namespaces.h"

/* Returns 0, or a negative errno with err naming the syscall and path. A
 * device path that is not an absolute path under /dev/ without "." or ".."
 * components, or that is not a character or block device, is -EINVAL; one
 * that does not exist is -ENOENT. A /tmp path not under /tmp/, or with a
 * ".." component, is -EINVAL. Device and /tmp paths are resolved before /dev and /tmp are
 * covered. On failure the mount namespace is left half built: the caller
 * exits. */
int mounts_setup(const struct isolation_spec *spec, struct error *err);
