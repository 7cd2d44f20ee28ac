/* The sandbox's filesystem view: a private mount namespace holding a private
 * /dev of bind-mounted host device nodes, a fresh procfs with its sensitive
 * parts read-only or masked, a private /tmp and a private /run. */
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
#define TMP_PREFIX "/tmp/"
#define RUN_PREFIX "/run/"

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

/* A host path held as a detached bind mount (open_tree), to be attached at
 * the same path in a private /dev, /tmp or /run. */
struct carried {
	const char *path; /* borrowed */
	int tree_fd;
	mode_t mode;
};

struct carried_list {
	struct carried *items;
	size_t len;
};

static void carried_list_free(struct carried_list *list)
{
	for (size_t i = 0; i < list->len; i++)
		closep(&list->items[i].tree_fd);
	free(list->items);
}

static int carried_list_alloc(struct carried_list *list, size_t max, struct error *err)
{
	list->items = calloc(max ? max : 1, sizeof(*list->items));
	if (!list->items)
		return error_set(err, ENOMEM, "out of memory");
	return 0;
}

/* An absolute path under `prefix` (ending in '/') without ".." components,
 * so that it names the same place inside and outside. Strict: no empty or
 * "." components either (device paths); otherwise they are tolerated, as
 * in "/tmp/dir/" written in a policy. */
static bool path_valid_under(const char *path, const char *prefix, bool strict)
{
	const char *c = path + strlen(prefix);

	if (strncmp(path, prefix, strlen(prefix)) != 0 || *c == '\0')
		return false;
	for (;;) {
		size_t n = strcspn(c, "/");

		if (n == 2 && c[0] == '.' && c[1] == '.')
			return false;
		if (strict && (n == 0 || (n == 1 && c[0] == '.')))
			return false;
		if (c[n] == '\0')
			return true;
		c += n + 1;
	}
}

static int paths_check(const char *const *paths, size_t n, const char *prefix, bool strict,
		       const char *what, struct error *err)
{
	for (size_t i = 0; i < n; i++)
		if (!path_valid_under(paths[i], prefix, strict))
			return error_set(err, EINVAL, "%s %s: not an absolute path under %s", what,
					 paths[i], prefix);
	return 0;
}

static int spec_check(const struct isolation_spec *spec, struct error *err)
{
	int r = paths_check(spec->device_paths, spec->n_device_paths, DEV_PREFIX, true,
			    "device path", err);

	if (r >= 0 && spec->private_tmp)
		r = paths_check(spec->tmp_paths, spec->n_tmp_paths, TMP_PREFIX, false, "/tmp path",
				err);
	if (r >= 0)
		r = paths_check(spec->run_paths, spec->n_run_paths, RUN_PREFIX, false, "/run path",
				err);
	return r;
}

/* Clones the mount at path (with the mounts below it when recursive). */
static int carried_open(const char *path, bool recursive, struct carried *ret, struct error *err)
{
	unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
	_cleanup_close_ int fd = open_tree(AT_FDCWD, path, flags);
	struct stat st;

	if (fd < 0)
		return error_set_errno(err, errno, "open_tree %s", path);
	if (fstat(fd, &st) < 0)
		return error_set_errno(err, errno, "fstat %s", path);
	*ret = (struct carried){.path = path, .tree_fd = TAKE_FD(fd), .mode = st.st_mode};
	return 0;
}

static bool carried_list_contains(const struct carried_list *list, const char *path)
{
	for (size_t i = 0; i < list->len; i++)
		if (strcmp(list->items[i].path, path) == 0)
			return true;
	return false;
}

/* A standard node the host lacks is left out; a requested one must exist. */
static int dev_nodes_add(struct carried_list *nodes, const char *path, bool standard,
			 struct error *err)
{
	struct carried *node = &nodes->items[nodes->len];
	int r;

