/* Identity and privilege drop: resolving run_as_user/run_as_group to ids,
 * groups and the identity's environment before fork, and dropping to them
 * in the child with every step verified. */
#include "enforce/creds.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"

/* A user as resolved: its id and, when it has a passwd entry, that entry's
 * name, primary group and home. named: the policy named it and it has an
 * entry, so its supplementary groups apply. */
struct user_entry {
	uid_t uid;
	bool found;
	bool named;
	gid_t primary_gid;
	char *name;
	char *home;
};

static void user_entry_free(struct user_entry *u)
{
	free(u->name);
	free(u->home);
}

/* 1 and *ret for a decimal id, 0 when s is not all digits, -ERANGE for an
 * id outside 0..4294967294 ((uid_t)-1 means "unchanged" to the kernel). */
static int id_parse(const char *s, unsigned *ret)
{
	unsigned long long v;
	char *end;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || v >= UINT32_MAX)
		return -ERANGE;
	*ret = (unsigned)v;
	return 1;
}

/* Lookups read /etc/passwd and /etc/group directly first: a miss through
 * NSS loads every configured module (hundreds of microseconds and more than
 * a megabyte of memory), which the default identity must not cost. NSS is
 * asked only for what the files do not hold. */
struct passwd *creds_passwd_find(FILE *f, const char *name, uid_t uid)
{
	struct passwd *pw;

	while (f && (pw = fgetpwent(f)))
		if (name ? strcmp(pw->pw_name, name) == 0 : pw->pw_uid == uid)
			return pw;
	return NULL;
}

struct group *creds_group_find(FILE *f, const char *name)
{
	struct group *gr;

	while (f && (gr = fgetgrent(f)))
		if (strcmp(gr->gr_name, name) == 0)
			return gr;
	return NULL;
}

/* /etc/passwd or /etc/group as a stream over a copy in memory: fgetpwent()
 * and fgetgrent() ask their stream for its position before every entry,
 * which on a file stream is an lseek(2) each (a hundred system calls for
 * the default identity's two lookups), and on a memory stream is none.
 * A file too large to copy, or one that does not say its size, is read
 * from the file itself. */
#define DB_COPY_MAX (64 << 10)

static FILE *db_copy(int fd, size_t size)
{
	FILE *f = fmemopen(NULL, size, "w+");
	char buf[size];
	ssize_t n;

	if (!f)
		return NULL;
	n = read(fd, buf, size);
	if (n < 0 || fwrite(buf, 1, (size_t)n, f) != (size_t)n || fseek(f, 0, SEEK_SET) < 0) {
		(void)fclose(f);
		return NULL;
	}
	return f;
}

static FILE *db_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	FILE *f;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && st.st_size > 0 && st.st_size <= DB_COPY_MAX)
		f = db_copy(fd, (size_t)st.st_size);
	else if ((f = fdopen(fd, "re")))
		return f; /* which owns fd */
	close(fd);
	return f;
}

static struct passwd *passwd_files_find(const char *name, uid_t uid)
{
	_cleanup_fclose_ FILE *f = db_open("/etc/passwd");

	return creds_passwd_find(f, name, uid);
}

static struct group *group_files_find(const char *name)
{
	_cleanup_fclose_ FILE *f = db_open("/etc/group");

	return creds_group_find(f, name);
}

/* Users and groups come from /etc/passwd and /etc/group alone, as a
 * container runtime reads them, never through NSS: lockshell is linked
 * statically, and a lookup must not load the host's NSS modules into the
 * process that builds the sandbox. A user known only to a directory service
 * is given by its numeric id. */
static struct passwd *passwd_by_name(const char *name)
{
	return passwd_files_find(name, 0);
}

static struct passwd *passwd_by_uid(uid_t uid)
{
	return passwd_files_find(NULL, uid);
}

