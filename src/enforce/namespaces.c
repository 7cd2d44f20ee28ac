/* Namespaces of a sandbox, entered by the launching process with unshare(2):
 * the user namespace and its id maps (rootless), then IPC, UTS with the
 * sandbox's hostname, a loopback-only network namespace, and PID; or joined
 * with setns(2) through a pidfd of a running sandbox's PID 1. */
#include "enforce/namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <semaphore.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"

static int write_file(const char *path, const char *content, struct error *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(content);
	ssize_t n;

	if (fd < 0)
		return error_set_errno(err, errno, "open %s", path);
	n = write(fd, content, len);
	if (n < 0)
		return error_set_errno(err, errno, "write %s", path);
	if ((size_t)n != len)
		return error_set(err, EIO, "write %s: short write", path);
	return 0;
}

/* The integer in a sysctl file, or -1 when it is absent or unreadable. */
static long sysctl_read(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char line[32], *end;
	long value;

	if (!f || !fgets(line, sizeof(line), f))
		return -1;
	errno = 0;
	value = strtol(line, &end, 10);
	if (errno || end == line || (*end != '\n' && *end != '\0'))
		return -1;
	return value;
}

/* Why the kernel refused a user namespace with `code`, in words a user can
 * act on; NULL when `code` does not mean "unavailable" (a caller bug, such as
 * a multithreaded caller). */
static const char *userns_refusal_reason(int code)
{
	if (code == EINVAL)
		return access("/proc/self/ns/user", F_OK) < 0
			   ? "the kernel is built without user namespaces"
			   : NULL;
	if (code != EPERM && code != EACCES && code != ENOSPC && code != EUSERS)
		return NULL;
	if (sysctl_read("/proc/sys/kernel/unprivileged_userns_clone") == 0)
		return "kernel.unprivileged_userns_clone is 0";
	if (sysctl_read("/proc/sys/user/max_user_namespaces") == 0)
		return "user.max_user_namespaces is 0";
	if (sysctl_read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1)
		return "AppArmor restricts unprivileged user namespaces "
		       "(kernel.apparmor_restrict_unprivileged_userns is 1)";
	if (code == ENOSPC || code == EUSERS)
		return "the user namespace limit (user.max_user_namespaces) is reached";
	return "refused by the environment: a seccomp profile, a chroot or a security module";
}

/* `failed` says what failed and why ("unshare(CLONE_NEWUSER): Operation not
 * permitted"); the error becomes NAMESPACES_USERNS_UNAVAILABLE when `code`
 * means the environment refuses user namespaces. */
static int userns_failure(int code, const char *failed, struct error *err)
{
	const char *reason = userns_refusal_reason(code);

	if (!reason)
		return error_set(err, code, "%s", failed);
	error_set(err, EOPNOTSUPP, "%s: user namespaces are unavailable to this user (%s)", failed,
		  reason);
	return NAMESPACES_USERNS_UNAVAILABLE;
}

static int write_id_maps(uid_t uid, gid_t gid, struct error *err)
{
	char map[64];
	int r;

	r = write_file("/proc/self/setgroups", "deny", err);
	if (r < 0)
		return r;
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	r = write_file("/proc/self/uid_map", map, err);
	if (r < 0)
		return r;
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	return write_file("/proc/self/gid_map", map, err);
}

/* A process that changed its ids is not dumpable, and the /proc/self files of
 * a non-dumpable process belong to root: dumpable is raised while the maps
 * are written and restored after. */
