#include "cli/commands.h"
#include "common/diag.h"
#include "common/exit_codes.h"

int cmd_boot(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	diag_error("'boot' is not implemented yet");
	return EXIT_INTERNAL;
}
