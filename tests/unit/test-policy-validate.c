/* The validation rules: each has a passing and a failing case, and each
 * message is checked for the line and column it points at. */
#include "policy-test.h"

/* "version: 1\nfilesystem_policy:\n  read_only: [RO]\n  read_write: [RW]\n":
 * the first read_only item starts at 3:15, the first read_write at 4:16. */
static char *fs_policy(const char *ro, const char *rw)
{
	char *s = NULL;

	assert_true(
	    asprintf(&s, "version: 1\nfilesystem_policy:\n  read_only: [%s]\n  read_write: [%s]\n",
		     ro, rw) > 0);
	return s;
}

static void expect_fs_valid(const char *ro, const char *rw)
{
	char *s = fs_policy(ro, rw);

	expect_valid(s);
	free(s);
}

static void expect_fs_error(const char *ro, const char *rw, unsigned line, unsigned col,
			    const char *msg)
{
	char *s = fs_policy(ro, rw);

	expect_only_error(s, line, col, msg);
	free(s);
}

static void expect_fs_warning(const char *ro, const char *rw, unsigned line, unsigned col,
			      const char *msg)
{
	char *s = fs_policy(ro, rw);

	expect_warning(s, line, col, msg);
	free(s);
}

static void test_version(void **state)
{
	(void)state;
	expect_valid("version: 1\n");
	expect_only_error("version: 2\n", 1, 10,
			  "unsupported policy version 2; lockshell reads version 1");
	expect_only_error("version: 0\n", 1, 10, "unsupported policy version 0");
	expect_only_error("version: -1\n", 1, 10, "unsupported policy version -1");
}

static void test_path_absolute(void **state)
{
	(void)state;
	expect_fs_valid("/usr, /usr/lib/x86_64-linux-gnu", "/tmp");
	expect_fs_error("usr", "", 3, 15,
			"path 'usr' in filesystem_policy.read_only is not absolute");
	expect_fs_error("/usr", "./tmp", 4, 16,
			"path './tmp' in filesystem_policy.read_write is not absolute");
	expect_fs_error("'~/x'", "", 3, 15,
			"path '~/x' in filesystem_policy.read_only is not absolute");
}

static void test_path_dotdot(void **state)
{
	(void)state;
	expect_fs_valid("/a/...b, /a..b/c, /..., /x/.hidden, /x/./y", "");
	expect_fs_error("/usr/../etc", "", 3, 15,
			"path '/usr/../etc' in filesystem_policy.read_only has a '..' component");
	expect_fs_error("/usr", "/tmp/..", 4, 16, "has a '..' component");
	expect_fs_error("/..", "", 3, 15, "has a '..' component");
}

static void test_path_empty(void **state)
{
	(void)state;
	expect_fs_error("/usr, ''", "", 3, 21, "empty path in filesystem_policy.read_only");
	expect_fs_error("", "\"\"", 4, 16, "empty path in filesystem_policy.read_write");
}

static char *long_path(size_t len)
{
	char *s = malloc(len + 1);

	memset(s, 'a', len);
	for (size_t i = 0; i < len; i += 100)
		s[i] = '/';
	s[len] = '\0';
	return s;
}

static void test_path_length(void **state)
{
	char *fits = long_path(POLICY_PATH_MAX), *too_long = long_path(POLICY_PATH_MAX + 1);

	(void)state;
	expect_fs_valid(fits, "");
	expect_fs_error(too_long, "", 3, 15,
			"a path in filesystem_policy.read_only is 4097 bytes long (at most 4096)");
	free(fits);
	free(too_long);
}

/* n read_only paths /p0, /p1, ..., one per line from line 4 on, column 7. */
static char *many_paths(size_t n)
{
	char *s = malloc(16 * n + 64);
	size_t len = (size_t)sprintf(s, "version: 1\nfilesystem_policy:\n  read_only:\n");

	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "    - /p%zu\n", i);
	return s;
}

