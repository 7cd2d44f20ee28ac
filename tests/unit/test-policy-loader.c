/* The policy loader: OpenShell-schema documents load into the model with
 * OpenShell's defaults, and bad input of every kind (syntax, types, unknown
 * keys, limits, bytes, files) is refused with an error at its line and
 * column, every violation collected. */
#include "policy-test.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy/yamltree.h"

/* The shape of OpenShell's own sandbox policies: flow-style endpoints,
 * layer-7 rules, globbed binaries, comments. */
static const char openshell_style[] =
    "# A sandbox policy in OpenShell's schema.\n"
    "version: 1\n"
    "\n"
    "filesystem_policy:\n"
    "  include_workdir: true\n"
    "  read_only:\n"
    "    - /usr\n"
    "    - /lib\n"
    "    - /proc\n"
    "  read_write:\n"
    "    - /sandbox\n"
    "    - /tmp\n"
    "\n"
    "landlock:\n"
    "  compatibility: best_effort\n"
    "\n"
    "process:\n"
    "  run_as_user: sandbox\n"
    "  run_as_group: sandbox\n"
    "\n"
    "network_policies:\n"
    "  assistant:\n"
    "    name: assistant-api\n"
    "    endpoints:\n"
    "      - { host: api.example.com, port: 443, protocol: rest, enforcement: enforce, "
    "access: full, tls: terminate }\n"
    "      - { host: telemetry.example.com, port: 443 }\n"
    "    binaries:\n"
    "      - { path: /usr/bin/node }\n"
    "      - { path: \"/sandbox/.tools/**\" }\n"
    "  git_over_https:\n"
    "    endpoints:\n"
    "      - host: git.example.com\n"
    "        port: 443\n"
    "        protocol: rest\n"
    "        rules:\n"
    "          # clone and fetch only\n"
    "          - allow:\n"
    "              method: GET\n"
    "              path: \"/**/info/refs*\"\n"
    "          - allow:\n"
    "              method: POST\n"
    "              path: \"/**/git-upload-pack\"\n"
    "    binaries:\n"
    "      - { path: /usr/bin/git }\n";

static void test_openshell_policy_loads(void **state)
{
	struct policy p = {0};
	const struct network_policy *np;
	const json_t *allow;

	(void)state;
	load_ok(openshell_style, &p);
	assert_int_equal(p.version, 1);
	assert_true(p.include_workdir);
	assert_int_equal(p.read_only.len, 3);
	assert_string_equal(p.read_only.items[2].path, "/proc");
	assert_int_equal(p.read_only.items[2].mark.line, 9);
	assert_int_equal(p.read_only.items[2].mark.column, 7);
	assert_int_equal(p.read_write.len, 2);
	assert_int_equal(p.compat, COMPAT_BEST_EFFORT);
	assert_string_equal(p.run_as_user, "sandbox");
	assert_int_equal(p.n_network_policies, 2);
	np = &p.network_policies[0];
	assert_string_equal(np->key, "assistant");
	assert_string_equal(np->name, "assistant-api");
	assert_int_equal(np->n_endpoints, 2);
	assert_string_equal(np->endpoints[0].host, "api.example.com");
	assert_int_equal(np->endpoints[0].n_ports, 1);
	assert_int_equal(np->endpoints[0].ports[0], 443);
	assert_string_equal(np->endpoints[0].tls, "terminate");
	assert_string_equal(np->endpoints[0].access, "full");
	assert_null(np->endpoints[1].protocol);
	assert_int_equal(np->binaries.len, 2);
	assert_string_equal(np->binaries.items[1].path, "/sandbox/.tools/**");
	np = &p.network_policies[1];
	assert_string_equal(np->name, "git_over_https");
	assert_int_equal(json_array_size(np->endpoints[0].rules), 2);
	allow = json_object_get(json_array_get(np->endpoints[0].rules, 1), "allow");
	assert_string_equal(json_string_value(json_object_get(allow, "method")), "POST");
	policy_free(&p);
}

static void assert_marks_equal(struct source_mark a, struct source_mark b)
{
	assert_int_equal(a.line, b.line);
	assert_int_equal(a.column, b.column);
}

static void assert_paths_equal(const struct path_list *a, const struct path_list *b)
{
	assert_int_equal(a->len, b->len);
	for (size_t i = 0; i < a->len; i++) {
		assert_string_equal(a->items[i].path, b->items[i].path);
		assert_marks_equal(a->items[i].mark, b->items[i].mark);
	}
}

