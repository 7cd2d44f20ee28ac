/* `lockshell probe [--json]`: what this host's kernel offers a sandbox
 * (kernel, Landlock, seccomp, user namespaces, no_new_privs, GPU nodes), as
 * aligned `key: value` lines or as JSON. */
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "host/host.h"

#define KEY_WIDTH 18

static void probe_usage(FILE *out)
{
	fprintf(out, "Usage: lockshell probe [--json]\n\n"
		     "Show what this host offers a sandbox: kernel release, Landlock ABI and\n"
		     "availability (with the reason and what to do when it is unavailable),\n"
		     "seccomp, unprivileged user namespaces, no_new_privs, and the GPU device\n"
		     "nodes present.\n\n"
		     "Options:\n"
		     "  --json      print one JSON object\n"
		     "  -h, --help  show this help\n");
}

static void line(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line(const char *key, const char *fmt, ...)
{
	va_list ap;

	printf("%s:%*s", key, (int)(KEY_WIDTH - strlen(key)), "");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static const char *yes_no(bool v, const char *yes, const char *no)
{
	return v ? yes : no;
}

static void print_landlock(const struct host *h)
{
	if (h->landlock_status == LANDLOCK_AVAILABLE) {
		line("landlock", "available, ABI %d", h->landlock_abi);
	} else {
		line("landlock", "unavailable: %s", landlock_status_name(h->landlock_status));
		line("landlock error", "landlock_create_ruleset: %s", strerror(h->landlock_errno));
		line("landlock advice", "%s", landlock_status_advice(h->landlock_status));
	}
	line("lsm", "%s", h->lsm[0] ? h->lsm : "unknown (/sys/kernel/security/lsm unreadable)");
}

static void print_gpus(const struct host *h)
{
	char key[32];

	line("gpu", "%s",
	     yes_no(h->gpu_present, "present", "absent (neither /dev/nvidiactl nor /dev/dxg)"));
	for (size_t i = 0; i < h->n_gpus; i++) {
		snprintf(key, sizeof(key), "gpu %u", h->gpus[i].index);
		line(key, "/dev/nvidia%u, PCI %s", h->gpus[i].index,
		     h->gpus[i].pci_bdf[0] ? h->gpus[i].pci_bdf : "unknown");
	}
	if (!h->gpu_present && h->n_gpus == 0)
		return;
	for (size_t i = 0; i < h->present_paths.len; i++)
		line("gpu baseline", "%s", h->present_paths.items[i]);
}

static void print_human(const struct host *h)
{
	static const char *const seccomp_modes[] = {"none", "strict", "filter"};
	const char *mode = h->seccomp_mode >= 0 && h->seccomp_mode <= 2
			       ? seccomp_modes[h->seccomp_mode]
			       : "unknown";

	line("kernel", "%s", h->kernel_release);
	print_landlock(h);
	line("seccomp", "%s", yes_no(h->seccomp_available, "available", "unavailable"));
	line("seccomp in use", "%s", mode);
	line("user namespaces", "%s",
	     yes_no(h->user_namespaces, "available to unprivileged users",
		    "unavailable to unprivileged users"));
	line("no_new_privs", "%s", yes_no(h->no_new_privs, "set", "not set"));
	print_gpus(h);
}

static const char *landlock_status_id(enum landlock_status s)
{
	static const char *const ids[] = {
	    [LANDLOCK_AVAILABLE] = "available",
	    [LANDLOCK_NOT_BUILT] = "not_built",
	    [LANDLOCK_NOT_ENABLED] = "not_enabled",
	    [LANDLOCK_BLOCKED] = "blocked",
	    [LANDLOCK_OTHER] = "other",
	};

	return (size_t)s < sizeof(ids) / sizeof(ids[0]) ? ids[s] : "other";
}

static json_t *landlock_json(const struct host *h)
{
	bool ok = h->landlock_status == LANDLOCK_AVAILABLE;

	return json_pack("{s:b, s:i, s:s, s:s, s:s?, s:s?, s:s?}", "available", ok, "abi",
			 h->landlock_abi, "status", landlock_status_id(h->landlock_status),
			 "reason", landlock_status_name(h->landlock_status), "error",
			 ok ? NULL : strerror(h->landlock_errno), "advice",
			 ok ? NULL : landlock_status_advice(h->landlock_status), "lsm",
			 h->lsm[0] ? h->lsm : NULL);
}

static json_t *gpu_json(const struct host *h)
{
	json_t *gpus = json_array(), *paths = json_array();
	char node[32];

	for (size_t i = 0; gpus && i < h->n_gpus; i++) {
		snprintf(node, sizeof(node), "/dev/nvidia%u", h->gpus[i].index);
		json_array_append_new(gpus,
				      json_pack("{s:i, s:s, s:s?}", "index", (int)h->gpus[i].index,
						"device", node, "pci_bdf",
						h->gpus[i].pci_bdf[0] ? h->gpus[i].pci_bdf : NULL));
	}
	for (size_t i = 0; paths && i < h->present_paths.len; i++)
		json_array_append_new(paths, json_string(h->present_paths.items[i]));
	return json_pack("{s:b, s:o*, s:o*}", "present", h->gpu_present, "gpus", gpus,
			 "baseline_paths", paths);
}

static int print_json(const struct host *h)
{
	json_t *root;
	int r;

	root = json_pack("{s:s, s:o*, s:{s:b, s:i}, s:b, s:b, s:o*}", "kernel", h->kernel_release,
			 "landlock", landlock_json(h), "seccomp", "available", h->seccomp_available,
			 "mode", h->seccomp_mode, "user_namespaces", h->user_namespaces,
			 "no_new_privs", h->no_new_privs, "gpu", gpu_json(h));
	if (!root) {
		cli_errorf("probe: out of memory building the JSON output");
		return 1;
	}
	r = json_dumpf(root, stdout, JSON_INDENT(2));
	json_decref(root);
	putchar('\n');
	return r < 0 ? 1 : 0;
}

int cmd_probe(int argc, char **argv)
{
	static const struct option options[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct host host;
	struct error err = {0};
	bool json = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		if (c == 'j') {
			json = true;
		} else if (c == 'h') {
			probe_usage(stdout);
			return 0;
		} else {
			probe_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_errorf("probe: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (host_probe(&host, &err) < 0) {
		cli_error(&err);
		return 1;
	}
	r = json ? print_json(&host) : (print_human(&host), 0);
	host_free(&host);
	return r;
}
