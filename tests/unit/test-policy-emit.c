/* The emitters: the canonical form (fixed key order, defaults explicit) as
 * YAML and JSON, document_emit over any JSON tree, quoting that keeps every
 * string a string, and the round trip of every example policy. */
#include "policy-test.h"

#include <dirent.h>

static const char default_yaml[] = "version: 1\n"
				   "filesystem_policy:\n"
				   "  include_workdir: true\n"
				   "  read_only:\n"
				   "  - /usr\n"
				   "  - /lib\n"
				   "  - /proc\n"
				   "  - /dev/urandom\n"
				   "  - /app\n"
				   "  - /etc\n"
				   "  - /var/log\n"
				   "  read_write:\n"
				   "  - /tmp\n"
				   "  - /dev/null\n"
				   "landlock:\n"
				   "  compatibility: best_effort\n"
				   "network_policies: {}\n"
				   "network_middlewares: {}\n";

static const char default_json[] = "{\n"
				   "  \"version\": 1,\n"
				   "  \"filesystem_policy\": {\n"
				   "    \"include_workdir\": true,\n"
				   "    \"read_only\": [\n"
				   "      \"/usr\",\n"
				   "      \"/lib\",\n"
				   "      \"/proc\",\n"
				   "      \"/dev/urandom\",\n"
				   "      \"/app\",\n"
				   "      \"/etc\",\n"
				   "      \"/var/log\"\n"
				   "    ],\n"
				   "    \"read_write\": [\n"
				   "      \"/tmp\",\n"
				   "      \"/dev/null\"\n"
				   "    ]\n"
				   "  },\n"
				   "  \"landlock\": {\n"
				   "    \"compatibility\": \"best_effort\"\n"
				   "  },\n"
				   "  \"network_policies\": {},\n"
				   "  \"network_middlewares\": {}\n"
				   "}\n";

static char *emit_text(const json_t *doc, enum output_format fmt)
{
	struct error err = {0};
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	assert_int_equal(document_emit(doc, fmt, out, &err), 0);
	assert_int_equal(fclose(out), 0);
	return text;
}

static void test_output_format_parse(void **state)
{
	enum output_format f = FORMAT_JSON;

	(void)state;
	assert_int_equal(output_format_parse("yaml", &f), 0);
	assert_int_equal(f, FORMAT_YAML);
	assert_int_equal(output_format_parse("json", &f), 0);
	assert_int_equal(f, FORMAT_JSON);
	assert_int_equal(output_format_parse("YAML", &f), -EINVAL);
	assert_int_equal(output_format_parse("toml", &f), -EINVAL);
}

static void test_default_canonical(void **state)
{
	struct diagnostics d = {0};
	struct policy p = {0};
	char *yaml, *json;

	(void)state;
	assert_int_equal(policy_load_default(&p, &d), 0);
	assert_int_equal(d.len, 0);
	assert_string_equal(p.source_name, "<default>");
	yaml = test_emit(&p, FORMAT_YAML);
	json = test_emit(&p, FORMAT_JSON);
	assert_string_equal(yaml, default_yaml);
	assert_string_equal(json, default_json);
	assert_round_trip(&p, FORMAT_YAML);
	assert_round_trip(&p, FORMAT_JSON);
	free(yaml);
	free(json);
	policy_free(&p);
	diag_free(&d);
}

/* Keys come out in the canonical order whatever order they were written
 * in; defaults are written out; process only lists what was set. */
