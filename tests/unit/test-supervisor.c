/* supervisor_start() on the real kernel, as root and as uid 65534 through a
 * user namespace: an idle isolated sandbox (argv NULL) whose PID 1 reports
 * its host pid, a command joined into it through join_pid (its hostname,
 * its PID namespace with PID 1 in it, its private /tmp, its exit code), and
 * the idle sandbox ending on SIGTERM. Each supervisor runs in a forked
 * process of its own, as a `lockshell` process would. */
#include <errno.h>
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/host.h"
#include "policy/effective.h"
#include "policy/loader.h"
#include "supervisor/supervisor.h"

#define HOSTNAME "sup-test"
#define WORKDIR	 "/tmp"
#define NOBODY	 65534

/* The idle sandbox's supervisor, ended by the teardown if a test fails. */
static pid_t idle_supervisor;

static void become(uid_t uid)
{
	if (uid == 0)
		return;
	if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
		_exit(90);
}

/* In a forked process: the default policy, isolated as `run` would be. */
static int start(char *const *argv, pid_t join_pid, struct supervisor *ret)
{
	struct policy policy = {0};
	struct diagnostics diags = {0};
	struct host host = {0};
	struct effective eff = {0};
	struct effective_request req = {
	    .workdir = WORKDIR, .isolate = true, .rootless = geteuid() != 0, .hostname = HOSTNAME};
	struct error err = {0};
	int r;

	if (policy_load_default(&policy, &diags) < 0 || host_probe(&host, &err) < 0 ||
	    effective_build(&policy, &req, &host, &eff, &err) < 0)
		_exit(91);
	struct launch l = {.eff = &eff,
			   .host = &host,
			   .argv = argv,
			   .workdir = WORKDIR,
			   .kill_after_s = 1,
			   .isolate = true,
			   .join_pid = join_pid};
	r = supervisor_start(&l, ret, &err);
	if (r != 0)
		fprintf(stderr, "supervisor_start: %d %s\n", r, err.message);
	return r;
}

/* Forks the idle sandbox's supervisor; returns its pid and PID 1's. */
static pid_t idle_sandbox(uid_t uid, pid_t *ret_init)
{
	int fds[2];
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct supervisor s;

		become(uid);
		if (start(NULL, 0, &s) != 0)
			_exit(92);
		(void)!write(fds[1], &s.init_pid, sizeof(s.init_pid));
		close(fds[1]);
		_exit(supervisor_wait(&s));
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], ret_init, sizeof(*ret_init)), sizeof(*ret_init));
	close(fds[0]);
	return pid;
}

/* Runs a shell script joined into the sandbox; returns its output and sets
 * its exit code. */
static char *exec_in(uid_t uid, pid_t init, const char *script, int *ret_code)
{
	char *const argv[] = {"/bin/sh", "-c", (char *)script, NULL};
	static char out[4096];
	size_t len = 0;
	ssize_t n;
	int fds[2], status;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct supervisor s;

		become(uid);
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		if (start(argv, init, &s) != 0)
			_exit(93);
		_exit(supervisor_wait(&s));
	}
	close(fds[1]);
	while ((n = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	*ret_code = WEXITSTATUS(status);
	return out;
}

static void assert_line(const char *text, const char *line)
{
	const char *at = strstr(text, line);
	size_t len = strlen(line);

	if (!at || (at != text && at[-1] != '\n') || (at[len] != '\n' && at[len] != '\0'))
		fail_msg("no line \"%s\" in:\n%s", line, text);
}

static void join_case(uid_t uid)
{
	pid_t init, sup;
	int code, status;
	char *out;

	if (geteuid() != 0) {
		print_message("skipped: needs root to build namespaces\n");
		skip();
	}
	sup = idle_supervisor = idle_sandbox(uid, &init);
	assert_true(init > 0 && init != sup);
	assert_int_equal(kill(init, 0), 0);
	out = exec_in(uid, init,
		      "echo self=$$; echo pids=$(cd /proc && echo [0-9]*); hostname; "
		      "echo inside > /tmp/joined; id -u; exit 3",
		      &code);
	assert_int_equal(code, 3);
	assert_line(out, HOSTNAME);
	/* PID 1 (idle), then the command as pid 2, and the subshell. */
	assert_line(out, "self=2");
	assert_line(out, "pids=1 2 3");
	assert_line(out, "65534"); /* root's default workload identity, or the caller */
	/* The file went to the sandbox's private /tmp, seen by a second exec. */
	out = exec_in(uid, init, "cat /tmp/joined", &code);
	assert_int_equal(code, 0);
	assert_line(out, "inside");
	assert_int_equal(access("/tmp/joined", F_OK), -1);
	/* SIGTERM to the supervisor: forwarded, PID 1 ends with code 0. */
	assert_int_equal(kill(sup, SIGTERM), 0);
	assert_int_equal(waitpid(sup, &status, 0), sup);
	idle_supervisor = 0;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(kill(init, 0), -1);
	assert_int_equal(errno, ESRCH);
}

/* SIGKILL to the supervisor ends its PID 1 (PR_SET_PDEATHSIG) and with it
 * the sandbox. */
static int teardown(void **state)
{
	(void)state;
	if (idle_supervisor > 0) {
		kill(idle_supervisor, SIGKILL);
		waitpid(idle_supervisor, NULL, 0);
		idle_supervisor = 0;
	}
	return 0;
}

static void test_join_as_root(void **state)
{
	(void)state;
	join_case(0);
}

static void test_join_rootless(void **state)
{
	(void)state;
	join_case(NOBODY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_join_as_root, teardown),
	    cmocka_unit_test_teardown(test_join_rootless, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