/* The default policy is built without parsing its text; it must be the
 * model the loader makes of that text, marks and source name included. */
static void test_builtin_default_is_its_text(void **state)
{
	struct diagnostics d_built = {0}, d_parsed = {0};
	struct policy built = {0}, parsed = {0};
	size_t size;
	const char *text = policy_default_text(&size);

	(void)state;
	assert_int_equal(policy_load_default(&built, &d_built), 0);
	assert_int_equal(policy_load_buffer(POLICY_DEFAULT_NAME, text, size, &parsed, &d_parsed), 0);
	assert_true(policy_equal(&built, &parsed));
	assert_string_equal(built.source_name, parsed.source_name);
	assert_true(policy_is_default(&built));
	assert_int_equal(built.version, parsed.version);
	assert_int_equal(built.has_filesystem_policy, parsed.has_filesystem_policy);
	assert_int_equal(built.include_workdir, parsed.include_workdir);
	assert_int_equal(built.compat, parsed.compat);
	assert_null(built.run_as_user);
	assert_null(parsed.run_as_user);
	assert_null(built.run_as_group);
	assert_null(parsed.run_as_group);
	assert_int_equal(built.n_network_policies, parsed.n_network_policies);
	assert_int_equal(built.n_network_middlewares, parsed.n_network_middlewares);
	assert_paths_equal(&built.read_only, &parsed.read_only);
	assert_paths_equal(&built.read_write, &parsed.read_write);
	assert_marks_equal(built.marks.version, parsed.marks.version);
	assert_marks_equal(built.marks.compatibility, parsed.marks.compatibility);
	assert_marks_equal(built.marks.run_as_user, parsed.marks.run_as_user);
	assert_marks_equal(built.marks.run_as_group, parsed.marks.run_as_group);
	assert_int_equal(d_built.len, d_parsed.len);
	assert_int_equal(d_built.n_errors, 0);
	policy_free(&built);
	policy_free(&parsed);
	diag_free(&d_built);
	diag_free(&d_parsed);
}

static void test_defaults_without_filesystem_section(void **state)
{
	struct policy p = {0};

	(void)state;
	load_ok("version: 1\n", &p);
	assert_false(p.has_filesystem_policy);
	assert_true(p.include_workdir);
	assert_int_equal(p.compat, COMPAT_BEST_EFFORT);
	assert_null(p.run_as_user);
	assert_int_equal(p.n_network_policies, 0);
	policy_free(&p);
}

static void test_defaults_with_filesystem_section(void **state)
{
	struct policy p = {0};

	(void)state;
	load_ok("version: 1\nfilesystem_policy:\n  read_only: [/usr]\n", &p);
	assert_true(p.has_filesystem_policy);
	assert_false(p.include_workdir);
	policy_free(&p);
	load_ok("version: 1\nfilesystem_policy:\n  include_workdir: true\n", &p);
	assert_true(p.include_workdir);
	policy_free(&p);
}

static void test_compatibility(void **state)
{
	struct policy p = {0};

	(void)state;
	load_ok("version: 1\nlandlock:\n  compatibility: hard_requirement\n", &p);
	assert_int_equal(p.compat, COMPAT_HARD_REQUIREMENT);
	policy_free(&p);
	load_ok("version: 1\nlandlock: {}\n", &p);
	assert_int_equal(p.compat, COMPAT_BEST_EFFORT);
	policy_free(&p);
	expect_only_error(
	    "version: 1\nlandlock:\n  compatibility: best_efort\n", 3, 18,
	    "landlock.compatibility: unknown value 'best_efort' (expected best_effort "
	    "or hard_requirement); did you mean 'best_effort'?");
	expect_only_error("version: 1\nlandlock:\n  compatibility: strict\n", 3, 18,
			  "unknown value 'strict'");
	expect_only_error("version: 1\nlandlock:\n  compatibility: true\n", 3, 18,
			  "unknown value 'true'");
}

static void test_version_required(void **state)
{
	(void)state;
	expect_only_error("filesystem_policy: {}\n", 1, 1,
			  "missing required key 'version' at the top level");
	expect_only_error("version: \"1\"\n", 1, 10,
			  "version: expected an integer, found the string '1'");
	expect_only_error("version: 1.0\n", 1, 10,
			  "version: expected an integer, found the number");
	expect_only_error("version: 99999999999\n", 1, 10, "version: 99999999999 is out of range");
}

