/* YAML text to a node tree with libyaml's event parser. Owns the limits
 * libyaml leaves to its caller: one document, no aliases (no expansion
 * attacks), bounded nesting, node count and key length, no duplicate keys,
 * no NUL inside scalars, only the core tags. Also the core schema's scalar
 * resolution. */
#include "policy/yamltree.h"

#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/cleanup.h"

#define TAG_STR "tag:yaml.org,2002:str"
#define TAG_SEQ "tag:yaml.org,2002:seq"
#define TAG_MAP "tag:yaml.org,2002:map"

/* Nodes, their texts and their children's arrays are carved from blocks
 * that are freed together: one allocation per block instead of one per
 * node, and no walk of the tree to free it. */
struct tree_block {
	struct tree_block *next;
	size_t used, size;
	max_align_t data[];
};

#define TREE_BLOCK_MIN ((size_t)32 * 1024)

struct builder {
	yaml_parser_t parser;
	struct tree_block *blocks;
	const char *data;
	size_t size;
	struct diagnostics *diags;
	struct tree_node *root;
	struct tree_node *stack[YAML_TREE_DEPTH_MAX];
	size_t depth;
	size_t n_nodes;
	bool seen_document;
	bool failed; /* an error that does not stop parsing (duplicate keys) */
};

static struct source_mark mark_of(yaml_mark_t m)
{
	return (struct source_mark){.line = (unsigned)m.line + 1, .column = (unsigned)m.column + 1};
}

struct source_mark source_mark_at(const char *data, size_t size, size_t offset)
{
	struct source_mark m = {.line = 1, .column = 1};

	for (size_t i = 0; i < offset && i < size; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c == '\n' || (c == '\r' && (i + 1 >= size || data[i + 1] != '\n'))) {
			m.line++;
			m.column = 1;
		} else if (c != '\r' && (c & 0xc0) != 0x80) {
			m.column++;
		}
	}
	return m;
}

static void blocks_free(struct tree_block *b)
{
	while (b) {
		struct tree_block *next = b->next;

		free(b);
		b = next;
	}
}

void tree_free(struct tree *t)
{
	blocks_free(t->blocks);
	*t = (struct tree){0};
}

/* size bytes, aligned for any object, zeroed; NULL without memory. */
static void *builder_alloc(struct builder *b, size_t size)
{
	struct tree_block *blk = b->blocks;
	void *p;

	size = (size + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);
	if (!blk || blk->size - blk->used < size) {
		size_t room = size > TREE_BLOCK_MIN ? size : TREE_BLOCK_MIN;

		blk = malloc(sizeof(*blk) + room);
		if (!blk)
			return NULL;
		blk->used = 0;
		blk->size = room;
		blk->next = b->blocks;
		b->blocks = blk;
	}
	p = (char *)blk->data + blk->used;
	blk->used += size;
	return memset(p, 0, size);
}

/* Records an error that ends parsing; evaluates to -EINVAL. */
#define fail(b, m, ...) (diag_add((b)->diags, DIAG_ERROR, (m), __VA_ARGS__), -EINVAL)

/* The children's array doubles from 4 (the old one stays in its block). */
static int append_child(struct builder *b, struct tree_node *parent, struct tree_node *child)
{
	size_t len = parent->n_children;

	if (len >= 4 && (len & (len - 1)) == 0) {
		struct tree_node **c = builder_alloc(b, 2 * len * sizeof(struct tree_node *));

		if (!c)
			return -ENOMEM;
		memcpy(c, parent->children, len * sizeof(struct tree_node *));
		parent->children = c;
	} else if (len == 0) {
		parent->children = builder_alloc(b, 4 * sizeof(struct tree_node *));
		if (!parent->children)
			return -ENOMEM;
	}
	parent->children[parent->n_children++] = child;
	return 0;
}

/* Hangs a new node under the open collection (or makes it the root). */
static int attach(struct builder *b, struct tree_node *n)
{
	struct tree_node *parent = b->depth ? b->stack[b->depth - 1] : NULL;

	if (++b->n_nodes > YAML_TREE_NODES_MAX)
		return fail(b, n->mark, "the policy has more than %d YAML nodes",
			    YAML_TREE_NODES_MAX);
	if (!parent) {
		b->root = n;
		return 0;
	}
	if (parent->kind == TREE_MAPPING && parent->n_children % 2 == 0 &&
	    (n->kind != TREE_SCALAR || n->len > YAML_TREE_KEY_MAX)) {
		if (n->kind == TREE_SCALAR)
			return fail(b, n->mark, "a key is longer than %d bytes", YAML_TREE_KEY_MAX);
		return fail(b, n->mark, "mapping keys must be strings, not collections");
	}
	return append_child(b, parent, n);
}

/* A node; a scalar's text follows it in the same block. */
static struct tree_node *node_new(struct builder *b, enum tree_kind kind, yaml_mark_t m,
				  const char *text, size_t len)
{
	struct tree_node *n = builder_alloc(b, sizeof(*n) + (text ? len + 1 : 0));

	if (!n)
		return NULL;
	n->kind = kind;
	n->mark = mark_of(m);
	if (text) {
		n->text = memcpy(n + 1, text, len);
		n->text[len] = '\0';
		n->len = len;
	}
	return n;
}

