/* Identity resolution (root and unprivileged invokers, injected) and the
 * privilege drop, checked in forked children through /proc/self/status. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "enforce/creds.h"

/* The id "sandbox" stands for on this machine, per the documented rule. */
static uid_t sandbox_uid(void)
{
	struct passwd *pw = getpwnam(CREDS_SANDBOX_NAME);

	return pw ? pw->pw_uid : CREDS_SANDBOX_ID;
}

static gid_t sandbox_gid(void)
{
	struct group *gr = getgrnam(CREDS_SANDBOX_NAME);

	return gr ? gr->gr_gid : CREDS_SANDBOX_ID;
}

static bool has_group(const struct creds *c, gid_t g)
{
	for (size_t i = 0; i < c->n_groups; i++)
		if (c->groups[i] == g)
			return true;
	return false;
}

static int resolve(const char *user, const char *group, uid_t uid, gid_t gid, struct creds *c,
		   struct error *err)
{
	*c = (struct creds){0};
	error_clear(err);
	return creds_resolve(user, group, uid, gid, c, err);
}

static void test_root_name(void **state)
{
	struct passwd *pw = getpwnam("nobody");
	struct creds c;
	struct error err;

	(void)state;
	assert_non_null(pw);
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;
	char *home = strdup(pw->pw_dir);

	assert_int_equal(resolve("nobody", NULL, 0, 0, &c, &err), 0);
	assert_int_equal(c.uid, uid);
	assert_int_equal(c.gid, gid);
	assert_true(has_group(&c, gid));
	assert_string_equal(c.home, home);
	assert_string_equal(c.user, "nobody");
	free(home);
	creds_free(&c);
}

/* Numeric ids (with or without a passwd entry) get no supplementary
 * groups, a named user gets its /etc/group ones: the group given plus
 * those listing the user. name/home NULL: those of the uid's passwd entry. */
static void test_root_resolutions(void **state)
{
	const struct {
		const char *user, *group;
		uid_t uid;
		gid_t gid; /* (gid_t)-1: the "sandbox" group rule */
		size_t n_groups;
		const char *name, *home;
	} cases[] = {
	    {"43210", NULL, 43210, (gid_t)-1, 0, "43210", "/"},
	    {"65534", "1234", 65534, 1234, 0, NULL, NULL},
	    {"nobody", "1234", 65534, 1234, 1, NULL, NULL},
	};
	struct creds c;
	struct error err;

	(void)state;
	assert_null(getpwuid(43210));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct passwd *pw;

		assert_int_equal(resolve(cases[i].user, cases[i].group, 0, 0, &c, &err), 0);
		pw = getpwuid(cases[i].uid);
		assert_true(c.change);
		assert_int_equal(c.uid, cases[i].uid);
		assert_int_equal(c.gid, cases[i].gid == (gid_t)-1 ? sandbox_gid() : cases[i].gid);
		assert_int_equal(c.n_groups, cases[i].n_groups);
		if (c.n_groups)
			assert_true(has_group(&c, c.gid));
		assert_string_equal(c.user, cases[i].name ? cases[i].name : pw->pw_name);
		assert_string_equal(c.home, cases[i].home ? cases[i].home : pw->pw_dir);
		creds_free(&c);
	}
}

static void test_root_sandbox_and_default(void **state)
{
	const char *specs[] = {CREDS_SANDBOX_NAME, NULL};
	struct creds c;
	struct error err;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(resolve(specs[i], NULL, 0, 0, &c, &err), 0);
		assert_true(c.change);
		assert_int_equal(c.uid, sandbox_uid());
		assert_int_not_equal(c.gid, 0);
		if (!getpwnam(CREDS_SANDBOX_NAME)) {
			assert_int_equal(c.gid, sandbox_gid());
			assert_int_equal(c.n_groups, 0);
			assert_string_equal(c.user, getpwuid(CREDS_SANDBOX_ID)->pw_name);
		}
		creds_free(&c);
	}
	assert_int_equal(resolve(NULL, CREDS_SANDBOX_NAME, 0, 0, &c, &err), 0);
	assert_int_equal(c.gid, sandbox_gid());
	creds_free(&c);
}

static void test_root_refuses_uid_and_gid_zero(void **state)
{
	const char *cases[][2] = {
	    {"root", NULL}, {"0", NULL}, {"nobody", "0"}, {"nobody", "root"}, {"43210", "0"},
	};
	struct creds c;
	struct error err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(resolve(cases[i][0], cases[i][1], 0, 0, &c, &err), -EPERM);
		assert_non_null(strstr(err.message, "root"));
		assert_null(c.home);
	}
}

