/* The rules a policy follows beyond its schema: the version, filesystem paths
 * (absolute, no "..", bounded, "/" never writable; duplicates and overlaps
 * are warnings), process identities (never root), and the hosts, ports,
 * addresses and field combinations of network policies and middlewares.
 * Each violation is reported at the mark of the value that breaks it. */
#include "policy/loader.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "policy/network.h"

/* User text in messages: at most 100 bytes, then "...". */
#define SHOWN_FMT "'%.*s%s'"
#define SHOWN(s)  100, (s), strlen(s) > 100 ? "..." : ""

#define error(d, m, ...)   diag_add(d, DIAG_ERROR, m, __VA_ARGS__)
#define warning(d, m, ...) diag_add(d, DIAG_WARNING, m, __VA_ARGS__)

static bool has_dotdot(const char *path)
{
	for (const char *s = path; (s = strstr(s, "..")); s += 2)
		if ((s == path || s[-1] == '/') && (s[2] == '/' || s[2] == '\0'))
			return true;
	return false;
}

/* Writes the lexical normal form (no "//", no "." component, no trailing
 * '/') of an absolute path to out, which has room for strlen(path) + 2 bytes;
 * returns the length written including the NUL. */
static size_t normalize(const char *path, char *out)
{
	size_t o = 0;

	for (const char *s = path; *s;) {
		const char *end;

		while (*s == '/')
			s++;
		end = strchrnul(s, '/');
		if (end - s > 0 && !(end - s == 1 && s[0] == '.')) {
			out[o++] = '/';
			memcpy(out + o, s, (size_t)(end - s));
			o += (size_t)(end - s);
		}
		s = end;
	}
	if (o == 0)
		out[o++] = '/';
	out[o++] = '\0';
	return o;
}

/* Reports what is wrong with one path; true when it is well formed. */
static bool check_path(const struct policy_path *pp, const char *list, struct diagnostics *d)
{
	size_t len = strlen(pp->path);

	if (len == 0) {
		error(d, pp->mark, "empty path in filesystem_policy.%s", list);
		return false;
	}
	if (len > POLICY_PATH_MAX) {
		error(d, pp->mark, "a path in filesystem_policy.%s is %zu bytes long (at most %d)",
		      list, len, POLICY_PATH_MAX);
		return false;
	}
	if (pp->path[0] != '/')
		error(d, pp->mark, "path " SHOWN_FMT " in filesystem_policy.%s is not absolute",
		      SHOWN(pp->path), list);
	else if (has_dotdot(pp->path))
		error(d, pp->mark,
		      "path " SHOWN_FMT " in filesystem_policy.%s has a '..' component",
		      SHOWN(pp->path), list);
	else
		return true;
	return false;
}

struct entry {
	const struct policy_path *pp;
	const char *list;
	const char *normal;
};

#define REPEAT_BUCKETS 512 /* a power of two above twice POLICY_MAX_PATHS */

static size_t bucket_of(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)(h & (REPEAT_BUCKETS - 1));
}

/* e[i] repeats e[first] (the earliest with its normal form); same is the
 * earliest of those in e[i]'s own list, or SIZE_MAX. */
static void report_repeat(const struct entry *e, size_t first, size_t same, size_t i,
			  struct diagnostics *d)
{
	if (same != SIZE_MAX)
		warning(d, e[i].pp->mark,
			"duplicate path " SHOWN_FMT " in filesystem_policy.%s (first at %u:%u)",
			SHOWN(e[i].pp->path), e[i].list, e[same].pp->mark.line,
			e[same].pp->mark.column);
	else
		warning(d, e[i].pp->mark,
			"path " SHOWN_FMT " is in both read_only (at %u:%u) and read_write; it "
			"gets read_write access",
			SHOWN(e[i].pp->path), e[first].pp->mark.line, e[first].pp->mark.column);
}

/* Duplicates within a list and paths in both lists (by normal form, in
 * the order written, read_only first): warnings. n <= POLICY_MAX_PATHS. */
static void report_repeats(const struct entry *e, size_t n, struct diagnostics *d)
{
	size_t head[REPEAT_BUCKETS], next[POLICY_MAX_PATHS];

	memset(head, 0xff, sizeof(head));
	for (size_t i = 0; i < n; i++) {
		size_t b = bucket_of(e[i].normal), first = SIZE_MAX, same = SIZE_MAX;

		/* A chain runs from the latest entry to the earliest. */
		for (size_t j = head[b]; j != SIZE_MAX; j = next[j]) {
			if (strcmp(e[j].normal, e[i].normal) != 0)
				continue;
			first = j;
			if (e[j].list == e[i].list)
				same = j;
		}
		if (first != SIZE_MAX)
			report_repeat(e, first, same, i, d);
		next[i] = head[b];
		head[b] = i;
	}
}

