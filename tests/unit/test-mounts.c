/* mounts_setup() on the real kernel: a fresh procfs with read-only and masked
 * entries, a private /dev holding exactly the expected nodes plus the
 * selected GPU stand-ins, a private or shared /tmp, as root and as uid 65534
 * in a user namespace, and the host's mount table untouched. */
#include <dirent.h>
#include <ftw.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>

#include "isolation-harness.h"

static const char *const read_only_files[] = {"/proc/sys/kernel/hostname", "/proc/sysrq-trigger"};
static const char *const read_only_dirs[] = {"/proc/sys", "/proc/irq", "/proc/bus", "/proc/fs"};
static const char *const masked_files[] = {"/proc/kcore", "/proc/keys", "/proc/timer_list",
					   "/proc/sched_debug"};
static const char *const gpu_selected[] = {"/dev/nvidia0", "/dev/nvidia-caps/nvidia-cap1"};
static const char *const gpu_unselected[] = {"/dev/nvidia1", "/dev/nvidia-caps/nvidia-cap2"};
static const char *const dev_links[][2] = {
    {"/dev/ptmx", "pts/ptmx"},		{"/dev/fd", "/proc/self/fd"},
    {"/dev/stdin", "/proc/self/fd/0"},	{"/dev/stdout", "/proc/self/fd/1"},
    {"/dev/stderr", "/proc/self/fd/2"},
};
/* Every entry of the private /dev, sorted, for a sandbox given gpu_selected. */
static const char dev_entries[] = "fd full null nvidia-caps nvidia0 ptmx pts random shm stderr "
				  "stdin stdout tty urandom zero";

/* A file the test process creates in the host's /tmp. */
static char marker_path[64];

static const char *fs_name(const char *path)
{
	static char other[32];
	struct statfs st;

	if (statfs(path, &st) < 0)
		return strerrorname_np(errno);
	switch ((unsigned long)st.f_type) {
	case TMPFS_MAGIC:
		return "tmpfs";
	case DEVPTS_SUPER_MAGIC:
		return "devpts";
	case PROC_SUPER_MAGIC:
		return "proc";
	}
	snprintf(other, sizeof(other), "0x%lx", (unsigned long)st.f_type);
	return other;
}

/* The names in a directory, sorted, space-separated. */
static void dir_list(const char *path, char *out, size_t size)
{
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort);
	size_t len = 0;

	out[0] = '\0';
	if (n < 0) {
		snprintf(out, size, "%s", strerrorname_np(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;

		if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0 && len < size)
			len +=
			    (size_t)snprintf(out + len, size - len, "%s%s", len ? " " : "", name);
		free(names[i]);
	}
	free(names);
}

static void report_dir(int fd, const char *path)
{
	char list[1024];

	dir_list(path, list, sizeof(list));
	report(fd, path_key("ls", path), "%s", list);
}

/* "chr MAJOR:MINOR" for a device node, "absent", or the file type. */
static void report_node(int fd, const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		report(fd, path_key("node", path), "%s", errno == ENOENT ? "absent" : "error");
	else if (S_ISCHR(st.st_mode))
		report(fd, path_key("node", path), "chr %u:%u", major(st.st_rdev),
		       minor(st.st_rdev));
	else
		report(fd, path_key("node", path), "mode 0%o", st.st_mode & S_IFMT);
}

/* The number of bytes a read of up to 4 KiB returns, or the errno's name. */
static void report_read(int fd, const char *path)
{
	char buf[4096];
	int f = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (f < 0) {
		report(fd, path_key("read", path), "%s", strerrorname_np(errno));
		return;
	}
	n = read(f, buf, sizeof(buf));
	report(fd, path_key("read", path), "%s", n < 0 ? strerrorname_np(errno) : n ? "data" : "0");
	close(f);
}

static void report_read_only(int fd, const char *path)
{
	struct statvfs st;

	if (statvfs(path, &st) < 0)
		report(fd, path_key("ro", path), "%s", strerrorname_np(errno));
	else
		report(fd, path_key("ro", path), "%s", st.f_flag & ST_RDONLY ? "yes" : "no");
}

/* An open for writing with O_TRUNC fails with EROFS on a read-only mount
 * before any permission check, so the answer is the same as root and as an
 * unprivileged user, and nothing is ever written. */
