/* Emitters: the canonical JSON tree of a policy (fixed key order, defaults
 * explicit), and writing any JSON tree as YAML (libyaml's emitter) or JSON
 * (jansson). YAML strings that a reader would take for another type are
 * quoted, so what is written reads back the same. */
#include "policy/emit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "policy/network.h"
#include "policy/yamltree.h"

#define EMIT_DEPTH_MAX 512

int output_format_parse(const char *s, enum output_format *ret)
{
	if (strcmp(s, "yaml") == 0)
		*ret = FORMAT_YAML;
	else if (strcmp(s, "json") == 0)
		*ret = FORMAT_JSON;
	else
		return -EINVAL;
	return 0;
}

/* Sets obj[key] = v (a new reference, may be NULL); clears *ok on failure. */
static void put(json_t *obj, const char *key, json_t *v, bool *ok)
{
	if (json_object_set_new(obj, key, v) < 0)
		*ok = false;
}

static void push(json_t *arr, json_t *v, bool *ok)
{
	if (json_array_append_new(arr, v) < 0)
		*ok = false;
}

/* Returns v, or NULL (releasing v) when building it failed. */
static json_t *checked(json_t *v, bool ok)
{
	if (ok)
		return v;
	json_decref(v);
	return NULL;
}

static json_t *strings_to_json(const struct path_list *l)
{
	json_t *arr = json_array();
	bool ok = arr != NULL;

	for (size_t i = 0; ok && i < l->len; i++)
		push(arr, json_string(l->items[i].path), &ok);
	return checked(arr, ok);
}

static void put_string(json_t *obj, const char *key, const char *s, bool *ok)
{
	if (s)
		put(obj, key, json_string(s), ok);
}

static void put_copy(json_t *obj, const char *key, const json_t *v, bool *ok)
{
	if (v)
		put(obj, key, json_deep_copy(v), ok);
}

static json_t *ports_to_json(const struct network_endpoint *ep)
{
	json_t *arr = json_array();
	bool ok = arr != NULL;

	for (size_t i = 0; ok && i < ep->n_ports; i++)
		push(arr, json_integer(ep->ports[i]), &ok);
	return checked(arr, ok);
}

static json_t *endpoint_to_json(const struct network_endpoint *ep)
{
	json_t *obj = json_object();
	bool ok = obj != NULL;

	put_string(obj, "host", ep->host, &ok);
	put_string(obj, "path", ep->path, &ok);
	if (ep->n_ports)
		put(obj, "ports", ports_to_json(ep), &ok);
	put_string(obj, "protocol", ep->protocol, &ok);
	put_string(obj, "tls", ep->tls, &ok);
	put_string(obj, "enforcement", ep->enforcement, &ok);
	put_string(obj, "access", ep->access, &ok);
	put_copy(obj, "rules", ep->rules, &ok);
	if (ep->allowed_ips.len)
		put(obj, "allowed_ips", strings_to_json(&ep->allowed_ips), &ok);
	put_copy(obj, "deny_rules", ep->deny_rules, &ok);
	for (void *it = json_object_iter((json_t *)ep->options); it;
	     it = json_object_iter_next((json_t *)ep->options, it))
		put_copy(obj, json_object_iter_key(it), json_object_iter_value(it), &ok);
	return checked(obj, ok);
}

static json_t *binaries_to_json(const struct path_list *l)
{
	json_t *arr = json_array();
	bool ok = arr != NULL;

	for (size_t i = 0; ok && i < l->len; i++)
		push(arr, json_pack("{s:s}", "path", l->items[i].path), &ok);
	return checked(arr, ok);
}

static json_t *network_policy_to_json(const struct network_policy *np)
{
	json_t *obj = json_object(), *endpoints = json_array();
	bool ok = obj && endpoints;

	put(obj, "name", json_string(np->name), &ok);
	for (size_t i = 0; ok && i < np->n_endpoints; i++)
		push(endpoints, endpoint_to_json(&np->endpoints[i]), &ok);
	put(obj, "endpoints", endpoints, &ok);
	put(obj, "binaries", binaries_to_json(&np->binaries), &ok);
	return checked(obj, ok);
}

static json_t *middleware_to_json(const struct network_middleware *mw)
{
	json_t *obj = json_object();
	bool ok = obj != NULL;

	put(obj, "name", json_string(mw->name), &ok);
	put_string(obj, "middleware", mw->middleware, &ok);
	put(obj, "order", json_integer(mw->order), &ok);
	put_copy(obj, "config", mw->config, &ok);
	put_string(obj, "on_error", mw->on_error, &ok);
	if (mw->has_endpoints)
		put(obj, "endpoints",
		    json_pack("{s:o, s:o}", "include", strings_to_json(&mw->include), "exclude",
			      strings_to_json(&mw->exclude)),
		    &ok);
	return checked(obj, ok);
}