static void test_path_count(void **state)
{
	char *fits = many_paths(POLICY_MAX_PATHS), *too_many = many_paths(POLICY_MAX_PATHS + 1);

	(void)state;
	expect_valid(fits);
	expect_only_error(too_many, 4 + POLICY_MAX_PATHS, 7,
			  "filesystem_policy lists 257 paths (at most 256)");
	free(fits);
	free(too_many);
	/* Both lists count: 200 + 57 is one too many, reported at the 257th. */
	fits = many_paths(200);
	too_many = NULL;
	assert_true(asprintf(&too_many, "%s  read_write:\n", fits) > 0);
	for (size_t i = 0; i < 57; i++) {
		char *next = NULL;

		assert_true(asprintf(&next, "%s    - /w%zu\n", too_many, i) > 0);
		free(too_many);
		too_many = next;
	}
	expect_only_error(too_many, 4 + 200 + 1 + 56, 7, "lists 257 paths");
	free(fits);
	free(too_many);
}

static void test_read_write_root(void **state)
{
	(void)state;
	expect_fs_valid("/", "/tmp");
	expect_fs_error("/usr", "/", 4, 16,
			"read_write path '/' is too broad: it makes the whole filesystem writable");
	expect_fs_error("", "/tmp, ///", 4, 22, "read_write path '///' is too broad");
	expect_fs_error("", "/./", 4, 16, "is too broad");
}

static void test_duplicates_warn(void **state)
{
	(void)state;
	expect_fs_warning("/usr, /etc, /usr/", "", 3, 27,
			  "duplicate path '/usr/' in filesystem_policy.read_only (first at 3:15)");
	expect_fs_warning(
	    "", "/tmp, /tmp//", 4, 22,
	    "duplicate path '/tmp//' in filesystem_policy.read_write (first at 4:16)");
	expect_fs_valid("/usr, /usr/lib", "/tmp, /tmp2");
}

static void test_both_lists_warn(void **state)
{
	(void)state;
	expect_fs_warning("/usr, /data", "/tmp, /data/", 4, 22,
			  "path '/data/' is in both read_only (at 3:21) and read_write; it gets "
			  "read_write access");
}

static void expect_identity_valid(const char *value)
{
	char *s = NULL;

	assert_true(asprintf(&s, "version: 1\nprocess:\n  run_as_user: %s\n  run_as_group: %s\n",
			     value, value) > 0);
	expect_valid(s);
	free(s);
}

/* run_as_user at 3:16 and run_as_group at 4:17 both hold value. */
static void expect_identity_errors(const char *value, const char *msg)
{
	struct diagnostics d = {0};
	struct policy p = {0};
	char *s = NULL;

	assert_true(asprintf(&s, "version: 1\nprocess:\n  run_as_user: %s\n  run_as_group: %s\n",
			     value, value) > 0);
	assert_int_equal(test_load(s, &p, &d), -EINVAL);
	assert_int_equal(d.n_errors, 2);
	find_diag(&d, DIAG_ERROR, 3, 16, "process.run_as_user");
	find_diag(&d, DIAG_ERROR, 3, 16, msg);
	find_diag(&d, DIAG_ERROR, 4, 17, "process.run_as_group");
	find_diag(&d, DIAG_ERROR, 4, 17, msg);
	diag_free(&d);
	free(s);
}

static void test_identities(void **state)
{
	(void)state;
	expect_identity_valid("sandbox");
	expect_identity_valid("1");
	expect_identity_valid("1000");
	expect_identity_valid("\"1500\"");
	expect_identity_valid("4294967294");
	expect_identity_valid("nobody");
	expect_identity_valid("build-user_2");
	expect_identity_valid("machine$");
	expect_identity_errors("root", "root is refused");
	expect_identity_errors("0", "0 is root and is refused");
	expect_identity_errors("\"000\"", "0 is root and is refused");
	expect_identity_errors("4294967295", "4294967295 is the reserved id -1 and is refused");
	expect_identity_errors("4294967296", "'4294967296' is out of range (1..4294967294)");
	expect_identity_errors("99999999999999999999999", "is out of range");
	expect_identity_errors("-1", "'-1' is not 'sandbox', a numeric id or a valid name");
	expect_identity_errors("\"bad name\"", "'bad name' is not 'sandbox'");
	expect_identity_errors("\"\"", "is empty; leave it out to keep the default");
	expect_identity_errors("a_name_that_is_longer_than_32_chars", "is not 'sandbox'");
}

