/* OpenShell's sandbox policy schema as tables, and the checked conversion of
 * a YAML tree into JSON by those tables. Every key set is closed (an unknown
 * key is an error with a suggestion) except the free-form maps OpenShell
 * leaves open: policy and middleware names, query and params matchers, and a
 * middleware's config. */
#include "policy/schema.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/cleanup.h"

enum field_type {
	FIELD_STRING, /* any scalar but null; values restricts it */
	FIELD_BOOL,
	FIELD_INT, /* within min..max */
	FIELD_STRING_LIST,
	FIELD_TREE_STRINGS, /* a list of strings checked here, read from the tree */
	FIELD_INT_LIST, /* items within min..max */
	FIELD_OBJECT,
	FIELD_OBJECT_LIST,
	FIELD_OBJECT_MAP,  /* name -> object */
	FIELD_MATCHER,	   /* a glob, or {any: [globs]} */
	FIELD_MATCHER_MAP, /* name -> matcher */
	FIELD_PARAM_MAP,   /* name -> matcher or a nested params map */
	FIELD_ANY_MAP,	   /* free-form mapping */
	FIELD_REFUSED,	   /* a key lockshell recognises and refuses */
};

struct object_schema;

struct field {
	const char *key;
	enum field_type type;
	bool required;
	bool nocase; /* values match regardless of case */
	const struct object_schema *object;
	const char *const *values; /* NULL-terminated */
	long long min, max;
	const char *refusal;
};

struct object_schema {
	const struct field *fields;
	size_t n_fields;
};

