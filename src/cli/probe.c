/* `lockshell probe`: placeholder until the command is implemented. */
#include "cli/cli.h"

int cmd_probe(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_errorf("'probe' is not implemented yet");
	return EXIT_USAGE;
}