	if (carried_list_contains(nodes, path))
		return 0;
	r = carried_open(path, false, node, err);
	if (r == -ENOENT && standard) {
		log_debug("dev_node_absent", "%s does not exist on the host: left out", path);
		return 0;
	}
	if (r < 0)
		return r;
	nodes->len++;
	if (!S_ISCHR(node->mode) && !S_ISBLK(node->mode))
		return error_set(err, EINVAL, "device path %s: not a character or block device",
				 path);
	return 0;
}

/* Clones of the host's nodes, taken while the host's /dev is still visible. */
static int dev_nodes_open(const struct isolation_spec *spec, struct carried_list *ret,
			  struct error *err)
{
	int r = carried_list_alloc(ret, ARRAY_SIZE(dev_standard_nodes) + spec->n_device_paths, err);

	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(dev_standard_nodes); i++)
		r = dev_nodes_add(ret, dev_standard_nodes[i], true, err);
	for (size_t i = 0; r >= 0 && i < spec->n_device_paths; i++)
		r = dev_nodes_add(ret, spec->device_paths[i], false, err);
	return r;
}

/* The length of path without its trailing slashes ("/" keeps its one). */
static size_t path_len(const char *path)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	return n;
}

/* Whether a is b or a directory above it; trailing slashes do not count. */
static bool path_covers(const char *a, const char *b)
{
	size_t n = path_len(a);

	return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/' || n == 1);
}

/* Whether paths[i] is visible anyway through another entry. */
static bool path_redundant(const char *const *paths, size_t n, size_t i)
{
	for (size_t j = 0; j < n; j++)
		if (j != i && path_covers(paths[j], paths[i]) &&
		    (strcmp(paths[j], paths[i]) != 0 || j < i))
			return true;
	return false;
}

/* Clones of the host's entries below a directory about to be covered (/tmp,
 * /run) that are to stay visible, taken before it is covered. Entries that
 * do not exist are skipped: the Landlock rules decide what a missing path
 * means. */
static int covered_paths_open(const char *const *paths, size_t n, struct carried_list *ret,
			      struct error *err)
{
	int r = carried_list_alloc(ret, n, err);

	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (path_redundant(paths, n, i))
			continue;
		r = carried_open(paths[i], true, &ret->items[ret->len], err);
		if (r == -ENOENT) {
			log_debug("carried_path_absent", "%s does not exist: not kept", paths[i]);
			r = 0;
		} else if (r >= 0) {
			ret->len++;
		}
	}
	return r;
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

/* Creates the directories between the mount point `prefix` and path, such as
 * /dev/nvidia-caps. */