static void test_invalid_and_unknown_ids(void **state)
{
	struct creds c;
	struct error err;

	(void)state;
	assert_int_equal(resolve("4294967295", NULL, 0, 0, &c, &err), -EINVAL);
	assert_non_null(strstr(err.message, "4294967295"));
	assert_int_equal(resolve("4294967296", NULL, 0, 0, &c, &err), -EINVAL);
	assert_int_equal(resolve("99999999999999999999999", NULL, 0, 0, &c, &err), -EINVAL);
	assert_int_equal(resolve("nobody", "4294967295", 0, 0, &c, &err), -EINVAL);
	assert_int_equal(resolve("no-such-user-x1", NULL, 0, 0, &c, &err), -ENOENT);
	assert_non_null(strstr(err.message, "no-such-user-x1"));
	assert_int_equal(resolve("nobody", "no-such-group-x1", 0, 0, &c, &err), -ENOENT);
	assert_int_equal(resolve("-1", NULL, 0, 0, &c, &err), -ENOENT);
	assert_int_equal(resolve("4294967295", NULL, 1000, 1000, &c, &err), -EINVAL);
}

static void test_unprivileged_keeps_the_invoker(void **state)
{
	const char *same[][2] = {
	    {NULL, NULL},	{CREDS_SANDBOX_NAME, CREDS_SANDBOX_NAME},
	    {"43210", "43211"}, {"43210", NULL},
	    {NULL, "43211"},
	};
	struct creds c;
	struct error err;

	(void)state;
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		assert_int_equal(resolve(same[i][0], same[i][1], 43210, 43211, &c, &err), 0);
		assert_false(c.change);
		assert_int_equal(c.uid, 43210);
		assert_int_equal(c.gid, 43211);
		assert_int_equal(c.n_groups, 0);
		assert_string_equal(c.home, "/");
		assert_string_equal(c.user, "43210");
		creds_free(&c);
	}
	assert_int_equal(resolve("nobody", NULL, 65534, 65534, &c, &err), 0);
	assert_string_equal(c.user, "nobody");
	assert_string_equal(c.home, getpwnam("nobody")->pw_dir);
	creds_free(&c);
}

static void test_unprivileged_refuses_another_identity(void **state)
{
	const char *other[][2] = {
	    {"43299", NULL},  {"root", NULL},  {"0", NULL},
	    {"nobody", NULL}, {NULL, "43299"}, {NULL, "root"},
	};
	struct creds c;
	struct error err;

	(void)state;
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		assert_int_equal(resolve(other[i][0], other[i][1], 43210, 43211, &c, &err), -EPERM);
		assert_non_null(strstr(err.message, "needs root"));
		assert_true(strstr(err.message, "id 43210") || strstr(err.message, "id 43211"));
	}
}

static void test_cap_last_cap_is_the_kernels(void **state)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	struct creds c;
	struct error err;
	int last;

	(void)state;
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &last), 1);
	fclose(f);
	assert_int_equal(resolve(NULL, NULL, 43210, 43211, &c, &err), 0);
	assert_int_equal(c.cap_last_cap, last);
	creds_free(&c);
}

static void status_lines_write(int fd, const char *prefix)
{
	char line[512];
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "Uid:", 4) == 0 || strncmp(line, "Gid:", 4) == 0 ||
		    strncmp(line, "Groups:", 7) == 0 || strncmp(line, "Cap", 3) == 0)
			dprintf(fd, "%s%s", prefix, line);
	if (f)
		fclose(f);
}

/* Runs creds_drop in a child, first turned into uid/gid 65534 with the
 * given saved uid unless saved_uid is negative (the child stays root), and
 * after creds_bounding_set_drop when bset_first (its status lines then
 * come first, each prefixed "AHEAD "); returns the child's
 * /proc/self/status lines of interest, or "ERR <message>". */
static char *drop_in_child(const struct creds *c, int saved_uid, bool bset_first)
{
	static char out[8192];
	int fds[2];
	pid_t pid;
	ssize_t n;
	size_t len = 0;
	int status;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct error err = {0};
		gid_t g = 65534;

		close(fds[0]);
		if (saved_uid >= 0 && (setgroups(1, &g) < 0 || setresgid(g, g, g) < 0 ||
				       setresuid(65534, 65534, saved_uid) < 0))
			_exit(3);
		if (bset_first) {
			if (creds_bounding_set_drop(c, &err) < 0) {
				dprintf(fds[1], "ERR %s\n", err.message);
				_exit(1);
			}
			status_lines_write(fds[1], "AHEAD ");
		}
		if (creds_drop(c, &err) < 0) {
			dprintf(fds[1], "ERR %s\n", err.message);
			_exit(1);
		}
		status_lines_write(fds[1], "");
		_exit(0);
	}
	close(fds[1]);
	while ((n = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += n;
	out[len] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return out;
}

static bool status_has(const char *status, const char *line)
{
	return strstr(status, line) != NULL;
}

/* Permitted, effective, inheritable and ambient sets are empty. */
static void assert_caps_clear(const char *status)
{
	const char *sets[] = {"CapInh", "CapPrm", "CapEff", "CapAmb"};
	char line[64];

	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		snprintf(line, sizeof(line), "%s:\t0000000000000000\n", sets[i]);
		assert_true(status_has(status, line));
	}
}

