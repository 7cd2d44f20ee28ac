/* seccomp: the table of refused syscalls, the single source of the filter,
 * and its translation through libseccomp into a BPF program for the build
 * architecture. The build runs that translation once (src/tools/
 * seccomp-bpf-gen.c) and embeds the program; seccomp_load.c loads it, so
 * lockshell itself needs no libseccomp. docs/seccomp.md explains each rule. */
#include "enforce/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"

#define ARGS_MAX 2

struct seccomp_match {
	unsigned n_args;
	struct scmp_arg_cmp args[ARGS_MAX];
	/* For a test that one libseccomp rule cannot express. */
	int (*add)(scmp_filter_ctx ctx, uint32_t action, int nr);
};

/* Argument tests. The kernel reads an int argument's low 32 bits only, so an
 * equality test on one masks the upper half: a caller cannot slip AF_PACKET
 * past the filter as 0x100000011. */
#define INT_ARG_IS(n, v)                                                                           \
	{                                                                                          \
		.arg = (n), .op = SCMP_CMP_MASKED_EQ, .datum_a = UINT32_MAX, .datum_b = (v)        \
	}
#define ARG_HAS(n, flag)                                                                           \
	{                                                                                          \
		.arg = (n), .op = SCMP_CMP_MASKED_EQ, .datum_a = (flag), .datum_b = (flag)         \
	}
#define ARG_IS_NOT(n, v)                                                                           \
	{                                                                                          \
		.arg = (n), .op = SCMP_CMP_NE, .datum_a = (v), .datum_b = 0                        \
	}
#define MATCH1(a)    (&(const struct seccomp_match){.n_args = 1, .args = {a}})
#define MATCH2(a, b) (&(const struct seccomp_match){.n_args = 2, .args = {a, b}})
#define MATCH_BY(fn) (&(const struct seccomp_match){.add = (fn)})

#define FAIL(name, errno_value, why)                                                               \
	{                                                                                          \
		.syscall = (name), .error = (errno_value), .reason = (why)                         \
	}
#define DENY(name, why) FAIL(name, EPERM, why)
#define DENY_IF(name, cond, why, test)                                                             \
	{                                                                                          \
		.syscall = (name), .condition = (cond), .error = EPERM, .reason = (why),           \
		.match = (test)                                                                    \
	}

/* personality() reads an unsigned int. A value whose low 32 bits are neither
 * all 0 nor all 1 has, reading them as a ring, a 0 bit followed by a 1 bit:
 * one masked test per position catches it. Wider values are refused whole. */
static int add_personality_rules(scmp_filter_ctx ctx, uint32_t action, int nr)
{
	int r = seccomp_rule_add(ctx, action, nr, 1, SCMP_A0_64(SCMP_CMP_GT, UINT32_MAX, 0));

	for (unsigned bit = 0; r == 0 && bit < 32; bit++) {
		uint64_t zero = 1ULL << bit, one = 1ULL << ((bit + 1) % 32);

		r = seccomp_rule_add(ctx, action, nr, 1,
				     SCMP_A0_64(SCMP_CMP_MASKED_EQ, zero | one, one));
	}
	return r;
}

#define NAMESPACE_REASON                                                                           \
	"a new user namespace holds every capability inside it, which opens kernel code "          \
	"(netfilter, many filesystems, namespaced sysctls) otherwise reserved to root"
#define MOUNT_REASON "changes the file tree the policy was written against"