static int user_entry_fill(const struct passwd *pw, bool named, struct user_entry *ret)
{
	ret->uid = pw->pw_uid;
	ret->found = true;
	ret->named = named;
	ret->primary_gid = pw->pw_gid;
	ret->name = strdup(pw->pw_name);
	ret->home = strdup(pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/");
	return ret->name && ret->home ? 0 : -ENOMEM;
}

/* A numeric id, a name, or "sandbox" (the user of that name in
 * /etc/passwd, else CREDS_SANDBOX_ID); an id is looked up for its passwd
 * entry but need not have one. */
static int user_lookup(const char *spec, struct user_entry *ret, struct error *err)
{
	struct passwd *pw;
	bool named = false;
	unsigned id;
	int r;

	*ret = (struct user_entry){0};
	r = id_parse(spec, &id);
	if (r < 0)
		return error_set(err, EINVAL, "run_as_user '%s' is not a valid user id", spec);
	if (r == 0 && strcmp(spec, CREDS_SANDBOX_NAME) == 0) {
		/* One copy of the file for both scans. */
		_cleanup_fclose_ FILE *f = db_open("/etc/passwd");

		pw = creds_passwd_find(f, CREDS_SANDBOX_NAME, 0);
		named = pw != NULL;
		if (!pw && f) {
			rewind(f);
			pw = creds_passwd_find(f, NULL, CREDS_SANDBOX_ID);
		}
		ret->uid = CREDS_SANDBOX_ID;
	} else if (r == 0) {
		pw = passwd_by_name(spec);
		if (!pw)
			return error_set(err, ENOENT, "run_as_user '%s': no such user in /etc/passwd",
					 spec);
		named = true;
	} else {
		pw = passwd_by_uid(id);
		ret->uid = id;
	}
	if (pw && user_entry_fill(pw, named, ret) < 0)
		return error_set(err, ENOMEM, "out of memory");
	return 0;
}

/* A numeric id, a name, or "sandbox" (the group of that name in /etc/group,
 * else CREDS_SANDBOX_ID). */
static int group_lookup(const char *spec, gid_t *ret, struct error *err)
{
	struct group *gr;
	unsigned id;
	int r;

	r = id_parse(spec, &id);
	if (r < 0)
		return error_set(err, EINVAL, "run_as_group '%s' is not a valid group id", spec);
	if (r > 0) {
		*ret = id;
		return 0;
	}
	gr = group_files_find(spec);
	if (!gr && strcmp(spec, CREDS_SANDBOX_NAME) == 0) {
		*ret = CREDS_SANDBOX_ID;
		return 0;
	}
	if (!gr)
		return error_set(err, ENOENT, "run_as_group '%s': no such group in /etc/group",
				 spec);
	*ret = gr->gr_gid;
	return 0;
}

/* libcap finds the kernel's capability count when it starts (it probes
 * the bounding set with prctl()), which spares a read of procfs: the first
 * lookup below /proc/sys in the sandbox's fresh procfs costs some 40 us.
 * The file is read when libcap's figure is out of range. */
static int cap_last_cap_read(void)
{
	int bits = (int)cap_max_bits();

	if (bits > 0 && bits <= 64)
		return bits - 1;
	_cleanup_fclose_ FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	char line[32], *end;
	long v;

	if (!f || !fgets(line, sizeof(line), f))
		return CAP_LAST_CAP;
	errno = 0;
	v = strtol(line, &end, 10);
	if (errno || end == line || (*end != '\n' && *end != '\0') || v < 0 || v > INT_MAX)
		return CAP_LAST_CAP;
	return (int)v;
}

static int env_fill(const struct user_entry *u, struct creds *c)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", (unsigned)c->uid);
	c->home = strdup(u->found ? u->home : "/");
	c->user = strdup(u->found ? u->name : buf);
	return c->home && c->user ? 0 : -ENOMEM;
}

