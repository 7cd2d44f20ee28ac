/* Landlock: the rights table (class x file type x ABI), the rights each ABI
 * handles, and rulesets enforced on the real kernel in a forked child whose
 * errno for each operation is checked inside and outside the listed paths. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <grp.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/log.h"
#include "enforce/landlock.h"

#define R_X  ACCESS_EXECUTE
#define R_WF ACCESS_WRITE_FILE
#define R_RF ACCESS_READ_FILE
#define R_RD ACCESS_READ_DIR
#define R_TR ACCESS_TRUNCATE
#define R_IO ACCESS_IOCTL_DEV

static const uint64_t handled_by_abi[] = {0,	  0x1fff, 0x3fff, 0x7fff,
					  0x7fff, 0xffff, 0xffff, 0xffff};

static void test_access_handled_by_abi(void **state)
{
	(void)state;
	for (int abi = 0; abi <= 7; abi++)
		assert_int_equal(access_handled_by_abi(abi), handled_by_abi[abi]);
	assert_int_equal(access_handled_by_abi(-1), 0);
	assert_int_equal(access_handled_by_abi(8), 0xffff);
	assert_true(access_handled_by_abi(2) & ACCESS_REFER);
	assert_false(access_handled_by_abi(1) & ACCESS_REFER);
	assert_true(access_handled_by_abi(3) & ACCESS_TRUNCATE);
	assert_false(access_handled_by_abi(2) & ACCESS_TRUNCATE);
	assert_true(access_handled_by_abi(5) & ACCESS_IOCTL_DEV);
	assert_false(access_handled_by_abi(4) & ACCESS_IOCTL_DEV);
}

struct rights_case {
	bool read_write;
	mode_t type;
	uint64_t expected; /* at ABI 7; masked by each ABI's handled rights */
};

static const struct rights_case rights_cases[] = {
    {false, S_IFDIR, R_X | R_RF | R_RD},
    {false, S_IFREG, R_X | R_RF},
    {false, S_IFCHR, R_X | R_RF},
    {false, S_IFBLK, R_X | R_RF},
    {false, S_IFIFO, R_X | R_RF},
    {false, S_IFSOCK, R_X | R_RF},
    {true, S_IFDIR, 0xffff},
    {true, S_IFREG, R_X | R_RF | R_WF | R_TR},
    {true, S_IFCHR, R_X | R_RF | R_WF | R_TR | R_IO},
    {true, S_IFBLK, R_X | R_RF | R_WF | R_TR | R_IO},
    {true, S_IFIFO, R_X | R_RF | R_WF | R_TR},
    {true, S_IFSOCK, R_X | R_RF | R_WF | R_TR},
};

static void test_rights_for_every_class_type_abi(void **state)
{
	(void)state;
	for (int abi = 1; abi <= 7; abi++)
		for (size_t i = 0; i < sizeof(rights_cases) / sizeof(rights_cases[0]); i++) {
			const struct rights_case *c = &rights_cases[i];
			uint64_t got = landlock_rights_for(c->read_write, c->type | 0644,
							   access_handled_by_abi(abi));
			if (got != (c->expected & handled_by_abi[abi]))
				fail_msg("ABI %d, %s, type 0%o: 0x%llx, expected 0x%llx", abi,
					 c->read_write ? "read_write" : "read_only", c->type,
					 (unsigned long long)got,
					 (unsigned long long)(c->expected & handled_by_abi[abi]));
		}
}

static void test_rights_for_spot_checks(void **state)
{
	(void)state;
	/* ABI 1: no refer, truncate or ioctl_dev anywhere. */
	assert_int_equal(landlock_rights_for(true, S_IFDIR, access_handled_by_abi(1)), 0x1fff);
	assert_int_equal(landlock_rights_for(true, S_IFCHR, access_handled_by_abi(2)),
			 R_X | R_RF | R_WF);
	assert_int_equal(landlock_rights_for(true, S_IFCHR, access_handled_by_abi(4)),
			 R_X | R_RF | R_WF | R_TR);
	/* A read_only device gets no ioctl right, so its ioctls are refused. */
	assert_false(landlock_rights_for(false, S_IFCHR, ACCESS_ALL) & R_IO);
	assert_int_equal(landlock_rights_for(true, S_IFREG, 0), 0);
}

