/* no-landlock-exec: simulates a kernel or container without Landlock.
 *   no-landlock-exec [--errno=N] CMD [ARG...]
 * installs a seccomp filter (raw BPF) under which landlock_create_ruleset
 * fails with ENOSYS (or errno N), then executes CMD. Every other syscall is
 * allowed. Sets no_new_privs, as an unprivileged filter requires. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444 /* the same on every architecture */
#endif

static int install_filter(unsigned err)
{
	struct sock_filter insns[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_landlock_create_ruleset, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (err & SECCOMP_RET_DATA)),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
	    .len = sizeof(insns) / sizeof(insns[0]),
	    .filter = insns,
	};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned err = ENOSYS;
	int first = 1;
	if (argc > 1 && strncmp(argv[1], "--errno=", 8) == 0) {
		err = (unsigned)atoi(argv[1] + 8);
		first = 2;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: no-landlock-exec [--errno=N] CMD [ARG...]\n");
		return 2;
	}
	int r = install_filter(err);
	if (r < 0) {
		fprintf(stderr, "no-landlock-exec: seccomp filter: %s\n", strerror(-r));
		return 125;
	}
	execvp(argv[first], argv + first);
	fprintf(stderr, "no-landlock-exec: %s: %s\n", argv[first], strerror(errno));
	return 127;
}
