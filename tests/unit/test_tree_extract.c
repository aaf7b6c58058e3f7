/* `lbvm disk get`'s writer against what a subverted image reader could send: streams written here by
 * hand (names with '/', "..", NUL, duplicates, links to files it never sent, device nodes, a stream that
 * breaks off, nesting too deep), and the real reader in its sandboxed child (image/extfs_child.h) on an
 * image made by mkdisk, including a job that tries what its sandbox forbids. */
#include "check_run.h"
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/exit_codes.h"
#include "common/file_lock.h"
#include "image/extfs_child.h"
#include "image/mkdisk.h"
#include "image/tree_extract.h"
#include "image/tree_stream.h"

static char dir[] = "/tmp/lbvm-extract-XXXXXX";
static char dest[sizeof(dir) + 16], outside[sizeof(dir) + 16];
static int stream;
static unsigned nrefused;
static char refusals[4096];

static void on_refused(void *ctx, const char *path, const char *why)
{
	(void)ctx;
	nrefused++;
	size_t used = strlen(refusals);
	snprintf(refusals + used, sizeof(refusals) - used, "%s: %s\n", path, why);
}

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(dest, sizeof(dest), "%s/out", dir);
	snprintf(outside, sizeof(outside), "%s/outside", dir);
	ck_assert_int_eq(mkdir(outside, 0755), 0);
	stream = memfd_create("stream", 0);
	ck_assert_int_ge(stream, 0);
	nrefused = 0;
	refusals[0] = '\0';
}

static void teardown(void)
{
	close(stream);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "chmod -R u+rwX %s; rm -rf %s", dir, dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir, "/tmp/lbvm-extract-XXXXXX");
}

/* ---- writing streams by hand ---- */

static void rec(uint32_t kind, const char *name, size_t name_len, uint32_t mode, uint64_t id, uint64_t size)
{
	struct tree_record r;
	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.mode = mode;
	r.nlink = 2;
	r.mtime = 1700000000;
	r.id = id;
	r.size = size;
	r.name_len = (uint32_t)name_len;
	memcpy(r.name, name, name_len);
	struct error err = { 0 };
	ck_assert_int_eq(tree_stream_put(stream, &r, &err), 0);
}

static void named(uint32_t kind, const char *name, uint32_t mode, uint64_t id, uint64_t size)
{
	rec(kind, name, strlen(name), mode, id, size);
}

static void payload(const char *data)
{
	struct error err = { 0 };
	ck_assert_int_eq(tree_stream_put_payload(stream, data, strlen(data), &err), 0);
}

static void file(const char *name, const char *content, uint32_t mode, uint64_t id)
{
	named(TREE_FILE, name, S_IFREG | mode, id, strlen(content));
	payload(content);
}

static void top_dir(void) { rec(TREE_DIR, "", 0, S_IFDIR | 0755, 2, 0); }
static void dir_end(void) { rec(TREE_DIR_END, "", 0, 0, 0, 0); }
static void end(void) { rec(TREE_END, "", 0, 0, 0, 0); }

static int extract_with(bool keep_setid, struct tree_extract_stats *st, struct error *err)
{
	ck_assert_int_eq(lseek(stream, 0, SEEK_SET), 0);
	struct tree_extract_opts o = { .source = "/", .keep_setid = keep_setid, .refused = on_refused };
	return tree_extract(stream, dest, &o, st, err);
}

static int extract(struct tree_extract_stats *st, struct error *err)
{
	return extract_with(false, st, err);
}

/* What DIR holds, sorted, joined with '|'. */
static void listing(const char *path, char *out, size_t cap)
{
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort);
	ck_assert_int_ge(n, 0);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
			size_t used = strlen(out);
			snprintf(out + used, cap - used, "%s|", names[i]->d_name);
		}
		free(names[i]);
	}
	free(names);
}

static void expect_listing(const char *path, const char *want)
{
	char got[1024];
	listing(path, got, sizeof(got));
	ck_assert_str_eq(got, want);
}

static char *at(const char *rel)
{
	static char p[512];
	snprintf(p, sizeof(p), "%s/%s", dest, rel);
	return p;
}

/* ---- tests ---- */