static int scalar_event(struct builder *b, const yaml_event_t *ev)
{
	const char *tag = (const char *)ev->data.scalar.tag;
	const char *value = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	struct tree_node *n;

	if (tag && strcmp(tag, "!") != 0 && strcmp(tag, TAG_STR) != 0)
		return fail(b, mark_of(ev->start_mark), "unsupported YAML tag '%s'", tag);
	if (memchr(value, '\0', len))
		return fail(b, mark_of(ev->start_mark), "a string holds a NUL character");
	n = node_new(b, TREE_SCALAR, ev->start_mark, value, len);
	if (!n)
		return -ENOMEM;
	n->plain = !tag && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	return attach(b, n);
}

static int collection_start(struct builder *b, const yaml_event_t *ev, enum tree_kind kind)
{
	const char *tag = (const char *)(kind == TREE_MAPPING ? ev->data.mapping_start.tag
							      : ev->data.sequence_start.tag);
	struct tree_node *n;
	int r;

	if (tag && strcmp(tag, kind == TREE_MAPPING ? TAG_MAP : TAG_SEQ) != 0)
		return fail(b, mark_of(ev->start_mark), "unsupported YAML tag '%s'", tag);
	if (b->depth >= YAML_TREE_DEPTH_MAX)
		return fail(b, mark_of(ev->start_mark),
			    "the policy is nested deeper than %d levels", YAML_TREE_DEPTH_MAX);
	n = node_new(b, kind, ev->start_mark, NULL, 0);
	if (!n)
		return -ENOMEM;
	r = attach(b, n);
	if (r < 0)
		return r;
	b->stack[b->depth++] = n;
	return 0;
}

static int key_compare(const void *pa, const void *pb)
{
	const struct tree_node *a = *(struct tree_node *const *)pa;
	const struct tree_node *b = *(struct tree_node *const *)pb;
	int c = strcmp(a->text, b->text);

	if (c)
		return c;
	if (a->mark.line != b->mark.line)
		return a->mark.line < b->mark.line ? -1 : 1;
	return a->mark.column < b->mark.column ? -1 : a->mark.column > b->mark.column;
}

/* Reports every key written twice in a mapping, at its second place. */
static int check_duplicate_keys(struct builder *b, const struct tree_node *map)
{
	size_t n = map->n_children / 2;
	_cleanup_free_ struct tree_node **keys = NULL;

	if (n < 2)
		return 0;
	keys = malloc(n * sizeof(struct tree_node *));
	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		keys[i] = map->children[2 * i];
	qsort(keys, n, sizeof(struct tree_node *), key_compare);
	for (size_t i = 1; i < n; i++)
		if (strcmp(keys[i]->text, keys[i - 1]->text) == 0) {
			diag_add(b->diags, DIAG_ERROR, keys[i]->mark,
				 "duplicate key '%s' (first at %u:%u)", keys[i]->text,
				 keys[i - 1]->mark.line, keys[i - 1]->mark.column);
			b->failed = true;
		}
	return 0;
}

static int collection_end(struct builder *b)
{
	struct tree_node *n = b->stack[--b->depth];

	return n->kind == TREE_MAPPING ? check_duplicate_keys(b, n) : 0;
}

/* 1 at the end of the stream, 0 to go on, negative on error. */
static int handle_event(struct builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (b->seen_document)
			return fail(
			    b, mark_of(ev->start_mark),
			    "a policy file holds one YAML document; a second one starts here");
		b->seen_document = true;
		return 0;
	case YAML_ALIAS_EVENT:
		return fail(b, mark_of(ev->start_mark), "YAML aliases ('*%s') are not supported",
			    (const char *)ev->data.alias.anchor);
	case YAML_SCALAR_EVENT:
		return scalar_event(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return collection_start(b, ev, TREE_SEQUENCE);
	case YAML_MAPPING_START_EVENT:
		return collection_start(b, ev, TREE_MAPPING);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return collection_end(b);
	case YAML_STREAM_END_EVENT:
		return 1;
	default:
		return 0;
	}
}

static int parser_error(struct builder *b)
{
	const yaml_parser_t *p = &b->parser;
	const char *problem = p->problem ? p->problem : "unknown problem";
	struct source_mark m, c;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return -ENOMEM;
	case YAML_READER_ERROR:
		m = source_mark_at(b->data, b->size, p->problem_offset);
		diag_add(b->diags, DIAG_ERROR, m, "unreadable text: %s", problem);
		return -EINVAL;
	default:
		m = mark_of(p->problem_mark);
		c = mark_of(p->context_mark);
		if (p->context)
			diag_add(b->diags, DIAG_ERROR, m, "YAML syntax error: %s (%s at %u:%u)",
				 problem, p->context, c.line, c.column);
		else
			diag_add(b->diags, DIAG_ERROR, m, "YAML syntax error: %s", problem);
		return -EINVAL;
	}
}

