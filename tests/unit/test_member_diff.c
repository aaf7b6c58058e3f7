/* Package tarballs compared member by member (image/archive_members.h, bootstrap/member_diff.h): the
 * tarballs are made here with libarchive (ustar + bzip2, as the chain packs them), read back from a
 * file descriptor, and every field a rebuild can change is found; damaged archives are refused. */
#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootstrap/member_diff.h"
#include "common/exit_codes.h"
#include "image/archive_members.h"
#include "tests/unit/check_run.h"

struct m {
	const char *name;
	unsigned type;       /* AE_IFREG, AE_IFDIR, AE_IFLNK */
	unsigned perm;
	const char *data;    /* content, or the link target */
	int64_t uid;
	const char *uname;
	int64_t mtime;
	const char *hardlink;
};

#define FILE_(n, d) { n, AE_IFREG, 0644, d, 0, "", 0, NULL }
#define DIR_(n) { n, AE_IFDIR, 0755, NULL, 0, "", 0, NULL }

/* A bzip2-compressed tar (ustar, or pax when asked) of MEMBERS in a memory file, at offset 0. */
static int tarball(const struct m *members, size_t n, int format)
{
	int fd = memfd_create("tarball", MFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	struct archive *a = archive_write_new();
	ck_assert_int_eq(archive_write_set_format(a, format), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_add_filter_bzip2(a), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_open_fd(a, fd), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		const struct m *x = &members[i];
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, x->name);
		archive_entry_set_filetype(e, x->type);
		archive_entry_set_perm(e, x->perm);
		archive_entry_set_uid(e, x->uid);
		archive_entry_set_gid(e, x->uid);
		if (x->uname && *x->uname) {
			archive_entry_set_uname(e, x->uname);
			archive_entry_set_gname(e, x->uname);
		}
		archive_entry_set_mtime(e, x->mtime, 0);
		size_t len = 0;
		if (x->hardlink) {
			archive_entry_set_hardlink(e, x->hardlink);
		} else if (x->type == AE_IFLNK) {
			archive_entry_set_symlink(e, x->data);
		} else if (x->type == AE_IFREG) {
			len = strlen(x->data);
			archive_entry_set_size(e, (la_int64_t)len);
		}
		ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
		if (len)
			ck_assert_int_eq(archive_write_data(a, x->data, len), (la_ssize_t)len);
		archive_entry_free(e);
	}
	ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void read_members(const struct m *members, size_t n, struct archive_members *out)
{
	int fd = tarball(members, n, ARCHIVE_FORMAT_TAR_USTAR);
	struct error err = { 0 };
	ck_assert_msg(archive_members_read(fd, "t.tar.bz2", NULL, NULL, out, &err) == 0, "%s", err.msg);
	close(fd);
}

static const struct m base[] = {
	DIR_("./usr/"),
	DIR_("./usr/share/"),
	FILE_("./usr/share/words.txt", "apple\nmango\nzebra\n"),
	{ "./usr/bin/words", AE_IFREG, 0755, "#!/bin/sh\n", 0, "", 0, NULL },
	{ "./usr/lib/libw.so", AE_IFLNK, 0777, "libw.so.1", 0, "", 0, NULL },
	FILE_("./usr/lib/libw.so.1", "ELF"),
};
#define N_BASE (sizeof(base) / sizeof(base[0]))

/* Compare BASE with a copy changed by EDIT at index I; return the deltas. */
static void compare_edit(const struct m *edit, size_t i, struct member_diff *d, struct archive_members *a,
			 struct archive_members *b)
{
	struct m other[N_BASE];
	memcpy(other, base, sizeof(base));
	if (edit)
		other[i] = *edit;
	read_members(base, N_BASE, a);
	read_members(other, N_BASE, b);
	struct error err = { 0 };
	ck_assert_int_eq(member_diff(a, b, d, &err), 0);
}

START_TEST(reads_every_field)
{
	struct archive_members l;
	read_members(base, N_BASE, &l);
	ck_assert_uint_eq(l.n, N_BASE);
	ck_assert_str_eq(l.m[2].name, "./usr/share/words.txt");
	ck_assert_uint_eq(l.m[2].mode, S_IFREG | 0644);
	ck_assert_int_eq(l.m[2].size, 18);
	/* sha256 of "apple\nmango\nzebra\n" */
	static const unsigned char want[4] = { 0xb7, 0xda, 0x16, 0xc2 };
	ck_assert_mem_eq(l.m[2].sha256, want, 4);
	ck_assert_uint_eq(l.m[0].mode & S_IFMT, S_IFDIR);
	ck_assert_uint_eq(l.m[4].mode & S_IFMT, S_IFLNK);
	ck_assert_str_eq(l.m[4].symlink, "libw.so.1");
	ck_assert_ptr_null(l.m[2].data);
	archive_members_free(&l);
}
END_TEST

START_TEST(identical_archives_have_no_delta)
{
	struct member_diff d;
	struct archive_members a, b;
	compare_edit(NULL, 0, &d, &a, &b);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_uint_eq(d.same, N_BASE);
	ck_assert(!d.order_differs);
	member_diff_free(&d);
	archive_members_free(&a);
	archive_members_free(&b);
}
END_TEST

struct field_case {
	size_t index;
	struct m edit;
	unsigned want;
	const char *line; /* what member_delta_print says */
};

static const struct field_case field_cases[] = {
	{ 2, FILE_("./usr/share/words.txt", "apple\nmango\nzebra\nextra\n"), MEMBER_CONTENT | MEMBER_SIZE,
	  "./usr/share/words.txt: content sha256 b7da16c2a635e129807e337e3a675dd02e0b0f6ea68c2d1f8031c221de2f25b3 vs " },
	{ 2, FILE_("./usr/share/words.txt", "apple\nmango\nzebrA\n"), MEMBER_CONTENT,
	  "./usr/share/words.txt: content sha256 " },
	{ 3, { "./usr/bin/words", AE_IFREG, 0644, "#!/bin/sh\n", 0, "", 0, NULL }, MEMBER_MODE,
	  "./usr/bin/words: mode 0755 vs 0644" },
	{ 3, { "./usr/bin/words", AE_IFREG, 0755, "#!/bin/sh\n", 1000, "", 0, NULL }, MEMBER_OWNER,
	  "./usr/bin/words: owner 0:0 vs 1000:1000" },
	{ 3, { "./usr/bin/words", AE_IFREG, 0755, "#!/bin/sh\n", 0, "root", 0, NULL }, MEMBER_OWNER,
	  "./usr/bin/words: owner 0:0 vs 0:0 (root:root)" },
	{ 3, { "./usr/bin/words", AE_IFREG, 0755, "#!/bin/sh\n", 0, "", 1700000000, NULL }, MEMBER_MTIME,
	  "./usr/bin/words: mtime 0 vs 1700000000" },
	{ 4, { "./usr/lib/libw.so", AE_IFLNK, 0777, "libw.so.2", 0, "", 0, NULL }, MEMBER_LINK,
	  "./usr/lib/libw.so: link libw.so.1 vs libw.so.2" },
	{ 4, { "./usr/lib/libw.so", AE_IFREG, 0777, "", 0, "", 0, NULL }, MEMBER_TYPE | MEMBER_LINK,
	  "./usr/lib/libw.so: type symlink vs file; link libw.so.1 vs (none)" },
	{ 5, { "./usr/lib/libw.so.1", AE_IFREG, 0644, "", 0, "", 0, "./usr/share/words.txt" }, MEMBER_LINK,
	  "./usr/lib/libw.so.1: " },
};

START_TEST(each_field_is_found)
{
	const struct field_case *c = &field_cases[_i];
	struct member_diff d;
	struct archive_members a, b;
	compare_edit(&c->edit, c->index, &d, &a, &b);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_uint_eq(d.same, N_BASE - 1);
	ck_assert_msg((d.d[0].fields & c->want) == c->want, "fields %#x, want %#x", d.d[0].fields, c->want);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	member_delta_print(f, &d.d[0]);
	fclose(f);
	ck_assert_msg(strncmp(text, c->line, strlen(c->line)) == 0, "'%s' does not start with '%s'", text, c->line);
	free(text);
	member_diff_free(&d);
	archive_members_free(&a);
	archive_members_free(&b);
}
END_TEST

START_TEST(added_removed_and_reordered)
{
	struct archive_members a, b;
	read_members(base, N_BASE, &a);
	/* B: without words.txt, with a new file, and a name with a control byte */
	struct m other[N_BASE + 1];
	memcpy(other, base, sizeof(base));
	other[2] = (struct m)FILE_("./usr/share/stamp", "built at 1700000000\n");
	other[N_BASE] = (struct m)FILE_("./usr/share/bad\033[2Jname", "x");
	read_members(other, N_BASE + 1, &b);
	struct member_diff d;
	struct error err = { 0 };
	ck_assert_int_eq(member_diff(&a, &b, &d, &err), 0);
	ck_assert_uint_eq(d.n, 3);
	ck_assert(!d.order_differs); /* the sets differ: order says nothing */
	/* name order: "./usr/share/bad...", "./usr/share/stamp", "./usr/share/words.txt" */
	ck_assert_ptr_null(d.d[0].a);
	ck_assert_ptr_null(d.d[1].a);
	ck_assert_ptr_null(d.d[2].b);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	for (size_t i = 0; i < d.n; i++) {
		member_delta_print(f, &d.d[i]);
		fputc('\n', f);
	}
	fclose(f);
	ck_assert_str_eq(text, "./usr/share/bad?[2Jname: only in B (file)\n"
			       "./usr/share/stamp: only in B (file)\n"
			       "./usr/share/words.txt: only in A (file)\n");
	free(text);
	member_diff_free(&d);
	archive_members_free(&b);
	/* the same members in another order */
	struct m swapped[N_BASE];
	memcpy(swapped, base, sizeof(base));
	swapped[2] = base[3];
	swapped[3] = base[2];
	read_members(swapped, N_BASE, &b);
	ck_assert_int_eq(member_diff(&a, &b, &d, &err), 0);
	ck_assert_uint_eq(d.n, 0);
	ck_assert(d.order_differs);
	member_diff_free(&d);
	archive_members_free(&a);
	archive_members_free(&b);
}
END_TEST

START_TEST(duplicate_names_pair_in_order)
{
	const struct m one[] = { FILE_("./f", "first"), FILE_("./f", "second") };
	const struct m two[] = { FILE_("./f", "first"), FILE_("./f", "other") };
	struct archive_members a, b;
	read_members(one, 2, &a);
	read_members(two, 2, &b);
	struct member_diff d;
	struct error err = { 0 };
	ck_assert_int_eq(member_diff(&a, &b, &d, &err), 0);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_uint_eq(d.same, 1);
	ck_assert_ptr_eq(d.d[0].a, &a.m[1]);
	ck_assert_ptr_eq(d.d[0].b, &b.m[1]);
	member_diff_free(&d);
	archive_members_free(&a);
	archive_members_free(&b);
}
END_TEST

static bool keep_txt(void *ctx, const char *name)
{
	(*(int *)ctx)++;
	return strstr(name, ".txt") != NULL;
}

START_TEST(kept_content_and_pax_headers)
{
	int asked = 0;
	int fd = tarball(base, N_BASE, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	struct archive_members l;
	struct error err = { 0 };
	ck_assert_int_eq(archive_members_read(fd, "t", keep_txt, &asked, &l, &err), 0);
	close(fd);
	ck_assert_int_eq(asked, (int)N_BASE);
	ck_assert_str_eq(l.m[2].data, "apple\nmango\nzebra\n");
	ck_assert_uint_eq(l.m[2].data_len, 18);
	ck_assert_ptr_null(l.m[3].data);
	archive_members_free(&l);
}
END_TEST

START_TEST(damaged_archives_are_refused)
{
	int fd = tarball(base, N_BASE, ARCHIVE_FORMAT_TAR_USTAR);
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	struct archive_members l;
	/* cut short anywhere: never accepted as complete unless the cut falls after the last member's data */
	for (off_t cut = 0; cut < st.st_size; cut += 7) {
		int part = memfd_create("cut", MFD_CLOEXEC);
		char *buf = malloc((size_t)st.st_size);
		ck_assert_int_eq(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
		ck_assert_int_eq(write(part, buf, (size_t)cut), cut);
		free(buf);
		lseek(part, 0, SEEK_SET);
		struct error err = { 0 };
		int rc = archive_members_read(part, "cut.tar.bz2", NULL, NULL, &l, &err);
		if (cut > 0) {
			ck_assert_msg(rc < 0, "a tarball cut at %lld of %lld bytes was read whole", (long long)cut,
				      (long long)st.st_size);
			ck_assert_int_eq(error_exit_status(&err), EXIT_USAGE);
			ck_assert_ptr_nonnull(strstr(err.msg, "cut.tar.bz2: not a readable archive"));
		} else {
			/* an empty file is an empty archive */
			ck_assert_int_eq(rc, 0);
			ck_assert_uint_eq(l.n, 0);
			archive_members_free(&l);
		}
		close(part);
	}
	close(fd);
	/* text is no archive */
	int t = memfd_create("text", MFD_CLOEXEC);
	ck_assert_int_eq(write(t, "not a tarball at all, just words\n", 33), 33);
	lseek(t, 0, SEEK_SET);
	struct error err = { 0 };
	ck_assert_int_lt(archive_members_read(t, "x", NULL, NULL, &l, &err), 0);
	ck_assert_int_eq(error_exit_status(&err), EXIT_USAGE);
	close(t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("member_diff");
	TCase *tc = tcase_create("member_diff");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, reads_every_field);
	tcase_add_test(tc, identical_archives_have_no_delta);
	tcase_add_loop_test(tc, each_field_is_found, 0, (int)(sizeof(field_cases) / sizeof(field_cases[0])));
	tcase_add_test(tc, added_removed_and_reordered);
	tcase_add_test(tc, duplicate_names_pair_in_order);
	tcase_add_test(tc, kept_content_and_pax_headers);
	tcase_add_test(tc, damaged_archives_are_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
