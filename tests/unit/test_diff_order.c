/* The ordering and "first difference" logic of lbvm diff: which tarball each step of a plan makes
 * (helpers.sh's get_revision, prefix matches included), the 2021 packages at their last build, the first
 * package that differs and what counts as a difference, and the inputs' comparison lines. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap/diff2021.h"
#include "bootstrap/diff_inputs.h"
#include "bootstrap/diff_packages.h"
#include "bootstrap/run_json.h"
#include "common/printable.h"
#include "tests/unit/check_run.h"

#define STEP(i, stage, name, pkg) { i, (char *)(stage), (char *)(name), (char *)(pkg), (char *)"ok" }

START_TEST(tarballs_named_as_get_revision_names_them)
{
	const struct run_step steps[] = {
		STEP(1, "kaem", "stage0-posix", NULL),
		STEP(2, "kaem", "hello-1.0 pass1", "hello-1.0"), /* kaem era: no package */
		STEP(3, "kaem", "bash-1.0", "bash-1.0"),
		STEP(4, "bash", "setup_repo", NULL),
		STEP(5, "bash", "hello-1.0 pass2", "hello-1.0"),
		STEP(6, "bash", "hello-1.0-extra", "hello-1.0-extra"),
		STEP(7, "bash", "words-1.0", "words-1.0"),
		STEP(8, "bash", "hello-1.0 pass3", "hello-1.0"),    /* counts hello-1.0_0 and hello-1.0-extra_0 */
		STEP(9, "bash", "after", NULL),
	};
	struct diff_pkgs l;
	struct error err = { 0 };
	diff_pkgs_init(&l);
	ck_assert_int_eq(diff_pkgs_from_plan(&l, steps, sizeof(steps) / sizeof(steps[0]), &err), 0);
	ck_assert_uint_eq(l.n, 4);
	ck_assert_str_eq(l.p[0].name, "hello-1.0_0.tar.bz2");
	ck_assert_str_eq(l.p[0].step, "hello-1.0 pass2");
	ck_assert_uint_eq(l.p[0].index, 5);
	ck_assert_str_eq(l.p[1].name, "hello-1.0-extra_0.tar.bz2");
	ck_assert_str_eq(l.p[2].name, "words-1.0_0.tar.bz2");
	ck_assert_str_eq(l.p[3].name, "hello-1.0_2.tar.bz2");
	ck_assert_uint_eq(l.p[3].index, 8);
	/* B's plan adds nothing already there, and appends what only it makes */
	const struct run_step more[] = { STEP(1, "bash", "words-1.0", "words-1.0"), STEP(2, "bash", "zlib", "zlib") };
	ck_assert_int_eq(diff_pkgs_from_plan(&l, more, 2, &err), 0);
	ck_assert_uint_eq(l.n, 5);
	ck_assert_str_eq(l.p[4].name, "zlib_0.tar.bz2");
	/* and a repo's stray file after them */
	ck_assert_int_eq(diff_pkgs_add(&l, "base.tar.bz2", NULL, 0, &err), 0);
	ck_assert_int_eq(diff_pkgs_add(&l, "zlib_0.tar.bz2", NULL, 0, &err), 0);
	ck_assert_uint_eq(l.n, 6);
	ck_assert_ptr_null(l.p[5].step);
	ck_assert_ptr_eq(diff_pkgs_find(&l, "words-1.0_0.tar.bz2"), &l.p[2]);
	diff_pkgs_free(&l);
}
END_TEST

static void set(struct diff_pkg *p, bool a, bool b, unsigned char ha, unsigned char hb)
{
	p->present[0] = a;
	p->present[1] = b;
	memset(p->hash[0], ha, 32);
	memset(p->hash[1], hb, 32);
}