static bool gid_listed(const gid_t *groups, size_t n, gid_t gid)
{
	for (size_t i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

static bool group_has_member(const struct group *gr, const char *name)
{
	for (char **m = gr->gr_mem; m && *m; m++)
		if (strcmp(*m, name) == 0)
			return true;
	return false;
}

/* Appends gid to the list unless it is there already. */
static int gid_append(gid_t **groups, size_t *n, gid_t gid)
{
	gid_t *more;

	if (gid_listed(*groups, *n, gid))
		return 0;
	if (*n >= NGROUPS_MAX)
		return -E2BIG;
	more = realloc(*groups, (*n + 1) * sizeof(gid_t));
	if (!more)
		return -ENOMEM;
	*groups = more;
	(*groups)[(*n)++] = gid;
	return 0;
}

int creds_group_list(FILE *f, const char *name, gid_t primary, gid_t **groups, size_t *n,
		     struct error *err)
{
	struct group *gr;
	int r = gid_append(groups, n, primary);

	while (r >= 0 && f && (gr = fgetgrent(f)))
		if (group_has_member(gr, name))
			r = gid_append(groups, n, gr->gr_gid);
	if (r == -E2BIG)
		return error_set(err, E2BIG, "user '%s' is in more than %d groups", name,
				 NGROUPS_MAX);
	if (r < 0)
		return error_set(err, -r, "out of memory");
	return 0;
}

/* The supplementary groups of a named user, from /etc/group. */
static int groups_resolve(const struct user_entry *u, struct creds *c, struct error *err)
{
	_cleanup_fclose_ FILE *f = NULL;
	int r;

	if (!u->named)
		return 0;
	f = db_open("/etc/group");
	r = creds_group_list(f, u->name, c->gid, &c->groups, &c->n_groups, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < c->n_groups; i++)
		if (c->groups[i] == 0)
			return error_set(
			    err, EPERM,
			    "refusing to run the workload with group 0 (root): user '%s' "
			    "is a member of it",
			    u->name);
	return 0;
}

static int resolve_privileged(const char *user, const char *group, struct creds *c,
			      struct error *err)
{
	const char *spec = user ? user : CREDS_SANDBOX_NAME;
	struct user_entry u;
	int r;

	r = user_lookup(spec, &u, err);
	if (r >= 0 && u.uid == 0)
		r = error_set(err, EPERM,
			      "refusing to run the workload as root: run_as_user '%s' is uid 0",
			      spec);
	if (r < 0)
		goto out;
	c->uid = u.uid;
	if (group)
		r = group_lookup(group, &c->gid, err);
	else if (u.found)
		c->gid = u.primary_gid;
	else
		r = group_lookup(CREDS_SANDBOX_NAME, &c->gid, err);
	if (r >= 0 && c->gid == 0)
		r = error_set(err, EPERM,
			      "refusing to run the workload with gid 0 (root): run_as_%s '%s'",
			      group ? "group" : "user", group ? group : spec);
	if (r >= 0)
		r = groups_resolve(&u, c, err);
	if (r >= 0 && env_fill(&u, c) < 0)
		r = error_set(err, ENOMEM, "out of memory");
	c->change = true;
out:
	user_entry_free(&u);
	return r;
}

static int refuse_unprivileged(const char *kind, const char *spec, unsigned id, unsigned current,
			       struct error *err)
{
	return error_set(err, EPERM,
			 "run_as_%s '%s' (id %u) needs root: lockshell runs as %s id %u and cannot "
			 "change identity; run it as root or remove run_as_%s from the policy",
			 kind, spec, id, kind, current, kind);
}

static int resolve_unprivileged(const char *user, const char *group, uid_t invoker_uid,
				gid_t invoker_gid, struct creds *c, struct error *err)
{
	struct user_entry u = {0};
	struct passwd *pw;
	gid_t gid = invoker_gid;
	int r = 0;

	c->uid = invoker_uid;
	c->gid = invoker_gid;
	if (user && strcmp(user, CREDS_SANDBOX_NAME) != 0) {
		r = user_lookup(user, &u, err);
		if (r >= 0 && u.uid != invoker_uid)
			r = refuse_unprivileged("user", user, u.uid, invoker_uid, err);
		user_entry_free(&u);
		u = (struct user_entry){0};
	}
	if (r >= 0 && group && strcmp(group, CREDS_SANDBOX_NAME) != 0) {
		r = group_lookup(group, &gid, err);
		if (r >= 0 && gid != invoker_gid)
			r = refuse_unprivileged("group", group, gid, invoker_gid, err);
	}
	if (r < 0)
		return r;
	pw = passwd_by_uid(invoker_uid);
	if ((pw && user_entry_fill(pw, false, &u) < 0) || env_fill(&u, c) < 0)
		r = error_set(err, ENOMEM, "out of memory");
	user_entry_free(&u);
	return r;
}

int creds_resolve(const char *run_as_user, const char *run_as_group, uid_t invoker_uid,
		  gid_t invoker_gid, struct creds *ret, struct error *err)
{
	struct creds c = {.cap_last_cap = cap_last_cap_read()};
	int r;

	if (invoker_uid == 0)
		r = resolve_privileged(run_as_user, run_as_group, &c, err);
	else
		r = resolve_unprivileged(run_as_user, run_as_group, invoker_uid, invoker_gid, &c,
					 err);
	if (r < 0) {
		creds_free(&c);
		return r;
	}
	*ret = c;
	return 0;
}

/* Drops only what is still there (each drop commits new credentials). A
 * drop the kernel accepted is done: it has no partial outcome to read back. */
static int bounding_set_drop(int last_cap, struct error *err)
{
	for (int cap = 0; cap <= last_cap; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 0)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return error_set_errno(err, errno, "prctl(PR_CAPBSET_DROP, %d)", cap);
	}
	return 0;
}

static bool group_listed(const struct creds *c, gid_t g)
{
	for (size_t i = 0; i < c->n_groups; i++)
		if (c->groups[i] == g)
			return true;
	return false;
}

static int groups_verify(const struct creds *c, struct error *err)
{
	int count = getgroups(0, NULL);

	if (count < 0 || count > NGROUPS_MAX)
		return error_set_errno(err, errno, "getgroups");
	gid_t now[count + 1];
	int n = getgroups(count, now);

	if (n < 0)
		return error_set_errno(err, errno, "getgroups");
	for (int i = 0; i < n; i++)
		if (!group_listed(c, now[i]))
			return error_set(err, EPERM,
					 "supplementary group %u still set after setgroups",
					 (unsigned)now[i]);
	for (size_t i = 0; i < c->n_groups; i++) {
		bool present = false;

		for (int j = 0; j < n; j++)
			present = present || now[j] == c->groups[i];
		if (!present)
			return error_set(err, EPERM,
					 "supplementary group %u missing after setgroups",
					 (unsigned)c->groups[i]);
	}
	return 0;
}

/* Real, effective and saved ids all equal the target: a saved id of 0 would
 * let the workload switch back. */
static int ids_verify(const struct creds *c, struct error *err)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return error_set_errno(err, errno, "getresuid/getresgid");
	if (ru != c->uid || eu != c->uid || su != c->uid)
		return error_set(err, EPERM,
				 "uids are %u/%u/%u (real/effective/saved), expected %u", ru, eu,
				 su, c->uid);
	if (rg != c->gid || eg != c->gid || sg != c->gid)
		return error_set(err, EPERM,
				 "gids are %u/%u/%u (real/effective/saved), expected %u", rg, eg,
				 sg, c->gid);
	return 0;
}

