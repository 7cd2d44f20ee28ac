/* The effective policy as a JSON tree: the canonical policy document with the
 * lists as enforced and every addition made visible (sources, runtime
 * additions, GPU request, network mode, isolation, notes). YAML is emitted
 * from it. */
#include "policy/effective.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/emit.h"

/* json_object_set_new and json_array_append_new take the reference even on
 * failure, so a tree can be built with one check at the end. */
static bool set_new(json_t *obj, const char *key, json_t *value)
{
	return value && json_object_set_new(obj, key, value) == 0;
}

static bool append_new(json_t *array, json_t *value)
{
	return value && json_array_append_new(array, value) == 0;
}

static json_t *path_array(const struct effective_path_list *list)
{
	json_t *array = json_array();

	for (size_t i = 0; array && i < list->len; i++)
		if (!append_new(array, json_string(list->items[i].path))) {
			json_decref(array);
			return NULL;
		}
	return array;
}

static bool add_sources(json_t *sources, const struct effective_path_list *list)
{
	for (size_t i = 0; i < list->len; i++) {
		const struct effective_path *p = &list->items[i];
		if (p->source == SOURCE_POLICY)
			continue;
		if (!set_new(sources, p->path, json_string(entry_source_name(p->source))))
			return false;
	}
	return true;
}

static json_t *sources_object(const struct effective *eff)
{
	json_t *sources = json_object();

	if (sources && add_sources(sources, &eff->read_only) &&
	    add_sources(sources, &eff->read_write))
		return sources;
	json_decref(sources);
	return NULL;
}

static bool set_filesystem(json_t *doc, const struct effective *eff)
{
	json_t *fs = json_object_get(doc, "filesystem_policy");

	if (!fs) {
		fs = json_object();
		if (!set_new(doc, "filesystem_policy", fs))
			return false;
	}
	return set_new(fs, "read_only", path_array(&eff->read_only)) &&
	       set_new(fs, "read_write", path_array(&eff->read_write)) &&
	       set_new(fs, "sources", sources_object(eff));
}

static bool set_landlock_abi(json_t *doc, const struct effective *eff)
{
	json_t *landlock = json_object_get(doc, "landlock");

	if (!landlock) {
		landlock = json_object();
		if (!set_new(doc, "landlock", landlock))
			return false;
	}
	return set_new(landlock, "abi", json_integer(eff->landlock_abi));
}

/* Right names in the kernel's bit order. */
static json_t *access_array(uint64_t access)
{
	json_t *array = json_array();

	for (unsigned bit = 0; array && bit < 64; bit++) {
		const char *name;
		if (!(access & (1ULL << bit)))
			continue;
		name = access_right_name(1ULL << bit);
		if (name && !append_new(array, json_string(name))) {
			json_decref(array);
			return NULL;
		}
	}
	return array;
}

static json_t *addition_object(const struct runtime_addition *a)
{
	json_t *obj = json_object();

	if (obj && set_new(obj, "path", json_string(a->path)) &&
	    set_new(obj, "access", access_array(a->access)) &&
	    set_new(obj, "reason", json_string(a->reason)))
		return obj;
	json_decref(obj);
	return NULL;
}

static json_t *additions_array(const struct effective *eff)
{
	json_t *array = json_array();

	for (size_t i = 0; array && i < eff->n_additions; i++)
		if (!append_new(array, addition_object(&eff->additions[i]))) {
			json_decref(array);
			return NULL;
		}
	return array;
}

/* "all", or the indices; an empty list when no GPU was requested. */
static json_t *gpu_selection_json(const struct gpu_selection *sel)
{
	json_t *indices;

	if (sel->requested && sel->all)
		return json_string("all");
	indices = json_array();
	for (size_t i = 0; indices && sel->requested && i < sel->n_indices; i++)
		if (!append_new(indices, json_integer(sel->indices[i]))) {
			json_decref(indices);
			return NULL;
		}
	return indices;
}

static json_t *gpu_object(const struct gpu_selection *sel)
{
	json_t *obj = json_object();

	if (obj && set_new(obj, "requested", json_boolean(sel->requested)) &&
	    set_new(obj, "selection", gpu_selection_json(sel)))
		return obj;
	json_decref(obj);
	return NULL;
}

