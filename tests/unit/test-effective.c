/* Unit tests of effective_build() and effective_to_json() over hand-built
 * policies and fake hosts: the workdir, the network mode, isolation, the GPU
 * baseline on NVIDIA, MIG and WSL2 hosts, the procfs runtime addition and its
 * notes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "gpu-fixtures.h"
#include "policy/effective.h"

static const struct gpu_selection gpu_all = {.requested = true, .all = true};

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("expected \"%s\" in \"%s\"", needle, haystack);
}

static void build_ok(struct fixture *f, const struct effective_request *req, struct effective *eff)
{
	struct error err = {0};
	int r = effective_build(&f->policy, req, &f->host, eff, &err);

	if (r < 0)
		fail_msg("effective_build: %s", err.message);
}

static const struct effective_path *assert_listed(const struct effective_path_list *list,
						  const char *path, enum entry_source source)
{
	const struct effective_path *p = effective_path_list_find(list, path);

	if (!p)
		fail_msg("%s is not listed", path);
	assert_int_equal(p->source, source);
	return p;
}

static size_t count_listed(const struct effective_path_list *list, const char *path)
{
	size_t n = 0;

	for (size_t i = 0; i < list->len; i++)
		n += strcmp(list->items[i].path, path) == 0;
	return n;
}

static size_t count_source(const struct effective_path_list *list, enum entry_source source)
{
	size_t n = 0;

	for (size_t i = 0; i < list->len; i++)
		n += list->items[i].source == source;
	return n;
}

static const struct runtime_addition *procfs_addition(const struct effective *eff)
{
	assert_int_equal(eff->n_additions, 1);
	assert_string_equal(eff->additions[0].path, "/proc");
	return &eff->additions[0];
}

/* A policy like OpenShell's default: /proc read_only, /dev/null read_write. */
static void default_like_policy(struct fixture *f)
{
	fixture_read_only(f, "/usr", 3, 7);
	fixture_read_only(f, "/proc", 4, 7);
	fixture_read_only(f, "/dev/urandom", 5, 7);
	fixture_read_write(f, "/tmp", 7, 7);
	fixture_read_write(f, "/dev/null", 8, 7);
}

static void test_copies_policy(void **state)
{
	struct effective_request req = {0};
	struct effective eff;
	struct fixture f;
	(void)state;

	fixture_init(&f);
	fixture_nvidia_host(&f, 1);
	default_like_policy(&f);
	f.policy.compat = COMPAT_HARD_REQUIREMENT;
	build_ok(&f, &req, &eff);
	assert_ptr_equal(eff.policy, &f.policy);
	assert_int_equal(eff.compat, COMPAT_HARD_REQUIREMENT);
	assert_int_equal(eff.landlock_abi, 7);
	assert_int_equal(eff.read_only.len, 3);
	assert_int_equal(eff.read_write.len, 2);
	const struct effective_path *p = assert_listed(&eff.read_only, "/proc", SOURCE_POLICY);
	assert_int_equal(p->mark.line, 4);
	assert_int_equal(p->mark.column, 7);
	p = assert_listed(&eff.read_write, "/dev/null", SOURCE_POLICY);
	assert_int_equal(p->mark.line, 8);
	assert_false(p->is_device);
	effective_free(&eff);
	fixture_free(&f);
}

static void test_network_mode(void **state)
{
	struct effective_request req = {0};
	struct effective eff;
	struct fixture f;
	(void)state;

	fixture_init(&f);
	/* No network policies: no egress by default. */
	build_ok(&f, &req, &eff);
	assert_int_equal(eff.network, NETWORK_NONE);
	effective_free(&eff);

	/* With network policies: the host's network by default (only the
	 * count is read). */
	f.policy.n_network_policies = 1;
	build_ok(&f, &req, &eff);
	assert_int_equal(eff.network, NETWORK_HOST);
	effective_free(&eff);
	f.policy.n_network_policies = 0;

	req.network_set = true;
	req.network = NETWORK_HOST;
	build_ok(&f, &req, &eff);
	assert_int_equal(eff.network, NETWORK_HOST);
	effective_free(&eff);

	req.network = NETWORK_NONE;
	build_ok(&f, &req, &eff);
	assert_int_equal(eff.network, NETWORK_NONE);
	effective_free(&eff);
	fixture_free(&f);
}