static void test_canonical_order(void **state)
{
	struct policy p = {0};
	char *yaml;

	(void)state;
	load_ok("network_middlewares:\n"
		"  m:\n"
		"    endpoints: {exclude: [b.example.com], include: [a.example.com]}\n"
		"    on_error: fail_closed\n"
		"    middleware: x\n"
		"network_policies:\n"
		"  web:\n"
		"    binaries: [{path: /usr/bin/curl}]\n"
		"    endpoints:\n"
		"      - {access: full, protocol: rest, port: 443, host: a.example.com,\n"
		"         allow_encoded_slash: true, enforcement: audit}\n"
		"process:\n"
		"  run_as_group: \"1500\"\n"
		"landlock: {}\n"
		"filesystem_policy:\n"
		"  read_write: [/tmp]\n"
		"version: 1\n",
		&p);
	yaml = test_emit(&p, FORMAT_YAML);
	assert_string_equal(yaml, "version: 1\n"
				  "filesystem_policy:\n"
				  "  include_workdir: false\n"
				  "  read_only: []\n"
				  "  read_write:\n"
				  "  - /tmp\n"
				  "landlock:\n"
				  "  compatibility: best_effort\n"
				  "process:\n"
				  "  run_as_group: '1500'\n"
				  "network_policies:\n"
				  "  web:\n"
				  "    name: web\n"
				  "    endpoints:\n"
				  "    - host: a.example.com\n"
				  "      ports:\n"
				  "      - 443\n"
				  "      protocol: rest\n"
				  "      enforcement: audit\n"
				  "      access: full\n"
				  "      allow_encoded_slash: true\n"
				  "    binaries:\n"
				  "    - path: /usr/bin/curl\n"
				  "network_middlewares:\n"
				  "  m:\n"
				  "    name: m\n"
				  "    middleware: x\n"
				  "    order: 0\n"
				  "    on_error: fail_closed\n"
				  "    endpoints:\n"
				  "      include:\n"
				  "      - a.example.com\n"
				  "      exclude:\n"
				  "      - b.example.com\n");
	free(yaml);
	policy_free(&p);
}

/* Strings that a YAML reader would take for a number, boolean or null are
 * quoted; the others stay plain. */
static void test_quoting(void **state)
{
	static const char *const quoted[] = {"1000",  "",    "null", "~",   "true",
					     "False", "yes", "off",  "1.5", "0x10",
					     "-x",    ".5",  "<<",   "=",   "+1"};
	static const char *const plain[] = {"plain", "/usr/bin", "a-b", "truex", "nullable"};
	json_t *doc = json_object();
	char *yaml, line[64];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(quoted); i++)
		json_object_set_new(doc, quoted[i], json_string(quoted[i]));
	for (size_t i = 0; i < ARRAY_SIZE(plain); i++)
		json_object_set_new(doc, plain[i], json_string(plain[i]));
	yaml = emit_text(doc, FORMAT_YAML);
	for (size_t i = 0; i < ARRAY_SIZE(quoted); i++) {
		snprintf(line, sizeof(line), "'%s': '%s'\n", quoted[i], quoted[i]);
		if (!strstr(yaml, line))
			fail_msg("\"%s\" missing from:\n%s", line, yaml);
	}
	for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
		snprintf(line, sizeof(line), "%s: %s\n", plain[i], plain[i]);
		if (!strstr(yaml, line))
			fail_msg("\"%s\" missing from:\n%s", line, yaml);
	}
	free(yaml);
	json_decref(doc);
}

/* Awkward strings survive the round trip (test_load checks it) as keys and
 * values of a middleware's free-form config. */
static void test_awkward_strings_round_trip(void **state)
{
	struct policy p = {0};
	const json_t *config;

	(void)state;
	load_ok("version: 1\n"
		"network_middlewares:\n"
		"  m:\n"
		"    middleware: x\n"
		"    endpoints: {include: [a.example.com]}\n"
		"    config:\n"
		"      \"- dash\": \"? question\"\n"
		"      \": colon\": \"#hash\"\n"
		"      \"[x]\": \"{y}\"\n"
		"      \"*star\": \"&amp\"\n"
		"      \"!bang\": \"|pipe\"\n"
		"      \">gt\": \"'quote\"\n"
		"      \"\\\"dq\": \"%pct\"\n"
		"      \"@at\": \"`tick`\"\n"
		"      \" lead\": \"trail \"\n"
		"      \"tab\": \"a\\tb\"\n"
		"      \"newline\": \"a\\nb\"\n"
		"      \"unicode\": \"caf\\u00e9 \\u2028 \\u2029 \\x85 \\x9f \\x7f \\uFFFE \\U0001F512\"\n"
		"      \"bell\": \"\\a\"\n"
		"      \"numbers\": [\"1e3\", \"0o7\", \".inf\", \"-.5\", \"2001-12-14\"]\n"
		"      \"reals\": [1.5, -0.0, 1e300, 3.0]\n"
		"      \"ints\": [0, -9223372036854775808, 9223372036854775807]\n"
		"      \"long\": \""
		"abcdefghij abcdefghij abcdefghij abcdefghij abcdefghij "
		"abcdefghij abcdefghij abcdefghij abcdefghij abcdefghij\"\n",
		&p);
	config = p.network_middlewares[0].config;
	assert_string_equal(json_string_value(json_object_get(config, "newline")), "a\nb");
	assert_string_equal(json_string_value(json_object_get(config, " lead")), "trail ");
	assert_true(json_is_real(json_array_get(json_object_get(config, "reals"), 3)));
	policy_free(&p);
}