static void test_unknown_keys(void **state)
{
	(void)state;
	expect_only_error(
	    "version: 1\nfilesystem_policy:\n  read_onyl: [/usr]\n", 3, 3,
	    "unknown key 'read_onyl' in filesystem_policy; did you mean 'read_only'?");
	expect_only_error("version: 1\nlandlok: {}\n", 2, 1,
			  "unknown key 'landlok' at the top level; did you mean 'landlock'?");
	expect_only_error("version: 1\nfavourite_colour: blue\n", 2, 1,
			  "unknown key 'favourite_colour' at the top level");
	expect_only_error("version: 1\nprocess:\n  run_as: sandbox\n", 3, 3,
			  "unknown key 'run_as' in process");
	expect_only_error("version: 1\nnetwork_policies:\n  a:\n    endpoints:\n"
			  "      - { host: a.example.com, port: 443, protcol: rest }\n",
			  5, 43,
			  "unknown key 'protcol' in network_policies.a.endpoints[0]; did you mean "
			  "'protocol'?");
	expect_only_error("version: 1\nnetwork_policies:\n  a:\n    endpoints:\n"
			  "      - host: a.example.com\n        port: 443\n        protocol: rest\n"
			  "        rules:\n          - allow: { methd: GET }\n",
			  9, 22,
			  "unknown key 'methd' in network_policies.a.endpoints[0].rules[0].allow; "
			  "did you mean 'method'?");
	expect_only_error(
	    "version: 1\nnetwork_policies:\n  a:\n    binaries: [{ pth: /x, path: /y }]\n", 4, 18,
	    "unknown key 'pth'");
}

static void test_cedar_refused(void **state)
{
	(void)state;
	expect_only_error("version: 1\ncedar_policy: permit(principal, action, resource);\n", 2, 1,
			  "cedar_policy is not supported");
}

static void test_wrong_types(void **state)
{
	(void)state;
	expect_only_error("version: 1\nfilesystem_policy: [/usr]\n", 2, 20,
			  "filesystem_policy: expected a mapping, found a sequence");
	expect_only_error("version: 1\nfilesystem_policy:\n  read_only: {a: b}\n", 3, 14,
			  "filesystem_policy.read_only: expected a sequence, found a mapping");
	expect_only_error("version: 1\nfilesystem_policy:\n  include_workdir: yes\n", 3, 20,
			  "expected a boolean (true or false), found the string 'yes'");
	expect_only_error("version: 1\nfilesystem_policy:\n  include_workdir: \"true\"\n", 3, 20,
			  "expected a boolean");
	expect_only_error("version: 1\nfilesystem_policy:\n  read_only: [/usr, [/lib]]\n", 3, 21,
			  "filesystem_policy.read_only[1]: expected a string, found a sequence");
	expect_only_error("version: 1\nprocess:\n  run_as_user:\n", 3, 15,
			  "process.run_as_user: expected a string, found null");
	expect_only_error("version: 1\nnetwork_policies:\n  a:\n    endpoints:\n"
			  "      - { host: a.example.com, port: \"443\" }\n",
			  5, 38, "network_policies.a.endpoints[0].port: expected an integer");
	expect_only_error("version: 1\nnetwork_policies: [a]\n", 2, 19,
			  "network_policies: expected a mapping, found a sequence");
}

static void test_top_level_must_be_mapping(void **state)
{
	(void)state;
	expect_only_error("- version: 1\n", 1, 1, "a policy is a mapping");
	expect_only_error("just text\n", 1, 1, "a policy is a mapping");
}

static void test_scalar_forms(void **state)
{
	struct policy p = {0};

	(void)state;
	/* Plain numbers are text where a string belongs; 0x and 0o integers. */
	load_ok("version: 0x1\nprocess:\n  run_as_user: 1000\n  run_as_group: !!str 1000\n"
		"network_policies:\n  a:\n    endpoints: [{host: a.example.com, port: 0o1273}]\n",
		&p);
	assert_string_equal(p.run_as_user, "1000");
	assert_string_equal(p.run_as_group, "1000");
	assert_int_equal(p.network_policies[0].endpoints[0].ports[0], 699);
	policy_free(&p);
	load_ok("version: 1\nfilesystem_policy:\n  read_only:\n    - |-\n      /literal\n"
		"    - '/single'\n    - \"/dou\\x62le\"\n",
		&p);
	assert_string_equal(p.read_only.items[0].path, "/literal");
	assert_string_equal(p.read_only.items[2].path, "/double");
	policy_free(&p);
}