static void test_isolation(void **state)
{
	struct effective_request req = {.isolate = true, .rootless = true, .hostname = "box"};
	struct effective eff;
	struct fixture f;
	(void)state;

	fixture_init(&f);
	f.host.user_namespaces = true;
	build_ok(&f, &req, &eff);
	assert_true(eff.isolation.enabled);
	assert_true(eff.isolation.user);
	assert_true(eff.isolation.private_tmp);
	assert_string_equal(eff.isolation.hostname, "box");
	effective_free(&eff);

	req.rootless = false;
	req.share_tmp = true;
	f.host.user_namespaces = false; /* root needs none */
	build_ok(&f, &req, &eff);
	assert_true(eff.isolation.enabled);
	assert_false(eff.isolation.user);
	assert_false(eff.isolation.private_tmp);
	assert_int_equal(eff.notes.len, 0);
	effective_free(&eff);

	req = (struct effective_request){0};
	build_ok(&f, &req, &eff);
	assert_false(eff.isolation.enabled);
	assert_null(eff.isolation.hostname);
	effective_free(&eff);
	fixture_free(&f);
}

/* Rootless without user namespaces: best_effort goes on without isolation
 * (and without a network namespace), saying so; hard_requirement keeps the
 * isolation it requires (the launch then fails on it). */
static void test_isolation_without_user_namespaces(void **state)
{
	struct effective_request req = {.isolate = true, .rootless = true, .hostname = "box"};
	struct effective eff;
	struct fixture f;
	(void)state;

	fixture_init(&f);
	f.host.user_namespaces = false;
	f.policy.compat = COMPAT_BEST_EFFORT;
	build_ok(&f, &req, &eff);
	assert_false(eff.isolation.enabled);
	assert_false(eff.isolation.user);
	assert_int_equal(eff.network, NETWORK_HOST);
	assert_int_equal(eff.notes.len, 1);
	assert_contains(eff.notes.items[0], "user namespaces are unavailable");
	effective_free(&eff);

	f.policy.compat = COMPAT_HARD_REQUIREMENT;
	build_ok(&f, &req, &eff);
	assert_true(eff.isolation.enabled);
	assert_true(eff.isolation.user);
	assert_int_equal(eff.network, NETWORK_NONE);
	assert_int_equal(eff.notes.len, 0);
	effective_free(&eff);
	fixture_free(&f);
}

static void test_workdir_included(void **state)
{
	struct effective_request req = {.workdir = "/home/u/project"};
	struct effective eff;
	struct fixture f;
	(void)state;

	fixture_init(&f);
	default_like_policy(&f);
	f.policy.include_workdir = true;
	build_ok(&f, &req, &eff);
	assert_string_equal(eff.workdir, "/home/u/project");
	const struct effective_path *p =
	    assert_listed(&eff.read_write, "/home/u/project", SOURCE_WORKDIR);
	assert_int_equal(p->mark.line, 0);
	assert_int_equal(eff.read_write.len, 3);
	effective_free(&eff);
	fixture_free(&f);
}

static void test_workdir_excluded(void **state)
{
	struct effective_request req = {.workdir = "/home/u/project"};
	struct effective eff;
	struct fixture f;
	(void)state;

	fixture_init(&f);
	default_like_policy(&f);
	f.policy.include_workdir = false;
	build_ok(&f, &req, &eff);
	assert_null(eff.workdir);
	assert_null(effective_path_list_find(&eff.read_write, "/home/u/project"));
	assert_int_equal(count_source(&eff.read_write, SOURCE_WORKDIR), 0);
	effective_free(&eff);
	fixture_free(&f);
}

