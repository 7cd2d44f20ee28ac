/* The Landlock ruleset generated from the effective policy: paths opened
 * O_PATH and rights tailored by fstat while still privileged (prepare), then
 * landlock_restrict_self() in the child after the privilege drop (enforce). */
#include "enforce/landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#ifndef SYS_landlock_add_rule
#define SYS_landlock_add_rule 445
#endif
#ifndef SYS_landlock_restrict_self
#define SYS_landlock_restrict_self 446
#endif

/* The kernel's UAPI, defined here because older headers lack ABI 3 and up. */
#define LANDLOCK_ABI_MAX		     7
#define LANDLOCK_ABI_SCOPED		     6
#define LANDLOCK_RULE_PATH_BENEATH_TYPE	     1
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET_ (1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL_		     (1ULL << 1)

struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;	     /* ABI 6 */
};

struct path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

/* Rights Landlock accepts on a rule for a non-directory. */
#define ACCESS_FILE_RIGHTS                                                                         \
	(ACCESS_EXECUTE | ACCESS_WRITE_FILE | ACCESS_READ_FILE | ACCESS_TRUNCATE | ACCESS_IOCTL_DEV)

struct landlock_ruleset {
	int fd;	 /* -1: nothing to enforce (Landlock unavailable, best_effort) */
	int abi; /* the ABI in use, 0 when unavailable */
	uint64_t handled;
	uint64_t scoped;
	uint64_t dropped; /* rights the rules wanted that this ABI cannot handle */
	size_t n_rules;
	struct strv skipped; /* "path: reason" */
};

/* One path to turn into a rule: a filesystem_policy entry (rights from its
 * class and type) or a runtime addition (explicit rights). */
struct rule_request {
	const char *path;
	const char *kind; /* "read_only", "read_write", "runtime addition" */
	bool read_write;
	bool explicit_access;
	uint64_t access;
};

uint64_t landlock_rights_for(bool read_write, mode_t mode, uint64_t handled)
{
	uint64_t rights;

	if (S_ISDIR(mode))
		rights =
		    read_write ? ACCESS_ALL : ACCESS_EXECUTE | ACCESS_READ_FILE | ACCESS_READ_DIR;
	else if (!read_write)
		rights = ACCESS_EXECUTE | ACCESS_READ_FILE;
	else
		rights = ACCESS_EXECUTE | ACCESS_READ_FILE | ACCESS_WRITE_FILE | ACCESS_TRUNCATE |
			 (S_ISCHR(mode) || S_ISBLK(mode) ? ACCESS_IOCTL_DEV : 0);
	return rights & handled;
}

static int lowest_abi_for(uint64_t rights)
{
	for (int abi = 1; abi < LANDLOCK_ABI_MAX; abi++)
		if ((access_handled_by_abi(abi) & rights) == rights)
			return abi;
	return LANDLOCK_ABI_MAX;
}

static void rights_format(uint64_t rights, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (uint64_t bit = 1; bit <= ACCESS_ALL; bit <<= 1) {
		if (!(rights & bit) || len >= size)
			continue;
		len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? "," : "",
					access_right_name(bit));
	}
}

static size_t bit_count(uint64_t v)
{
	return (size_t)__builtin_popcountll(v);
}

static void landlock_ruleset_freep(struct landlock_ruleset **rs)
{
	landlock_ruleset_free(*rs);
}

static size_t ruleset_attr_size(int abi)
{
	if (abi >= LANDLOCK_ABI_SCOPED)
		return sizeof(struct ruleset_attr);
	if (abi >= 4)
		return offsetof(struct ruleset_attr, scoped);
	return offsetof(struct ruleset_attr, handled_access_net);
}

static int ruleset_create(struct landlock_ruleset *rs, struct error *err)
{
	struct ruleset_attr attr = {.handled_access_fs = rs->handled, .scoped = rs->scoped};
	long fd;

	fd = syscall(SYS_landlock_create_ruleset, &attr, ruleset_attr_size(rs->abi), 0U);
	if (fd < 0)
		return error_set_errno(err, errno,
				       "landlock_create_ruleset (ABI %d, handled rights 0x%llx)",
				       rs->abi, (unsigned long long)rs->handled);
	rs->fd = (int)fd;
	return 0;
}

static int unavailable(const struct effective *eff, const struct host *host, struct error *err)
{
	const char *reason = landlock_status_name(host->landlock_status);
	const char *advice = landlock_status_advice(host->landlock_status);
	const char *cause = strerror(host->landlock_errno ? host->landlock_errno : ENOSYS);

	if (eff->compat == COMPAT_HARD_REQUIREMENT)
		return error_set(err, host->landlock_errno ? host->landlock_errno : ENOSYS,
				 "Landlock ABI 1 or later is required (landlock compatibility "
				 "hard_requirement) but Landlock is %s (landlock_create_ruleset: "
				 "%s): %s",
				 reason, cause, advice);
	log_warning("landlock_unavailable",
		    "Landlock is %s (landlock_create_ruleset: %s): the command runs WITHOUT "
		    "filesystem restrictions; %s",
		    reason, cause, advice);
	return 0;
}