static void test_only_user_or_group(void **state)
{
	struct policy p = {0};

	(void)state;
	load_ok("version: 1\nprocess:\n  run_as_group: \"2000\"\n", &p);
	assert_null(p.run_as_user);
	assert_string_equal(p.run_as_group, "2000");
	policy_free(&p);
	expect_only_error("version: 1\nprocess:\n  run_as_group: root\n", 3, 17,
			  "process.run_as_group: root is refused");
}

/* One endpoint `{ENDPOINT}` under network_policies.web at line 5; its
 * mapping starts at column 9, its first key at column 11. */
static char *endpoint_policy(const char *endpoint)
{
	char *s = NULL;

	assert_true(asprintf(&s,
			     "version: 1\nnetwork_policies:\n  web:\n    endpoints:\n"
			     "      - { %s }\n    binaries: [{path: /usr/bin/curl}]\n",
			     endpoint) > 0);
	return s;
}

static void expect_endpoint_valid(const char *endpoint)
{
	char *s = endpoint_policy(endpoint);

	expect_valid(s);
	free(s);
}

static void expect_endpoint_error(const char *endpoint, unsigned col, const char *msg)
{
	char *s = endpoint_policy(endpoint);

	expect_only_error(s, 5, col, msg);
	free(s);
}

static void test_hosts(void **state)
{
	(void)state;
	expect_endpoint_valid("host: api.example.com, port: 443");
	expect_endpoint_valid("host: 10.0.0.1, port: 443");
	expect_endpoint_valid("host: '::1', port: 443");
	expect_endpoint_valid("host: internal_host, port: 80");
	expect_endpoint_valid("host: '*.example.com', port: 443");
	expect_endpoint_valid("host: '*-api.example.com', port: 443");
	expect_endpoint_valid("host: 'api.*.example.com', port: 443");
	expect_endpoint_valid("host: '**.example.com', port: 443");
	/* "host: " is 6 columns: the value starts at column 17. */
	expect_endpoint_error(
	    "host: 'https://api.example.com', port: 443", 17,
	    "network policy 'web': host 'https://api.example.com' is a URL; write "
	    "only the host name");
	expect_endpoint_error("host: 'api.example.com:443', port: 443", 17,
			      "holds a ':'; the port goes in 'port'");
	expect_endpoint_error("host: api.example.com/v1, port: 443", 17, "holds a '/'");
	expect_endpoint_error("host: 'api example.com', port: 443", 17,
			      "holds a character that a host name cannot have");
	expect_endpoint_error("host: 'api..example.com', port: 443", 17, "has an empty label");
	expect_endpoint_error("host: '', port: 443", 17, "host '' is empty");
	expect_endpoint_error("host: '*', port: 443", 17, "host '*' matches every host");
	expect_endpoint_error("host: '*.com', port: 443", 17,
			      "is a wildcard with fewer than three labels");
	expect_endpoint_error("host: '**.example', port: 443", 17, "fewer than three labels");
	expect_endpoint_error("host: 'a.b*.example.com', port: 443", 17,
			      "has '*' inside a later label");
	expect_endpoint_error("host: 'a**.example.com', port: 443", 17, "has '**' inside a label");
}

static void test_host_or_addresses(void **state)
{
	(void)state;
	expect_endpoint_valid("port: 5432, allowed_ips: [10.0.0.0/8]");
	expect_endpoint_error("port: 5432", 9,
			      "network policy 'web': an endpoint needs a host or allowed_ips");
}

static void test_ports(void **state)
{
	(void)state;
	expect_endpoint_valid("host: a.example.com, port: 1");
	expect_endpoint_valid("host: a.example.com, port: 65535");
	expect_endpoint_valid("host: a.example.com, ports: [80, 443]");
	expect_endpoint_error(
	    "host: a.example.com, port: 0", 38,
	    "network_policies.web.endpoints[0].port: 0 is out of range (1..65535)");
	expect_endpoint_error("host: a.example.com, ports: [443, 65536]", 45,
			      "network_policies.web.endpoints[0].ports[1]: 65536 is out of range");
	expect_endpoint_error(
	    "host: a.example.com", 9,
	    "network policy 'web': an endpoint has no port; write 'port' or 'ports'");
}

static void test_duplicate_port_warns(void **state)
{
	char *s = endpoint_policy("host: a.example.com, ports: [443, 8443, 443]");

	(void)state;
	expect_warning(s, 5, 39, "network policy 'web': port 443 is listed more than once");
	free(s);
}

