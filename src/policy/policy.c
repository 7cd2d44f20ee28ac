/* The policy model's lifetime and comparison: freeing a policy and its
 * network sections, the marked string lists, and structural equality of two
 * models (marks, source names and the presence of filesystem_policy, which
 * only decides a default, are ignored). */
#include "policy/policy.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "policy/loader.h"
#include "policy/network.h"

const char *landlock_compat_name(enum landlock_compat c)
{
	return c == COMPAT_HARD_REQUIREMENT ? "hard_requirement" : "best_effort";
}

int path_list_push(struct path_list *l, const char *s, struct source_mark mark)
{
	char *copy = strdup(s);

	if (!copy)
		return -ENOMEM;
	if (l->len >= l->cap) {
		size_t cap = l->len < 4 ? 8 : l->len * 2;
		struct policy_path *items = realloc(l->items, cap * sizeof(*items));

		if (!items) {
			free(copy);
			return -ENOMEM;
		}
		l->items = items;
		l->cap = cap;
	}
	l->items[l->len++] = (struct policy_path){.path = copy, .mark = mark};
	return 0;
}

void path_list_free(struct path_list *l)
{
	for (size_t i = 0; i < l->len; i++)
		free(l->items[i].path);
	free(l->items);
	l->items = NULL;
	l->len = l->cap = 0;
}

bool path_list_equal(const struct path_list *a, const struct path_list *b)
{
	if (a->len != b->len)
		return false;
	for (size_t i = 0; i < a->len; i++)
		if (strcmp(a->items[i].path, b->items[i].path) != 0)
			return false;
	return true;
}

void network_endpoint_free(struct network_endpoint *ep)
{
	free(ep->host);
	free(ep->path);
	free(ep->ports);
	free(ep->protocol);
	free(ep->tls);
	free(ep->enforcement);
	free(ep->access);
	json_decref(ep->rules);
	path_list_free(&ep->allowed_ips);
	json_decref(ep->deny_rules);
	json_decref(ep->options);
	memset(ep, 0, sizeof(*ep));
}

void network_policies_free(struct network_policy *np, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(np[i].key);
		free(np[i].name);
		for (size_t e = 0; e < np[i].n_endpoints; e++)
			network_endpoint_free(&np[i].endpoints[e]);
		free(np[i].endpoints);
		path_list_free(&np[i].binaries);
	}
	free(np);
}

void network_middlewares_free(struct network_middleware *mw, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(mw[i].key);
		free(mw[i].name);
		free(mw[i].middleware);
		json_decref(mw[i].config);
		free(mw[i].on_error);
		path_list_free(&mw[i].include);
		path_list_free(&mw[i].exclude);
	}
	free(mw);
}

void policy_json_seed(void)
{
	size_t seed = 0;

	/* A seed of 0 lets the library pick one itself, as on a failure here. */
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		json_object_seed(seed);
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	free(p->source_name);
	path_list_free(&p->read_only);
	path_list_free(&p->read_write);
	free(p->run_as_user);
	free(p->run_as_group);
	network_policies_free(p->network_policies, p->n_network_policies);
	network_middlewares_free(p->network_middlewares, p->n_network_middlewares);
	memset(p, 0, sizeof(*p));
}

static bool str_equal(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool json_equal_or_null(const json_t *a, const json_t *b)
{
	if (!a || !b)
		return a == b;
	return json_equal(a, b);
}

static bool endpoint_equal(const struct network_endpoint *a, const struct network_endpoint *b)
{
	return str_equal(a->host, b->host) && str_equal(a->path, b->path) &&
	       a->n_ports == b->n_ports &&
	       (a->n_ports == 0 ||
		memcmp(a->ports, b->ports, a->n_ports * sizeof(*a->ports)) == 0) &&
	       str_equal(a->protocol, b->protocol) && str_equal(a->tls, b->tls) &&
	       str_equal(a->enforcement, b->enforcement) && str_equal(a->access, b->access) &&
	       json_equal_or_null(a->rules, b->rules) &&
	       path_list_equal(&a->allowed_ips, &b->allowed_ips) &&
	       json_equal_or_null(a->deny_rules, b->deny_rules) &&
	       json_equal_or_null(a->options, b->options);
}

static bool network_policies_equal(const struct network_policy *a, const struct network_policy *b,
				   size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!str_equal(a[i].key, b[i].key) || !str_equal(a[i].name, b[i].name) ||
		    a[i].n_endpoints != b[i].n_endpoints ||
		    !path_list_equal(&a[i].binaries, &b[i].binaries))
			return false;
		for (size_t e = 0; e < a[i].n_endpoints; e++)
			if (!endpoint_equal(&a[i].endpoints[e], &b[i].endpoints[e]))
				return false;
	}
	return true;
}

static bool network_middlewares_equal(const struct network_middleware *a,
				      const struct network_middleware *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!str_equal(a[i].key, b[i].key) || !str_equal(a[i].name, b[i].name) ||
		    !str_equal(a[i].middleware, b[i].middleware) || a[i].order != b[i].order ||
		    !json_equal_or_null(a[i].config, b[i].config) ||
		    !str_equal(a[i].on_error, b[i].on_error) ||
		    a[i].has_endpoints != b[i].has_endpoints ||
		    !path_list_equal(&a[i].include, &b[i].include) ||
		    !path_list_equal(&a[i].exclude, &b[i].exclude))
			return false;
	return true;
}

bool policy_equal(const struct policy *a, const struct policy *b)
{
	return a->version == b->version && a->include_workdir == b->include_workdir &&
	       path_list_equal(&a->read_only, &b->read_only) &&
	       path_list_equal(&a->read_write, &b->read_write) && a->compat == b->compat &&
	       str_equal(a->run_as_user, b->run_as_user) &&
	       str_equal(a->run_as_group, b->run_as_group) &&
	       a->n_network_policies == b->n_network_policies &&
	       network_policies_equal(a->network_policies, b->network_policies,
				      a->n_network_policies) &&
	       a->n_network_middlewares == b->n_network_middlewares &&
	       network_middlewares_equal(a->network_middlewares, b->network_middlewares,
					 a->n_network_middlewares);
}
