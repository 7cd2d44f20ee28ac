/* The sandbox's filesystem view: a private mount namespace holding a private
 * /dev of bind-mounted host device nodes, a fresh procfs with its sensitive
 * parts read-only or masked, and a private /tmp. */
#include "enforce/mounts.h"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"

#define DEV_PREFIX "/dev/"

static const char *const dev_standard_nodes[] = {
    "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
};

static const char *const dev_symlinks[][2] = {
    {"/dev/ptmx", "pts/ptmx"},		{"/dev/fd", "/proc/self/fd"},
    {"/dev/stdin", "/proc/self/fd/0"},	{"/dev/stdout", "/proc/self/fd/1"},
    {"/dev/stderr", "/proc/self/fd/2"},
};

static const char *const proc_read_only[] = {
    "/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs",
};

static const char *const proc_masked_files[] = {
    "/proc/kcore",
    "/proc/keys",
    "/proc/timer_list",
    "/proc/sched_debug",
};

static const char *const proc_masked_dirs[] = {"/proc/acpi"};

/* A host device node held as a detached bind mount (open_tree), to be
 * attached at the same path in the private /dev. */
struct dev_node {
	const char *path; /* borrowed */
	int tree_fd;
};

struct dev_nodes {
	struct dev_node *items;
	size_t len;
};

static void dev_nodes_free(struct dev_nodes *nodes)
{
	for (size_t i = 0; i < nodes->len; i++)
		closep(&nodes->items[i].tree_fd);
	free(nodes->items);
}

/* An absolute path under /dev/ whose components are neither empty nor "."
 * nor "..", so that it names the same place inside and outside. */
static bool device_path_valid(const char *path)
{
	const char *c;

	if (strncmp(path, DEV_PREFIX, strlen(DEV_PREFIX)) != 0)
		return false;
	for (c = path + strlen(DEV_PREFIX);;) {
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (c[n] == '\0')
			return true;
		c += n + 1;
	}
}

static int device_paths_check(const struct isolation_spec *spec, struct error *err)
{
	for (size_t i = 0; i < spec->n_device_paths; i++)
		if (!device_path_valid(spec->device_paths[i]))
			return error_set(err, EINVAL,
					 "device path %s: not an absolute path under " DEV_PREFIX,
					 spec->device_paths[i]);
	return 0;
}

static int dev_node_open(const char *path, struct dev_node *ret, struct error *err)
{
	_cleanup_close_ int fd = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return error_set_errno(err, errno, "open_tree %s", path);
	if (fstat(fd, &st) < 0)
		return error_set_errno(err, errno, "fstat %s", path);
	if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
		return error_set(err, EINVAL, "device path %s: not a character or block device",
				 path);
	*ret = (struct dev_node){.path = path, .tree_fd = TAKE_FD(fd)};
	return 0;
}

static bool dev_nodes_contain(const struct dev_nodes *nodes, const char *path)
{
	for (size_t i = 0; i < nodes->len; i++)
		if (strcmp(nodes->items[i].path, path) == 0)
			return true;
	return false;
}

static int dev_nodes_add(struct dev_nodes *nodes, const char *path, struct error *err)
{
	int r;

	if (dev_nodes_contain(nodes, path))
		return 0;
	r = dev_node_open(path, &nodes->items[nodes->len], err);
	if (r < 0)
		return r;
	nodes->len++;
	return 0;
}

/* Clones of the host's nodes, taken while the host's /dev is still visible. */
static int dev_nodes_open(const struct isolation_spec *spec, struct dev_nodes *ret,
			  struct error *err)
{
	size_t max = ARRAY_SIZE(dev_standard_nodes) + spec->n_device_paths;
	int r;