static void test_syntax_errors(void **state)
{
	(void)state;
	expect_only_error("version: 1\nfilesystem_policy:\n  read_only: [/usr\n", 4, 1,
			  "YAML syntax error");
	expect_only_error("version: 1\n  bad: indentation\n", 2, 6, "YAML syntax error");
	expect_only_error("version: 1\nfilesystem_policy:\n\tread_only: []\n", 3, 1,
			  "YAML syntax error");
}

static void test_second_document(void **state)
{
	(void)state;
	expect_only_error("version: 1\n---\nversion: 1\n", 2, 1,
			  "a policy file holds one YAML document");
	expect_valid("---\nversion: 1\n...\n");
}

static void test_duplicate_keys(void **state)
{
	(void)state;
	expect_only_error("version: 1\nlandlock: {}\nversion: 1\n", 3, 1,
			  "duplicate key 'version' (first at 1:1)");
	expect_only_error("version: 1\nnetwork_policies:\n  a: {}\n  b: {}\n  a: {}\n", 5, 3,
			  "duplicate key 'a' (first at 3:3)");
}

static void test_aliases_refused(void **state)
{
	(void)state;
	expect_valid("version: &v 1\n");
	expect_only_error("version: 1\nfilesystem_policy:\n  read_only: &l [/usr]\n"
			  "  read_write: *l\n",
			  4, 15, "YAML aliases ('*l') are not supported");
	expect_only_error("a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c]\n", 2, 8,
			  "aliases");
	expect_only_error("version: 1\n<<: {landlock: {}}\n", 2, 1, "unknown key '<<'");
}

static void test_tags(void **state)
{
	(void)state;
	expect_only_error("version: 1\nprocess: !custom {run_as_user: sandbox}\n", 2, 10,
			  "unsupported YAML tag '!custom'");
	expect_only_error("version: !!int 1\n", 1, 10, "unsupported YAML tag");
}

/* "version: 1\nx: [[[...]]]" nested depth levels below the root. */
static char *nested(unsigned depth)
{
	char *s = malloc(2 * depth + 32);
	size_t n = (size_t)sprintf(s, "version: 1\nx: ");

	memset(s + n, '[', depth);
	memset(s + n + depth, ']', depth);
	strcpy(s + n + 2 * depth, "\n");
	return s;
}

static void test_nesting_limit(void **state)
{
	char *deep = nested(YAML_TREE_DEPTH_MAX);
	char *fits = nested(YAML_TREE_DEPTH_MAX - 1);

	(void)state;
	/* The root mapping is level one: 63 more fit, the 64th does not. */
	expect_only_error(fits, 2, 1, "unknown key 'x'");
	expect_only_error(deep, 2, 4 + YAML_TREE_DEPTH_MAX - 1,
			  "the policy is nested deeper than 64 levels");
	free(deep);
	free(fits);
}

static void test_node_limit(void **state)
{
	size_t n = YAML_TREE_NODES_MAX + 1;
	char *text = malloc(3 * n + 64);
	size_t len = (size_t)sprintf(text, "version: 1\nx: [");

	(void)state;
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, "1,");
	strcpy(text + len, "]\n");
	/* Nodes 1-5 are the root, version, 1, x and the sequence. */
	expect_only_error(text, 2, 5 + 2 * (YAML_TREE_NODES_MAX - 5),
			  "the policy has more than 100000 YAML nodes");
	free(text);
}

static void test_key_length_limit(void **state)
{
	char fits[256], too_long[256];

	(void)state;
	snprintf(
	    fits, sizeof(fits), "version: 1\nnetwork_policies:\n  %s: {}\n",
	    "k23456789012345678901234567890123456789012345678901234567890123456789012345678901234"
	    "56789012345678901234567890123456789012345678");
	snprintf(
	    too_long, sizeof(too_long), "version: 1\nnetwork_policies:\n  %s: {}\n",
	    "k23456789012345678901234567890123456789012345678901234567890123456789012345678901234"
	    "567890123456789012345678901234567890123456789");
	expect_valid(fits);
	expect_only_error(too_long, 3, 3, "a key is longer than 128 bytes");
}

static void test_empty_input(void **state)
{
	(void)state;
	expect_only_error("", 1, 1, "the policy file is empty");
	expect_only_error("\n\n   \n", 1, 1, "the policy file is empty");
	expect_only_error("# nothing but a comment\n", 1, 1, "the policy file is empty");
	expect_only_error("---\n", 2, 1, "the policy file is empty");
	expect_only_error("~\n", 1, 1, "the policy file is empty");
}