static json_t *network_to_json(const struct policy *p, bool middlewares)
{
	json_t *obj = json_object();
	bool ok = obj != NULL;
	size_t n = middlewares ? p->n_network_middlewares : p->n_network_policies;

	for (size_t i = 0; ok && i < n; i++) {
		if (middlewares)
			put(obj, p->network_middlewares[i].key,
			    middleware_to_json(&p->network_middlewares[i]), &ok);
		else
			put(obj, p->network_policies[i].key,
			    network_policy_to_json(&p->network_policies[i]), &ok);
	}
	return checked(obj, ok);
}

static json_t *process_to_json(const struct policy *p)
{
	json_t *obj = json_object();
	bool ok = obj != NULL;

	put_string(obj, "run_as_user", p->run_as_user, &ok);
	put_string(obj, "run_as_group", p->run_as_group, &ok);
	return checked(obj, ok);
}

json_t *policy_to_json(const struct policy *p)
{
	json_t *doc = json_object();
	bool ok = doc != NULL;

	put(doc, "version", json_integer(p->version), &ok);
	put(doc, "filesystem_policy",
	    json_pack("{s:b, s:o, s:o}", "include_workdir", p->include_workdir, "read_only",
		      strings_to_json(&p->read_only), "read_write",
		      strings_to_json(&p->read_write)),
	    &ok);
	put(doc, "landlock", json_pack("{s:s}", "compatibility", landlock_compat_name(p->compat)),
	    &ok);
	if (p->run_as_user || p->run_as_group)
		put(doc, "process", process_to_json(p), &ok);
	put(doc, "network_policies", network_to_json(p, false), &ok);
	put(doc, "network_middlewares", network_to_json(p, true), &ok);
	return checked(doc, ok);
}

/* A string a YAML reader would resolve to something else if left plain. */
static bool needs_quotes(const char *s, size_t len)
{
	static const char *const yaml11_words[] = {
	    "y",  "Y",	"yes", "Yes", "YES", "n",   "N",   "no", "No",
	    "NO", "on", "On",  "ON",  "off", "Off", "OFF", "=",	 "<<",
	};

	if (scalar_type_of_plain(s, len) != SCALAR_STRING || (len && strchr("0123456789+-.", s[0])))
		return true;
	for (size_t i = 0; i < sizeof(yaml11_words) / sizeof(yaml11_words[0]); i++)
		if (strlen(yaml11_words[i]) == len && memcmp(s, yaml11_words[i], len) == 0)
			return true;
	return false;
}

static int emit_event(yaml_emitter_t *e, yaml_event_t *ev, int initialized)
{
	if (!initialized)
		return -ENOMEM;
	return yaml_emitter_emit(e, ev) ? 0 : -EIO;
}

static int emit_scalar(yaml_emitter_t *e, const char *text, size_t len, bool is_string)
{
	bool quote = is_string && needs_quotes(text, len);
	yaml_scalar_style_t style = quote	? YAML_SINGLE_QUOTED_SCALAR_STYLE
				    : is_string ? YAML_ANY_SCALAR_STYLE
						: YAML_PLAIN_SCALAR_STYLE;
	yaml_event_t ev;

	return emit_event(e, &ev,
			  yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text,
						       (int)len, !quote, is_string, style));
}

static int emit_number(yaml_emitter_t *e, const json_t *v)
{
	char buf[64];

	if (json_is_integer(v))
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else {
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
		if (!strpbrk(buf, ".eEn"))
			memcpy(buf + strlen(buf), ".0", 3); /* %.17g needs at most 24 bytes */
	}
	return emit_scalar(e, buf, strlen(buf), false);
}

static int emit_node(yaml_emitter_t *e, const json_t *v, int depth);

static int emit_mapping(yaml_emitter_t *e, const json_t *obj, int depth)
{
	yaml_event_t ev;
	int r;

	r = emit_event(
	    e, &ev,
	    yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE));
	for (void *it = json_object_iter((json_t *)obj); it && r >= 0;
	     it = json_object_iter_next((json_t *)obj, it)) {
		const char *key = json_object_iter_key(it);

		r = emit_scalar(e, key, strlen(key), true);
		if (r >= 0)
			r = emit_node(e, json_object_iter_value(it), depth + 1);
	}
	return r < 0 ? r : emit_event(e, &ev, yaml_mapping_end_event_initialize(&ev));
}

