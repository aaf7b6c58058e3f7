/* Manifest parsing (both formats), its refusals with file:line, and the SHA-256 helpers. */
#include "check_run.h"
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sources/manifest.h"
#include "sources/sha256.h"

#define HASH_A "66fde474e124e80c843560041cd68820c9dce56e696f388312ba30361a814a16"
#define HASH_B "f0611136bee505811e9ca11ca7ac188ef5323a8e2ef19cffd3edb3cf08fd791e"
/* SHA-256 of the three bytes "abc" (FIPS 180-2, appendix B.1). */
#define HASH_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static int parse(struct manifest *m, const char *text, struct error *err)
{
	return manifest_parse_text(m, "t.manifest", text, strlen(text), err);
}

/* Parse text that must be refused; return the message. */
static const char *refused(const char *text)
{
	static struct error err;
	err = (struct error){ 0 };
	struct manifest m;
	manifest_init(&m);
	int rc = parse(&m, text, &err);
	manifest_free(&m);
	ck_assert_int_eq(rc, -EINVAL);
	return err.msg;
}

START_TEST(own_format_full_entry)
{
	struct manifest m;
	struct error err = { 0 };
	manifest_init(&m);
	ck_assert_int_eq(parse(&m,
			       "# a comment\n\n"
			       "autoconf-2.12.tar.gz sha256=" HASH_A " url=https://example.org/a/autoconf-2.12.tar.gz"
			       " mirror=http://m1.example/x.tgz mirror=ftp://m2.example/y size=1234 package=autoconf\r\n",
			       &err),
			 0);
	ck_assert_uint_eq(m.n_files, 1);
	const struct distfile *d = manifest_find(&m, "autoconf-2.12.tar.gz");
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(d->n_urls, 3);
	ck_assert_str_eq(d->urls[0], "https://example.org/a/autoconf-2.12.tar.gz");
	ck_assert_str_eq(d->urls[1], "http://m1.example/x.tgz");
	ck_assert_str_eq(d->urls[2], "ftp://m2.example/y");
	ck_assert_int_eq(d->size, 1234);
	ck_assert_str_eq(d->package, "autoconf");
	ck_assert_str_eq(d->origin, "t.manifest:3");
	char hex[SHA256_HEX_LEN + 1];
	sha256_to_hex(d->sha256, hex);
	ck_assert_str_eq(hex, HASH_A);
	manifest_free(&m);
}
END_TEST

START_TEST(live_bootstrap_lines)
{
	struct manifest m;
	struct error err = { 0 };
	manifest_init(&m);
	ck_assert_int_eq(parse(&m,
			       "f https://example.org/pub/gzip-1.2.4.tar.gz " HASH_A "\n"
			       "f https://example.org/archive/v2.0.22.tar.gz " HASH_B " kexec-tools-2.0.22.tar.gz\n"
			       "g https://git.example/gnulib.git~8e128e https://example.org/snap.tar.gz?id=1 " HASH_ABC
			       " gnulib-8e128e.tar.gz\n"
			       "g https://git.example/x.git~v1 _ " HASH_A "x-v1.tar.gz\n",
			       &err),
			 -EINVAL); /* the last line's hash and name run together */
	ck_assert_ptr_nonnull(strstr(err.msg, "t.manifest:4:"));
	ck_assert_uint_eq(m.n_files, 3);
	ck_assert_str_eq(m.files[0].name, "gzip-1.2.4.tar.gz");
	ck_assert_str_eq(m.files[1].name, "kexec-tools-2.0.22.tar.gz");
	ck_assert_str_eq(m.files[1].urls[0], "https://example.org/archive/v2.0.22.tar.gz");
	ck_assert_str_eq(m.files[2].git, "https://git.example/gnulib.git~8e128e");
	ck_assert_int_eq(m.files[2].size, MANIFEST_SIZE_UNKNOWN);
	ck_assert_int_eq(parse(&m, "g https://git.example/x.git~v1 _ " HASH_B " x-v1.tar.gz\n"
				   "https://example.org/old/tar-1.12.tar.gz " HASH_B "\n", &err), 0);
	const struct distfile *x = manifest_find(&m, "x-v1.tar.gz");
	ck_assert_ptr_nonnull(x);
	ck_assert_uint_eq(x->n_urls, 0);
	ck_assert_ptr_nonnull(manifest_find(&m, "tar-1.12.tar.gz"));
	manifest_free(&m);
}
END_TEST

