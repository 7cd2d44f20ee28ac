/* Loading a policy: reading the file within its limits, checking the bytes
 * (NUL, UTF-8), parsing (yamltree.c), checking against the schema (schema.c),
 * building struct policy with the marks of what was written, and validating
 * it (validate.c). */
#include "policy/loader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "policy/network.h"
#include "policy/schema.h"
#include "policy/yamltree.h"

/* Length of the valid UTF-8 sequence at s, 0 when invalid. */
static size_t utf8_length(const unsigned char *s, size_t avail)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (avail < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* libyaml reports bad bytes without a line; find them first. */
static int check_text(const char *data, size_t size, struct diagnostics *d)
{
	for (size_t i = 0; i < size;) {
		const unsigned char *s = (const unsigned char *)data + i;
		size_t len = s[0] ? utf8_length(s, size - i) : 0;

		if (!len) {
			if (s[0])
				diag_add(d, DIAG_ERROR, source_mark_at(data, size, i),
					 "invalid UTF-8 (byte 0x%02x)", s[0]);
			else
				diag_add(d, DIAG_ERROR, source_mark_at(data, size, i),
					 "a NUL byte in the policy file");
			return -EINVAL;
		}
		i += len;
	}
	return 0;
}

static struct source_mark mark_of(const struct tree_node *n)
{
	return n ? n->mark : (struct source_mark){0};
}

/* *ret = a copy of obj[key] when it is a string, else NULL. */
static int dup_member(const json_t *obj, const char *key, char **ret)
{
	const char *s = json_string_value(json_object_get(obj, key));

	*ret = s ? strdup(s) : NULL;
	return s && !*ret ? -ENOMEM : 0;
}

/* The strings of arr (converted from seq) with their marks. */
static int extract_strings(const json_t *arr, const struct tree_node *seq, struct path_list *ret)
{
	if (!seq || seq->kind != TREE_SEQUENCE)
		return 0;
	for (size_t i = 0; i < json_array_size(arr) && i < seq->n_children; i++) {
		const char *s = json_string_value(json_array_get(arr, i));
		int r = s ? path_list_push(ret, s, seq->children[i]->mark) : 0;

		if (r < 0)
			return r;
	}
	return 0;
}

/* The strings of a path list, from the tree (schema_convert_policy()
 * reported whatever else it holds). */
static int extract_paths(const struct tree_node *seq, struct path_list *ret)
{
	if (!seq || seq->kind != TREE_SEQUENCE)
		return 0;
	for (size_t i = 0; i < seq->n_children; i++) {
		const struct tree_node *item = seq->children[i];
		int r = schema_is_string(item) ? path_list_push(ret, item->text, item->mark) : 0;

		if (r < 0)
			return r;
	}
	return 0;
}

static int extract_filesystem(const json_t *doc, const struct tree_node *root, struct policy *p)
{
	const struct tree_node *n = tree_get(root, "filesystem_policy");
	const json_t *fs = json_object_get(doc, "filesystem_policy");
	int r;

	p->has_filesystem_policy = n != NULL;
	p->include_workdir = n ? json_is_true(json_object_get(fs, "include_workdir")) : true;
	/* Only from a filesystem_policy the schema took as a mapping. */
	if (!fs)
		return 0;
	r = extract_paths(tree_get(n, "read_only"), &p->read_only);
	if (r < 0)
		return r;
	return extract_paths(tree_get(n, "read_write"), &p->read_write);
}

static int extract_settings(const json_t *doc, const struct tree_node *root, struct policy *p)
{
	const json_t *landlock = json_object_get(doc, "landlock");
	const json_t *process = json_object_get(doc, "process");
	const char *compat = json_string_value(json_object_get(landlock, "compatibility"));
	int r;

	if (json_is_integer(json_object_get(doc, "version"))) {
		p->version = (int)json_integer_value(json_object_get(doc, "version"));
		p->marks.version = mark_of(tree_get(root, "version"));
	}
	p->compat = compat && strcmp(compat, "hard_requirement") == 0 ? COMPAT_HARD_REQUIREMENT
								      : COMPAT_BEST_EFFORT;
	p->marks.compatibility = mark_of(tree_get(tree_get(root, "landlock"), "compatibility"));
	p->marks.run_as_user = mark_of(tree_get(tree_get(root, "process"), "run_as_user"));
	p->marks.run_as_group = mark_of(tree_get(tree_get(root, "process"), "run_as_group"));
	r = dup_member(process, "run_as_user", &p->run_as_user);
	if (r < 0)
		return r;
	return dup_member(process, "run_as_group", &p->run_as_group);
}

static int extract_ports(const json_t *e, const struct tree_node *n, struct network_endpoint *ep,
			 struct diagnostics *d)
{
	const json_t *ports = json_object_get(e, "ports");
	const json_t *port = json_object_get(e, "port");
	if (port && ports)
		diag_add(d, DIAG_ERROR, mark_of(tree_get_key(n, "port")),
			 "an endpoint takes 'port' or 'ports', not both");
	ep->ports_mark = mark_of(tree_get(n, "ports") ?: tree_get(n, "port"));
	if (ports && json_array_size(ports) == 0)
		diag_add(d, DIAG_ERROR, ep->ports_mark, "an endpoint's 'ports' lists no port");
	if (!ports && !port)
		return 0;
	ep->ports = calloc(ports ? json_array_size(ports) + 1 : 1, sizeof(*ep->ports));
	if (!ep->ports)
		return -ENOMEM;
	if (!ports) {
		ep->ports[ep->n_ports++] = (uint16_t)json_integer_value(port);
		return 0;
	}
	for (size_t i = 0; i < json_array_size(ports); i++)
		if (json_is_integer(json_array_get(ports, i)))
			ep->ports[ep->n_ports++] =
			    (uint16_t)json_integer_value(json_array_get(ports, i));
	return 0;
}

/* A shared reference to obj[key] when it is a non-empty array. */
static json_t *array_member(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_array_size(v) ? json_incref(v) : NULL;
}

/* Endpoint fields the model types; the others stay in ep->options. */
static const char *const endpoint_typed_keys[] = {
    "host",	   "path",   "port",  "ports",	     "protocol",   "tls",
    "enforcement", "access", "rules", "allowed_ips", "deny_rules",
};

static int extract_options(const json_t *e, struct network_endpoint *ep)
{
	json_t *options = json_copy((json_t *)e);

	if (!options)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(endpoint_typed_keys); i++)
		json_object_del(options, endpoint_typed_keys[i]);
	if (json_object_size(options) == 0)
		json_decref(options);
	else
		ep->options = options;
	return 0;
}