static void test_bytes(void **state)
{
	static const char nul[] = "version: 1\nlandlock:\n  compat\0ibility: best_effort\n";
	struct diagnostics d = {0};
	struct policy p = {0};

	(void)state;
	assert_int_equal(policy_load_buffer(TEST_FILE, nul, sizeof(nul) - 1, &p, &d), -EINVAL);
	assert_int_equal(d.n_errors, 1);
	find_diag(&d, DIAG_ERROR, 3, 9, "a NUL byte in the policy file");
	diag_free(&d);
	expect_only_error("version: 1\nfilesystem_policy:\n  read_only: [/caf\xc3\xa9, /x\xff]\n",
			  3, 24, "invalid UTF-8 (byte 0xff)");
	expect_only_error("version: 1\n# \xed\xa0\x80 is a surrogate\n", 2, 3,
			  "invalid UTF-8 (byte 0xed)");
	expect_only_error("version: 1\n# overlong \xc0\xaf\n", 2, 12, "invalid UTF-8 (byte 0xc0)");
	expect_only_error("version: 1\nx: \x01\n", 2, 4, "control characters are not allowed");
	expect_only_error("version: 1\nfilesystem_policy:\n  read_only: [\"/a\\0b\"]\n", 3, 15,
			  "a string holds a NUL character");
}

static void test_bom_and_crlf(void **state)
{
	struct policy p = {0};

	(void)state;
	load_ok("\xef\xbb\xbfversion: 1\r\nfilesystem_policy:\r\n  read_only: [/usr]\r\n", &p);
	assert_int_equal(p.read_only.items[0].mark.line, 3);
	assert_int_equal(p.read_only.items[0].mark.column, 15);
	policy_free(&p);
	expect_error("\xef\xbb\xbfversoin: 1\r\n", 1, 1, "unknown key 'versoin'");
}

static void test_json_input(void **state)
{
	struct policy p = {0};

	(void)state;
	load_ok("{\"version\": 1, \"filesystem_policy\": {\"include_workdir\": false,\n"
		" \"read_only\": [\"/usr\"], \"read_write\": []},\n"
		" \"landlock\": {\"compatibility\": \"hard_requirement\"}}\n",
		&p);
	assert_false(p.include_workdir);
	assert_int_equal(p.compat, COMPAT_HARD_REQUIREMENT);
	assert_int_equal(p.read_only.items[0].mark.line, 2);
	assert_int_equal(p.read_only.items[0].mark.column, 16);
	policy_free(&p);
}

static void test_collects_every_violation(void **state)
{
	static const char text[] = "version: 2\n"
				   "filesystem_policy:\n"
				   "  read_onyl: [/usr]\n"
				   "  read_write: [tmp, /]\n"
				   "landlock:\n"
				   "  compatibility: maybe\n"
				   "process:\n"
				   "  run_as_user: root\n";
	struct diagnostics d = {0};
	struct policy p = {0};

	(void)state;
	assert_int_equal(test_load(text, &p, &d), -EINVAL);
	assert_int_equal(d.n_errors, 6);
	find_diag(&d, DIAG_ERROR, 1, 10, "unsupported policy version 2");
	find_diag(&d, DIAG_ERROR, 3, 3, "unknown key 'read_onyl'");
	find_diag(&d, DIAG_ERROR, 4, 16,
		  "path 'tmp' in filesystem_policy.read_write is not absolute");
	find_diag(&d, DIAG_ERROR, 4, 21, "too broad");
	find_diag(&d, DIAG_ERROR, 6, 18, "unknown value 'maybe'");
	find_diag(&d, DIAG_ERROR, 8, 16, "root is refused");
	for (size_t i = 1; i < d.len; i++)
		assert_true(d.items[i - 1].mark.line <= d.items[i].mark.line);
	diag_free(&d);
}