static json_t *network_object(enum network_mode mode)
{
	json_t *obj = json_object();

	if (obj && set_new(obj, "mode", json_string(network_mode_name(mode))))
		return obj;
	json_decref(obj);
	return NULL;
}

static json_t *isolation_object(const struct effective_isolation *iso)
{
	json_t *obj = json_object();

	if (obj && set_new(obj, "pid", json_boolean(iso->enabled)) &&
	    set_new(obj, "mount", json_boolean(iso->enabled)) &&
	    set_new(obj, "ipc", json_boolean(iso->enabled)) &&
	    set_new(obj, "uts", json_boolean(iso->enabled)) &&
	    set_new(obj, "user", json_boolean(iso->enabled && iso->user)) &&
	    set_new(obj, "private_tmp", json_boolean(iso->enabled && iso->private_tmp)) &&
	    set_new(obj, "hostname", iso->hostname ? json_string(iso->hostname) : json_null()))
		return obj;
	json_decref(obj);
	return NULL;
}

static json_t *notes_array(const struct strv *notes)
{
	json_t *array = json_array();

	for (size_t i = 0; array && i < notes->len; i++)
		if (!append_new(array, json_string(notes->items[i]))) {
			json_decref(array);
			return NULL;
		}
	return array;
}

json_t *effective_to_json(const struct effective *eff)
{
	json_t *doc = policy_to_json(eff->policy);

	if (doc && set_filesystem(doc, eff) && set_landlock_abi(doc, eff) &&
	    set_new(doc, "runtime_additions", additions_array(eff)) &&
	    set_new(doc, "gpu", gpu_object(&eff->gpu)) &&
	    set_new(doc, "network", network_object(eff->network)) &&
	    set_new(doc, "isolation", isolation_object(&eff->isolation)) &&
	    set_new(doc, "notes", notes_array(&eff->notes)))
		return doc;
	json_decref(doc);
	return NULL;
}

/* Within a read_only or read_write list of the YAML text, the plain scalar
 * item `- PATH` whose PATH sources names gets "  # SOURCE" appended. */
static void yaml_write_annotated(const char *text, const json_t *sources, FILE *out)
{
	bool in_list = false;
	size_t list_indent = 0;

	for (const char *line = text; *line;) {
		const char *end = strchrnul(line, '\n');
		size_t indent = strspn(line, " ");
		const char *body = line + indent;
		size_t body_len = (size_t)(end - body);
		const char *source = NULL;

		if (in_list && indent >= list_indent && body_len > 2 && strncmp(body, "- ", 2) == 0) {
			char *item = strndup(body + 2, body_len - 2);

			source = item ? json_string_value(json_object_get(sources, item)) : NULL;
			free(item);
		} else {
			in_list = (body_len == 10 && strncmp(body, "read_only:", 10) == 0) ||
				  (body_len == 11 && strncmp(body, "read_write:", 11) == 0);
			list_indent = indent;
		}
		fwrite(line, 1, (size_t)(end - line), out);
		if (source)
			fprintf(out, "  # %s", source);
		fputc('\n', out);
		line = *end ? end + 1 : end;
	}
}

int effective_document_emit(const json_t *doc, enum output_format fmt, FILE *out,
			    struct error *err)
{
	const json_t *sources =
	    json_object_get(json_object_get(doc, "filesystem_policy"), "sources");
	char *text = NULL;
	size_t len = 0;
	FILE *mem;
	int r;

	if (fmt == FORMAT_JSON || json_object_size(sources) == 0)
		return document_emit(doc, fmt, out, err);
	mem = open_memstream(&text, &len);
	if (!mem)
		return error_set_errno(err, errno, "emitting the effective policy");
	r = document_emit(doc, fmt, mem, err);
	if (fclose(mem) != 0 && r >= 0)
		r = error_set_errno(err, errno, "emitting the effective policy");
	if (r >= 0) {
		yaml_write_annotated(text, sources, out);
		if (fflush(out) != 0 || ferror(out))
			r = error_set_errno(err, errno ? errno : EIO, "cannot write the policy");
	}
	free(text);
	return r;
}