/* The tree each kernel test works in. */
struct tree {
	char base[64];
	char ro[96], rw[96], rw2[96], out[96], missing[96], link[96];
};

/* dir/name into buf; fails the test rather than truncate. */
static void path_join(char *buf, size_t size, const char *dir, const char *name)
{
	int n = snprintf(buf, size, "%s%s%s", dir, name ? "/" : "", name ? name : "");

	assert_true(n >= 0 && (size_t)n < size);
}

static void write_file(const char *dir, const char *name)
{
	char path[160];
	int fd;

	path_join(path, sizeof(path), dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "data", 4), 4);
	close(fd);
}

static void make_dir(const char *path)
{
	assert_int_equal(mkdir(path, 0755), 0);
}

static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	char target[160];

	snprintf(t->base, sizeof(t->base), "/tmp/lockshell-landlock-XXXXXX");
	if (!mkdtemp(t->base))
		return -1;
	chmod(t->base, 0755);
	path_join(t->ro, sizeof(t->ro), t->base, "ro");
	path_join(t->rw, sizeof(t->rw), t->base, "rw");
	path_join(t->rw2, sizeof(t->rw2), t->base, "rw2");
	path_join(t->out, sizeof(t->out), t->base, "out");
	path_join(t->missing, sizeof(t->missing), t->base, "missing");
	path_join(t->link, sizeof(t->link), t->base, "link-to-out-f");
	make_dir(t->ro);
	make_dir(t->rw);
	make_dir(t->rw2);
	make_dir(t->out);
	path_join(target, sizeof(target), t->rw, "sub");
	make_dir(target);
	for (const char *const *n = (const char *const[]){"f", "g", "h", "i", "j", "k", NULL}; *n;
	     n++)
		write_file(t->rw, *n);
	write_file(t->ro, "f");
	write_file(t->out, "f");
	write_file(t->out, "g");
	path_join(target, sizeof(target), t->out, "f");
	assert_int_equal(symlink(target, t->link), 0);
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->base);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

/* A hand-built effective policy: up to four entries per list. */
struct fake_effective {
	struct effective eff;
	struct effective_path ro[4], rw[4];
	struct runtime_addition additions[2];
};

static struct effective *fake_effective(struct fake_effective *f, enum landlock_compat compat,
					const char *const *ro, const char *const *rw)
{
	memset(f, 0, sizeof(*f));
	f->eff.compat = compat;
	f->eff.read_only.items = f->ro;
	f->eff.read_write.items = f->rw;
	f->eff.additions = f->additions;
	for (; ro && *ro; ro++)
		f->ro[f->eff.read_only.len++] = (struct effective_path){.path = (char *)*ro};
	for (; rw && *rw; rw++)
		f->rw[f->eff.read_write.len++] = (struct effective_path){.path = (char *)*rw};
	return &f->eff;
}

static void fake_addition(struct fake_effective *f, const char *path, uint64_t access)
{
	f->additions[f->eff.n_additions++] = (struct runtime_addition){
	    .path = (char *)path,
	    .access = access,
	    .reason = (char *)"test",
	};
}

static struct host host_with_abi(int abi)
{
	return (struct host){.landlock_abi = abi, .landlock_status = LANDLOCK_AVAILABLE};
}