static void test_workdir_already_listed(void **state)
{
	struct effective_request req = {.workdir = "/tmp"};
	struct effective eff;
	struct fixture f;
	(void)state;

	fixture_init(&f);
	default_like_policy(&f);
	f.policy.include_workdir = true;
	build_ok(&f, &req, &eff);
	assert_int_equal(count_listed(&eff.read_write, "/tmp"), 1);
	assert_listed(&eff.read_write, "/tmp", SOURCE_POLICY);
	effective_free(&eff);
	fixture_free(&f);
}

static void test_no_gpu_request_on_gpu_host(void **state)
{
	struct effective_request req = {.workdir = "/w"};
	struct effective eff;
	struct fixture f;
	(void)state;

	fixture_init(&f);
	fixture_nvidia_host(&f, 2);
	fixture_present(&f, "/dev/nvidia-caps/nvidia-cap1");
	f.policy.include_workdir = true;
	build_ok(&f, &req, &eff);
	assert_int_equal(count_source(&eff.read_only, SOURCE_GPU), 0);
	assert_int_equal(count_source(&eff.read_write, SOURCE_GPU), 0);
	for (size_t i = 0; i < f.host.present_paths.len; i++)
		assert_false(effective_lists_path(&eff, f.host.present_paths.items[i]));
	assert_int_equal(eff.n_additions, 0);
	assert_int_equal(eff.notes.len, 0);
	assert_false(eff.gpu.requested);
	effective_free(&eff);
	fixture_free(&f);
}

static void test_gpu_baseline_nvidia(void **state)
{
	struct effective_request req = {.gpu = gpu_all};
	struct effective eff;
	struct fixture f;
	(void)state;

	fixture_init(&f);
	fixture_nvidia_host(&f, 1);
	default_like_policy(&f);
	build_ok(&f, &req, &eff);
	const char *nodes[] = {"/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools",
			       "/dev/nvidia-modeset", "/dev/nvidia0"};
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++)
		assert_true(assert_listed(&eff.read_write, nodes[i], SOURCE_GPU)->is_device);
	const char *support[] = {"/run/nvidia-persistenced", "/sys/module/nvidia",
				 "/sys/module/nvidia_uvm",   "/sys/bus/pci/devices/0000:10:00.0",
				 "/sys/devices/system/cpu",  "/sys/devices/system/node"};
	for (size_t i = 0; i < ARRAY_SIZE(support); i++)
		assert_false(assert_listed(&eff.read_only, support[i], SOURCE_GPU)->is_device);
	/* Absent on this host: skipped silently. */
	assert_false(effective_lists_path(&eff, "/dev/dxg"));
	assert_false(effective_lists_path(&eff, "/usr/lib/wsl"));
	assert_int_equal(count_source(&eff.read_write, SOURCE_GPU), ARRAY_SIZE(nodes));
	assert_int_equal(count_source(&eff.read_only, SOURCE_GPU), ARRAY_SIZE(support));
	/* /proc stays read_only as the policy wrote it, once. */
	assert_int_equal(count_listed(&eff.read_only, "/proc"), 1);
	assert_listed(&eff.read_only, "/proc", SOURCE_POLICY);
	assert_null(effective_path_list_find(&eff.read_write, "/proc"));
	assert_true(eff.gpu.requested);
	effective_free(&eff);
	fixture_free(&f);
}

static void test_gpu_baseline_wsl(void **state)
{
	struct effective_request req = {.gpu = gpu_all};
	struct effective eff;
	struct fixture f;
	(void)state;

	fixture_init(&f);
	fixture_wsl_host(&f);
	build_ok(&f, &req, &eff);
	assert_true(assert_listed(&eff.read_write, "/dev/dxg", SOURCE_GPU)->is_device);
	assert_listed(&eff.read_only, "/usr/lib/wsl", SOURCE_GPU);
	assert_int_equal(count_source(&eff.read_write, SOURCE_GPU), 1);
	assert_false(effective_lists_path(&eff, "/dev/nvidiactl"));
	assert_false(effective_lists_path(&eff, "/sys/module/nvidia"));
	procfs_addition(&eff);
	effective_free(&eff);
	fixture_free(&f);
}

