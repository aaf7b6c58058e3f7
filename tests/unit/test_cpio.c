/* cpio newc writer, initramfs builder, tree scan and spec parser. */
#include "check_run.h"
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "img_fixture.h"
#include "image/cpio_newc.h"
#include "image/epoch.h"
#include "image/fstree.h"
#include "image/initramfs.h"
#include "image/spec.h"

#define TEST_EPOCH 1700000000u
#define MAX_MEMBERS 64

/* ---- a minimal independent reader of the newc bytes ---- */

struct member {
	char name[256];
	uint32_t f[13]; /* the 13 header fields in order */
	const unsigned char *data;
};
enum { F_INO, F_MODE, F_UID, F_GID, F_NLINK, F_MTIME, F_SIZE, F_DMAJ, F_DMIN, F_RMAJ, F_RMIN, F_NAMESIZE, F_CHECK };

static uint32_t hex8(const unsigned char *p)
{
	char tmp[9];
	memcpy(tmp, p, 8);
	tmp[8] = '\0';
	char *end;
	unsigned long v = strtoul(tmp, &end, 16);
	ck_assert_ptr_eq(end, tmp + 8);
	return (uint32_t)v;
}

static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* Parse BUF into M; returns the member count (trailer excluded) and checks the framing as it goes. */
static int parse_newc(const unsigned char *buf, size_t len, struct member *m, int max)
{
	size_t off = 0;
	int n = 0;
	for (;;) {
		ck_assert_uint_le(off + CPIO_NEWC_HEADER_LEN, len);
		ck_assert_int_eq(memcmp(buf + off, "070701", 6), 0);
		struct member cur;
		for (int i = 0; i < 13; i++)
			cur.f[i] = hex8(buf + off + 6 + 8 * i);
		size_t namesize = cur.f[F_NAMESIZE];
		ck_assert_uint_lt(namesize, sizeof(cur.name));
		memcpy(cur.name, buf + off + CPIO_NEWC_HEADER_LEN, namesize);
		ck_assert_int_eq(cur.name[namesize - 1], '\0');
		off = align4(off + CPIO_NEWC_HEADER_LEN + namesize);
		cur.data = buf + off;
		off = align4(off + cur.f[F_SIZE]);
		ck_assert_uint_le(off, len);
		if (!strcmp(cur.name, CPIO_TRAILER))
			break;
		ck_assert_int_lt(n, max);
		m[n++] = cur;
	}
	ck_assert_uint_eq(off, len); /* nothing after the trailer */
	return n;
}

static const struct member *find_member(const struct member *m, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(m[i].name, name))
			return &m[i];
	return NULL;
}

/* ---- the writer alone ---- */

