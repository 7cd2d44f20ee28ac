/* Host facts: kernel release, Landlock ABI (and why it is unavailable),
 * seccomp, user namespaces, no_new_privs and the GPU inventory. Every file is
 * read under a root directory so tests can probe a fake tree. */
#include "host/host.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/cleanup.h"

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#define LANDLOCK_VERSION_FLAG (1U << 0)

const char *const host_gpu_shared_nodes[] = {
    "/dev/nvidiactl",	   "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools",
    "/dev/nvidia-modeset", "/dev/dxg",	      NULL,
};
const char *const host_gpu_support_paths[] = {
    "/run/nvidia-persistenced", "/usr/lib/wsl", "/sys/module/nvidia",
    "/sys/module/nvidia_uvm",	NULL,
};
const char *const host_gpu_system_paths[] = {
    "/sys/devices/system/cpu",
    "/sys/devices/system/node",
    "/proc",
    NULL,
};

static void path_under(char *buf, size_t size, const char *root, const char *path)
{
	if (strcmp(root, "/") == 0)
		snprintf(buf, size, "%s", path);
	else
		snprintf(buf, size, "%s%s", root, path);
}

static bool path_exists_under(const char *root, const char *path)
{
	char full[PATH_MAX];
	struct stat st;

	path_under(full, sizeof(full), root, path);
	return stat(full, &st) == 0;
}

/* Reads a small file whole into buf (NUL-terminated); -errno on failure. */
static int read_text_under(const char *root, const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = -1;
	char full[PATH_MAX];
	size_t len = 0;
	ssize_t n;

	path_under(full, sizeof(full), root, path);
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	return (int)len;
}

bool host_field_long(const char *text, const char *key, long *ret)
{
	size_t klen = strlen(key);
	const char *line = text;

	while (line) {
		if (strncmp(line, key, klen) == 0) {
			char *end;
			long v = strtol(line + klen, &end, 10);
			if (end == line + klen)
				return false;
			*ret = v;
			return true;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return false;
}

bool host_sysctl_long(const char *text, long *ret)
{
	char *end;
	long v = strtol(text, &end, 10);

	if (end == text)
		return false;
	*ret = v;
	return true;
}

static bool read_long_under(const char *root, const char *path, long *ret)
{
	char buf[64];

	return read_text_under(root, path, buf, sizeof(buf)) > 0 && host_sysctl_long(buf, ret);
}

static bool lsm_list_has(const char *lsm, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = lsm; (p = strstr(p, name)); p += len)
		if ((p == lsm || p[-1] == ',') &&
		    (p[len] == ',' || p[len] == '\0' || p[len] == '\n'))
			return true;
	return false;
}

enum landlock_status host_classify_landlock(int errno_value, int seccomp_mode, const char *lsm)
{
	bool lsm_known = lsm && *lsm;
	bool lsm_enabled = lsm_known && lsm_list_has(lsm, "landlock");

	if (errno_value == EOPNOTSUPP)
		return LANDLOCK_NOT_ENABLED;
	if (errno_value != ENOSYS && errno_value != EPERM)
		return LANDLOCK_OTHER;
	/* The kernel never answers EPERM here, and ENOSYS from a kernel whose
	 * LSM list names Landlock can only come from a filter. */
	if (lsm_enabled)
		return LANDLOCK_BLOCKED;
	if (seccomp_mode == 2 && (errno_value == EPERM || !lsm_known))
		return LANDLOCK_BLOCKED;
	return errno_value == ENOSYS ? LANDLOCK_NOT_BUILT : LANDLOCK_OTHER;
}

static void probe_process_status(const char *root, struct host *h)
{
	char status[8192];
	long v;

	if (read_text_under(root, "/proc/self/status", status, sizeof(status)) > 0 &&
	    host_field_long(status, "Seccomp:", &v))
		h->seccomp_mode = (int)v;
	h->no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
}

static void probe_lsm(const char *root, struct host *h)
{
	size_t len;

	if (read_text_under(root, "/sys/kernel/security/lsm", h->lsm, sizeof(h->lsm)) < 0)
		h->lsm[0] = '\0';
	len = strlen(h->lsm);
	while (len > 0 && h->lsm[len - 1] == '\n')
		h->lsm[--len] = '\0';
}

/* The LSM list is read always with `evidence`, else only where Landlock is
 * unavailable, with this process's seccomp mode, to tell why. */
static void probe_landlock(const char *root, struct host *h, bool evidence)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_VERSION_FLAG);
	int saved_errno = abi < 0 ? errno : EINVAL;

	if (evidence || abi <= 0)
		probe_lsm(root, h);
	if (abi > 0) {
		h->landlock_abi = (int)abi;
		h->landlock_status = LANDLOCK_AVAILABLE;
		return;
	}
	if (h->seccomp_mode < 0)
		probe_process_status(root, h);
	h->landlock_errno = saved_errno;
	h->landlock_status = host_classify_landlock(h->landlock_errno, h->seccomp_mode, h->lsm);
}