static void report_write_open(int fd, const char *key_path, const char *path)
{
	int f = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);

	report(fd, path_key("write", key_path), "%s", outcome(f));
	if (f >= 0)
		close(f);
}

static char first_file[PATH_MAX];

static int first_file_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	snprintf(first_file, sizeof(first_file), "%s", path);
	return 1;
}

/* Some regular file under a read-only directory, opened for writing. */
static void report_write_in_dir(int fd, const char *dir)
{
	first_file[0] = '\0';
	if (nftw(dir, first_file_visit, 8, FTW_PHYS) <= 0) {
		report(fd, path_key("write", dir), "no regular file");
		return;
	}
	report(fd, path_key("file", dir), "%s", first_file);
	report_write_open(fd, dir, first_file);
}

/* The numeric entries of /proc: the processes this procfs shows. */
static void report_proc_pids(int fd)
{
	char list[1024] = "", path[64];
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t len = 0;

	while (d && (e = readdir(d)))
		if (strspn(e->d_name, "0123456789") == strlen(e->d_name) && len < sizeof(list))
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
						len ? " " : "", e->d_name);
	if (d)
		closedir(d);
	report(fd, "proc_pids", "%s", list);
	snprintf(path, sizeof(path), "/proc/%d", (int)harness_host_pid);
	report(fd, "proc_host_pid", "%s", outcome(access(path, F_OK)));
}

static void probe_proc(int fd)
{
	report(fd, path_key("fs", "/proc"), "%s", fs_name("/proc"));
	report_proc_pids(fd);
	for (size_t i = 0; i < ARRAY_SIZE(read_only_files); i++)
		report_write_open(fd, read_only_files[i], read_only_files[i]);
	for (size_t i = 0; i < ARRAY_SIZE(read_only_dirs); i++) {
		if (access(read_only_dirs[i], F_OK) < 0)
			report(fd, path_key("write", read_only_dirs[i]), "%s",
			       strerrorname_np(errno));
		else
			report_write_in_dir(fd, read_only_dirs[i]);
		report_read_only(fd, read_only_dirs[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(masked_files); i++) {
		report_node(fd, masked_files[i]);
		report_read(fd, masked_files[i]);
	}
	report(fd, path_key("fs", "/proc/acpi"), "%s", fs_name("/proc/acpi"));
	report_read_only(fd, "/proc/acpi");
	report_dir(fd, "/proc/acpi");
}

static void probe_pty(int fd)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), slave;
	const char *name;

	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 ||
	    !(name = ptsname(master))) {
		report(fd, "pty", "%s", strerrorname_np(errno));
		return;
	}
	slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	report(fd, "pty", "%s %s", name, outcome(slave));
	close(slave);
	close(master);
}

static void probe_dev(int fd)
{
	char target[256];
	int f;

	report_dir(fd, "/dev");
	report_dir(fd, "/dev/nvidia-caps");
	for (size_t i = 0; i < ARRAY_SIZE(harness_standins); i++) {
		f = open(harness_standins[i], O_RDWR | O_CLOEXEC);
		report(fd, path_key("open", harness_standins[i]), "%s", outcome(f));
		if (f >= 0)
			close(f);
	}
	f = open("/dev/null", O_WRONLY | O_CLOEXEC);
	report(fd, path_key("write", "/dev/null"), "%s", outcome(f < 0 ? -1 : write(f, "x", 1)));
	close(f);
	for (size_t i = 0; i < ARRAY_SIZE(dev_links); i++) {
		ssize_t n = readlink(dev_links[i][0], target, sizeof(target) - 1);

		target[n < 0 ? 0 : n] = '\0';
		report(fd, path_key("link", dev_links[i][0]), "%s", target);
	}
	report(fd, path_key("fs", "/dev"), "%s", fs_name("/dev"));
	report(fd, path_key("fs", "/dev/pts"), "%s", fs_name("/dev/pts"));
	report(fd, path_key("fs", "/dev/shm"), "%s", fs_name("/dev/shm"));
	probe_pty(fd);
}

static void probe_tmp(int fd)
{
	report(fd, path_key("fs", "/tmp"), "%s", fs_name("/tmp"));
	report_dir(fd, "/tmp");
	report(fd, "marker", "%s", outcome(access(marker_path, F_OK)));
}