static int extract_endpoint(const json_t *e, const struct tree_node *n, struct network_endpoint *ep,
			    struct diagnostics *d)
{
	char **strings[] = {&ep->host, &ep->path,	 &ep->protocol,
			    &ep->tls,  &ep->enforcement, &ep->access};
	const char *keys[] = {"host", "path", "protocol", "tls", "enforcement", "access"};
	int r;

	ep->mark = n->mark;
	ep->host_mark = mark_of(tree_get(n, "host"));
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		r = dup_member(e, keys[i], strings[i]);
		if (r < 0)
			return r;
	}
	ep->rules = array_member(e, "rules");
	ep->deny_rules = array_member(e, "deny_rules");
	r = extract_ports(e, n, ep, d);
	if (r < 0)
		return r;
	r = extract_strings(json_object_get(e, "allowed_ips"), tree_get(n, "allowed_ips"),
			    &ep->allowed_ips);
	if (r < 0)
		return r;
	return extract_options(e, ep);
}

static int extract_binaries(const json_t *arr, const struct tree_node *seq, struct path_list *ret,
			    struct diagnostics *d)
{
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const struct tree_node *n = seq->children[i];
		const char *path =
		    json_string_value(json_object_get(json_array_get(arr, i), "path"));
		int r;

		if (tree_get_key(n, "harness"))
			diag_add(d, DIAG_WARNING, mark_of(tree_get_key(n, "harness")),
				 "'harness' is deprecated and ignored");
		if (!path)
			continue;
		r = path_list_push(ret, path, mark_of(tree_get(n, "path")));
		if (r < 0)
			return r;
	}
	return 0;
}

/* name, or the key when name is absent or empty. */
static int dup_name(const json_t *obj, const char *key, char **ret)
{
	const char *name = json_string_value(json_object_get(obj, "name"));

	*ret = strdup(name && *name ? name : key);
	return *ret ? 0 : -ENOMEM;
}

static int extract_network_policy(const char *key, const json_t *v, const struct tree_node *n,
				  struct network_policy *np, struct diagnostics *d)
{
	const json_t *endpoints = json_object_get(v, "endpoints");
	const struct tree_node *seq = tree_get(n, "endpoints");
	int r;

