/* `lockshell policy check|show`: loads policy files, prints every diagnostic
 * as FILE:LINE:COL, checks GPU conflicts, and writes the canonical form or the
 * effective policy (built exactly as `run` builds it) as YAML or JSON. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "host/host.h"
#include "policy/effective.h"
#include "policy/emit.h"
#include "policy/gpu.h"
#include "policy/loader.h"

enum { OPT_GPU = 0x100, OPT_EFFECTIVE, OPT_NETWORK, OPT_SHARE_TMP };

struct policy_options {
	enum output_format format;
	bool effective;			    /* --effective, implied by --gpu */
	struct effective_request request; /* what `run` would be asked */
	char *workdir;
};

static void usage_policy(FILE *out)
{
	fprintf(out, "Usage: lockshell policy COMMAND [ARG...]\n\n"
		     "Check and show OpenShell-schema sandbox policies.\n\n"
		     "Commands:\n"
		     "  check      validate policy files\n"
		     "  show       print a policy in canonical form\n\n"
		     "Run 'lockshell policy COMMAND --help' for a command's options.\n");
}

static void usage_check(FILE *out)
{
	fprintf(out, "Usage: lockshell policy check [--gpu[=SEL]] FILE...\n\n"
		     "Validate each FILE and print every error and warning as\n"
		     "FILE:LINE:COL: error: MESSAGE. Exit status: 0 when every file is valid\n"
		     "(warnings allowed), 1 when any is invalid, 2 on a usage error.\n\n"
		     "Options:\n"
		     "  --gpu[=SEL]  also check that no read_only path covers a GPU device node\n"
		     "               of this host (all GPUs, or indices 0,2); exit 1 if one does\n"
		     "  -h, --help   show this help\n");
}

static void usage_show(FILE *out)
{
	fprintf(out, "Usage: lockshell policy show [--format yaml|json] [--effective] [--gpu[=SEL]]\n"
		     "                             [-w DIR] [--network none|host] [FILE]\n\n"
		     "Print FILE, or without FILE the built-in default policy, in canonical\n"
		     "form: fixed key order, every default written out.\n\n"
		     "With --effective, print what `lockshell run` with the same options would\n"
		     "enforce on this host: the lists after every addition, where each added\n"
		     "entry came from (filesystem_policy.sources), runtime_additions with their\n"
		     "rights and reasons, the GPU selection, network mode, isolation and notes.\n\n"
		     "Options:\n"
		     "  --format FORMAT     yaml (default) or json\n"
		     "  --effective         the effective policy instead of the policy as written\n"
		     "  --gpu[=SEL]         a GPU sandbox (all GPUs, or indices 0,2); implies --effective\n"
		     "  -w, --workdir DIR   the working directory (default: the current one)\n"
		     "  --network MODE      none or host, as for `run`\n"
		     "  --share-tmp         the host's /tmp instead of a private one, as for `run`\n"
		     "  -h, --help          show this help\n");
}

/* Parses the options of check and show; the remaining arguments start at
 * optind. Returns -1 to go on, else an exit status. */
static int parse_options(int argc, char **argv, bool with_format, struct policy_options *o,
			 void (*usage)(FILE *))
{
	static const struct option options[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"gpu", optional_argument, NULL, OPT_GPU},
	    {"effective", no_argument, NULL, OPT_EFFECTIVE},
	    {"workdir", required_argument, NULL, 'w'},
	    {"network", required_argument, NULL, OPT_NETWORK},
	    {"share-tmp", no_argument, NULL, OPT_SHARE_TMP},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, with_format ? "hw:" : "h", options, NULL)) != -1) {
		if (!with_format && (c == OPT_EFFECTIVE || c == OPT_NETWORK || c == OPT_SHARE_TMP ||
				     c == 'w')) {
			cli_errorf("'check' takes only --gpu (see 'lockshell policy check --help')");
			return EXIT_USAGE;
		}
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case OPT_GPU:
			if (cli_gpu_parse(optarg, &o->request.gpu) < 0)
				return EXIT_USAGE;
			o->effective = true;
			break;
		case OPT_EFFECTIVE:
			o->effective = true;
			break;
		case 'w':
			free(o->workdir);
			o->workdir = NULL;
			if (cli_workdir_resolve(optarg, &o->workdir) < 0)
				return EXIT_USAGE;
			break;
		case OPT_NETWORK:
			o->request.network_set = true;
			if (cli_network_parse(optarg, &o->request.network) < 0)
				return EXIT_USAGE;
			break;
		case OPT_SHARE_TMP:
			o->request.share_tmp = true;
			break;
		case 'f':
			if (with_format && output_format_parse(optarg, &o->format) == 0)
				break;
			if (with_format)
				cli_errorf("unknown format '%s' (yaml or json)", optarg);
			else
				cli_errorf("'check' takes no --format");
			return EXIT_USAGE;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	return -1;
}

