/* A run's files read back (bootstrap/run_files.h) from a chroot tree and from a disk image made by
 * lbvm's own mkdisk: links are followed inside the run's system and never out of it, fifos never block,
 * listings are sorted; and the 2021 comparison (bootstrap/diff2021.h) on two such trees: each file counted
 * for the latest package that lists it, the first package that differs. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootstrap/diff2021.h"
#include "bootstrap/diff_packages.h"
#include "bootstrap/run_files.h"
#include "common/exit_codes.h"
#include "image/mkdisk.h"
#include "tests/unit/check_run.h"
#include "tests/unit/img_fixture.h"

static void fx_link(const char *dir, const char *rel, const char *target)
{
	char *p = fx_path(dir, rel);
	ck_assert_int_eq(symlink(target, p), 0);
	free(p);
}

/* A small system: /external/repo with two packages, links in and out, a fifo. */
static void make_tree(const char *dir, bool with_fifo)
{
	fx_mkdir(dir, "external");
	fx_mkdir(dir, "external/repo");
	fx_mkdir(dir, "external/repo/sub");
	fx_write(dir, "external/repo/b_0.tar.bz2", "package b", 0644);
	fx_write(dir, "external/repo/a_0.tar.bz2", "package a", 0644);
	fx_mkdir(dir, "data");
	fx_write(dir, "data/real", "inside", 0644);
	fx_link(dir, "external/repo/inside", "/data/real");
	fx_link(dir, "external/repo/outside", "/etc/hostname");
	fx_link(dir, "external/repo/up", "../../../../../../../../etc/passwd");
	if (with_fifo) {
		char *p = fx_path(dir, "external/repo/fifo");
		ck_assert_int_eq(mkfifo(p, 0644), 0);
		free(p);
	}
}

static char *read_all(struct run_files *f, const char *path, int *rc)
{
	char *text = NULL;
	size_t len;
	struct error err = { 0 };
	*rc = run_files_read(f, path, 4096, &text, &len, &err);
	return text;
}

