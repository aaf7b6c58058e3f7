/* Placeholder until the disk command lands; replaced wholesale by its implementation. */
#include "cli/commands.h"
#include "common/diag.h"
#include "common/exit_codes.h"

int cmd_disk(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	diag_error("'disk' is not implemented yet");
	return EXIT_INTERNAL;
}