/* NOLINTBEGIN(clang-analyzer-unix.Malloc): _cleanup_free_ frees entries and normals */
static void validate_paths(const struct policy *p, struct diagnostics *d)
{
	const struct path_list *lists[] = {&p->read_only, &p->read_write};
	const char *names[] = {"read_only", "read_write"};
	size_t total = p->read_only.len + p->read_write.len, n = 0, used = 0, room = total;
	_cleanup_free_ struct entry *entries = NULL;
	_cleanup_free_ char *normals = NULL;

	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < lists[l]->len; i++)
			room += strnlen(lists[l]->items[i].path, POLICY_PATH_MAX + 1) + 2;
	entries = calloc(total + 1, sizeof(*entries));
	normals = malloc(room);
	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < lists[l]->len; i++) {
			const struct policy_path *pp = &lists[l]->items[i];
			if ((l ? p->read_only.len : 0) + i == POLICY_MAX_PATHS)
				error(d, pp->mark, "filesystem_policy lists %zu paths (at most %d)",
				      total, POLICY_MAX_PATHS);
			if (!check_path(pp, names[l], d) || !entries || !normals)
				continue;
			entries[n] = (struct entry){pp, names[l], normals + used};
			used += normalize(pp->path, normals + used);
			if (l == 1 && strcmp(entries[n].normal, "/") == 0)
				error(d, pp->mark,
				      "read_write path " SHOWN_FMT
				      " is too broad: it makes the whole filesystem writable",
				      SHOWN(pp->path));
			n++;
		}
	if (total <= POLICY_MAX_PATHS)
		report_repeats(entries, n, d);
}
/* NOLINTEND(clang-analyzer-unix.Malloc) */

