/* `lockshell sandbox create|exec|list|get|delete`: named sandboxes. Parses
 * each command's options, opens the state directory, calls src/sandbox/ and
 * prints the results; create and exec exit like `run`. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/strv.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "policy/emit.h"
#include "policy/gpu.h"
#include "sandbox/sandbox.h"

enum {
	OPT_NAME = 0x100,
	OPT_GPU,
	OPT_NETWORK,
	OPT_SHARE_TMP,
	OPT_NO_KEEP,
	OPT_KILL_AFTER,
	OPT_JSON,
	OPT_POLICY_ONLY,
};

struct create_options {
	const char *name;
	const char *policy_file;
	char *workdir;
	struct strv env;
	struct effective_request request;
	bool detach;
	bool keep;
	char **argv; /* NULL: none given */
};

struct exec_options {
	const char *name;
	const char *workdir;
	struct strv env;
	double timeout_s;
	double kill_after_s;
	bool tty;
	char **argv;
};

static void usage_sandbox(FILE *out)
{
	fprintf(out, "Usage: lockshell sandbox COMMAND [ARG...]\n\n"
		     "Named sandboxes that commands can enter later.\n\n"
		     "Commands:\n"
		     "  create     start a sandbox (in the foreground, or detached)\n"
		     "  exec       run a command inside a running sandbox\n"
		     "  list       list sandboxes\n"
		     "  get        show a sandbox and its effective policy\n"
		     "  delete     end sandboxes and remove their state\n\n"
		     "Run 'lockshell sandbox COMMAND --help' for a command's options.\n");
}

static void usage_create(FILE *out)
{
	fprintf(out,
		"Usage: lockshell sandbox create [OPTIONS] [--] [CMD [ARG...]]\n\n"
		"Start a sandbox whose main process is CMD. In the foreground (the default)\n"
		"it exits like 'lockshell run'; with --detach it returns once the sandbox\n"
		"runs and prints its name. Without CMD, --detach starts an idle sandbox.\n\n"
		"Options:\n"
		"      --name NAME         the sandbox's name (default: generated)\n"
		"  -p, --policy FILE       policy file (default: the built-in default policy)\n"
		"      --gpu[=SEL]         a GPU sandbox: all GPUs, or SEL = indices \"0,2\"\n"
		"      --network MODE      none (loopback only) or host; default: none unless\n"
		"                          the policy has network_policies\n"
		"      --share-tmp         use the host's /tmp instead of a private one\n"
		"  -d, --detach            run in the background under a daemon\n"
		"      --no-keep           remove the sandbox when its main process ends\n"
		"  -w, --workdir DIR       working directory of CMD (default: the current one)\n"
		"  -e, --env NAME=VALUE    set a variable in CMD's environment (repeatable)\n"
		"  -h, --help              show this help\n");
}

static void usage_exec(FILE *out)
{
	fprintf(out,
		"Usage: lockshell sandbox exec NAME [OPTIONS] -- CMD [ARG...]\n\n"
		"Run CMD inside the running sandbox NAME, under the effective policy it was\n"
		"created with. Exits with CMD's code, 128+N if signal N killed it, 124 on\n"
		"timeout, 125 when lockshell failed (for example NAME is not running), 126\n"
		"when CMD cannot be executed, 127 when it is not found.\n\n"
		"Options:\n"
		"  -t, --tty               CMD uses this terminal (stdin must be one)\n"
		"  -e, --env NAME=VALUE    set a variable in CMD's environment (repeatable)\n"
		"  -w, --workdir DIR       working directory inside the sandbox (default: the\n"
		"                          sandbox's)\n"
		"      --timeout SECONDS   SIGTERM CMD after SECONDS, then exit 124\n"
		"      --kill-after SECONDS  SIGKILL this long after the timeout's SIGTERM "
		"(default 5)\n"
		"  -h, --help              show this help\n");
}

static void usage_list(FILE *out)
{
	fprintf(out, "Usage: lockshell sandbox list [--json]\n\n"
		     "List sandboxes: name, state (running, stopped, exited), main pid, created\n"
		     "time, GPU selection and network mode.\n");
}

static void usage_get(FILE *out)
{
	fprintf(out, "Usage: lockshell sandbox get NAME [--policy-only] [--json]\n\n"
		     "Show a sandbox: state, main pid, created time, GPU selection, network\n"
		     "mode and the effective policy with its runtime additions (YAML, or JSON\n"
		     "with --json). --policy-only prints only the effective policy.\n");
}

static void usage_delete(FILE *out)
{
	fprintf(out,
		"Usage: lockshell sandbox delete NAME...\n\n"
		"End each sandbox (SIGTERM, %gs grace, SIGKILL) and remove its state.\n"
		"A stopped or exited sandbox is only cleaned.\n",
		SANDBOX_DELETE_GRACE_S);
}

