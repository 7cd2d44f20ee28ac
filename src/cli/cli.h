/* Shared by the command files: entry points, exit codes, common helpers. */
#pragma once

#include <stdio.h>

#include "base/error.h"

#define LOCKSHELL_VERSION "0.1.0"

/* Exit codes of `run` and `sandbox exec` (DESIGN.md). */
enum {
	EXIT_LOCKSHELL_FAILED = 125,
	EXIT_CANNOT_EXECUTE = 126,
	EXIT_NOT_FOUND = 127,
	EXIT_TIMEOUT = 124,
	EXIT_USAGE = 2,
};

int cmd_policy(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_sandbox(int argc, char **argv);

/* Prints "lockshell: error: <message>" on stderr. */
void cli_error(const struct error *err);
void cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
