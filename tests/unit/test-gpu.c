/* Unit tests of the GPU enrichment over fake hosts: parsing a selection,
 * checking it against the host, and the conflict check. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "gpu-fixtures.h"
#include "policy/gpu.h"

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("expected \"%s\" in \"%s\"", needle, haystack);
}

static void test_parse_all(void **state)
{
	const char *spellings[] = {NULL, "", "all"};
	struct error err = {0};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(spellings); i++) {
		struct gpu_selection sel = {0};
		assert_int_equal(gpu_selection_parse(spellings[i], &sel, &err), 0);
		assert_true(sel.requested);
		assert_true(sel.all);
		assert_int_equal(sel.n_indices, 0);
	}
}

static void test_parse_indices(void **state)
{
	struct gpu_selection sel = {0};
	struct error err = {0};
	(void)state;

	assert_int_equal(gpu_selection_parse("0,2", &sel, &err), 0);
	assert_true(sel.requested);
	assert_false(sel.all);
	assert_int_equal(sel.n_indices, 2);
	assert_int_equal(sel.indices[0], 0);
	assert_int_equal(sel.indices[1], 2);

	assert_int_equal(gpu_selection_parse("3,1,3", &sel, &err), 0);
	assert_int_equal(sel.n_indices, 2);
	assert_int_equal(sel.indices[0], 3);
	assert_int_equal(sel.indices[1], 1);

	assert_int_equal(gpu_selection_parse("12", &sel, &err), 0);
	assert_int_equal(sel.n_indices, 1);
	assert_int_equal(sel.indices[0], 12);
}

static void test_parse_invalid(void **state)
{
	static const struct {
		const char *text;
		const char *culprit;
	} cases[] = {
	    {"a", "'a'"},	{"0,", "''"},
	    {",0", "''"},	{"1,,2", "''"},
	    {"-1", "'-1'"},	{"+1", "'+1'"},
	    {" 1", "' 1'"},	{"0x1", "'0x1'"},
	    {"all,0", "'all'"}, {"1234567890", "'1234567890'"},
	    {"0,ALL", "'ALL'"},
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct gpu_selection sel = {.n_indices = 99};
		struct error err = {0};
		assert_int_equal(gpu_selection_parse(cases[i].text, &sel, &err), -EINVAL);
		assert_contains(err.message, cases[i].text);
		assert_contains(err.message, cases[i].culprit);
		assert_contains(err.message, "comma list");
		assert_int_equal(sel.n_indices, 99); /* untouched on failure */
	}
}

static void test_parse_too_many(void **state)
{
	char text[4 * (GPU_SELECTION_MAX + 1)] = "";
	struct gpu_selection sel = {0};
	struct error err = {0};
	(void)state;

	for (unsigned i = 0; i <= GPU_SELECTION_MAX; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%u", i ? "," : "", i);
	assert_int_equal(gpu_selection_parse(text, &sel, &err), -EINVAL);
	assert_contains(err.message, "more than 64 GPUs");
}

static void test_check_no_gpu(void **state)
{
	struct fixture f;
	struct gpu_selection sel = {.requested = true, .all = true};
	struct error err = {0};
	(void)state;

	fixture_init(&f);
	fixture_plain_host(&f);
	assert_int_equal(gpu_selection_check(&sel, &f.host, &err), -ENODEV);
	assert_contains(err.message, "/dev/nvidiactl");
	assert_contains(err.message, "/dev/dxg");
	assert_contains(err.message, "nvidia-smi");
	assert_contains(err.message, "lsmod | grep nvidia");
	assert_contains(err.message, "--gpus");
	assert_contains(err.message, "CDI");
	fixture_free(&f);
}

static void test_check_missing_index(void **state)
{
	struct fixture f;
	struct gpu_selection sel = {.requested = true, .indices = {1, 7}, .n_indices = 2};
	struct error err = {0};
	(void)state;

	fixture_init(&f);
	fixture_nvidia_host(&f, 4);
	assert_int_equal(gpu_selection_check(&sel, &f.host, &err), -ENODEV);
	assert_contains(err.message, "GPU 7 does not exist");
	assert_contains(err.message, "/dev/nvidia7");
	assert_contains(err.message, "0, 1, 2, 3");

	sel.n_indices = 1;
	assert_int_equal(gpu_selection_check(&sel, &f.host, &err), 0);
	fixture_free(&f);
}

static void test_check_index_on_wsl(void **state)
{
	struct fixture f;
	struct gpu_selection sel = {.requested = true, .indices = {0}, .n_indices = 1};
	struct error err = {0};
	(void)state;

	fixture_init(&f);
	fixture_wsl_host(&f);
	assert_int_equal(gpu_selection_check(&sel, &f.host, &err), -ENODEV);
	assert_contains(err.message, "GPU 0 does not exist");
	assert_contains(err.message, "/dev/dxg");

	sel = (struct gpu_selection){.requested = true, .all = true};
	assert_int_equal(gpu_selection_check(&sel, &f.host, &err), 0);
	fixture_free(&f);
}

static void test_check_not_requested(void **state)
{
	struct fixture f;
	struct gpu_selection sel = {0};
	struct error err = {0};
	(void)state;

	fixture_init(&f);
	assert_int_equal(gpu_selection_check(&sel, &f.host, &err), 0);
	fixture_free(&f);
}

static void test_conflict_directory(void **state)
{
	struct fixture f;
	struct gpu_selection sel = {.requested = true, .all = true};
	struct error err = {0};
	(void)state;

	fixture_init(&f);
	fixture_nvidia_host(&f, 1);
	fixture_read_only(&f, "/usr", 4, 7);
	fixture_read_only(&f, "/dev", 5, 7);
	assert_int_equal(gpu_conflicts_check(&f.policy, &sel, &f.host, &err), -EINVAL);
	assert_contains(err.message, "policy.yaml:5:7: read_only path '/dev' covers the GPU "
				     "device node /dev/nvidiactl");
	assert_contains(err.message, "NVML and CUDA open GPU device nodes read-write");
	assert_contains(err.message, "Remove '/dev' from read_only");
	assert_contains(err.message, "/dev/null");
	fixture_free(&f);
}

static void test_conflict_node(void **state)
{
	struct fixture f;
	struct gpu_selection sel = {.requested = true, .indices = {0}, .n_indices = 1};
	struct error err = {0};
	(void)state;

	fixture_init(&f);
	fixture_nvidia_host(&f, 2);
	fixture_read_only(&f, "/dev/nvidia0", 9, 5);
	assert_int_equal(gpu_conflicts_check(&f.policy, &sel, &f.host, &err), -EINVAL);
	assert_contains(err.message, "policy.yaml:9:5:");
	assert_contains(err.message, "GPU device node /dev/nvidia0");
	assert_contains(err.message, "NVML and CUDA open GPU device nodes read-write");
	assert_contains(err.message, "Remove '/dev/nvidia0' from read_only");

	/* GPU 0 not selected: its node is not the sandbox's concern. */
	sel.indices[0] = 1;
	assert_int_equal(gpu_conflicts_check(&f.policy, &sel, &f.host, &err), 0);
	fixture_free(&f);
}

static void test_conflict_root_and_trailing_slash(void **state)
{
	const char *dirs[] = {"/", "/dev/", "/dev//"};
	struct gpu_selection sel = {.requested = true, .all = true};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		struct fixture f;
		struct error err = {0};
		fixture_init(&f);
		fixture_nvidia_host(&f, 1);
		fixture_read_only(&f, dirs[i], 3, 3);
		assert_int_equal(gpu_conflicts_check(&f.policy, &sel, &f.host, &err), -EINVAL);
		assert_contains(err.message, "/dev/nvidiactl");
		fixture_free(&f);
	}
}