/* Operations run inside the sandbox; each returns 0 or the errno seen. */
static int op_open(const char *dir, const char *name, int flags)
{
	char path[160];
	int fd;

	path_join(path, sizeof(path), dir, name);
	fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int op_path(int (*fn)(const char *), const char *dir, const char *name)
{
	char path[160];

	path_join(path, sizeof(path), dir, name);
	return fn(path) < 0 ? errno : 0;
}

static int do_mkdir(const char *p)
{
	return mkdir(p, 0755);
}

static int do_truncate(const char *p)
{
	return truncate(p, 0);
}

static int op_rename(const char *from_dir, const char *name, const char *to_dir)
{
	char from[160], to[160];

	path_join(from, sizeof(from), from_dir, name);
	path_join(to, sizeof(to), to_dir, name);
	return rename(from, to) < 0 ? errno : 0;
}

static int op_ioctl(const char *dev, int flags)
{
	struct termios tio;
	int fd = open(dev, flags | O_CLOEXEC), r;

	if (fd < 0)
		return errno;
	r = ioctl(fd, TCGETS, &tio) < 0 ? errno : 0;
	close(fd);
	return r;
}

static socklen_t abstract_address(struct sockaddr_un *sa, const char *name)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "%s", name);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
}

static int abstract_listen(const char *name)
{
	struct sockaddr_un sa;
	socklen_t len = abstract_address(&sa, name);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 4) < 0)
		return -1;
	return fd;
}

static int op_abstract_connect(const char *name)
{
	struct sockaddr_un sa;
	socklen_t len = abstract_address(&sa, name);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return errno;
	r = connect(fd, (struct sockaddr *)&sa, len) < 0 ? errno : 0;
	close(fd);
	return r;
}

#define MAX_RESULTS 64

typedef void (*sandbox_body)(const struct tree *t, int *results);

/* Prepares in the parent (as lockshell does before fork), enforces in the
 * child after no_new_privs, runs body there and returns its errnos. */
static void run_sandboxed(const struct tree *t, const struct effective *eff,
			  const struct host *host, sandbox_body body, int *results)
{
	struct landlock_ruleset *rs = NULL;
	struct error err = {0};
	int pipefd[2], status;
	pid_t pid;

	if (landlock_prepare(eff, host, &rs, &err) < 0)
		fail_msg("landlock_prepare: %s", err.message);
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int out[MAX_RESULTS];
		for (int i = 0; i < MAX_RESULTS; i++)
			out[i] = -1;
		close(pipefd[0]);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || landlock_enforce(rs, &err) < 0)
			_exit(3);
		body(t, out);
		_exit(write(pipefd[1], out, sizeof(out)) == sizeof(out) ? 0 : 4);
	}
	close(pipefd[1]);
	assert_int_equal(read(pipefd[0], results, MAX_RESULTS * sizeof(int)),
			 MAX_RESULTS * sizeof(int));
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	landlock_ruleset_free(rs);
}

static void expect(const int *results, const int *expected, const char *const *names, size_t n)
{
	int bad = 0;

	for (size_t i = 0; i < n; i++)
		if (results[i] != expected[i]) {
			print_error("%s: errno %d (%s), expected %d (%s)\n", names[i], results[i],
				    strerror(results[i]), expected[i], strerror(expected[i]));
			bad++;
		}
	assert_int_equal(bad, 0);
}

static char listener_name[64];

/* ABI 7, both classes, devices and scoping. */
static const char *const full_names[] = {
    "read ro/f",
    "write ro/f",
    "list ro",
    "mkdir ro/new",
    "unlink ro/f",
    "truncate ro/f",
    "write rw/f",
    "O_TRUNC rw/f",
    "mkdir rw/new",
    "unlink rw/g",
    "truncate rw/f",
    "rename rw/h -> rw/sub",
    "rename rw/i -> rw2",
    "rename rw/j -> out",
    "rename rw/k -> ro",
    "read out/f",
    "list out",
    "mkdir out/new",
    "write out/f",
    "write /dev/zero (ro)",
    "ioctl /dev/zero (ro)",
    "ioctl /dev/null (rw)",
    "signal outside",
    "signal self",
    "abstract outside",
    "abstract inside",
};
static const int full_expected[] = {
    0,	    EACCES, 0,	    EACCES, EACCES, EACCES, 0,	    0,	    0,	    0,	   0, 0,     0,
    EACCES, EACCES, EACCES, EACCES, EACCES, EACCES, EACCES, EACCES, ENOTTY, EPERM, 0, EPERM, 0,
};