static void print_diagnostics(const struct diagnostics *d)
{
	char line[8192];

	for (size_t i = 0; i < d->len; i++) {
		diag_format(d, i, line, sizeof(line));
		fprintf(stderr, "%s\n", line);
	}
	if (d->n_dropped)
		fprintf(stderr, "%s: %zu more diagnostics not shown\n",
			d->file ? d->file : "<input>", d->n_dropped);
}

/* A GPU device node of this host that a read_only path of p covers is an
 * error: CUDA would fail inside with an opaque message. */
static int check_gpu_conflicts(const struct policy *p, const struct gpu_selection *gpu,
			       const struct host *host)
{
	struct error err = {0};

	if (!gpu->requested || gpu_conflicts_check(p, gpu, host, &err) == 0)
		return 0;
	fprintf(stderr, "%s\n", err.message);
	return -EINVAL;
}

/* 0 when path is a valid policy, 1 when it is not. */
static int check_one(const char *path, const struct gpu_selection *gpu, const struct host *host)
{
	struct diagnostics d = {0};
	struct policy p = {0};
	int r = policy_load_file(path, &p, &d);
	size_t warnings = diag_count(&d, DIAG_WARNING);

	print_diagnostics(&d);
	if (r >= 0 && check_gpu_conflicts(&p, gpu, host) < 0) {
		r = -EINVAL;
		d.n_errors++;
	}
	if (r == -ENOMEM)
		cli_errorf("%s: out of memory", path);
	if (r < 0)
		printf("%s: invalid (%zu error%s)\n", path, d.n_errors, d.n_errors == 1 ? "" : "s");
	else if (warnings)
		printf("%s: valid (%zu warning%s)\n", path, warnings, warnings == 1 ? "" : "s");
	else
		printf("%s: valid\n", path);
	policy_free(&p);
	diag_free(&d);
	return r < 0;
}

static int cmd_check(int argc, char **argv)
{
	struct policy_options o = {0};
	struct host host = {0};
	struct error err = {0};
	int r = parse_options(argc, argv, false, &o, usage_check);
	int status = 0;

	if (r >= 0)
		return r;
	if (optind >= argc) {
		cli_errorf("'policy check' needs at least one FILE");
		usage_check(stderr);
		return EXIT_USAGE;
	}
	if (o.request.gpu.requested && host_probe(&host, &err) < 0) {
		cli_error(&err);
		return 1;
	}
	for (int i = optind; i < argc; i++)
		status |= check_one(argv[i], &o.request.gpu, &host);
	host_free(&host);
	return status;
}

/* The effective policy, built from the same request `run` makes. */
static int effective_document(const struct policy *p, struct policy_options *o, json_t **ret)
{
	struct host host = {0};
	struct effective eff = {0};
	struct error err = {0};
	int r;

	if (!o->workdir && cli_workdir_resolve(NULL, &o->workdir) < 0)
		return -EINVAL;
	o->request.workdir = o->workdir;
	o->request.isolate = true;
	o->request.rootless = geteuid() != 0;
	o->request.hostname = CLI_RUN_HOSTNAME;
	r = host_probe(&host, &err);
	if (r >= 0)
		r = effective_build(p, &o->request, &host, &eff, &err);
	if (r >= 0) {
		*ret = effective_to_json(&eff);
		effective_free(&eff);
	}
	host_free(&host);
	if (r < 0)
		cli_error(&err);
	return r;
}

/* What show prints: the policy as written in canonical form, or the
 * effective policy. */
static int show_policy(const struct policy *p, struct policy_options *o)
{
	struct error err = {0};
	json_t *doc = NULL;
	int r;

	if (o->effective) {
		if (effective_document(p, o, &doc) < 0)
			return 1;
	} else {
		doc = policy_to_json(p);
	}
	if (!doc) {
		cli_errorf("out of memory");
		return 1;
	}
	r = o->effective ? effective_document_emit(doc, o->format, stdout, &err)
			 : document_emit(doc, o->format, stdout, &err);
	json_decref(doc);
	if (r < 0) {
		cli_error(&err);
		return 1;
	}
	return 0;
}

static int cmd_show(int argc, char **argv)
{
	struct policy_options o = {.format = FORMAT_YAML};
	struct diagnostics d = {0};
	struct policy p = {0};
	int r = parse_options(argc, argv, true, &o, usage_show);

	if (r >= 0)
		return r;
	if (argc - optind > 1) {
		cli_errorf("'policy show' takes at most one FILE");
		usage_show(stderr);
		return EXIT_USAGE;
	}
	r = optind < argc ? policy_load_file(argv[optind], &p, &d) : policy_load_default(&p, &d);
	print_diagnostics(&d);
	diag_free(&d);
	if (r < 0)
		return 1;
	r = show_policy(&p, &o);
	policy_free(&p);
	free(o.workdir);
	return r;
}

int cmd_policy(int argc, char **argv)
{
	if (argc < 2) {
		usage_policy(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage_policy(stdout);
		return 0;
	}
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return cmd_show(argc - 1, argv + 1);
	cli_errorf("unknown policy command '%s'", argv[1]);
	usage_policy(stderr);
	return EXIT_USAGE;
}