static int identity_change(const struct creds *c, struct error *err)
{
	int r;

	if (setgroups(c->n_groups, c->groups) < 0)
		return error_set_errno(err, errno, "setgroups (%zu groups)", c->n_groups);
	if (setresgid(c->gid, c->gid, c->gid) < 0)
		return error_set_errno(err, errno, "setresgid(%u)", c->gid);
	r = bounding_set_drop(c->cap_last_cap, err);
	if (r < 0)
		return r;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return error_set_errno(err, errno, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
	if (setresuid(c->uid, c->uid, c->uid) < 0)
		return error_set_errno(err, errno, "setresuid(%u)", c->uid);
	return groups_verify(c, err);
}

/* Empties permitted, effective and inheritable; the ambient set, a subset
 * of permitted and inheritable, empties with them. */
static int capabilities_clear(struct error *err)
{
	cap_t empty = cap_init();
	cap_t now;
	int cmp;

	if (!empty)
		return error_set(err, ENOMEM, "cap_init");
	if (cap_set_proc(empty) < 0) {
		cap_free(empty);
		return error_set_errno(err, errno, "cap_set_proc (clearing every capability set)");
	}
	now = cap_get_proc();
	cmp = now ? cap_compare(now, empty) : -1;
	cap_free(now);
	cap_free(empty);
	if (cmp != 0)
		return error_set(err, EPERM, "capability sets are not empty after clearing them");
	return 0;
}

int creds_drop(const struct creds *c, struct error *err)
{
	int r;

	if (c->change) {
		r = identity_change(c, err);
		if (r < 0)
			return r;
	} else if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
		return error_set_errno(err, errno, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
	}
	r = ids_verify(c, err);
	if (r < 0)
		return r;
	return capabilities_clear(err);
}

int creds_bounding_set_drop(const struct creds *c, struct error *err)
{
	return c->change ? bounding_set_drop(c->cap_last_cap, err) : 0;
}

void creds_free(struct creds *c)
{
	free(c->groups);
	free(c->home);
	free(c->user);
	*c = (struct creds){0};
}