static void test_gpu_baseline_mig(void **state)
{
	struct effective_request req = {.gpu = gpu_all};
	struct effective eff;
	struct fixture f;
	(void)state;

	fixture_init(&f);
	fixture_nvidia_host(&f, 1);
	fixture_present(&f, "/dev/nvidia-caps/nvidia-cap1");
	fixture_present(&f, "/dev/nvidia-caps/nvidia-cap2");
	build_ok(&f, &req, &eff);
	assert_true(
	    assert_listed(&eff.read_write, "/dev/nvidia-caps/nvidia-cap1", SOURCE_GPU)->is_device);
	assert_true(
	    assert_listed(&eff.read_write, "/dev/nvidia-caps/nvidia-cap2", SOURCE_GPU)->is_device);
	assert_false(effective_lists_path(&eff, "/dev/nvidia-caps"));
	effective_free(&eff);
	fixture_free(&f);
}

static void test_gpu_selected_indices(void **state)
{
	struct effective_request req = {
	    .gpu = {.requested = true, .indices = {0, 2}, .n_indices = 2},
	};
	struct effective eff;
	struct fixture f;
	(void)state;

	fixture_init(&f);
	fixture_nvidia_host(&f, 4);
	build_ok(&f, &req, &eff);
	assert_listed(&eff.read_write, "/dev/nvidia0", SOURCE_GPU);
	assert_listed(&eff.read_write, "/dev/nvidia2", SOURCE_GPU);
	assert_false(effective_lists_path(&eff, "/dev/nvidia1"));
	assert_false(effective_lists_path(&eff, "/dev/nvidia3"));
	assert_listed(&eff.read_only, "/sys/bus/pci/devices/0000:10:00.0", SOURCE_GPU);
	assert_listed(&eff.read_only, "/sys/bus/pci/devices/0000:12:00.0", SOURCE_GPU);
	assert_false(effective_lists_path(&eff, "/sys/bus/pci/devices/0000:11:00.0"));
	assert_false(effective_lists_path(&eff, "/sys/bus/pci/devices/0000:13:00.0"));
	assert_listed(&eff.read_write, "/dev/nvidiactl", SOURCE_GPU);
	assert_int_equal(eff.gpu.n_indices, 2);
	effective_free(&eff);
	fixture_free(&f);
}

static void test_gpu_none_present(void **state)
{
	struct effective_request req = {.gpu = gpu_all};
	struct effective eff = {.landlock_abi = -1};
	struct error err = {0};
	struct fixture f;
	(void)state;

	fixture_init(&f);
	fixture_plain_host(&f);
	assert_int_equal(effective_build(&f.policy, &req, &f.host, &eff, &err), -ENODEV);
	assert_contains(err.message, "/dev/nvidiactl");
	assert_contains(err.message, "/dev/dxg");
	assert_contains(err.message, "driver is loaded");
	assert_contains(err.message, "injected");
	assert_int_equal(eff.landlock_abi, -1); /* untouched on failure */
	fixture_free(&f);
}

static void test_gpu_missing_index(void **state)
{
	struct effective_request req = {
	    .gpu = {.requested = true, .indices = {0, 5}, .n_indices = 2},
	};
	struct effective eff;
	struct error err = {0};
	struct fixture f;
	(void)state;

	fixture_init(&f);
	fixture_nvidia_host(&f, 4);
	assert_int_equal(effective_build(&f.policy, &req, &f.host, &eff, &err), -ENODEV);
	assert_contains(err.message, "GPU 5 does not exist");
	assert_contains(err.message, "0, 1, 2, 3");
	fixture_free(&f);
}

static void test_gpu_without_network_policies(void **state)
{
	struct effective_request req = {
	    .gpu = gpu_all, .network_set = true, .network = NETWORK_NONE};
	struct effective eff;
	struct fixture f;
	(void)state;

	fixture_init(&f);
	fixture_nvidia_host(&f, 1);
	default_like_policy(&f);
	assert_int_equal(f.policy.n_network_policies, 0);
	build_ok(&f, &req, &eff);
	assert_int_equal(eff.network, NETWORK_NONE);
	assert_listed(&eff.read_write, "/dev/nvidiactl", SOURCE_GPU);
	assert_listed(&eff.read_write, "/dev/nvidia0", SOURCE_GPU);
	procfs_addition(&eff);
	effective_free(&eff);
	fixture_free(&f);
}