static void test_diagnostics_are_capped(void **state)
{
	size_t n = 300, len;
	char *text = malloc(16 * n + 64);
	struct diagnostics d = {0};
	struct policy p = {0};
	char line[256];

	(void)state;
	len = (size_t)sprintf(text, "version: 1\nfilesystem_policy:\n  read_only:\n");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, "    - rel%zu\n", i);
	assert_int_equal(policy_load_buffer(TEST_FILE, text, len, &p, &d), -EINVAL);
	assert_int_equal(d.n_errors, n + 1); /* and one for the count */
	assert_int_equal(d.len, DIAG_MAX_KEPT);
	assert_int_equal(d.n_dropped, n + 1 - DIAG_MAX_KEPT);
	diag_format(&d, 0, line, sizeof(line));
	assert_string_equal(
	    line,
	    "test.yaml:4:7: error: path 'rel0' in filesystem_policy.read_only is not absolute");
	diag_free(&d);
	free(text);
}

static void test_network_normalisation(void **state)
{
	struct policy p = {0};
	const struct network_endpoint *ep;

	(void)state;
	load_ok(
	    "version: 1\nnetwork_policies:\n  api:\n    name: ''\n    endpoints:\n"
	    "      - host: api.example.com\n        ports: [443, 8443]\n        protocol: REST\n"
	    "        access: read-only\n        allow_encoded_slash: true\n"
	    "        graphql_max_body_bytes: 65536\n",
	    &p);
	ep = &p.network_policies[0].endpoints[0];
	assert_string_equal(p.network_policies[0].name, "api");
	assert_int_equal(ep->n_ports, 2);
	assert_int_equal(ep->ports[1], 8443);
	assert_int_equal(ep->ports_mark.line, 7);
	assert_int_equal(ep->ports_mark.column, 16);
	assert_string_equal(ep->protocol, "rest");
	assert_null(ep->rules);
	assert_true(json_is_true(json_object_get(ep->options, "allow_encoded_slash")));
	assert_int_equal(json_integer_value(json_object_get(ep->options, "graphql_max_body_bytes")),
			 65536);
	assert_int_equal(json_object_size(ep->options), 2);
	policy_free(&p);
}

static void test_port_and_ports(void **state)
{
	(void)state;
	expect_only_error("version: 1\nnetwork_policies:\n  a:\n    endpoints:\n"
			  "      - { host: a.example.com, port: 443, ports: [443] }\n",
			  5, 32, "an endpoint takes 'port' or 'ports', not both");
	expect_only_error("version: 1\nnetwork_policies:\n  a:\n    endpoints:\n"
			  "      - { host: a.example.com, ports: [] }\n",
			  5, 39, "an endpoint's 'ports' lists no port");
}

static void test_binary_harness_ignored(void **state)
{
	struct policy p = {0};

	(void)state;
	expect_warning("version: 1\nnetwork_policies:\n  a:\n    binaries:\n"
		       "      - { path: /usr/bin/git, harness: true }\n",
		       5, 31, "'harness' is deprecated and ignored");
	expect_only_error(
	    "version: 1\nnetwork_policies:\n  a:\n    binaries:\n      - { harness: true }\n", 5, 9,
	    "missing required key 'path' in network_policies.a.binaries[0]");
	load_ok("version: 1\nnetwork_policies:\n  a:\n    binaries: [{path: /bin/sh, harness: "
		"false}]\n",
		&p);
	assert_int_equal(p.network_policies[0].binaries.len, 1);
	policy_free(&p);
}

static void test_middlewares(void **state)
{
	struct policy p = {0};
	const struct network_middleware *mw;

	(void)state;
	load_ok(
	    "version: 1\nnetwork_middlewares:\n  redact:\n    name: Redactor\n"
	    "    middleware: openshell/regex\n    order: -5\n    on_error: fail_open\n"
	    "    endpoints: {include: [api.example.com, \"*.svc.example.com\"], exclude: "
	    "[x.example.com]}\n"
	    "    config: {mode: redact, limit: 1.5, list: [1, null, true, text], nested: {k: ~}}\n",
	    &p);
	mw = &p.network_middlewares[0];
	assert_string_equal(mw->name, "Redactor");
	assert_int_equal(mw->order, -5);
	assert_string_equal(mw->on_error, "fail_open");
	assert_int_equal(mw->include.len, 2);
	assert_int_equal(mw->exclude.len, 1);
	assert_true(json_is_real(json_object_get(mw->config, "limit")));
	assert_true(json_is_null(json_array_get(json_object_get(mw->config, "list"), 1)));
	policy_free(&p);
	expect_only_error("version: 1\nnetwork_middlewares:\n  m:\n"
			  "    endpoints: {include: [a.example.com]}\n",
			  4, 5, "missing required key 'middleware' in network_middlewares.m");
	expect_only_error("version: 1\nnetwork_middlewares:\n  m:\n    middleware: x\n"
			  "    endpoints: {include: [a.example.com]}\n    config: [a]\n",
			  6, 13, "network_middlewares.m.config: expected a mapping");
	expect_only_error("version: 1\nnetwork_middlewares:\n  m:\n    middleware: x\n"
			  "    endpoints: {include: [a.example.com]}\n    config: {x: .inf}\n",
			  6, 17, "the number .inf cannot be represented");
}