static int write_id_maps_dumpable(uid_t uid, gid_t gid, struct error *err)
{
	int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	int r;

	if (dumpable == 0 && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return error_set_errno(err, errno, "prctl(PR_SET_DUMPABLE)");
	r = write_id_maps(uid, gid, err);
	if (dumpable == 0 && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 && r >= 0)
		return error_set_errno(err, errno, "prctl(PR_SET_DUMPABLE)");
	return r;
}

static int enter_user_namespace(struct error *err)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char failed[ERROR_MESSAGE_MAX];
	int r;

	if (unshare(CLONE_NEWUSER) < 0) {
		int code = errno;

		snprintf(failed, sizeof(failed), "unshare(CLONE_NEWUSER): %s", strerror(code));
		return userns_failure(code, failed, err);
	}
	r = write_id_maps_dumpable(uid, gid, err);
	if (r == -EPERM) {
		snprintf(failed, sizeof(failed), "%s", err->message);
		return userns_failure(-r, failed, err);
	}
	if (r < 0)
		return r;
	log_debug("namespace_user", "user namespace: uid %u and gid %u mapped to themselves",
		  (unsigned)uid, (unsigned)gid);
	return 0;
}

static int unshare_one(int flag, const char *name, struct error *err)
{
	if (unshare(flag) < 0)
		return error_set_errno(err, errno, "unshare(%s)", name);
	return 0;
}

static int enter_uts_namespace(const char *hostname, struct error *err)
{
	int r = unshare_one(CLONE_NEWUTS, "CLONE_NEWUTS", err);

	if (r < 0 || !hostname)
		return r;
	if (sethostname(hostname, strlen(hostname)) < 0)
		return error_set_errno(err, errno, "sethostname(\"%s\")", hostname);
	return 0;
}

static int unshare_net(struct error *err)
{
	if (unshare(CLONE_NEWNET) < 0) {
		int code = errno;

		return error_set_errno(err, code, "unshare(CLONE_NEWNET), the sandbox's network%s",
				       code == ENOSPC ? " (user.max_net_namespaces is reached or 0; "
							"--network host shares the host's instead)"
						      : "");
	}
	return 0;
}

static int enter_net_namespace(struct error *err)
{
	int r = unshare_net(err);

	return r < 0 ? r : network_loopback_up(err);
}

int network_loopback_up(struct error *err)
{
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {.ifr_name = "lo"};

	if (fd < 0)
		return error_set_errno(err, errno, "socket(AF_INET)");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return error_set_errno(err, errno, "ioctl(SIOCGIFFLAGS, lo)");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return error_set_errno(err, errno, "ioctl(SIOCSIFFLAGS, lo)");
	return 0;
}

/* Loopback up in the caller's (new) network namespace, then an fd of it. */
static int net_namespace_open(struct error *err)
{
	int r = network_loopback_up(err);
	int fd;

	if (r < 0)
		return r;
	fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_set_errno(err, errno, "open /proc/thread-self/ns/net");
	return fd;
}

/* The thread moves itself alone into the new namespace, and opens no
 * descriptor (the loopback's socket, the namespace's fd) until the launching
 * process has forked: its child would inherit them. It calls nothing that
 * takes a lock of the C library, so that fork() is safe. */
static void *net_creation_thread(void *arg)
{
	struct net_creation *c = arg;
	int r = unshare_net(&c->err);
	_cleanup_close_ int fd = -1;

	while (sem_wait(&c->forked) < 0 && errno == EINTR)
		;
	if (r >= 0)
		r = fd = net_namespace_open(&c->err);
	c->result = r < 0 ? r : 0;
	if (fd >= 0 && c->hand_over)
		c->hand_over_result = c->hand_over(fd, c->userdata);
	return NULL;
}

/* Before unshare(CLONE_NEWPID): the kernel refuses a new thread to a
 * process whose children go to another PID namespace than its own. */
static int net_creation_start(struct net_creation *c, struct error *err)
{
	int r;

	*c = (struct net_creation){0};
	if (sem_init(&c->forked, 0, 0) < 0)
		return error_set_errno(err, errno, "sem_init");
	r = pthread_create(&c->thread, NULL, net_creation_thread, c);
	if (r != 0) {
		sem_destroy(&c->forked);
		return error_set_errno(err, r, "pthread_create, to create the network namespace");
	}
	c->started = true;
	return 0;
}

