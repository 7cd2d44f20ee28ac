/* attack-probe: escape attempts that need more than one call, each reported
 * as lines "STEP ok" or "STEP errno=<N> <NAME>"; exits 0 (2 on a usage error).
 *
 *   attack-probe ptrace-sibling        PTRACE_ATTACH to a forked sibling
 *   attack-probe sibling-mem           open /proc/<sibling>/mem O_RDWR and
 *                                      patch a variable in the sibling:
 *                                      sibling-mem-open, sibling-mem-write,
 *                                      sibling-mem-effect (ok: the sibling saw
 *                                      the new value; ENOENT: it did not)
 *   attack-probe sibling-cwd DIR NAME  a sibling chdirs into DIR; NAME is then
 *                                      opened through /proc/<sibling>/cwd:
 *                                      sibling-chdir, sibling-cwd-read,
 *                                      sibling-cwd-write
 *   attack-probe opath-link SRC DST    SRC opened O_PATH (no access check),
 *                                      then hard-linked to DST through
 *                                      /proc/self/fd: opath-open, opath-link
 *   attack-probe opath-exec PATH       PATH opened O_PATH, then executed
 *                                      through /proc/self/fd: opath-open,
 *                                      opath-exec (ok: the program ran)
 *   attack-probe handle PATH           name_to_handle_at, then
 *                                      open_by_handle_at: handle-name,
 *                                      handle-open
 *   attack-probe io-uring              io_uring_setup with valid parameters:
 *                                      io-uring-setup
 *   attack-probe memfd-exec PROGRAM    copy PROGRAM into a memfd and execute it
 *                                      through /proc/self/fd: memfd-create,
 *                                      memfd-exec
 *   attack-probe opath-link-empty SRC DST
 *                                      SRC opened O_PATH, then linked to DST
 *                                      with linkat(AT_EMPTY_PATH) (flink):
 *                                      opath-open, opath-link-empty
 *   attack-probe fexecve PATH          PATH opened O_PATH and executed with
 *                                      execveat(AT_EMPTY_PATH): opath-open,
 *                                      fexecve (ok: the program ran)
 *   attack-probe pty-sti               a new pseudo-terminal, the controlling
 *                                      terminal of a child in a new session:
 *                                      pty-open, pty-tcgets (it is a
 *                                      terminal), pty-sti, pty-sti-highbits
 *                                      (TIOCSTI with the upper 32 bits of the
 *                                      request set), then "pty-queued N": the
 *                                      bytes waiting on it
 *   attack-probe readlink PATH         readlink PATH: readlink
 *   attack-probe meta PATH             metadata changes no open() sees: stat,
 *                                      chmod (mode 0606), utime (1 Jan 2001),
 *                                      setxattr (user.lockshell)
 *   attack-probe persona-exec PROGRAM [ARG...]
 *                                      personality(ADDR_NO_RANDOMIZE |
 *                                      READ_IMPLIES_EXEC): persona-set; then
 *                                      executes PROGRAM, which inherits the
 *                                      persona when it was set */
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static volatile char patch_target[16] = "original";

static void report(const char *step, int err)
{
	if (err)
		printf("%s errno=%d %s\n", step, err, strerrorname_np(err));
	else
		printf("%s ok\n", step);
	fflush(stdout);
}

static int result(long r)
{
	return r < 0 ? errno : 0;
}

/* A child that sleeps (at most 10 s) until the probe kills it; with dir, it
 * chdirs there first. Its chdir errno (0 on success) is returned through
 * ret_chdir_err once it is ready. */
static pid_t sibling_spawn(const char *dir, int *ret_chdir_err)
{
	int fds[2];
	int err = 0;
	pid_t pid;

	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		err = dir && chdir(dir) < 0 ? errno : 0;
		(void)!write(fds[1], &err, sizeof(err));
		close(fds[1]);
		sleep(10);
		_exit(0);
	}
	close(fds[1]);
	if (pid > 0 && read(fds[0], &err, sizeof(err)) != sizeof(err))
		err = EIO;
	close(fds[0]);
	if (ret_chdir_err)
		*ret_chdir_err = err;
	return pid;
}

