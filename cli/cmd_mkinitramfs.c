/* lbvm mkinitramfs DIR -o FILE [--gzip] [--spec FILE]: a byte-reproducible cpio newc initramfs. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "common/diag.h"
#include "common/exit_codes.h"
#include "image/epoch.h"
#include "image/initramfs.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: lbvm mkinitramfs DIR -o FILE [--gzip] [--spec FILE]\n"
		"  Pack DIR into a cpio newc archive whose bytes depend only on the tree's names, contents, modes,\n"
		"  symlinks and hard links: members sorted bytewise by path, owner 0:0, every mtime set to\n"
		"  $SOURCE_DATE_EPOCH (default %u), inode numbers by position.\n"
		"  -o, --output FILE  the archive to write (replaced only once complete)\n"
		"  -z, --gzip         compress with gzip (no name, no time in the header)\n"
		"  -s, --spec FILE    device nodes, owners and other entries an ordinary user cannot create\n"
		"                     (format in docs/images.md)\n",
		EPOCH_DEFAULT);
}

int cmd_mkinitramfs(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "gzip", no_argument, NULL, 'z' },
		{ "spec", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct initramfs_opts opts;
	memset(&opts, 0, sizeof(opts));
	int c;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":o:zs:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': opts.output = optarg; break;
		case 'z': opts.gzip = true; break;
		case 's': opts.spec = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		default:
			return diag_bad_option("mkinitramfs", c, argv[optind - 1]);
		}
	}
	if (argc - optind != 1) {
		diag_error("mkinitramfs: expected one source directory, got %d (lbvm mkinitramfs --help)",
			   argc - optind);
		return EXIT_USAGE;
	}
	if (!opts.output) {
		diag_error("mkinitramfs: -o FILE is required");
		return EXIT_USAGE;
	}
	opts.dir = argv[optind];
	struct error err = { 0 };
	if (epoch_from_env(&opts.epoch, &err) || initramfs_build(&opts, &err)) {
		diag_error("mkinitramfs: %s", err.msg);
		return error_exit_status(&err);
	}
	return EXIT_OK;
}