static void test_drop_as_root(void **state)
{
	struct creds c;
	struct error err;
	char *st;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(resolve("nobody", "1234", 0, 0, &c, &err), 0);
	st = drop_in_child(&c, -1, false);
	assert_false(status_has(st, "ERR"));
	assert_true(status_has(st, "Uid:\t65534\t65534\t65534\t65534\n"));
	assert_true(status_has(st, "Gid:\t1234\t1234\t1234\t1234\n"));
	assert_true(status_has(st, "Groups:\t1234 \n"));
	assert_caps_clear(st);
	assert_true(status_has(st, "CapBnd:\t0000000000000000\n"));
	creds_free(&c);
}

/* As PID 1 does for the workload it forks: the bounding set goes first and
 * the caller keeps its own capabilities; creds_drop then completes the
 * drop. */
static void test_bounding_set_dropped_ahead(void **state)
{
	struct creds c;
	struct error err;
	char *st;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(resolve("nobody", "1234", 0, 0, &c, &err), 0);
	st = drop_in_child(&c, -1, true);
	assert_false(status_has(st, "ERR"));
	assert_true(status_has(st, "AHEAD CapBnd:\t0000000000000000\n"));
	assert_false(status_has(st, "AHEAD CapEff:\t0000000000000000\n"));
	assert_true(status_has(st, "AHEAD Uid:\t0\t0\t0\t0\n"));
	assert_true(status_has(st, "\nUid:\t65534\t65534\t65534\t65534\n"));
	assert_true(status_has(st, "\nCapBnd:\t0000000000000000\n"));
	assert_true(status_has(st, "\nCapEff:\t0000000000000000\n"));
	creds_free(&c);
}

static void test_drop_unprivileged(void **state)
{
	struct creds c;
	struct error err;
	char *st;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(resolve(NULL, NULL, 65534, 65534, &c, &err), 0);
	st = drop_in_child(&c, 65534, false);
	assert_false(status_has(st, "ERR"));
	assert_true(status_has(st, "Uid:\t65534\t65534\t65534\t65534\n"));
	assert_caps_clear(st);
	/* Without CAP_SETPCAP the bounding set cannot shrink: left as is. */
	assert_false(status_has(st, "CapBnd:\t0000000000000000\n"));
	creds_free(&c);
}

static void test_drop_refuses_a_saved_root_uid(void **state)
{
	struct creds c;
	struct error err;
	char *st;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(resolve(NULL, NULL, 65534, 65534, &c, &err), 0);
	st = drop_in_child(&c, 0, false);
	assert_true(status_has(st, "ERR uids are 65534/65534/0"));
	creds_free(&c);
}

/* Supplementary groups come from /etc/group's member lists: the primary
 * group first, each gid once, names matched whole. */
static void test_group_list_from_member_lists(void **state)
{
	static const char text[] = "root:x:0:\n"
				   "dev:x:100:alice,bob\n"
				   "ops:x:200:bob\n"
				   "alice-team:x:300:alicex,xalice\n"
				   "again:x:100:alice\n"
				   "own:x:400:alice\n";
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");
	gid_t *groups = NULL;
	size_t n = 0;
	struct error err = {0};

	(void)state;
	assert_non_null(f);
	assert_int_equal(creds_group_list(f, "alice", 400, &groups, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(groups[0], 400);
	assert_int_equal(groups[1], 100);
	fclose(f);
	free(groups);
	groups = NULL;
	n = 0;
	assert_int_equal(creds_group_list(NULL, "carol", 7, &groups, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(groups[0], 7);
	free(groups);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_root_name),
	    cmocka_unit_test(test_root_resolutions),
	    cmocka_unit_test(test_root_sandbox_and_default),
	    cmocka_unit_test(test_root_refuses_uid_and_gid_zero),
	    cmocka_unit_test(test_invalid_and_unknown_ids),
	    cmocka_unit_test(test_unprivileged_keeps_the_invoker),
	    cmocka_unit_test(test_unprivileged_refuses_another_identity),
	    cmocka_unit_test(test_cap_last_cap_is_the_kernels),
	    cmocka_unit_test(test_drop_as_root),
	    cmocka_unit_test(test_bounding_set_dropped_ahead),
	    cmocka_unit_test(test_drop_unprivileged),
	    cmocka_unit_test(test_drop_refuses_a_saved_root_uid),
	    cmocka_unit_test(test_group_list_from_member_lists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
