/* Identity and privilege drop: which uid, gid and groups the workload runs
 * as (resolved in the parent, before fork, where NSS lookups are safe), and
 * the drop itself in the child (groups, gid, bounding set, uid, capability
 * sets), each step verified. */
#pragma once

#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "base/error.h"

/* The name that selects lockshell's non-root default identity: the user
 * (or group) named "sandbox" in /etc/passwd (/etc/group) when it exists,
 * otherwise id 65534. The files are read directly, not through NSS, so that
 * the default launch loads no NSS module. */
#define CREDS_SANDBOX_NAME "sandbox"
#define CREDS_SANDBOX_ID   65534

struct creds {
	bool change; /* invoked as root: set groups, gid and uid */
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* supplementary groups, when change is set */
	size_t n_groups;
	/* The environment of the identity: from its passwd entry, or HOME=/
	 * and USER=LOGNAME=<uid> when it has none. */
	char *home;
	char *user;
	int cap_last_cap; /* highest capability number of the running kernel */
};

/* Resolves run_as_user/run_as_group (NULL when the policy names none) for a
 * lockshell invoked as invoker_uid/invoker_gid (its effective ids).
 *
 * As root: each may be a numeric id, a name, or "sandbox"; an unnamed user
 * is "sandbox"; an unnamed group is the user's primary group, or "sandbox"
 * when the user has no passwd entry. Supplementary groups are the user's
 * (the member lists of /etc/group) when the user was named and has a passwd entry; none for a
 * numeric id or the 65534 fallback. uid 0, gid 0 and the invalid id
 * 4294967295 are refused. Names are looked up in /etc/passwd and /etc/group
 * only, never through NSS.
 *
 * As another user: no identity change is possible. NULL and "sandbox" mean
 * the invoking user; anything that names another user or group is refused.
 *
 * Fails with -EINVAL/-ENOENT/-EPERM and a message naming the user or group. */
int creds_resolve(const char *run_as_user, const char *run_as_group, uid_t invoker_uid,
		  gid_t invoker_gid, struct creds *ret, struct error *err);

/* In the child after fork: as root, setgroups, setgid, drop the capability
 * bounding set, clear the ambient set, setuid; always clear the ambient,
 * permitted, effective and inheritable sets. Every step is verified (real,
 * effective and saved ids, the group list, empty capability sets). Uses
 * no allocation besides libcap's. */
int creds_drop(const struct creds *c, struct error *err);

/* The bounding-set part of creds_drop() ahead of it, as root (c->change):
 * for a process that forks the workload and never execs itself, which
 * keeps its own capabilities. creds_drop() then finds nothing left to
 * drop. A no-op otherwise. */
int creds_bounding_set_drop(const struct creds *c, struct error *err);

void creds_free(struct creds *c);

/* The lookups in /etc/passwd and /etc/group, on any stream in their format
 * (for tests): the first entry named name, or, for a NULL name, with uid;
 * NULL when none. The entry is the C library's static one. */
struct passwd *creds_passwd_find(FILE *f, const char *name, uid_t uid);
struct group *creds_group_find(FILE *f, const char *name);
/* The groups of user name for its supplementary list: primary, then every
 * group of the /etc/group-format stream f (NULL: none) whose member list
 * names the user, each gid once, appended to *groups (grown with realloc)
 * and counted in *n. */
int creds_group_list(FILE *f, const char *name, gid_t primary, gid_t **groups, size_t *n,
		     struct error *err);