/* Best effort: record and report a path that cannot become a rule.
 * Hard requirement: the error. */
static int skip_path(struct landlock_ruleset *rs, const struct effective *eff,
		     const struct rule_request *req, const char *what, int code, struct error *err)
{
	char *entry;

	if (eff->compat == COMPAT_HARD_REQUIREMENT)
		return error_set_errno(err, code,
				       "%s %s path %s (landlock compatibility hard_requirement)",
				       what, req->kind, req->path);
	/* The default policy's portable list names paths many hosts lack: a
	 * missing one of those is routine, reported at info level. */
	log_event(code == ENOENT && policy_is_default(eff->policy) ? LOG_INFO : LOG_WARNING,
		  "landlock_path_skipped", "skipping %s path %s: %s: %s", req->kind, req->path,
		  what, strerror(code));
	if (asprintf(&entry, "%s: %s", req->path, strerror(code)) < 0)
		return error_set(err, ENOMEM, "recording the skipped path %s", req->path);
	return strv_push_take(&rs->skipped, entry) < 0
		   ? error_set(err, ENOMEM, "recording the skipped path %s", req->path)
		   : 0;
}

static uint64_t rights_wanted(const struct rule_request *req, mode_t mode)
{
	if (!req->explicit_access)
		return landlock_rights_for(req->read_write, mode, ACCESS_ALL);
	return S_ISDIR(mode) ? req->access : req->access & ACCESS_FILE_RIGHTS;
}

/* Rights this ABI cannot handle: an error under hard_requirement, reported
 * under best_effort (per runtime addition; once for all entries). */
static int check_dropped(struct landlock_ruleset *rs, const struct effective *eff,
			 const struct rule_request *req, uint64_t dropped, struct error *err)
{
	char names[256];

	if (!dropped)
		return 0;
	rights_format(dropped, names, sizeof(names));
	if (eff->compat == COMPAT_HARD_REQUIREMENT)
		return error_set(err, EOPNOTSUPP,
				 "Landlock ABI %d is required for %s on %s path %s (landlock "
				 "compatibility hard_requirement), but this kernel offers ABI %d",
				 lowest_abi_for(dropped), names, req->kind, req->path, rs->abi);
	if (req->explicit_access)
		log_warning("landlock_rights_dropped",
			    "%s %s: Landlock ABI %d cannot grant %s (needs ABI %d): dropped",
			    req->kind, req->path, rs->abi, names, lowest_abi_for(dropped));
	rs->dropped |= dropped;
	return 0;
}