/* clang-format off */
#define STRING(k)	 {.key = (k), .type = FIELD_STRING}
#define REQUIRED_STRING(k) {.key = (k), .type = FIELD_STRING, .required = true}
#define ENUM(k, v)	 {.key = (k), .type = FIELD_STRING, .values = (v)}
#define BOOL(k)		 {.key = (k), .type = FIELD_BOOL}
#define INT(k, lo, hi)	 {.key = (k), .type = FIELD_INT, .min = (lo), .max = (hi)}
#define STRINGS(k)	 {.key = (k), .type = FIELD_STRING_LIST}
#define TREE_STRINGS(k)	 {.key = (k), .type = FIELD_TREE_STRINGS}
#define OBJECT(k, s)	 {.key = (k), .type = FIELD_OBJECT, .object = &(s)}
#define OBJECTS(k, s)	 {.key = (k), .type = FIELD_OBJECT_LIST, .object = &(s)}
#define OBJECT_MAP(k, s) {.key = (k), .type = FIELD_OBJECT_MAP, .object = &(s)}
/* clang-format on */
#define SCHEMA(name, ...)                                                                          \
	static const struct field name##_fields[] = {__VA_ARGS__};                                 \
	static const struct object_schema name = {name##_fields, ARRAY_SIZE(name##_fields)}

#define U32_MAX 4294967295LL

static const char *const compatibility_values[] = {"best_effort", "hard_requirement", NULL};
static const char *const protocol_values[] = {"tcp", "rest",	 "websocket", "graphql",
					      "sql", "json-rpc", "mcp",	      NULL};
static const char *const tls_values[] = {"skip", "terminate", "passthrough", NULL};
static const char *const enforcement_values[] = {"enforce", "audit", NULL};
static const char *const access_values[] = {"read-only", "read-write", "full", NULL};
static const char *const persisted_values[] = {"deny", "allow_registered", NULL};
static const char *const signing_values[] = {"sigv4", "sigv4:body", "sigv4:no_body", NULL};
static const char *const on_error_values[] = {"fail_closed", "fail_open", NULL};

SCHEMA(any_matcher_schema, STRINGS("any"));
SCHEMA(match_schema, STRING("method"), STRING("path"), STRING("command"),
       {.key = "query", .type = FIELD_MATCHER_MAP}, STRING("operation_type"),
       STRING("operation_name"), STRINGS("fields"), {.key = "tool", .type = FIELD_MATCHER},
       {.key = "params", .type = FIELD_PARAM_MAP});
SCHEMA(rule_schema,
       {.key = "allow", .type = FIELD_OBJECT, .required = true, .object = &match_schema});
SCHEMA(graphql_operation_schema, STRING("operation_type"), STRING("operation_name"),
       STRINGS("fields"));
SCHEMA(credential_binding_schema, REQUIRED_STRING("provider"));
SCHEMA(json_rpc_schema, INT("max_body_bytes", 0, U32_MAX));
SCHEMA(mcp_schema, STRINGS("versions"), INT("max_body_bytes", 0, U32_MAX),
       BOOL("strict_tool_names"), BOOL("allow_all_known_mcp_methods"));
SCHEMA(endpoint_schema, STRING("host"), STRING("path"), INT("port", 1, 65535),
       {.key = "ports", .type = FIELD_INT_LIST, .min = 1, .max = 65535},
       {.key = "protocol", .type = FIELD_STRING, .nocase = true, .values = protocol_values},
       ENUM("tls", tls_values), ENUM("enforcement", enforcement_values),
       ENUM("access", access_values), OBJECTS("rules", rule_schema), STRINGS("allowed_ips"),
       OBJECTS("deny_rules", match_schema), BOOL("allow_encoded_slash"),
       BOOL("websocket_credential_rewrite"), BOOL("request_body_credential_rewrite"),
       BOOL("allow_uninspected_credentials"), ENUM("persisted_queries", persisted_values),
       OBJECT_MAP("graphql_persisted_queries", graphql_operation_schema),
       INT("graphql_max_body_bytes", 0, U32_MAX), ENUM("credential_signing", signing_values),
       STRING("signing_service"), STRING("signing_region"),
       OBJECT("credential_binding", credential_binding_schema), OBJECT("json_rpc", json_rpc_schema),
       OBJECT("mcp", mcp_schema));
/* `harness` is accepted for older files and ignored (the loader warns). */
SCHEMA(binary_schema, REQUIRED_STRING("path"), BOOL("harness"));
SCHEMA(network_policy_schema, STRING("name"), OBJECTS("endpoints", endpoint_schema),
       OBJECTS("binaries", binary_schema));
SCHEMA(selector_schema, STRINGS("include"), STRINGS("exclude"));
SCHEMA(middleware_schema, STRING("name"), REQUIRED_STRING("middleware"),
       INT("order", -2147483648LL, 2147483647LL), {.key = "config", .type = FIELD_ANY_MAP},
       ENUM("on_error", on_error_values), OBJECT("endpoints", selector_schema));
/* Up to 256 paths: the loader takes them from the tree, sparing a JSON copy
 * of each. */
SCHEMA(filesystem_schema, BOOL("include_workdir"), TREE_STRINGS("read_only"),
       TREE_STRINGS("read_write"));
SCHEMA(landlock_schema, ENUM("compatibility", compatibility_values));
SCHEMA(process_schema, STRING("run_as_user"), STRING("run_as_group"));
SCHEMA(policy_schema,
       {.key = "version", .type = FIELD_INT, .required = true, .min = INT_MIN, .max = INT_MAX},
       {.key = "cedar_policy",
	.type = FIELD_REFUSED,
	.refusal = "cedar_policy is not supported: lockshell enforces filesystem_policy and "
		   "network_policies, not Cedar"},
       OBJECT("filesystem_policy", filesystem_schema), OBJECT("landlock", landlock_schema),
       OBJECT("process", process_schema), OBJECT_MAP("network_policies", network_policy_schema),
       OBJECT_MAP("network_middlewares", middleware_schema));

#define PATH_TEXT_MAX  512
#define PATH_DEPTH_MAX (YAML_TREE_DEPTH_MAX + 8)

/* One step of the path to a value: a key, or an index when key is NULL. */
struct segment {
	const char *key;
	size_t index;
};

struct convert {
	struct diagnostics *diags;
	/* Where we are, e.g. network_policies.a.endpoints[0]; written out as
	 * text only for a message. */
	struct segment path[PATH_DEPTH_MAX];
	size_t depth;
	char text[PATH_TEXT_MAX];
	bool oom;
};

static json_t *convert_value(struct convert *c, const struct tree_node *n, const struct field *f);

static void push_key(struct convert *c, const char *key)
{
	if (c->depth < PATH_DEPTH_MAX)
		c->path[c->depth] = (struct segment){.key = key};
	c->depth++;
}

static void push_index(struct convert *c, size_t index)
{
	if (c->depth < PATH_DEPTH_MAX)
		c->path[c->depth] = (struct segment){.index = index};
	c->depth++;
}

static void pop(struct convert *c)
{
	c->depth--;
}

static const char *path_name(struct convert *c)
{
	size_t len = 0;

	if (c->depth == 0)
		return "the policy";
	for (size_t i = 0; i < c->depth && i < PATH_DEPTH_MAX && len < sizeof(c->text); i++) {
		const struct segment *s = &c->path[i];
		size_t room = sizeof(c->text) - len;
		int r = s->key ? snprintf(c->text + len, room, "%s%.64s", i ? "." : "", s->key)
			       : snprintf(c->text + len, room, "[%zu]", s->index);

		len += r > 0 ? (size_t)r : 0;
	}
	return c->text;
}

/* "at the top level" or "in filesystem_policy". */
static void where(struct convert *c, char *buf, size_t size)
{
	if (c->depth)
		snprintf(buf, size, "in %s", path_name(c));
	else
		snprintf(buf, size, "at the top level");
}

static json_t *take(struct convert *c, json_t *v)
{
	if (!v)
		c->oom = true;
	return v;
}

static void set(struct convert *c, json_t *obj, const char *key, json_t *v)
{
	if (json_object_set_new(obj, key, v) < 0)
		c->oom = true;
}

static void append(struct convert *c, json_t *arr, json_t *v)
{
	if (json_array_append_new(arr, v) < 0)
		c->oom = true;
}

/* What a node is, for "expected X, found Y". */
static void describe(const struct tree_node *n, char *buf, size_t size)
{
	enum scalar_type t = n->kind == TREE_SCALAR ? tree_scalar_type(n) : SCALAR_STRING;

	if (n->kind != TREE_SCALAR)
		snprintf(buf, size, n->kind == TREE_MAPPING ? "a mapping" : "a sequence");
	else if (t == SCALAR_NULL)
		snprintf(buf, size, "null");
	else if (t == SCALAR_BOOL)
		snprintf(buf, size, "the boolean %s", n->text);
	else if (t == SCALAR_INT || t == SCALAR_FLOAT)
		snprintf(buf, size, "the number %.40s", n->text);
	else
		snprintf(buf, size, "the string '%.40s%s'", n->text, n->len > 40 ? "..." : "");
}

static json_t *type_error(struct convert *c, const struct tree_node *n, const char *expected)
{
	char found[128];

	describe(n, found, sizeof(found));
	diag_add(c->diags, DIAG_ERROR, n->mark, "%s: expected %s, found %s", path_name(c), expected,
		 found);
	return NULL;
}

/* Optimal string alignment distance, capped: words are keys and values. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[65][65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t best = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

const char *suggest_closest(const char *word, const char *const *candidates)
{
	size_t len = strlen(word);
	size_t limit = len < 5 ? 1 : len < 10 ? 2 : 3;
	const char *best = NULL;

	for (; *candidates; candidates++) {
		size_t dist = edit_distance(word, *candidates);

		if (dist <= limit) {
			limit = dist;
			best = *candidates;
		}
	}
	return best;
}

static const struct field *field_find(const struct object_schema *s, const char *key)
{
	for (size_t f = 0; f < s->n_fields; f++)
		if (strcmp(key, s->fields[f].key) == 0)
			return &s->fields[f];
	return NULL;
}

static void report_unknown_keys(struct convert *c, const struct tree_node *n,
				const struct object_schema *s)
{
	const char *keys[32] = {0};
	char at[PATH_TEXT_MAX + 16];

	for (size_t f = 0; f < s->n_fields && f + 1 < ARRAY_SIZE(keys); f++)
		keys[f] = s->fields[f].key;
	for (size_t i = 0; i + 1 < n->n_children; i += 2) {
		const struct tree_node *key = n->children[i];
		const char *hint;

		if (field_find(s, key->text))
			continue;
		where(c, at, sizeof(at));
		/* Suggestions cost time: only for messages that will be shown. */
		hint = c->diags->len < DIAG_MAX_KEPT ? suggest_closest(key->text, keys) : NULL;
		if (hint)
			diag_add(c->diags, DIAG_ERROR, key->mark,
				 "unknown key '%.64s' %s; did you mean '%s'?", key->text, at, hint);
		else
			diag_add(c->diags, DIAG_ERROR, key->mark, "unknown key '%.64s' %s",
				 key->text, at);
	}
}