static bool valid_name(const char *s)
{
	size_t len = strlen(s);

	if (len > 32 ||
	    !(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	if (s[len - 1] == '$')
		len--;
	for (size_t i = 1; i < len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-",
			    s[i]))
			return false;
	return true;
}

static void validate_numeric_id(const char *key, const char *v, struct source_mark m,
				struct diagnostics *d)
{
	unsigned long long id = strlen(v) > 10 ? ~0ULL : strtoull(v, NULL, 10);

	if (id == 0)
		error(d, m, "process.%s: 0 is root and is refused", key);
	else if (id == 4294967295ULL)
		error(d, m, "process.%s: 4294967295 is the reserved id -1 and is refused", key);
	else if (id > 4294967295ULL)
		error(d, m, "process.%s: " SHOWN_FMT " is out of range (1..4294967294)", key,
		      SHOWN(v));
}

/* `sandbox`, a numeric id in 1..4294967294, or a user/group name; never root. */
static void validate_identity(const char *key, const char *v, struct source_mark m,
			      struct diagnostics *d)
{
	if (!v || strcmp(v, "sandbox") == 0)
		return;
	if (!*v)
		error(d, m, "process.%s is empty; leave it out to keep the default", key);
	else if (v[strspn(v, "0123456789")] == '\0')
		validate_numeric_id(key, v, m, d);
	else if (strcmp(v, "root") == 0)
		error(d, m, "process.%s: root is refused", key);
	else if (!valid_name(v))
		error(d, m,
		      "process.%s: " SHOWN_FMT " is not 'sandbox', a numeric id or a valid name",
		      key, SHOWN(v));
}

static size_t count_labels(const char *host)
{
	size_t n = 1;

	for (const char *s = host; *s; s++)
		n += *s == '.';
	return n;
}

/* OpenShell's wildcard shapes: '*' inside the first label or as a whole later
 * label, "**" only as the whole first label, and at least three labels. */
static const char *wildcard_problem(const char *host)
{
	const char *dot = strchrnul(host, '.');
	size_t first = (size_t)(dot - host);

	if (!strchr(host, '*'))
		return NULL;
	if (strcmp(host, "*") == 0 || strcmp(host, "**") == 0)
		return "matches every host";
	if (memmem(host, first, "**", 2) && first != 2)
		return "has '**' inside a label; it is allowed only as the whole first label";
	for (const char *s = dot; *s;) {
		const char *end = strchrnul(++s, '.');
		size_t len = (size_t)(end - s);

		if (memchr(s, '*', len) && len != 1)
			return "has '*' inside a later label; there it must be the whole label";
		s = end;
	}
	if (count_labels(host) < 3)
		return "is a wildcard with fewer than three labels; write e.g. '*.example.com'";
	return NULL;
}

static const char *labels_problem(const char *host)
{
	for (const char *s = host;;) {
		const char *end = strchrnul(s, '.');

		if (end == s)
			return "has an empty label";
		if (end - s > 63)
			return "has a label longer than 63 characters";
		if (!*end)
			return NULL;
		s = end + 1;
	}
}

/* What is wrong with a host name, address or wildcard pattern; NULL if fine. */
static const char *host_problem(const char *host)
{
	unsigned char addr[sizeof(struct in6_addr)];
	size_t len = strlen(host);

	if (len == 0)
		return "is empty";
	if (len > 253)
		return "is longer than 253 characters";
	if (strstr(host, "://"))
		return "is a URL; write only the host name";
	if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1)
		return NULL;
	if (strchr(host, '/'))
		return "holds a '/'; paths go in 'path' and address ranges in 'allowed_ips'";
	if (strchr(host, ':'))
		return "holds a ':'; the port goes in 'port'";
	if (host[strspn(host,
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_*")])
		return "holds a character that a host name cannot have";
	return labels_problem(host) ?: wildcard_problem(host);
}

/* An IPv4 or IPv6 address, optionally with a /prefix. */
static bool is_address_or_range(const char *s)
{
	unsigned char addr[sizeof(struct in6_addr)];
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	int family, max;
	char *end;
	long prefix;

	if (len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	max = family == AF_INET6 ? 128 : 32;
	if (inet_pton(family, buf, addr) != 1)
		return false;
	if (!slash)
		return true;
	prefix = strtol(slash + 1, &end, 10);
	return slash[1] >= '0' && slash[1] <= '9' && !*end && prefix <= max;
}

static int port_compare(const void *a, const void *b)
{
	return *(const uint16_t *)a - *(const uint16_t *)b;
}

static void validate_ports(const struct network_policy *np, const struct network_endpoint *ep,
			   struct diagnostics *d)
{
	_cleanup_free_ uint16_t *sorted = NULL;

	if (ep->n_ports == 0 && ep->ports_mark.line == 0) {
		error(d, ep->mark,
		      "network policy " SHOWN_FMT
		      ": an endpoint has no port; write 'port' or 'ports'",
		      SHOWN(np->key));
		return;
	}
	sorted = malloc((ep->n_ports + 1) * sizeof(*sorted));
	if (!sorted || ep->n_ports < 2)
		return; /* NOLINT(clang-analyzer-unix.Malloc): _cleanup_free_ frees it */
	memcpy(sorted, ep->ports, ep->n_ports * sizeof(*sorted));
	qsort(sorted, ep->n_ports, sizeof(*sorted), port_compare);
	for (size_t i = 1; i < ep->n_ports; i++)
		if (sorted[i] == sorted[i - 1] && (i == 1 || sorted[i] != sorted[i - 2]))
			warning(d, ep->ports_mark,
				"network policy " SHOWN_FMT ": port %u is listed more than once",
				SHOWN(np->key), sorted[i]);
}

/* Field combinations OpenShell refuses. */
static void validate_combinations(const struct network_policy *np,
				  const struct network_endpoint *ep, struct diagnostics *d)
{
	bool tcp = ep->protocol && strcmp(ep->protocol, "tcp") == 0;
	const char *signing = json_string_value(json_object_get(ep->options, "credential_signing"));

	if (tcp && (ep->access || ep->rules || ep->deny_rules))
		error(d, ep->mark,
		      "network policy " SHOWN_FMT
		      ": protocol tcp takes no access, rules or deny_rules",
		      SHOWN(np->key));
	if (ep->rules && ep->access)
		error(d, ep->mark,
		      "network policy " SHOWN_FMT ": rules and access are mutually exclusive",
		      SHOWN(np->key));
	if (ep->deny_rules && (!ep->protocol || tcp))
		error(d, ep->mark,
		      "network policy " SHOWN_FMT ": deny_rules need a protocol that inspects "
		      "requests",
		      SHOWN(np->key));
	if (signing && !json_object_get(ep->options, "signing_service"))
		error(d, ep->mark,
		      "network policy " SHOWN_FMT ": credential_signing needs signing_service",
		      SHOWN(np->key));
	if (signing &&
	    json_is_true(json_object_get(ep->options, "request_body_credential_rewrite")))
		error(d, ep->mark,
		      "network policy " SHOWN_FMT ": credential_signing and "
		      "request_body_credential_rewrite are mutually exclusive",
		      SHOWN(np->key));
}

static void validate_endpoint(const struct network_policy *np, const struct network_endpoint *ep,
			      struct diagnostics *d)
{
	const char *problem = ep->host ? host_problem(ep->host) : NULL;

	if (!ep->host && ep->allowed_ips.len == 0)
		error(d, ep->mark,
		      "network policy " SHOWN_FMT ": an endpoint needs a host or allowed_ips",
		      SHOWN(np->key));
	if (problem)
		error(d, ep->host_mark, "network policy " SHOWN_FMT ": host " SHOWN_FMT " %s",
		      SHOWN(np->key), SHOWN(ep->host), problem);
	validate_ports(np, ep, d);
	for (size_t i = 0; i < ep->allowed_ips.len; i++)
		if (!is_address_or_range(ep->allowed_ips.items[i].path))
			error(d, ep->allowed_ips.items[i].mark,
			      "network policy " SHOWN_FMT ": " SHOWN_FMT
			      " in allowed_ips is not an IP address or CIDR range",
			      SHOWN(np->key), SHOWN(ep->allowed_ips.items[i].path));
	validate_combinations(np, ep, d);
}

static void validate_network_policy(const struct network_policy *np, struct diagnostics *d)
{
	if (!*np->key)
		error(d, np->mark, "a network policy has an empty name");
	else if (strncmp(np->key, "_provider_", 10) == 0)
		error(d, np->mark,
		      "network policy " SHOWN_FMT ": names starting with '_provider_' are reserved",
		      SHOWN(np->key));
	for (size_t i = 0; i < np->n_endpoints; i++)
		validate_endpoint(np, &np->endpoints[i], d);
	for (size_t i = 0; i < np->binaries.len; i++)
		if (np->binaries.items[i].path[0] != '/')
			error(d, np->binaries.items[i].mark,
			      "network policy " SHOWN_FMT ": binary path " SHOWN_FMT
			      " is not absolute",
			      SHOWN(np->key), SHOWN(np->binaries.items[i].path));
}

static void validate_selector(const struct network_middleware *mw, struct diagnostics *d)
{
	const struct path_list *lists[] = {&mw->include, &mw->exclude};

	if (!mw->has_endpoints || mw->include.len == 0)
		error(d, mw->mark,
		      "middleware " SHOWN_FMT ": endpoints.include needs at least one host pattern",
		      SHOWN(mw->key));
	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < lists[l]->len; i++) {
			const struct policy_path *pp = &lists[l]->items[i];
			const char *problem = host_problem(pp->path);

			if (problem)
				error(d, pp->mark,
				      "middleware " SHOWN_FMT ": pattern " SHOWN_FMT " %s",
				      SHOWN(mw->key), SHOWN(pp->path), problem);
		}
}

static int middleware_order_compare(const void *pa, const void *pb)
{
	const struct network_middleware *a = *(const struct network_middleware *const *)pa;
	const struct network_middleware *b = *(const struct network_middleware *const *)pb;

	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	return a < b ? -1 : a > b;
}

/* Middlewares run in order: two with the same order are an error, reported
 * at the later one. */
static void validate_middleware_orders(const struct policy *p, struct diagnostics *d)
{
	size_t n = p->n_network_middlewares;
	_cleanup_free_ const struct network_middleware **sorted =
	    calloc(n + 1, sizeof(struct network_middleware *));

	if (!sorted)
		return;
	for (size_t i = 0; i < n; i++)
		sorted[i] = &p->network_middlewares[i];
	qsort(sorted, n, sizeof(struct network_middleware *), middleware_order_compare);
	for (size_t i = 1; i < n; i++)
		if (sorted[i]->order == sorted[i - 1]->order)
			error(d,
			      sorted[i]->order_mark.line ? sorted[i]->order_mark : sorted[i]->mark,
			      "middlewares " SHOWN_FMT " and " SHOWN_FMT " have the same order %d",
			      SHOWN(sorted[i - 1]->key), SHOWN(sorted[i]->key),
			      (int)sorted[i]->order);
}

static void validate_middlewares(const struct policy *p, struct diagnostics *d)
{
	for (size_t i = 0; i < p->n_network_middlewares; i++) {
		const struct network_middleware *mw = &p->network_middlewares[i];

		if (mw->middleware && !*mw->middleware)
			error(d, mw->mark, "middleware " SHOWN_FMT ": 'middleware' is empty",
			      SHOWN(mw->key));
		validate_selector(mw, d);
	}
	validate_middleware_orders(p, d);
}

void policy_validate(const struct policy *p, struct diagnostics *d)
{
	if (p->marks.version.line && p->version != 1)
		error(d, p->marks.version,
		      "unsupported policy version %d; lockshell reads version 1", p->version);
	validate_paths(p, d);
	validate_identity("run_as_user", p->run_as_user, p->marks.run_as_user, d);
	validate_identity("run_as_group", p->run_as_group, p->marks.run_as_group, d);
	for (size_t i = 0; i < p->n_network_policies; i++)
		validate_network_policy(&p->network_policies[i], d);
	validate_middlewares(p, d);
}
