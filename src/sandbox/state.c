/* The on-disk side of named sandboxes: where the state directory is and who
 * may use it, sandbox names, per-sandbox directories with their lock, the
 * atomic state file, and process liveness checked against pid reuse. */
#include "sandbox/state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"

#define LOCK_FILE     "lock"
#define STATE_TMP     STATE_FILE ".tmp"
/* A directory in the making: its creator's pid and start time, then random. */
#define NEW_DIR_PREFIX ".new-"
/* A state file holds two policies; far below this. */
#define STATE_FILE_MAX_BYTES (16L * 1024 * 1024)

static const char *const name_adjectives[] = {
    "amber", "bold",  "brisk", "calm",	"clear", "deft",  "eager",  "fair",
    "quiet", "keen",  "lucid", "mild",	"neat",	 "plain", "proud",  "quick",
    "rapid", "sharp", "sleek", "solid", "spry",	 "stark", "steady", "still",
    "swift", "tidy",  "true",  "vivid", "warm",	 "wise",  "young",  "zesty",
};
static const char *const name_nouns[] = {
    "badger", "crane", "falcon", "ferret", "finch",  "gecko",  "heron",	 "ibis",
    "jackal", "koala", "lark",	 "lemur",  "lynx",   "marten", "newt",	 "ocelot",
    "osprey", "otter", "panda",	 "puffin", "quail",  "raven",  "robin",	 "salmon",
    "shrike", "stoat", "swift",	 "tapir",  "toucan", "viper",  "walrus", "wren",
};

/* --- the state directory ------------------------------------------------- */

static int state_dir_path(char **ret)
{
	const char *env = getenv(STATE_DIR_ENV);
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (env && *env)
		n = asprintf(ret, "%s", env);
	else if (geteuid() == 0)
		n = asprintf(ret, "/run/lockshell");
	else if (xdg && *xdg == '/')
		n = asprintf(ret, "%s/lockshell", xdg);
	else
		n = asprintf(ret, "/tmp/lockshell-%u", (unsigned)geteuid());
	return n < 0 ? -ENOMEM : 0;
}

static int state_dir_check(const char *path, int fd, struct error *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return error_set_errno(err, errno, "state directory %s: fstat", path);
	if (st.st_uid != geteuid())
		return error_set(err, EPERM,
				 "state directory %s belongs to uid %u, not to uid %u: refusing to "
				 "use it",
				 path, (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return error_set(err, EPERM,
				 "state directory %s is writable by other users (mode %04o): "
				 "refusing to use it",
				 path, (unsigned)(st.st_mode & 07777));
	return 0;
}

int state_dir_open(char **ret_path, int *ret_fd, struct error *err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	if (state_dir_path(&path) < 0)
		return error_set(err, ENOMEM, "state directory: out of memory");
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return error_set_errno(err, errno, "cannot create the state directory %s", path);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return error_set_errno(err, errno, "cannot open the state directory %s", path);
	r = state_dir_check(path, fd, err);
	if (r < 0)
		return r;
	*ret_path = TAKE_PTR(path);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* --- names ---------------------------------------------------------------- */

static bool name_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return !first && (c == '_' || c == '.' || c == '-');
}

bool sandbox_name_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > SANDBOX_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char(name[i], i == 0))
			return false;
	return true;
}

int sandbox_name_check(const char *name, struct error *err)
{
	if (sandbox_name_valid(name))
		return 0;
	return error_set(err, EINVAL,
			 "invalid sandbox name '%s': 1 to %d characters, letters, digits, '_', "
			 "'.' and '-', starting with a letter or digit",
			 name, SANDBOX_NAME_MAX);
}

int sandbox_name_generate(char ret[static SANDBOX_NAME_MAX + 1], struct error *err)
{
	uint32_t rnd[3];

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return error_set_errno(err, errno, "getrandom (generating a sandbox name)");
	snprintf(ret, SANDBOX_NAME_MAX + 1, "%s-%s-%04u",
		 name_adjectives[rnd[0] % ARRAY_SIZE(name_adjectives)],
		 name_nouns[rnd[1] % ARRAY_SIZE(name_nouns)], (unsigned)(rnd[2] % 10000));
	return 0;
}