static json_t *convert_object(struct convert *c, const struct tree_node *n,
			      const struct object_schema *s)
{
	char at[PATH_TEXT_MAX + 16];
	json_t *obj;

	if (n->kind != TREE_MAPPING)
		return type_error(c, n, "a mapping");
	report_unknown_keys(c, n, s);
	obj = take(c, json_object());
	for (size_t i = 0; i < s->n_fields; i++) {
		const struct field *f = &s->fields[i];
		const struct tree_node *key = tree_get_key(n, f->key);
		json_t *v;

		if (!key && f->required) {
			where(c, at, sizeof(at));
			diag_add(c->diags, DIAG_ERROR, n->mark, "missing required key '%s' %s",
				 f->key, at);
		}
		if (!key)
			continue;
		if (f->type == FIELD_REFUSED) {
			diag_add(c->diags, DIAG_ERROR, key->mark, "%s", f->refusal);
			continue;
		}
		push_key(c, f->key);
		v = convert_value(c, tree_get(n, f->key), f);
		pop(c);
		if (v)
			set(c, obj, f->key, v);
	}
	return obj;
}

static void join_values(const char *const *values, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; values[i] && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					i == 0		? ""
					: values[i + 1] ? ", "
							: " or ",
					values[i]);
}

static json_t *check_value(struct convert *c, const struct tree_node *n, const struct field *f)
{
	char expected[256];
	const char *hint;

	for (const char *const *v = f->values; *v; v++)
		if (f->nocase ? strcasecmp(n->text, *v) == 0 : strcmp(n->text, *v) == 0)
			return take(c, json_string(*v));
	join_values(f->values, expected, sizeof(expected));
	hint = c->diags->len < DIAG_MAX_KEPT ? suggest_closest(n->text, f->values) : NULL;
	diag_add(c->diags, DIAG_ERROR, n->mark, "%s: unknown value '%.64s' (expected %s)%s%s%s",
		 path_name(c), n->text, expected, hint ? "; did you mean '" : "", hint ? hint : "",
		 hint ? "'?" : "");
	return NULL;
}