static const struct seccomp_rule_info rules[] = {
    DENY("memfd_create",
	 "anonymous executable memory outside every path rule: payloads that never touch disk"),
    DENY("ptrace", "reads and rewrites the memory and registers of other processes in the sandbox"),
    DENY("bpf", "eBPF programs and maps: a large and often exploited kernel surface"),
    DENY("process_vm_readv", "reads another process's memory without ptrace"),
    DENY("process_vm_writev", "writes another process's memory without ptrace"),
    DENY("pidfd_getfd", "copies any file descriptor out of another process"),
    DENY("io_uring_setup",
	 "io_uring performs file and socket operations that this filter never sees"),
    DENY("io_uring_enter", "submits io_uring work (see io_uring_setup)"),
    DENY("io_uring_register", "registers files and buffers with an io_uring"),
    DENY("userfaultfd",
	 "stalls the kernel on a page fault mid-copy, the usual way to win kernel races"),
    DENY("perf_event_open", "performance counters: side channels and a long record of kernel bugs"),
    DENY("mount", MOUNT_REASON),
    DENY("umount2", "uncovers what a mount hides, e.g. the real /proc or /dev"),
    DENY("pivot_root", "swaps the root of the mount namespace"),
    DENY("fsopen", "new mount API: creates a filesystem context; " MOUNT_REASON),
    DENY("fsconfig", "new mount API: configures a filesystem context"),
    DENY("fsmount", "new mount API: turns a filesystem context into a mount"),
    DENY("fspick", "new mount API: reopens an existing mount for reconfiguration"),
    DENY("move_mount", "new mount API: attaches a mount anywhere; " MOUNT_REASON),
    DENY("open_tree", "new mount API: clones a mount tree into a detached mount"),
    DENY("mount_setattr", "changes mount flags (read-only, nosuid, id mapping) of existing mounts"),
    DENY("setns",
	 "joins another namespace through a descriptor, e.g. the host's network namespace"),
    DENY("kexec_load", "replaces the running kernel"),
    DENY("kexec_file_load", "replaces the running kernel"),
    DENY("init_module", "loads code into the kernel"),
    DENY("finit_module", "loads code into the kernel from a file"),
    DENY("delete_module", "unloads kernel modules the host relies on"),
    DENY("keyctl",
	 "keyrings are shared by every process of a uid, in the sandbox or not, and bug-prone"),
    DENY("add_key", "adds keys to kernel keyrings (see keyctl)"),
    DENY("request_key", "looks up keys and may run the host's /sbin/request-key (see keyctl)"),
    DENY("acct", "switches process accounting on or off, writing to any file"),
    DENY("swapon", "pages other processes' memory out to a file of its choosing"),
    DENY("swapoff", "removes swap the host relies on"),
    DENY("reboot", "reboots or halts the machine"),
    DENY("open_by_handle_at",
	 "opens a file by handle without path lookup: the 'shocker' container escape"),
    DENY_IF(
	"personality", "persona is neither PER_LINUX (0) nor the query 0xffffffff",
	"turns off address randomisation or makes readable memory executable for later programs",
	MATCH_BY(add_personality_rules)),
    DENY_IF("socket", "domain is AF_PACKET",
	    "raw link-layer frames: sniffing and forging traffic on the interfaces",
	    MATCH1(INT_ARG_IS(0, AF_PACKET))),
    DENY_IF("socket", "domain is AF_BLUETOOTH",
	    "Bluetooth hardware and a protocol stack with a record of kernel bugs",
	    MATCH1(INT_ARG_IS(0, AF_BLUETOOTH))),
    DENY_IF("socket", "domain is AF_VSOCK",
	    "talks to the hypervisor and other virtual machines past the network namespace",
	    MATCH1(INT_ARG_IS(0, AF_VSOCK))),
    DENY_IF("socket", "domain is AF_NETLINK and protocol is not NETLINK_ROUTE",
	    "audit, uevent, netfilter, xfrm and diagnostic sockets: host state and large parsers",
	    MATCH2(INT_ARG_IS(0, AF_NETLINK), ARG_IS_NOT(2, NETLINK_ROUTE))),
    DENY_IF("ioctl", "request is TIOCSTI",
	    "pushes characters into the terminal's input queue: commands typed into the shell "
	    "that started the sandbox",
	    MATCH1(INT_ARG_IS(1, TIOCSTI))),
    DENY_IF("ioctl", "request is TIOCLINUX",
	    "virtual console control, including pasting the selection into the console's input",
	    MATCH1(INT_ARG_IS(1, TIOCLINUX))),
    DENY_IF("execveat", "flags include AT_EMPTY_PATH",
	    "executes a bare descriptor (fexecve), such as a memfd, with no path to judge",
	    MATCH1(ARG_HAS(4, AT_EMPTY_PATH))),
    DENY_IF("unshare", "flags include CLONE_NEWUSER", NAMESPACE_REASON,
	    MATCH1(ARG_HAS(0, CLONE_NEWUSER))),
    DENY_IF("clone", "flags include CLONE_NEWUSER", NAMESPACE_REASON,
	    MATCH1(ARG_HAS(0, CLONE_NEWUSER))),
    FAIL("clone3", ENOSYS,
	 "its flags sit in memory a filter cannot read; ENOSYS makes libc fall back to clone"),
};