static void test_document_emit_generic(void **state)
{
	json_t *doc = json_pack("{s:n, s:b, s:b, s:I, s:f, s:f, s:{}, s:[], s:[{s:[i, s]}], s:s}",
				"nothing", "yes", 1, "no", 0, "big",
				(json_int_t)-9007199254740993LL, "real", 1.0, "small", 2.5e-10,
				"empty_map", "empty_list", "nested", "k", 1, "v", "text", "a\"b");
	char *yaml, *json;

	(void)state;
	assert_non_null(doc);
	yaml = emit_text(doc, FORMAT_YAML);
	assert_string_equal(yaml, "nothing: null\n"
				  "'yes': true\n"
				  "'no': false\n"
				  "big: -9007199254740993\n"
				  "real: 1.0\n"
				  "small: 2.5000000000000002e-10\n"
				  "empty_map: {}\n"
				  "empty_list: []\n"
				  "nested:\n"
				  "- k:\n"
				  "  - 1\n"
				  "  - v\n"
				  "text: a\"b\n");
	json = emit_text(doc, FORMAT_JSON);
	assert_non_null(strstr(json, "\"big\": -9007199254740993,\n"));
	assert_non_null(strstr(json, "\"empty_map\": {},\n"));
	free(yaml);
	free(json);
	json_decref(doc);
	doc = json_string("a scalar document");
	yaml = emit_text(doc, FORMAT_YAML);
	assert_string_equal(yaml, "a scalar document\n");
	free(yaml);
	json_decref(doc);
}

/* Another module replaces lists and adds keys before emitting. */
static void test_composable(void **state)
{
	struct diagnostics d = {0};
	struct policy p = {0}, again = {0};
	json_t *doc;
	char *yaml;

	(void)state;
	assert_int_equal(policy_load_default(&p, &d), 0);
	doc = policy_to_json(&p);
	json_object_set_new(json_object_get(doc, "filesystem_policy"), "read_only",
			    json_pack("[s]", "/opt"));
	json_object_set_new(doc, "added", json_pack("{s:s}", "reason", "a test"));
	yaml = emit_text(doc, FORMAT_YAML);
	assert_non_null(strstr(yaml, "  read_only:\n  - /opt\n  read_write:\n"));
	assert_non_null(strstr(yaml, "network_middlewares: {}\nadded:\n  reason: a test\n"));
	json_object_del(doc, "added");
	free(yaml);
	yaml = emit_text(doc, FORMAT_YAML);
	assert_int_equal(policy_load_buffer("edited", yaml, strlen(yaml), &again, &d), 0);
	assert_int_equal(again.read_only.len, 1);
	assert_string_equal(again.read_only.items[0].path, "/opt");
	free(yaml);
	json_decref(doc);
	policy_free(&again);
	policy_free(&p);
	diag_free(&d);
}

static void test_write_errors(void **state)
{
	struct error err = {0};
	FILE *full = fopen("/dev/full", "w");
	json_t *doc = json_pack("{s:s}", "a", "b");

	(void)state;
	assert_non_null(full);
	assert_true(document_emit(doc, FORMAT_YAML, full, &err) < 0);
	assert_non_null(strstr(err.message, "cannot write"));
	error_clear(&err);
	clearerr(full);
	assert_true(document_emit(doc, FORMAT_JSON, full, &err) < 0);
	assert_non_null(strstr(err.message, "cannot write"));
	fclose(full);
	json_decref(doc);
}

static const char *source_dir(void)
{
	const char *dir = getenv("LOCKSHELL_SOURCE_DIR");

	return dir ? dir : ".";
}