	np->key = strdup(key);
	if (!np->key || dup_name(v, key, &np->name) < 0)
		return -ENOMEM;
	np->endpoints = calloc(json_array_size(endpoints) + 1, sizeof(*np->endpoints));
	if (!np->endpoints)
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(endpoints); i++) {
		const json_t *e = json_array_get(endpoints, i);

		if (!json_is_object(e))
			continue;
		r = extract_endpoint(e, seq->children[i], &np->endpoints[np->n_endpoints++], d);
		if (r < 0)
			return r;
	}
	if (!json_is_array(json_object_get(v, "binaries")))
		return 0;
	return extract_binaries(json_object_get(v, "binaries"), tree_get(n, "binaries"),
				&np->binaries, d);
}

/* In the order written; the tree gives the marks, the document the values
 * that passed the schema. */
static int extract_network_policies(const json_t *doc, const struct tree_node *root,
				    struct policy *p, struct diagnostics *d)
{
	const json_t *map = json_object_get(doc, "network_policies");
	const struct tree_node *n = tree_get(root, "network_policies");

	p->network_policies = calloc(json_object_size(map) + 1, sizeof(*p->network_policies));
	if (!p->network_policies)
		return -ENOMEM;
	for (size_t i = 0; n && i + 1 < n->n_children; i += 2) {
		const char *key = n->children[i]->text;
		const json_t *v = json_object_get(map, key);
		struct network_policy *np;
		int r;

		if (!v)
			continue;
		np = &p->network_policies[p->n_network_policies++];
		np->mark = n->children[i]->mark;
		r = extract_network_policy(key, v, n->children[i + 1], np, d);
		if (r < 0)
			return r;
	}
	return 0;
}

static int extract_middleware(const char *key, const json_t *v, const struct tree_node *n,
			      struct network_middleware *mw)
{
	const json_t *selector = json_object_get(v, "endpoints");
	int r;

	mw->key = strdup(key);
	if (!mw->key || dup_name(v, key, &mw->name) < 0 ||
	    dup_member(v, "middleware", &mw->middleware) < 0 ||
	    dup_member(v, "on_error", &mw->on_error) < 0)
		return -ENOMEM;
	mw->order = (int32_t)json_integer_value(json_object_get(v, "order"));
	mw->order_mark = mark_of(tree_get(n, "order"));
	if (json_is_object(json_object_get(v, "config")))
		mw->config = json_incref(json_object_get(v, "config"));
	mw->has_endpoints = json_is_object(selector);
	r = extract_strings(json_object_get(selector, "include"),
			    tree_get(tree_get(n, "endpoints"), "include"), &mw->include);
	if (r < 0)
		return r;
	return extract_strings(json_object_get(selector, "exclude"),
			       tree_get(tree_get(n, "endpoints"), "exclude"), &mw->exclude);
}

static int extract_middlewares(const json_t *doc, const struct tree_node *root, struct policy *p)
{
	const json_t *map = json_object_get(doc, "network_middlewares");
	const struct tree_node *n = tree_get(root, "network_middlewares");

	p->network_middlewares = calloc(json_object_size(map) + 1, sizeof(*p->network_middlewares));
	if (!p->network_middlewares)
		return -ENOMEM;
	for (size_t i = 0; n && i + 1 < n->n_children; i += 2) {
		const char *key = n->children[i]->text;
		const json_t *v = json_object_get(map, key);
		struct network_middleware *mw;
		int r;

		if (!v)
			continue;
		mw = &p->network_middlewares[p->n_network_middlewares++];
		mw->mark = n->children[i]->mark;
		r = extract_middleware(key, v, n->children[i + 1], mw);
		if (r < 0)
			return r;
	}
	return 0;
}

static int extract_policy(const json_t *doc, const struct tree_node *root, struct policy *p,
			  struct diagnostics *d)
{
	int r = extract_settings(doc, root, p);

	if (r >= 0)
		r = extract_filesystem(doc, root, p);
	if (r >= 0)
		r = extract_network_policies(doc, root, p, d);
	if (r >= 0)
		r = extract_middlewares(doc, root, p);
	return r;
}