static void probe_filesystem(int fd)
{
	probe_proc(fd);
	probe_dev(fd);
	probe_tmp(fd);
}

static void assert_proc(const char *text)
{
	assert_string_equal(report_value(text, path_key("fs", "/proc")), "proc");
	/* Only the probe, PID 1 of the sandbox, and not the test process. */
	assert_string_equal(report_value(text, "proc_pids"), "1");
	assert_string_equal(report_value(text, "proc_host_pid"), "ENOENT");
	for (size_t i = 0; i < ARRAY_SIZE(read_only_files); i++)
		assert_string_equal(report_value(text, path_key("write", read_only_files[i])),
				    host_has(read_only_files[i]) ? "EROFS" : "ENOENT");
	for (size_t i = 0; i < ARRAY_SIZE(read_only_dirs); i++) {
		bool present = host_has(read_only_dirs[i]);

		assert_string_equal(report_value(text, path_key("write", read_only_dirs[i])),
				    present ? "EROFS" : "ENOENT");
		assert_string_equal(report_value(text, path_key("ro", read_only_dirs[i])),
				    present ? "yes" : "ENOENT");
	}
	for (size_t i = 0; i < ARRAY_SIZE(masked_files); i++) {
		bool present = host_has(masked_files[i]);

		assert_string_equal(report_value(text, path_key("node", masked_files[i])),
				    present ? "chr 1:3" : "absent");
		assert_string_equal(report_value(text, path_key("read", masked_files[i])),
				    present ? "0" : "ENOENT");
	}
	if (host_has("/proc/acpi")) {
		assert_string_equal(report_value(text, path_key("fs", "/proc/acpi")), "tmpfs");
		assert_string_equal(report_value(text, path_key("ro", "/proc/acpi")), "yes");
		assert_string_equal(report_value(text, path_key("ls", "/proc/acpi")), "");
	}
}

static void assert_dev(const char *text)
{
	assert_string_equal(report_value(text, path_key("ls", "/dev")), dev_entries);
	assert_string_equal(report_value(text, path_key("ls", "/dev/nvidia-caps")), "nvidia-cap1");
	for (size_t i = 0; i < ARRAY_SIZE(gpu_selected); i++)
		assert_string_equal(report_value(text, path_key("open", gpu_selected[i])), "ok");
	for (size_t i = 0; i < ARRAY_SIZE(gpu_unselected); i++)
		assert_string_equal(report_value(text, path_key("open", gpu_unselected[i])),
				    "ENOENT");
	assert_string_equal(report_value(text, path_key("write", "/dev/null")), "ok");
	for (size_t i = 0; i < ARRAY_SIZE(dev_links); i++)
		assert_string_equal(report_value(text, path_key("link", dev_links[i][0])),
				    dev_links[i][1]);
	assert_string_equal(report_value(text, path_key("fs", "/dev")), "tmpfs");
	assert_string_equal(report_value(text, path_key("fs", "/dev/pts")), "devpts");
	assert_string_equal(report_value(text, path_key("fs", "/dev/shm")), "tmpfs");
	/* A new devpts instance numbers its terminals from 0. */
	assert_string_equal(report_value(text, "pty"), "/dev/pts/0 ok");
}

static void assert_private_tmp(const char *text)
{
	assert_string_equal(report_value(text, path_key("fs", "/tmp")), "tmpfs");
	assert_string_equal(report_value(text, path_key("ls", "/tmp")), "");
	assert_string_equal(report_value(text, "marker"), "ENOENT");
}