	ret->items = calloc(max, sizeof(*ret->items));
	if (!ret->items)
		return error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < ARRAY_SIZE(dev_standard_nodes); i++) {
		r = dev_nodes_add(ret, dev_standard_nodes[i], err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < spec->n_device_paths; i++) {
		r = dev_nodes_add(ret, spec->device_paths[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int mount_fs(const char *type, const char *target, unsigned long flags, const char *options,
		    struct error *err)
{
	if (mount(type, target, type, flags, options) < 0)
		return error_set_errno(err, errno, "mount %s on %s", type, target);
	return 0;
}

static int make_dir(const char *path, mode_t mode, struct error *err)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return error_set_errno(err, errno, "mkdir %s", path);
	return 0;
}

/* Creates the directories between /dev/ and the node, such as
 * /dev/nvidia-caps. */
static int dev_make_parents(const char *path, struct error *err)
{
	char dir[PATH_MAX];
	const char *slash;

	for (slash = strchr(path + strlen(DEV_PREFIX), '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		size_t len = (size_t)(slash - path);
		int r;

		if (len >= sizeof(dir))
			return error_set(err, ENAMETOOLONG, "device path %s: too long", path);
		memcpy(dir, path, len);
		dir[len] = '\0';
		r = make_dir(dir, 0755, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int dev_node_attach(const struct dev_node *node, struct error *err)
{
	int r = dev_make_parents(node->path, err);

	if (r < 0)
		return r;
	if (mknod(node->path, S_IFREG | 0444, 0) < 0)
		return error_set_errno(err, errno, "mknod %s", node->path);
	if (move_mount(node->tree_fd, "", AT_FDCWD, node->path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return error_set_errno(err, errno, "move_mount %s", node->path);
	return 0;
}

static int dev_setup(const struct dev_nodes *nodes, struct error *err)
{
	int r = mount_fs("tmpfs", "/dev", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755", err);

	for (size_t i = 0; r >= 0 && i < nodes->len; i++)
		r = dev_node_attach(&nodes->items[i], err);
	if (r >= 0)
		r = make_dir("/dev/pts", 0755, err);
	if (r >= 0)
		r = mount_fs("devpts", "/dev/pts", MS_NOSUID | MS_NOEXEC,
			     "newinstance,ptmxmode=0666,mode=0620", err);
	if (r >= 0)
		r = make_dir("/dev/shm", 01777, err);
	if (r >= 0)
		r = mount_fs("tmpfs", "/dev/shm", MS_NOSUID | MS_NODEV, "mode=1777", err);
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(dev_symlinks); i++)
		if (symlink(dev_symlinks[i][1], dev_symlinks[i][0]) < 0)
			r = error_set_errno(err, errno, "symlink %s -> %s", dev_symlinks[i][0],
					    dev_symlinks[i][1]);
	return r;
}

/* The flags of an existing mount that a remount must repeat: in a user
 * namespace the kernel locks them on mounts that came from the host. */
static unsigned long mount_flags_kept(unsigned long st_flags)
{
	static const struct {
		unsigned long st, ms;
	} map[] = {
	    {ST_NOSUID, MS_NOSUID},   {ST_NODEV, MS_NODEV},	      {ST_NOEXEC, MS_NOEXEC},
	    {ST_NOATIME, MS_NOATIME}, {ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME},
	};
	unsigned long flags = 0;

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (st_flags & map[i].st)
			flags |= map[i].ms;
	return flags;
}

static int bind_read_only(const char *path, struct error *err)
{
	struct statvfs st;

	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return error_set_errno(err, errno, "mount --bind %s %s", path, path);
	if (statvfs(path, &st) < 0)
		return error_set_errno(err, errno, "statvfs %s", path);
	if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | mount_flags_kept(st.f_flag),
		  NULL) < 0)
		return error_set_errno(err, errno, "mount -o remount,bind,ro %s", path);
	return 0;
}

static int mask_file(const char *path, struct error *err)
{
	if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0)
		return error_set_errno(err, errno, "mount --bind /dev/null %s", path);
	return 0;
}

static int mask_dir(const char *path, struct error *err)
{
	return mount_fs("tmpfs", path, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0555",
			err);
}

/* Runs `apply` on each entry of `paths` that this kernel's procfs has. */
static int proc_entries_apply(const char *const *paths, size_t n,
			      int (*apply)(const char *path, struct error *err), struct error *err)
{
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		int r;

		if (lstat(paths[i], &st) < 0 && errno == ENOENT) {
			log_debug("proc_entry_absent", "%s does not exist on this kernel: skipped",
				  paths[i]);
			continue;
		}
		r = apply(paths[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* In a user namespace the kernel refuses a new procfs while any part of the
 * existing one is covered, as it usually is inside a container: say so. */
static int proc_mount(bool user_ns, struct error *err)
{
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0)
		return 0;
	if (errno == EPERM && user_ns)
		return error_set(err, EPERM,
				 "mount proc on /proc: %s (in a user namespace a new procfs is "
				 "refused while part of the host's /proc is covered, as inside "
				 "most containers)",
				 strerror(EPERM));
	return error_set_errno(err, errno, "mount proc on /proc");
}

static int proc_setup(bool user_ns, struct error *err)
{
	int r = proc_mount(user_ns, err);

	if (r >= 0)
		r = proc_entries_apply(proc_read_only, ARRAY_SIZE(proc_read_only), bind_read_only,
				       err);
	if (r >= 0)
		r = proc_entries_apply(proc_masked_files, ARRAY_SIZE(proc_masked_files), mask_file,
				       err);
	if (r >= 0)
		r = proc_entries_apply(proc_masked_dirs, ARRAY_SIZE(proc_masked_dirs), mask_dir,
				       err);
	return r;
}

static int mount_namespace_enter(struct error *err)
{
	if (unshare(CLONE_NEWNS) < 0)
		return error_set_errno(err, errno, "unshare(CLONE_NEWNS)");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return error_set_errno(err, errno, "mount --make-rprivate /");
	return 0;
}

int mounts_setup(const struct isolation_spec *spec, struct error *err)
{
	_cleanup_(dev_nodes_free) struct dev_nodes nodes = {0};
	int r;

	r = device_paths_check(spec, err);
	if (r < 0)
		return r;
	r = mount_namespace_enter(err);
	if (r < 0)
		return r;
	r = dev_nodes_open(spec, &nodes, err);
	if (r < 0)
		return r;
	r = dev_setup(&nodes, err);
	if (r < 0)
		return r;
	r = proc_setup(spec->user_ns, err);
	if (r < 0)
		return r;
	if (spec->private_tmp) {
		r = mount_fs("tmpfs", "/tmp", MS_NOSUID | MS_NODEV, "mode=1777", err);
		if (r < 0)
			return r;
	}
	log_info("mounts", "mounts: private /dev with %zu device nodes, fresh /proc, %s /tmp",
		 nodes.len, spec->private_tmp ? "private" : "host's");
	return 0;
}