START_TEST(bad_names_are_refused_with_their_subtrees)
{
	top_dir();
	file("a/b", "escape", 0644, 10);
	file("..", "escape", 0644, 11);
	file(".", "escape", 0644, 12);
	rec(TREE_FILE, "x\0y", 3, S_IFREG | 0644, 13, 0);
	rec(TREE_FILE, "", 0, S_IFREG | 0644, 14, 0);
	named(TREE_DIR, "../../evil", S_IFDIR | 0755, 15, 0); /* with contents, all skipped */
	file("inner", "skipped", 0644, 16);
	named(TREE_DIR, "deeper", S_IFDIR | 0755, 17, 0);
	named(TREE_SYMLINK, "s", S_IFLNK | 0777, 18, 4);
	payload("/etc");
	dir_end();
	dir_end();
	file("ok", "fine", 0644, 19);
	dir_end();
	end();
	struct tree_extract_stats st;
	struct error err = { 0 };
	ck_assert_int_eq(extract(&st, &err), 0);
	ck_assert_uint_eq(nrefused, 6);
	ck_assert_uint_eq(st.refused, 6);
	ck_assert_ptr_nonnull(strstr(refusals, "/out/a/b: a name holding '/'"));
	ck_assert_ptr_nonnull(strstr(refusals, "/out/..: a name that is '.' or '..'"));
	ck_assert_ptr_nonnull(strstr(refusals, "/out/x\\x00y: a name holding a NUL byte"));
	ck_assert_ptr_nonnull(strstr(refusals, "/out/: an empty name"));
	ck_assert_ptr_nonnull(strstr(refusals, "/out/../../evil: a name holding '/'"));
	expect_listing(dest, "ok|");
	expect_listing(dir, "out|outside|");
	expect_listing(outside, "");
	ck_assert_uint_eq(st.files, 1);
}
END_TEST

START_TEST(symlinks_are_data_never_followed)
{
	top_dir();
	char target[600];
	snprintf(target, sizeof(target), "%s", outside);
	named(TREE_SYMLINK, "s", S_IFLNK | 0777, 20, strlen(target));
	payload(target);
	file("s", "through the link", 0644, 21);            /* same name again: refused */
	named(TREE_DIR, "s", S_IFDIR | 0755, 22, 0);        /* and as a directory */
	file("f", "x", 0644, 23);
	dir_end();
	rec(TREE_SYMLINK, "nul", 3, S_IFLNK | 0777, 24, 3);
	ck_assert_int_eq(write(stream, "a\0b", 3), 3);
	named(TREE_SYMLINK, "empty", S_IFLNK | 0777, 25, 0);
	dir_end();
	end();
	struct tree_extract_stats st;
	struct error err = { 0 };
	ck_assert_int_eq(extract(&st, &err), 0);
	char got[600];
	ssize_t n = readlink(at("s"), got, sizeof(got) - 1);
	ck_assert_int_gt(n, 0);
	got[n] = '\0';
	ck_assert_str_eq(got, outside);
	expect_listing(outside, "");
	expect_listing(dest, "s|");
	ck_assert_uint_eq(nrefused, 4);
	ck_assert_ptr_nonnull(strstr(refusals, "a second entry with the same name"));
	ck_assert_ptr_nonnull(strstr(refusals, "a symlink target holding a NUL byte"));
	ck_assert_ptr_nonnull(strstr(refusals, "an empty symlink target"));
}
END_TEST

START_TEST(hard_links_only_to_files_this_copy_made)
{
	top_dir();
	named(TREE_LINK, "to-nowhere", S_IFREG | 0644, 99, 0);
	named(TREE_DIR, "d", S_IFDIR | 0555, 30, 0);
	file("first", "shared", 0644, 31);
	dir_end();
	named(TREE_LINK, "second", S_IFREG | 0644, 31, 0);
	dir_end();
	end();
	struct tree_extract_stats st;
	struct error err = { 0 };
	ck_assert_int_eq(extract(&st, &err), 0);
	ck_assert_uint_eq(nrefused, 1);
	ck_assert_ptr_nonnull(strstr(refusals, "to-nowhere: a hard link to a file this copy did not create"));
	struct stat a, b;
	ck_assert_int_eq(lstat(at("d/first"), &a), 0);
	ck_assert_int_eq(lstat(at("second"), &b), 0);
	ck_assert_uint_eq(a.st_ino, b.st_ino);
	ck_assert_uint_eq(a.st_nlink, 2);
	ck_assert_uint_eq(st.hardlinks, 1);
	struct stat d;
	ck_assert_int_eq(stat(at("d"), &d), 0);
	ck_assert_uint_eq(d.st_mode & 07777, 0555); /* applied after its contents */
}
END_TEST