static void full_body(const struct tree *t, int *r)
{
	char sub[160];
	int own;

	path_join(sub, sizeof(sub), t->rw, "sub");
	*r++ = op_open(t->ro, "f", O_RDONLY);
	*r++ = op_open(t->ro, "f", O_WRONLY);
	*r++ = op_open(t->ro, NULL, O_RDONLY | O_DIRECTORY);
	*r++ = op_path(do_mkdir, t->ro, "new");
	*r++ = op_path(unlink, t->ro, "f");
	*r++ = op_path(do_truncate, t->ro, "f");
	*r++ = op_open(t->rw, "f", O_WRONLY);
	*r++ = op_open(t->rw, "f", O_WRONLY | O_TRUNC);
	*r++ = op_path(do_mkdir, t->rw, "new");
	*r++ = op_path(unlink, t->rw, "g");
	*r++ = op_path(do_truncate, t->rw, "f");
	*r++ = op_rename(t->rw, "h", sub);
	*r++ = op_rename(t->rw, "i", t->rw2);
	*r++ = op_rename(t->rw, "j", t->out);
	*r++ = op_rename(t->rw, "k", t->ro);
	*r++ = op_open(t->out, "f", O_RDONLY);
	*r++ = op_open(t->out, NULL, O_RDONLY | O_DIRECTORY);
	*r++ = op_path(do_mkdir, t->out, "new");
	*r++ = op_open(t->out, "f", O_WRONLY);
	*r++ = op_open("/dev/zero", NULL, O_WRONLY);
	*r++ = op_ioctl("/dev/zero", O_RDONLY);
	*r++ = op_ioctl("/dev/null", O_RDWR);
	*r++ = kill(getppid(), 0) < 0 ? errno : 0;
	*r++ = kill(getpid(), 0) < 0 ? errno : 0;
	*r++ = op_abstract_connect(listener_name);
	own = abstract_listen("lockshell-test-inside");
	*r++ = own < 0 ? errno : op_abstract_connect("lockshell-test-inside");
}

static void test_enforce_abi7(void **state)
{
	const struct tree *t = *state;
	const char *const ro[] = {t->ro, "/dev/zero", NULL};
	const char *const rw[] = {t->rw, t->rw2, "/dev/null", NULL};
	struct fake_effective f;
	struct host host = host_with_abi(7);
	int results[MAX_RESULTS], listener;

	snprintf(listener_name, sizeof(listener_name), "lockshell-test-%d", (int)getpid());
	listener = abstract_listen(listener_name);
	assert_true(listener >= 0);
	run_sandboxed(t, fake_effective(&f, COMPAT_HARD_REQUIREMENT, ro, rw), &host, full_body,
		      results);
	close(listener);
	assert_int_equal(sizeof(full_names) / sizeof(full_names[0]),
			 sizeof(full_expected) / sizeof(full_expected[0]));
	expect(results, full_expected, full_names, sizeof(full_expected) / sizeof(int));
}

/* ABI 2: truncate, ioctl_dev and scoping are not handled, so allowed. */
static const char *const abi2_names[] = {
    "truncate ro/f", "truncate out/f", "ioctl /dev/zero (ro)", "signal outside",
    "write ro/f",    "read out/g",     "rename rw/h -> rw2",
};
static const int abi2_expected[] = {0, 0, ENOTTY, 0, EACCES, EACCES, 0};