static void test_allowed_ips(void **state)
{
	(void)state;
	expect_endpoint_valid("host: db.example.com, port: 5432, allowed_ips: [10.0.5.0/24, "
			      "192.168.1.7, 'fd00::/8', '::1/128']");
	expect_endpoint_error(
	    "host: db.example.com, port: 5432, allowed_ips: [10.0.0.0/33]", 59,
	    "network policy 'web': '10.0.0.0/33' in allowed_ips is not an IP address "
	    "or CIDR range");
	expect_endpoint_error("host: db.example.com, port: 5432, allowed_ips: [10.0.0.0, db]", 69,
			      "'db' in allowed_ips is not an IP address");
	expect_endpoint_error("host: db.example.com, port: 5432, allowed_ips: ['fd00::/129']", 59,
			      "is not an IP address or CIDR range");
	expect_endpoint_error("host: db.example.com, port: 5432, allowed_ips: [10.0.0.0/]", 59,
			      "is not an IP address or CIDR range");
}

static void test_field_values(void **state)
{
	(void)state;
	expect_endpoint_valid("host: a.example.com, port: 443, tls: skip");
	expect_endpoint_valid("host: a.example.com, port: 443, protocol: rest, enforcement: audit, "
			      "access: read-write");
	expect_endpoint_error(
	    "host: a.example.com, port: 443, tls: termnate", 48,
	    "network_policies.web.endpoints[0].tls: unknown value 'termnate' "
	    "(expected skip, terminate or passthrough); did you mean 'terminate'?");
	expect_endpoint_error("host: a.example.com, port: 443, protocol: ftp", 53,
			      "unknown value 'ftp' (expected tcp, rest, websocket, graphql, sql, "
			      "json-rpc or mcp)");
	expect_endpoint_error("host: a.example.com, port: 443, protocol: rest, access: write", 67,
			      "unknown value 'write'");
	expect_endpoint_error("host: a.example.com, port: 443, protocol: rest, enforcement: block, "
			      "access: full",
			      72, "unknown value 'block' (expected enforce or audit)");
}

static void test_combinations(void **state)
{
	(void)state;
	expect_endpoint_valid("host: a.example.com, port: 5432, protocol: tcp");
	expect_endpoint_error(
	    "host: a.example.com, port: 5432, protocol: tcp, access: full", 9,
	    "network policy 'web': protocol tcp takes no access, rules or deny_rules");
	expect_endpoint_valid("host: a.example.com, port: 443, protocol: rest, access: full, "
			      "deny_rules: [{method: DELETE, path: /x}]");
	expect_endpoint_error("host: a.example.com, port: 443, protocol: rest, access: full, "
			      "rules: [{allow: {method: GET, path: /}}]",
			      9, "rules and access are mutually exclusive");
	expect_endpoint_error("host: a.example.com, port: 443, deny_rules: [{method: GET}]", 9,
			      "deny_rules need a protocol that inspects requests");
	expect_endpoint_valid("host: bedrock.us-east-1.amazonaws.com, port: 443, protocol: rest, "
			      "access: full, credential_signing: sigv4, signing_service: bedrock");
	expect_endpoint_error("host: s3.amazonaws.com, port: 443, protocol: rest, access: full, "
			      "credential_signing: sigv4",
			      9, "credential_signing needs signing_service");
	expect_endpoint_error(
	    "host: s3.amazonaws.com, port: 443, protocol: rest, access: full, "
	    "credential_signing: sigv4, signing_service: s3, "
	    "request_body_credential_rewrite: true",
	    9, "credential_signing and request_body_credential_rewrite are mutually");
}

static void test_policy_names_and_binaries(void **state)
{
	(void)state;
	expect_valid(
	    "version: 1\nnetwork_policies:\n  tools:\n    binaries: [{path: \"/opt/**\"}]\n");
	expect_only_error("version: 1\nnetwork_policies:\n  _provider_github:\n    binaries: []\n",
			  3, 3,
			  "network policy '_provider_github': names starting with '_provider_' "
			  "are reserved");
	expect_only_error("version: 1\nnetwork_policies:\n  '':\n    binaries: []\n", 3, 3,
			  "a network policy has an empty name");
	expect_only_error("version: 1\nnetwork_policies:\n  tools:\n    binaries: [{path: curl}]\n",
			  4, 23, "network policy 'tools': binary path 'curl' is not absolute");
}