START_TEST(name_from_url_drops_query)
{
	struct manifest m;
	struct error err = { 0 };
	manifest_init(&m);
	ck_assert_int_eq(parse(&m, "f https://h.example/d/file.tar.xz?download=1#frag " HASH_A "\n", &err), 0);
	ck_assert_str_eq(m.files[0].name, "file.tar.xz");
	manifest_free(&m);
	ck_assert_ptr_nonnull(strstr(refused("f https://h.example/ " HASH_A "\n"), "no file name in URL"));
}
END_TEST

START_TEST(duplicates_merge_or_conflict)
{
	struct manifest m;
	struct error err = { 0 };
	manifest_init(&m);
	ck_assert_int_eq(parse(&m,
			       "a.tar sha256=" HASH_A " url=http://one.example/a.tar\n"
			       "f http://two.example/a.tar " HASH_A "\n"
			       "f http://one.example/a.tar " HASH_A "\n",
			       &err),
			 0);
	ck_assert_uint_eq(m.n_files, 1);
	ck_assert_uint_eq(m.files[0].n_urls, 2);
	ck_assert_int_eq(parse(&m, "f http://three.example/a.tar " HASH_B "\n", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "t.manifest:1: 'a.tar' was already listed with another SHA-256 at "
					      "t.manifest:1"));
	manifest_free(&m);
}
END_TEST

START_TEST(malformed_lines_name_file_and_line)
{
	ck_assert_str_eq(refused("\n\nf http://h.example/a.tar 1234\n"),
			 "t.manifest:3: '1234' is not a SHA-256 (64 hex digits)");
	ck_assert_ptr_nonnull(strstr(refused("a.tar url=http://h.example/a.tar\n"), "t.manifest:1: 'a.tar' has no sha256="));
	ck_assert_ptr_nonnull(strstr(refused("a.tar sha256=" HASH_A "\n"), "has no url="));
	ck_assert_ptr_nonnull(strstr(refused("a.tar sha256=" HASH_A " url=http://h.example/a colour=red\n"),
				     "unknown key 'colour'"));
	ck_assert_ptr_nonnull(strstr(refused("a.tar sha256=" HASH_A " sha256=" HASH_B " url=http://h.example/a\n"),
				     "'sha256' given twice"));
	ck_assert_ptr_nonnull(strstr(refused("a.tar sha256=" HASH_A " url=http://h.example/a size=12k\n"),
				     "size '12k' is not a number"));
	ck_assert_ptr_nonnull(strstr(refused("a.tar sha256=" HASH_A " url=http://h.example/a size=99999999999999999999\n"),
				     "is not a number"));
	ck_assert_ptr_nonnull(strstr(refused("a.tar sha256=" HASH_A " url=file:///etc/passwd\n"),
				     "is not an http://, https:// or ftp:// URL"));
	ck_assert_ptr_nonnull(strstr(refused("a.tar sha256=" HASH_A " url=http:///nohost\n"), "URL"));
	ck_assert_ptr_nonnull(strstr(refused("a.tar sha256=" HASH_A " url=http://h.example/\x1b[2Ja\n"), "URL"));
	ck_assert_ptr_nonnull(strstr(refused("../evil sha256=" HASH_A " url=http://h.example/a\n"),
				     "not a usable file name"));
	ck_assert_ptr_nonnull(strstr(refused("f http://h.example/a.tar " HASH_A " sub/dir\n"), "not a usable file name"));
	ck_assert_ptr_nonnull(strstr(refused("f http://h.example/a.tar\n"), "expected f URL SHA256 [FILE]"));
	ck_assert_ptr_nonnull(strstr(refused("g nogitref http://h.example/a.tar " HASH_A "\n"), "expected g GIT-URL~REF"));
	ck_assert_ptr_nonnull(strstr(refused("g https://g.example/x.git~v1 _ " HASH_A "\n"), "must name its file"));
	ck_assert_ptr_nonnull(strstr(refused("a.tar sha256= url=http://h.example/a\n"), "has no value"));
	ck_assert_ptr_nonnull(strstr(refused("justaword\n"), "has no sha256="));
}
END_TEST