static void test_conflict_mig_caps(void **state)
{
	struct fixture f;
	struct gpu_selection sel = {.requested = true, .all = true};
	struct error err = {0};
	(void)state;

	fixture_init(&f);
	fixture_nvidia_host(&f, 1);
	fixture_present(&f, "/dev/nvidia-caps/nvidia-cap1");
	fixture_read_only(&f, "/dev/nvidia-caps", 6, 9);
	assert_int_equal(gpu_conflicts_check(&f.policy, &sel, &f.host, &err), -EINVAL);
	assert_contains(err.message, "policy.yaml:6:9:");
	assert_contains(err.message, "/dev/nvidia-caps/nvidia-cap1");
	fixture_free(&f);
}

static void test_no_conflict(void **state)
{
	struct gpu_selection all = {.requested = true, .all = true};
	struct gpu_selection none = {0};
	struct fixture f;
	struct error err = {0};
	(void)state;

	fixture_init(&f);
	fixture_nvidia_host(&f, 1);
	/* A path that is a string prefix of the nodes is not their ancestor. */
	fixture_read_only(&f, "/dev/nvidia", 1, 1);
	fixture_read_only(&f, "/dev/urandom", 2, 1);
	fixture_read_only(&f, "/sys", 3, 1);
	/* Listed read_only and read_write: the user chose read_write. */
	fixture_read_only(&f, "/dev/nvidiactl", 4, 1);
	fixture_read_write(&f, "/dev/nvidiactl", 5, 1);
	assert_int_equal(gpu_conflicts_check(&f.policy, &all, &f.host, &err), 0);

	/* Without a GPU request nothing conflicts, even a read_only /dev. */
	fixture_read_only(&f, "/dev", 6, 1);
	assert_int_equal(gpu_conflicts_check(&f.policy, &none, &f.host, &err), 0);
	fixture_free(&f);
}

static void test_conflict_absent_node(void **state)
{
	struct fixture f;
	struct gpu_selection sel = {.requested = true, .all = true};
	struct error err = {0};
	(void)state;

	/* WSL2: /dev/nvidiactl is absent, so listing it read_only is harmless. */
	fixture_init(&f);
	fixture_wsl_host(&f);
	fixture_read_only(&f, "/dev/nvidiactl", 2, 3);
	assert_int_equal(gpu_conflicts_check(&f.policy, &sel, &f.host, &err), 0);
	fixture_read_only(&f, "/dev", 3, 3);
	assert_int_equal(gpu_conflicts_check(&f.policy, &sel, &f.host, &err), -EINVAL);
	assert_contains(err.message, "GPU device node /dev/dxg");
	fixture_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_all),
	    cmocka_unit_test(test_parse_indices),
	    cmocka_unit_test(test_parse_invalid),
	    cmocka_unit_test(test_parse_too_many),
	    cmocka_unit_test(test_check_no_gpu),
	    cmocka_unit_test(test_check_missing_index),
	    cmocka_unit_test(test_check_index_on_wsl),
	    cmocka_unit_test(test_check_not_requested),
	    cmocka_unit_test(test_conflict_directory),
	    cmocka_unit_test(test_conflict_node),
	    cmocka_unit_test(test_conflict_root_and_trailing_slash),
	    cmocka_unit_test(test_conflict_mig_caps),
	    cmocka_unit_test(test_no_conflict),
	    cmocka_unit_test(test_conflict_absent_node),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