static void test_layer7_matchers(void **state)
{
	(void)state;
	expect_valid(
	    "version: 1\nnetwork_policies:\n  a:\n    endpoints:\n      - host: a.example.com\n"
	    "        port: 443\n        protocol: mcp\n"
	    "        rules:\n          - allow:\n              method: tools/call\n"
	    "              tool: {any: [read_*, list_*]}\n"
	    "              query: {repo: \"org/*\"}\n"
	    "              params: {options: {mode: {any: [fast]}, depth: \"1\"}}\n"
	    "        mcp: {versions: [\"2025-06-18\"], strict_tool_names: false}\n");
	expect_only_error(
	    "version: 1\nnetwork_policies:\n  a:\n    endpoints:\n"
	    "      - host: a.example.com\n        port: 443\n        protocol: rest\n"
	    "        rules: [{allow: {method: GET, query: {q: {all: [x]}}}}]\n",
	    8, 51, "unknown key 'all' in network_policies.a.endpoints[0].rules[0].allow.query.q");
	expect_error("version: 1\nnetwork_policies:\n  a:\n    endpoints:\n"
		     "      - host: a.example.com\n        port: 443\n        protocol: rest\n"
		     "        rules: [{deny: {method: GET}}]\n",
		     8, 17,
		     "missing required key 'allow' in network_policies.a.endpoints[0].rules[0]");
}

static int write_file(const char *path, const char *text, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	return close(fd);
}

static void expect_file_error(const char *path, int code, const char *msg)
{
	struct diagnostics d = {0};
	struct policy p = {0};
	char line[512];

	assert_int_equal(policy_load_file(path, &p, &d), code);
	assert_int_equal(d.n_errors, 1);
	diag_format(&d, 0, line, sizeof(line));
	if (!strstr(line, msg))
		fail_msg("\"%s\" lacks \"%s\"", line, msg);
	assert_int_equal(d.items[0].mark.line, 0);
	diag_free(&d);
}

/* A key looked up in a sequence or a scalar finds nothing, and a tree of
 * many nodes (its blocks) is freed whole. */
static void test_tree_lookups(void **state)
{
	const char *text = "[a, b, c]";
	struct diagnostics d = {0};
	struct tree t = {0};
	char *many;
	size_t n = 0;

	(void)state;
	assert_int_equal(tree_parse(text, strlen(text), &d, &t), 0);
	assert_int_equal(t.root->kind, TREE_SEQUENCE);
	assert_int_equal(t.root->n_children, 3);
	assert_null(tree_get(t.root, "a"));
	assert_null(tree_get_key(t.root, "a"));
	assert_null(tree_get(t.root->children[0], "a"));
	tree_free(&t);
	assert_null(t.root);

	many = malloc(20 * 5000 + 16);
	assert_non_null(many);
	n += (size_t)sprintf(many, "k:\n");
	for (int i = 0; i < 5000; i++)
		n += (size_t)sprintf(many + n, "  - /path/%05d\n", i);
	assert_int_equal(tree_parse(many, n, &d, &t), 0);
	assert_int_equal(tree_get(t.root, "k")->n_children, 5000);
	assert_string_equal(tree_get(t.root, "k")->children[4999]->text, "/path/04999");
	tree_free(&t);
	assert_int_equal(d.len, 0);
	diag_free(&d);
	free(many);
}