START_TEST(nul_bytes_and_long_lines)
{
	struct manifest m;
	struct error err = { 0 };
	manifest_init(&m);
	const char bin[] = "f http://h.example/a " HASH_A "\n\0\1\2";
	ck_assert_int_eq(manifest_parse_text(&m, "bin", bin, sizeof(bin), &err), -EINVAL);
	ck_assert_str_eq(err.msg, "bin:2: contains a NUL byte (not a text manifest)");
	size_t len = 10000;
	char *lng = malloc(len + 1);
	memset(lng, 'x', len);
	lng[len] = '\0';
	err = (struct error){ 0 }; /* a struct error keeps its first failure */
	ck_assert_int_eq(parse(&m, lng, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "line longer than"));
	free(lng);
	manifest_free(&m);
}
END_TEST

START_TEST(load_from_disk)
{
	char path[] = "/tmp/lbvm-test-manifest-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	const char text[] = "f http://h.example/a.tar " HASH_A "\nbroken line here\n";
	ck_assert_int_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	struct manifest m;
	struct error err = { 0 };
	manifest_init(&m);
	ck_assert_int_eq(manifest_load(&m, path, &err), -EINVAL);
	char want[600];
	snprintf(want, sizeof(want), "%s:2: expected KEY=VALUE, found 'line'", path);
	ck_assert_str_eq(err.msg, want);
	ck_assert_uint_eq(m.n_files, 1); /* entries before the bad line are kept */
	manifest_free(&m);
	unlink(path);
	err = (struct error){ 0 }; /* a struct error keeps its first failure */
	ck_assert_int_eq(manifest_load(&m, path, &err), -ENOENT);
	err = (struct error){ 0 };
	ck_assert_int_eq(manifest_load(&m, "/tmp", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "not a regular file"));
}
END_TEST

START_TEST(sha256_helpers)
{
	uint8_t d[SHA256_BYTES];
	char hex[SHA256_HEX_LEN + 1];
	ck_assert_int_eq(sha256_buffer("abc", 3, d), 0);
	sha256_to_hex(d, hex);
	ck_assert_str_eq(hex, HASH_ABC);
	uint8_t back[SHA256_BYTES];
	ck_assert_int_eq(sha256_from_hex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", back), 0);
	ck_assert_mem_eq(back, d, SHA256_BYTES);
	ck_assert_int_eq(sha256_from_hex(HASH_ABC "0", back), -EINVAL);
	ck_assert_int_eq(sha256_from_hex("gb7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", back), -EINVAL);

	char path[] = "/tmp/lbvm-test-sha-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "abc", 3), 3);
	close(fd);
	memset(back, 0, sizeof(back));
	ck_assert_int_eq(sha256_file(path, back), 0);
	ck_assert_mem_eq(back, d, SHA256_BYTES);
	unlink(path);
	ck_assert_int_eq(sha256_file(path, back), -ENOENT);
}
END_TEST

START_TEST(shipped_manifests_parse)
{
	/* The manifests in sources/ must always load; run from the repository root (make unit). */
	static const char *const shipped[] = { "sources/live-bootstrap-2021-09-sysa.manifest",
					       "sources/live-bootstrap-2021-09-sysc.manifest" };
	for (size_t i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++) {
		struct manifest m;
		struct error err = { 0 };
		manifest_init(&m);
		int rc = manifest_load(&m, shipped[i], &err);
		ck_assert_msg(rc == 0, "%s", err.msg);
		ck_assert_uint_gt(m.n_files, 10);
		for (size_t j = 0; j < m.n_files; j++)
			ck_assert_msg(m.files[j].n_urls > 0, "%s has no URL", m.files[j].name);
		manifest_free(&m);
	}
}
END_TEST

START_TEST(file_names)
{
	ck_assert(distfile_name_valid("gcc-4.0.4.tar.bz2"));
	ck_assert(!distfile_name_valid(""));
	ck_assert(!distfile_name_valid(".hidden"));
	ck_assert(!distfile_name_valid("a/b"));
	ck_assert(!distfile_name_valid("tab\there"));
	ck_assert(!distfile_name_valid("caf\xc3\xa9"));
	char big[300];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert(!distfile_name_valid(big));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("manifest");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, own_format_full_entry);
	tcase_add_test(tc, live_bootstrap_lines);
	tcase_add_test(tc, name_from_url_drops_query);
	tcase_add_test(tc, duplicates_merge_or_conflict);
	tcase_add_test(tc, malformed_lines_name_file_and_line);
	tcase_add_test(tc, nul_bytes_and_long_lines);
	tcase_add_test(tc, load_from_disk);
	tcase_add_test(tc, sha256_helpers);
	tcase_add_test(tc, shipped_manifests_parse);
	tcase_add_test(tc, file_names);
	suite_add_tcase(s, tc);
	return check_run(s);
}
