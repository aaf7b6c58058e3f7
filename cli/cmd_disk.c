/* lbvm disk ls|cat|get IMAGE ...: read results back out of a disk image (partitioned or a bare filesystem)
 * through libext2fs, without mounting. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "common/diag.h"
#include "common/exit_codes.h"
#include "image/extfs_read.h"

#define MAX_PART 4

static void usage(FILE *out)
{
	fprintf(out,
		"usage: lbvm disk ls  IMAGE [PATH]          list a directory (or one entry) of the image\n"
		"       lbvm disk cat IMAGE PATH            write a file of the image to standard output\n"
		"       lbvm disk get IMAGE PATH -o DEST    copy a file or directory tree out (DEST must not exist)\n"
		"  -p, --part N   partition 1-4 (default: a filesystem at offset 0, else the first Linux partition)\n"
		"  ls prints: MODE LINKS UID GID SIZE|MAJOR,MINOR NAME [-> TARGET]\n");
}

static void mode_string(uint32_t mode, char out[11])
{
	static const char types[] = { [S_IFDIR >> 12] = 'd', [S_IFREG >> 12] = '-', [S_IFLNK >> 12] = 'l',
				      [S_IFCHR >> 12] = 'c', [S_IFBLK >> 12] = 'b', [S_IFIFO >> 12] = 'p',
				      [S_IFSOCK >> 12] = 's' };
	char t = types[(mode & S_IFMT) >> 12];
	out[0] = t ? t : '?';
	const char *rwx = "rwxrwxrwx";
	for (int i = 0; i < 9; i++)
		out[1 + i] = (mode & (0400u >> i)) ? rwx[i] : '-';
	if (mode & S_ISUID)
		out[3] = (mode & 0100) ? 's' : 'S';
	if (mode & S_ISGID)
		out[6] = (mode & 0010) ? 's' : 'S';
	if (mode & S_ISVTX)
		out[9] = (mode & 0001) ? 't' : 'T';
	out[10] = '\0';
}

struct ls_ctx {
	struct extfs *d;
	struct error *err;
};

static int print_entry(void *priv, const char *name, const struct extfs_stat *st)
{
	struct ls_ctx *c = priv;
	char mode[11];
	mode_string(st->mode, mode);
	printf("%s %u %u %u ", mode, st->nlink, st->uid, st->gid);
	if (S_ISCHR(st->mode) || S_ISBLK(st->mode))
		printf("%u,%u", st->rdev_major, st->rdev_minor);
	else
		printf("%llu", (unsigned long long)st->size);
	printf(" %s", name);
	if (S_ISLNK(st->mode)) {
		char *target;
		int rc = extfs_read_link(c->d, st->ino, &target, c->err);
		if (rc)
			return rc;
		printf(" -> %s", target);
		free(target);
	}
	putchar('\n');
	return 0;
}

static int do_ls(struct extfs *d, const char *path, struct error *err)
{
	struct ls_ctx c = { d, err };
	struct extfs_stat st;
	int rc = extfs_stat(d, path, &st, err);
	if (rc)
		return rc;
	if (S_ISDIR(st.mode))
		return extfs_list(d, path, print_entry, &c, err);
	return print_entry(&c, path, &st);
}

int cmd_disk(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "part", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dest = NULL;
	int part = 0, c;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":o:p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': dest = optarg; break;
		case 'p': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 1 || v > MAX_PART) {
				diag_error("disk: --part '%s' is not a partition number 1-%d", optarg, MAX_PART);
				return EXIT_USAGE;
			}
			part = (int)v;
			break;
		}
		case 'h': usage(stdout); return EXIT_OK;
		default:
			return diag_bad_option("disk", c, argv[optind - 1]);
		}
	}
	int nargs = argc - optind;
	const char *sub = nargs > 0 ? argv[optind] : NULL;
	if (!sub) {
		diag_error("disk: expected ls, cat or get (lbvm disk --help)");
		return EXIT_USAGE;
	}
	int is_ls = !strcmp(sub, "ls"), is_cat = !strcmp(sub, "cat"), is_get = !strcmp(sub, "get");
	if (!is_ls && !is_cat && !is_get) {
		diag_error("disk: unknown subcommand '%s' (ls, cat or get)", sub);
		return EXIT_USAGE;
	}
	if ((is_ls && (nargs < 2 || nargs > 3)) || (!is_ls && nargs != 3)) {
		diag_error("disk %s: wrong number of arguments (lbvm disk --help)", sub);
		return EXIT_USAGE;
	}
	if (is_get != (dest != NULL)) {
		diag_error(is_get ? "disk get: -o DEST is required" : "disk %s: -o is only for get", sub);
		return EXIT_USAGE;
	}
	const char *image = argv[optind + 1];
	const char *path = nargs == 3 ? argv[optind + 2] : "/";
	struct error err = { 0 };
	struct extfs *d;
	int rc = extfs_open(&d, image, part, &err);
	if (!rc) {
		if (is_ls) {
			rc = do_ls(d, path, &err);
			if (!rc && fflush(stdout) != 0)
				rc = error_fail(&err, -EIO, "cannot write the listing to standard output");
		} else if (is_cat) {
			rc = extfs_cat(d, path, STDOUT_FILENO, &err);
		} else {
			struct extfs_get_stats st;
			rc = extfs_get(d, path, dest, &st, &err);
			if (!rc && st.skipped)
				diag_warn("disk get: %llu device node(s) or socket(s) not recreated (root needed)",
					  (unsigned long long)st.skipped);
		}
		extfs_close(d);
	}
	if (rc) {
		diag_error("disk %s: %s", sub, err.msg);
		return error_exit_status(&err);
	}
	return EXIT_OK;
}