static void probe_seccomp(struct host *h)
{
	unsigned action = SECCOMP_RET_ERRNO;

	h->seccomp_available = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0 ||
			       prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
}

static void probe_user_namespaces(const char *root, struct host *h)
{
	long v;

	h->user_namespaces = true;
	if (read_long_under(root, "/proc/sys/user/max_user_namespaces", &v) && v <= 0)
		h->user_namespaces = false;
	/* Debian's switch, and Ubuntu's AppArmor restriction. */
	if (read_long_under(root, "/proc/sys/kernel/unprivileged_userns_clone", &v) && v == 0)
		h->user_namespaces = false;
	if (read_long_under(root, "/proc/sys/kernel/apparmor_restrict_unprivileged_userns", &v) &&
	    v != 0)
		h->user_namespaces = false;
}

/* N when name is "nvidia<N>" with digits only, -1 otherwise. */
static long gpu_node_index(const char *name)
{
	const char *digits = name + strlen("nvidia");
	char *end;
	long v;

	if (strncmp(name, "nvidia", 6) != 0 || *digits < '0' || *digits > '9')
		return -1;
	v = strtol(digits, &end, 10);
	return *end == '\0' && v >= 0 ? v : -1;
}

static int gpu_compare(const void *a, const void *b)
{
	const struct host_gpu *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

static void probe_gpu_nodes(const char *root, struct host *h)
{
	_cleanup_closedir_ DIR *dir = NULL;
	char full[PATH_MAX];
	struct dirent *de;

	path_under(full, sizeof(full), root, "/dev");
	dir = opendir(full);
	if (!dir)
		return;
	while ((de = readdir(dir)) && h->n_gpus < HOST_GPU_MAX) {
		long index = gpu_node_index(de->d_name);
		if (index >= 0)
			h->gpus[h->n_gpus++] = (struct host_gpu){.index = (unsigned)index};
	}
	qsort(h->gpus, h->n_gpus, sizeof(h->gpus[0]), gpu_compare);
}

static struct host_gpu *gpu_by_index(struct host *h, unsigned index)
{
	for (size_t i = 0; i < h->n_gpus; i++)
		if (h->gpus[i].index == index)
			return &h->gpus[i];
	return NULL;
}

/* /proc/driver/nvidia/gpus/<bdf>/information names each GPU's device minor. */
static void probe_gpu_pci(const char *root, struct host *h)
{
	_cleanup_closedir_ DIR *dir = NULL;
	char full[PATH_MAX], info[4096], rel[PATH_MAX];
	struct dirent *de;

	path_under(full, sizeof(full), root, "/proc/driver/nvidia/gpus");
	dir = opendir(full);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		size_t len = strlen(de->d_name);
		struct host_gpu *gpu;
		long minor;

		if (de->d_name[0] == '.' || len >= sizeof(gpu->pci_bdf))
			continue;
		snprintf(rel, sizeof(rel), "/proc/driver/nvidia/gpus/%s/information", de->d_name);
		if (read_text_under(root, rel, info, sizeof(info)) <= 0 ||
		    !host_field_long(info, "Device Minor:", &minor) || minor < 0)
			continue;
		gpu = gpu_by_index(h, (unsigned)minor);
		if (gpu)
			memcpy(gpu->pci_bdf, de->d_name, len + 1);
	}
}

static int push_if_present(const char *root, struct host *h, const char *path)
{
	if (!path_exists_under(root, path))
		return 0;
	return strv_push(&h->present_paths, path);
}

static int push_each_present(const char *root, struct host *h, const char *const *paths)
{
	for (; *paths; paths++) {
		int r = push_if_present(root, h, *paths);
		if (r < 0)
			return r;
	}
	return 0;
}

static int mig_cap_filter(const struct dirent *de)
{
	return strncmp(de->d_name, "nvidia-cap", 10) == 0;
}

static int push_mig_caps(const char *root, struct host *h)
{
	struct dirent **names = NULL;
	char full[PATH_MAX];
	int n, r = 0;

	path_under(full, sizeof(full), root, "/dev/nvidia-caps");
	n = scandir(full, &names, mig_cap_filter, versionsort);
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "/dev/nvidia-caps/%s", names[i]->d_name);
		if (r == 0)
			r = push_if_present(root, h, path);
		free(names[i]);
	}
	free(names);
	return r;
}