bool schema_is_string(const struct tree_node *n)
{
	return n->kind == TREE_SCALAR && tree_scalar_type(n) != SCALAR_NULL;
}

static json_t *convert_string(struct convert *c, const struct tree_node *n, const struct field *f)
{
	if (!schema_is_string(n))
		return type_error(c, n, "a string");
	if (f && f->values)
		return check_value(c, n, f);
	return take(c, json_stringn_nocheck(n->text, n->len));
}

static json_t *convert_bool(struct convert *c, const struct tree_node *n)
{
	if (n->kind != TREE_SCALAR || tree_scalar_type(n) != SCALAR_BOOL)
		return type_error(c, n, "a boolean (true or false)");
	return take(c, json_boolean(scalar_parse_bool(n->text)));
}

static json_t *convert_int(struct convert *c, const struct tree_node *n, const struct field *f)
{
	long long v;

	if (n->kind != TREE_SCALAR || tree_scalar_type(n) != SCALAR_INT)
		return type_error(c, n, "an integer");
	if (scalar_parse_int(n->text, &v) < 0 || v < f->min || v > f->max) {
		diag_add(c->diags, DIAG_ERROR, n->mark, "%s: %.40s is out of range (%lld..%lld)",
			 path_name(c), n->text, f->min, f->max);
		return NULL;
	}
	return take(c, json_integer(v));
}

static json_t *convert_list(struct convert *c, const struct tree_node *n, const struct field *f)
{
	struct field item = {.object = f->object, .min = f->min, .max = f->max};
	json_t *arr;

	if (n->kind != TREE_SEQUENCE)
		return type_error(c, n, "a sequence");
	item.type = f->type == FIELD_STRING_LIST ? FIELD_STRING
		    : f->type == FIELD_INT_LIST	 ? FIELD_INT
						 : FIELD_OBJECT;
	arr = take(c, json_array());
	for (size_t i = 0; i < n->n_children; i++) {
		json_t *v;

		push_index(c, i);
		v = convert_value(c, n->children[i], &item);
		pop(c);
		append(c, arr, v ? v : json_null());
	}
	return arr;
}

/* Reports what in a sequence is not a string, as convert_list() would;
 * no JSON value (the loader reads the strings from the tree). */
static json_t *check_tree_strings(struct convert *c, const struct tree_node *n)
{
	if (n->kind != TREE_SEQUENCE)
		return type_error(c, n, "a sequence");
	for (size_t i = 0; i < n->n_children; i++)
		if (!schema_is_string(n->children[i])) {
			push_index(c, i);
			type_error(c, n->children[i], "a string");
			pop(c);
		}
	return NULL;
}

/* A mapping whose values all convert by one field (names are free). */
static json_t *convert_map(struct convert *c, const struct tree_node *n, const struct field *value)
{
	json_t *obj;

	if (n->kind != TREE_MAPPING)
		return type_error(c, n, "a mapping");
	obj = take(c, json_object());
	for (size_t i = 0; i + 1 < n->n_children; i += 2) {
		json_t *v;

		push_key(c, n->children[i]->text);
		v = convert_value(c, n->children[i + 1], value);
		pop(c);
		if (v)
			set(c, obj, n->children[i]->text, v);
	}
	return obj;
}

static json_t *convert_matcher(struct convert *c, const struct tree_node *n)
{
	if (n->kind == TREE_MAPPING)
		return convert_object(c, n, &any_matcher_schema);
	if (n->kind != TREE_SCALAR)
		return type_error(c, n, "a glob or {any: [globs]}");
	return convert_string(c, n, NULL);
}