/* --- liveness ----------------------------------------------------------- */

int proc_stat_parse(const char *text, uint64_t *ret_start, char *ret_state)
{
	/* comm may hold spaces and parentheses: fields resume after the last ')'. */
	static const char space[] = " \t\n\v\f\r";
	const char *p = strrchr(text, ')');
	unsigned long long start;
	char state = 0, *end;

	if (!p)
		return -EIO;
	/* The state is field 3, the start time field 22. */
	for (int field = 3; field < 22; field++) {
		p += 1 + strspn(p + 1, space);
		if (!*p)
			return -EIO;
		if (field == 3)
			state = *p;
		p += strcspn(p, space) - 1;
	}
	p += 1 + strspn(p + 1, space);
	if (*p < '0' || *p > '9')
		return -EIO;
	errno = 0;
	start = strtoull(p, &end, 10);
	if (errno || (*end && !strchr(space, *end)))
		return -EIO;
	*ret_start = start;
	*ret_state = state;
	return 0;
}

/* The state (field 3) and start time (field 22) of /proc/PID/stat. */
static int proc_stat_read(pid_t pid, uint64_t *ret_start, char *ret_state)
{
	char path[64], buf[1024];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	return proc_stat_parse(buf, ret_start, ret_state);
}

int process_start_time(pid_t pid, uint64_t *ret)
{
	char state;

	return proc_stat_read(pid, ret, &state);
}

bool process_matches(pid_t pid, uint64_t start_time)
{
	uint64_t now;
	char state;

	return pid > 0 && proc_stat_read(pid, &now, &state) == 0 && now == start_time &&
	       state != 'Z' && state != 'X';
}

/* --- sandbox directories ------------------------------------------------- */

void sandbox_dir_close(struct sandbox_dir *d)
{
	closep(&d->lock_fd);
	closep(&d->dir_fd);
	d->lock_fd = d->dir_fd = -1;
}

/* Fails with -ENOENT once the lock file has been unlinked by a removal. */
static int lock_check_linked(struct sandbox_dir *d, struct error *err)
{
	struct stat st;

	if (fstat(d->lock_fd, &st) < 0)
		return error_set_errno(err, errno, "sandbox %s: fstat of its lock file", d->name);
	if (st.st_nlink == 0)
		return error_set(err, ENOENT, "no sandbox named '%s'", d->name);
	return 0;
}

int sandbox_dir_lock(struct sandbox_dir *d, int how, struct error *err)
{
	int r;

	do
		r = flock(d->lock_fd, how);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return error_set_errno(err, errno, "sandbox %s: flock", d->name);
	r = lock_check_linked(d, err);
	if (r < 0)
		flock(d->lock_fd, LOCK_UN);
	return r;
}

void sandbox_dir_unlock(struct sandbox_dir *d)
{
	flock(d->lock_fd, LOCK_UN);
}

int sandbox_dir_open(int state_fd, const char *name, int how, struct sandbox_dir *ret,
		     struct error *err)
{
	struct sandbox_dir d = SANDBOX_DIR_INIT;
	int r;