static int add_rule(struct landlock_ruleset *rs, const struct effective *eff,
		    const struct rule_request *req, struct error *err)
{
	_cleanup_close_ int fd = -1;
	struct path_beneath_attr attr;
	uint64_t wanted;
	struct stat st;
	char names[256];
	int r;

	fd = open(req->path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return skip_path(rs, eff, req, "cannot open", errno, err);
	if (fstat(fd, &st) < 0)
		return skip_path(rs, eff, req, "cannot stat", errno, err);
	wanted = rights_wanted(req, st.st_mode);
	r = check_dropped(rs, eff, req, wanted & ~rs->handled, err);
	if (r < 0)
		return r;
	attr = (struct path_beneath_attr){.allowed_access = wanted & rs->handled, .parent_fd = fd};
	if (!attr.allowed_access)
		return 0;
	if (syscall(SYS_landlock_add_rule, rs->fd, LANDLOCK_RULE_PATH_BENEATH_TYPE, &attr, 0U) < 0)
		return skip_path(rs, eff, req, "landlock_add_rule refused it", errno, err);
	rs->n_rules++;
	rights_format(attr.allowed_access, names, sizeof(names));
	log_info("landlock_rule", "Landlock rule: %s %s: %s", req->kind, req->path, names);
	return 0;
}

static int add_entries(struct landlock_ruleset *rs, const struct effective *eff,
		       const struct effective_path_list *list, bool read_write, struct error *err)
{
	for (size_t i = 0; i < list->len; i++) {
		struct rule_request req = {
		    .path = list->items[i].path,
		    .kind = read_write ? "read_write" : "read_only",
		    .read_write = read_write,
		};
		int r = add_rule(rs, eff, &req, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_additions(struct landlock_ruleset *rs, const struct effective *eff,
			 struct error *err)
{
	for (size_t i = 0; i < eff->n_additions; i++) {
		struct rule_request req = {
		    .path = eff->additions[i].path,
		    .kind = "runtime addition",
		    .explicit_access = true,
		    .access = eff->additions[i].access,
		};
		int r = add_rule(rs, eff, &req, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int refuse_empty(const struct effective *eff, struct error *err)
{
	size_t listed = eff->read_only.len + eff->read_write.len + eff->n_additions;

	if (listed == 0)
		return error_set(err, EINVAL,
				 "the effective policy lists no filesystem path: refusing a "
				 "Landlock ruleset that would deny the whole filesystem");
	return error_set(err, ENOENT,
			 "none of the %zu paths of the effective policy could be opened: "
			 "refusing a Landlock ruleset that would deny the whole filesystem",
			 listed);
}

static void report(const struct landlock_ruleset *rs)
{
	char names[256];

	if (!rs->scoped)
		log_warning("landlock_unscoped",
			    "Landlock ABI %d cannot scope abstract unix sockets and signals "
			    "(needs ABI %d): the sandbox can reach them outside",
			    rs->abi, LANDLOCK_ABI_SCOPED);
	if (rs->dropped) {
		rights_format(rs->dropped, names, sizeof(names));
		log_warning("landlock_rights_dropped",
			    "Landlock ABI %d cannot control %s (needs ABI %d): left unrestricted",
			    rs->abi, names, lowest_abi_for(rs->dropped));
	}
	log_info("landlock_ruleset", "Landlock ruleset: %zu rules, %zu skipped paths", rs->n_rules,
		 rs->skipped.len);
}

static int build_rules(struct landlock_ruleset *rs, const struct effective *eff,
		       const struct host *host, struct error *err)
{
	int r;

	rs->abi = host->landlock_abi < LANDLOCK_ABI_MAX ? host->landlock_abi : LANDLOCK_ABI_MAX;
	rs->handled = access_handled_by_abi(rs->abi);
	if (rs->abi >= LANDLOCK_ABI_SCOPED)
		rs->scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET_ | LANDLOCK_SCOPE_SIGNAL_;
	r = ruleset_create(rs, err);
	if (r < 0)
		return r;
	log_info("landlock_abi",
		 "Landlock ABI %d (kernel offers %d): %zu filesystem rights handled%s", rs->abi,
		 host->landlock_abi, bit_count(rs->handled),
		 rs->scoped ? ", abstract unix sockets and signals scoped" : "");
	r = add_entries(rs, eff, &eff->read_only, false, err);
	if (r >= 0)
		r = add_entries(rs, eff, &eff->read_write, true, err);
	if (r >= 0)
		r = add_additions(rs, eff, err);
	if (r >= 0 && rs->n_rules == 0)
		r = refuse_empty(eff, err);
	return r;
}

int landlock_prepare(const struct effective *eff, const struct host *host,
		     struct landlock_ruleset **ret, struct error *err)
{
	_cleanup_(landlock_ruleset_freep) struct landlock_ruleset *rs = NULL;
	int r;

	rs = calloc(1, sizeof(*rs));
	if (!rs)
		return error_set(err, ENOMEM, "allocating the Landlock ruleset");
	rs->fd = -1;
	if (host->landlock_abi <= 0)
		r = unavailable(eff, host, err);
	else
		r = build_rules(rs, eff, host, err);
	if (r < 0)
		return r; /* NOLINT(clang-analyzer-unix.Malloc): landlock_ruleset_freep frees it */
	if (rs->abi > 0)
		report(rs);
	*ret = TAKE_PTR(rs);
	return 0;
}

int landlock_enforce(struct landlock_ruleset *rs, struct error *err)
{
	if (rs->fd < 0)
		return 0;
	if (syscall(SYS_landlock_restrict_self, rs->fd, 0U) < 0)
		return error_set_errno(err, errno,
				       "landlock_restrict_self (Landlock ABI %d, %zu rules)",
				       rs->abi, rs->n_rules);
	/* The ruleset's fd is close-on-exec. It stays set: a workload
	 * vfork()ed by PID 1 shares this memory, and PID 1 closes its own. */
	return 0;
}

size_t landlock_ruleset_rule_count(const struct landlock_ruleset *rs)
{
	return rs->n_rules;
}

int landlock_ruleset_abi(const struct landlock_ruleset *rs)
{
	return rs->abi;
}

const struct strv *landlock_ruleset_skipped(const struct landlock_ruleset *rs)
{
	return &rs->skipped;
}

uint64_t landlock_ruleset_dropped(const struct landlock_ruleset *rs)
{
	return rs->dropped;
}

void landlock_ruleset_free(struct landlock_ruleset *rs)
{
	if (!rs)
		return;
	if (rs->fd >= 0)
		close(rs->fd);
	strv_clear(&rs->skipped);
	free(rs);
}