START_TEST(writer_formats_header_name_and_padding)
{
	char *dir = fx_tmpdir();
	char *out = fx_path(dir, "a.cpio");
	int fd = open(out, O_RDWR | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	struct error err = { 0 };
	struct cpio_writer w;
	ck_assert_int_eq(cpio_writer_init(&w, fd, out, false, &err), 0);
	struct cpio_header h = { .ino = 7, .mode = S_IFREG | 0640, .uid = 1, .gid = 2, .nlink = 1,
				 .mtime = TEST_EPOCH, .filesize = 5, .rdevmajor = 0 };
	ck_assert_int_eq(cpio_write_header(&w, &h, "abc"), 0);
	ck_assert_int_eq(cpio_write_data(&w, "hel", 3), 0);
	/* more than announced is refused */
	ck_assert_int_eq(cpio_write_data(&w, "lo!", 3), -EFAULT);
	ck_assert_int_eq(cpio_write_data(&w, "lo", 2), 0);
	ck_assert_int_eq(cpio_writer_finish(&w), 0);
	cpio_writer_free(&w);
	close(fd);
	size_t len;
	unsigned char *buf = fx_slurp(out, &len);
	ck_assert_uint_eq(len % 4, 0);
	/* header 110 + "abc\0" = 114 -> padded to 116, data 5 -> 121 -> 124 */
	ck_assert_int_eq(memcmp(buf + 124, "070701", 6), 0);
	struct member m[2];
	ck_assert_int_eq(parse_newc(buf, len, m, 2), 1);
	ck_assert_str_eq(m[0].name, "abc");
	ck_assert_uint_eq(m[0].f[F_INO], 7);
	ck_assert_uint_eq(m[0].f[F_MODE], S_IFREG | 0640);
	ck_assert_uint_eq(m[0].f[F_UID], 1);
	ck_assert_uint_eq(m[0].f[F_GID], 2);
	ck_assert_uint_eq(m[0].f[F_MTIME], TEST_EPOCH);
	ck_assert_int_eq(memcmp(m[0].data, "hello", 5), 0);
	free(buf);
	free(out);
	fx_rmtree(dir);
}
END_TEST

START_TEST(writer_refuses_a_header_before_the_data_is_complete)
{
	char *dir = fx_tmpdir();
	char *out = fx_path(dir, "a.cpio");
	int fd = open(out, O_RDWR | O_CREAT, 0600);
	struct error err = { 0 };
	struct cpio_writer w;
	ck_assert_int_eq(cpio_writer_init(&w, fd, out, false, &err), 0);
	struct cpio_header h = { .mode = S_IFREG | 0644, .nlink = 1, .filesize = 4 };
	ck_assert_int_eq(cpio_write_header(&w, &h, "x"), 0);
	ck_assert_int_eq(cpio_write_header(&w, &h, "y"), -EFAULT);
	ck_assert_int_eq(err.code, -EFAULT);
	cpio_writer_free(&w);
	close(fd);
	free(out);
	fx_rmtree(dir);
}
END_TEST

/* ---- whole initramfs ---- */

static void make_tree(const char *dir, int reverse)
{
	/* the same tree, created in two different orders */
	if (!reverse) {
		fx_mkdir(dir, "bin");
		fx_mkdir(dir, "etc");
		fx_write(dir, "bin/tool", "#!/bin/sh\necho hi\n", 04755);
		fx_write(dir, "etc/conf", "x=1\n", 0600);
	} else {
		fx_mkdir(dir, "etc");
		fx_write(dir, "etc/conf", "x=1\n", 0600);
		fx_mkdir(dir, "bin");
		fx_write(dir, "bin/tool", "#!/bin/sh\necho hi\n", 04755);
	}
	char *a = fx_path(dir, "bin/tool"), *b = fx_path(dir, "etc/tool-link"), *s = fx_path(dir, "sl");
	ck_assert_int_eq(link(a, b), 0);
	ck_assert_int_eq(symlink("bin/tool", s), 0);
	free(a);
	free(b);
	free(s);
}

static unsigned char *build(const char *src, const char *spec, bool gzip, uint32_t epoch, size_t *len)
{
	char *dir = fx_tmpdir();
	char *out = fx_path(dir, "i.cpio");
	struct initramfs_opts o = { .dir = src, .spec = spec, .output = out, .gzip = gzip, .epoch = epoch };
	struct error err = { 0 };
	ck_assert_msg(initramfs_build(&o, &err) == 0, "build failed: %s", err.msg);
	unsigned char *buf = fx_slurp(out, len);
	free(out);
	fx_rmtree(dir);
	return buf;
}

START_TEST(initramfs_orders_pins_and_links)
{
	char *src = fx_tmpdir();
	make_tree(src, 0);
	size_t len;
	unsigned char *buf = build(src, NULL, false, TEST_EPOCH, &len);
	struct member m[MAX_MEMBERS];
	int n = parse_newc(buf, len, m, MAX_MEMBERS);
	ck_assert_int_eq(n, 7);
	const char *order[] = { ".", "bin", "bin/tool", "etc", "etc/conf", "etc/tool-link", "sl" };
	for (int i = 0; i < n; i++) {
		ck_assert_str_eq(m[i].name, order[i]);
		ck_assert_uint_eq(m[i].f[F_MTIME], TEST_EPOCH);
		ck_assert_uint_eq(m[i].f[F_UID], 0);
		ck_assert_uint_eq(m[i].f[F_GID], 0);
	}
	const struct member *tool = find_member(m, n, "bin/tool"), *lnk = find_member(m, n, "etc/tool-link");
	ck_assert_uint_eq(tool->f[F_INO], lnk->f[F_INO]);
	ck_assert_uint_eq(tool->f[F_NLINK], 2);
	ck_assert_uint_eq(tool->f[F_SIZE], 0);                /* data rides on the last name */
	ck_assert_uint_eq(lnk->f[F_SIZE], 18);
	ck_assert_uint_eq(tool->f[F_MODE], S_IFREG | 04755);  /* umask and set-id bits as on the host */
	const struct member *sl = find_member(m, n, "sl");
	ck_assert_uint_eq(sl->f[F_MODE] & S_IFMT, S_IFLNK);
	ck_assert_int_eq(memcmp(sl->data, "bin/tool", 8), 0);
	ck_assert_uint_eq(find_member(m, n, ".")->f[F_NLINK], 4); /* 2 + bin + etc */
	free(buf);
	fx_rmtree(src);
}
END_TEST

START_TEST(initramfs_ignores_creation_order_and_host_times)
{
	char *a = fx_tmpdir(), *b = fx_tmpdir();
	make_tree(a, 0);
	sleep(1); /* different host mtimes and inode numbers */
	make_tree(b, 1);
	size_t la, lb;
	unsigned char *x = build(a, NULL, true, TEST_EPOCH, &la), *y = build(b, NULL, true, TEST_EPOCH, &lb);
	ck_assert_uint_eq(la, lb);
	ck_assert_int_eq(memcmp(x, y, la), 0);
	/* and the epoch does reach the output */
	size_t lc;
	unsigned char *z = build(a, NULL, true, TEST_EPOCH + 1, &lc);
	ck_assert(lc != la || memcmp(x, z, la) != 0);
	free(x);
	free(y);
	free(z);
	fx_rmtree(a);
	fx_rmtree(b);
}
END_TEST

START_TEST(gzip_header_has_no_name_or_time_and_inflates_to_the_archive)
{
	char *src = fx_tmpdir();
	make_tree(src, 0);
	size_t lraw, lgz;
	unsigned char *raw = build(src, NULL, false, TEST_EPOCH, &lraw), *gz = build(src, NULL, true, TEST_EPOCH, &lgz);
	ck_assert_uint_ge(lgz, 18);
	ck_assert_uint_eq(gz[0], 0x1f);
	ck_assert_uint_eq(gz[1], 0x8b);
	ck_assert_uint_eq(gz[2], 8);    /* deflate */
	ck_assert_uint_eq(gz[3], 0);    /* no FNAME, FCOMMENT, FEXTRA */
	ck_assert_uint_eq(gz[4] | gz[5] | gz[6] | gz[7], 0); /* MTIME 0 */
	ck_assert_uint_eq(gz[9], 3);    /* OS: Unix */
	unsigned char *back = malloc(lraw + 16);
	z_stream z;
	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = gz;
	z.avail_in = (uInt)lgz;
	z.next_out = back;
	z.avail_out = (uInt)lraw + 16;
	ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
	ck_assert_uint_eq(z.total_out, lraw);
	ck_assert_int_eq(memcmp(back, raw, lraw), 0);
	inflateEnd(&z);
	free(back);
	free(raw);
	free(gz);
	fx_rmtree(src);
}
END_TEST

START_TEST(spec_adds_devices_and_owners)
{
	char *src = fx_tmpdir();
	make_tree(src, 0);
	char *sdir = fx_tmpdir();
	char *spec = fx_path(sdir, "spec");
	fx_write(sdir, "spec",
		 "# devices an ordinary user cannot create\n"
		 "dir /dev 0755 0 0\n"
		 "nod /dev/console 0600 0 5 c 5 1\n"
		 "nod dev/sda 0660 0 6 b 8 0\n"
		 "pipe /dev/initctl 0600 0 0\n"
		 "slink /dev/fd /proc/self/fd 0777 0 0\n"
		 "attr /etc/conf 0640 1000 1000\n"
		 "dir / 0700 0 0\n",
		 0644);
	size_t len;
	unsigned char *buf = build(src, spec, false, TEST_EPOCH, &len);
	struct member m[MAX_MEMBERS];
	int n = parse_newc(buf, len, m, MAX_MEMBERS);
	const struct member *con = find_member(m, n, "dev/console");
	ck_assert_ptr_nonnull(con);
	ck_assert_uint_eq(con->f[F_MODE], S_IFCHR | 0600);
	ck_assert_uint_eq(con->f[F_GID], 5);
	ck_assert_uint_eq(con->f[F_RMAJ], 5);
	ck_assert_uint_eq(con->f[F_RMIN], 1);
	const struct member *sda = find_member(m, n, "dev/sda");
	ck_assert_uint_eq(sda->f[F_MODE], S_IFBLK | 0660);
	ck_assert_uint_eq(sda->f[F_RMAJ], 8);
	ck_assert_uint_eq(find_member(m, n, "dev/initctl")->f[F_MODE], S_IFIFO | 0600);
	ck_assert_uint_eq(find_member(m, n, "etc/conf")->f[F_UID], 1000);
	ck_assert_uint_eq(find_member(m, n, "etc/conf")->f[F_MODE], S_IFREG | 0640);
	ck_assert_uint_eq(find_member(m, n, ".")->f[F_MODE], S_IFDIR | 0700);
	/* /dev precedes its contents */
	ck_assert(find_member(m, n, "dev") < con);
	free(buf);
	free(spec);
	fx_rmtree(sdir);
	fx_rmtree(src);
}
END_TEST

static int spec_error(const char *text, char *msg, size_t msglen)
{
	struct fs_tree t;
	fstree_init(&t);
	struct error err = { 0 };
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	ck_assert_ptr_nonnull(in);
	int rc = spec_apply_stream(&t, in, "s", &err);
	if (rc == 0)
		rc = fstree_finish(&t, &err);
	fclose(in);
	fstree_free(&t);
	snprintf(msg, msglen, "%s", err.msg);
	return rc;
}

START_TEST(spec_rejects_bad_lines_with_their_number)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "frob /x 0644 0 0\n", "s:1: unknown entry type 'frob'" },
		{ "\n# c\nnod /x 0644 0 0 c 5\n", "s:3: 'nod' takes 7 fields, found 6" },
		{ "nod /x 0999 0 0 c 5 1\n", "s:1: bad octal mode '0999'" },
		{ "nod /x 0600 0 0 x 5 1\n", "s:1: device type must be c or b, not 'x'" },
		{ "nod /x 0600 0 0 c 5000 1\n", "s:1: bad major number '5000'" },
		{ "dir /../x 0755 0 0\n", "s:1: bad path (empty component, '.' or '..') '/../x'" },
		{ "dir /a 0755 0 0\ndir /a/b 0755 0 0\npipe /a/b 0600 0 0\n", "s:3: entry already exists: 'a/b'" },
		{ "attr /nope 0600 0 0\n", "s:1: no such entry in the tree: 'nope'" },
		{ "nod /dev/console 0600 0 0 c 5 1\n", "'/dev/console' has no parent directory in the tree" },
		{ "pipe /p 0600 -1 0\n", "s:1: bad uid '-1'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char msg[ERROR_MSG_MAX];
		ck_assert_int_eq(spec_error(cases[i].text, msg, sizeof(msg)), -EINVAL);
		ck_assert_str_eq(msg, cases[i].want);
	}
}
END_TEST