/* A middleware m with the given body lines (indented by four) at line 4. */
static char *middleware_policy(const char *body)
{
	char *s = NULL;

	assert_true(asprintf(&s, "version: 1\nnetwork_middlewares:\n  m:\n%s", body) > 0);
	return s;
}

static void test_middlewares(void **state)
{
	char *s;

	(void)state;
	s = middleware_policy(
	    "    middleware: openshell/regex\n"
	    "    endpoints: {include: ['*.api.example.com'], exclude: [x.example.com]}\n");
	expect_valid(s);
	free(s);
	s = middleware_policy("    middleware: openshell/regex\n");
	expect_only_error(s, 3, 3,
			  "middleware 'm': endpoints.include needs at least one host pattern");
	free(s);
	s = middleware_policy(
	    "    middleware: x\n    endpoints: {include: [], exclude: [a.example.com]}\n");
	expect_only_error(s, 3, 3, "endpoints.include needs at least one host pattern");
	free(s);
	s = middleware_policy("    middleware: x\n    endpoints: {include: ['*.com']}\n");
	expect_only_error(s, 5, 27, "middleware 'm': pattern '*.com' is a wildcard with fewer");
	free(s);
	s = middleware_policy("    middleware: ''\n    endpoints: {include: [a.example.com]}\n");
	expect_only_error(s, 3, 3, "middleware 'm': 'middleware' is empty");
	free(s);
	s = middleware_policy("    middleware: x\n    on_error: fail_closd\n"
			      "    endpoints: {include: [a.example.com]}\n");
	expect_only_error(s, 5, 15, "did you mean 'fail_closed'?");
	free(s);
	s = middleware_policy(
	    "    middleware: x\n    order: 1\n    endpoints: {include: [a.example.com]}\n"
	    "  n:\n    middleware: y\n    order: 1\n"
	    "    endpoints: {include: [b.example.com]}\n");
	expect_only_error(s, 9, 12, "middlewares 'm' and 'n' have the same order 1");
	free(s);
	s = middleware_policy(
	    "    middleware: x\n    order: 1\n    endpoints: {include: [a.example.com]}\n"
	    "  n:\n    middleware: y\n    order: 2\n"
	    "    endpoints: {include: [b.example.com]}\n");
	expect_valid(s);
	free(s);
}

/* policy_validate also serves models built in code. */
static void test_model_built_in_code(void **state)
{
	struct policy p = {.version = 1};
	struct diagnostics d = {0};

	(void)state;
	assert_int_equal(path_list_push(&p.read_write, "/", (struct source_mark){7, 3}), 0);
	assert_int_equal(path_list_push(&p.read_only, "etc", (struct source_mark){0}), 0);
	policy_validate(&p, &d);
	assert_int_equal(d.n_errors, 2);
	find_diag(&d, DIAG_ERROR, 7, 3, "too broad");
	find_diag(&d, DIAG_ERROR, 0, 0,
		  "path 'etc' in filesystem_policy.read_only is not absolute");
	diag_free(&d);
	policy_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_version),
	    cmocka_unit_test(test_path_absolute),
	    cmocka_unit_test(test_path_dotdot),
	    cmocka_unit_test(test_path_empty),
	    cmocka_unit_test(test_path_length),
	    cmocka_unit_test(test_path_count),
	    cmocka_unit_test(test_read_write_root),
	    cmocka_unit_test(test_duplicates_warn),
	    cmocka_unit_test(test_both_lists_warn),
	    cmocka_unit_test(test_identities),
	    cmocka_unit_test(test_only_user_or_group),
	    cmocka_unit_test(test_hosts),
	    cmocka_unit_test(test_host_or_addresses),
	    cmocka_unit_test(test_ports),
	    cmocka_unit_test(test_duplicate_port_warns),
	    cmocka_unit_test(test_allowed_ips),
	    cmocka_unit_test(test_field_values),
	    cmocka_unit_test(test_combinations),
	    cmocka_unit_test(test_policy_names_and_binaries),
	    cmocka_unit_test(test_middlewares),
	    cmocka_unit_test(test_model_built_in_code),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