static bool is_any_matcher(const struct tree_node *n)
{
	return n->kind == TREE_MAPPING && n->n_children == 2 &&
	       strcmp(n->children[0]->text, "any") == 0;
}

static json_t *convert_params(struct convert *c, const struct tree_node *n)
{
	json_t *obj;

	if (n->kind != TREE_MAPPING)
		return type_error(c, n, "a mapping of parameter matchers");
	obj = take(c, json_object());
	for (size_t i = 0; i + 1 < n->n_children; i += 2) {
		const struct tree_node *v = n->children[i + 1];
		json_t *out;

		push_key(c, n->children[i]->text);
		out = v->kind == TREE_MAPPING && !is_any_matcher(v) ? convert_params(c, v)
								    : convert_matcher(c, v);
		pop(c);
		if (out)
			set(c, obj, n->children[i]->text, out);
	}
	return obj;
}

static json_t *convert_any(struct convert *c, const struct tree_node *n);

static json_t *convert_any_scalar(struct convert *c, const struct tree_node *n)
{
	long long i;
	double d;

	switch (tree_scalar_type(n)) {
	case SCALAR_NULL:
		return take(c, json_null());
	case SCALAR_BOOL:
		return take(c, json_boolean(scalar_parse_bool(n->text)));
	case SCALAR_INT:
		if (scalar_parse_int(n->text, &i) < 0)
			break;
		return take(c, json_integer(i));
	case SCALAR_FLOAT:
		d = strtod(n->text, NULL);
		if (strpbrk(n->text, "iInN") || !isfinite(d))
			break;
		return take(c, json_real(d));
	case SCALAR_STRING:
		return take(c, json_stringn_nocheck(n->text, n->len));
	}
	diag_add(c->diags, DIAG_ERROR, n->mark, "%s: the number %.40s cannot be represented",
		 path_name(c), n->text);
	return NULL;
}

static json_t *convert_any(struct convert *c, const struct tree_node *n)
{
	json_t *out;

	if (n->kind == TREE_SCALAR)
		return convert_any_scalar(c, n);
	out = take(c, n->kind == TREE_MAPPING ? json_object() : json_array());
	for (size_t i = 0; i < n->n_children; i += n->kind == TREE_MAPPING ? 2 : 1) {
		const struct tree_node *child = n->children[n->kind == TREE_MAPPING ? i + 1 : i];
		json_t *v;

		if (n->kind == TREE_MAPPING)
			push_key(c, n->children[i]->text);
		else
			push_index(c, i);
		v = convert_any(c, child);
		pop(c);
		if (n->kind == TREE_MAPPING && v)
			set(c, out, n->children[i]->text, v);
		else if (n->kind == TREE_SEQUENCE)
			append(c, out, v ? v : json_null());
	}
	return out;
}

static json_t *convert_value(struct convert *c, const struct tree_node *n, const struct field *f)
{
	static const struct field object_value = {.type = FIELD_OBJECT};
	static const struct field matcher_value = {.type = FIELD_MATCHER};
	struct field map_value;

	switch (f->type) {
	case FIELD_STRING:
		return convert_string(c, n, f);
	case FIELD_BOOL:
		return convert_bool(c, n);
	case FIELD_INT:
		return convert_int(c, n, f);
	case FIELD_STRING_LIST:
	case FIELD_INT_LIST:
	case FIELD_OBJECT_LIST:
		return convert_list(c, n, f);
	case FIELD_TREE_STRINGS:
		return check_tree_strings(c, n);
	case FIELD_OBJECT:
		return convert_object(c, n, f->object);
	case FIELD_OBJECT_MAP:
		map_value = object_value;
		map_value.object = f->object;
		return convert_map(c, n, &map_value);
	case FIELD_MATCHER_MAP:
		return convert_map(c, n, &matcher_value);
	case FIELD_MATCHER:
		return convert_matcher(c, n);
	case FIELD_PARAM_MAP:
		return convert_params(c, n);
	case FIELD_ANY_MAP:
		if (n->kind != TREE_MAPPING)
			return type_error(c, n, "a mapping");
		return convert_any(c, n);
	case FIELD_REFUSED:
		break;
	}
	return NULL;
}

json_t *schema_convert_policy(const struct tree_node *root, struct diagnostics *d, bool *ret_oom)
{
	struct convert c = {.diags = d};
	json_t *doc = convert_object(&c, root, &policy_schema);

	*ret_oom = c.oom;
	if (c.oom) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}