static int push_gpu_paths(const char *root, struct host *h)
{
	char path[PATH_MAX];
	int r;

	r = push_each_present(root, h, host_gpu_shared_nodes);
	for (size_t i = 0; r >= 0 && i < h->n_gpus; i++) {
		snprintf(path, sizeof(path), "/dev/nvidia%u", h->gpus[i].index);
		r = push_if_present(root, h, path);
	}
	if (r >= 0)
		r = push_mig_caps(root, h);
	if (r >= 0)
		r = push_each_present(root, h, host_gpu_support_paths);
	for (size_t i = 0; r >= 0 && i < h->n_gpus; i++) {
		if (!h->gpus[i].pci_bdf[0])
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", h->gpus[i].pci_bdf);
		r = push_if_present(root, h, path);
	}
	if (r >= 0)
		r = push_each_present(root, h, host_gpu_system_paths);
	return r;
}

enum probe_scope {
	PROBE_ALL,	     /* every fact, the GPU inventory included */
	PROBE_LAUNCH_ROOT,   /* what a launch by root without a GPU needs */
	PROBE_LAUNCH_ROOTLESS, /* the same for an ordinary user */
};

static int probe(const char *root, enum probe_scope scope, struct host *ret, struct error *err)
{
	bool launch = scope == PROBE_LAUNCH_ROOT || scope == PROBE_LAUNCH_ROOTLESS;
	struct host h = {0};
	struct utsname uts;
	int r = 0;

	if (uname(&uts) < 0)
		return error_set_errno(err, errno, "uname");
	snprintf(h.kernel_release, sizeof(h.kernel_release), "%s", uts.release);
	/* A launch reads this process's seccomp mode and the LSM list only to
	 * explain an unavailable Landlock (probe_landlock() then reads them). */
	if (launch)
		h.seccomp_mode = -1;
	else
		probe_process_status(root, &h);
	probe_landlock(root, &h, !launch);
	probe_seccomp(&h);
	/* Only an ordinary user's launch makes a user namespace. */
	if (scope == PROBE_LAUNCH_ROOT)
		h.user_namespaces = true;
	else
		probe_user_namespaces(root, &h);
	if (scope == PROBE_ALL) {
		h.gpu_present = path_exists_under(root, "/dev/nvidiactl") ||
				path_exists_under(root, "/dev/dxg");
		probe_gpu_nodes(root, &h);
		probe_gpu_pci(root, &h);
		r = push_gpu_paths(root, &h);
	}
	if (r < 0) {
		host_free(&h);
		return error_set_errno(err, r, "recording the GPU paths present under %s", root);
	}
	*ret = h;
	return 0;
}

int host_probe_at(const char *root, struct host *ret, struct error *err)
{
	return probe(root, PROBE_ALL, ret, err);
}

int host_probe(struct host *ret, struct error *err)
{
	return probe("/", PROBE_ALL, ret, err);
}

int host_probe_launch(bool rootless, struct host *ret, struct error *err)
{
	return probe("/", rootless ? PROBE_LAUNCH_ROOTLESS : PROBE_LAUNCH_ROOT, ret, err);
}

bool host_path_present(const struct host *h, const char *path)
{
	return strv_contains(&h->present_paths, path);
}

const char *landlock_status_name(enum landlock_status s)
{
	switch (s) {
	case LANDLOCK_AVAILABLE:
		return "available";
	case LANDLOCK_NOT_BUILT:
		return "not built into the kernel";
	case LANDLOCK_NOT_ENABLED:
		return "built in but not enabled at boot";
	case LANDLOCK_BLOCKED:
		return "blocked by a seccomp profile";
	case LANDLOCK_OTHER:
		break;
	}
	return "unavailable for another reason";
}

const char *landlock_status_advice(enum landlock_status s)
{
	switch (s) {
	case LANDLOCK_AVAILABLE:
		return "nothing to do";
	case LANDLOCK_NOT_BUILT:
		return "the kernel was built without CONFIG_SECURITY_LANDLOCK: use a kernel (5.13 "
		       "or "
		       "later) built with it";
	case LANDLOCK_NOT_ENABLED:
		return "add landlock to the kernel's LSM list at boot, e.g. "
		       "lsm=landlock,lockdown,yama,integrity,apparmor on the kernel command line "
		       "(the list in use is /sys/kernel/security/lsm)";
	case LANDLOCK_BLOCKED:
		return "a seccomp profile (often the container runtime's) blocks the Landlock "
		       "syscalls: allow landlock_create_ruleset, landlock_add_rule and "
		       "landlock_restrict_self in it, or run with a profile that does";
	case LANDLOCK_OTHER:
		break;
	}
	return "landlock_create_ruleset failed unexpectedly: check the kernel log and the error "
	       "number";
}

void host_free(struct host *h)
{
	if (h)
		strv_clear(&h->present_paths);
}
