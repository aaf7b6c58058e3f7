/* lbvm mkdisk DIR -o FILE --size SIZE [--fs ext4|ext3|ext2] [--part-offset SIZE | --raw] [--spec FILE]
 * [--label TEXT] [--uuid UUID]: a byte-reproducible, sparse disk image built without root. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "common/hex.h"
#include "common/diag.h"
#include "common/exit_codes.h"
#include "common/size.h"
#include "image/epoch.h"
#include "image/mkdisk.h"

#define UUID_TEXT_LEN 36

static void usage(FILE *out)
{
	fprintf(out,
		"usage: lbvm mkdisk DIR -o FILE --size SIZE [options]\n"
		"  Build a disk image holding DIR: an msdos partition table with one Linux partition and an\n"
		"  ext4/ext3/ext2 filesystem in it, written through libext2fs without root. Equal input gives equal\n"
		"  bytes: UUID and hash seed derive from the input, every time is $SOURCE_DATE_EPOCH (default %u).\n"
		"  -o, --output FILE        the image to write (sparse; replaced only once complete)\n"
		"  -s, --size SIZE          whole image size, e.g. 512M, 8G (a multiple of 512 bytes)\n"
		"  -t, --fs TYPE            ext4 (default), ext3 or ext2\n"
		"  -p, --part-offset SIZE   where the partition starts (default 1M)\n"
		"  -r, --raw                a bare filesystem, no partition table\n"
		"  -i, --inode-ratio SIZE   bytes of filesystem per inode (default 16K; more files: 4K)\n"
		"      --spec FILE          device nodes, owners and other entries (docs/images.md)\n"
		"  -L, --label TEXT         volume label (at most 16 bytes)\n"
		"  -U, --uuid UUID          filesystem UUID instead of the derived one\n",
		EPOCH_DEFAULT);
}

/* 8-4-4-4-12 hex digits. 0 or -EINVAL. */
static int parse_uuid(const char *text, uint8_t out[16])
{
	if (strlen(text) != UUID_TEXT_LEN)
		return -1;
	int n = 0;
	for (int i = 0; i < UUID_TEXT_LEN; i += 2) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (text[i] != '-')
				return -1;
			i--; /* step over the dash: the loop adds 2 */
			continue;
		}
		int hi = hex_digit_value((unsigned char)text[i]), lo = hex_digit_value((unsigned char)text[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
	}
	return n == 16 ? 0 : -1;
}

static int size_arg(const char *opt, const char *text, uint64_t *out)
{
	if (size_parse(text, out) == 0)
		return 0;
	diag_error("mkdisk: %s '%s' is not a size (e.g. 512M, 8G)", opt, text);
	return -1;
}

int cmd_mkdisk(int argc, char **argv)
{
	enum { OPT_SPEC = 256 };
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 's' },
		{ "fs", required_argument, NULL, 't' },
		{ "part-offset", required_argument, NULL, 'p' },
		{ "raw", no_argument, NULL, 'r' },
		{ "inode-ratio", required_argument, NULL, 'i' },
		{ "spec", required_argument, NULL, OPT_SPEC },
		{ "label", required_argument, NULL, 'L' },
		{ "uuid", required_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mkdisk_opts o;
	memset(&o, 0, sizeof(o));
	o.fs = MKDISK_EXT4;
	o.part_offset = MKDISK_DEFAULT_PART_OFFSET;
	int c;
	bool have_size = false, have_offset = false;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":o:s:t:p:ri:L:U:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o.output = optarg; break;
		case 's':
			if (size_arg("--size", optarg, &o.size))
				return EXIT_USAGE;
			have_size = true;
			break;
		case 't':
			if (mkdisk_parse_fs(optarg, &o.fs)) {
				diag_error("mkdisk: --fs '%s' is not ext4, ext3 or ext2", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'p':
			if (size_arg("--part-offset", optarg, &o.part_offset))
				return EXIT_USAGE;
			have_offset = true;
			break;
		case 'r': o.raw = true; break;
		case 'i': {
			uint64_t ratio;
			if (size_arg("--inode-ratio", optarg, &ratio))
				return EXIT_USAGE;
			if (ratio > UINT32_MAX) {
				diag_error("mkdisk: --inode-ratio '%s' is too large", optarg);
				return EXIT_USAGE;
			}
			o.bytes_per_inode = (uint32_t)ratio;
			break;
		}
		case OPT_SPEC: o.spec = optarg; break;
		case 'L': o.label = optarg; break;
		case 'U':
			if (parse_uuid(optarg, o.uuid)) {
				diag_error("mkdisk: --uuid '%s' is not a UUID (8-4-4-4-12 hex digits)", optarg);
				return EXIT_USAGE;
			}
			o.have_uuid = true;
			break;
		case 'h': usage(stdout); return EXIT_OK;
		default:
			return diag_bad_option("mkdisk", c, argv[optind - 1]);
		}
	}
	if (argc - optind != 1) {
		diag_error("mkdisk: expected one source directory, got %d (lbvm mkdisk --help)", argc - optind);
		return EXIT_USAGE;
	}
	if (!o.output || !have_size) {
		diag_error("mkdisk: -o FILE and --size SIZE are required");
		return EXIT_USAGE;
	}
	if (o.raw && have_offset) {
		diag_error("mkdisk: --raw has no partition table, so --part-offset makes no sense with it");
		return EXIT_USAGE;
	}
	o.dir = argv[optind];
	struct error err = { 0 };
	if (epoch_from_env(&o.epoch, &err) || mkdisk_build(&o, &err)) {
		diag_error("mkdisk: %s", err.msg);
		return error_exit_status(&err);
	}
	return EXIT_OK;
}
