/* Runs a probe inside a sandbox built by namespaces_enter() and
 * mounts_setup() on the real kernel, for test-namespaces.c and
 * test-mounts.c. The probe reports what it saw as "key value" lines through a
 * pipe and the test asserts on them in the parent, so an assertion fails
 * whenever the kernel did not behave.
 *
 *   test process ── fork ──▶ outer: own mount namespace with a stand-in host
 *                            /dev (the real null, zero, ... plus GPU stand-in
 *                            nodes made with mknod), optionally drops to
 *                            uid 65534, then namespaces_enter()
 *                      └── fork ──▶ init (PID 1): mounts_setup(), probe
 *
 * The mount tables of the test process and of the outer process are compared
 * before and after. */
#pragma once

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "enforce/mounts.h"
#include "enforce/namespaces.h"

#define HARNESS_UNPRIVILEGED_ID 65534
#define HARNESS_REPORT_MAX	65536

/* Stand-in GPU nodes in the fake host /dev: character devices with the
 * numbers of /dev/null, so that they open read-write without a GPU. */
static const char *const harness_standins[] = {
    "/dev/nvidia0",
    "/dev/nvidia1",
    "/dev/nvidia-caps/nvidia-cap1",
    "/dev/nvidia-caps/nvidia-cap2",
};
/* A regular file in the fake host /dev, which is not a device node. */
#define HARNESS_NOT_A_DEVICE "/dev/not-a-device"

static const char *const harness_host_nodes[] = {"null",   "zero",    "full",
						 "random", "urandom", "tty"};

static const char *const harness_ns_kinds[] = {"user", "mnt", "pid", "ipc", "uts", "net"};

/* Facts about the test process, set before each fork, read by probes. */
static pid_t harness_host_pid;
static uint16_t harness_listener_port;
static char harness_host_ns[ARRAY_SIZE(harness_ns_kinds)][64];

struct sandbox_case {
	struct isolation_spec spec;
	bool rootless; /* the outer process drops to uid/gid 65534 first */
	/* Runs in the outer process, as root, before the drop to 65534 and
	 * namespaces_enter(); may be NULL. */
	void (*before_enter)(int report_fd);
	/* Runs in PID 1 after a successful mounts_setup(); may be NULL. */
	void (*probe)(int report_fd);
};