START_TEST(first_difference_and_counts)
{
	struct diff_pkgs l;
	struct error err = { 0 };
	diff_pkgs_init(&l);
	const char *names[] = { "a", "b", "c", "d", "e" };
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(diff_pkgs_add(&l, names[i], names[i], (size_t)i + 1, &err), 0);
	/* all the same; one made by neither run */
	set(&l.p[0], true, true, 1, 1);
	set(&l.p[1], true, true, 2, 2);
	set(&l.p[2], false, false, 3, 4); /* hashes of absent packages mean nothing */
	set(&l.p[3], true, true, 5, 5);
	set(&l.p[4], true, true, 6, 6);
	size_t compared, differing;
	ck_assert_uint_eq(diff_pkgs_first(&l), 5);
	diff_pkgs_count(&l, &compared, &differing);
	ck_assert_uint_eq(compared, 4);
	ck_assert_uint_eq(differing, 0);
	/* d differs, then e */
	set(&l.p[3], true, true, 5, 7);
	set(&l.p[4], true, true, 6, 8);
	ck_assert_uint_eq(diff_pkgs_first(&l), 3);
	diff_pkgs_count(&l, &compared, &differing);
	ck_assert_uint_eq(differing, 2);
	/* b only in A (B stopped there): it comes first */
	set(&l.p[1], true, false, 2, 0);
	ck_assert(diff_pkg_differs(&l.p[1]));
	ck_assert_uint_eq(diff_pkgs_first(&l), 1);
	set(&l.p[1], false, true, 0, 2);
	ck_assert_uint_eq(diff_pkgs_first(&l), 1);
	ck_assert(!diff_pkg_differs(&l.p[2]));
	diff_pkgs_free(&l);
}
END_TEST

START_TEST(packages_2021_at_their_last_build)
{
	const struct run_step a[] = {
		STEP(1, "sysa", "stage0-posix", NULL),
		STEP(2, "sysa", "mes", "mes"),
		STEP(3, "sysa", "tcc-0.9.26", "tcc-0.9.26"),
		STEP(4, "sysa", "musl-1.1.24", "musl-1.1.24"),
		STEP(5, "sysa", "tcc-0.9.27", "tcc-0.9.27"),
		STEP(6, "sysa", "musl-1.1.24 (2)", "musl-1.1.24"),
		STEP(7, "sysb", "sysb", NULL),
		STEP(8, "sysc", "musl-1.1.24", "musl-1.1.24"),
	};
	struct diff_pkgs l;
	struct error err = { 0 };
	diff_pkgs_init(&l);
	ck_assert_int_eq(diff2021_order(&l, a, sizeof(a) / sizeof(a[0]), &err), 0);
	ck_assert_uint_eq(l.n, 5);
	ck_assert_str_eq(l.p[0].name, "sysa/mes");
	ck_assert_str_eq(l.p[1].name, "sysa/tcc-0.9.26");
	ck_assert_str_eq(l.p[2].name, "sysa/tcc-0.9.27");
	ck_assert_str_eq(l.p[3].name, "sysa/musl-1.1.24");
	ck_assert_str_eq(l.p[3].step, "musl-1.1.24 (2)");
	ck_assert_uint_eq(l.p[3].index, 6);
	ck_assert_str_eq(l.p[4].name, "sysc/musl-1.1.24");
	const struct run_step b[] = { STEP(1, "sysc", "xz-5.0.5", "xz-5.0.5"), STEP(2, "sysa", "mes", "mes") };
	ck_assert_int_eq(diff2021_order(&l, b, 2, &err), 0);
	ck_assert_uint_eq(l.n, 6);
	ck_assert_str_eq(l.p[5].name, "sysc/xz-5.0.5");
	diff_pkgs_free(&l);
	/* the initramfs members kept for their lists */
	ck_assert(diff2021_keep_list(NULL, "after/mes/checksums"));
	ck_assert(diff2021_keep_list(NULL, "./after/bison-3.4.1/checksums/stage1"));
	ck_assert(diff2021_keep_list(NULL, "/after/x/checksums"));
	ck_assert(!diff2021_keep_list(NULL, "after/mes/checksums.bak"));
	ck_assert(!diff2021_keep_list(NULL, "after/mes/src/checksums"));
	ck_assert(!diff2021_keep_list(NULL, "after/checksums"));
	ck_assert(!diff2021_keep_list(NULL, "usr/src/mes/checksums"));
}
END_TEST

static char *capture_inputs(const struct run_info *a, const struct run_info *b, size_t *n)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	*n = diff_inputs(a, b, f);
	fclose(f);
	return text;
}

