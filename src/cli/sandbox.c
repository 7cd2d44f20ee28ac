/* `lockshell sandbox`: placeholder until the command is implemented. */
#include "cli/cli.h"

int cmd_sandbox(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_errorf("'sandbox' is not implemented yet");
	return EXIT_USAGE;
}
