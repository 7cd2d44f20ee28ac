/* seccomp at run time: the BPF program the build compiled from the rules of
 * seccomp.c (the generated seccomp-bpf.h), handed to the workload and
 * loaded as its last step before exec. No libseccomp is involved here. */
#include "enforce/seccomp.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "seccomp-bpf.h"

struct seccomp_filter {
	struct sock_filter insns[ARRAY_SIZE(seccomp_bpf_insns)];
	size_t rule_count;
};

const struct sock_filter *seccomp_builtin_program(size_t *ret_n_insns)
{
	*ret_n_insns = ARRAY_SIZE(seccomp_bpf_insns);
	return seccomp_bpf_insns;
}

int seccomp_filter_build(const struct effective *eff, struct seccomp_filter **ret,
			 struct error *err)
{
	struct seccomp_filter *f;

	(void)eff; /* the filter is the same for every policy, for now */
	f = malloc(sizeof(*f));
	if (!f)
		return error_set_errno(err, ENOMEM, "seccomp filter");
	memcpy(f->insns, seccomp_bpf_insns, sizeof(f->insns));
	f->rule_count = SECCOMP_BPF_RULE_COUNT;
	log_info("seccomp", "filter built: %zu rules, %zu BPF instructions, other ABIs killed",
		 f->rule_count, ARRAY_SIZE(f->insns));
	*ret = f;
	return 0;
}

int seccomp_filter_load(struct seccomp_filter *f, struct error *err)
{
	struct sock_fprog prog = {.len = ARRAY_SIZE(f->insns), .filter = f->insns};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return error_set_errno(err, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return error_set_errno(err, errno, "seccomp(SECCOMP_SET_MODE_FILTER)");
	return 0;
}

size_t seccomp_filter_rule_count(const struct seccomp_filter *f)
{
	return f->rule_count;
}

void seccomp_filter_free(struct seccomp_filter *f)
{
	free(f);
}