static void test_proc_unlisted(void **state)
{
	struct effective_request req = {.gpu = gpu_all};
	struct effective eff;
	struct fixture f;
	(void)state;

	fixture_init(&f);
	fixture_nvidia_host(&f, 1);
	fixture_read_only(&f, "/usr", 1, 1);
	build_ok(&f, &req, &eff);
	assert_false(assert_listed(&eff.read_only, "/proc", SOURCE_GPU)->is_device);
	assert_null(effective_path_list_find(&eff.read_write, "/proc"));
	const struct runtime_addition *a = procfs_addition(&eff);
	assert_int_equal(a->access, ACCESS_WRITE_FILE | ACCESS_TRUNCATE);
	assert_contains(a->reason, "/proc/<pid>/task/<tid>/comm");
	assert_contains(a->reason, "304");
	assert_contains(a->reason, "descendant");
	assert_int_equal(eff.notes.len, 0);
	effective_free(&eff);
	fixture_free(&f);
}

static void test_proc_read_write_in_policy(void **state)
{
	struct effective_request req = {.gpu = gpu_all};
	struct effective eff;
	struct fixture f;
	(void)state;

	fixture_init(&f);
	fixture_nvidia_host(&f, 1);
	fixture_read_write(&f, "/proc", 2, 5);
	build_ok(&f, &req, &eff);
	assert_int_equal(eff.n_additions, 0);
	assert_false(effective_path_list_find(&eff.read_only, "/proc"));
	assert_int_equal(count_listed(&eff.read_write, "/proc"), 1);
	assert_listed(&eff.read_write, "/proc", SOURCE_POLICY);
	assert_int_equal(eff.notes.len, 1);
	assert_contains(eff.notes.items[0], "/proc is already read_write in the policy");
	assert_contains(eff.notes.items[0], "no procfs runtime addition is needed");
	effective_free(&eff);
	fixture_free(&f);
}

static void test_procfs_addition_rights_by_abi(void **state)
{
	static const struct {
		int abi;
		uint64_t access;
	} cases[] = {
	    {1, ACCESS_WRITE_FILE},
	    {2, ACCESS_WRITE_FILE},
	    {3, ACCESS_WRITE_FILE | ACCESS_TRUNCATE},
	    {4, ACCESS_WRITE_FILE | ACCESS_TRUNCATE},
	    {7, ACCESS_WRITE_FILE | ACCESS_TRUNCATE},
	};
	struct effective_request req = {.gpu = gpu_all};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct effective eff;
		struct fixture f;
		fixture_init(&f);
		fixture_nvidia_host(&f, 1);
		f.host.landlock_abi = cases[i].abi;
		build_ok(&f, &req, &eff);
		const struct runtime_addition *a = procfs_addition(&eff);
		assert_int_equal(a->access, cases[i].access);
		/* Only rights the ABI handles; never ioctl_dev on /proc. */
		assert_int_equal(a->access & ~access_handled_by_abi(cases[i].abi), 0);
		assert_int_equal(a->access & ACCESS_IOCTL_DEV, 0);
		assert_int_equal(eff.landlock_abi, cases[i].abi);
		effective_free(&eff);
		fixture_free(&f);
	}
}

static void test_procfs_addition_withheld(void **state)
{
	struct effective_request req = {.gpu = gpu_all, .withhold_procfs_addition = true};
	struct effective eff;
	struct fixture f;
	(void)state;

	fixture_init(&f);
	fixture_nvidia_host(&f, 1);
	default_like_policy(&f);
	build_ok(&f, &req, &eff);
	assert_int_equal(eff.n_additions, 0);
	assert_listed(&eff.read_write, "/dev/nvidiactl", SOURCE_GPU);
	assert_int_equal(eff.notes.len, 1);
	assert_contains(eff.notes.items[0], "withheld on request");
	assert_contains(eff.notes.items[0], "304");
	effective_free(&eff);
	fixture_free(&f);
}