static void abi2_body(const struct tree *t, int *r)
{
	*r++ = op_path(do_truncate, t->ro, "f");
	*r++ = op_path(do_truncate, t->out, "f");
	*r++ = op_ioctl("/dev/zero", O_RDONLY);
	*r++ = kill(getppid(), 0) < 0 ? errno : 0;
	*r++ = op_open(t->ro, "f", O_WRONLY);
	*r++ = op_open(t->out, "g", O_RDONLY);
	*r++ = op_rename(t->rw, "h", t->rw2);
}

static void test_enforce_abi2_best_effort(void **state)
{
	const struct tree *t = *state;
	const char *const ro[] = {t->ro, "/dev/zero", NULL};
	const char *const rw[] = {t->rw, t->rw2, NULL};
	struct fake_effective f;
	struct host host = host_with_abi(2);
	struct landlock_ruleset *rs = NULL;
	struct error err = {0};
	int results[MAX_RESULTS];

	fake_effective(&f, COMPAT_BEST_EFFORT, ro, rw);
	assert_int_equal(landlock_prepare(&f.eff, &host, &rs, &err), 0);
	assert_int_equal(landlock_ruleset_abi(rs), 2);
	assert_int_equal(landlock_ruleset_dropped(rs), R_TR | R_IO);
	landlock_ruleset_free(rs);
	run_sandboxed(t, &f.eff, &host, abi2_body, results);
	expect(results, abi2_expected, abi2_names, sizeof(abi2_expected) / sizeof(int));
}

static void test_hard_requirement_names_missing_abi(void **state)
{
	const struct tree *t = *state;
	const char *const ro[] = {t->ro, NULL};
	const char *const rw[] = {t->rw, NULL};
	const char *const rw_file[] = {t->link, NULL};
	struct fake_effective f;
	struct host abi2 = host_with_abi(2), abi3 = host_with_abi(3);
	struct landlock_ruleset *rs = NULL;
	struct error err = {0};

	/* A read_write directory wants ioctl_dev (ABI 5) and truncate (ABI 3). */
	fake_effective(&f, COMPAT_HARD_REQUIREMENT, ro, rw);
	assert_true(landlock_prepare(&f.eff, &abi2, &rs, &err) < 0);
	assert_null(rs);
	assert_non_null(strstr(err.message, "Landlock ABI 5 is required"));
	assert_non_null(strstr(err.message, "offers ABI 2"));
	assert_non_null(strstr(err.message, t->rw));
	/* Read-only entries need nothing beyond ABI 1. */
	fake_effective(&f, COMPAT_HARD_REQUIREMENT, ro, NULL);
	assert_int_equal(landlock_prepare(&f.eff, &abi2, &rs, &err), 0);
	landlock_ruleset_free(rs);
	/* A read_write file needs truncate: ABI 3 suffices, ABI 2 does not. */
	fake_effective(&f, COMPAT_HARD_REQUIREMENT, NULL, rw_file);
	assert_int_equal(landlock_prepare(&f.eff, &abi3, &rs, &err), 0);
	landlock_ruleset_free(rs);
	assert_true(landlock_prepare(&f.eff, &abi2, &rs, &err) < 0);
	assert_non_null(strstr(err.message, "Landlock ABI 3 is required for truncate"));
}

/* A symlink is classified by its target: a file rule on out/f. */
static const char *const link_names[] = {"write out/f via its link", "write out/g"};
static const int link_expected[] = {0, EACCES};

static void link_body(const struct tree *t, int *r)
{
	*r++ = op_open(t->out, "f", O_WRONLY | O_TRUNC);
	*r++ = op_open(t->out, "g", O_WRONLY);
}

static void test_symlink_classified_by_target(void **state)
{
	const struct tree *t = *state;
	const char *const ro[] = {t->ro, NULL};
	const char *const rw[] = {t->link, NULL};
	struct fake_effective f;
	struct host host = host_with_abi(7);
	int results[MAX_RESULTS];

	run_sandboxed(t, fake_effective(&f, COMPAT_HARD_REQUIREMENT, ro, rw), &host, link_body,
		      results);
	expect(results, link_expected, link_names, 2);
}

