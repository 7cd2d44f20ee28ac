/* `lockshell run [OPTIONS] [--] CMD [ARG...]`: parses the options, loads the
 * policy, probes the host, builds the effective policy and hands it to the
 * supervisor, which runs CMD in a new isolated sandbox; exits with the
 * workload's code, or 125 with one message. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/strv.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "host/host.h"
#include "policy/effective.h"
#include "policy/gpu.h"
#include "supervisor/supervisor.h"


struct run_options {
	const char *policy_file; /* NULL: the built-in default */
	char *workdir;		 /* absolute */
	double timeout_s;
	double kill_after_s;
	struct strv env;
	enum log_level level;
	int log_fd;
	struct gpu_selection gpu;
	bool withhold_procfs;
	bool network_set;
	enum network_mode network;
	bool share_tmp;
	char **argv;
};

enum {
	OPT_KILL_AFTER = 0x100,
	OPT_LOG_LEVEL,
	OPT_LOG_FILE,
	OPT_GPU,
	OPT_WITHHOLD_PROCFS,
	OPT_NETWORK,
	OPT_SHARE_TMP,
};

static const struct option run_long_options[] = {
    {"policy", required_argument, NULL, 'p'},
    {"workdir", required_argument, NULL, 'w'},
    {"timeout", required_argument, NULL, 't'},
    {"kill-after", required_argument, NULL, OPT_KILL_AFTER},
    {"env", required_argument, NULL, 'e'},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"log-file", required_argument, NULL, OPT_LOG_FILE},
    {"gpu", optional_argument, NULL, OPT_GPU},
    {"diagnostic-withhold-procfs-write", no_argument, NULL, OPT_WITHHOLD_PROCFS},
    {"network", required_argument, NULL, OPT_NETWORK},
    {"share-tmp", no_argument, NULL, OPT_SHARE_TMP},
    {"help", no_argument, NULL, 'h'},
    {0},
};

static void run_usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: lockshell run [OPTIONS] [--] CMD [ARG...]\n\n"
	    "Run CMD under a policy in a new sandbox: its own PID, mount, IPC, UTS and\n"
	    "network namespaces (and user namespace when not run as root), a private /proc,\n"
	    "/dev and /tmp, then Landlock, seccomp, a privilege drop, supervision.\n"
	    "Exits with CMD's code, 128+N if signal N killed it, 124 on timeout, 125 when\n"
	    "lockshell failed, 126 when CMD cannot be executed, 127 when it is not found.\n\n"
	    "Options:\n"
	    "  -p, --policy FILE       policy file (default: the built-in default policy)\n"
	    "  -w, --workdir DIR       working directory of CMD (default: the current one)\n"
	    "  -t, --timeout SECONDS   SIGTERM the workload after SECONDS, then exit 124\n"
	    "      --kill-after SECONDS  SIGKILL this long after the timeout's SIGTERM (default "
	    "5)\n"
	    "  -e, --env NAME=VALUE    set a variable in CMD's environment (repeatable)\n"
	    "      --log-level LEVEL   debug, info, warning (default), error\n"
	    "      --log-file FILE     append every event to FILE as JSON lines\n"
	    "      --gpu[=SEL]         a GPU sandbox: all GPUs, or SEL = indices \"0,2\"\n"
	    "      --network MODE      none: a network namespace with loopback only; host:\n"
	    "                          the host's network. Default: none, or host when the\n"
	    "                          policy has network_policies\n"
	    "      --share-tmp         use the host's /tmp instead of a private one (the\n"
	    "                          workdir and policy paths under /tmp are always visible)\n"
	    "      --diagnostic-withhold-procfs-write\n"
	    "                          diagnostic only: a GPU sandbox without the /proc write\n"
	    "                          addition, to reproduce CUDA error 304; not for real use\n"
	    "  -h, --help              show this help\n");
}

/* The stderr threshold main() set from the global --log-level. */
static enum log_level log_threshold_current(void)
{
	for (enum log_level l = LOG_DEBUG; l < LOG_ERROR; l++)
		if (log_enabled(l))
			return l;
	return LOG_ERROR;
}

static int log_file_open(const char *path, int *ret_fd)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);

	if (fd < 0) {
		cli_errorf("log file %s: %s", path, strerror(errno));
		return -errno;
	}
	*ret_fd = fd;
	return 0;
}