static void test_files(void **state)
{
	char dir[] = "/tmp/lockshell-loader-XXXXXX", path[128], big[128], fifo[128];
	struct diagnostics d = {0};
	struct policy p = {0};
	char *text;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ok.yaml", dir);
	write_file(path, "version: 1\nlandlock: {}\n", 24, 0644);
	assert_int_equal(policy_load_file(path, &p, &d), 0);
	assert_string_equal(p.source_name, path);
	assert_string_equal(d.file, path);
	policy_free(&p);
	diag_free(&d);

	expect_file_error(dir, -EISDIR, ": error: cannot read the policy file: Is a directory");
	snprintf(path, sizeof(path), "%s/missing.yaml", dir);
	expect_file_error(path, -ENOENT,
			  "missing.yaml: error: cannot open the policy file: No such");
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0644), 0);
	expect_file_error(fifo, -EINVAL, "the policy is not a regular file");
	/* A regular file whose size stat() gives as 0 is read to its end:
	 * "Linux\n" is a scalar, not an empty file. */
	assert_int_equal(policy_load_file("/proc/sys/kernel/ostype", &p, &d), -EINVAL);
	assert_int_equal(d.n_errors, 1);
	diag_format(&d, 0, path, sizeof(path));
	assert_non_null(strstr(path, "ostype:1:1: error: a policy is a mapping"));
	diag_free(&d);

	snprintf(big, sizeof(big), "%s/big.yaml", dir);
	text = malloc(POLICY_FILE_MAX_BYTES + 1);
	memset(text, '#', POLICY_FILE_MAX_BYTES + 1);
	write_file(big, text, POLICY_FILE_MAX_BYTES + 1, 0644);
	expect_file_error(big, -EFBIG, "larger than 1 MiB (1048577 bytes)");
	assert_int_equal(policy_load_buffer("buf", text, POLICY_FILE_MAX_BYTES + 1, &p, &d),
			 -EFBIG);
	assert_int_equal(d.n_errors, 1);
	diag_free(&d);
	text[POLICY_FILE_MAX_BYTES - 1] = '\n';
	memcpy(text, "version: 1\n", 11);
	assert_int_equal(policy_load_buffer("buf", text, POLICY_FILE_MAX_BYTES, &p, &d), 0);
	policy_free(&p);
	diag_free(&d);
	free(text);

	unlink(big);
	unlink(fifo);
	snprintf(path, sizeof(path), "%s/ok.yaml", dir);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

/* A file its reader may not open: as root, checked from a child that has
 * dropped to nobody. */
static void test_unreadable_file(void **state)
{
	char path[] = "/tmp/lockshell-unreadable-XXXXXX";
	int fd = mkstemp(path), status;
	pid_t pid;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "version: 1\n", 11), 11);
	assert_int_equal(fchmod(fd, 0600), 0);
	close(fd);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct diagnostics d = {0};
		struct policy p = {0};

		if (geteuid() != 0 && chmod(path, 0) < 0)
			_exit(3);
		if (geteuid() == 0 &&
		    (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		     setresuid(65534, 65534, 65534) < 0))
			_exit(2);
		_exit(policy_load_file(path, &p, &d) == -EACCES && d.n_errors == 1 &&
			      strstr(d.items[0].message, "Permission denied")
			  ? 0
			  : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	unlink(path);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_openshell_policy_loads),
	    cmocka_unit_test(test_builtin_default_is_its_text),
	    cmocka_unit_test(test_defaults_without_filesystem_section),
	    cmocka_unit_test(test_defaults_with_filesystem_section),
	    cmocka_unit_test(test_compatibility),
	    cmocka_unit_test(test_version_required),
	    cmocka_unit_test(test_unknown_keys),
	    cmocka_unit_test(test_cedar_refused),
	    cmocka_unit_test(test_wrong_types),
	    cmocka_unit_test(test_top_level_must_be_mapping),
	    cmocka_unit_test(test_scalar_forms),
	    cmocka_unit_test(test_syntax_errors),
	    cmocka_unit_test(test_second_document),
	    cmocka_unit_test(test_duplicate_keys),
	    cmocka_unit_test(test_aliases_refused),
	    cmocka_unit_test(test_tags),
	    cmocka_unit_test(test_nesting_limit),
	    cmocka_unit_test(test_node_limit),
	    cmocka_unit_test(test_key_length_limit),
	    cmocka_unit_test(test_empty_input),
	    cmocka_unit_test(test_bytes),
	    cmocka_unit_test(test_bom_and_crlf),
	    cmocka_unit_test(test_json_input),
	    cmocka_unit_test(test_collects_every_violation),
	    cmocka_unit_test(test_diagnostics_are_capped),
	    cmocka_unit_test(test_network_normalisation),
	    cmocka_unit_test(test_port_and_ports),
	    cmocka_unit_test(test_binary_harness_ignored),
	    cmocka_unit_test(test_middlewares),
	    cmocka_unit_test(test_layer7_matchers),
	    cmocka_unit_test(test_files),
	    cmocka_unit_test(test_tree_lookups),
	    cmocka_unit_test(test_unreadable_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
