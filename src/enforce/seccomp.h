/* seccomp: the syscall filter, compiled from the rules table into a BPF
 * program when lockshell is built, and loaded as the last step before exec. */
#pragma once

#include <linux/filter.h>
#include <stddef.h>

#include "base/error.h"
#include "policy/effective.h"

struct seccomp_filter;

/* The filter for the native architecture: the BPF program the build
 * compiled from seccomp_rules(), ready to load, so that loading it after
 * fork allocates nothing. The filter does not depend on eff yet; network and
 * GPU variations will. */
int seccomp_filter_build(const struct effective *eff, struct seccomp_filter **ret,
			 struct error *err);
/* Sets no_new_privs and installs the filter on the calling thread. Meant for
 * the single-threaded child, as the last step before exec. */
int seccomp_filter_load(struct seccomp_filter *f, struct error *err);
/* Rules of seccomp_rules() that apply on this architecture. */
size_t seccomp_filter_rule_count(const struct seccomp_filter *f);
void seccomp_filter_free(struct seccomp_filter *f);

/* How a rule tests the syscall's arguments; private to seccomp.c. */
struct seccomp_match;

/* One rule of the filter. The filter, docs/seccomp.md and any listing are
 * generated from the same table. */
struct seccomp_rule_info {
	const char *syscall;		   /* as libseccomp names it */
	const char *condition;		   /* when it applies, in words; NULL: every call */
	int error;			   /* the errno the call fails with */
	const char *reason;		   /* what the call would give an attacker */
	const struct seccomp_match *match; /* NULL: every call */
};

const struct seccomp_rule_info *seccomp_rules(size_t *ret_count);

/* The rules compiled by libseccomp for the native architecture. The build
 * does it once (src/tools/seccomp-bpf-gen.c) and embeds the program in
 * lockshell; tests compare the two. Only this needs libseccomp. */
struct seccomp_program {
	struct sock_filter *insns;
	size_t n_insns;
	size_t rule_count; /* rules of seccomp_rules() that apply on this architecture */
};

int seccomp_program_compile(struct seccomp_program *ret, struct error *err);
void seccomp_program_free(struct seccomp_program *p);
/* The program embedded at build time. */
const struct sock_filter *seccomp_builtin_program(size_t *ret_n_insns);
