/* The kernel-bootstrap boot image (kbs/kbs_image.c) from files written here: a checkout with builder-hex0's
 * two stages (a stage-1 hex0 text that compiles to a boot sector, a stage-2 text) and a small target tree
 * with folders, files, an empty file, a name with a space and git's files, listed by steps_srcfs_list as
 * lbvm bootstrap lists it. Checks every byte of the result against the layout live-bootstrap's generator
 * produces, the size rules, and every input error (with nothing left behind). */
#include "check_run.h"
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/fstree.h"
#include "kbs/kbs_image.h"
#include "steps/steps.h"

static char dir[] = "/tmp/lbvm-kbs-XXXXXX";
static char checkout[256], stage1[256], stage2[256], tree[256], out[256];
static struct fs_tree init;
static struct steps_srcfs stream;

static const char STAGE2_TEXT[] = "# stage two, as source\n90 90 ; nops\nEB FE\n";

static void write_text(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void in_tree(const char *rel, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tree, rel);
	write_text(p, text, strlen(text));
}

/* A 512-byte boot sector in hex0: a jump, 508 zero bytes in lines of 4, the signature; with comments. */
static void make_stage1(size_t zero_bytes)
{
	size_t cap = 64 + zero_bytes * 4;
	char *text = malloc(cap);
	ck_assert_ptr_nonnull(text);
	size_t n = (size_t)snprintf(text, cap, "# builder-hex0 stand-in\nEB fe    ; jmp $\n");
	for (size_t i = 0; i < zero_bytes; i++)
		n += (size_t)snprintf(text + n, cap - n, i % 4 == 3 ? "00\n" : "00 ");
	n += (size_t)snprintf(text + n, cap - n, "\n55 AA # signature\n");
	write_text(stage1, text, n);
	free(text);
}

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char p[512];
	path_of(checkout, sizeof(checkout), "checkout");
	ck_assert_int_eq(mkdir(checkout, 0755), 0);
	snprintf(p, sizeof(p), "%s/builder-hex0", checkout);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	path_of(stage1, sizeof(stage1), "checkout/builder-hex0/builder-hex0-x86-stage1.hex0");
	path_of(stage2, sizeof(stage2), "checkout/builder-hex0/builder-hex0-x86-stage2.hex0");
	path_of(tree, sizeof(tree), "init");
	path_of(out, sizeof(out), "init.img");
	make_stage1(508);
	write_text(stage2, STAGE2_TEXT, strlen(STAGE2_TEXT));
	ck_assert_int_eq(mkdir(tree, 0755), 0);
	snprintf(p, sizeof(p), "%s/a", tree);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/a/b", tree);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/.git", tree);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	in_tree("a/x", "hello\n");
	in_tree("a/b/empty", "");
	in_tree("kaem.x86", "echo kaem\n");
	in_tree("two words", "w");
	in_tree(".git/config", "[core]\n");
	in_tree(".gitignore", "*.o\n");
}

/* The stream of the tree as it is now, as lbvm bootstrap lists it. */
static void list_stream(void)
{
	struct error err = { 0 };
	fstree_init(&init);
	ck_assert_msg(fstree_scan(&init, tree, &err) == 0, "%s", err.msg);
	ck_assert_msg(fstree_finish(&init, &err) == 0, "%s", err.msg);
	ck_assert_msg(steps_srcfs_list(checkout, &init, &stream, &err) == 0, "%s", err.msg);
}

static void unlist_stream(void)
{
	steps_srcfs_free(&stream);
	fstree_free(&init);
}

static void teardown(void)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir, "/tmp/lbvm-kbs-XXXXXX");
}

static uint8_t *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	uint8_t *buf = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static int nothing_left(void)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "ls '%s' | grep -q 'init.img'", dir);
	return system(cmd) != 0;
}

START_TEST(layout_is_the_generators)
{
	struct error err = { 0 };
	list_stream();
	ck_assert_msg(kbs_image_write(&stream, 0, out, &err) == 0, "%s", err.msg);
	size_t len;
	uint8_t *img = slurp(out, &len);
	ck_assert_uint_eq(len, KBS_ALIGN);
	/* LBA 0: the compiled stage 1 */
	ck_assert_uint_eq(img[0], 0xeb);
	ck_assert_uint_eq(img[1], 0xfe);
	for (int i = 2; i < 510; i++)
		ck_assert_uint_eq(img[i], 0);
	ck_assert_uint_eq(img[510], 0x55);
	ck_assert_uint_eq(img[511], 0xaa);
	/* LBA 1: stage 2 as text, padded to a sector */
	ck_assert_int_eq(memcmp(img + 512, STAGE2_TEXT, strlen(STAGE2_TEXT)), 0);
	for (size_t i = 512 + strlen(STAGE2_TEXT); i < 1024; i++)
		ck_assert_uint_eq(img[i], 0);
	/* LBA 2: the stream in os.walk order (a folder's folders, its files, then each folder), git's files
	 * left out, then the seeds' commands */
	const char want[] = "src 0 .\n"
			    "src 0 ./a\n"
			    "src 10 ./kaem.x86\necho kaem\n"
			    "src 1 ./two words\nw"
			    "src 0 ./a/b\n"
			    "src 6 ./a/x\nhello\n"
			    "src 0 ./a/b/empty\n"
			    "src 0 /bootstrap-seeds\n"
			    "src 0 /bootstrap-seeds/POSIX\n"
			    "src 0 /bootstrap-seeds/POSIX/x86\n"
			    "hex0 /x86/hex0_x86.hex0 /bootstrap-seeds/POSIX/x86/hex0-seed\n"
			    "hex0 /x86/kaem-minimal.hex0 /bootstrap-seeds/POSIX/x86/kaem-optional-seed\n"
			    "hex0 /x86/kaem-minimal.hex0 /init\n"
			    "/bootstrap-seeds/POSIX/x86/kaem-optional-seed /kaem.x86\n";
	ck_assert_msg(memcmp(img + 1024, want, strlen(want)) == 0, "stream: %.600s", (const char *)img + 1024);
	for (size_t i = 1024 + strlen(want); i < len; i++)
		ck_assert_uint_eq(img[i], 0);
	free(img);
	/* The same inputs give the same bytes. */
	char again[300];
	path_of(again, sizeof(again), "again.img");
	ck_assert_int_eq(kbs_image_write(&stream, 0, again, &err), 0);
	size_t len2;
	uint8_t *a = slurp(out, &len), *b = slurp(again, &len2);
	ck_assert_uint_eq(len, len2);
	ck_assert_int_eq(memcmp(a, b, len), 0);
	free(a);
	free(b);
	unlist_stream();
}
END_TEST