/* The checked document, or NULL with the reason in d (*ret_oom on ENOMEM). */
static json_t *convert_root(const struct tree_node *root, struct diagnostics *d, bool *ret_oom)
{
	*ret_oom = false;
	if (!root || (root->kind == TREE_SCALAR && tree_scalar_type(root) == SCALAR_NULL)) {
		diag_add(d, DIAG_ERROR, root ? root->mark : (struct source_mark){1, 1},
			 "the policy file is empty");
		return NULL;
	}
	if (root->kind != TREE_MAPPING) {
		diag_add(d, DIAG_ERROR, root->mark,
			 "a policy is a mapping (version, filesystem_policy, ...), not a %s",
			 root->kind == TREE_SEQUENCE ? "sequence" : "scalar");
		return NULL;
	}
	return schema_convert_policy(root, d, ret_oom);
}

/* Builds and validates the model of a parsed document. */
static int load_tree(const struct tree_node *root, struct policy *ret, struct diagnostics *d)
{
	struct policy p = {0};
	size_t errors = d->n_errors;
	bool oom;
	json_t *doc = convert_root(root, d, &oom);
	int r;

	if (!doc)
		return oom ? -ENOMEM : -EINVAL;
	r = extract_policy(doc, root, &p, d);
	json_decref(doc);
	if (r >= 0) {
		policy_validate(&p, d);
		r = d->n_errors > errors ? -EINVAL : 0;
	}
	if (r < 0) {
		policy_free(&p);
		return r;
	}
	*ret = p;
	return 0;
}

int policy_load_buffer(const char *name, const char *data, size_t size, struct policy *ret,
		       struct diagnostics *d)
{
	struct tree tree = {0};
	struct policy p;
	int r;

	if (diag_set_file(d, name) < 0)
		return -ENOMEM;
	if (size > POLICY_FILE_MAX_BYTES) {
		diag_add(d, DIAG_ERROR, (struct source_mark){0},
			 "the policy file is larger than 1 MiB (%zu bytes)", size);
		return -EFBIG;
	}
	r = check_text(data, size, d);
	if (r >= 0)
		r = tree_parse(data, size, d, &tree);
	if (r >= 0)
		r = load_tree(tree.root, &p, d);
	tree_free(&tree);
	diag_sort(d);
	if (r < 0)
		return r;
	p.source_name = strdup(name);
	if (!p.source_name) {
		policy_free(&p);
		return -ENOMEM;
	}
	*ret = p;
	return 0;
}

static int file_error(struct diagnostics *d, int code, const char *what)
{
	diag_add(d, DIAG_ERROR, (struct source_mark){0}, "%s%s%s", what, code ? ": " : "",
		 code ? strerror(code) : "");
	return -code;
}

/* Reads a regular file of at most POLICY_FILE_MAX_BYTES into *ret. */
static int read_policy_file(const char *path, char **ret, size_t *ret_size, struct diagnostics *d)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap;
	struct stat st;

	if (fd < 0)
		return file_error(d, errno, "cannot open the policy file");
	if (fstat(fd, &st) < 0)
		return file_error(d, errno, "cannot inspect the policy file");
	if (S_ISDIR(st.st_mode))
		return file_error(d, EISDIR, "cannot read the policy file");
	if (!S_ISREG(st.st_mode)) {
		file_error(d, 0, "the policy is not a regular file");
		return -EINVAL;
	}
	if (st.st_size > POLICY_FILE_MAX_BYTES) {
		diag_add(d, DIAG_ERROR, (struct source_mark){0},
			 "the policy file is larger than 1 MiB (%lld bytes)",
			 (long long)st.st_size);
		return -EFBIG;
	}
	/* Room for the size fstat() saw and one byte more, to see the end of
	 * the file; a file that grows meanwhile gets up to the limit. */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	while (len <= POLICY_FILE_MAX_BYTES) {
		ssize_t n;

		if (len == cap) {
			char *bigger = realloc(buf, POLICY_FILE_MAX_BYTES + 1);

			if (!bigger)
				return -ENOMEM;
			buf = bigger;
			cap = POLICY_FILE_MAX_BYTES + 1;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return file_error(d, errno, "cannot read the policy file");
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret = TAKE_PTR(buf);
	*ret_size = len;
	return 0;
}

int policy_load_file(const char *path, struct policy *ret, struct diagnostics *d)
{
	_cleanup_free_ char *data = NULL;
	size_t size = 0;
	int r;

	if (diag_set_file(d, path) < 0)
		return -ENOMEM;
	r = read_policy_file(path, &data, &size, d);
	if (r < 0)
		return r;
	return policy_load_buffer(path, data, size, ret, d);
}
