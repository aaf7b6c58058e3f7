/* libFuzzer target: damaged disk images through lbvm's reader and `disk get`'s writer. At start-up a
 * small ext2 image is built with mkdisk (a few directories, files, a hard link, a symlink pointing out of
 * the tree, a set-uid file); each input is a list of 4-byte patches (3 bytes offset into the image's
 * metadata, 1 byte value) applied to a copy of it, so names in directory blocks can gain '/' or become
 * "..", links can point anywhere, modes can turn into devices. The reader must open, list, read and export
 * without crashing, hanging or leaking, whatever it finds; the export is then written out by
 * tree_extract (in-process here; lbvm runs the reader in its sandboxed child) to box/out, and the target
 * checks that nothing appeared anywhere but under box/out: the fuzz directory and box hold exactly what
 * they held before, a failed copy leaves no out and no staging directory, and a finished one holds only
 * directories, regular files without set-id bits, and symlinks. */
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <sys/mman.h>

#include "image/fstree.h"
#include "image/extfs_read.h"
#include "image/mkdisk.h"
#include "image/tree_extract.h"

#define BASE_SIZE (2u * 1024 * 1024)
#define PATCHED_SPAN (256u * 1024) /* superblock, descriptors, bitmaps, inode table, first directories */
#define MAX_DEPTH 16

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *base;
static char dir[] = "/dev/shm/lbvm-fuzz-disk-XXXXXX"; /* tmpfs: the copies are written out each run */
static char img[sizeof(dir) + 16], box[sizeof(dir) + 16], out[sizeof(dir) + 16];

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
	if (!mkdtemp(dir)) {
		memcpy(dir, "/tmp/lbvm-fuzz-disk-XXXXXX", sizeof("/tmp/lbvm-fuzz-disk-XXXXXX")); /* no /dev/shm */
		if (!mkdtemp(dir))
			abort();
	}
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
	snprintf(q, sizeof(q), "%s/t/up", dir);
	if (symlink("../..", q) != 0)
		abort();
	snprintf(p, sizeof(p), "%s/t/etc/conf", dir);
	chmod(p, 04755);
	snprintf(img, sizeof(img), "%s/img", dir);
	snprintf(box, sizeof(box), "%s/box", dir);
	snprintf(out, sizeof(out), "%s/box/out", dir);
	mkdir(box, 0755);
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
	return unlink(path); /* never chmod a symlink: that would change its target */
}

static int make_writable(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_D)
		chmod(path, (sb->st_mode & 07777) | 0700);
	return 0;
}

/* The names in PATH, sorted and joined: what a directory holds. */
static void listing(const char *path, char *buf, size_t cap)
{
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort);
	if (n < 0)
		abort();
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		int w = snprintf(buf + used, cap - used, "%s|", names[i]->d_name);
		if (w > 0 && (size_t)w < cap - used)
			used += (size_t)w;
		free(names[i]);
	}
	free(names);
}

static int check_node(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (type == FTW_NS || type == FTW_DNR)
		return 0; /* a directory copied with mode 0 (fine: it is inside) */
	if (!S_ISDIR(sb->st_mode) && !S_ISREG(sb->st_mode) && !S_ISLNK(sb->st_mode))
		abort(); /* a device, FIFO or socket was created */
	if (!S_ISLNK(sb->st_mode) && (sb->st_mode & (S_ISUID | S_ISGID)))
		abort(); /* a set-id bit survived without --keep-setid */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char top_before[4096], box_before[4096];
	char now[4096];
	if (!top_before[0]) {
		listing(dir, top_before, sizeof(top_before));
		listing(box, box_before, sizeof(box_before));
	}
	/* only the metadata span is patched: the memfd keeps the rest of the base image between runs */
	static uint8_t *copy;
	static int mem_img = -1;
	if (!copy) {
		if (!(copy = malloc(PATCHED_SPAN)) || (mem_img = memfd_create("fuzz-disk-image", 0)) < 0 ||
		    pwrite(mem_img, base, BASE_SIZE, 0) != (ssize_t)BASE_SIZE)
			abort();
	}
	memcpy(copy, base, PATCHED_SPAN);
	for (size_t i = 0; i + 4 <= size; i += 4) {
		uint32_t off = ((uint32_t)data[i] | (uint32_t)data[i + 1] << 8 | (uint32_t)data[i + 2] << 16) % PATCHED_SPAN;
		copy[off] = data[i + 3];
	}
	/* the patched image lives in a memfd: libext2fs fsyncs the image it opens, which on a disk-backed
	 * file would cost more than everything else here */
	if (pwrite(mem_img, copy, PATCHED_SPAN, 0) != (ssize_t)PATCHED_SPAN)
		abort();

	struct error err = { 0 };
	struct extfs *d;
	if (extfs_open_fd(&d, dup(mem_img), "fuzz image", 0, &err) != 0) {
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
	int stream = memfd_create("fuzz-disk-stream", 0);
	if (stream < 0)
		abort();
	memset(&err, 0, sizeof(err));
	int exported = extfs_export(d, "/", stream, &err);
	extfs_close(d);
	if (exported != 0 && !err.msg[0])
		abort();
	if (lseek(stream, 0, SEEK_SET) != 0)
		abort();
	struct tree_extract_opts opts = { .source = "/", .keep_owner = geteuid() == 0 };
	struct tree_extract_stats st;
	memset(&err, 0, sizeof(err));
	int extracted = tree_extract(stream, out, &opts, &st, &err);
	close(stream);
	if (exported != 0 && extracted == 0)
		abort(); /* a stream without its end was taken for a whole tree */
	if (extracted == 0) {
		nftw(out, check_node, MAX_DEPTH, FTW_PHYS);
		nftw(out, make_writable, MAX_DEPTH, FTW_PHYS);
		nftw(out, rm, MAX_DEPTH, FTW_PHYS | FTW_DEPTH);
	} else if (!err.msg[0]) {
		abort();
	}
	/* nothing outside box/out: the same names beside it and above it as before (a failed get also leaves
	 * no out and no staging directory) */
	listing(box, now, sizeof(now));
	if (strcmp(now, box_before) != 0)
		abort();
	listing(dir, now, sizeof(now));
	if (strcmp(now, top_before) != 0)
		abort();
	return 0;
}
