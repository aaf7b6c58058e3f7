/* libFuzzer target: damaged disk images through lbvm's reader. At start-up a small ext2 image is built
 * with mkdisk (a few directories, files, a hard link, a symlink, a device); each input is a list of
 * 4-byte patches (3 bytes offset into the image's metadata, 1 byte value) applied to a copy of it. The
 * reader must open, list, read and copy out without crashing, hanging or leaking, whatever it finds. */
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/fstree.h"
#include "image/extfs_read.h"
#include "image/mkdisk.h"

#define BASE_SIZE (2u * 1024 * 1024)
#define PATCHED_SPAN (256u * 1024) /* superblock, descriptors, bitmaps, inode table, first directories */
#define MAX_DEPTH 16

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *base;
static char dir[] = "/tmp/lbvm-fuzz-disk-XXXXXX";
static char img[sizeof(dir) + 16], out[sizeof(dir) + 16];

static void put(const char *rel, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/t/%s", dir, rel);
	FILE *f = fopen(p, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
}

static int rm(const char *path, const struct stat *sb, int type, struct FTW *ftw);

static void cleanup(void)
{
	nftw(dir, rm, MAX_DEPTH, FTW_PHYS | FTW_DEPTH);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		abort();
	atexit(cleanup);
	char p[256], q[256];
	snprintf(p, sizeof(p), "%s/t", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/t/etc", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/t/etc/sub", dir);
	mkdir(p, 0700);
	put("etc/conf", "key=value\n");
	put("etc/sub/deep", "deep\n");
	snprintf(p, sizeof(p), "%s/t/etc/conf", dir);
	snprintf(q, sizeof(q), "%s/t/conf-link", dir);
	if (link(p, q) != 0)
		abort();
	snprintf(q, sizeof(q), "%s/t/sl", dir);
	if (symlink("etc/conf", q) != 0)
		abort();
	snprintf(img, sizeof(img), "%s/img", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(p, sizeof(p), "%s/t", dir);
	struct mkdisk_opts o = { .dir = p, .output = img, .size = BASE_SIZE, .fs = MKDISK_EXT2, .raw = true,
				 .epoch = 1 };
	struct error err = { 0 };
	if (mkdisk_build(&o, &err) != 0) {
		fprintf(stderr, "fuzz_disk: %s\n", err.msg);
		abort();
	}
	base = malloc(BASE_SIZE);
	int fd = open(img, O_RDONLY);
	if (!base || fd < 0 || read(fd, base, BASE_SIZE) != (ssize_t)BASE_SIZE)
		abort();
	close(fd);
	return 0;
}

static int count(void *ctx, const char *name, const struct extfs_stat *st)
{
	(void)name;
	(void)st;
	++*(int *)ctx;
	return 0;
}

static int rm(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path);
	chmod(path, 0700);
	return unlink(path);
}

static int make_writable(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_D)
		chmod(path, (sb->st_mode & 07777) | 0700);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(BASE_SIZE);
	if (!copy)
		abort();
	memcpy(copy, base, BASE_SIZE);
	for (size_t i = 0; i + 4 <= size; i += 4) {
		uint32_t off = ((uint32_t)data[i] | (uint32_t)data[i + 1] << 8 | (uint32_t)data[i + 2] << 16) % PATCHED_SPAN;
		copy[off] = data[i + 3];
	}
	int fd = open(img, O_WRONLY | O_TRUNC);
	if (fd < 0 || write(fd, copy, BASE_SIZE) != (ssize_t)BASE_SIZE)
		abort();
	close(fd);
	free(copy);

	struct error err = { 0 };
	struct extfs *d;
	if (extfs_open(&d, img, 0, &err) != 0) {
		if (err.msg[0] == '\0')
			abort();
		return 0;
	}
	int n = 0;
	memset(&err, 0, sizeof(err));
	extfs_list(d, "/", count, &n, &err);
	memset(&err, 0, sizeof(err));
	int null = open("/dev/null", O_WRONLY);
	extfs_cat(d, "/etc/conf", null, &err);
	close(null);
	struct extfs_get_stats gs;
	memset(&err, 0, sizeof(err));
	if (extfs_get(d, "/", out, &gs, &err) == 0) {
		nftw(out, make_writable, MAX_DEPTH, FTW_PHYS);
		nftw(out, rm, MAX_DEPTH, FTW_PHYS | FTW_DEPTH);
	} else if (access(out, F_OK) == 0) {
		abort(); /* a failed get must leave nothing under its final name */
	}
	extfs_close(d);
	return 0;
}
