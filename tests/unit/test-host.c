/* Host probing: the GPU inventory and baseline paths of fake trees (WSL2 with
 * only /dev/dxg, MIG caps, several GPUs, none), the user-namespace and seccomp
 * facts, the Landlock classification, and the real kernel (including Landlock
 * blocked by a seccomp filter in a forked child). */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/host.h"

struct tree {
	char root[64];
};

/* Creates root/rel with its parent directories: a directory when rel ends in
 * '/', a regular file (standing in for a device node) otherwise. */
static void tree_add(const struct tree *t, const char *rel, const char *content)
{
	char path[512];
	int n = snprintf(path, sizeof(path), "%s/%s", t->root, rel);

	assert_true(n > 0 && (size_t)n < sizeof(path));
	for (char *p = path + strlen(t->root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	if (path[strlen(path) - 1] == '/')
		return;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	if (content)
		assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

static void tree_link(const struct tree *t, const char *rel, const char *target)
{
	char path[512];
	int n = snprintf(path, sizeof(path), "%s/%s", t->root, rel);

	assert_true(n > 0 && (size_t)n < sizeof(path));
	assert_int_equal(symlink(target, path), 0);
}

static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	snprintf(t->root, sizeof(t->root), "/tmp/lockshell-host-XXXXXX");
	if (!mkdtemp(t->root))
		return -1;
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static void probe(const struct tree *t, struct host *h)
{
	struct error err = {0};

	if (host_probe_at(t->root, h, &err) < 0)
		fail_msg("host_probe_at: %s", err.message);
}

static void assert_paths(const struct host *h, const char *const *expected)
{
	size_t n = 0;

	for (; expected[n]; n++) {
		if (n >= h->present_paths.len)
			fail_msg("missing present path %s", expected[n]);
		assert_string_equal(h->present_paths.items[n], expected[n]);
	}
	if (h->present_paths.len != n)
		fail_msg("unexpected present path %s", h->present_paths.items[n]);
}

static void test_no_gpu(void **state)
{
	const struct tree *t = *state;
	struct host h;

	tree_add(t, "dev/null", NULL);
	tree_add(t, "dev/nvidia-caps/", NULL); /* not a GPU node by itself */
	tree_add(t, "sys/devices/system/cpu/", NULL);
	probe(t, &h);
	assert_false(h.gpu_present);
	assert_int_equal(h.n_gpus, 0);
	assert_paths(&h, (const char *const[]){"/sys/devices/system/cpu", NULL});
	assert_false(host_path_present(&h, "/proc"));
	host_free(&h);
}

static void test_wsl2_only_dxg(void **state)
{
	const struct tree *t = *state;
	struct host h;

	tree_add(t, "dev/dxg", NULL);
	tree_add(t, "usr/lib/wsl/lib/libcuda.so.1", NULL);
	tree_add(t, "proc/", NULL);
	probe(t, &h);
	assert_true(h.gpu_present);
	assert_int_equal(h.n_gpus, 0);
	assert_paths(&h, (const char *const[]){"/dev/dxg", "/usr/lib/wsl", "/proc", NULL});
	assert_true(host_path_present(&h, "/dev/dxg"));
	assert_false(host_path_present(&h, "/dev/nvidiactl"));
	host_free(&h);
}

static void add_gpu_info(const struct tree *t, const char *bdf, unsigned minor)
{
	char rel[256], info[256];

	snprintf(rel, sizeof(rel), "proc/driver/nvidia/gpus/%s/information", bdf);
	snprintf(info, sizeof(info),
		 "Model: \t\t NVIDIA H200\nIRQ:   \t\t 42\nBus Location: \t %s\n"
		 "Device Minor: \t %u\nBlacklisted:\t No\n",
		 bdf, minor);
	tree_add(t, rel, info);
}

static void test_several_gpus(void **state)
{
	const struct tree *t = *state;
	static const char *const nodes[] = {
	    "dev/nvidiactl",
	    "dev/nvidia-uvm",
	    "dev/nvidia-uvm-tools",
	    "dev/nvidia-modeset",
	    "dev/nvidia0",
	    "dev/nvidia1",
	    "dev/nvidia2",
	    "dev/nvidia10",
	    "dev/nvidia",
	    "dev/nvidia1a",
	    "dev/nvidia-foo",
	    "run/nvidia-persistenced/socket",
	    "sys/module/nvidia/initstate",
	    "sys/module/nvidia_uvm/initstate",
	    "sys/devices/system/cpu/online",
	    "sys/devices/system/node/online",
	    "sys/bus/pci/devices/0000:3b:00.0/vendor",
	    "sys/devices/pci0000:80/0000:86:00.0/vendor",
	    "proc/",
	};
	struct host h;

	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++)
		tree_add(t, nodes[i], NULL);
	/* /sys/bus/pci/devices entries are symlinks into /sys/devices. */
	tree_link(t, "sys/bus/pci/devices/0000:86:00.0",
		  "../../../devices/pci0000:80/0000:86:00.0");
	add_gpu_info(t, "0000:3b:00.0", 0);
	add_gpu_info(t, "0000:86:00.0", 1);
	add_gpu_info(t, "0000:af:00.0", 10); /* no PCI directory present */
	add_gpu_info(t, "0000:ff:00.0", 7);  /* no /dev/nvidia7: ignored */
	probe(t, &h);
	assert_true(h.gpu_present);
	assert_int_equal(h.n_gpus, 4);
	assert_int_equal(h.gpus[0].index, 0);
	assert_string_equal(h.gpus[0].pci_bdf, "0000:3b:00.0");
	assert_int_equal(h.gpus[1].index, 1);
	assert_string_equal(h.gpus[1].pci_bdf, "0000:86:00.0");
	assert_int_equal(h.gpus[2].index, 2);
	assert_string_equal(h.gpus[2].pci_bdf, "");
	assert_int_equal(h.gpus[3].index, 10);
	assert_string_equal(h.gpus[3].pci_bdf, "0000:af:00.0");
	assert_paths(&h, (const char *const[]){
			     "/dev/nvidiactl",
			     "/dev/nvidia-uvm",
			     "/dev/nvidia-uvm-tools",
			     "/dev/nvidia-modeset",
			     "/dev/nvidia0",
			     "/dev/nvidia1",
			     "/dev/nvidia2",
			     "/dev/nvidia10",
			     "/run/nvidia-persistenced",
			     "/sys/module/nvidia",
			     "/sys/module/nvidia_uvm",
			     "/sys/bus/pci/devices/0000:3b:00.0",
			     "/sys/bus/pci/devices/0000:86:00.0",
			     "/sys/devices/system/cpu",
			     "/sys/devices/system/node",
			     "/proc",
			     NULL,
			 });
	host_free(&h);
}

static void test_mig_caps(void **state)
{
	const struct tree *t = *state;
	struct host h;

	tree_add(t, "dev/nvidiactl", NULL);
	tree_add(t, "dev/nvidia0", NULL);
	tree_add(t, "dev/nvidia-caps/nvidia-cap2", NULL);
	tree_add(t, "dev/nvidia-caps/nvidia-cap10", NULL);
	tree_add(t, "dev/nvidia-caps/nvidia-cap1", NULL);
	tree_add(t, "dev/nvidia-caps/README", NULL);
	add_gpu_info(t, "0000:07:00.0", 0);
	probe(t, &h);
	assert_true(h.gpu_present);
	assert_int_equal(h.n_gpus, 1);
	assert_string_equal(h.gpus[0].pci_bdf, "0000:07:00.0");
	assert_paths(&h, (const char *const[]){
			     "/dev/nvidiactl",
			     "/dev/nvidia0",
			     "/dev/nvidia-caps/nvidia-cap1",
			     "/dev/nvidia-caps/nvidia-cap2",
			     "/dev/nvidia-caps/nvidia-cap10",
			     "/proc",
			     NULL,
			 });
	host_free(&h);
}

static void test_process_status_and_user_namespaces(void **state)
{
	const struct tree *t = *state;
	struct host h;

	probe(t, &h);
	assert_true(h.user_namespaces); /* nothing says otherwise */
	assert_int_equal(h.seccomp_mode, 0);
	host_free(&h);

	tree_add(t, "proc/self/status",
		 "Name:\tx\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t1\n");
	tree_add(t, "proc/sys/user/max_user_namespaces", "15000\n");
	tree_add(t, "proc/sys/kernel/unprivileged_userns_clone", "0\n");
	probe(t, &h);
	assert_int_equal(h.seccomp_mode, 2);
	assert_false(h.user_namespaces);
	host_free(&h);

	tree_add(t, "proc/sys/kernel/unprivileged_userns_clone", "1\n");
	probe(t, &h);
	assert_true(h.user_namespaces);
	host_free(&h);

	tree_add(t, "proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1\n");
	probe(t, &h);
	assert_false(h.user_namespaces);
	host_free(&h);

	tree_add(t, "proc/sys/kernel/apparmor_restrict_unprivileged_userns", "0\n");
	tree_add(t, "proc/sys/user/max_user_namespaces", "0\n");
	probe(t, &h);
	assert_false(h.user_namespaces);
	host_free(&h);
}

static void test_lsm_list_read(void **state)
{
	const struct tree *t = *state;
	struct host h;

	tree_add(t, "sys/kernel/security/lsm", "lockdown,capability,landlock,yama,apparmor\n");
	probe(t, &h);
	assert_string_equal(h.lsm, "lockdown,capability,landlock,yama,apparmor");
	host_free(&h);
}

static void test_classify_landlock(void **state)
{
	(void)state;
	assert_int_equal(host_classify_landlock(EOPNOTSUPP, 0, ""), LANDLOCK_NOT_ENABLED);
	assert_int_equal(host_classify_landlock(EOPNOTSUPP, 2, "capability,yama"),
			 LANDLOCK_NOT_ENABLED);
	assert_int_equal(host_classify_landlock(ENOSYS, 0, ""), LANDLOCK_NOT_BUILT);
	assert_int_equal(host_classify_landlock(ENOSYS, 0, "capability,yama"), LANDLOCK_NOT_BUILT);
	assert_int_equal(host_classify_landlock(ENOSYS, 2, ""), LANDLOCK_BLOCKED);
	assert_int_equal(host_classify_landlock(ENOSYS, 0, "capability,landlock,yama"),
			 LANDLOCK_BLOCKED);
	assert_int_equal(host_classify_landlock(ENOSYS, 2, "capability,yama"), LANDLOCK_NOT_BUILT);
	assert_int_equal(host_classify_landlock(EPERM, 2, ""), LANDLOCK_BLOCKED);
	assert_int_equal(host_classify_landlock(EPERM, 2, "capability,yama"), LANDLOCK_BLOCKED);
	assert_int_equal(host_classify_landlock(EPERM, 0, ""), LANDLOCK_OTHER);
	assert_int_equal(host_classify_landlock(EINVAL, 2, ""), LANDLOCK_OTHER);
	/* "landlockx" is not "landlock". */
	assert_int_equal(host_classify_landlock(ENOSYS, 0, "landlockx"), LANDLOCK_NOT_BUILT);
}

static void test_status_names_and_advice(void **state)
{
	(void)state;
	assert_non_null(
	    strstr(landlock_status_advice(LANDLOCK_NOT_BUILT), "CONFIG_SECURITY_LANDLOCK"));
	assert_non_null(strstr(landlock_status_advice(LANDLOCK_NOT_ENABLED), "lsm=landlock"));
	assert_non_null(strstr(landlock_status_advice(LANDLOCK_BLOCKED),
			       "landlock_create_ruleset, landlock_add_rule and "
			       "landlock_restrict_self"));
	assert_string_equal(landlock_status_name(LANDLOCK_AVAILABLE), "available");
	assert_string_equal(landlock_status_name(LANDLOCK_BLOCKED), "blocked by a seccomp profile");
	assert_string_not_equal(landlock_status_name(LANDLOCK_NOT_BUILT),
				landlock_status_name(LANDLOCK_NOT_ENABLED));
}

static void test_real_host(void **state)
{
	struct error err = {0};
	struct utsname uts;
	struct host h;

	(void)state;
	assert_int_equal(host_probe(&h, &err), 0);
	assert_int_equal(uname(&uts), 0);
	assert_string_equal(h.kernel_release, uts.release);
	/* This project's machines offer Landlock; the ABI is the kernel's. */
	assert_int_equal(h.landlock_status, LANDLOCK_AVAILABLE);
	assert_int_equal(h.landlock_abi, syscall(SYS_landlock_create_ruleset, NULL, 0, 1U));
	assert_true(h.landlock_abi >= 1);
	assert_true(h.seccomp_available);
	assert_int_equal(h.no_new_privs, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
	assert_true(host_path_present(&h, "/proc"));
	host_free(&h);
}

/* In a child: a seccomp filter answers landlock_create_ruleset with errno. */
static int probe_under_filter(int errno_value)
{
	struct sock_filter insns[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 444, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)errno_value),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(insns) / sizeof(insns[0]), .filter = insns};
	struct error err = {0};
	struct host h;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return 10;
	if (host_probe(&h, &err) < 0)
		return 11;
	if (h.landlock_abi != 0 || h.landlock_errno != errno_value || h.seccomp_mode != 2 ||
	    !h.no_new_privs)
		return 12;
	return h.landlock_status == LANDLOCK_BLOCKED ? 0 : 13;
}

static void test_real_landlock_blocked_by_seccomp(void **state)
{
	static const int errnos[] = {ENOSYS, EPERM};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		int status;
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			_exit(probe_under_filter(errnos[i]));
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
}

#define TREE_TEST(fn) cmocka_unit_test_setup_teardown(fn, tree_setup, tree_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TREE_TEST(test_no_gpu),
	    TREE_TEST(test_wsl2_only_dxg),
	    TREE_TEST(test_several_gpus),
	    TREE_TEST(test_mig_caps),
	    TREE_TEST(test_process_status_and_user_namespaces),
	    TREE_TEST(test_lsm_list_read),
	    cmocka_unit_test(test_classify_landlock),
	    cmocka_unit_test(test_status_names_and_advice),
	    cmocka_unit_test(test_real_host),
	    cmocka_unit_test(test_real_landlock_blocked_by_seccomp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