START_TEST(inputs_lines)
{
	struct run_item ia[] = { { (char *)"kernel", (char *)"/a/k", (char *)"aa" },
				 { (char *)"distfile x", (char *)"x", (char *)"11" },
				 { (char *)"distfile y", (char *)"y", NULL } };
	struct run_item ib[] = { { (char *)"kernel", (char *)"/b/k", (char *)"aa" },
				 { (char *)"distfile x", (char *)"x", (char *)"22" },
				 { (char *)"disk", (char *)"d.img", (char *)"33" } };
	struct run_item oa[] = { { (char *)"mode", (char *)"vm", NULL }, { (char *)"distfiles", (char *)"/c1", NULL } };
	struct run_item ob[] = { { (char *)"mode", (char *)"chroot", NULL }, { (char *)"distfiles", (char *)"/c2", NULL } };
	struct run_item ma[] = { { (char *)"memory_mib", (char *)"1024", NULL } };
	struct run_step sa[] = { STEP(1, "kaem", "stage0-posix", NULL), STEP(2, "bash", "w", "w") };
	struct run_step sb[] = { STEP(1, "kaem", "stage0-posix", NULL), STEP(2, "bash", "v", "v"),
				 STEP(3, "bash", "w", "w") };
	struct run_info a = { .version = (char *)"0.1.0", .inputs = ia, .n_inputs = 3, .options = oa, .n_options = 2,
			      .machine = ma, .n_machine = 1, .steps = sa, .n_steps = 2 };
	struct run_info b = { .version = (char *)"0.2.0", .inputs = ib, .n_inputs = 3, .options = ob, .n_options = 2,
			      .machine = NULL, .n_machine = 0, .steps = sb, .n_steps = 3 };
	size_t n;
	char *text = capture_inputs(&a, &b, &n);
	ck_assert_str_eq(text, "  lbvm version: 0.1.0 (A) vs 0.2.0 (B)\n"
			       "  input distfile x: 11 (A) vs 22 (B)\n"
			       "  input distfile y: only in A (y)\n"
			       "  input disk: only in B (d.img)\n"
			       "  option mode: vm (A) vs chroot (B)\n"
			       "  machine memory_mib: only in A (1024)\n"
			       "  plan: step 2 is 'w' (A) vs 'v' (B)\n"
			       "  plan: 2 steps (A) vs 3 steps (B)\n");
	ck_assert_uint_eq(n, 8);
	free(text);
	/* a run against itself: nothing */
	text = capture_inputs(&a, &a, &n);
	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq(text, "");
	free(text);
}
END_TEST

START_TEST(keyed_text_lines)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	size_t n = diff_keyed_text("bootstrap.cfg", KEYED_ASSIGN, "ARCH=x86\nJOBS=2\r\nCHROOT=True\nODD\n",
				   "ARCH=x86\nJOBS=4\nCHROOT=True\nNEW=\x1b[1m\n", f);
	n += diff_keyed_text("SHA256SUMS.pkgs", KEYED_SHA256SUM, "aa  w_0.tar.bz2\nbb *h_0.tar.bz2\n",
			     "aa  w_0.tar.bz2\ncc  h_0.tar.bz2\n", f);
	n += diff_keyed_text("SHA256SUMS.pkgs", KEYED_SHA256SUM, NULL, "aa  w_0.tar.bz2\n", f);
	n += diff_keyed_text("x", KEYED_ASSIGN, NULL, NULL, f);
	fclose(f);
	ck_assert_str_eq(text, "  bootstrap.cfg JOBS: 2 (A) vs 4 (B)\n"
			       "  bootstrap.cfg ODD: only in A ()\n"
			       "  bootstrap.cfg NEW: only in B (?[1m)\n"
			       "  SHA256SUMS.pkgs h_0.tar.bz2: bb (A) vs cc (B)\n"
			       "  SHA256SUMS.pkgs: only in B\n");
	ck_assert_uint_eq(n, 5);
	free(text);
	char v[80];
	keyed_value(KEYED_SHA256SUM, "aa  w_0.tar.bz2\nbb  h_0.tar.bz2\n", "h_0.tar.bz2", v, sizeof(v));
	ck_assert_str_eq(v, "bb");
	keyed_value(KEYED_ASSIGN, "UPDATE_CHECKSUMS=True\n", "UPDATE_CHECKSUMS", v, sizeof(v));
	ck_assert_str_eq(v, "True");
	keyed_value(KEYED_ASSIGN, NULL, "X", v, sizeof(v));
	ck_assert_str_eq(v, "");
	/* what a guest names is shown without its control bytes, cut to the room there is */
	char buf[8];
	ck_assert_str_eq(printable(buf, sizeof(buf), "a\tb\x7f"), "a?b?");
	ck_assert_str_eq(printable(buf, sizeof(buf), "abcdefghij"), "abcd...");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("diff_order");
	TCase *tc = tcase_create("diff_order");
	tcase_add_test(tc, tarballs_named_as_get_revision_names_them);
	tcase_add_test(tc, first_difference_and_counts);
	tcase_add_test(tc, packages_2021_at_their_last_build);
	tcase_add_test(tc, inputs_lines);
	tcase_add_test(tc, keyed_text_lines);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
