/* Unit tests of the named sandboxes' state: names, the state directory and
 * its ownership checks, sandbox directories (exclusive creation, locking,
 * removal seen by a waiter), the atomic state file, liveness against pid
 * reuse, and the stored effective policy read back (effective_load). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "gpu-fixtures.h"
#include "policy/effective_load.h"
#include "policy/emit.h"
#include "policy/loader.h"
#include "sandbox/state.h"

#define CHILDREN 16

static char base_dir[] = "/tmp/lockshell-unit-state-XXXXXX";

static int setup_base(void **state)
{
	(void)state;
	return mkdtemp(base_dir) ? 0 : -1;
}

static int teardown_base(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A fresh state directory (through LOCKSHELL_STATE_DIR); its fd. */
static int fresh_state_dir(const char *leaf)
{
	_cleanup_free_ char *path = NULL;
	char dir[256];
	struct error err = {0};
	int fd = -1;

	snprintf(dir, sizeof(dir), "%s/%s", base_dir, leaf);
	setenv(STATE_DIR_ENV, dir, 1);
	if (state_dir_open(&path, &fd, &err) < 0)
		fail_msg("state_dir_open: %s", err.message);
	assert_string_equal(path, dir);
	return fd;
}

static json_t *small_state(const char *value)
{
	return json_pack("{s:s, s:i}", "marker", value, "n", 1);
}

static size_t entries(int dir_fd)
{
	DIR *dir = fdopendir(fcntl(dir_fd, F_DUPFD_CLOEXEC, 0));
	struct dirent *de;
	size_t n = 0;

	assert_non_null(dir);
	rewinddir(dir);
	while ((de = readdir(dir)))
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(dir);
	return n;
}

/* --- names --------------------------------------------------------------- */

static void test_names_valid(void **state)
{
	char longest[SANDBOX_NAME_MAX + 1];

	(void)state;
	memset(longest, 'a', SANDBOX_NAME_MAX);
	longest[SANDBOX_NAME_MAX] = '\0';
	assert_true(sandbox_name_valid("a"));
	assert_true(sandbox_name_valid("0box"));
	assert_true(sandbox_name_valid("gpu-test_1.2"));
	assert_true(sandbox_name_valid(longest));
}