START_TEST(size_pads_sparsely_or_refuses)
{
	struct error err = { 0 };
	list_stream();
	ck_assert_int_eq(kbs_image_write(&stream, 16 * KBS_ALIGN, out, &err), 0);
	struct stat st;
	ck_assert_int_eq(stat(out, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, 16 * KBS_ALIGN);
	ck_assert_uint_lt((uint64_t)st.st_blocks * 512, 4 * KBS_ALIGN); /* not written out */
	unlink(out);
	ck_assert_int_eq(kbs_image_write(&stream, KBS_ALIGN / 2, out, &err), -EFBIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "needs 1 MiB"));
	ck_assert_int_eq(error_exit_status(&err), 2);
	ck_assert(nothing_left());
	unlist_stream();
}
END_TEST

START_TEST(hex0_rules)
{
	struct error err = { 0 };
	uint8_t *bin;
	size_t n;
	const char ok[] = "0a 0B # comment 12\n;another ff\n  f F\t00";
	ck_assert_int_eq(kbs_hex0_compile(ok, strlen(ok), "t", &bin, &n, &err), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(bin[0], 0x0a);
	ck_assert_uint_eq(bin[1], 0x0b);
	ck_assert_uint_eq(bin[2], 0xff);
	ck_assert_uint_eq(bin[3], 0x00);
	free(bin);
	const char bad[] = "00\n11\n2x\n";
	ck_assert_int_eq(kbs_hex0_compile(bad, strlen(bad), "t", &bin, &n, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "line 3"));
	struct error err2 = { 0 };
	ck_assert_int_eq(kbs_hex0_compile("abc", 3, "t", &bin, &n, &err2), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err2.msg, "odd"));
}
END_TEST

/* Each broken input: an error naming it, and no image. */
START_TEST(bad_inputs)
{
	struct error err = { 0 };
	char p[512];
	list_stream();

	make_stage1(507); /* 511 bytes */
	ck_assert_int_eq(kbs_image_write(&stream, 0, out, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "not a 512-byte boot sector"));
	make_stage1(508);

	err = (struct error){ 0 };
	write_text(stage2, "90\0 90\n", 7);
	ck_assert_int_eq(kbs_image_write(&stream, 0, out, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "zero byte"));
	write_text(stage2, STAGE2_TEXT, strlen(STAGE2_TEXT));
	unlist_stream();

	err = (struct error){ 0 };
	in_tree("a/tab\there", "x");
	list_stream();
	ck_assert_int_eq(kbs_image_write(&stream, 0, out, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "control character"));
	unlist_stream();
	snprintf(p, sizeof(p), "%s/a/tab\there", tree);
	unlink(p);

	err = (struct error){ 0 };
	char longname[1100];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	snprintf(p, sizeof(p), "%s/a/b", tree);
	char deep[1400];
	snprintf(deep, sizeof(deep), "%s", tree);
	/* a path over 1 KiB, made of names the host allows */
	for (int i = 0; i < 6; i++) {
		size_t n = strlen(deep);
		snprintf(deep + n, sizeof(deep) - n, "/%.200s", longname);
		ck_assert_int_eq(mkdir(deep, 0755), 0);
	}
	list_stream();
	ck_assert_int_eq(kbs_image_write(&stream, 0, out, &err), -ENAMETOOLONG);
	unlist_stream();
	snprintf(p, sizeof(p), "rm -rf '%s/%.200s'", tree, longname);
	ck_assert_int_eq(system(p), 0);

	/* A file that shrinks between listing and writing. */
	err = (struct error){ 0 };
	in_tree("a/x", "hello, and more\n");
	list_stream();
	in_tree("a/x", "hi\n");
	ck_assert_int_lt(kbs_image_write(&stream, 0, out, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "shrank"));
	unlist_stream();

	err = (struct error){ 0 };
	list_stream();
	free(stream.stage1);
	stream.stage1 = strdup("/nonexistent/stage1.hex0");
	ck_assert_int_eq(kbs_image_write(&stream, 0, out, &err), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "stage 1"));
	ck_assert_int_eq(error_exit_status(&err), 2);
	unlist_stream();
	ck_assert(nothing_left());
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kbs_image");
	TCase *tc = tcase_create("image");
	tcase_set_timeout(tc, 60); /* every image is fsync'ed: slow on a busy disk */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, layout_is_the_generators);
	tcase_add_test(tc, size_pads_sparsely_or_refuses);
	tcase_add_test(tc, hex0_rules);
	tcase_add_test(tc, bad_inputs);
	suite_add_tcase(s, tc);
	return check_run(s);
}