/* Runtime additions: explicit rights on top of a read_only directory. */
static const char *const addition_names[] = {
    "write ro/f (write_file added)",
    "O_TRUNC ro/f (no truncate)",
    "unlink ro/f",
    "write out/f",
};
static const int addition_expected[] = {0, EACCES, EACCES, EACCES};

static void addition_body(const struct tree *t, int *r)
{
	*r++ = op_open(t->ro, "f", O_WRONLY);
	*r++ = op_open(t->ro, "f", O_WRONLY | O_TRUNC);
	*r++ = op_path(unlink, t->ro, "f");
	*r++ = op_open(t->out, "f", O_WRONLY);
}

static void test_runtime_addition(void **state)
{
	const struct tree *t = *state;
	const char *const ro[] = {t->ro, NULL};
	struct fake_effective f;
	struct host host = host_with_abi(7);
	int results[MAX_RESULTS];

	fake_effective(&f, COMPAT_HARD_REQUIREMENT, ro, NULL);
	fake_addition(&f, t->ro, ACCESS_WRITE_FILE);
	run_sandboxed(t, &f.eff, &host, addition_body, results);
	expect(results, addition_expected, addition_names, 4);
}

static void test_runtime_addition_with_truncate(void **state)
{
	const struct tree *t = *state;
	const char *const ro[] = {t->ro, NULL};
	static const char *const names[] = {"O_TRUNC ro/f (truncate added)"};
	static const int expected[] = {0};
	struct fake_effective f;
	struct host host = host_with_abi(7);
	int results[MAX_RESULTS];

	fake_effective(&f, COMPAT_HARD_REQUIREMENT, ro, NULL);
	fake_addition(&f, t->ro, ACCESS_WRITE_FILE | ACCESS_TRUNCATE);
	run_sandboxed(t, &f.eff, &host, addition_body, results);
	expect(results, expected, names, 1);
}

/* Reads back the JSON-lines log written during fn. */
static void capture_log(char *buf, size_t size, int fd)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
}

static void test_addition_rights_dropped(void **state)
{
	const struct tree *t = *state;
	const char *const ro[] = {t->ro, NULL};
	struct fake_effective f;
	struct host host = host_with_abi(2);
	struct landlock_ruleset *rs = NULL;
	struct error err = {0};
	char log[8192];
	int fd = memfd_create("log", MFD_CLOEXEC);

	assert_true(fd >= 0);
	fake_effective(&f, COMPAT_BEST_EFFORT, ro, NULL);
	fake_addition(&f, t->ro, ACCESS_WRITE_FILE | ACCESS_TRUNCATE);
	log_setup(LOG_ERROR, fd);
	assert_int_equal(landlock_prepare(&f.eff, &host, &rs, &err), 0);
	log_setup(LOG_ERROR, -1);
	capture_log(log, sizeof(log), fd);
	close(fd);
	assert_int_equal(landlock_ruleset_dropped(rs), R_TR);
	assert_int_equal(landlock_ruleset_rule_count(rs), 2);
	landlock_ruleset_free(rs);
	assert_non_null(strstr(log, "\"landlock_rights_dropped\""));
	assert_non_null(strstr(log, "cannot grant truncate (needs ABI 3)"));

	f.eff.compat = COMPAT_HARD_REQUIREMENT;
	assert_true(landlock_prepare(&f.eff, &host, &rs, &err) < 0);
	assert_non_null(strstr(err.message, "Landlock ABI 3 is required for truncate"));
	assert_non_null(strstr(err.message, "runtime addition"));
}

/* best_effort skips a missing path and still enforces the rest. */
static const char *const skip_names[] = {"read ro/f", "read out/f", "write rw/f"};
static const int skip_expected[] = {0, EACCES, 0};