static void test_names_invalid(void **state)
{
	const char *bad[] = {"",  "-a",	 ".a",	"_a",	       "a/b", "..",
			     ".", "a b", "a\n", "caf\xc3\xa9", "a:b"};
	char too_long[SANDBOX_NAME_MAX + 2];
	struct error err = {0};

	(void)state;
	memset(too_long, 'a', SANDBOX_NAME_MAX + 1);
	too_long[SANDBOX_NAME_MAX + 1] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (sandbox_name_valid(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
	assert_false(sandbox_name_valid(too_long));
	assert_false(sandbox_name_valid(NULL));
	assert_int_equal(sandbox_name_check("a/b", &err), -EINVAL);
	assert_non_null(strstr(err.message, "'a/b'"));
}

static void test_names_generated(void **state)
{
	char first[SANDBOX_NAME_MAX + 1], name[SANDBOX_NAME_MAX + 1];
	struct error err = {0};
	bool differs = false;

	(void)state;
	assert_int_equal(sandbox_name_generate(first, &err), 0);
	assert_true(sandbox_name_valid(first));
	for (int i = 0; i < 20; i++) {
		assert_int_equal(sandbox_name_generate(name, &err), 0);
		assert_true(sandbox_name_valid(name));
		differs = differs || strcmp(name, first) != 0;
	}
	assert_true(differs);
}

/* --- the state directory ------------------------------------------------------- */

static void test_state_dir_created_private(void **state)
{
	_cleanup_close_ int fd = fresh_state_dir("private");
	struct stat st;

	(void)state;
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_uid, geteuid());
}

static void expect_refused(const char *dir, const char *needle)
{
	_cleanup_free_ char *path = NULL;
	struct error err = {0};
	int fd = -1;

	setenv(STATE_DIR_ENV, dir, 1);
	assert_int_equal(state_dir_open(&path, &fd, &err), -EPERM);
	assert_int_equal(fd, -1);
	if (!strstr(err.message, needle) || !strstr(err.message, dir))
		fail_msg("unexpected message: %s", err.message);
}

static void test_state_dir_refuses_writable_by_others(void **state)
{
	char dir[256];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/shared", base_dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	expect_refused(dir, "writable by other users");
}

static void test_state_dir_refuses_other_owner(void **state)
{
	char dir[256];

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	snprintf(dir, sizeof(dir), "%s/foreign", base_dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chown(dir, 65534, 65534), 0);
	expect_refused(dir, "belongs to uid 65534");
}

/* As an ordinary user without XDG_RUNTIME_DIR: /tmp/lockshell-UID, 0700. */
static void test_state_dir_fallback_for_users(void **state)
{
	const uid_t uid = 64999;
	char expected[64];
	struct stat st;
	pid_t pid;
	int status;

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	snprintf(expected, sizeof(expected), "/tmp/lockshell-%u", (unsigned)uid);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		_cleanup_free_ char *path = NULL;
		struct error err = {0};
		int fd;

		unsetenv(STATE_DIR_ENV);
		unsetenv("XDG_RUNTIME_DIR");
		if (setgid(uid) < 0 || setuid(uid) < 0)
			_exit(2);
		if (state_dir_open(&path, &fd, &err) < 0)
			_exit(3);
		_exit(strcmp(path, expected) == 0 ? 0 : 4);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(lstat(expected, &st), 0);
	assert_int_equal(st.st_uid, uid);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(rmdir(expected), 0);
}

/* --- sandbox directories and the state file ------------------------------------------ */

static void test_dir_create_write_read_remove(void **state)
{
	_cleanup_close_ int state_fd = fresh_state_dir("lifecycle");
	struct sandbox_dir d = SANDBOX_DIR_INIT, again = SANDBOX_DIR_INIT;
	struct error err = {0};
	json_t *doc = small_state("first"), *read = NULL;

	(void)state;
	assert_int_equal(sandbox_dir_create(state_fd, "box", doc, &d, &err), 0);
	assert_int_equal(state_read(&d, &read, &err), 0);
	assert_true(json_equal(doc, read));
	json_decref(read);
	json_decref(doc);
	doc = small_state("second");
	assert_int_equal(state_write(&d, doc, &err), 0);
	assert_int_equal(state_read(&d, &read, &err), 0);
	assert_true(json_equal(doc, read));
	assert_int_equal(faccessat(d.dir_fd, STATE_FILE ".tmp", F_OK, 0), -1);
	assert_int_equal(entries(state_fd), 1);
	assert_int_equal(sandbox_dir_remove(state_fd, &d, &err), 0);
	sandbox_dir_close(&d);
	assert_int_equal(entries(state_fd), 0);
	assert_int_equal(sandbox_dir_open(state_fd, "box", LOCK_SH, &again, &err), -ENOENT);
	assert_non_null(strstr(err.message, "no sandbox named 'box'"));
	json_decref(read);
	json_decref(doc);
}

static void test_dir_create_existing_name(void **state)
{
	_cleanup_close_ int state_fd = fresh_state_dir("existing");
	struct sandbox_dir d = SANDBOX_DIR_INIT, second = SANDBOX_DIR_INIT;
	struct error err = {0};
	json_t *doc = small_state("x");

	(void)state;
	assert_int_equal(sandbox_dir_create(state_fd, "twice", doc, &d, &err), 0);
	assert_int_equal(sandbox_dir_create(state_fd, "twice", doc, &second, &err), -EEXIST);
	assert_non_null(strstr(err.message, "'twice' already exists"));
	assert_int_equal(second.dir_fd, -1);
	/* the loser left nothing behind, not even its temporary directory */
	assert_int_equal(entries(state_fd), 1);
	assert_int_equal(sandbox_dir_create(state_fd, "../escape", doc, &second, &err), -EINVAL);
	assert_int_equal(sandbox_dir_remove(state_fd, &d, &err), 0);
	sandbox_dir_close(&d);
	json_decref(doc);
}

/* CHILDREN processes create one name at once: exactly one wins. */
static void test_dir_create_concurrent(void **state)
{
	_cleanup_close_ int state_fd = fresh_state_dir("race");
	int start[2], winners = 0, losers = 0;
	pid_t pids[CHILDREN];

	(void)state;
	assert_int_equal(pipe(start), 0);
	for (int i = 0; i < CHILDREN; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct sandbox_dir d = SANDBOX_DIR_INIT;
			struct error err = {0};
			json_t *doc;
			char c;
			int r;

			close(start[1]);
			if (read(start[0], &c, 1) != 0)
				_exit(3);
			doc = small_state("c");
			r = sandbox_dir_create(state_fd, "contested", doc, &d, &err);
			json_decref(doc);
			sandbox_dir_close(&d);
			_exit(r == 0 ? 0 : r == -EEXIST ? 1 : 2);
		}
	}
	close(start[0]);
	close(start[1]);
	for (int i = 0; i < CHILDREN; i++) {
		int status;

		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		winners += WEXITSTATUS(status) == 0;
		losers += WEXITSTATUS(status) == 1;
	}
	assert_int_equal(winners, 1);
	assert_int_equal(losers, CHILDREN - 1);
	assert_int_equal(entries(state_fd), 1);
}

