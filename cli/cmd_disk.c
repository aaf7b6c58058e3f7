/* lbvm disk ls|cat|get IMAGE ...: read results back out of a disk image (partitioned or a bare filesystem)
 * through libext2fs, without mounting. The image is a guest's work and untrusted: libext2fs reads it in a
 * confined child process (image/extfs_child.h), names are escaped before they reach the terminal, and
 * `get` writes only inside its destination (image/tree_extract.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "common/diag.h"
#include "common/escape.h"
#include "common/exit_codes.h"
#include "image/extfs_child.h"
#include "image/extfs_read.h"
#include "image/tree_extract.h"

#define MAX_PART 4

static void usage(FILE *out)
{
	fprintf(out,
		"usage: lbvm disk ls  IMAGE [PATH]          list a directory (or one entry) of the image\n"
		"       lbvm disk cat IMAGE PATH            write a file of the image to standard output\n"
		"       lbvm disk get IMAGE PATH -o DEST    copy a file or directory tree out (DEST must not exist)\n"
		"  -p, --part N     partition 1-4 (default: a filesystem at offset 0, else the first Linux partition)\n"
		"  --keep-setid     get: keep set-user-ID and set-group-ID bits (dropped by default)\n"
		"  ls prints: MODE LINKS UID GID SIZE|MAJOR,MINOR NAME [-> TARGET] (control characters escaped)\n"
		"  get copies files, directories, symlinks (never followed) and hard links; it refuses device\n"
		"  nodes, FIFOs, sockets and names with '/', and says so, one line each.\n");
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

/* Print a name from the image with everything a terminal could act on escaped. */
static int print_escaped(const char *s)
{
	size_t len = strlen(s);
	char *out = malloc(ESCAPE_ROOM(len));
	if (!out)
		return -ENOMEM;
	fputs(escape_name(out, ESCAPE_ROOM(len), s, len), stdout);
	free(out);
	return 0;
}

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
	putchar(' ');
	if (print_escaped(name))
		return error_fail(c->err, -ENOMEM, "out of memory");
	if (S_ISLNK(st->mode)) {
		char *target;
		int rc = extfs_read_link(c->d, st->ino, &target, c->err);
		if (rc)
			return rc;
		fputs(" -> ", stdout);
		rc = print_escaped(target);
		free(target);
		if (rc)
			return error_fail(c->err, -ENOMEM, "out of memory");
	}
	putchar('\n');
	return 0;
}

/* The jobs, run in the confined reader (image/extfs_child.h). */
static int ls_job(struct extfs *d, void *ctx, int out_fd, struct error *err)
{
	(void)out_fd; /* standard output, through stdio */
	const char *path = ctx;
	struct ls_ctx c = { d, err };
	struct extfs_stat st;
	int rc = extfs_stat(d, path, &st, err);
	if (rc)
		return rc;
	if (S_ISDIR(st.mode))
		rc = extfs_list(d, path, print_entry, &c, err);
	else
		rc = print_entry(&c, path, &st);
	if (!rc && fflush(stdout) != 0)
		rc = error_fail(err, -EIO, "cannot write the listing to standard output");
	return rc;
}

static int cat_job(struct extfs *d, void *ctx, int out_fd, struct error *err)
{
	return extfs_cat(d, ctx, out_fd, err);
}

static int export_job(struct extfs *d, void *ctx, int out_fd, struct error *err)
{
	return extfs_export(d, ctx, out_fd, err);
}

static void report_refused(void *ctx, const char *path, const char *why)
{
	(void)ctx;
	diag_warn("disk get: refused %s: %s", path, why);
}

static int do_get(const char *image, int part, const char *path, const char *dest, bool keep_setid,
		  struct error *err)
{
	struct extfs_child c;
	int rc = extfs_child_start(&c, image, part, -1, export_job, (void *)path, err);
	if (rc)
		return rc;
	struct tree_extract_opts opts = { .source = path, .keep_setid = keep_setid, .keep_owner = geteuid() == 0,
					  .refused = report_refused };
	struct tree_extract_stats st;
	rc = tree_extract(c.out_fd, dest, &opts, &st, err);
	int crc = extfs_child_finish(&c, rc != 0, err);
	return crc ? crc : rc;
}

int cmd_disk(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "part", required_argument, NULL, 'p' },
		{ "keep-setid", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dest = NULL;
	int part = 0, c;
	bool keep_setid = false;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":o:p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': dest = optarg; break;
		case 's': keep_setid = true; break;
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
	if (keep_setid && !is_get) {
		diag_error("disk %s: --keep-setid is only for get", sub);
		return EXIT_USAGE;
	}
	const char *image = argv[optind + 1];
	const char *path = nargs == 3 ? argv[optind + 2] : "/";
	struct error err = { 0 };
	int rc;
	if (is_get) {
		rc = do_get(image, part, path, dest, keep_setid, &err);
	} else {
		struct extfs_child reader;
		rc = extfs_child_start(&reader, image, part, STDOUT_FILENO, is_ls ? ls_job : cat_job, (void *)path,
				       &err);
		if (!rc)
			rc = extfs_child_finish(&reader, false, &err);
	}
	if (rc && error_exit_status(&err) != EXIT_SANDBOX) /* the sandbox's report is already printed */
		diag_error("disk %s: %s", sub, err.msg);
	return rc ? error_exit_status(&err) : EXIT_OK;
}
