/* msdos table, ext filesystem builder and the disk reader, checked against each other and the bytes. */
#include "check_run.h"
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img_fixture.h"
#include "image/fstree.h"
#include "image/initramfs.h"
#include "image/extfs_read.h"
#include "image/mbr.h"
#include "image/mkdisk.h"
#include "image/tree_extract.h"

#define TEST_EPOCH 1600000000u
#define MiB (1024ull * 1024ull)
#define SB_OFFSET 1024
#define SB_UUID 0x68
#define MANY 600 /* more names than one 4 KiB directory block holds */

START_TEST(mbr_round_trip_and_bytes)
{
	uint8_t s[MBR_SECTOR_SIZE];
	struct mbr_part p = { .type = MBR_TYPE_LINUX, .start_lba = 2048, .sectors = 129024 };
	ck_assert_int_eq(mbr_format(s, &p, 0x12345678), 0);
	ck_assert_uint_eq(s[510], 0x55);
	ck_assert_uint_eq(s[511], 0xaa);
	ck_assert_uint_eq(s[440] | s[441] << 8 | s[442] << 16 | (uint32_t)s[443] << 24, 0x12345678);
	/* LBA 2048 in 255/63 geometry: cylinder 0, head 32, sector 33 */
	static const uint8_t entry[8] = { 0x00, 0x20, 0x21, 0x00, 0x83 };
	ck_assert_int_eq(memcmp(s + 446, entry, 5), 0);
	ck_assert_uint_eq(s[454] | s[455] << 8, 2048);
	struct mbr_part back[MBR_MAX_PARTS];
	ck_assert(mbr_parse(s, back));
	ck_assert_uint_eq(back[0].type, MBR_TYPE_LINUX);
	ck_assert_uint_eq(back[0].start_lba, 2048);
	ck_assert_uint_eq(back[0].sectors, 129024);
	ck_assert_uint_eq(back[1].type, 0);
	s[511] = 0;
	ck_assert(!mbr_parse(s, back));
	struct mbr_part huge = { .type = MBR_TYPE_LINUX, .start_lba = 2048, .sectors = UINT32_MAX };
	ck_assert_int_eq(mbr_format(s, &huge, 0), -EINVAL);
}
END_TEST

static void make_tree(const char *dir, int reverse)
{
	if (reverse) {
		fx_mkdir(dir, "usr");
		fx_mkdir(dir, "usr/src");
		fx_write(dir, "usr/src/b.txt", "bee\n", 0644);
		fx_write(dir, "usr/src/a.txt", "ay\n", 0600);
		fx_mkdir(dir, "bin");
		fx_write(dir, "bin/run", "#!/bin/sh\n", 0755);
	} else {
		fx_mkdir(dir, "bin");
		fx_write(dir, "bin/run", "#!/bin/sh\n", 0755);
		fx_mkdir(dir, "usr");
		fx_mkdir(dir, "usr/src");
		fx_write(dir, "usr/src/a.txt", "ay\n", 0600);
		fx_write(dir, "usr/src/b.txt", "bee\n", 0644);
	}
	char *a = fx_path(dir, "usr/src/a.txt"), *l = fx_path(dir, "bin/a-link"), *s = fx_path(dir, "usr/sl");
	ck_assert_int_eq(link(a, l), 0);
	ck_assert_int_eq(symlink("src/b.txt", s), 0);
	free(a);
	free(l);
	free(s);
}

static void opts_for(struct mkdisk_opts *o, const char *dir, const char *out)
{
	memset(o, 0, sizeof(*o));
	o->dir = dir;
	o->output = out;
	o->size = 64 * MiB;
	o->fs = MKDISK_EXT4;
	o->part_offset = MKDISK_DEFAULT_PART_OFFSET;
	o->epoch = TEST_EPOCH;
}

static void build_ok(const struct mkdisk_opts *o)
{
	struct error err = { 0 };
	ck_assert_msg(mkdisk_build(o, &err) == 0, "mkdisk failed: %s", err.msg);
}