const struct seccomp_rule_info *seccomp_rules(size_t *ret_count)
{
	*ret_count = ARRAY_SIZE(rules);
	return rules;
}

static int rule_add(scmp_filter_ctx ctx, const struct seccomp_rule_info *rule, int nr)
{
	uint32_t action = SCMP_ACT_ERRNO(rule->error);

	if (!rule->match)
		return seccomp_rule_add(ctx, action, nr, 0);
	if (rule->match->add)
		return rule->match->add(ctx, action, nr);
	return seccomp_rule_add_array(ctx, action, nr, rule->match->n_args, rule->match->args);
}

/* Adds every rule whose syscall exists on this architecture. */
static int rules_add(scmp_filter_ctx ctx, size_t *ret_added, struct error *err)
{
	size_t added = 0;

	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		int nr = seccomp_syscall_resolve_name(rules[i].syscall), r;

		if (nr < 0) {
			log_debug("seccomp", "skipping %s: no such syscall on this architecture",
				  rules[i].syscall);
			continue;
		}
		r = rule_add(ctx, &rules[i], nr);
		if (r < 0)
			return error_set_errno(err, -r, "seccomp rule for %s", rules[i].syscall);
		added++;
	}
	*ret_added = added;
	return 0;
}

/* libseccomp 2.5 exports BPF only to a descriptor: a pipe holds it, and a
 * program that fills the pipe is refused rather than truncated. Any loadable
 * program (BPF_MAXINSNS instructions, 32 KiB) fits a default pipe. */
static int bpf_export(scmp_filter_ctx ctx, struct seccomp_program *p, struct error *err)
{
	_cleanup_close_ int rfd = -1, wfd = -1;
	int fds[2], capacity, r;
	ssize_t n;

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return error_set_errno(err, errno, "seccomp: pipe2");
	rfd = fds[0];
	wfd = fds[1];
	capacity = fcntl(wfd, F_GETPIPE_SZ);
	if (capacity < 0)
		return error_set_errno(err, errno, "seccomp: fcntl(F_GETPIPE_SZ)");
	r = seccomp_export_bpf(ctx, wfd);
	if (r < 0)
		return error_set_errno(err, -r, "seccomp_export_bpf");
	p->insns = malloc(capacity);
	if (!p->insns)
		return error_set_errno(err, ENOMEM, "seccomp: BPF program");
	n = read(rfd, p->insns, capacity);
	if (n < 0)
		return error_set_errno(err, errno, "seccomp: reading the BPF program");
	if (n == 0 || n == capacity || n % sizeof(struct sock_filter) != 0 ||
	    n / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return error_set(err, E2BIG, "seccomp: BPF program of %zd bytes is not loadable",
				 n);
	p->n_insns = n / sizeof(struct sock_filter);
	return 0;
}

static int program_fail(scmp_filter_ctx ctx, struct error *err, int code, const char *what)
{
	seccomp_release(ctx);
	return error_set_errno(err, code, "seccomp: %s", what);
}

static int program_compile(struct seccomp_program *p, struct error *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r;

	if (!ctx)
		return error_set(err, ENOMEM, "seccomp_init failed");
	/* Another ABI (i386 or x32 on x86_64, arm on aarch64) kills the process:
	 * its syscall numbers mean other calls. libseccomp sends x32 numbers
	 * (0x40000000 and above) to this action too. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r < 0)
		return program_fail(ctx, err, -r, "bad-architecture action");
	/* A binary search on the syscall number instead of one test per rule:
	 * the kernel needs less time to prepare the program when it is loaded,
	 * and a filtered call runs through fewer instructions. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r < 0)
		return program_fail(ctx, err, -r, "binary-tree optimisation");
	r = rules_add(ctx, &p->rule_count, err);
	if (r >= 0)
		r = bpf_export(ctx, p, err);
	seccomp_release(ctx);
	return r;
}

int seccomp_program_compile(struct seccomp_program *ret, struct error *err)
{
	struct seccomp_program p = {0};
	int r = program_compile(&p, err);

	if (r < 0) {
		seccomp_program_free(&p);
		return r;
	}
	*ret = p;
	return 0;
}

void seccomp_program_free(struct seccomp_program *p)
{
	free(p->insns);
	p->insns = NULL;
}