void namespaces_net_create_forked(struct net_creation *c, int (*hand_over)(int fd, void *userdata),
				  void *userdata)
{
	if (!c->started)
		return;
	c->hand_over = hand_over;
	c->userdata = userdata;
	sem_post(&c->forked);
}

int namespaces_net_create_finish(struct net_creation *c, struct error *err)
{
	if (!c->started)
		return error_set(err, EINVAL, "no network namespace is being created");
	pthread_join(c->thread, NULL);
	sem_destroy(&c->forked);
	c->started = false;
	if (c->result < 0)
		*err = c->err;
	return c->result;
}

void namespaces_net_create_abandon(struct net_creation *c)
{
	if (!c || !c->started)
		return;
	namespaces_net_create_forked(c, NULL, NULL);
	namespaces_net_create_finish(c, &(struct error){0});
}

int namespaces_enter_user_pid(const struct isolation_spec *spec, struct net_creation *net,
			      struct error *err)
{
	int r;

	if (spec->user_ns) {
		r = enter_user_namespace(err);
		if (r < 0)
			return r;
	}
	if (net && spec->net_none) {
		r = net_creation_start(net, err);
		if (r < 0)
			return r;
	}
	r = unshare_one(CLONE_NEWPID, "CLONE_NEWPID", err);
	if (r < 0) {
		namespaces_net_create_abandon(net);
		return r;
	}
	log_info("namespaces", "namespaces: %spid", spec->user_ns ? "user, " : "");
	return 0;
}

int namespaces_enter_rest(const struct isolation_spec *spec, struct error *err)
{
	int r;

	r = unshare_one(CLONE_NEWIPC, "CLONE_NEWIPC", err);
	if (r < 0)
		return r;
	r = enter_uts_namespace(spec->hostname, err);
	if (r < 0)
		return r;
	log_info("namespaces", "namespaces: ipc, uts (hostname %s)",
		 spec->hostname ? spec->hostname : "unchanged");
	return 0;
}


int namespaces_net_join(int fd, struct error *err)
{
	if (setns(fd, CLONE_NEWNET) < 0)
		return error_set_errno(err, errno, "setns(net) into the sandbox's network namespace");
	log_info("namespaces", "namespaces: net (loopback only)");
	return 0;
}

int namespaces_enter(const struct isolation_spec *spec, struct error *err)
{
	int r = namespaces_enter_user_pid(spec, NULL, err);

	if (r >= 0)
		r = namespaces_enter_rest(spec, err);
	if (r >= 0 && spec->net_none)
		r = enter_net_namespace(err);
	return r;
}

int namespaces_rest_flags(const struct isolation_spec *spec)
{
	return CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | (spec->net_none ? CLONE_NEWNET : 0);
}

/* The kernel refuses (EINVAL) to re-enter the caller's own user namespace,
 * as when root joins a sandbox that has none: then the PID namespace alone. */
int namespaces_join_user_pid(int pidfd, struct error *err)
{
	if (setns(pidfd, CLONE_NEWUSER | CLONE_NEWPID) == 0) {
		log_debug("namespaces_join", "joined the sandbox's user and PID namespaces");
		return 0;
	}
	if (errno == EINVAL && setns(pidfd, CLONE_NEWPID) == 0) {
		log_debug("namespaces_join", "joined the sandbox's PID namespace");
		return 0;
	}
	return error_set_errno(err, errno, "setns(user, pid) into the sandbox's PID 1");
}

int namespaces_join_rest(int pidfd, int flags, struct error *err)
{
	if (setns(pidfd, flags) < 0)
		return error_set_errno(
		    err, errno, "setns(%s%s%s%s)", flags & CLONE_NEWNS ? "mnt " : "",
		    flags & CLONE_NEWIPC ? "ipc " : "", flags & CLONE_NEWUTS ? "uts " : "",
		    flags & CLONE_NEWNET ? "net" : "");
	return 0;
}