static void test_gpu_conflict(void **state)
{
	struct effective_request req = {.gpu = gpu_all};
	struct effective eff;
	struct error err = {0};
	struct fixture f;
	(void)state;

	fixture_init(&f);
	fixture_nvidia_host(&f, 1);
	fixture_read_only(&f, "/dev", 12, 5);
	assert_int_equal(effective_build(&f.policy, &req, &f.host, &eff, &err), -EINVAL);
	assert_contains(err.message, "policy.yaml:12:5: read_only path '/dev' covers the GPU "
				     "device node /dev/nvidiactl");
	assert_contains(err.message, "NVML and CUDA open GPU device nodes read-write");
	assert_contains(err.message, "Remove '/dev' from read_only");
	fixture_free(&f);

	/* The same policy without --gpu is fine. */
	fixture_init(&f);
	fixture_nvidia_host(&f, 1);
	fixture_read_only(&f, "/dev", 12, 5);
	req.gpu = (struct gpu_selection){0};
	build_ok(&f, &req, &eff);
	effective_free(&eff);
	fixture_free(&f);
}

static void test_user_paths_kept(void **state)
{
	struct effective_request req = {.gpu = gpu_all, .workdir = "/w"};
	struct effective eff;
	struct fixture f;
	(void)state;

	fixture_init(&f);
	fixture_nvidia_host(&f, 1);
	f.policy.include_workdir = true;
	fixture_read_only(&f, "/sys/module/nvidia", 2, 3);
	fixture_read_only(&f, "/dev/nvidiactl", 3, 3);
	fixture_read_write(&f, "/dev/nvidiactl", 4, 3);
	fixture_read_write(&f, "/sys/devices/system/cpu", 5, 3);
	build_ok(&f, &req, &eff);
	assert_int_equal(eff.read_only.len,
			 f.policy.read_only.len + count_source(&eff.read_only, SOURCE_GPU));
	for (size_t i = 0; i < f.policy.read_only.len; i++)
		assert_int_equal(count_listed(&eff.read_only, f.read_only[i].path), 1);
	for (size_t i = 0; i < f.policy.read_write.len; i++)
		assert_int_equal(count_listed(&eff.read_write, f.read_write[i].path), 1);
	assert_listed(&eff.read_only, "/sys/module/nvidia", SOURCE_POLICY);
	const struct effective_path *p =
	    assert_listed(&eff.read_write, "/dev/nvidiactl", SOURCE_POLICY);
	assert_int_equal(p->mark.line, 4);
	assert_true(p->is_device);
	assert_listed(&eff.read_write, "/sys/devices/system/cpu", SOURCE_POLICY);
	assert_false(effective_path_list_find(&eff.read_only, "/sys/devices/system/cpu"));
	assert_listed(&eff.read_write, "/w", SOURCE_WORKDIR);
	effective_free(&eff);
	fixture_free(&f);
}

static void test_free_empty(void **state)
{
	struct effective eff = {0};
	(void)state;

	effective_free(&eff);
	effective_free(&eff);
	effective_free(NULL);
}

/* effective_to_json */

static json_t *json_path(json_t *doc, const char *a, const char *b)
{
	json_t *v = json_object_get(doc, a);

	if (!v)
		fail_msg("no key %s", a);
	if (!b)
		return v;
	v = json_object_get(v, b);
	if (!v)
		fail_msg("no key %s.%s", a, b);
	return v;
}

static bool json_array_has_string(json_t *array, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(array, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	}
	return false;
}

static json_t *effective_json(struct fixture *f, const struct effective_request *req)
{
	struct effective eff;
	json_t *doc;

	build_ok(f, req, &eff);
	doc = effective_to_json(&eff);
	assert_non_null(doc);
	/* Every list entry appears in the document. */
	for (size_t i = 0; i < eff.read_only.len; i++)
		assert_true(json_array_has_string(json_path(doc, "filesystem_policy", "read_only"),
						  eff.read_only.items[i].path));
	for (size_t i = 0; i < eff.read_write.len; i++)
		assert_true(json_array_has_string(json_path(doc, "filesystem_policy", "read_write"),
						  eff.read_write.items[i].path));
	assert_int_equal(json_array_size(json_path(doc, "filesystem_policy", "read_only")),
			 eff.read_only.len);
	assert_int_equal(json_array_size(json_path(doc, "filesystem_policy", "read_write")),
			 eff.read_write.len);
	effective_free(&eff);
	return doc;
}