static int state_dir(int *ret_fd)
{
	_cleanup_free_ char *path = NULL;
	struct error err = {0};

	if (state_dir_open(&path, ret_fd, &err) < 0) {
		cli_error(&err);
		return -1;
	}
	return 0;
}

/* --- create ------------------------------------------------------------- */

static const struct option create_long_options[] = {
    {"name", required_argument, NULL, OPT_NAME},
    {"policy", required_argument, NULL, 'p'},
    {"gpu", optional_argument, NULL, OPT_GPU},
    {"network", required_argument, NULL, OPT_NETWORK},
    {"share-tmp", no_argument, NULL, OPT_SHARE_TMP},
    {"detach", no_argument, NULL, 'd'},
    {"no-keep", no_argument, NULL, OPT_NO_KEEP},
    {"workdir", required_argument, NULL, 'w'},
    {"env", required_argument, NULL, 'e'},
    {"help", no_argument, NULL, 'h'},
    {0},
};

static int create_option(struct create_options *o, int c, const char *arg)
{
	switch (c) {
	case OPT_NAME:
		o->name = arg;
		return 0;
	case 'p':
		o->policy_file = arg;
		return 0;
	case OPT_GPU:
		return cli_gpu_parse(arg, &o->request.gpu);
	case OPT_NETWORK:
		o->request.network_set = true;
		return cli_network_parse(arg, &o->request.network);
	case OPT_SHARE_TMP:
		o->request.share_tmp = true;
		return 0;
	case 'd':
		o->detach = true;
		return 0;
	case OPT_NO_KEEP:
		o->keep = false;
		return 0;
	case 'w':
		free(o->workdir);
		o->workdir = NULL;
		return cli_workdir_resolve(arg, &o->workdir);
	case 'e':
		if (cli_env_assignment_check("--env", arg) < 0)
			return -EINVAL;
		return strv_push(&o->env, arg);
	}
	return -EINVAL;
}

static int create_check(struct create_options *o)
{
	struct error err = {0};

	if (o->name && sandbox_name_check(o->name, &err) < 0) {
		cli_error(&err);
		return -EINVAL;
	}
	if (!o->argv && !o->detach) {
		cli_errorf("no command given: a sandbox in the foreground needs CMD (or use "
			   "--detach for an idle sandbox)");
		return -EINVAL;
	}
	return o->workdir ? 0 : cli_workdir_resolve(NULL, &o->workdir);
}

/* 0 to create, 1 after --help, negative (message printed) on a usage error. */
static int create_parse(int argc, char **argv, struct create_options *o)
{
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+p:dw:e:h", create_long_options, NULL)) != -1) {
		if (c == 'h') {
			usage_create(stdout);
			return 1;
		}
		if (c == '?' || c == ':') {
			cli_errorf(
			    "invalid option or missing argument: '%s' (see 'lockshell sandbox "
			    "create --help')",
			    argv[optind - 1]);
			return -EINVAL;
		}
		if (create_option(o, c, optarg) < 0)
			return -EINVAL;
	}
	o->argv = optind < argc ? argv + optind : NULL;
	return create_check(o);
}

static int create_run(struct create_options *o, const struct policy *policy,
		      const struct host *host)
{
	struct sandbox_spec spec = {
	    .name = o->name,
	    .policy = policy,
	    .request = o->request,
	    .host = host,
	    .argv = o->argv,
	    .env_extra = o->env.items,
	    .workdir = o->workdir,
	    .keep = o->keep,
	};
	char name[SANDBOX_NAME_MAX + 1];
	struct sandbox_session session;
	struct error err = {0};
	int state_fd = -1;
	int r;

	if (state_dir(&state_fd) < 0)
		return EXIT_LOCKSHELL_FAILED;
	r = o->detach ? sandbox_create_detached(state_fd, &spec, name, &err)
		      : sandbox_create_foreground(state_fd, &spec, &session, &err);
	if (r != 0)
		cli_error(&err);
	else if (o->detach)
		printf("%s\n", name);
	else
		r = sandbox_session_wait(&session);
	close(state_fd);
	return r < 0 ? EXIT_LOCKSHELL_FAILED : r;
}