static void skip_body(const struct tree *t, int *r)
{
	*r++ = op_open(t->ro, "f", O_RDONLY);
	*r++ = op_open(t->out, "f", O_RDONLY);
	*r++ = op_open(t->rw, "f", O_WRONLY);
}

static void test_best_effort_skips_missing_path(void **state)
{
	const struct tree *t = *state;
	const char *const ro[] = {t->missing, t->ro, NULL};
	const char *const rw[] = {t->rw, NULL};
	struct fake_effective f;
	struct host host = host_with_abi(7);
	struct landlock_ruleset *rs = NULL;
	struct error err = {0};
	int results[MAX_RESULTS];

	fake_effective(&f, COMPAT_BEST_EFFORT, ro, rw);
	assert_int_equal(landlock_prepare(&f.eff, &host, &rs, &err), 0);
	assert_int_equal(landlock_ruleset_rule_count(rs), 2);
	assert_int_equal(landlock_ruleset_skipped(rs)->len, 1);
	assert_non_null(strstr(landlock_ruleset_skipped(rs)->items[0], t->missing));
	assert_non_null(strstr(landlock_ruleset_skipped(rs)->items[0], "No such file"));
	landlock_ruleset_free(rs);
	run_sandboxed(t, &f.eff, &host, skip_body, results);
	expect(results, skip_expected, skip_names, 3);
}

static void test_hard_requirement_refuses_missing_path(void **state)
{
	const struct tree *t = *state;
	const char *const ro[] = {t->ro, t->missing, NULL};
	struct fake_effective f;
	struct host host = host_with_abi(7);
	struct landlock_ruleset *rs = NULL;
	struct error err = {0};

	fake_effective(&f, COMPAT_HARD_REQUIREMENT, ro, NULL);
	assert_int_equal(landlock_prepare(&f.eff, &host, &rs, &err), -ENOENT);
	assert_null(rs);
	assert_non_null(strstr(err.message, t->missing));
	assert_non_null(strstr(err.message, "hard_requirement"));
}

static void test_no_openable_path_refused_in_both_modes(void **state)
{
	const struct tree *t = *state;
	char other[128];
	const char *const ro[] = {t->missing, other, NULL};
	struct fake_effective f;
	struct host host = host_with_abi(7);
	struct landlock_ruleset *rs = NULL;
	struct error err = {0};

	path_join(other, sizeof(other), t->base, "also-missing");
	fake_effective(&f, COMPAT_BEST_EFFORT, ro, NULL);
	assert_true(landlock_prepare(&f.eff, &host, &rs, &err) < 0);
	assert_null(rs);
	assert_non_null(strstr(err.message, "none of the 2 paths"));
	fake_effective(&f, COMPAT_HARD_REQUIREMENT, ro, NULL);
	assert_true(landlock_prepare(&f.eff, &host, &rs, &err) < 0);
	assert_non_null(strstr(err.message, t->missing));
	/* An effective policy without any path is refused too. */
	fake_effective(&f, COMPAT_BEST_EFFORT, NULL, NULL);
	assert_true(landlock_prepare(&f.eff, &host, &rs, &err) < 0);
	assert_non_null(strstr(err.message, "lists no filesystem path"));
}

/* Landlock unavailable: best_effort runs unrestricted after a warning,
 * hard_requirement fails naming the reason. */
static const char *const open_names[] = {"read out/f without Landlock"};
static const int open_expected[] = {0};

static void unrestricted_body(const struct tree *t, int *r)
{
	*r++ = op_open(t->out, "f", O_RDONLY);
}