int tree_parse(const char *data, size_t size, struct diagnostics *d, struct tree *ret)
{
	struct builder b = {.diags = d};
	int r = 0;

	/* With the encoding fixed, libyaml would count a BOM as a column. */
	if (size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		data += 3;
		size -= 3;
	}
	b.data = data;
	b.size = size;
	if (!yaml_parser_initialize(&b.parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&b.parser, (const unsigned char *)data, size);
	yaml_parser_set_encoding(&b.parser, YAML_UTF8_ENCODING);
	while (r == 0) {
		yaml_event_t ev;

		if (!yaml_parser_parse(&b.parser, &ev)) {
			r = parser_error(&b);
			break;
		}
		r = handle_event(&b, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&b.parser);
	if (r >= 0 && b.failed)
		r = -EINVAL;
	if (r < 0) {
		blocks_free(b.blocks);
		return r;
	}
	*ret = (struct tree){.root = b.root, .blocks = b.blocks};
	return 0;
}

/* The index of key's key node in a mapping, or n_children. */
static size_t key_index(const struct tree_node *n, const char *key)
{
	if (!n || n->kind != TREE_MAPPING)
		return n ? n->n_children : 0;
	for (size_t i = 0; i + 1 < n->n_children; i += 2)
		if (strcmp(n->children[i]->text, key) == 0)
			return i;
	return n->n_children;
}

const struct tree_node *tree_get_key(const struct tree_node *n, const char *key)
{
	size_t i = key_index(n, key);

	return n && i + 1 < n->n_children ? n->children[i] : NULL;
}

const struct tree_node *tree_get(const struct tree_node *n, const char *key)
{
	size_t i = key_index(n, key);

	return n && i + 1 < n->n_children ? n->children[i + 1] : NULL;
}

static bool is_one_of(const char *s, size_t len, const char *const *words)
{
	for (; *words; words++)
		if (strlen(*words) == len && memcmp(s, *words, len) == 0)
			return true;
	return false;
}

static size_t count_digits(const char *s, size_t len, size_t i, const char *set)
{
	size_t start = i;

	while (i < len && s[i] && strchr(set, s[i]))
		i++;
	return i - start;
}

#define DECIMAL "0123456789"

static bool is_int(const char *s, size_t len)
{
	size_t i = (len && (s[0] == '+' || s[0] == '-')) ? 1 : 0;

	if (len > 2 && s[0] == '0' && s[1] == 'o')
		return count_digits(s, len, 2, "01234567") == len - 2;
	if (len > 2 && s[0] == '0' && s[1] == 'x')
		return count_digits(s, len, 2, DECIMAL "abcdefABCDEF") == len - 2;
	return i < len && count_digits(s, len, i, DECIMAL) == len - i;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, infinities, NaN. */
static bool is_float(const char *s, size_t len)
{
	static const char *const inf[] = {".inf", ".Inf", ".INF", NULL};
	static const char *const nan[] = {".nan", ".NaN", ".NAN", NULL};
	size_t i = (len && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
	size_t whole, frac = 0;
	bool dot = false;

	if (is_one_of(s + i, len - i, inf) || is_one_of(s, len, nan))
		return true;
	whole = count_digits(s, len, i, DECIMAL);
	i += whole;
	if (i < len && s[i] == '.') {
		dot = true;
		frac = count_digits(s, len, ++i, DECIMAL);
		i += frac;
	}
	if (whole == 0 && (!dot || frac == 0))
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t exp;

		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		exp = count_digits(s, len, i, DECIMAL);
		if (exp == 0)
			return false;
		i += exp;
	}
	return i == len;
}

enum scalar_type scalar_type_of_plain(const char *s, size_t len)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const bools[] = {"true",  "True",  "TRUE", "false",
					    "False", "FALSE", NULL};

	if (len && !strchr("~nNtTfF0123456789+-.", s[0]))
		return SCALAR_STRING;
	if (is_one_of(s, len, nulls))
		return SCALAR_NULL;
	if (is_one_of(s, len, bools))
		return SCALAR_BOOL;
	if (is_int(s, len))
		return SCALAR_INT;
	if (is_float(s, len))
		return SCALAR_FLOAT;
	return SCALAR_STRING;
}

enum scalar_type tree_scalar_type(const struct tree_node *n)
{
	return n->plain ? scalar_type_of_plain(n->text, n->len) : SCALAR_STRING;
}

bool scalar_parse_bool(const char *s)
{
	return s[0] == 't' || s[0] == 'T';
}

int scalar_parse_int(const char *s, long long *ret)
{
	unsigned long long magnitude;
	bool negative = s[0] == '-';
	int base = 10;
	char *end;

	if (s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
		base = s[1] == 'o' ? 8 : 16;
		s += 2;
	} else if (s[0] == '+' || s[0] == '-') {
		s++;
	}
	errno = 0;
	magnitude = strtoull(s, &end, base);
	if (*end || end == s)
		return -EINVAL;
	if (errno == ERANGE || magnitude > (unsigned long long)LLONG_MAX + negative)
		return -ERANGE;
	*ret = negative ? (long long)(0 - magnitude) : (long long)magnitude;
	return 0;
}