START_TEST(same_input_same_bytes_any_creation_order)
{
	char *w = fx_tmpdir();
	fx_mkdir(w, "a");
	fx_mkdir(w, "b");
	char *a = fx_path(w, "a"), *b = fx_path(w, "b"), *ia = fx_path(w, "a.img"), *ib = fx_path(w, "b.img");
	make_tree(a, 0);
	sleep(1);
	make_tree(b, 1);
	struct mkdisk_opts o;
	opts_for(&o, a, ia);
	build_ok(&o);
	opts_for(&o, b, ib);
	build_ok(&o);
	size_t la, lb;
	unsigned char *x = fx_slurp(ia, &la), *y = fx_slurp(ib, &lb);
	ck_assert_uint_eq(la, 64 * MiB);
	ck_assert_uint_eq(la, lb);
	ck_assert_msg(memcmp(x, y, la) == 0, "images differ");
	free(x);
	free(y);
	free(a);
	free(b);
	free(ia);
	free(ib);
	fx_rmtree(w);
}
END_TEST

static const struct extfs_stat *stat_ok(struct extfs *d, const char *path, struct extfs_stat *st)
{
	struct error err = { 0 };
	ck_assert_msg(extfs_stat(d, path, st, &err) == 0, "%s: %s", path, err.msg);
	return st;
}

struct names {
	char name[MANY + 8][32];
	int n;
};

static int collect(void *ctx, const char *name, const struct extfs_stat *st)
{
	(void)st;
	struct names *n = ctx;
	ck_assert_int_lt(n->n, MANY + 8);
	snprintf(n->name[n->n++], sizeof(n->name[0]), "%s", name);
	return 0;
}

