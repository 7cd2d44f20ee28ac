/* Network policies and network middlewares in OpenShell's schema: parsed,
 * validated and kept in the model, not enforced yet. The fields an egress
 * proxy needs are typed; the layer-7 rules and the remaining endpoint options
 * are kept as the validated JSON subtrees they were written as. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

struct network_endpoint {
	char *host;	 /* NULL when not written (an allowed_ips-only endpoint) */
	char *path;	 /* NULL when not written */
	uint16_t *ports; /* a written `port` becomes the one element here */
	size_t n_ports;
	char *protocol;		      /* lower case; NULL when not written (layer 4 only) */
	char *tls;		      /* skip, terminate, passthrough; NULL: automatic */
	char *enforcement;	      /* enforce, audit; NULL when not written */
	char *access;		      /* read-only, read-write, full; NULL when not written */
	json_t *rules;		      /* array of {allow: {...}}; NULL when none */
	struct path_list allowed_ips; /* addresses and CIDR ranges */
	json_t *deny_rules;	      /* array; NULL when none */
	/* Every other endpoint field (credential and protocol options) as an
	 * object in schema order; NULL when none was written. */
	json_t *options;
	struct source_mark mark; /* the endpoint's mapping */
	struct source_mark host_mark;
	struct source_mark ports_mark; /* of `ports` or `port`, valid or not */
};

struct network_policy {
	char *key;  /* the map key */
	char *name; /* the key when not written */
	struct network_endpoint *endpoints;
	size_t n_endpoints;
	struct path_list binaries; /* executable paths (globs allowed) */
	struct source_mark mark;   /* the key */
};

struct network_middleware {
	char *key;
	char *name; /* the key when not written */
	char *middleware;
	int32_t order;
	json_t *config;		  /* free-form object; NULL when not written */
	char *on_error;		  /* fail_closed, fail_open; NULL when not written */
	bool has_endpoints;	  /* the endpoints selector was written */
	struct path_list include; /* host patterns */
	struct path_list exclude;
	struct source_mark mark; /* the key */
	struct source_mark order_mark;
};

void network_endpoint_free(struct network_endpoint *ep);
void network_policies_free(struct network_policy *np, size_t n);
void network_middlewares_free(struct network_middleware *mw, size_t n);