/* Every example loads and survives the round trip in both formats. */
static void test_examples_round_trip(void **state)
{
	const char *expected[] = {"default.yaml", "developer.yaml", "gpu.yaml", "network.yaml"};
	char dir[512], path[1024];
	size_t found = 0, n = 0;
	struct dirent *de;
	DIR *dp;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/examples/policies", source_dir());
	dp = opendir(dir);
	if (!dp)
		fail_msg("cannot open %s: run from the repository or set LOCKSHELL_SOURCE_DIR",
			 dir);
	while ((de = readdir(dp))) {
		struct diagnostics d = {0};
		struct policy p = {0};

		if (!strstr(de->d_name, ".yaml"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (policy_load_file(path, &p, &d) != 0) {
			print_diagnostics(&d);
			fail_msg("%s does not load", path);
		}
		assert_int_equal(d.len, 0);
		assert_round_trip(&p, FORMAT_YAML);
		assert_round_trip(&p, FORMAT_JSON);
		for (size_t i = 0; i < ARRAY_SIZE(expected); i++)
			found += strcmp(de->d_name, expected[i]) == 0;
		n++;
		policy_free(&p);
		diag_free(&d);
	}
	closedir(dp);
	assert_int_equal(found, ARRAY_SIZE(expected));
	assert_true(n >= ARRAY_SIZE(expected));
}

/* examples/policies/default.yaml is the built-in default written out: the
 * same model, and below its comment the same canonical text. */
static void test_default_example_is_the_default(void **state)
{
	struct diagnostics d = {0};
	struct policy builtin = {0}, example = {0};
	char path[1024], *text = NULL, *body;
	size_t len = 0;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/examples/policies/default.yaml", source_dir());
	assert_int_equal(policy_load_default(&builtin, &d), 0);
	assert_int_equal(policy_load_file(path, &example, &d), 0);
	assert_true(policy_equal(&builtin, &example));
	f = fopen(path, "r");
	assert_non_null(f);
	assert_true(getdelim(&text, &len, '\0', f) > 0);
	fclose(f);
	body = strstr(text, "\nversion: 1\n");
	assert_non_null(body);
	assert_string_equal(body + 1, default_yaml);
	free(text);
	policy_free(&builtin);
	policy_free(&example);
	diag_free(&d);
}

/* policy_equal ignores marks and the written presence of defaults, and
 * notices every change of substance. */
static void test_policy_equal(void **state)
{
	static const char base[] = "version: 1\nfilesystem_policy:\n  include_workdir: true\n"
				   "  read_only: [/usr]\n";
	static const char *const different[] = {
	    "version: 1\nfilesystem_policy:\n  include_workdir: false\n  read_only: [/usr]\n",
	    "version: 1\nfilesystem_policy:\n  include_workdir: true\n  read_only: [/usr, /lib]\n",
	    "version: 1\nfilesystem_policy:\n  include_workdir: true\n  read_only: [/usr]\n"
	    "landlock: {compatibility: hard_requirement}\n",
	    "version: 1\nfilesystem_policy:\n  include_workdir: true\n  read_only: [/usr]\n"
	    "process: {run_as_user: sandbox}\n",
	    "version: 1\nfilesystem_policy:\n  include_workdir: true\n  read_only: [/usr]\n"
	    "network_policies: {a: {binaries: [{path: /x}]}}\n",
	};
	struct policy a = {0}, b = {0};

	(void)state;
	load_ok(base, &a);
	load_ok("version: 1\n\n\nfilesystem_policy: {read_only: [/usr], include_workdir: true}\n"
		"landlock: {compatibility: best_effort}\n",
		&b);
	assert_true(policy_equal(&a, &b));
	policy_free(&b);
	load_ok("version: 1\nfilesystem_policy: {read_only: [/usr], include_workdir: true}\n", &b);
	assert_true(policy_equal(&a, &b));
	policy_free(&b);
	for (size_t i = 0; i < ARRAY_SIZE(different); i++) {
		load_ok(different[i], &b);
		assert_false(policy_equal(&a, &b));
		policy_free(&b);
	}
	policy_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_output_format_parse),
	    cmocka_unit_test(test_default_canonical),
	    cmocka_unit_test(test_canonical_order),
	    cmocka_unit_test(test_quoting),
	    cmocka_unit_test(test_awkward_strings_round_trip),
	    cmocka_unit_test(test_document_emit_generic),
	    cmocka_unit_test(test_composable),
	    cmocka_unit_test(test_write_errors),
	    cmocka_unit_test(test_examples_round_trip),
	    cmocka_unit_test(test_default_example_is_the_default),
	    cmocka_unit_test(test_policy_equal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