	r = sandbox_name_check(name, err);
	if (r < 0)
		return r;
	snprintf(d.name, sizeof(d.name), "%s", name);
	d.dir_fd = openat(state_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	/* Read-only: flock needs no write access, and a state directory on a
	 * read-only filesystem can still be listed and its sandboxes entered. */
	if (d.dir_fd >= 0)
		d.lock_fd = openat(d.dir_fd, LOCK_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (d.lock_fd < 0) {
		r = errno == ENOENT ? error_set(err, ENOENT, "no sandbox named '%s'", name)
				    : error_set_errno(err, errno, "cannot open sandbox %s", name);
		sandbox_dir_close(&d);
		return r;
	}
	r = sandbox_dir_lock(&d, how, err);
	if (r < 0) {
		sandbox_dir_close(&d);
		return r;
	}
	*ret = d;
	return 0;
}

/* Unlinks every entry of the directory (only plain files are expected). */
static int dir_empty(struct sandbox_dir *d, struct error *err)
{
	int fd = fcntl(d->dir_fd, F_DUPFD_CLOEXEC, 0);
	_cleanup_closedir_ DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!dir) {
		closep(&fd);
		return error_set_errno(err, errno, "sandbox %s: reading its directory", d->name);
	}
	rewinddir(dir);
	while ((de = readdir(dir)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    strcmp(de->d_name, LOCK_FILE) != 0 && unlinkat(d->dir_fd, de->d_name, 0) < 0)
			return error_set_errno(err, errno, "sandbox %s: removing %s", d->name,
					       de->d_name);
	if (unlinkat(d->dir_fd, LOCK_FILE, 0) < 0)
		return error_set_errno(err, errno, "sandbox %s: removing its lock file", d->name);
	return 0;
}

int sandbox_dir_remove(int state_fd, struct sandbox_dir *d, struct error *err)
{
	int r = dir_empty(d, err);

	if (r < 0)
		return r;
	if (unlinkat(state_fd, d->name, AT_REMOVEDIR) < 0)
		return error_set_errno(err, errno, "sandbox %s: removing its directory", d->name);
	return 0;
}

/* The directory under a temporary name, with its lock taken and the state
 * written; the caller renames it into place. */
static int dir_build(int state_fd, char *tmp_name, const json_t *state, struct sandbox_dir *d,
		     struct error *err)
{
	int r;

	if (!mkdtemp(tmp_name))
		return error_set_errno(err, errno, "cannot create a sandbox directory");
	d->dir_fd = openat(state_fd, tmp_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d->dir_fd < 0)
		return error_set_errno(err, errno, "cannot open the new sandbox directory");
	d->lock_fd =
	    openat(d->dir_fd, LOCK_FILE, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (d->lock_fd < 0)
		return error_set_errno(err, errno, "cannot create the sandbox's lock file");
	if (flock(d->lock_fd, LOCK_EX) < 0)
		return error_set_errno(err, errno, "sandbox %s: flock", d->name);
	r = state_write(d, state, err);
	return r;
}

/* mkdtemp() works on paths: the state directory is reached by descriptor.
 * The name says who builds it, so that a later create can tell when its
 * builder died before renaming it into place. */
static int state_fd_path(int state_fd, char *buf, size_t size)
{
	uint64_t start = 0;
	int n;

	process_start_time(getpid(), &start);
	n = snprintf(buf, size, "/proc/self/fd/%d/" NEW_DIR_PREFIX "%d-%" PRIu64 "-XXXXXX",
		     state_fd, (int)getpid(), start);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Whether name is a directory in the making whose builder is gone. */
static bool new_dir_abandoned(const char *name)
{
	const char *p = name + strlen(NEW_DIR_PREFIX);
	unsigned long long start;
	char *end;
	long pid;

	if (strncmp(name, NEW_DIR_PREFIX, strlen(NEW_DIR_PREFIX)) != 0 || *p < '0' || *p > '9')
		return false;
	errno = 0;
	pid = strtol(p, &end, 10);
	if (errno || *end != '-' || pid <= 0 || pid > INT_MAX || end[1] < '0' || end[1] > '9')
		return false;
	start = strtoull(end + 1, &end, 10);
	if (errno || *end != '-')
		return false;
	return !process_matches((pid_t)pid, start);
}

/* Removes the directories in the making of creators that were killed. */
static void new_dirs_sweep(int state_fd)
{
	int fd = openat(state_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_closedir_ DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!dir) {
		closep(&fd);
		return;
	}
	while ((de = readdir(dir))) {
		struct sandbox_dir d = SANDBOX_DIR_INIT;

		if (!new_dir_abandoned(de->d_name))
			continue;
		d.dir_fd = openat(state_fd, de->d_name,
				  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		snprintf(d.name, sizeof(d.name), "%.*s", SANDBOX_NAME_MAX, de->d_name);
		if (d.dir_fd >= 0)
			dir_empty(&d, &(struct error){0});
		unlinkat(state_fd, de->d_name, AT_REMOVEDIR);
		sandbox_dir_close(&d);
	}
}

int sandbox_dir_create(int state_fd, const char *name, const json_t *state, struct sandbox_dir *ret,
		       struct error *err)
{
	struct sandbox_dir d = SANDBOX_DIR_INIT;
	char tmp_path[128];
	const char *tmp_name;
	int r;

	r = sandbox_name_check(name, err);
	if (r < 0)
		return r;
	snprintf(d.name, sizeof(d.name), "%s", name);
	new_dirs_sweep(state_fd);
	if (state_fd_path(state_fd, tmp_path, sizeof(tmp_path)) < 0)
		return error_set(err, ENAMETOOLONG, "sandbox %s: path too long", name);
	tmp_name = strrchr(tmp_path, '/') + 1;
	r = dir_build(state_fd, tmp_path, state, &d, err);
	if (r >= 0 && renameat2(state_fd, tmp_name, state_fd, name, RENAME_NOREPLACE) < 0)
		r = errno == EEXIST || errno == ENOTEMPTY
			? error_set(err, EEXIST, "a sandbox named '%s' already exists", name)
			: error_set_errno(err, errno, "sandbox %s: renaming its directory", name);
	if (r < 0) {
		if (d.dir_fd >= 0)
			dir_empty(&d, &(struct error){0});
		unlinkat(state_fd, tmp_name, AT_REMOVEDIR);
		sandbox_dir_close(&d);
		return r;
	}
	*ret = d;
	return 0;
}

/* --- the state file ------------------------------------------------------ */

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int state_write(const struct sandbox_dir *d, const json_t *state, struct error *err)
{
	_cleanup_free_ char *text = json_dumps(state, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	_cleanup_close_ int fd = -1;
	int r;

	if (!text)
		return error_set(err, ENOMEM, "sandbox %s: serializing its state", d->name);
	fd = openat(d->dir_fd, STATE_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return error_set_errno(err, errno, "sandbox %s: creating %s", d->name, STATE_TMP);
	r = write_all(fd, text, strlen(text));
	if (r < 0)
		return error_set_errno(err, -r, "sandbox %s: writing %s", d->name, STATE_TMP);
	if (fsync(fd) < 0)
		return error_set_errno(err, errno, "sandbox %s: fsync of %s", d->name, STATE_TMP);
	if (renameat(d->dir_fd, STATE_TMP, d->dir_fd, STATE_FILE) < 0)
		return error_set_errno(err, errno, "sandbox %s: renaming %s", d->name, STATE_TMP);
	if (fsync(d->dir_fd) < 0)
		return error_set_errno(err, errno, "sandbox %s: fsync of its directory", d->name);
	return 0;
}

/* The whole file in one buffer (jansson's own fd reader reads byte by byte). */
static int read_all(int fd, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0, cap;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size > STATE_FILE_MAX_BYTES)
		return -EFBIG;
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	while (len < cap) {
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

int state_parse(const char *name, const char *text, size_t len, json_t **ret, struct error *err)
{
	json_error_t jerr;
	json_t *doc = json_loadb(text, len, 0, &jerr);

	if (!json_is_object(doc)) {
		json_decref(doc);
		return error_set(err, EINVAL, "sandbox %s: %s is corrupt: %s", name, STATE_FILE,
				 doc ? "not an object" : jerr.text);
	}
	*ret = doc;
	return 0;
}

int state_read(const struct sandbox_dir *d, json_t **ret, struct error *err)
{
	_cleanup_close_ int fd = openat(d->dir_fd, STATE_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r;

	if (fd < 0)
		return error_set_errno(err, errno, "sandbox %s: opening %s", d->name, STATE_FILE);
	r = read_all(fd, &text, &len);
	if (r < 0)
		return error_set_errno(err, -r, "sandbox %s: reading %s", d->name, STATE_FILE);
	return state_parse(d->name, text, len, ret, err);
}
