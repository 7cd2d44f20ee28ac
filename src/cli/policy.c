/* `lockshell policy`: placeholder until the command is implemented. */
#include "cli/cli.h"

int cmd_policy(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_errorf("'policy' is not implemented yet");
	return EXIT_USAGE;
}