static void test_json_gpu(void **state)
{
	struct effective_request req = {
	    .gpu = {.requested = true, .indices = {1}, .n_indices = 1},
	    .workdir = "/w",
	};
	struct fixture f;
	json_t *doc;
	(void)state;

	fixture_init(&f);
	fixture_nvidia_host(&f, 2);
	default_like_policy(&f);
	f.policy.include_workdir = true;
	doc = effective_json(&f, &req);

	json_t *sources = json_path(doc, "filesystem_policy", "sources");
	assert_string_equal(json_string_value(json_object_get(sources, "/w")), "workdir");
	assert_string_equal(json_string_value(json_object_get(sources, "/dev/nvidiactl")), "gpu");
	assert_string_equal(json_string_value(json_object_get(sources, "/dev/nvidia1")), "gpu");
	assert_string_equal(
	    json_string_value(json_object_get(sources, "/sys/bus/pci/devices/0000:11:00.0")),
	    "gpu");
	assert_null(json_object_get(sources, "/proc"));	    /* written in the policy */
	assert_null(json_object_get(sources, "/dev/null")); /* written in the policy */
	assert_null(json_object_get(sources, "/dev/nvidia0"));

	json_t *additions = json_object_get(doc, "runtime_additions");
	assert_int_equal(json_array_size(additions), 1);
	json_t *a = json_array_get(additions, 0);
	assert_string_equal(json_string_value(json_object_get(a, "path")), "/proc");
	json_t *access = json_object_get(a, "access");
	assert_int_equal(json_array_size(access), 2);
	assert_string_equal(json_string_value(json_array_get(access, 0)), "write_file");
	assert_string_equal(json_string_value(json_array_get(access, 1)), "truncate");
	assert_contains(json_string_value(json_object_get(a, "reason")), "error 304");

	assert_true(json_is_true(json_path(doc, "gpu", "requested")));
	json_t *selection = json_path(doc, "gpu", "selection");
	assert_int_equal(json_array_size(selection), 1);
	assert_int_equal(json_integer_value(json_array_get(selection, 0)), 1);
	assert_int_equal(json_integer_value(json_path(doc, "landlock", "abi")), 7);
	assert_string_equal(json_string_value(json_path(doc, "network", "mode")), "none");
	assert_int_equal(json_array_size(json_object_get(doc, "notes")), 0);
	json_decref(doc);
	fixture_free(&f);
}

static void test_json_without_gpu(void **state)
{
	struct effective_request req = {.network_set = true, .network = NETWORK_NONE};
	struct fixture f;
	json_t *doc;
	(void)state;

	fixture_init(&f);
	fixture_nvidia_host(&f, 2);
	default_like_policy(&f);
	doc = effective_json(&f, &req);
	assert_int_equal(json_object_size(json_path(doc, "filesystem_policy", "sources")), 0);
	assert_true(json_is_array(json_object_get(doc, "runtime_additions")));
	assert_int_equal(json_array_size(json_object_get(doc, "runtime_additions")), 0);
	assert_true(json_is_false(json_path(doc, "gpu", "requested")));
	assert_int_equal(json_array_size(json_path(doc, "gpu", "selection")), 0);
	assert_string_equal(json_string_value(json_path(doc, "network", "mode")), "none");
	assert_true(json_is_array(json_object_get(doc, "notes")));
	assert_int_equal(json_array_size(json_object_get(doc, "notes")), 0);
	json_decref(doc);
	fixture_free(&f);
}