static void common_checks(struct run_files *f, bool have_fifo)
{
	int rc;
	char *t = read_all(f, "/external/repo/a_0.tar.bz2", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(t, "package a");
	free(t);
	t = read_all(f, "external/repo/inside", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(t, "inside");
	free(t);
	/* the run's /etc has no hostname and no passwd: nothing of the host's is read */
	ck_assert_ptr_null(read_all(f, "/external/repo/outside", &rc));
	ck_assert_int_eq(rc, -ENOENT);
	ck_assert_ptr_null(read_all(f, "/external/repo/up", &rc));
	ck_assert_int_eq(rc, -ENOENT);
	ck_assert_ptr_null(read_all(f, "/external/repo/missing", &rc));
	ck_assert_int_eq(rc, -ENOENT);
	ck_assert_ptr_null(read_all(f, "/external/repo/sub", &rc)); /* a directory is no file */
	ck_assert_int_eq(rc, -ENOENT);
	ck_assert_ptr_null(read_all(f, "/external/repo/a_0.tar.bz2/x", &rc));
	ck_assert_int_eq(rc, -ENOENT);
	if (have_fifo) {
		ck_assert_ptr_null(read_all(f, "/external/repo/fifo", &rc)); /* and it does not block */
		ck_assert_int_eq(rc, -ENOENT);
	}
	char **names;
	size_t n;
	struct error err = { 0 };
	ck_assert_int_eq(run_files_list(f, "/external/repo", &names, &n, &err), 0);
	ck_assert_uint_eq(n, have_fifo ? 6 : 5);
	ck_assert_str_eq(names[0], "a_0.tar.bz2");
	ck_assert_str_eq(names[1], "b_0.tar.bz2");
	ck_assert_str_eq(names[have_fifo ? 3 : 2], "inside");
	run_files_free_names(names, n);
	ck_assert_int_eq(run_files_list(f, "/nowhere", &names, &n, &err), -ENOENT);
	ck_assert_int_eq(run_files_is_dir(f, "/external/repo/sub", &err), 1);
	ck_assert_int_eq(run_files_is_dir(f, "/external/repo/a_0.tar.bz2", &err), 0);
	ck_assert_int_eq(run_files_is_dir(f, "/external/none", &err), -ENOENT);
	/* too large for what the caller takes */
	char *text;
	size_t len;
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(run_files_read(f, "/external/repo/a_0.tar.bz2", 4, &text, &len, &err), -EFBIG);
	ck_assert_int_eq(error_exit_status(&err), EXIT_USAGE);
}

START_TEST(chroot_tree)
{
	char *dir = fx_tmpdir();
	make_tree(dir, true);
	struct run_files *f;
	struct error err = { 0 };
	const char *dirs[1] = { dir };
	ck_assert_int_eq(run_files_open_dirs(&f, dirs, 1, &err), 0);
	common_checks(f, true);
	run_files_close(f);
	const char *missing[1] = { "/nonexistent/target" };
	ck_assert_int_lt(run_files_open_dirs(&f, missing, 1, &err), 0);
	ck_assert_int_eq(error_exit_status(&err), EXIT_USAGE);
	fx_rmtree(dir);
}
END_TEST

START_TEST(disk_image)
{
	char *dir = fx_tmpdir(), *img_dir = fx_tmpdir();
	make_tree(dir, false);
	char *img = fx_path(img_dir, "disk.img");
	struct mkdisk_opts o = { .dir = dir, .output = img, .size = 16u << 20, .fs = MKDISK_EXT3,
				 .part_offset = MKDISK_DEFAULT_PART_OFFSET, .epoch = 1 };
	struct error err = { 0 };
	ck_assert_msg(mkdisk_build(&o, &err) == 0, "%s", err.msg);
	struct run_files *f;
	ck_assert_int_eq(run_files_open_disk(&f, img, &err), 0);
	ck_assert_str_eq(run_files_where(f), img);
	common_checks(f, false);
	run_files_close(f);
	free(img);
	fx_rmtree(dir);
	fx_rmtree(img_dir);
}
END_TEST

/* ---- 2021: lists and attribution ---- */

#define SUM_A "1111111111111111111111111111111111111111111111111111111111111111"

static void make_2021(const char *dir, const char *b_content)
{
	/* sysc: pkgA lists /usr/bin/a and /usr/share/x; pkgB (built later) lists /usr/share/x and /usr/bin/b */
	fx_mkdir(dir, "sysc");
	fx_mkdir(dir, "sysc/usr");
	fx_mkdir(dir, "sysc/usr/bin");
	fx_mkdir(dir, "sysc/usr/share");
	fx_mkdir(dir, "sysc/usr/src");
	fx_mkdir(dir, "sysc/usr/src/pkgA");
	fx_mkdir(dir, "sysc/usr/src/pkgB");
	fx_mkdir(dir, "sysc/usr/src/pkgB/checksums");
	fx_write(dir, "sysc/usr/src/pkgA/checksums", SUM_A "  /usr/bin/a\r\n" SUM_A "  /usr/share/x\nnot a line\n", 0644);
	fx_write(dir, "sysc/usr/src/pkgB/checksums/pass1", SUM_A " */usr/share/x\n", 0644);
	fx_write(dir, "sysc/usr/src/pkgB/checksums/pass2", SUM_A "  /usr/bin/b\n" SUM_A "  /usr/bin/gone\n", 0644);
	fx_write(dir, "sysc/usr/bin/a", "a", 0755);
	fx_write(dir, "sysc/usr/bin/b", b_content, 0755);
	fx_write(dir, "sysc/usr/share/x", "x", 0644);
	/* sysa: its lists in /after; its file reached through the sysa tree */
	fx_mkdir(dir, "sysa");
	fx_mkdir(dir, "sysa/after");
	fx_mkdir(dir, "sysa/after/mes");
	fx_write(dir, "sysa/after/mes/checksums", SUM_A "  /bin/mes\n", 0644);
	fx_mkdir(dir, "sysa/bin");
	fx_write(dir, "sysa/bin/mes", "mes", 0755);
}

START_TEST(files_2021_first_difference)
{
	char *d[2] = { fx_tmpdir(), fx_tmpdir() };
	make_2021(d[0], "b built once");
	make_2021(d[1], "b built twice");
	struct run_files *sys[2], *sysa[2];
	struct error err = { 0 };
	for (int i = 0; i < 2; i++) {
		char *c = fx_path(d[i], "sysc"), *a = fx_path(d[i], "sysa");
		const char *both[2] = { c, a }, *one[1] = { a };
		ck_assert_int_eq(run_files_open_dirs(&sys[i], both, 2, &err), 0);
		ck_assert_int_eq(run_files_open_dirs(&sysa[i], one, 1, &err), 0);
		free(c);
		free(a);
	}
	const struct run_step steps[] = {
		{ 1, (char *)"sysa", (char *)"mes", (char *)"mes", (char *)"ok" },
		{ 2, (char *)"sysc", (char *)"pkgA", (char *)"pkgA", (char *)"ok" },
		{ 3, (char *)"sysc", (char *)"pkgB", (char *)"pkgB", (char *)"ok" },
		{ 4, (char *)"sysc", (char *)"pkgC", (char *)"pkgC", (char *)"ok" }, /* no lists: not compared */
	};
	struct diff_pkgs pkgs;
	diff_pkgs_init(&pkgs);
	ck_assert_int_eq(diff2021_order(&pkgs, steps, 4, &err), 0);
	struct diff2021_run run[2] = { { sys[0], sysa[0], NULL }, { sys[1], sysa[1], NULL } };
	struct diff2021 files;
	ck_assert_msg(diff2021_compare(run, &pkgs, &files, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(pkgs.n, 4);
	/* mes: its file, found in the sysa tree */
	ck_assert_uint_eq(files.pkgs[0].n, 1);
	ck_assert_str_eq(files.pkgs[0].f[0].path, "/bin/mes");
	ck_assert(files.pkgs[0].f[0].present[0]);
	/* pkgA keeps only /usr/bin/a: pkgB, built later, lists /usr/share/x too */
	ck_assert_uint_eq(files.pkgs[1].n, 1);
	ck_assert_str_eq(files.pkgs[1].f[0].path, "/usr/bin/a");
	ck_assert_uint_eq(files.pkgs[2].n, 3);
	ck_assert_str_eq(files.pkgs[2].f[0].path, "/usr/bin/b");
	ck_assert_str_eq(files.pkgs[2].f[1].path, "/usr/bin/gone");
	ck_assert(!files.pkgs[2].f[1].present[0] && !files.pkgs[2].f[1].present[1]);
	ck_assert_str_eq(files.pkgs[2].f[2].path, "/usr/share/x");
	ck_assert_uint_eq(files.pkgs[3].n, 0);
	ck_assert(!diff_pkg_differs(&pkgs.p[0]));
	ck_assert(!diff_pkg_differs(&pkgs.p[1]));
	ck_assert(diff_pkg_differs(&pkgs.p[2]));
	ck_assert(!pkgs.p[3].present[0] && !pkgs.p[3].present[1]);
	ck_assert_uint_eq(diff_pkgs_first(&pkgs), 2);
	diff2021_free(&files);
	diff_pkgs_free(&pkgs);
	for (int i = 0; i < 2; i++) {
		run_files_close(sys[i]);
		run_files_close(sysa[i]);
		fx_rmtree(d[i]);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("run_files");
	TCase *tc = tcase_create("run_files");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, chroot_tree);
	tcase_add_test(tc, disk_image);
	tcase_add_test(tc, files_2021_first_difference);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