/* A process waiting for the lock of a sandbox that is then removed gets
 * -ENOENT, not a lock on the removed files. */
static void test_lock_waiter_sees_removal(void **state)
{
	_cleanup_close_ int state_fd = fresh_state_dir("waiter");
	json_auto_t *doc = small_state("b");
	struct sandbox_dir d = SANDBOX_DIR_INIT;
	struct error err = {0};
	int ready[2], status;
	pid_t pid;
	char c;

	(void)state;
	assert_int_equal(sandbox_dir_create(state_fd, "busy", doc, &d, &err), 0);
	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sandbox_dir w = SANDBOX_DIR_INIT;
		struct error werr = {0};
		int lock_nb;

		close(ready[0]);
		sandbox_dir_close(&d); /* the parent's lock, shared through fork */
		/* the lock is taken: a non-blocking attempt must fail */
		lock_nb = openat(state_fd, "busy/lock", O_RDWR | O_CLOEXEC);
		if (lock_nb < 0 || flock(lock_nb, LOCK_EX | LOCK_NB) == 0)
			_exit(4);
		close(lock_nb);
		(void)!write(ready[1], "r", 1);
		_exit(sandbox_dir_open(state_fd, "busy", LOCK_EX, &w, &werr) == -ENOENT ? 0 : 1);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	usleep(100 * 1000); /* the child is now blocked in flock */
	assert_int_equal(sandbox_dir_remove(state_fd, &d, &err), 0);
	sandbox_dir_close(&d);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_shared_locks_coexist(void **state)
{
	_cleanup_close_ int state_fd = fresh_state_dir("shared-locks");
	json_auto_t *doc = small_state("s");
	struct sandbox_dir d = SANDBOX_DIR_INIT, r1 = SANDBOX_DIR_INIT, r2 = SANDBOX_DIR_INIT;
	struct error err = {0};

	(void)state;
	assert_int_equal(sandbox_dir_create(state_fd, "s", doc, &d, &err), 0);
	sandbox_dir_unlock(&d);
	assert_int_equal(sandbox_dir_open(state_fd, "s", LOCK_SH, &r1, &err), 0);
	assert_int_equal(sandbox_dir_open(state_fd, "s", LOCK_SH, &r2, &err), 0);
	assert_int_equal(flock(d.lock_fd, LOCK_EX | LOCK_NB), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	sandbox_dir_close(&r1);
	sandbox_dir_close(&r2);
	assert_int_equal(sandbox_dir_lock(&d, LOCK_EX, &err), 0);
	assert_int_equal(sandbox_dir_remove(state_fd, &d, &err), 0);
	sandbox_dir_close(&d);
}

/* --- liveness ------------------------------------------------------------------- */

static void test_liveness_self_and_reuse(void **state)
{
	uint64_t start;

	(void)state;
	assert_int_equal(process_start_time(getpid(), &start), 0);
	assert_true(process_matches(getpid(), start));
	/* the same pid with another start time is another process */
	assert_false(process_matches(getpid(), start + 1));
	assert_false(process_matches(0, start));
}

static void test_liveness_zombie_and_reaped(void **state)
{
	uint64_t start;
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitid(P_PID, pid, NULL, WEXITED | WNOWAIT), 0);
	/* a zombie still has its start time but is not alive */
	assert_int_equal(process_start_time(pid, &start), 0);
	assert_false(process_matches(pid, start));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(process_start_time(pid, &start), -ESRCH);
	assert_false(process_matches(pid, start));
}

/* --- the stored effective policy ------------------------------------------------------ */

static const char stored_policy[] = "version: 1\n"
				    "filesystem_policy:\n"
				    "  include_workdir: true\n"
				    "  read_only: [/usr, /lib, /etc, /proc]\n"
				    "  read_write: [/dev/null, /dev/nvidia1]\n"
				    "landlock:\n"
				    "  compatibility: hard_requirement\n"
				    "process:\n"
				    "  run_as_user: sandbox\n";

static void load_policy(struct policy *p)
{
	struct diagnostics d = {0};

	assert_int_equal(
	    policy_load_buffer("stored.yaml", stored_policy, strlen(stored_policy), p, &d), 0);
	diag_free(&d);
}

static json_t *stored_effective(struct policy *policy, struct effective *eff,
				const struct gpu_selection *gpu)
{
	struct fixture f;
	struct effective_request req = {.workdir = "/work/project",
					.gpu = *gpu,
					.network_set = true,
					.network = NETWORK_NONE,
					.isolate = true,
					.hostname = "box"};
	struct error err = {0};
	json_t *doc;

	fixture_init(&f);
	fixture_nvidia_host(&f, 2);
	load_policy(policy);
	if (effective_build(policy, &req, &f.host, eff, &err) < 0)
		fail_msg("effective_build: %s", err.message);
	fixture_free(&f);
	doc = effective_to_json(eff);
	assert_non_null(doc);
	return doc;
}

static void assert_same_lists(const struct effective_path_list *a,
			      const struct effective_path_list *b)
{
	assert_int_equal(a->len, b->len);
	for (size_t i = 0; i < a->len; i++) {
		assert_string_equal(a->items[i].path, b->items[i].path);
		assert_int_equal(a->items[i].source, b->items[i].source);
		if (a->items[i].is_device != b->items[i].is_device)
			fail_msg("%s: is_device differs", a->items[i].path);
	}
}

static void round_trip(const struct gpu_selection *gpu)
{
	struct policy policy = {0}, reloaded = {0};
	struct effective eff = {0}, back = {0};
	struct error err = {0};
	json_t *doc = stored_effective(&policy, &eff, gpu);
	json_t *policy_doc = policy_to_json(&policy);
	json_t *again;

	assert_int_equal(policy_from_json(policy_doc, "stored.yaml", &reloaded, &err), 0);
	assert_true(policy_equal(&policy, &reloaded));
	assert_int_equal(effective_from_json(doc, &reloaded, &back, &err), 0);
	again = effective_to_json(&back);
	if (!json_equal(doc, again))
		fail_msg("effective policy changed in the round trip:\n%s\n%s",
			 json_dumps(doc, JSON_COMPACT), json_dumps(again, JSON_COMPACT));
	assert_same_lists(&eff.read_only, &back.read_only);
	assert_same_lists(&eff.read_write, &back.read_write);
	assert_string_equal(eff.workdir, back.workdir);
	assert_int_equal(back.compat, COMPAT_HARD_REQUIREMENT);
	assert_ptr_equal(back.policy, &reloaded);
	json_decref(again);
	json_decref(doc);
	json_decref(policy_doc);
	effective_free(&back);
	effective_free(&eff);
	policy_free(&reloaded);
	policy_free(&policy);
}

static void test_effective_round_trip_without_gpu(void **state)
{
	const struct gpu_selection none = {0};

	(void)state;
	round_trip(&none);
}

static void test_effective_round_trip_gpu_all(void **state)
{
	const struct gpu_selection all = {.requested = true, .all = true};

	(void)state;
	round_trip(&all);
}

static void test_effective_round_trip_gpu_selection(void **state)
{
	const struct gpu_selection first = {.requested = true, .indices = {0}, .n_indices = 1};

	(void)state;
	round_trip(&first);
}

/* The runtime addition comes back with its rights and reason. */
static void test_effective_addition_restored(void **state)
{
	const struct gpu_selection all = {.requested = true, .all = true};
	struct policy policy = {0};
	struct effective eff = {0}, back = {0};
	struct error err = {0};
	json_t *doc = stored_effective(&policy, &eff, &all);

	(void)state;
	assert_int_equal(effective_from_json(doc, &policy, &back, &err), 0);
	assert_int_equal(back.n_additions, 1);
	assert_string_equal(back.additions[0].path, "/proc");
	assert_int_equal(back.additions[0].access, ACCESS_WRITE_FILE | ACCESS_TRUNCATE);
	assert_string_equal(back.additions[0].reason, eff.additions[0].reason);
	assert_true(back.gpu.requested && back.gpu.all);
	assert_int_equal(back.network, NETWORK_NONE);
	assert_int_equal(back.landlock_abi, 7);
	assert_true(back.isolation.enabled && back.isolation.private_tmp);
	assert_string_equal(back.isolation.hostname, "box");
	json_decref(doc);
	effective_free(&back);
	effective_free(&eff);
	policy_free(&policy);
}

static void expect_malformed(json_t *doc, const struct policy *policy, const char *key)
{
	struct effective back = {0};
	struct error err = {0};

	assert_int_equal(effective_from_json(doc, policy, &back, &err), -EINVAL);
	if (!strstr(err.message, key))
		fail_msg("expected '%s' in: %s", key, err.message);
}

static void test_effective_malformed(void **state)
{
	const struct gpu_selection none = {0};
	struct policy policy = {0};
	struct effective eff = {0};
	json_t *doc = stored_effective(&policy, &eff, &none);

	(void)state;
	json_object_set_new(json_object_get(doc, "network"), "mode", json_string("wide"));
	expect_malformed(doc, &policy, "network.mode");
	json_object_set_new(json_object_get(doc, "network"), "mode", json_string("none"));
	json_object_set_new(
	    doc, "runtime_additions",
	    json_pack("[{s:s, s:[s], s:s}]", "path", "/proc", "access", "fly", "reason", "r"));
	expect_malformed(doc, &policy, "runtime_additions");
	json_object_set_new(doc, "runtime_additions", json_array());
	json_object_set_new(json_object_get(doc, "filesystem_policy"), "read_write",
			    json_pack("[i]", 3));
	expect_malformed(doc, &policy, "read_write");
	json_object_del(doc, "landlock");
	expect_malformed(doc, &policy, "landlock.abi");
	json_decref(doc);
	effective_free(&eff);
	policy_free(&policy);
}

static void test_stored_policy_invalid(void **state)
{
	json_t *doc = json_pack("{s:i, s:{s:[s]}}", "version", 1, "filesystem_policy", "read_only",
				"relative/path");
	struct policy p = {0};
	struct error err = {0};

	(void)state;
	assert_int_equal(policy_from_json(doc, "stored", &p, &err), -EINVAL);
	assert_non_null(strstr(err.message, "stored policy stored is invalid"));
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_valid),
	    cmocka_unit_test(test_names_invalid),
	    cmocka_unit_test(test_names_generated),
	    cmocka_unit_test(test_state_dir_created_private),
	    cmocka_unit_test(test_state_dir_refuses_writable_by_others),
	    cmocka_unit_test(test_state_dir_refuses_other_owner),
	    cmocka_unit_test(test_state_dir_fallback_for_users),
	    cmocka_unit_test(test_dir_create_write_read_remove),
	    cmocka_unit_test(test_dir_create_existing_name),
	    cmocka_unit_test(test_dir_create_concurrent),
	    cmocka_unit_test(test_lock_waiter_sees_removal),
	    cmocka_unit_test(test_shared_locks_coexist),
	    cmocka_unit_test(test_liveness_self_and_reuse),
	    cmocka_unit_test(test_liveness_zombie_and_reaped),
	    cmocka_unit_test(test_effective_round_trip_without_gpu),
	    cmocka_unit_test(test_effective_round_trip_gpu_all),
	    cmocka_unit_test(test_effective_round_trip_gpu_selection),
	    cmocka_unit_test(test_effective_addition_restored),
	    cmocka_unit_test(test_effective_malformed),
	    cmocka_unit_test(test_stored_policy_invalid),
	};

	return cmocka_run_group_tests(tests, setup_base, teardown_base);
}