static int emit_sequence(yaml_emitter_t *e, const json_t *arr, int depth)
{
	yaml_event_t ev;
	int r;

	r = emit_event(
	    e, &ev,
	    yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE));
	for (size_t i = 0; i < json_array_size(arr) && r >= 0; i++)
		r = emit_node(e, json_array_get(arr, i), depth + 1);
	return r < 0 ? r : emit_event(e, &ev, yaml_sequence_end_event_initialize(&ev));
}

static int emit_node(yaml_emitter_t *e, const json_t *v, int depth)
{
	if (depth > EMIT_DEPTH_MAX)
		return -ELOOP;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return emit_mapping(e, v, depth);
	case JSON_ARRAY:
		return emit_sequence(e, v, depth);
	case JSON_STRING:
		return emit_scalar(e, json_string_value(v), json_string_length(v), true);
	case JSON_INTEGER:
	case JSON_REAL:
		return emit_number(e, v);
	case JSON_TRUE:
		return emit_scalar(e, "true", 4, false);
	case JSON_FALSE:
		return emit_scalar(e, "false", 5, false);
	case JSON_NULL:
		break;
	}
	return emit_scalar(e, "null", 4, false);
}

static int write_to_file(void *data, unsigned char *buffer, size_t size)
{
	return fwrite(buffer, 1, size, data) == size;
}

static int emit_document(yaml_emitter_t *e, const json_t *doc)
{
	yaml_event_t ev;
	int r;

	r = emit_event(e, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	if (r >= 0)
		r = emit_event(e, &ev,
			       yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
	if (r >= 0)
		r = emit_node(e, doc, 0);
	if (r >= 0)
		r = emit_event(e, &ev, yaml_document_end_event_initialize(&ev, 1));
	if (r >= 0)
		r = emit_event(e, &ev, yaml_stream_end_event_initialize(&ev));
	return r;
}

static int emit_yaml(const json_t *doc, FILE *out, struct error *err)
{
	yaml_emitter_t e;
	int r;

	if (!yaml_emitter_initialize(&e))
		return error_set(err, ENOMEM, "cannot set up the YAML emitter");
	yaml_emitter_set_output(&e, write_to_file, out);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1);
	yaml_emitter_set_indent(&e, 2);
	r = emit_document(&e, doc);
	if (r == -EIO)
		error_set(err, EIO, "cannot write YAML: %s", e.problem ? e.problem : "write error");
	else if (r < 0)
		error_set(err, -r, "cannot write YAML: %s",
			  r == -ELOOP ? "the document is nested too deeply" : "out of memory");
	yaml_emitter_delete(&e);
	return r;
}

/* The code point at s when a YAML reader refuses it raw or reads it as a
 * line break (DEL, C1 controls, U+2028, U+2029, U+FFFE, U+FFFF); else 0. */
static unsigned yaml_hostile(const unsigned char *s)
{
	if (s[0] == 0x7f)
		return 0x7f;
	if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
		return s[1];
	if (s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9))
		return 0x2000u + (s[2] & 0x3fu);
	if (s[0] == 0xef && s[1] == 0xbf && (s[2] == 0xbe || s[2] == 0xbf))
		return 0xffc0u + (s[2] & 0x3fu);
	return 0;
}

/* JSON is read back as YAML, so jansson's output, which keeps those code
 * points raw inside strings, gets them as \u escapes. */
static int emit_json(const json_t *doc, FILE *out, struct error *err)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
	const unsigned char *s = (const unsigned char *)text;

	if (!text)
		return error_set(err, ENOMEM, "cannot write JSON: out of memory");
	while (*s) {
		unsigned c = yaml_hostile(s);

		if (c)
			fprintf(out, "\\u%04x", c);
		else
			fputc(*s, out);
		s += c > 0xff ? 3 : c > 0x7f ? 2 : 1;
	}
	free(text);
	return fputc('\n', out) == EOF ? error_set(err, EIO, "cannot write JSON") : 0;
}

int document_emit(const json_t *doc, enum output_format fmt, FILE *out, struct error *err)
{
	int r;

	if (fmt == FORMAT_YAML)
		r = emit_yaml(doc, out, err);
	else
		r = emit_json(doc, out, err);
	if (r >= 0 && (fflush(out) != 0 || ferror(out)))
		r = error_set_errno(err, errno ? errno : EIO, "cannot write the policy");
	return r;
}