static int make_parents(const char *path, const char *prefix, struct error *err)
{
	char dir[PATH_MAX];
	const char *slash;

	for (slash = strchr(path + strlen(prefix), '/'); slash; slash = strchr(slash + 1, '/')) {
		size_t len = (size_t)(slash - path);
		int r;

		if (len >= sizeof(dir))
			return error_set(err, ENAMETOOLONG, "path %s: too long", path);
		memcpy(dir, path, len);
		dir[len] = '\0';
		r = make_dir(dir, 0755, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Attaches a clone at its path below prefix, onto an empty directory or
 * file made for it. */
static int carried_attach(const struct carried *c, const char *prefix, struct error *err)
{
	int r = make_parents(c->path, prefix, err);

	if (r < 0)
		return r;
	if (S_ISDIR(c->mode))
		r = make_dir(c->path, 0755, err);
	else if (mknod(c->path, S_IFREG | 0444, 0) < 0)
		r = error_set_errno(err, errno, "mknod %s", c->path);
	if (r < 0)
		return r;
	if (move_mount(c->tree_fd, "", AT_FDCWD, c->path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return error_set_errno(err, errno, "move_mount %s", c->path);
	return 0;
}

static int dev_setup(const struct carried_list *nodes, struct error *err)
{
	int r = mount_fs("tmpfs", "/dev", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755", err);

	for (size_t i = 0; r >= 0 && i < nodes->len; i++)
		r = carried_attach(&nodes->items[i], DEV_PREFIX, err);
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

/* A fresh tmpfs on the directory prefix names, holding the carried
 * entries. */
static int covered_setup(const char *prefix, const char *mode,
			 const struct carried_list *carried, struct error *err)
{
	int r = mount_fs("tmpfs", prefix, MS_NOSUID | MS_NODEV, mode, err);

	for (size_t i = 0; r >= 0 && i < carried->len; i++)
		r = carried_attach(&carried->items[i], prefix, err);
	return r;
}

/* The read-only view. Every mount the sandbox inherits from the host is
 * made read-only, and the policy's read_write entries are bound back as the
 * host has them; a read_only entry below a read_write one (or below the
 * private /tmp or /run) is bound read-only on its own. A write Landlock
 * would allow is then refused by the mount too where the policy says
 * read_only, and chmod, utimensat, setxattr or a rename outside every
 * read_write entry, which Landlock does not govern or governs per path
 * only, get EROFS. /dev and /proc are lockshell's own mounts and keep their
 * own rules. */
struct view_entry {
	const char *path; /* borrowed */
	size_t len;	  /* without trailing slashes */
	size_t depth;	  /* number of components */
	bool read_write;
	bool bind;   /* needs a mount of its own */
	int tree_fd; /* read_write: the host's tree, cloned before "/" turns read-only */
};

struct view {
	struct view_entry *items;
	size_t len;
};

static void view_free(struct view *v)
{
	for (size_t i = 0; i < v->len; i++)
		closep(&v->items[i].tree_fd);
	free(v->items);
}

/* The entry for path (len bytes, without trailing slashes); NULL if none. */
static struct view_entry *view_find(struct view *v, const char *path, size_t len)
{
	for (size_t i = 0; i < v->len; i++)
		/* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): entries below len are filled */
		if (v->items[i].len == len && memcmp(v->items[i].path, path, len) == 0)
			return &v->items[i];
	return NULL;
}

/* Adds the entries outside /dev and /proc, each path once: one listed in
 * both lists is read_write, as Landlock makes it. */
static void view_add(struct view *v, const char *const *paths, size_t n, bool read_write)
{
	for (size_t i = 0; i < n; i++) {
		struct view_entry *e = &v->items[v->len];
		size_t len = path_len(paths[i]);
		struct view_entry *seen;

		if (paths[i][0] != '/' || path_covers("/dev", paths[i]) ||
		    path_covers("/proc", paths[i]))
			continue;
		seen = view_find(v, paths[i], len);
		if (seen) {
			seen->read_write |= read_write;
			continue;
		}
		*e = (struct view_entry){.path = paths[i], .len = len, .read_write = read_write,
					 .tree_fd = -1};
		for (size_t j = 1; j < len; j++)
			e->depth += paths[i][j] == '/';
		v->len++;
	}
}

/* The listed entry closest above e; NULL when none. */
static const struct view_entry *view_parent(const struct view *v, const struct view_entry *e)
{
	const struct view_entry *best = NULL;

	for (size_t i = 0; i < v->len; i++) {
		const struct view_entry *o = &v->items[i];

		if (o != e && path_covers(o->path, e->path) && (!best || o->len > best->len))
			best = o;
	}
	return best;
}

static int view_depth_cmp(const void *a, const void *b)
{
	const struct view_entry *x = a, *y = b;

	return (x->depth > y->depth) - (x->depth < y->depth);
}

/* Decides which entries need a mount of their own, and clones the host's
 * tree of each read_write one before anything changes. */
static int view_open(const struct isolation_spec *spec, bool private_run, struct view *v,
		     struct error *err)
{
	v->items = calloc(spec->n_read_only_paths + spec->n_read_write_paths + 1,
			  sizeof(*v->items));
	if (!v->items)
		return error_set(err, ENOMEM, "out of memory");
	view_add(v, spec->read_only_paths, spec->n_read_only_paths, false);
	view_add(v, spec->read_write_paths, spec->n_read_write_paths, true);
	qsort(v->items, v->len, sizeof(*v->items), view_depth_cmp);
	for (size_t i = 0; i < v->len; i++) {
		struct view_entry *e = &v->items[i];
		const struct view_entry *parent = view_parent(v, e);
		/* The private /tmp and /run are writable tmpfs holding the
		 * host's entries as they are. */
		bool parent_rw = parent ? parent->read_write
					: (spec->private_tmp && path_covers("/tmp", e->path)) ||
					      (private_run && path_covers("/run", e->path));
		struct carried c;
		int r;

		e->bind = e->read_write != parent_rw;
		if (!e->bind || !e->read_write)
			continue;
		r = carried_open(e->path, true, &c, err);
		if (r == -ENOENT)
			e->bind = false;
		else if (r < 0)
			return r;
		else
			e->tree_fd = c.tree_fd;
	}
	return 0;
}

static int view_read_only_root(struct error *err)
{
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};

	if (mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return error_set_errno(err, errno, "mount_setattr / read-only, recursively");
	return 0;
}

/* Binds the entries that need it, shallowest first. */
static int view_attach(struct view *v, struct error *err)
{
	struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};

	for (size_t i = 0; i < v->len; i++) {
		struct view_entry *e = &v->items[i];

		if (!e->bind)
			continue;
		if (!e->read_write) {
			struct carried c;
			int r = carried_open(e->path, true, &c, err);

			if (r == -ENOENT)
				continue;
			if (r < 0)
				return r;
			e->tree_fd = c.tree_fd;
			if (mount_setattr(e->tree_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &ro,
					  sizeof(ro)) < 0)
				return error_set_errno(err, errno, "mount_setattr %s read-only",
						       e->path);
		}
		if (move_mount(e->tree_fd, "", AT_FDCWD, e->path,
			       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS) < 0)
			return error_set_errno(err, errno, "move_mount %s", e->path);
		closep(&e->tree_fd);
	}
	return 0;
}

static size_t view_binds(const struct view *v)
{
	size_t n = 0;

	for (size_t i = 0; i < v->len; i++)
		n += v->items[i].bind;
	return n;
}

/* Whether the host has a /run directory to cover. */
static bool run_present(void)
{
	struct stat st;

	return lstat("/run", &st) == 0 && S_ISDIR(st.st_mode);
}

int mounts_setup(const struct isolation_spec *spec, struct error *err)
{
	_cleanup_(carried_list_free) struct carried_list nodes = {0};
	_cleanup_(carried_list_free) struct carried_list tmp = {0};
	_cleanup_(carried_list_free) struct carried_list run = {0};
	_cleanup_(view_free) struct view view = {0};
	bool private_run;
	int r;

	r = spec_check(spec, err);
	if (r < 0)
		return r;
	r = mount_namespace_enter(err);
	if (r < 0)
		return r;
	private_run = run_present();
	r = dev_nodes_open(spec, &nodes, err);
	if (r >= 0 && spec->private_tmp)
		r = covered_paths_open(spec->tmp_paths, spec->n_tmp_paths, &tmp, err);
	if (r >= 0 && private_run)
		r = covered_paths_open(spec->run_paths, spec->n_run_paths, &run, err);
	if (r >= 0)
		r = view_open(spec, private_run, &view, err);
	if (r >= 0)
		r = view_read_only_root(err);
	if (r >= 0)
		r = dev_setup(&nodes, err);
	if (r >= 0)
		r = proc_setup(spec->user_ns, err);
	if (r >= 0 && spec->private_tmp)
		r = covered_setup(TMP_PREFIX, "mode=1777", &tmp, err);
	if (r >= 0 && private_run)
		r = covered_setup(RUN_PREFIX, "mode=0755", &run, err);
	if (r >= 0)
		r = view_attach(&view, err);
	if (r < 0)
		return r; /* NOLINT(clang-analyzer-unix.Malloc): carried_list_free frees it */
	log_info("mounts",
		 "mounts: private /dev with %zu device nodes, fresh /proc, %s /tmp (%zu host "
		 "paths kept), %s /run (%zu host paths kept), host mounts read-only but for %zu "
		 "bound entries",
		 nodes.len, spec->private_tmp ? "private" : "host's", tmp.len,
		 private_run ? "private" : "no", run.len, view_binds(&view));
	return 0;
}
