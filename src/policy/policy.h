/* The policy as written: the in-memory model of an OpenShell-schema policy
 * file, nothing added. Loading and validation live in loader.c/validate.c,
 * emitters in emit.c, the built-in default in default.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/strv.h"

#define POLICY_MAX_PATHS      256
#define POLICY_PATH_MAX	      4096
#define POLICY_FILE_MAX_BYTES (1024L * 1024)

enum landlock_compat {
	COMPAT_BEST_EFFORT,
	COMPAT_HARD_REQUIREMENT,
};

/* Where a value was written, for messages: 1-based line and column. */
struct source_mark {
	unsigned line;
	unsigned column;
};

struct policy_path {
	char *path;
	struct source_mark mark;
};

/* A list of strings as written, each with its mark: filesystem paths, and in
 * network policies binary paths, addresses and host patterns. */
struct path_list {
	struct policy_path *items;
	size_t len;
	size_t cap; /* allocated items, kept by path_list_push */
};

/* Where single values were written; line 0 when not written. */
struct policy_marks {
	struct source_mark version;
	struct source_mark compatibility;
	struct source_mark run_as_user;
	struct source_mark run_as_group;
};

/* Network policies are parsed, validated and kept, not yet enforced. The
 * loader owns the exact shape; see network.h. */
struct network_policy;
struct network_middleware;

struct policy {
	char *source_name; /* the file name, or "<default>" */
	int version;
	/* filesystem_policy */
	bool has_filesystem_policy; /* the section was written */
	bool include_workdir;
	struct path_list read_only;
	struct path_list read_write;
	/* landlock */
	enum landlock_compat compat;
	/* process: NULL when not written */
	char *run_as_user;
	char *run_as_group;
	/* network */
	struct network_policy *network_policies;
	size_t n_network_policies;
	struct network_middleware *network_middlewares;
	size_t n_network_middlewares;
	struct policy_marks marks;
};

/* The source_name of the built-in default policy. */
#define POLICY_DEFAULT_NAME "<default>"

void policy_free(struct policy *p);

/* Seeds the hash function of the JSON objects the loader builds from
 * getrandom(): left to itself, the JSON library opens and reads
 * /dev/urandom when it makes its first object. Call once, first. */
void policy_json_seed(void);
/* True for the built-in default policy, whose portable path list names
 * directories (such as /app) that many hosts lack. */
bool policy_is_default(const struct policy *p);
const char *landlock_compat_name(enum landlock_compat c);

/* Appends a copy of s; -ENOMEM. */
int path_list_push(struct path_list *l, const char *s, struct source_mark mark);
void path_list_free(struct path_list *l);
bool path_list_equal(const struct path_list *a, const struct path_list *b);
