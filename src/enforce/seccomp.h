/* seccomp: the syscall filter (libseccomp), built before fork and loaded as
 * the last step before exec. */
#pragma once

#include "base/error.h"
#include "policy/effective.h"

struct seccomp_filter;

int seccomp_filter_build(const struct effective *eff, struct seccomp_filter **ret,
			 struct error *err);
int seccomp_filter_load(struct seccomp_filter *f, struct error *err);
size_t seccomp_filter_rule_count(const struct seccomp_filter *f);
void seccomp_filter_free(struct seccomp_filter *f);
