/* `lockshell run`: placeholder until the command is implemented. */
#include "cli/cli.h"

int cmd_run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_errorf("'run' is not implemented yet");
	return EXIT_USAGE;
}
