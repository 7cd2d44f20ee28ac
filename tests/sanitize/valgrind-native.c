/* Preloaded into lockshell under valgrind by scripts/check.d/30-valgrind.sh.
 * Valgrind 3.19 (Debian 12) answers ENOSYS to the system calls it does not
 * know: pidfd_open, pidfd_send_signal, seccomp, the Landlock calls,
 * open_tree, move_mount and mount_setattr, all of which lockshell needs. This library makes those calls on the real CPU
 * (VALGRIND_NON_SIMD_CALL), outside valgrind's emulation, so the supervisor
 * takes its real path. Memcheck does not see the memory these calls read
 * (they write none), and valgrind's --track-fds does not list the
 * descriptors they return (pidfds, Landlock rulesets, mount trees). Outside valgrind
 * every call goes to libc unchanged.
 *
 * LOCKSHELL_VALGRIND_INJECT=leak or =fd makes the library leak 64 bytes or
 * one descriptor in the program, so that the check can show it fails. */
#include <dlfcn.h>
#include <fcntl.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <valgrind/valgrind.h>

struct native_call {
	long nr;
	long args[6];
};

static long raw_syscall(const struct native_call *c)
{
	long ret;
#if defined(__x86_64__)
	register long r10 __asm__("r10") = c->args[3];
	register long r8 __asm__("r8") = c->args[4];
	register long r9 __asm__("r9") = c->args[5];

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(c->nr), "D"(c->args[0]), "S"(c->args[1]), "d"(c->args[2]),
			   "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = c->nr;
	register long x0 __asm__("x0") = c->args[0];
	register long x1 __asm__("x1") = c->args[1];
	register long x2 __asm__("x2") = c->args[2];
	register long x3 __asm__("x3") = c->args[3];
	register long x4 __asm__("x4") = c->args[4];
	register long x5 __asm__("x5") = c->args[5];

	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	ret = x0;
#else
#error "valgrind-native.c: x86_64 and aarch64 only"
#endif
	return ret;
}

/* Run by valgrind on the real CPU; its first argument is valgrind's thread id. */
static long native_entry(long tid, struct native_call *c)
{
	(void)tid;
	return raw_syscall(c);
}

static bool native_wanted(long nr)
{
	switch (nr) {
	case SYS_pidfd_open:
	case SYS_pidfd_send_signal:
	case SYS_seccomp:
	case SYS_landlock_create_ruleset:
	case SYS_landlock_add_rule:
	case SYS_landlock_restrict_self:
	case SYS_open_tree:
	case SYS_move_mount:
	case SYS_mount_setattr:
		return RUNNING_ON_VALGRIND;
	default:
		return false;
	}
}

static long native(const struct native_call *c)
{
	long ret = (long)VALGRIND_NON_SIMD_CALL1(native_entry, c);

	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

long syscall(long nr, ...);
long syscall(long nr, ...)
{
	static long (*next)(long, ...);
	struct native_call c = {.nr = nr};
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		c.args[i] = va_arg(ap, long);
	va_end(ap);
	if (native_wanted(nr))
		return native(&c);
	if (!next)
		next = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	return next(nr, c.args[0], c.args[1], c.args[2], c.args[3], c.args[4], c.args[5]);
}

int pidfd_open(pid_t pid, unsigned int flags);
int pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_open, (long)pid, (long)flags);
}

int pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned int flags);
int pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_send_signal, (long)pidfd, (long)sig, (long)info,
			    (long)flags);
}

int open_tree(int dfd, const char *path, unsigned int flags);
int open_tree(int dfd, const char *path, unsigned int flags)
{
	return (int)syscall(SYS_open_tree, (long)dfd, (long)path, (long)flags);
}

int move_mount(int from_dfd, const char *from_path, int to_dfd, const char *to_path,
	       unsigned int flags);
int move_mount(int from_dfd, const char *from_path, int to_dfd, const char *to_path,
	       unsigned int flags)
{
	return (int)syscall(SYS_move_mount, (long)from_dfd, (long)from_path, (long)to_dfd,
			    (long)to_path, (long)flags);
}

struct mount_attr;
int mount_setattr(int dfd, const char *path, unsigned int flags, struct mount_attr *attr,
		  size_t size);
int mount_setattr(int dfd, const char *path, unsigned int flags, struct mount_attr *attr,
		  size_t size)
{
	return (int)syscall(SYS_mount_setattr, (long)dfd, (long)path, (long)flags, (long)attr,
			    (long)size);
}

static void *volatile injected;

/* The workload, executed by lockshell outside valgrind, does not get it.
 * Valgrind's launcher, which runs natively, must keep it for the program. */
__attribute__((constructor)) static void preload_forget(void)
{
	const char *inject = getenv("LOCKSHELL_VALGRIND_INJECT");

	if (!RUNNING_ON_VALGRIND)
		return;
	unsetenv("LD_PRELOAD");
	if (inject && strcmp(inject, "leak") == 0) {
		injected = malloc(64);
		injected = NULL;
	} else if (inject && strcmp(inject, "fd") == 0) {
		(void)!open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
}