START_TEST(devices_fifos_sockets_are_refused)
{
	top_dir();
	struct tree_record r;
	memset(&r, 0, sizeof(r));
	named(TREE_SPECIAL, "console", S_IFCHR | 0600, 40, 0);
	named(TREE_SPECIAL, "sda", S_IFBLK | 0660, 41, 0);
	named(TREE_SPECIAL, "fifo", S_IFIFO | 0644, 42, 0);
	named(TREE_SPECIAL, "sock", S_IFSOCK | 0755, 43, 0);
	dir_end();
	end();
	struct tree_extract_stats st;
	struct error err = { 0 };
	ck_assert_int_eq(extract(&st, &err), 0);
	ck_assert_uint_eq(nrefused, 4);
	ck_assert_ptr_nonnull(strstr(refusals, "console: a character device"));
	ck_assert_ptr_nonnull(strstr(refusals, "sda: a block device"));
	ck_assert_ptr_nonnull(strstr(refusals, "fifo: a FIFO"));
	ck_assert_ptr_nonnull(strstr(refusals, "sock: a socket"));
	expect_listing(dest, "");

	/* a device asked for by name: the whole copy fails, nothing is left */
	teardown();
	setup();
	named(TREE_SPECIAL, "", S_IFCHR | 0600, 44, 0);
	end();
	ck_assert_int_eq(extract(&st, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "character device"));
	expect_listing(dir, "outside|");
}
END_TEST

START_TEST(setid_bits_dropped_unless_asked)
{
	top_dir();
	file("suid", "x", 06755, 50);
	named(TREE_DIR, "sgid-dir", S_IFDIR | 02775, 51, 0);
	dir_end();
	file("sticky", "x", 01777, 52);
	dir_end();
	end();
	struct tree_extract_stats st;
	struct error err = { 0 };
	ck_assert_int_eq(extract(&st, &err), 0);
	struct stat s;
	ck_assert_int_eq(lstat(at("suid"), &s), 0);
	ck_assert_uint_eq(s.st_mode & 07777, 0755);
	ck_assert_int_eq(lstat(at("sgid-dir"), &s), 0);
	ck_assert_uint_eq(s.st_mode & 07777, 0775);
	ck_assert_int_eq(lstat(at("sticky"), &s), 0);
	ck_assert_uint_eq(s.st_mode & 07777, 01777);
	ck_assert_int_eq(system("true"), 0);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dest);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(extract_with(true, &st, &err), 0);
	ck_assert_int_eq(lstat(at("suid"), &s), 0);
	ck_assert_uint_eq(s.st_mode & 07777, 06755);
}
END_TEST

START_TEST(a_broken_stream_leaves_nothing)
{
	struct tree_extract_stats st;
	struct error err = { 0 };
	/* stops in the middle of a file's content */
	top_dir();
	named(TREE_DIR, "sub", S_IFDIR | 0755, 60, 0);
	named(TREE_FILE, "f", S_IFREG | 0644, 61, 100);
	payload("only a part");
	ck_assert_int_eq(extract(&st, &err), -EPROTO);
	expect_listing(dir, "outside|"); /* no DEST, no staging directory */

	/* an unknown record kind, a DIR_END too many, an END inside a directory, two trees */
	const uint32_t bad[][3] = { { 77, 0, 0 }, { TREE_DIR_END, 0, 0 }, { TREE_DIR, TREE_END, 0 },
				    { TREE_FILE, TREE_FILE, 0 } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(ftruncate(stream, 0), 0);
		ck_assert_int_eq(lseek(stream, 0, SEEK_SET), 0);
		for (int k = 0; k < 3 && bad[i][k]; k++)
			rec(bad[i][k], "", 0, bad[i][k] == TREE_FILE ? S_IFREG | 0644 : S_IFDIR | 0755, 70, 0);
		memset(&err, 0, sizeof(err));
		ck_assert_int_eq(extract(&st, &err), -EPROTO);
		expect_listing(dir, "outside|");
	}
	/* nesting deeper than the limit */
	ck_assert_int_eq(ftruncate(stream, 0), 0);
	ck_assert_int_eq(lseek(stream, 0, SEEK_SET), 0);
	top_dir();
	for (int i = 0; i < TREE_STREAM_MAX_DEPTH + 5; i++)
		named(TREE_DIR, "d", S_IFDIR | 0755, 100 + (uint64_t)i, 0);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(extract(&st, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "nested deeper"), "%s", err.msg);
	expect_listing(dir, "outside|");
}
END_TEST

START_TEST(dest_must_be_new)
{
	top_dir();
	dir_end();
	end();
	ck_assert_int_eq(mkdir(dest, 0755), 0);
	struct tree_extract_stats st;
	struct error err = { 0 };
	ck_assert_int_eq(extract(&st, &err), -EEXIST);
	ck_assert_int_eq(rmdir(dest), 0);
	/* a read-only top directory still lands (its mode is applied after the rename) */
	ck_assert_int_eq(ftruncate(stream, 0), 0);
	ck_assert_int_eq(lseek(stream, 0, SEEK_SET), 0);
	rec(TREE_DIR, "", 0, S_IFDIR | 0500, 2, 0);
	file("f", "x", 0444, 3);
	dir_end();
	end();
	ck_assert_int_eq(extract(&st, &err), 0);
	struct stat s;
	ck_assert_int_eq(stat(dest, &s), 0);
	ck_assert_uint_eq(s.st_mode & 07777, 0500);
}
END_TEST

