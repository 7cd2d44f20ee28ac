/* syscall-probe: attempts one operation that lockshell's seccomp filter rules
 * on and prints what the kernel answered, exiting 0 either way:
 *
 *   syscall-probe NAME     prints "NAME ok" or "NAME errno=<number> <strerror>"
 *   syscall-probe --list   prints "NAME EXPECTED" for every probe, EXPECTED being
 *                          the result under lockshell's filter: ok, an errno
 *                          name (EPERM, ENOSYS, ENOENT), or SIGSYS (killed)
 *
 * Every call uses harmless arguments, so that where it is allowed it does
 * nothing lasting (a missing path, an invalid descriptor, bad magic, a child
 * that exits at once). Names, with the result expected under the filter:
 *
 *   EPERM:  memfd_create ptrace bpf process_vm_readv process_vm_writev
 *           pidfd_getfd io_uring_setup io_uring_enter io_uring_register
 *           userfaultfd perf_event_open mount umount2 pivot_root fsopen
 *           fsconfig fsmount fspick move_mount open_tree mount_setattr setns
 *           kexec_load kexec_file_load init_module finit_module delete_module
 *           keyctl add_key request_key acct swapon swapoff reboot
 *           open_by_handle_at personality personality-highbits socket-packet
 *           socket-packet-highbits socket-bluetooth socket-vsock
 *           socket-netlink-uevent ioctl-tiocsti ioctl-tioclinux
 *           execveat-empty-path unshare-user clone-user
 *           seccomp-stack (stacks an allow-all filter, then tries memfd_create)
 *   ENOSYS: clone3
 *   ENOENT: execveat-path (execveat without AT_EMPTY_PATH reaches the kernel)
 *   ok:     personality-query socket-netlink-route socket-inet fork pthread
 *   SIGSYS: x32 i386 (x86_64 only: a syscall of another ABI kills the process)
 *
 * tests/unit/test-seccomp.c includes this file (with SYSCALL_PROBE_NO_MAIN) to
 * run the same table in-process. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROBE_KILLED (-1) /* expected: killed by SIGSYS */
#define MISSING	     "/nonexistent/syscall-probe"

struct probe {
	const char *name;
	const char *syscall; /* the syscall whose rule it exercises */
	int expect;	     /* errno under the filter, 0 for success, or PROBE_KILLED */
	int (*run)(void);    /* 0 on success, else the errno */
};

static int result(long r)
{
	return r < 0 ? errno : 0;
}

static int fd_result(long fd)
{
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* A child made by a raw fork-like syscall exits at once; 0 when it did. */
static int child_result(long pid)
{
	int status;

	if (pid < 0)
		return errno;
	if (pid == 0)
		_exit(0);
	if (waitpid(pid, &status, 0) < 0)
		return errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : ECHILD;
}

static int probe_memfd_create(void)
{
	return fd_result(syscall(SYS_memfd_create, "syscall-probe", 1U /* MFD_CLOEXEC */));
}

static int probe_ptrace(void)
{
	return result(syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, NULL, NULL));
}

static int probe_bpf(void)
{
	return result(syscall(SYS_bpf, -1, NULL, 0));
}

/* Copies one byte of the probe's own memory. */
static int probe_process_vm(long nr)
{
	char from = 'x', to = 0;
	struct iovec local = {&to, 1}, remote = {&from, 1};

	return result(syscall(nr, (long)getpid(), &local, 1UL, &remote, 1UL, 0UL));
}

static int probe_process_vm_readv(void)
{
	return probe_process_vm(SYS_process_vm_readv);
}

static int probe_process_vm_writev(void)
{
	return probe_process_vm(SYS_process_vm_writev);
}

static int probe_pidfd_getfd(void)
{
	return fd_result(syscall(SYS_pidfd_getfd, -1, 0, 0));
}

static int probe_io_uring_setup(void)
{
	return fd_result(syscall(SYS_io_uring_setup, 1, NULL));
}

static int probe_io_uring_enter(void)
{
	return result(syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0));
}

static int probe_io_uring_register(void)
{
	return result(syscall(SYS_io_uring_register, -1, 0, NULL, 0));
}

static int probe_userfaultfd(void)
{
	return fd_result(syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY));
}

