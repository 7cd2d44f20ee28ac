/* A YAML document as a tree of nodes that remember where they were written,
 * read with libyaml's event parser under lockshell's limits, and the YAML 1.2
 * core schema's resolution of plain scalars (shared by loader and emitter). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "policy/diag.h"

#define YAML_TREE_DEPTH_MAX 64
#define YAML_TREE_NODES_MAX 100000
/* Keys are names. The bound keeps every key, escaped as JSON, within the
 * 1024 characters YAML allows an implicit key, so JSON output reads back. */
#define YAML_TREE_KEY_MAX 128

enum tree_kind { TREE_SCALAR, TREE_SEQUENCE, TREE_MAPPING };

struct tree_node {
	enum tree_kind kind;
	struct source_mark mark;
	char *text; /* scalar: NUL-terminated, holds no NUL */
	size_t len;
	bool plain; /* an untagged plain scalar: its type follows from its text */
	/* A sequence's items; a mapping's key, value, key, value, ... */
	struct tree_node **children;
	size_t n_children;
};

enum scalar_type { SCALAR_STRING, SCALAR_NULL, SCALAR_BOOL, SCALAR_INT, SCALAR_FLOAT };

/* A parsed document; its nodes live in blocks freed all at once. */
struct tree {
	struct tree_node *root; /* NULL for an empty stream */
	struct tree_block *blocks;
};

/* Parses data (at most one document, no aliases, no duplicate keys; nesting,
 * node count and key length bounded). 0 with *ret set, or -EINVAL (-ENOMEM)
 * with the errors in d. */
int tree_parse(const char *data, size_t size, struct diagnostics *d, struct tree *ret);
void tree_free(struct tree *t);

/* The value of key in a mapping; NULL when absent or n is not a mapping. */
const struct tree_node *tree_get(const struct tree_node *n, const char *key);
/* The key node of key in a mapping. */
const struct tree_node *tree_get_key(const struct tree_node *n, const char *key);

/* The type of a scalar: plain ones by the core schema, others are strings. */
enum scalar_type tree_scalar_type(const struct tree_node *n);
enum scalar_type scalar_type_of_plain(const char *s, size_t len);
/* Integer value of a SCALAR_INT text (decimal, 0o, 0x); -ERANGE, -EINVAL. */
int scalar_parse_int(const char *s, long long *ret);
bool scalar_parse_bool(const char *s);

/* The 1-based line and column of a byte offset in data. */
struct source_mark source_mark_at(const char *data, size_t size, size_t offset);