static inline void report(int fd, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void report(int fd, const char *key, const char *fmt, ...)
{
	va_list ap;

	dprintf(fd, "%s ", key);
	va_start(ap, fmt);
	vdprintf(fd, fmt, ap);
	va_end(ap);
	dprintf(fd, "\n");
}

/* "ok" for a syscall result >= 0, the errno's name otherwise. */
static inline const char *outcome(long rc)
{
	return rc >= 0 ? "ok" : strerrorname_np(errno);
}

/* A report key naming a check on a path: "write:/proc/sys/kernel/hostname". */
static inline const char *path_key(const char *check, const char *path)
{
	static char ring[8][256];
	static unsigned next;
	char *out = ring[next++ % ARRAY_SIZE(ring)];

	snprintf(out, sizeof(ring[0]), "%s:%s", check, path);
	return out;
}

/* A failed step of the harness itself: reported, then the process exits. */
static inline void harness_require(int fd, bool ok, const char *what)
{
	if (ok)
		return;
	report(fd, "harness_failed", "%s: %s", what, strerror(errno));
	_exit(90);
}

/* The value reported under `key`, "(missing)" when none. Values live in a
 * small ring of buffers so that one assertion can hold several. */
static inline const char *report_value(const char *report_text, const char *key)
{
	static char ring[8][1024];
	static unsigned next;
	char *out = ring[next++ % ARRAY_SIZE(ring)];
	size_t key_len = strlen(key);

	for (const char *line = report_text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (len > key_len && strncmp(line, key, key_len) == 0 && line[key_len] == ' ') {
			snprintf(out, sizeof(ring[0]), "%.*s", (int)(len - key_len - 1),
				 line + key_len + 1);
			return out;
		}
		line = end ? end + 1 : NULL;
	}
	return "(missing)";
}

/* Everything readable from fd, NUL-terminated (at most max - 1 bytes). */
static inline char *read_all_fd(int fd, size_t max)
{
	char *buf = calloc(1, max);
	size_t len = 0;
	ssize_t n;

	while (buf && len + 1 < max && (n = read(fd, buf + len, max - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	return buf;
}

/* Read through a descriptor of /proc/self opened beforehand, so that it still
 * works if a sandbox's procfs were to cover this process's /proc. */
static inline char *mountinfo_read(int proc_self)
{
	int fd = openat(proc_self, "mountinfo", O_RDONLY | O_CLOEXEC);
	char *text = fd < 0 ? NULL : read_all_fd(fd, 1 << 20);

	if (fd >= 0)
		close(fd);
	return text;
}

/* A TCP listener on 127.0.0.1 of the current network namespace: its fd and
 * *ret_port, or -1 with errno set. */
static inline int tcp_listener_open(uint16_t *ret_port)
{
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&addr, &len) < 0) {
		closep(&fd);
		return -1;
	}
	*ret_port = ntohs(addr.sin_port);
	return fd;
}

static inline void ns_link_read(const char *kind, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/ns/%s", kind);
	n = readlink(path, buf, size - 1);
	buf[n < 0 ? 0 : n] = '\0';
}

/* The host's /dev, replaced in the outer process's own mount namespace by a
 * tmpfs holding binds of the real basic nodes and the GPU stand-ins. The old
 * /dev stays reachable through an O_PATH descriptor taken before. */
static inline void fake_host_dev(int fd)
{
	int old = open("/dev", O_PATH | O_DIRECTORY | O_CLOEXEC);
	char source[64], target[64];

	harness_require(fd, old >= 0, "open /dev");
	harness_require(fd, mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755") == 0,
			"mount tmpfs /dev");
	for (size_t i = 0; i < ARRAY_SIZE(harness_host_nodes); i++) {
		snprintf(source, sizeof(source), "/proc/self/fd/%d/%s", old, harness_host_nodes[i]);
		snprintf(target, sizeof(target), "/dev/%s", harness_host_nodes[i]);
		harness_require(fd, mknod(target, S_IFREG | 0644, 0) == 0, "mknod fake node");
		harness_require(fd, mount(source, target, NULL, MS_BIND, NULL) == 0,
				"bind a host node into the fake /dev");
	}
	close(old);
	harness_require(fd, mkdir("/dev/nvidia-caps", 0755) == 0, "mkdir /dev/nvidia-caps");
	for (size_t i = 0; i < ARRAY_SIZE(harness_standins); i++) {
		harness_require(fd, mknod(harness_standins[i], S_IFCHR | 0666, makedev(1, 3)) == 0,
				"mknod a GPU stand-in");
		harness_require(fd, chmod(harness_standins[i], 0666) == 0, "chmod a GPU stand-in");
	}
	harness_require(fd, mknod(HARNESS_NOT_A_DEVICE, S_IFREG | 0666, 0) == 0,
			"mknod a regular file");
}

static inline void drop_to_unprivileged(int fd)
{
	const unsigned id = HARNESS_UNPRIVILEGED_ID;

	harness_require(fd, setgroups(0, NULL) == 0, "setgroups");
	harness_require(fd, setresgid(id, id, id) == 0, "setresgid");
	harness_require(fd, setresuid(id, id, id) == 0, "setresuid");
}

static inline __attribute__((noreturn)) void sandbox_init(const struct sandbox_case *c, int fd)
{
	struct error err = {0};
	int r;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	r = mounts_setup(&c->spec, &err);
	report(fd, "setup_rc", "%d", r);
	report(fd, "setup_msg", "%s", r < 0 ? err.message : "ok");
	if (r == 0 && c->probe)
		c->probe(fd);
	_exit(0);
}

static inline __attribute__((noreturn)) void sandbox_outer(const struct sandbox_case *c, int fd)
{
	struct error err = {0};
	char userns_before[64], userns_after[64], *mounts_before, *mounts_after;
	int proc_self, status, r;
	pid_t pid;

	alarm(60);
	/* Private from the real host, then shared again: any mount the sandbox
	 * made without private propagation would show up here. */
	harness_require(fd, unshare(CLONE_NEWNS) == 0, "unshare(CLONE_NEWNS)");
	harness_require(fd, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0,
			"make / private");
	harness_require(fd, mount(NULL, "/", NULL, MS_REC | MS_SHARED, NULL) == 0, "make / shared");
	fake_host_dev(fd);
	if (c->before_enter)
		c->before_enter(fd);
	proc_self = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
	mounts_before = mountinfo_read(proc_self);
	if (c->rootless)
		drop_to_unprivileged(fd);
	ns_link_read("user", userns_before, sizeof(userns_before));
	r = namespaces_enter(&c->spec, &err);
	ns_link_read("user", userns_after, sizeof(userns_after));
	report(fd, "enter_rc", "%d", r);
	report(fd, "enter_msg", "%s", r < 0 ? err.message : "ok");
	report(fd, "enter_userns", "%s", strcmp(userns_before, userns_after) ? "new" : "same");
	if (r < 0)
		_exit(0);
	pid = fork();
	harness_require(fd, pid >= 0, "fork");
	if (pid == 0)
		sandbox_init(c, fd);
	harness_require(fd, waitpid(pid, &status, 0) == pid, "waitpid");
	mounts_after = mountinfo_read(proc_self);
	harness_require(fd, mounts_before && mounts_after, "read /proc/self/mountinfo");
	report(fd, "outer_mounts", "%s", strcmp(mounts_before, mounts_after) ? "changed" : "same");
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status));
}