static void test_json_isolation(void **state)
{
	struct effective_request req = {.isolate = true, .rootless = true, .hostname = "box"};
	static const char *const always[] = {"pid", "mount", "ipc", "uts"};
	struct fixture f;
	json_t *doc;
	(void)state;

	fixture_init(&f);
	f.host.user_namespaces = true;
	default_like_policy(&f);
	doc = effective_json(&f, &req);
	for (size_t i = 0; i < ARRAY_SIZE(always); i++)
		assert_true(json_is_true(json_path(doc, "isolation", always[i])));
	assert_true(json_is_true(json_path(doc, "isolation", "user")));
	assert_true(json_is_true(json_path(doc, "isolation", "private_tmp")));
	assert_string_equal(json_string_value(json_path(doc, "isolation", "hostname")), "box");
	json_decref(doc);

	req = (struct effective_request){0};
	doc = effective_json(&f, &req);
	for (size_t i = 0; i < ARRAY_SIZE(always); i++)
		assert_true(json_is_false(json_path(doc, "isolation", always[i])));
	assert_true(json_is_false(json_path(doc, "isolation", "user")));
	assert_true(json_is_false(json_path(doc, "isolation", "private_tmp")));
	assert_true(json_is_null(json_path(doc, "isolation", "hostname")));
	json_decref(doc);
	fixture_free(&f);
}

static void test_json_gpu_all_abi2_and_note(void **state)
{
	struct effective_request req = {.gpu = gpu_all};
	struct fixture f;
	json_t *doc;
	(void)state;

	fixture_init(&f);
	fixture_nvidia_host(&f, 1);
	f.host.landlock_abi = 2;
	doc = effective_json(&f, &req);
	assert_string_equal(json_string_value(json_path(doc, "gpu", "selection")), "all");
	assert_string_equal(json_string_value(json_object_get(
				json_path(doc, "filesystem_policy", "sources"), "/proc")),
			    "gpu");
	json_t *access =
	    json_object_get(json_array_get(json_object_get(doc, "runtime_additions"), 0), "access");
	assert_int_equal(json_array_size(access), 1);
	assert_string_equal(json_string_value(json_array_get(access, 0)), "write_file");
	json_decref(doc);
	fixture_free(&f);

	req.withhold_procfs_addition = true;
	fixture_init(&f);
	fixture_nvidia_host(&f, 1);
	doc = effective_json(&f, &req);
	assert_int_equal(json_array_size(json_object_get(doc, "runtime_additions")), 0);
	json_t *notes = json_object_get(doc, "notes");
	assert_int_equal(json_array_size(notes), 1);
	assert_contains(json_string_value(json_array_get(notes, 0)), "withheld on request");
	json_decref(doc);
	fixture_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_copies_policy),
	    cmocka_unit_test(test_network_mode),
	    cmocka_unit_test(test_isolation),
	    cmocka_unit_test(test_isolation_without_user_namespaces),
	    cmocka_unit_test(test_workdir_included),
	    cmocka_unit_test(test_workdir_excluded),
	    cmocka_unit_test(test_workdir_already_listed),
	    cmocka_unit_test(test_no_gpu_request_on_gpu_host),
	    cmocka_unit_test(test_gpu_baseline_nvidia),
	    cmocka_unit_test(test_gpu_baseline_wsl),
	    cmocka_unit_test(test_gpu_baseline_mig),
	    cmocka_unit_test(test_gpu_selected_indices),
	    cmocka_unit_test(test_gpu_none_present),
	    cmocka_unit_test(test_gpu_missing_index),
	    cmocka_unit_test(test_gpu_without_network_policies),
	    cmocka_unit_test(test_proc_unlisted),
	    cmocka_unit_test(test_proc_read_write_in_policy),
	    cmocka_unit_test(test_procfs_addition_rights_by_abi),
	    cmocka_unit_test(test_procfs_addition_withheld),
	    cmocka_unit_test(test_gpu_conflict),
	    cmocka_unit_test(test_user_paths_kept),
	    cmocka_unit_test(test_free_empty),
	    cmocka_unit_test(test_json_gpu),
	    cmocka_unit_test(test_json_without_gpu),
	    cmocka_unit_test(test_json_isolation),
	    cmocka_unit_test(test_json_gpu_all_abi2_and_note),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
