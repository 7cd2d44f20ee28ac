/* OpenShell's policy schema, and the conversion of a YAML tree into a JSON
 * tree that follows it: types, closed key sets, required keys, allowed values
 * and integer ranges are checked here, each violation reported at its mark. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "policy/diag.h"
#include "policy/yamltree.h"

/* Converts the root mapping of a policy. Parts that break the schema are
 * reported and left out; an invalid sequence item becomes null, so item
 * indices still match the YAML. Objects list their keys in schema order.
 * filesystem_policy's read_only and read_write are checked but not copied:
 * the loader takes the items schema_is_string() accepts from the tree.
 * Sets *ret_oom and returns NULL when memory ran out. */
json_t *schema_convert_policy(const struct tree_node *root, struct diagnostics *d, bool *ret_oom);

/* A scalar the schema takes as a string: any but null (a plain 80 or true
 * keeps its text). */
bool schema_is_string(const struct tree_node *n);

/* The closest of candidates (NULL-terminated) to word within a small edit
 * distance, for "did you mean" suggestions; NULL when none is close. */
const char *suggest_closest(const char *word, const char *const *candidates);