/* The outer process needs root to build the stand-in host /dev and to make
 * namespaces without a user namespace. */
static inline void skip_unless_root(void)
{
	if (geteuid() == 0)
		return;
	print_message("skipped: needs root to build namespaces and a stand-in /dev\n");
	skip();
}

/* Runs the case; returns the report (free it). Asserts that both processes
 * exited cleanly and that the test process's mount table is unchanged. */
static inline char *sandbox_run(const struct sandbox_case *c)
{
	int proc_self = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
	char *before = mountinfo_read(proc_self), *after, *text;
	int pipefd[2], listener, status;
	pid_t pid;

	assert_non_null(before);
	harness_host_pid = getpid();
	for (size_t i = 0; i < ARRAY_SIZE(harness_ns_kinds); i++)
		ns_link_read(harness_ns_kinds[i], harness_host_ns[i], sizeof(harness_host_ns[i]));
	listener = tcp_listener_open(&harness_listener_port);
	assert_true(listener >= 0);
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pipefd[0]);
		sandbox_outer(c, pipefd[1]);
	}
	close(pipefd[1]);
	text = read_all_fd(pipefd[0], HARNESS_REPORT_MAX);
	close(pipefd[0]);
	close(listener);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		print_error("sandbox report:\n%s\n", text);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_string_equal(report_value(text, "harness_failed"), "(missing)");
	if (strcmp(report_value(text, "enter_rc"), "0") == 0)
		assert_string_equal(report_value(text, "outer_mounts"), "same");
	after = mountinfo_read(proc_self);
	close(proc_self);
	assert_non_null(after);
	assert_string_equal(before, after);
	free(before);
	free(after);
	return text;
}

/* The case ran to the probe: namespaces entered, mounts set up. */
static inline void assert_sandbox_ready(const char *text)
{
	assert_string_equal(report_value(text, "enter_msg"), "ok");
	assert_string_equal(report_value(text, "setup_msg"), "ok");
}

static inline bool host_has(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}
