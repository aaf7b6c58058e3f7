/* lbvm: run a live-bootstrap build in a KVM micro-VM of its own. This file only picks the subcommand. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "common/exit_codes.h"

#ifndef LBVM_VERSION
#define LBVM_VERSION "0.1.0"
#endif

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "boot", cmd_boot, "boot a kernel (+ initrd, disks) in a KVM micro-VM" },
	{ "mkinitramfs", cmd_mkinitramfs, "build a reproducible cpio newc initramfs from a directory" },
	{ "mkdisk", cmd_mkdisk, "build a reproducible partitioned ext4/ext3/ext2 disk image from a directory" },
	{ "disk", cmd_disk, "list, read and copy files out of a disk image (ls, cat, get)" },
	{ "fetch", cmd_fetch, "download, verify and cache distfiles from manifests" },
	{ "bootstrap", cmd_bootstrap, "run a live-bootstrap checkout end to end (VM or chroot)" },
	{ "diff", cmd_diff, "compare two bootstrap runs: inputs, then packages; the first that differs" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: lbvm COMMAND [ARGS...]   (lbvm COMMAND --help for its options)\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "  %-12s %s\n", "version", "print the version");
}

/* lbvm uses no descriptor it did not open itself. Any other one a parent left open (a shell's, make's
 * jobserver) is closed before anything else, so that nothing lbvm runs, confined or not, can reach it. */
static void close_inherited(void)
{
	if (close_range(3, ~0u, 0) != 0)
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
}

int main(int argc, char **argv)
{
	close_inherited();
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(name, "version") || !strcmp(name, "--version")) {
		printf("lbvm %s\n", LBVM_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(name, commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "lbvm: unknown command '%s' (lbvm --help lists them)\n", name);
	return EXIT_USAGE;
}
