/* lockshell's entry point: global options and dispatch to one command file
 * per command. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cli/cli.h"
#include "policy/policy.h"

struct command {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"run", cmd_run, "run a command under a policy"},
	{"policy", cmd_policy, "check and show policies (check, show)"},
	{"probe", cmd_probe, "show what this host's kernel offers a sandbox"},
	{"sandbox", cmd_sandbox, "named sandboxes (create, exec, list, get, delete)"},
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: lockshell [--log-level LEVEL] COMMAND [ARG...]\n\n"
		     "Run a command in a sandbox described by an OpenShell-schema YAML policy.\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nOptions:\n"
		     "  --log-level LEVEL  debug, info, warning (default), error\n"
		     "  -h, --help         show this help\n"
		     "  -V, --version      show the version\n\n"
		     "Run 'lockshell COMMAND --help' for a command's options.\n");
}

void cli_error(const struct error *err)
{
	fprintf(stderr, "lockshell: error: %s\n", err->message);
}

void cli_errorf(const char *fmt, ...)
{
	va_list ap;

	fputs("lockshell: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int main(int argc, char **argv)
{
	enum log_level level = LOG_WARNING;
	int i;

	policy_json_seed();
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *arg = argv[i];
		const char *value = NULL;

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0) {
			printf("lockshell %s\n", LOCKSHELL_VERSION);
			return 0;
		}
		if (strncmp(arg, "--log-level=", 12) == 0)
			value = arg + 12;
		else if (strcmp(arg, "--log-level") == 0 && i + 1 < argc)
			value = argv[++i];
		if (!value) {
			cli_errorf("unknown option '%s'", arg);
			usage(stderr);
			return EXIT_USAGE;
		}
		if (log_level_parse(value, &level) < 0) {
			cli_errorf("invalid log level '%s' (debug, info, warning, error)", value);
			return EXIT_USAGE;
		}
	}
	log_setup(level, -1);
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (strcmp(argv[i], commands[c].name) == 0) {
			optind = 0;
			return commands[c].main(argc - i, argv + i);
		}
	cli_errorf("unknown command '%s'", argv[i]);
	usage(stderr);
	return EXIT_USAGE;
}
