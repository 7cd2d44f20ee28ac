/* test-seccomp: each probe of tests/probes/syscall-probe.c runs in a child that
 * loads the filter as `lockshell run` does, and the kernel's answer must be the
 * rule's errno (or SIGSYS for another ABI); the same probe without the filter
 * shows the answer came from the filter. Also: the rule table, the probes and
 * docs/seccomp.md agree. */
#define SYSCALL_PROBE_NO_MAIN
#include "../probes/syscall-probe.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>
#include <seccomp.h>

#include "base/cleanup.h"
#include "enforce/seccomp.h"

#define DOCS	 "docs/seccomp.md"
#define DOCS_MAX (1 << 16)

static struct seccomp_filter *filter;

struct outcome {
	int signal; /* that killed the child, 0 if it exited */
	int error;  /* the probe's result when it exited */
};

/* Runs fn in a child, after loading f unless f is NULL; fn's int comes back
 * through a pipe. */
static struct outcome run_child(int (*fn)(void), struct seccomp_filter *f)
{
	struct outcome out = {0, -1};
	int fds[2], status;
	pid_t pid;

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct error err = {0};
		int e = f && seccomp_filter_load(f, &err) < 0 ? -err.code : fn();

		_exit(write(fds[1], &e, sizeof(e)) == sizeof(e) ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		out.signal = WTERMSIG(status);
	else
		assert_int_equal(read(fds[0], &out.error, sizeof(out.error)), sizeof(out.error));
	close(fds[0]);
	return out;
}

static bool outcome_is(struct outcome out, int expect)
{
	if (expect == PROBE_KILLED)
		return out.signal == SIGSYS;
	return out.signal == 0 && out.error == expect;
}

static void print_outcome(const char *what, const struct probe *p, struct outcome out)
{
	if (out.signal)
		print_error("%s: %s killed by signal %d\n", what, p->name, out.signal);
	else
		print_error("%s: %s returned %d (%s)\n", what, p->name, out.error,
			    out.error > 0 ? strerror(out.error) : "ok");
}

/* Under the filter the probe gets the expected answer; without it, a refusal
 * it expects does not happen (for EPERM only as root, where missing privilege
 * cannot be the reason). */
static void test_probe(void **state)
{
	const struct probe *p = *state;
	struct outcome with = run_child(p->run, filter), without = run_child(p->run, NULL);
	bool refusal = p->expect == EPERM || p->expect == ENOSYS || p->expect == PROBE_KILLED;

	if (!outcome_is(with, p->expect)) {
		print_outcome("with the filter", p, with);
		fail();
	}
	if (refusal && (p->expect != EPERM || geteuid() == 0) && outcome_is(without, p->expect)) {
		print_outcome("without the filter", p, without);
		fail();
	}
}

static void test_rules_are_complete(void **state)
{
	size_t n;
	const struct seccomp_rule_info *rules = seccomp_rules(&n);

	(void)state;
	assert_true(n >= 40);
	for (size_t i = 0; i < n; i++) {
		bool covered = false;

		assert_non_null(rules[i].reason);
		assert_true(rules[i].error == EPERM || rules[i].error == ENOSYS);
		assert_true((rules[i].condition == NULL) == (rules[i].match == NULL));
		assert_true(seccomp_syscall_resolve_name(rules[i].syscall) >= 0);
		for (size_t j = 0; j < PROBE_COUNT; j++)
			covered |= strcmp(probes[j].syscall, rules[i].syscall) == 0 &&
				   probes[j].expect == rules[i].error;
		if (!covered)
			print_error("no probe for the rule on %s\n", rules[i].syscall);
		assert_true(covered);
	}
}

/* On x86_64 and aarch64 every syscall of the table exists. */
static void test_filter_counts_every_rule(void **state)
{
	size_t n;

	(void)state;
	seccomp_rules(&n);
	assert_int_equal(seccomp_filter_rule_count(filter), n);
}

/* The program built into lockshell is what libseccomp compiles from the
 * table now: the build regenerated it after every change of the rules. */
static void test_builtin_program_is_current(void **state)
{
	struct seccomp_program fresh;
	struct error err = {0};
	size_t n;
	const struct sock_filter *builtin = seccomp_builtin_program(&n);

	(void)state;
	assert_int_equal(seccomp_program_compile(&fresh, &err), 0);
	assert_int_equal(fresh.n_insns, n);
	assert_memory_equal(fresh.insns, builtin, n * sizeof(*builtin));
	assert_int_equal(fresh.rule_count, seccomp_filter_rule_count(filter));
	seccomp_program_free(&fresh);
}

static int no_new_privs(void)
{
	return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
}

static void test_load_sets_no_new_privs(void **state)
{
	(void)state;
	assert_int_equal(run_child(no_new_privs, NULL).error, 0);
	assert_int_equal(run_child(no_new_privs, filter).error, 1);
}

static const unsigned long personas_allowed[] = {0, 0xffffffffUL};
static const unsigned long personas_refused[] = {
    1,
    PER_LINUX32,
    UNAME26,
    ADDR_NO_RANDOMIZE,
    READ_IMPLIES_EXEC,
    0x7fffffffUL,
    0x80000000UL,
    0xfffffff7UL,
    0xfffffffeUL,
    1UL << 32,
    1UL << 32 | 0xffffffffUL,
    ~0UL,
};

/* How many of the personas above get another answer than listed. */
static int personas_misjudged(void)
{
	int wrong = 0;

	for (size_t i = 0; i < ARRAY_SIZE(personas_allowed); i++)
		wrong += set_persona(personas_allowed[i]) != 0;
	for (size_t i = 0; i < ARRAY_SIZE(personas_refused); i++)
		wrong += set_persona(personas_refused[i]) != EPERM;
	return wrong;
}

static void test_personality_only_default_or_query(void **state)
{
	(void)state;
	assert_int_equal(run_child(personas_misjudged, filter).error, 0);
	assert_int_equal(run_child(personas_misjudged, NULL).error,
			 (int)ARRAY_SIZE(personas_refused));
}

static char *read_docs(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char *text = calloc(1, DOCS_MAX);

	if (!f)
		print_error("cannot open %s (run from the repository root)\n", path);
	assert_non_null(f);
	assert_non_null(text);
	assert_true(fread(text, 1, DOCS_MAX - 1, f) < DOCS_MAX - 1);
	return text;
}

/* docs/seccomp.md and the README have one table row per rule, worded as in
 * seccomp.c. */
static void docs_list_every_rule(const char *path)
{
	_cleanup_free_ char *docs = read_docs(path);
	size_t n;
	const struct seccomp_rule_info *rules = seccomp_rules(&n);

	for (size_t i = 0; i < n; i++) {
		char row[512];

		snprintf(row, sizeof(row), "\n| `%s` | %s | %s | %s |\n", rules[i].syscall,
			 rules[i].condition ? rules[i].condition : "every call",
			 strerrorname_np(rules[i].error), rules[i].reason);
		if (!strstr(docs, row))
			print_error("%s lacks the row:%s", path, row);
		assert_non_null(strstr(docs, row));
	}
}

static void test_docs_list_every_rule(void **state)
{
	(void)state;
	docs_list_every_rule(DOCS);
	docs_list_every_rule("README.md");
}

static int build_filter(void **state)
{
	struct effective eff = {0};
	struct error err = {0};

	(void)state;
	if (seccomp_filter_build(&eff, &filter, &err) < 0) {
		print_error("seccomp_filter_build: %s\n", err.message);
		return -1;
	}
	return 0;
}

static int free_filter(void **state)
{
	(void)state;
	seccomp_filter_free(filter);
	return 0;
}

static const struct CMUnitTest fixed_tests[] = {
    cmocka_unit_test(test_rules_are_complete),
    cmocka_unit_test(test_filter_counts_every_rule),
    cmocka_unit_test(test_builtin_program_is_current),
    cmocka_unit_test(test_load_sets_no_new_privs),
    cmocka_unit_test(test_personality_only_default_or_query),
    cmocka_unit_test(test_docs_list_every_rule),
};

/* The fixed tests, then one test per probe, named after it. */
int main(void)
{
	size_t n = ARRAY_SIZE(fixed_tests) + PROBE_COUNT;
	_cleanup_free_ struct CMUnitTest *tests = calloc(n, sizeof(*tests));

	if (!tests)
		return 1;
	memcpy(tests, fixed_tests, sizeof(fixed_tests));
	for (size_t i = 0; i < PROBE_COUNT; i++)
		tests[ARRAY_SIZE(fixed_tests) + i] = (struct CMUnitTest){
		    .name = probes[i].name,
		    .test_func = test_probe,
		    .initial_state = (void *)&probes[i],
		};
	return _cmocka_run_group_tests("seccomp", tests, n, build_filter, free_filter);
}