START_TEST(spec_must_treat_hard_links_alike)
{
	char *src = fx_tmpdir(), *sdir = fx_tmpdir();
	make_tree(src, 0);
	char *spec = fx_path(sdir, "spec"), *out = fx_path(sdir, "o.cpio");
	fx_write(sdir, "spec", "attr /etc/tool-link 0700 0 0\n", 0644);
	struct initramfs_opts o = { .dir = src, .spec = spec, .output = out, .epoch = 1 };
	struct error err = { 0 };
	ck_assert_int_eq(initramfs_build(&o, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "'/bin/tool' and '/etc/tool-link' are hard links but the spec gives them different "
				  "modes or owners");
	ck_assert_int_ne(access(out, F_OK), 0);
	/* giving both names the same attributes is fine */
	fx_write(sdir, "spec", "attr /etc/tool-link 0700 0 0\nattr /bin/tool 0700 0 0\n", 0644);
	memset(&err, 0, sizeof(err));
	ck_assert_msg(initramfs_build(&o, &err) == 0, "%s", err.msg);
	free(spec);
	free(out);
	fx_rmtree(src);
	fx_rmtree(sdir);
}
END_TEST

START_TEST(missing_input_leaves_no_output)
{
	char *dir = fx_tmpdir();
	char *out = fx_path(dir, "i.cpio");
	char *missing = fx_path(dir, "no-such-dir");
	struct initramfs_opts o = { .dir = missing, .output = out, .epoch = 1 };
	struct error err = { 0 };
	ck_assert_int_eq(initramfs_build(&o, &err), -ENOENT);
	ck_assert_int_eq(error_exit_status(&err), 2);
	ck_assert_int_ne(access(out, F_OK), 0);
	/* a spec that fails half-way: still nothing */
	fx_mkdir(dir, "src");
	fx_write(dir, "bad.spec", "dir /dev 0755 0 0\nnod /dev/x 0600 0 0 q 1 1\n", 0644);
	char *src = fx_path(dir, "src"), *spec = fx_path(dir, "bad.spec");
	struct initramfs_opts o2 = { .dir = src, .spec = spec, .output = out, .epoch = 1 };
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(initramfs_build(&o2, &err), -EINVAL);
	ck_assert_int_ne(access(out, F_OK), 0);
	free(src);
	free(spec);
	free(out);
	free(missing);
	fx_rmtree(dir);
}
END_TEST

START_TEST(epoch_parsing)
{
	uint32_t v = 0;
	struct error err = { 0 };
	ck_assert_int_eq(epoch_parse("1700000000", &v, &err), 0);
	ck_assert_uint_eq(v, 1700000000u);
	ck_assert_int_eq(epoch_parse("4294967295", &v, &err), 0);
	ck_assert_int_eq(epoch_parse("4294967296", &v, &err), -EINVAL);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(epoch_parse("12x", &v, &err), -EINVAL);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(epoch_parse("", &v, &err), -EINVAL);
	unsetenv("SOURCE_DATE_EPOCH");
	ck_assert_int_eq(epoch_from_env(&v, &err), 0);
	ck_assert_uint_eq(v, EPOCH_DEFAULT);
}
END_TEST

START_TEST(normalise_paths)
{
	char *p = fstree_normalise("//dev/console/");
	ck_assert_str_eq(p, "dev/console");
	free(p);
	p = fstree_normalise("/");
	ck_assert_str_eq(p, "");
	free(p);
	ck_assert_ptr_null(fstree_normalise("a//b"));
	ck_assert_ptr_null(fstree_normalise("a/./b"));
	ck_assert_ptr_null(fstree_normalise("../x"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cpio");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, writer_formats_header_name_and_padding);
	tcase_add_test(tc, writer_refuses_a_header_before_the_data_is_complete);
	tcase_add_test(tc, initramfs_orders_pins_and_links);
	tcase_add_test(tc, initramfs_ignores_creation_order_and_host_times);
	tcase_add_test(tc, gzip_header_has_no_name_or_time_and_inflates_to_the_archive);
	tcase_add_test(tc, spec_adds_devices_and_owners);
	tcase_add_test(tc, spec_rejects_bad_lines_with_their_number);
	tcase_add_test(tc, spec_must_treat_hard_links_alike);
	tcase_add_test(tc, missing_input_leaves_no_output);
	tcase_add_test(tc, epoch_parsing);
	tcase_add_test(tc, normalise_paths);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