static int cmd_create(int argc, char **argv)
{
	struct create_options o = {.keep = true};
	struct policy policy = {0};
	struct host host = {0};
	struct error err = {0};
	int r;

	o.request.isolate = true;
	o.request.rootless = geteuid() != 0;
	r = create_parse(argc, argv, &o);
	if (r == 0 && cli_policy_load(o.policy_file, &policy) < 0)
		r = -EINVAL;
	if (r == 0 && host_probe(&host, &err) < 0) {
		cli_error(&err);
		r = -EIO;
	}
	if (r == 0)
		r = create_run(&o, &policy, &host);
	else
		r = r > 0 ? 0 : EXIT_LOCKSHELL_FAILED;
	host_free(&host);
	policy_free(&policy);
	strv_clear(&o.env);
	free(o.workdir);
	return r;
}

/* --- exec ----------------------------------------------------------------- */

static const struct option exec_long_options[] = {
    {"tty", no_argument, NULL, 't'},
    {"env", required_argument, NULL, 'e'},
    {"workdir", required_argument, NULL, 'w'},
    {"timeout", required_argument, NULL, 'T'},
    {"kill-after", required_argument, NULL, OPT_KILL_AFTER},
    {"help", no_argument, NULL, 'h'},
    {0},
};

static int exec_option(struct exec_options *o, int c, const char *arg)
{
	switch (c) {
	case 't':
		o->tty = true;
		return 0;
	case 'e':
		if (cli_env_assignment_check("--env", arg) < 0)
			return -EINVAL;
		return strv_push(&o->env, arg);
	case 'w':
		if (arg[0] != '/') {
			cli_errorf("--workdir '%s': a path inside the sandbox must be absolute",
				   arg);
			return -EINVAL;
		}
		o->workdir = arg;
		return 0;
	case 'T':
		return cli_seconds_parse("--timeout", arg, &o->timeout_s);
	case OPT_KILL_AFTER:
		return cli_seconds_parse("--kill-after", arg, &o->kill_after_s);
	}
	return -EINVAL;
}

static int exec_check(struct exec_options *o, int argc, char **argv)
{
	if (!o->name) {
		cli_errorf(
		    "no sandbox named (usage: lockshell sandbox exec NAME [OPTIONS] -- CMD)");
		return -EINVAL;
	}
	if (optind >= argc) {
		cli_errorf(
		    "no command given (usage: lockshell sandbox exec NAME [OPTIONS] -- CMD)");
		return -EINVAL;
	}
	if (o->tty && !isatty(STDIN_FILENO)) {
		cli_errorf("--tty: stdin is not a terminal");
		return -EINVAL;
	}
	o->argv = argv + optind;
	return 0;
}

/* NAME may come before or among the options; CMD follows "--" or the first
 * other non-option. 0 to exec, 1 after --help, negative on a usage error. */
static int exec_parse(int argc, char **argv, struct exec_options *o)
{
	int c;

	opterr = 0;
	for (;;) {
		c = getopt_long(argc, argv, "+te:w:h", exec_long_options, NULL);
		if (c == -1 && !o->name && optind < argc && strcmp(argv[optind - 1], "--") != 0) {
			o->name = argv[optind++];
			continue;
		}
		if (c == -1)
			break;
		if (c == 'h') {
			usage_exec(stdout);
			return 1;
		}
		if (c == '?' || c == ':') {
			cli_errorf(
			    "invalid option or missing argument: '%s' (see 'lockshell sandbox "
			    "exec --help')",
			    argv[optind - 1]);
			return -EINVAL;
		}
		if (exec_option(o, c, optarg) < 0)
			return -EINVAL;
	}
	return exec_check(o, argc, argv);
}

static int exec_run(const struct exec_options *o)
{
	struct sandbox_exec_spec x = {
	    .name = o->name,
	    .argv = o->argv,
	    .env_extra = o->env.items,
	    .workdir = o->workdir,
	    .timeout_s = o->timeout_s,
	    .kill_after_s = o->kill_after_s,
	};
	struct supervisor sup;
	struct error err = {0};
	int state_fd = -1;
	int r;

	if (state_dir(&state_fd) < 0)
		return EXIT_LOCKSHELL_FAILED;
	r = sandbox_exec_start(state_fd, &x, &sup, &err);
	close(state_fd);
	if (r != 0) {
		cli_error(&err);
		return r < 0 ? EXIT_LOCKSHELL_FAILED : r;
	}
	return supervisor_wait(&sup);
}

static int cmd_exec(int argc, char **argv)
{
	struct exec_options o = {.kill_after_s = LAUNCH_DEFAULT_KILL_AFTER_S};
	int r = exec_parse(argc, argv, &o);

	if (r == 0)
		r = exec_run(&o);
	else
		r = r > 0 ? 0 : EXIT_LOCKSHELL_FAILED;
	strv_clear(&o.env);
	return r;
}

/* --- list, get, delete --------------------------------------------------------- */

/* Parses --json and --policy-only (where allowed); the operands start at
 * optind. -1 to go on, else an exit status. */