static void check_read_back(enum mkdisk_fs fs, bool raw)
{
	char *w = fx_tmpdir();
	fx_mkdir(w, "t");
	char *t = fx_path(w, "t"), *img = fx_path(w, "d.img"), *spec = fx_path(w, "spec");
	make_tree(t, 0);
	fx_write(w, "spec", "dir /dev 0755 0 0\nnod /dev/console 0600 0 0 c 5 1\nnod /dev/big 0600 0 0 b 259 300000\n"
			    "attr /usr/src/b.txt 0444 1000 100000\n", 0644);
	struct mkdisk_opts o;
	opts_for(&o, t, img);
	o.spec = spec;
	o.fs = fs;
	o.raw = raw;
	build_ok(&o);
	struct error err = { 0 };
	struct extfs *d;
	ck_assert_msg(extfs_open(&d, img, 0, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(extfs_fs_offset(d), raw ? 0 : MiB);
	struct extfs_stat st, st2;
	stat_ok(d, "/usr/src/a.txt", &st);
	ck_assert_uint_eq(st.mode, S_IFREG | 0600);
	ck_assert_uint_eq(st.nlink, 2);
	ck_assert_uint_eq(st.size, 3);
	ck_assert_uint_eq(st.mtime, TEST_EPOCH);
	stat_ok(d, "bin/a-link", &st2);
	ck_assert_uint_eq(st.ino, st2.ino);
	stat_ok(d, "/usr/src/b.txt", &st);
	ck_assert_uint_eq(st.uid, 1000);
	ck_assert_uint_eq(st.gid, 100000); /* needs the high 16 bits */
	ck_assert_uint_eq(st.mode, S_IFREG | 0444);
	stat_ok(d, "/dev/console", &st);
	ck_assert_uint_eq(st.mode, S_IFCHR | 0600);
	ck_assert_uint_eq(st.rdev_major, 5);
	ck_assert_uint_eq(st.rdev_minor, 1);
	stat_ok(d, "/dev/big", &st);
	ck_assert_uint_eq(st.rdev_major, 259);
	ck_assert_uint_eq(st.rdev_minor, 300000);
	stat_ok(d, "/usr/sl", &st);
	char *target;
	ck_assert_int_eq(extfs_read_link(d, st.ino, &target, &err), 0);
	ck_assert_str_eq(target, "src/b.txt");
	free(target);
	stat_ok(d, "/", &st);
	ck_assert_uint_eq(st.nlink, 2 + 4); /* bin dev lost+found usr */
	static struct names n;
	n.n = 0;
	ck_assert_int_eq(extfs_list(d, "/", collect, &n, &err), 0);
	ck_assert_int_eq(n.n, 4);
	ck_assert_str_eq(n.name[0], "bin");
	ck_assert_str_eq(n.name[1], "dev");
	ck_assert_str_eq(n.name[2], "lost+found");
	ck_assert_str_eq(n.name[3], "usr");
	/* cat follows the symlink */
	char *out = fx_path(w, "cat.out");
	int fd = open(out, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_eq(extfs_cat(d, "/usr/sl", fd, &err), 0);
	close(fd);
	size_t len;
	unsigned char *data = fx_slurp(out, &len);
	ck_assert_uint_eq(len, 4);
	ck_assert_int_eq(memcmp(data, "bee\n", 4), 0);
	free(data);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(extfs_stat(d, "/usr/nope", &st, &err), -ENOENT);
	ck_assert_str_eq(err.msg, "usr/nope: no such file or directory in the image");
	extfs_close(d);
	free(out);
	free(t);
	free(img);
	free(spec);
	fx_rmtree(w);
}

START_TEST(read_back_ext4_partitioned)
{
	check_read_back(MKDISK_EXT4, false);
}
END_TEST

START_TEST(read_back_ext3_raw)
{
	check_read_back(MKDISK_EXT3, true);
}
END_TEST

START_TEST(read_back_ext2_partitioned)
{
	check_read_back(MKDISK_EXT2, false);
}
END_TEST

START_TEST(full_directory_grows)
{
	char *w = fx_tmpdir();
	fx_mkdir(w, "t");
	fx_mkdir(w, "t/many");
	char *t = fx_path(w, "t"), *img = fx_path(w, "d.img");
	for (int i = 0; i < MANY; i++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "many/file-with-a-longish-name-%04d", i);
		fx_write(t, rel, "x", 0644);
	}
	struct mkdisk_opts o;
	opts_for(&o, t, img);
	build_ok(&o);
	struct error err = { 0 };
	struct extfs *d;
	ck_assert_int_eq(extfs_open(&d, img, 1, &err), 0);
	static struct names n;
	n.n = 0;
	ck_assert_int_eq(extfs_list(d, "/many", collect, &n, &err), 0);
	ck_assert_int_eq(n.n, MANY);
	ck_assert_str_eq(n.name[MANY - 1], "file-with-a-longish-name-0599");
	extfs_close(d);
	free(t);
	free(img);
	fx_rmtree(w);
}
END_TEST

/* no_journal: ext4 without has_journal (the 2021 sysc disk, bootstrap/prepare2021.c); the default has one. */
START_TEST(journal_or_none)
{
	char *w = fx_tmpdir();
	fx_mkdir(w, "t");
	char *t = fx_path(w, "t"), *img = fx_path(w, "d.img");
	make_tree(t, 0);
	for (int none = 0; none < 2; none++) {
		struct mkdisk_opts o;
		opts_for(&o, t, img);
		o.no_journal = none;
		build_ok(&o);
		int fd = open(img, O_RDONLY);
		uint8_t compat[4];
		ck_assert_int_eq(pread(fd, compat, 4, (off_t)(MiB + SB_OFFSET + 0x5c)), 4); /* s_feature_compat */
		close(fd);
		ck_assert_int_eq((compat[0] & 0x04) != 0, !none); /* COMPAT_HAS_JOURNAL */
		struct error err = { 0 };
		struct extfs *d;
		ck_assert_msg(extfs_open(&d, img, 0, &err) == 0, "%s", err.msg);
		extfs_close(d);
		unlink(img);
	}
	free(t);
	free(img);
	fx_rmtree(w);
}
END_TEST

START_TEST(sparse_output_and_pinned_uuid)
{
	char *w = fx_tmpdir();
	fx_mkdir(w, "t");
	char *t = fx_path(w, "t"), *img = fx_path(w, "d.img");
	make_tree(t, 0);
	struct mkdisk_opts o;
	opts_for(&o, t, img);
	o.size = 1024 * MiB;
	o.have_uuid = true;
	for (int i = 0; i < 16; i++)
		o.uuid[i] = (uint8_t)(0xa0 + i);
	build_ok(&o);
	struct stat st;
	ck_assert_int_eq(stat(img, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, 1024 * MiB);
	ck_assert_msg((uint64_t)st.st_blocks * 512 < 8 * MiB, "1 GiB image uses %lld bytes on disk",
		      (long long)st.st_blocks * 512);
	int fd = open(img, O_RDONLY);
	uint8_t uuid[16];
	ck_assert_int_eq(pread(fd, uuid, 16, (off_t)(MiB + SB_OFFSET + SB_UUID)), 16);
	close(fd);
	ck_assert_int_eq(memcmp(uuid, o.uuid, 16), 0);
	free(t);
	free(img);
	fx_rmtree(w);
}
END_TEST

START_TEST(failures_leave_no_output)
{
	char *w = fx_tmpdir();
	fx_mkdir(w, "t");
	char *t = fx_path(w, "t"), *img = fx_path(w, "d.img");
	/* 3 MiB of content into an 8 MiB ext2 image with 1 MiB of offset: ok; into 4 MiB: too small */
	char *big = malloc(3 * MiB + 1);
	memset(big, 'x', 3 * MiB);
	big[3 * MiB] = '\0';
	fx_write(t, "big", big, 0644);
	free(big);
	struct mkdisk_opts o;
	opts_for(&o, t, img);
	o.fs = MKDISK_EXT2;
	o.size = 8 * MiB;
	build_ok(&o);
	ck_assert_int_eq(unlink(img), 0);
	o.size = 4 * MiB;
	struct error err = { 0 };
	ck_assert_int_eq(mkdisk_build(&o, &err), -ENOSPC);
	ck_assert_int_eq(error_exit_status(&err), 2);
	ck_assert_ptr_nonnull(strstr(err.msg, "too small"));
	ck_assert_int_ne(access(img, F_OK), 0);
	/* bad geometry */
	o.size = 8 * MiB;
	o.part_offset = 100;
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(mkdisk_build(&o, &err), -EINVAL);
	o.part_offset = MKDISK_DEFAULT_PART_OFFSET;
	o.size = 8 * MiB + 1;
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(mkdisk_build(&o, &err), -EINVAL);
	o.size = 8 * MiB;
	o.label = "a-label-longer-than-16";
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(mkdisk_build(&o, &err), -EINVAL);
	ck_assert_int_ne(access(img, F_OK), 0);
	/* no temporaries left beside the output either: the work directory holds only the tree */
	DIR *dir = opendir(w);
	ck_assert_ptr_nonnull(dir);
	for (struct dirent *de; (de = readdir(dir));)
		ck_assert_msg(!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, "t"),
			      "left behind: %s", de->d_name);
	closedir(dir);
	free(t);
	free(img);
	fx_rmtree(w);
}
END_TEST

START_TEST(reader_rejects_what_is_not_an_image)
{
	char *w = fx_tmpdir();
	fx_write(w, "junk", "this is not a disk image", 0644);
	char *junk = fx_path(w, "junk"), *missing = fx_path(w, "missing");
	struct error err = { 0 };
	struct extfs *d;
	ck_assert_int_eq(extfs_open(&d, junk, 0, &err), -EINVAL);
	ck_assert_ptr_null(d);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(extfs_open(&d, missing, 0, &err), -ENOENT);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(extfs_open(&d, w, 0, &err), -EINVAL); /* a directory */
	free(junk);
	free(missing);
	fx_rmtree(w);
}
END_TEST

/* What `lbvm disk get` does, in-process: the reader's tree stream into a memfd, then the writer. */
static int get(struct extfs *d, const char *path, const char *dest, struct tree_extract_stats *st,
	       struct error *err)
{
	int fd = memfd_create("tree-stream", 0);
	ck_assert_int_ge(fd, 0);
	int rc = extfs_export(d, path, fd, err);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	struct tree_extract_opts o = { .source = path, .keep_owner = geteuid() == 0 };
	if (!rc)
		rc = tree_extract(fd, dest, &o, st, err);
	close(fd);
	return rc;
}

START_TEST(get_copies_a_tree_out_and_never_overwrites)
{
	char *w = fx_tmpdir();
	fx_mkdir(w, "t");
	char *t = fx_path(w, "t"), *img = fx_path(w, "d.img"), *dest = fx_path(w, "out");
	make_tree(t, 0);
	struct mkdisk_opts o;
	opts_for(&o, t, img);
	build_ok(&o);
	struct error err = { 0 };
	struct extfs *d;
	ck_assert_int_eq(extfs_open(&d, img, 0, &err), 0);
	struct tree_extract_stats gs;
	ck_assert_msg(get(d, "/usr", dest, &gs, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(gs.files, 2);
	ck_assert_uint_eq(gs.symlinks, 1);
	ck_assert_uint_eq(gs.dirs, 2);
	char *a = fx_path(dest, "src/a.txt");
	struct stat st;
	ck_assert_int_eq(stat(a, &st), 0);
	ck_assert_uint_eq(st.st_mode, S_IFREG | 0600);
	ck_assert_int_eq(st.st_mtime, TEST_EPOCH);
	ck_assert_int_eq(get(d, "/usr", dest, &gs, &err), -EEXIST);
	/* a whole tree with its hard link: the second name is a link, not a copy */
	char *all = fx_path(w, "all"), *l1 = fx_path(w, "all/usr/src/a.txt"), *l2 = fx_path(w, "all/bin/a-link");
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(get(d, "/", all, &gs, &err), 0);
	ck_assert_uint_eq(gs.hardlinks, 1);
	struct stat s1, s2;
	ck_assert_int_eq(stat(l1, &s1), 0);
	ck_assert_int_eq(stat(l2, &s2), 0);
	ck_assert_uint_eq(s1.st_ino, s2.st_ino);
	extfs_close(d);
	free(a);
	free(all);
	free(l1);
	free(l2);
	free(t);
	free(img);
	free(dest);
	fx_rmtree(w);
}
END_TEST

static void add(struct fs_tree *t, const char *path, uint32_t mode, const char *source, uint64_t size)
{
	struct fs_entry e;
	memset(&e, 0, sizeof(e));
	e.path = strdup(path);
	e.mode = mode;
	e.size = size;
	e.source = source ? strdup(source) : NULL;
	if (S_ISCHR(mode)) {
		e.rdev_major = 5;
		e.rdev_minor = 1;
	}
	ck_assert_int_eq(fstree_add(t, &e), 0);
}

/* What `lbvm bootstrap` will do: assemble a tree in memory, build both images from it. */
START_TEST(in_memory_tree_from_c)
{
	char *w = fx_tmpdir();
	fx_write(w, "payload", "same bytes\n", 0644);
	char *payload = fx_path(w, "payload"), *img = fx_path(w, "d.img"), *cpio = fx_path(w, "i.cpio");
	struct fs_tree t;
	fstree_init(&t);
	/* any order: fstree_finish sorts */
	add(&t, "etc/b", S_IFREG | 0644, payload, 11);
	add(&t, "dev/console", S_IFCHR | 0600, NULL, 0);
	add(&t, "etc", S_IFDIR | 0755, NULL, 0);
	add(&t, "etc/a", S_IFREG | 0600, payload, 11);
	add(&t, "dev", S_IFDIR | 0755, NULL, 0);
	struct error err = { 0 };
	ck_assert_msg(fstree_finish(&t, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(t.entries[0].path, "dev");
	struct mkdisk_opts o;
	opts_for(&o, NULL, img);
	ck_assert_msg(mkdisk_build_tree(&o, &t, &err) == 0, "%s", err.msg);
	struct initramfs_opts io = { .output = cpio, .epoch = TEST_EPOCH };
	ck_assert_msg(initramfs_build_tree(&io, &t, &err) == 0, "%s", err.msg);
	fstree_free(&t);
	struct extfs *d;
	ck_assert_int_eq(extfs_open(&d, img, 0, &err), 0);
	struct extfs_stat a, b, c;
	stat_ok(d, "/etc/a", &a);
	stat_ok(d, "/etc/b", &b);
	stat_ok(d, "/dev/console", &c);
	ck_assert_uint_ne(a.ino, b.ino); /* two files with one source are not hard links */
	ck_assert_uint_eq(a.nlink, 1);
	ck_assert_uint_eq(a.mode, S_IFREG | 0600);
	ck_assert_uint_eq(b.size, 11);
	ck_assert_uint_eq(c.rdev_major, 5);
	extfs_close(d);
	size_t len;
	unsigned char *buf = fx_slurp(cpio, &len);
	ck_assert_uint_gt(len, 0);
	ck_assert_ptr_nonnull(memmem(buf, len, "etc/a", 6));
	free(buf);
	free(payload);
	free(img);
	free(cpio);
	fx_rmtree(w);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mkdisk");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, mbr_round_trip_and_bytes);
	tcase_add_test(tc, same_input_same_bytes_any_creation_order);
	tcase_add_test(tc, read_back_ext4_partitioned);
	tcase_add_test(tc, read_back_ext3_raw);
	tcase_add_test(tc, read_back_ext2_partitioned);
	tcase_add_test(tc, full_directory_grows);
	tcase_add_test(tc, sparse_output_and_pinned_uuid);
	tcase_add_test(tc, journal_or_none);
	tcase_add_test(tc, failures_leave_no_output);
	tcase_add_test(tc, reader_rejects_what_is_not_an_image);
	tcase_add_test(tc, get_copies_a_tree_out_and_never_overwrites);
	tcase_add_test(tc, in_memory_tree_from_c);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
