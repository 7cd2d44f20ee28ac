/* libFuzzer target for the command line's value parsers: seconds
 * (--timeout), NAME=VALUE (--env), --network, --gpu, --log-level and sandbox
 * names. Each accepts exactly what its rule says and prints an error for
 * everything else. The CLI's error printer is replaced here by a recorder. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "sandbox/state.h"

#define ARG_MAX_LEN 4096

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static bool error_printed;

void cli_error(const struct error *err)
{
	error_printed = err->message[0] != '\0';
}

void cli_errorf(const char *fmt, ...)
{
	char message[ERROR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	error_printed = message[0] != '\0';
}

static void fail(const char *what, const char *arg)
{
	fprintf(stderr, "%s: '%s'\n", what, arg);
	abort();
}

/* A refusal prints an error; an acceptance prints nothing. */
static void check_printed(int r, const char *what, const char *arg)
{
	if ((r < 0) != error_printed)
		fail(what, arg);
	error_printed = false;
}

static bool is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* NAME=VALUE with NAME of letters, digits and '_', not starting with a digit. */
static bool env_assignment_expected(const char *s)
{
	const char *p = s;

	while (is_letter(*p) || is_digit(*p) || *p == '_')
		p++;
	return p > s && *p == '=' && !is_digit(*s);
}

/* [A-Za-z0-9][A-Za-z0-9_.-]{0,62} */
static bool sandbox_name_expected(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > SANDBOX_NAME_MAX || !(is_letter(*s) || is_digit(*s)))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!is_letter(s[i]) && !is_digit(s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

static void check_seconds(const char *arg)
{
	double v = -1;
	int r = cli_seconds_parse("--timeout", arg, &v);

	check_printed(r, "--timeout", arg);
	if (r == 0 && !(isfinite(v) && v >= 0))
		fail("seconds accepted that are negative, infinite or not a number", arg);
}

static void check_env(const char *arg)
{
	int r = cli_env_assignment_check("--env", arg);

	check_printed(r, "--env", arg);
	if ((r == 0) != env_assignment_expected(arg))
		fail("--env disagrees with its rule", arg);
}

static void check_network(const char *arg)
{
	enum network_mode mode;
	int r = cli_network_parse(arg, &mode);

	check_printed(r, "--network", arg);
	if ((r == 0) != (strcmp(arg, "none") == 0 || strcmp(arg, "host") == 0) ||
	    (r == 0 && strcmp(network_mode_name(mode), arg) != 0))
		fail("--network disagrees with its rule", arg);
}

static void check_gpu(const char *arg)
{
	struct gpu_selection sel = {0};

	check_printed(cli_gpu_parse(arg, &sel), "--gpu", arg);
}

static void check_log_level(const char *arg)
{
	enum log_level level;
	int r = log_level_parse(arg, &level);

	if (r == 0 && strcmp(log_level_name(level), arg) != 0 &&
	    !(level == LOG_WARNING && strcmp(arg, "warn") == 0))
		fail("a log level that is not the one named", arg);
}

static void check_sandbox_name(const char *arg)
{
	struct error err = {0};
	bool valid = sandbox_name_valid(arg);

	if (valid != sandbox_name_expected(arg))
		fail("a sandbox name judged against its rule", arg);
	if ((sandbox_name_check(arg, &err) == 0) != valid || (!valid && !err.message[0]))
		fail("sandbox_name_check disagrees with sandbox_name_valid", arg);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char arg[ARG_MAX_LEN + 1];

	if (size > ARG_MAX_LEN)
		return -1;
	memcpy(arg, data, size);
	arg[size] = '\0';
	check_seconds(arg);
	check_env(arg);
	check_network(arg);
	check_gpu(arg);
	check_log_level(arg);
	check_sandbox_name(arg);
	return 0;
}