static int probe_perf_event_open(void)
{
	return fd_result(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0UL));
}

static int probe_mount(void)
{
	return result(mount("none", MISSING, "tmpfs", 0, NULL));
}

static int probe_umount2(void)
{
	return result(umount2(MISSING, 0));
}

static int probe_pivot_root(void)
{
	return result(syscall(SYS_pivot_root, MISSING, MISSING));
}

static int probe_fsopen(void)
{
	return fd_result(syscall(SYS_fsopen, "syscall-probe-nofs", 0));
}

static int probe_fsconfig(void)
{
	return result(syscall(SYS_fsconfig, -1, 0, NULL, NULL, 0));
}

static int probe_fsmount(void)
{
	return fd_result(syscall(SYS_fsmount, -1, 0, 0));
}

static int probe_fspick(void)
{
	return fd_result(syscall(SYS_fspick, AT_FDCWD, MISSING, 0));
}

static int probe_move_mount(void)
{
	return result(syscall(SYS_move_mount, AT_FDCWD, MISSING, AT_FDCWD, MISSING, 0));
}

static int probe_open_tree(void)
{
	return fd_result(syscall(SYS_open_tree, AT_FDCWD, MISSING, 0));
}

static int probe_mount_setattr(void)
{
	return result(syscall(SYS_mount_setattr, -1, "", 0, NULL, 0));
}

static int probe_setns(void)
{
	return result(syscall(SYS_setns, -1, 0));
}

/* Flags no kernel knows: refused before anything is read. */
#define BAD_KEXEC_FLAGS 0xdead0000UL

static int probe_kexec_load(void)
{
	return result(syscall(SYS_kexec_load, 0UL, 0UL, NULL, BAD_KEXEC_FLAGS));
}

static int probe_kexec_file_load(void)
{
	return result(syscall(SYS_kexec_file_load, -1, -1, 0UL, "", BAD_KEXEC_FLAGS));
}

static int probe_init_module(void)
{
	return result(syscall(SYS_init_module, NULL, 0UL, ""));
}

static int probe_finit_module(void)
{
	return result(syscall(SYS_finit_module, -1, "", 0));
}

static int probe_delete_module(void)
{
	return result(syscall(SYS_delete_module, "syscall_probe_none", 0));
}

static int probe_keyctl(void)
{
	return result(syscall(SYS_keyctl, 0x7fffffff, 0UL, 0UL, 0UL, 0UL));
}

static int probe_add_key(void)
{
	return result(syscall(SYS_add_key, "syscall-probe-none", "probe", NULL, 0UL,
			      KEY_SPEC_PROCESS_KEYRING));
}

static int probe_request_key(void)
{
	return result(syscall(SYS_request_key, "syscall-probe-none", "probe", NULL, 0));
}

static int probe_acct(void)
{
	return result(acct(MISSING));
}

static int probe_swapon(void)
{
	return result(swapon(MISSING, 0));
}

static int probe_swapoff(void)
{
	return result(swapoff(MISSING));
}

static int probe_reboot(void)
{
	return result(syscall(SYS_reboot, 0, 0, 0, NULL)); /* bad magic */
}

static int probe_open_by_handle_at(void)
{
	struct {
		unsigned int handle_bytes;
		int handle_type;
		unsigned char handle[8];
	} handle = {.handle_bytes = 8};

	return fd_result(syscall(SYS_open_by_handle_at, -1, &handle, O_RDONLY));
}

/* Sets a persona, then restores the one before. */
static int set_persona(unsigned long persona)
{
	long old = syscall(SYS_personality, persona);

	if (old < 0)
		return errno;
	syscall(SYS_personality, (unsigned long)old);
	return 0;
}

static int probe_personality(void)
{
	return set_persona(ADDR_NO_RANDOMIZE);
}

/* The kernel reads 32 bits: this is ADDR_NO_RANDOMIZE to it. */
static int probe_personality_highbits(void)
{
	return set_persona(1UL << 32 | ADDR_NO_RANDOMIZE);
}

static int probe_personality_query(void)
{
	return result(syscall(SYS_personality, 0xffffffffUL));
}

static int probe_socket_packet(void)
{
	return fd_result(socket(AF_PACKET, SOCK_RAW, 0));
}