static void test_landlock_unavailable(void **state)
{
	const struct tree *t = *state;
	const char *const ro[] = {t->ro, NULL};
	struct fake_effective f;
	struct host host = {.landlock_status = LANDLOCK_BLOCKED, .landlock_errno = ENOSYS};
	struct landlock_ruleset *rs = NULL;
	struct error err = {0};
	char log[8192];
	int fd = memfd_create("log", MFD_CLOEXEC), results[MAX_RESULTS];

	assert_true(fd >= 0);
	fake_effective(&f, COMPAT_BEST_EFFORT, ro, NULL);
	log_setup(LOG_ERROR, fd);
	assert_int_equal(landlock_prepare(&f.eff, &host, &rs, &err), 0);
	log_setup(LOG_ERROR, -1);
	capture_log(log, sizeof(log), fd);
	close(fd);
	assert_int_equal(landlock_ruleset_abi(rs), 0);
	assert_int_equal(landlock_ruleset_rule_count(rs), 0);
	landlock_ruleset_free(rs);
	assert_non_null(strstr(log, "\"landlock_unavailable\""));
	assert_non_null(strstr(log, "blocked by a seccomp profile"));
	assert_non_null(strstr(log, "allow landlock_create_ruleset"));
	run_sandboxed(t, &f.eff, &host, unrestricted_body, results);
	expect(results, open_expected, open_names, 1);

	f.eff.compat = COMPAT_HARD_REQUIREMENT;
	assert_int_equal(landlock_prepare(&f.eff, &host, &rs, &err), -ENOSYS);
	assert_non_null(strstr(err.message, "Landlock ABI 1 or later is required"));
	assert_non_null(strstr(err.message, "blocked by a seccomp profile"));
}

static void test_enforce_without_no_new_privs_fails_unprivileged(void **state)
{
	const struct tree *t = *state;
	const char *const ro[] = {t->ro, NULL};
	struct fake_effective f;
	struct host host = host_with_abi(7);
	struct landlock_ruleset *rs = NULL;
	struct error err = {0};
	int status;
	pid_t pid;

	fake_effective(&f, COMPAT_BEST_EFFORT, ro, NULL);
	assert_int_equal(landlock_prepare(&f.eff, &host, &rs, &err), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Without no_new_privs and without CAP_SYS_ADMIN the kernel refuses. */
		if (geteuid() == 0 &&
		    (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0))
			_exit(3);
		_exit(landlock_enforce(rs, &err) == -EPERM &&
			      strstr(err.message, "landlock_restrict_self")
			  ? 0
			  : 4);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	landlock_ruleset_free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_access_handled_by_abi),
	    cmocka_unit_test(test_rights_for_every_class_type_abi),
	    cmocka_unit_test(test_rights_for_spot_checks),
	    cmocka_unit_test_setup_teardown(test_enforce_abi7, tree_setup, tree_teardown),
	    cmocka_unit_test_setup_teardown(test_enforce_abi2_best_effort, tree_setup,
					    tree_teardown),
	    cmocka_unit_test_setup_teardown(test_hard_requirement_names_missing_abi, tree_setup,
					    tree_teardown),
	    cmocka_unit_test_setup_teardown(test_symlink_classified_by_target, tree_setup,
					    tree_teardown),
	    cmocka_unit_test_setup_teardown(test_runtime_addition, tree_setup, tree_teardown),
	    cmocka_unit_test_setup_teardown(test_runtime_addition_with_truncate, tree_setup,
					    tree_teardown),
	    cmocka_unit_test_setup_teardown(test_addition_rights_dropped, tree_setup,
					    tree_teardown),
	    cmocka_unit_test_setup_teardown(test_best_effort_skips_missing_path, tree_setup,
					    tree_teardown),
	    cmocka_unit_test_setup_teardown(test_hard_requirement_refuses_missing_path, tree_setup,
					    tree_teardown),
	    cmocka_unit_test_setup_teardown(test_no_openable_path_refused_in_both_modes, tree_setup,
					    tree_teardown),
	    cmocka_unit_test_setup_teardown(test_landlock_unavailable, tree_setup, tree_teardown),
	    cmocka_unit_test_setup_teardown(test_enforce_without_no_new_privs_fails_unprivileged,
					    tree_setup, tree_teardown),
	};

	log_setup(LOG_ERROR, -1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