/* ---- the real reader, confined ---- */

static void make_image(char *img, size_t cap)
{
	char tree[512], p[600];
	snprintf(tree, sizeof(tree), "%s/tree", dir);
	ck_assert_int_eq(mkdir(tree, 0755), 0);
	snprintf(p, sizeof(p), "%s/hello", tree);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs("hello from the image\n", f);
	fclose(f);
	snprintf(img, cap, "%s/img", dir);
	struct mkdisk_opts o = { .dir = tree, .output = img, .size = 4u << 20, .fs = MKDISK_EXT2, .raw = true,
				 .epoch = 1 };
	struct error err = { 0 };
	ck_assert_msg(mkdisk_build(&o, &err) == 0, "%s", err.msg);
}

static int export_job(struct extfs *d, void *ctx, int out_fd, struct error *err)
{
	return extfs_export(d, ctx, out_fd, err);
}

/* What a subverted reader might try: open a host file (to copy it into the destination, say). */
static int open_job(struct extfs *d, void *ctx, int out_fd, struct error *err)
{
	(void)d;
	(void)ctx;
	(void)out_fd;
	int fd = open("/etc/passwd", O_RDONLY);
	return error_fail(err, -EINVAL, "the sandbox let open() through (fd %d)", fd);
}

/* Run JOB in the confined reader with stderr captured into ERR_TEXT. */
static int run_child(const char *img, extfs_job_fn job, void *ctx, int out_fd, struct error *err, char *err_text,
		     size_t cap)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/stderr", dir);
	int cap_fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600), saved = dup(STDERR_FILENO);
	ck_assert_int_ge(cap_fd, 0);
	dup2(cap_fd, STDERR_FILENO);
	struct extfs_child c;
	int rc = extfs_child_start(&c, img, 0, out_fd, job, ctx, err);
	if (!rc) {
		if (out_fd < 0) {
			char buf[4096];
			while (read(c.out_fd, buf, sizeof(buf)) > 0)
				;
		}
		rc = extfs_child_finish(&c, false, err);
	}
	dup2(saved, STDERR_FILENO);
	close(saved);
	ssize_t n = pread(cap_fd, err_text, cap - 1, 0);
	err_text[n > 0 ? n : 0] = '\0';
	close(cap_fd);
	return rc;
}

START_TEST(the_reader_runs_confined)
{
	char img[600], text[1024];
	make_image(img, sizeof(img));
	struct error err = { 0 };
	/* a real job inside the sandbox works */
	ck_assert_msg(run_child(img, export_job, "/", -1, &err, text, sizeof(text)) == 0, "%s / %s", err.msg, text);
	/* a forbidden call stops the child with the report; the parent says so with EXIT_SANDBOX */
	memset(&err, 0, sizeof(err));
	ck_assert_int_ne(run_child(img, open_job, NULL, STDOUT_FILENO, &err, text, sizeof(text)), 0);
	ck_assert_int_eq(error_exit_status(&err), EXIT_SANDBOX);
	ck_assert_msg(strstr(text, "lbvm: sandbox: the image-reader thread made a forbidden system call: openat (257)"),
		      "stderr: %s", text);
}
END_TEST

START_TEST(the_reader_respects_a_write_lock)
{
	char img[600], text[1024];
	make_image(img, sizeof(img));
	int fd = open(img, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(file_lock(fd, true), 0); /* what lbvm boot holds on a read-write disk */
	struct error err = { 0 };
	ck_assert_int_ne(run_child(img, export_job, "/", -1, &err, text, sizeof(text)), 0);
	ck_assert_int_eq(error_exit_status(&err), EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(err.msg, "in use"));
	close(fd);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(run_child(img, export_job, "/", -1, &err, text, sizeof(text)), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tree-extract");
	TCase *tc = tcase_create("stream");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, bad_names_are_refused_with_their_subtrees);
	tcase_add_test(tc, symlinks_are_data_never_followed);
	tcase_add_test(tc, hard_links_only_to_files_this_copy_made);
	tcase_add_test(tc, devices_fifos_sockets_are_refused);
	tcase_add_test(tc, setid_bits_dropped_unless_asked);
	tcase_add_test(tc, a_broken_stream_leaves_nothing);
	tcase_add_test(tc, dest_must_be_new);
	suite_add_tcase(s, tc);
	TCase *child = tcase_create("confined-reader");
	tcase_add_checked_fixture(child, setup, teardown);
	tcase_set_timeout(child, 30);
	tcase_add_test(child, the_reader_runs_confined);
	tcase_add_test(child, the_reader_respects_a_write_lock);
	suite_add_tcase(s, child);
	return check_run(s);
}
