/* fsprobe: attempts one filesystem operation and reports what the kernel said.
 *   fsprobe OP PATH [PATH2|KIND]
 * prints "OP PATH ok" or "OP PATH errno=<N> <NAME>" and exits 0 (2 on a usage
 * error). OPs: read write append create open-rdwr exec truncate open-trunc
 * ftruncate rename link symlink mkdir rmdir unlink mknod (KIND fifo|char)
 * listdir ioctl. Two-path OPs print both paths: "rename SRC DST ok". */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* Each operation returns 0 or an errno. */
typedef int (*op_fn)(const char *path, const char *arg);

static int open_and(const char *path, int flags, const char *data)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	int r = 0;
	if (data && write(fd, data, strlen(data)) < 0)
		r = errno;
	close(fd);
	return r;
}

static int op_read(const char *path, const char *arg)
{
	(void)arg;
	char c;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int r = read(fd, &c, 1) < 0 ? errno : 0;
	close(fd);
	return r;
}

static int op_write(const char *path, const char *arg)
{
	(void)arg;
	return open_and(path, O_WRONLY, "x\n");
}

static int op_append(const char *path, const char *arg)
{
	(void)arg;
	return open_and(path, O_WRONLY | O_APPEND, "x\n");
}

static int op_create(const char *path, const char *arg)
{
	(void)arg;
	return open_and(path, O_WRONLY | O_CREAT | O_EXCL, "x\n");
}

static int op_open_rdwr(const char *path, const char *arg)
{
	(void)arg;
	return open_and(path, O_RDWR, NULL);
}

static int op_open_trunc(const char *path, const char *arg)
{
	(void)arg;
	return open_and(path, O_WRONLY | O_TRUNC, NULL);
}

static int op_truncate(const char *path, const char *arg)
{
	(void)arg;
	return truncate(path, 0) < 0 ? errno : 0;
}

static int op_ftruncate(const char *path, const char *arg)
{
	(void)arg;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int r = ftruncate(fd, 0) < 0 ? errno : 0;
	close(fd);
	return r;
}

/* execve in a child; the child reports a failed execve through a CLOEXEC
 * pipe, so a successful exec leaves the pipe empty. */
static int op_exec(const char *path, const char *arg)
{
	(void)arg;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return errno;
	pid_t pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		char *const argv[] = {(char *)path, NULL};
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, STDOUT_FILENO);
		execv(path, argv);
		int e = errno;
		if (write(p[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(p[1]);
	int e = 0;
	if (read(p[0], &e, sizeof(e)) != (ssize_t)sizeof(e))
		e = 0;
	close(p[0]);
	waitpid(pid, NULL, 0);
	return e;
}

static int op_rename(const char *path, const char *arg)
{
	return rename(path, arg) < 0 ? errno : 0;
}

static int op_link(const char *path, const char *arg)
{
	return link(path, arg) < 0 ? errno : 0;
}

/* symlink TARGET LINKPATH */
static int op_symlink(const char *path, const char *arg)
{
	return symlink(path, arg) < 0 ? errno : 0;
}

static int op_mkdir(const char *path, const char *arg)
{
	(void)arg;
	return mkdir(path, 0755) < 0 ? errno : 0;
}

static int op_rmdir(const char *path, const char *arg)
{
	(void)arg;
	return rmdir(path) < 0 ? errno : 0;
}

static int op_unlink(const char *path, const char *arg)
{
	(void)arg;
	return unlink(path) < 0 ? errno : 0;
}

/* mknod PATH fifo|char; the character device is 1:3 (null). */
static int op_mknod(const char *path, const char *arg)
{
	if (arg && strcmp(arg, "char") == 0)
		return mknod(path, S_IFCHR | 0644, makedev(1, 3)) < 0 ? errno : 0;
	return mknod(path, S_IFIFO | 0644, 0) < 0 ? errno : 0;
}

static int op_listdir(const char *path, const char *arg)
{
	(void)arg;
	DIR *d = opendir(path);
	if (!d)
		return errno;
	errno = 0;
	while (readdir(d))
		;
	int r = errno;
	closedir(d);
	return r;
}

/* A harmless ioctl that a device driver answers: RNDGETENTCNT on the random
 * devices (1:8, 1:9), TCGETS on terminals, FIONREAD otherwise. */
static int device_ioctl(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return errno;
	if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
	    (minor(st.st_rdev) == 8 || minor(st.st_rdev) == 9)) {
		int count;
		return ioctl(fd, RNDGETENTCNT, &count) < 0 ? errno : 0;
	}
	if (S_ISCHR(st.st_mode) &&
	    (major(st.st_rdev) == 4 || major(st.st_rdev) == 5 || major(st.st_rdev) >= 136)) {
		struct termios t;
		return ioctl(fd, TCGETS, &t) < 0 ? errno : 0;
	}
	int n;
	return ioctl(fd, FIONREAD, &n) < 0 ? errno : 0;
}

static int op_ioctl(const char *path, const char *arg)
{
	(void)arg;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int r = device_ioctl(fd);
	close(fd);
	return r;
}

static const struct {
	const char *name;
	op_fn fn;
	int two_paths;
} ops[] = {
    {"read", op_read, 0},	    {"write", op_write, 0},
    {"append", op_append, 0},	    {"create", op_create, 0},
    {"open-rdwr", op_open_rdwr, 0}, {"exec", op_exec, 0},
    {"truncate", op_truncate, 0},   {"open-trunc", op_open_trunc, 0},
    {"ftruncate", op_ftruncate, 0}, {"rename", op_rename, 1},
    {"link", op_link, 1},	    {"symlink", op_symlink, 1},
    {"mkdir", op_mkdir, 0},	    {"rmdir", op_rmdir, 0},
    {"unlink", op_unlink, 0},	    {"mknod", op_mknod, 0},
    {"listdir", op_listdir, 0},	    {"ioctl", op_ioctl, 0},
};

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: fsprobe OP PATH [PATH2|KIND]\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(argv[1], ops[i].name) != 0)
			continue;
		if (ops[i].two_paths && argc < 4) {
			fprintf(stderr, "fsprobe: %s needs two paths\n", argv[1]);
			return 2;
		}
		int e = ops[i].fn(argv[2], argc > 3 ? argv[3] : NULL);
		if (ops[i].two_paths)
			printf("%s %s %s", argv[1], argv[2], argv[3]);
		else
			printf("%s %s", argv[1], argv[2]);
		if (e)
			printf(" errno=%d %s\n", e, strerrorname_np(e));
		else
			printf(" ok\n");
		return 0;
	}
	fprintf(stderr, "fsprobe: unknown operation '%s'\n", argv[1]);
	return 2;
}