static int option_apply(struct run_options *o, int c, const char *arg)
{
	switch (c) {
	case 'p':
		o->policy_file = arg;
		return 0;
	case 'w':
		free(o->workdir);
		o->workdir = NULL;
		return cli_workdir_resolve(arg, &o->workdir);
	case 't':
		return cli_seconds_parse("--timeout", arg, &o->timeout_s);
	case OPT_KILL_AFTER:
		return cli_seconds_parse("--kill-after", arg, &o->kill_after_s);
	case 'e':
		if (cli_env_assignment_check("--env", arg) < 0)
			return -EINVAL;
		return strv_push(&o->env, arg);
	case OPT_LOG_LEVEL:
		if (log_level_parse(arg, &o->level) == 0)
			return 0;
		cli_errorf("invalid --log-level '%s' (debug, info, warning, error)", arg);
		return -EINVAL;
	case OPT_LOG_FILE:
		closep(&o->log_fd);
		return log_file_open(arg, &o->log_fd);
	case OPT_GPU:
		return cli_gpu_parse(arg, &o->gpu);
	case OPT_WITHHOLD_PROCFS:
		o->withhold_procfs = true;
		return 0;
	case OPT_NETWORK:
		o->network_set = true;
		return cli_network_parse(arg, &o->network);
	case OPT_SHARE_TMP:
		o->share_tmp = true;
		return 0;
	}
	return -EINVAL;
}

/* 0 to run, 1 after --help, negative (message printed) on a usage error. */
static int options_parse(int argc, char **argv, struct run_options *o)
{
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+p:w:t:e:h", run_long_options, NULL)) != -1) {
		if (c == 'h') {
			run_usage(stdout);
			return 1;
		}
		if (c == '?' || c == ':') {
			cli_errorf("invalid option or missing argument: '%s' (see 'lockshell run "
				   "--help')",
				   argv[optind - 1]);
			return -EINVAL;
		}
		if (option_apply(o, c, optarg) < 0)
			return -EINVAL;
	}
	if (optind >= argc) {
		cli_errorf("no command given (usage: lockshell run [OPTIONS] [--] CMD [ARG...])");
		return -EINVAL;
	}
	if (o->withhold_procfs && !o->gpu.requested) {
		cli_errorf(
		    "--diagnostic-withhold-procfs-write applies to GPU sandboxes: add --gpu");
		return -EINVAL;
	}
	o->argv = argv + optind;
	return o->workdir ? 0 : cli_workdir_resolve(NULL, &o->workdir);
}

/* Everything up to a running workload; the policy, host facts and effective
 * policy are freed before the wait. */
static int run_start(struct run_options *o, struct supervisor *ret)
{
	struct policy policy = {0};
	struct host host = {0};
	struct effective eff = {0};
	struct effective_request req = {
	    .workdir = o->workdir,
	    .gpu = o->gpu,
	    .withhold_procfs_addition = o->withhold_procfs,
	    .network_set = o->network_set,
	    .network = o->network,
	    .isolate = true,
	    .rootless = geteuid() != 0,
	    .share_tmp = o->share_tmp,
	    .hostname = CLI_RUN_HOSTNAME,
	};
	struct error err = {0};
	int r;

	if (cli_policy_load(o->policy_file, &policy) < 0)
		return EXIT_LOCKSHELL_FAILED;
	r = o->gpu.requested ? host_probe(&host, &err) : host_probe_launch(req.rootless, &host, &err);
	if (r >= 0)
		r = effective_build(&policy, &req, &host, &eff, &err);
	if (r >= 0) {
		struct launch l = {.eff = &eff,
				   .host = &host,
				   .argv = o->argv,
				   .env_extra = o->env.items,
				   .workdir = o->workdir,
				   .timeout_s = o->timeout_s,
				   .kill_after_s = o->kill_after_s,
				   .isolate = true};
		r = supervisor_start(&l, ret, &err);
		effective_free(&eff);
	}
	host_free(&host);
	policy_free(&policy);
	if (r != 0)
		cli_error(&err);
	return r < 0 ? EXIT_LOCKSHELL_FAILED : r;
}

int cmd_run(int argc, char **argv)
{
	struct run_options o = {.kill_after_s = LAUNCH_DEFAULT_KILL_AFTER_S,
				.level = log_threshold_current(),
				.log_fd = -1};
	struct supervisor sup;
	bool started = false;
	int r;

	r = options_parse(argc, argv, &o);
	if (r == 0) {
		log_setup(o.level, o.log_fd);
		r = run_start(&o, &sup);
		started = r == 0;
	} else {
		r = r > 0 ? 0 : EXIT_LOCKSHELL_FAILED;
	}
	strv_clear(&o.env);
	free(o.workdir);
	if (started)
		r = supervisor_wait(&sup);
	closep(&o.log_fd);
	return r;
}