static int marker_setup(void **state)
{
	int f;

	(void)state;
	snprintf(marker_path, sizeof(marker_path), "/tmp/lockshell-test-mounts.%d", (int)getpid());
	f = open(marker_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (f < 0)
		return -1;
	close(f);
	return 0;
}

static int marker_teardown(void **state)
{
	(void)state;
	return unlink(marker_path);
}

static struct sandbox_case filesystem_case(bool rootless)
{
	return (struct sandbox_case){
	    .spec = {.user_ns = rootless,
		     .hostname = "mounts",
		     .private_tmp = true,
		     .device_paths = gpu_selected,
		     .n_device_paths = ARRAY_SIZE(gpu_selected)},
	    .rootless = rootless,
	    .probe = probe_filesystem,
	};
}

static void test_mounts_as_root(void **state)
{
	struct sandbox_case c = filesystem_case(false);
	char *text;

	(void)state;
	skip_unless_root();
	text = sandbox_run(&c);
	assert_sandbox_ready(text);
	assert_proc(text);
	assert_dev(text);
	assert_private_tmp(text);
	free(text);
}

static void test_mounts_rootless(void **state)
{
	struct sandbox_case c = filesystem_case(true);
	char *text;

	(void)state;
	skip_unless_root();
	text = sandbox_run(&c);
	assert_string_equal(report_value(text, "enter_userns"), "new");
	assert_sandbox_ready(text);
	assert_proc(text);
	assert_dev(text);
	assert_private_tmp(text);
	free(text);
}

static void test_mounts_shared_tmp(void **state)
{
	struct sandbox_case c = filesystem_case(false);
	char host_tmp_fs[32];
	char *text;

	(void)state;
	skip_unless_root();
	c.spec.private_tmp = false;
	snprintf(host_tmp_fs, sizeof(host_tmp_fs), "%s", fs_name("/tmp"));
	text = sandbox_run(&c);
	assert_sandbox_ready(text);
	assert_string_equal(report_value(text, path_key("fs", "/tmp")), host_tmp_fs);
	assert_string_equal(report_value(text, "marker"), "ok");
	free(text);
}

/* The host's /proc partly covered, as inside a container. */
static void cover_proc_keys(int fd)
{
	harness_require(fd, mount("/dev/null", "/proc/keys", NULL, MS_BIND, NULL) == 0,
			"mount --bind /dev/null /proc/keys");
}

/* Rootless under a covered /proc the kernel refuses a fresh procfs; the
 * error says why instead of showing the host's processes. */
static void test_mounts_rootless_covered_proc(void **state)
{
	struct sandbox_case c = filesystem_case(true);
	char *text;

	(void)state;
	skip_unless_root();
	c.before_enter = cover_proc_keys;
	text = sandbox_run(&c);
	assert_string_equal(report_value(text, "enter_msg"), "ok");
	assert_string_equal(report_value(text, "setup_rc"), "-1");
	assert_non_null(
	    strstr(report_value(text, "setup_msg"),
		   "mount proc on /proc: Operation not permitted (in a user namespace"));
	free(text);
}

/* mounts_setup() refuses device paths outside /dev or with dot components,
 * missing ones and files that are not device nodes, naming the path. */
static void test_mounts_bad_device_paths(void **state)
{
	static const struct {
		const char *path;
		int rc;
		const char *message;
	} cases[] = {
	    {"/etc/passwd", -EINVAL, "device path /etc/passwd: not an absolute path under /dev/"},
	    {"/dev/../etc/passwd", -EINVAL, "device path /dev/../etc/passwd: not an absolute"},
	    {"/dev/", -EINVAL, "device path /dev/: not an absolute"},
	    {"dev/nvidia0", -EINVAL, "device path dev/nvidia0: not an absolute"},
	    {"/dev/nvidia7", -ENOENT, "open_tree /dev/nvidia7: No such file or directory"},
	    {HARNESS_NOT_A_DEVICE, -EINVAL,
	     "device path " HARNESS_NOT_A_DEVICE ": not a character or block device"},
	};

	(void)state;
	skip_unless_root();
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *const paths[] = {cases[i].path};
		struct sandbox_case c = {.spec = {.device_paths = paths, .n_device_paths = 1}};
		char rc[16];
		char *text = sandbox_run(&c);

		snprintf(rc, sizeof(rc), "%d", cases[i].rc);
		assert_string_equal(report_value(text, "enter_msg"), "ok");
		assert_string_equal(report_value(text, "setup_rc"), rc);
		assert_non_null(strstr(report_value(text, "setup_msg"), cases[i].message));
		free(text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_mounts_as_root, marker_setup, marker_teardown),
	    cmocka_unit_test_setup_teardown(test_mounts_rootless, marker_setup, marker_teardown),
	    cmocka_unit_test_setup_teardown(test_mounts_shared_tmp, marker_setup, marker_teardown),
	    cmocka_unit_test(test_mounts_rootless_covered_proc),
	    cmocka_unit_test(test_mounts_bad_device_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