/* The kernel reads an int: this domain is AF_PACKET to it. */
static int probe_socket_packet_highbits(void)
{
	return fd_result(syscall(SYS_socket, 1UL << 32 | AF_PACKET, SOCK_RAW, 0));
}

static int probe_socket_bluetooth(void)
{
	return fd_result(socket(AF_BLUETOOTH, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

static int probe_socket_vsock(void)
{
	return fd_result(socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

/* On a descriptor that is no terminal: allowed, the kernel answers ENOTTY. */
static int probe_ioctl_tiocsti(void)
{
	char c = '\n';

	return ioctl(-1, TIOCSTI, &c) < 0 ? errno : 0;
}

static int probe_ioctl_tioclinux(void)
{
	char sub = 0;

	return ioctl(-1, TIOCLINUX, &sub) < 0 ? errno : 0;
}

static int probe_socket_netlink_uevent(void)
{
	return fd_result(
	    socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT));
}

static int probe_socket_netlink_route(void)
{
	return fd_result(
	    socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE));
}

static int probe_socket_inet(void)
{
	return fd_result(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

static int probe_execveat_empty_path(void)
{
	char *argv[] = {"syscall-probe", NULL}, *envp[] = {NULL};

	return result(syscall(SYS_execveat, -1, "", argv, envp, AT_EMPTY_PATH));
}

static int probe_execveat_path(void)
{
	char *argv[] = {"syscall-probe", NULL}, *envp[] = {NULL};

	return result(syscall(SYS_execveat, AT_FDCWD, "", argv, envp, 0));
}

static int probe_unshare_user(void)
{
	return result(unshare(CLONE_NEWUSER));
}

static int probe_clone_user(void)
{
	return child_result(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL));
}

static int probe_clone3(void)
{
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	} args = {.exit_signal = SIGCHLD};

	return child_result(syscall(SYS_clone3, &args, sizeof(args)));
}

static int probe_fork(void)
{
	return child_result(fork());
}

static void *thread_main(void *arg)
{
	return arg;
}

static int probe_pthread(void)
{
	pthread_t thread;
	void *ret = NULL;
	int e = pthread_create(&thread, NULL, thread_main, &ret);

	if (e)
		return e;
	e = pthread_join(thread, &ret);
	return e ? e : ret == &ret ? 0 : EIO;
}

/* The workload may add a filter of its own; ours stays underneath it. */
static int probe_seccomp_stack(void)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = {.len = 1, .filter = &allow};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return errno;
	return probe_memfd_create();
}

#ifdef __x86_64__
static int probe_x32(void)
{
	return result(syscall(0x40000000 /* __X32_SYSCALL_BIT */ | SYS_getpid));
}

static int probe_i386(void)
{
	long r;

	__asm__ volatile("int $0x80"
			 : "=a"(r)
			 : "a"(20L /* i386 getpid */)
			 : "memory", "cc", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15");
	return r < 0 && r > -4096 ? (int)-r : 0;
}
#endif

#define PROBE(name, fn, expect)                                                                    \
	{                                                                                          \
		name, name, expect, fn                                                             \
	}
#define PROBE_OF(name, sys, fn, expect)                                                            \
	{                                                                                          \
		name, sys, expect, fn                                                              \
	}

static const struct probe probes[] = {
    PROBE("memfd_create", probe_memfd_create, EPERM),
    PROBE("ptrace", probe_ptrace, EPERM),
    PROBE("bpf", probe_bpf, EPERM),
    PROBE("process_vm_readv", probe_process_vm_readv, EPERM),
    PROBE("process_vm_writev", probe_process_vm_writev, EPERM),
    PROBE("pidfd_getfd", probe_pidfd_getfd, EPERM),
    PROBE("io_uring_setup", probe_io_uring_setup, EPERM),
    PROBE("io_uring_enter", probe_io_uring_enter, EPERM),
    PROBE("io_uring_register", probe_io_uring_register, EPERM),
    PROBE("userfaultfd", probe_userfaultfd, EPERM),
    PROBE("perf_event_open", probe_perf_event_open, EPERM),
    PROBE("mount", probe_mount, EPERM),
    PROBE("umount2", probe_umount2, EPERM),
    PROBE("pivot_root", probe_pivot_root, EPERM),
    PROBE("fsopen", probe_fsopen, EPERM),
    PROBE("fsconfig", probe_fsconfig, EPERM),
    PROBE("fsmount", probe_fsmount, EPERM),
    PROBE("fspick", probe_fspick, EPERM),
    PROBE("move_mount", probe_move_mount, EPERM),
    PROBE("open_tree", probe_open_tree, EPERM),
    PROBE("mount_setattr", probe_mount_setattr, EPERM),
    PROBE("setns", probe_setns, EPERM),
    PROBE("kexec_load", probe_kexec_load, EPERM),
    PROBE("kexec_file_load", probe_kexec_file_load, EPERM),
    PROBE("init_module", probe_init_module, EPERM),
    PROBE("finit_module", probe_finit_module, EPERM),
    PROBE("delete_module", probe_delete_module, EPERM),
    PROBE("keyctl", probe_keyctl, EPERM),
    PROBE("add_key", probe_add_key, EPERM),
    PROBE("request_key", probe_request_key, EPERM),
    PROBE("acct", probe_acct, EPERM),
    PROBE("swapon", probe_swapon, EPERM),
    PROBE("swapoff", probe_swapoff, EPERM),
    PROBE("reboot", probe_reboot, EPERM),
    PROBE("open_by_handle_at", probe_open_by_handle_at, EPERM),
    PROBE("personality", probe_personality, EPERM),
    PROBE_OF("personality-highbits", "personality", probe_personality_highbits, EPERM),
    PROBE_OF("personality-query", "personality", probe_personality_query, 0),
    PROBE_OF("socket-packet", "socket", probe_socket_packet, EPERM),
    PROBE_OF("socket-packet-highbits", "socket", probe_socket_packet_highbits, EPERM),
    PROBE_OF("socket-bluetooth", "socket", probe_socket_bluetooth, EPERM),
    PROBE_OF("socket-vsock", "socket", probe_socket_vsock, EPERM),
    PROBE_OF("ioctl-tiocsti", "ioctl", probe_ioctl_tiocsti, EPERM),
    PROBE_OF("ioctl-tioclinux", "ioctl", probe_ioctl_tioclinux, EPERM),
    PROBE_OF("socket-netlink-uevent", "socket", probe_socket_netlink_uevent, EPERM),
    PROBE_OF("socket-netlink-route", "socket", probe_socket_netlink_route, 0),
    PROBE_OF("socket-inet", "socket", probe_socket_inet, 0),
    PROBE_OF("execveat-empty-path", "execveat", probe_execveat_empty_path, EPERM),
    PROBE_OF("execveat-path", "execveat", probe_execveat_path, ENOENT),
    PROBE_OF("unshare-user", "unshare", probe_unshare_user, EPERM),
    PROBE_OF("clone-user", "clone", probe_clone_user, EPERM),
    PROBE("clone3", probe_clone3, ENOSYS),
    PROBE_OF("fork", "clone", probe_fork, 0),
    PROBE_OF("pthread", "clone", probe_pthread, 0),
    PROBE_OF("seccomp-stack", "seccomp", probe_seccomp_stack, EPERM),
#ifdef __x86_64__
    PROBE_OF("x32", "getpid", probe_x32, PROBE_KILLED),
    PROBE_OF("i386", "getpid", probe_i386, PROBE_KILLED),
#endif
};

#define PROBE_COUNT (sizeof(probes) / sizeof(probes[0]))

#ifndef SYSCALL_PROBE_NO_MAIN
static const char *expect_name(int expect)
{
	if (expect == PROBE_KILLED)
		return "SIGSYS";
	return expect ? strerrorname_np(expect) : "ok";
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < PROBE_COUNT; i++)
			printf("%s %s\n", probes[i].name, expect_name(probes[i].expect));
		return 0;
	}
	for (size_t i = 0; argc == 2 && i < PROBE_COUNT; i++) {
		int e;

		if (strcmp(argv[1], probes[i].name) != 0)
			continue;
		e = probes[i].run();
		if (e)
			printf("%s errno=%d %s\n", probes[i].name, e, strerror(e));
		else
			printf("%s ok\n", probes[i].name);
		return 0;
	}
	fprintf(stderr, "usage: syscall-probe NAME | --list (unknown or missing name)\n");
	return 2;
}
#endif