static int inspect_parse(int argc, char **argv, bool *json, bool *policy_only,
			 void (*usage)(FILE *))
{
	static const struct option options[] = {
	    {"json", no_argument, NULL, OPT_JSON},
	    {"policy-only", no_argument, NULL, OPT_POLICY_ONLY},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == OPT_JSON && json) {
			*json = true;
			continue;
		}
		if (c == OPT_POLICY_ONLY && policy_only) {
			*policy_only = true;
			continue;
		}
		cli_errorf("invalid option '%s'", argv[optind - 1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	return -1;
}

static const char *text_of(const json_t *v)
{
	const char *s = json_string_value(v);

	return s ? s : "-";
}

static void list_print_table(const json_t *list)
{
	printf("%-24s %-9s %-8s %-21s %-6s %s\n", "NAME", "STATE", "PID", "CREATED", "GPU",
	       "NETWORK");
	for (size_t i = 0; i < json_array_size(list); i++) {
		const json_t *s = json_array_get(list, i);
		const json_t *pid = json_object_get(s, "main_pid");
		char pid_text[16] = "-";

		if (json_is_integer(pid))
			snprintf(pid_text, sizeof(pid_text), "%lld",
				 (long long)json_integer_value(pid));
		printf("%-24s %-9s %-8s %-21s %-6s %s\n", text_of(json_object_get(s, "name")),
		       text_of(json_object_get(s, "state")), pid_text,
		       text_of(json_object_get(s, "created")), text_of(json_object_get(s, "gpu")),
		       text_of(json_object_get(s, "network")));
	}
}

static int emit(const json_t *doc, enum output_format format)
{
	struct error err = {0};

	if (document_emit(doc, format, stdout, &err) < 0) {
		cli_error(&err);
		return 1;
	}
	return 0;
}

static int cmd_list(int argc, char **argv)
{
	struct error err = {0};
	json_t *list = NULL;
	bool json = false;
	int state_fd = -1;
	int r = inspect_parse(argc, argv, &json, NULL, usage_list);

	if (r >= 0)
		return r;
	if (optind < argc) {
		cli_errorf("'sandbox list' takes no operands");
		return EXIT_USAGE;
	}
	if (state_dir(&state_fd) < 0)
		return 1;
	r = sandbox_list(state_fd, &list, &err);
	close(state_fd);
	if (r < 0) {
		cli_error(&err);
		return 1;
	}
	r = 0;
	if (json)
		r = emit(list, FORMAT_JSON);
	else
		list_print_table(list);
	json_decref(list);
	return r;
}

static int cmd_get(int argc, char **argv)
{
	struct error err = {0};
	bool json = false, policy_only = false;
	json_t *doc = NULL;
	int state_fd = -1;
	int r = inspect_parse(argc, argv, &json, &policy_only, usage_get);

	if (r >= 0)
		return r;
	if (argc - optind != 1) {
		cli_errorf("'sandbox get' takes one NAME");
		return EXIT_USAGE;
	}
	if (state_dir(&state_fd) < 0)
		return 1;
	r = sandbox_get(state_fd, argv[optind], &doc, &err);
	close(state_fd);
	if (r < 0) {
		cli_error(&err);
		return 1;
	}
	r = emit(policy_only ? json_object_get(doc, "effective_policy") : doc,
		 json ? FORMAT_JSON : FORMAT_YAML);
	json_decref(doc);
	return r;
}

static int cmd_delete(int argc, char **argv)
{
	int state_fd = -1;
	int status = 0;
	int r = inspect_parse(argc, argv, NULL, NULL, usage_delete);

	if (r >= 0)
		return r;
	if (optind >= argc) {
		cli_errorf("'sandbox delete' needs at least one NAME");
		return EXIT_USAGE;
	}
	if (state_dir(&state_fd) < 0)
		return 1;
	for (int i = optind; i < argc; i++) {
		struct error err = {0};

		if (sandbox_delete(state_fd, argv[i], SANDBOX_DELETE_GRACE_S, &err) < 0) {
			cli_error(&err);
			status = 1;
		}
	}
	close(state_fd);
	return status;
}

int cmd_sandbox(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*main)(int argc, char **argv);
	} commands[] = {
	    {"create", cmd_create}, {"exec", cmd_exec},	    {"list", cmd_list},
	    {"get", cmd_get},	    {"delete", cmd_delete},
	};

	if (argc < 2) {
		usage_sandbox(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage_sandbox(stdout);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0) {
			optind = 0;
			return commands[i].main(argc - 1, argv + 1);
		}
	cli_errorf("unknown sandbox command '%s'", argv[1]);
	usage_sandbox(stderr);
	return EXIT_USAGE;
}