static void sibling_end(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static int ptrace_sibling(void)
{
	pid_t pid = sibling_spawn(NULL, NULL);

	if (pid < 0)
		return errno;
	int err = result(ptrace(PTRACE_ATTACH, pid, NULL, NULL));
	report("ptrace-attach", err);
	sibling_end(pid);
	return 0;
}

/* The sibling waits until the probe is done with its memory, then exits 0
 * when patch_target holds the new value, 1 when it does not. */
static int sibling_mem(void)
{
	char path[64], done;
	int fd, status = 0, fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return errno;
	pid = fork();
	if (pid == 0) {
		close(fds[1]);
		(void)!read(fds[0], &done, 1);
		_exit(memcmp((const char *)patch_target, "PATCHED", 8) == 0 ? 0 : 1);
	}
	close(fds[0]);
	if (pid < 0)
		return errno;
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	report("sibling-mem-open", fd < 0 ? errno : 0);
	if (fd >= 0) {
		ssize_t n = pwrite(fd, "PATCHED", 8, (off_t)(uintptr_t)patch_target);
		report("sibling-mem-write", n < 0 ? errno : 0);
		close(fd);
	}
	close(fds[1]);
	waitpid(pid, &status, 0);
	report("sibling-mem-effect", WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : ENOENT);
	return 0;
}

static int open_report(const char *step, const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	report(step, fd < 0 ? errno : 0);
	if (fd >= 0)
		close(fd);
	return 0;
}

static int sibling_cwd(const char *dir, const char *name)
{
	char path[4096];
	int err;
	pid_t pid = sibling_spawn(dir, &err);

	if (pid < 0)
		return errno;
	report("sibling-chdir", err);
	snprintf(path, sizeof(path), "/proc/%d/cwd/%s", (int)pid, name);
	open_report("sibling-cwd-read", path, O_RDONLY);
	open_report("sibling-cwd-write", path, O_WRONLY);
	sibling_end(pid);
	return 0;
}

static int opath_open(const char *path)
{
	int fd = open(path, O_PATH | O_CLOEXEC);

	report("opath-open", fd < 0 ? errno : 0);
	return fd;
}

static int opath_link(const char *src, const char *dst)
{
	char link[64];
	int fd = opath_open(src);

	if (fd < 0)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	report("opath-link", result(linkat(AT_FDCWD, link, AT_FDCWD, dst, AT_SYMLINK_FOLLOW)));
	close(fd);
	return 0;
}

/* Runs an exec in a child: execveat(dirfd, path, AT_EMPTY_PATH when path
 * is ""); the errno it failed with, or 0 when the exec happened (the
 * close-on-exec pipe reached EOF). */
static int exec_in_child(int dirfd, const char *path, const char *argv0)
{
	int fds[2], err = 0;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return errno;
	pid = fork();
	if (pid == 0) {
		char *argv[] = {(char *)argv0, NULL}, *envp[] = {NULL};
		syscall(SYS_execveat, dirfd, path, argv, envp, *path ? 0 : AT_EMPTY_PATH);
		err = errno;
		(void)!write(fds[1], &err, sizeof(err));
		_exit(127);
	}
	close(fds[1]);
	if (pid < 0)
		err = errno;
	else if (read(fds[0], &err, sizeof(err)) != sizeof(err))
		err = 0;
	close(fds[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return err;
}

/* Executes /proc/self/fd/FD in a child; 0 when exec succeeded. */
static int exec_fd(int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return exec_in_child(AT_FDCWD, path, path);
}

static int opath_exec(const char *path)
{
	int fd = opath_open(path);

	if (fd < 0)
		return 0;
	report("opath-exec", exec_fd(fd));
	close(fd);
	return 0;
}

static int handle(const char *path)
{
	struct {
		struct file_handle fh;
		unsigned char bytes[MAX_HANDLE_SZ];
	} h = {.fh.handle_bytes = MAX_HANDLE_SZ};
	int mount_id, mount_fd, fd;

	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) < 0) {
		report("handle-name", errno);
		return 0;
	}
	report("handle-name", 0);
	mount_fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd = open_by_handle_at(mount_fd, &h.fh, O_RDONLY | O_CLOEXEC);
	report("handle-open", fd < 0 ? errno : 0);
	if (fd >= 0)
		close(fd);
	close(mount_fd);
	return 0;
}

static int io_uring(void)
{
	struct io_uring_params params = {0};
	long fd = syscall(SYS_io_uring_setup, 4, &params);

	report("io-uring-setup", fd < 0 ? errno : 0);
	if (fd >= 0)
		close((int)fd);
	return 0;
}

static int memfd_exec(const char *program)
{
	int fd = (int)syscall(SYS_memfd_create, "attack-probe", 0U);
	int src;
	struct stat st;

	report("memfd-create", fd < 0 ? errno : 0);
	if (fd < 0)
		return 0;
	src = open(program, O_RDONLY | O_CLOEXEC);
	if (src < 0 || fstat(src, &st) < 0 || sendfile(fd, src, NULL, (size_t)st.st_size) < 0) {
		report("memfd-copy", errno);
		return 0;
	}
	close(src);
	report("memfd-exec", exec_fd(fd));
	close(fd);
	return 0;
}

static int opath_link_empty(const char *src, const char *dst)
{
	int fd = opath_open(src);

	if (fd < 0)
		return 0;
	report("opath-link-empty", result(linkat(fd, "", AT_FDCWD, dst, AT_EMPTY_PATH)));
	close(fd);
	return 0;
}

/* execveat(fd, "", AT_EMPTY_PATH) in a child; 0 when the exec happened. */
static int fexecve_path(const char *path)
{
	int fd = opath_open(path);

	if (fd < 0)
		return 0;
	report("fexecve", exec_in_child(fd, "", path));
	close(fd);
	return 0;
}

/* TIOCSTI on a fresh pseudo-terminal that a child makes its controlling
 * terminal (the kernel refuses TIOCSTI on any other terminal to a process
 * without CAP_SYS_ADMIN): a terminal the probe owns, so only the seccomp
 * rule can refuse it. The kernel reads the request as an unsigned int: with
 * the upper half set it is still TIOCSTI. */
static int pty_sti(void)
{
	int leader, follower, queued = -1, status;
	pid_t pid;

	leader = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (leader < 0 || grantpt(leader) < 0 || unlockpt(leader) < 0) {
		report("pty-open", errno);
		return 0;
	}
	pid = fork();
	if (pid == 0) {
		struct termios t;
		char c = '\n'; /* a whole line: canonical mode counts it as queued */

		if (setsid() < 0) {
			report("pty-setsid", errno);
			_exit(1);
		}
		follower = open(ptsname(leader), O_RDWR | O_CLOEXEC); /* the controlling tty */
		report("pty-open", follower < 0 ? errno : 0);
		if (follower < 0)
			_exit(1);
		report("pty-tcgets", result(tcgetattr(follower, &t)));
		report("pty-sti", result(syscall(SYS_ioctl, follower, (unsigned long)TIOCSTI, &c)));
		report("pty-sti-highbits", result(syscall(SYS_ioctl, follower,
							  1UL << 32 | (unsigned long)TIOCSTI, &c)));
		if (ioctl(follower, FIONREAD, &queued) < 0)
			queued = -1;
		printf("pty-queued %d\n", queued);
		fflush(stdout);
		_exit(0);
	}
	if (pid < 0)
		report("pty-fork", errno);
	else
		waitpid(pid, &status, 0);
	close(leader);
	return 0;
}

static int readlink_path(const char *path)
{
	char buf[PATH_MAX];

	report("readlink", result(readlink(path, buf, sizeof(buf))));
	return 0;
}

/* Landlock rules guard opening and directory changes; these calls change a
 * file's metadata by path without opening it. */
static int meta(const char *path)
{
	const struct timespec times[2] = {{978307200, 0}, {978307200, 0}};
	struct stat st;

	report("stat", result(stat(path, &st)));
	report("chmod", result(chmod(path, 0606)));
	report("utime", result(utimensat(AT_FDCWD, path, times, 0)));
	report("setxattr", result(setxattr(path, "user.lockshell", "x", 1, 0)));
	return 0;
}

static int persona_exec(char **argv)
{
	report("persona-set", result(personality(ADDR_NO_RANDOMIZE | READ_IMPLIES_EXEC)));
	execv(argv[0], argv);
	report("persona-exec", errno);
	return 0;
}

int main(int argc, char **argv)
{
	const char *op = argc > 1 ? argv[1] : "";

	if (strcmp(op, "ptrace-sibling") == 0 && argc == 2)
		return ptrace_sibling();
	if (strcmp(op, "sibling-mem") == 0 && argc == 2)
		return sibling_mem();
	if (strcmp(op, "sibling-cwd") == 0 && argc == 4)
		return sibling_cwd(argv[2], argv[3]);
	if (strcmp(op, "opath-link") == 0 && argc == 4)
		return opath_link(argv[2], argv[3]);
	if (strcmp(op, "opath-exec") == 0 && argc == 3)
		return opath_exec(argv[2]);
	if (strcmp(op, "handle") == 0 && argc == 3)
		return handle(argv[2]);
	if (strcmp(op, "io-uring") == 0 && argc == 2)
		return io_uring();
	if (strcmp(op, "memfd-exec") == 0 && argc == 3)
		return memfd_exec(argv[2]);
	if (strcmp(op, "opath-link-empty") == 0 && argc == 4)
		return opath_link_empty(argv[2], argv[3]);
	if (strcmp(op, "fexecve") == 0 && argc == 3)
		return fexecve_path(argv[2]);
	if (strcmp(op, "pty-sti") == 0 && argc == 2)
		return pty_sti();
	if (strcmp(op, "readlink") == 0 && argc == 3)
		return readlink_path(argv[2]);
	if (strcmp(op, "meta") == 0 && argc == 3)
		return meta(argv[2]);
	if (strcmp(op, "persona-exec") == 0 && argc >= 3)
		return persona_exec(argv + 2);
	fprintf(stderr,
		"usage: attack-probe ptrace-sibling | sibling-mem | sibling-cwd DIR NAME |\n"
		"       opath-link SRC DST | opath-exec PATH | handle PATH | io-uring |\n"
		"       memfd-exec PROGRAM | opath-link-empty SRC DST | fexecve PATH |\n"
		"       pty-sti | readlink PATH | meta PATH |\n"
		"       persona-exec PROGRAM [ARG...]\n");
	return 2;
}
