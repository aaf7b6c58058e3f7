/* The fetcher without a network: progress text, offline verification, an unusable cache, and a file with
 * no location. (Transfers are tested against a real loopback server in tests/cli/test_fetch.sh.) */
#include "check_run.h"
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sources/fetch.h"
#include "sources/manifest.h"
#include "sources/progress.h"

/* SHA-256 of "abc" (FIPS 180-2, appendix B.1). */
#define HASH_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define HASH_OTHER "66fde474e124e80c843560041cd68820c9dce56e696f388312ba30361a814a16"

struct seen {
	int cached, missing, mismatch, failed;
	char last[512];
};

static void record(void *ctx, const struct fetch_event *ev)
{
	struct seen *s = ctx;
	switch (ev->kind) {
	case FETCH_EV_CACHED: s->cached++; break;
	case FETCH_EV_MISSING: s->missing++; break;
	case FETCH_EV_MISMATCH:
		s->mismatch++;
		snprintf(s->last, sizeof(s->last), "%s %s", ev->expected, ev->actual);
		break;
	case FETCH_EV_FAILED:
		s->failed++;
		snprintf(s->last, sizeof(s->last), "%s", ev->message);
		break;
	default: break;
	}
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(sizes_and_times)
{
	char b[64];
	progress_bytes(0, b, sizeof(b));
	ck_assert_str_eq(b, "0 B");
	progress_bytes(1023, b, sizeof(b));
	ck_assert_str_eq(b, "1023 B");
	progress_bytes(1536, b, sizeof(b));
	ck_assert_str_eq(b, "1.5 KiB");
	progress_bytes(5u << 20, b, sizeof(b));
	ck_assert_str_eq(b, "5.0 MiB");
	progress_bytes(3ull << 40, b, sizeof(b));
	ck_assert_str_eq(b, "3.0 TiB");
	progress_bytes(5000ull << 40, b, sizeof(b));
	ck_assert_str_eq(b, "5000.0 TiB");
	progress_duration(7, b, sizeof(b));
	ck_assert_str_eq(b, "0:07");
	progress_duration(754, b, sizeof(b));
	ck_assert_str_eq(b, "12:34");
	progress_duration(3723, b, sizeof(b));
	ck_assert_str_eq(b, "1:02:03");
	progress_duration(-1, b, sizeof(b));
	ck_assert_str_eq(b, "--:--");
	progress_duration(1e12, b, sizeof(b));
	ck_assert_str_eq(b, "--:--");
}
END_TEST

START_TEST(status_line)
{
	struct fetch_progress p = { .files_done = 3, .files_total = 50, .bytes_have = 1u << 20,
				    .bytes_expected = 3u << 20, .active = 4 };
	char line[256];
	progress_line(&p, 1024.0 * 1024, line, sizeof(line));
	ck_assert_str_eq(line, "[3/50] 1.0 MiB of 3.0 MiB, 1.0 MiB/s, ETA 0:02, 4 active");
	progress_line(&p, 0, line, sizeof(line));
	ck_assert_str_eq(line, "[3/50] 1.0 MiB of 3.0 MiB, 0 B/s, ETA --:--, 4 active");
	p.bytes_have = p.bytes_expected;
	progress_line(&p, 0, line, sizeof(line));
	ck_assert_str_eq(line, "[3/50] 3.0 MiB of 3.0 MiB, 0 B/s, ETA 0:00, 4 active");
}
END_TEST

static char dir[] = "/tmp/lbvm-test-fetch-XXXXXX";

static void setup(void)
{
	strcpy(dir, "/tmp/lbvm-test-fetch-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(offline_reports_without_touching)
{
	struct manifest m;
	struct error merr = { 0 };
	manifest_init(&m);
	const char *text = "good sha256=" HASH_ABC " url=http://127.0.0.1:9/good\n"
			   "bad sha256=" HASH_ABC " url=http://127.0.0.1:9/bad\n"
			   "absent sha256=" HASH_OTHER " url=http://127.0.0.1:9/absent\n";
	ck_assert_int_eq(manifest_parse_text(&m, "t", text, strlen(text), &merr), 0);
	char path[256];
	snprintf(path, sizeof(path), "%s/good", dir);
	write_file(path, "abc");
	snprintf(path, sizeof(path), "%s/bad", dir);
	write_file(path, "abd");
	struct seen s = { 0 };
	struct fetch_options o = { .cache_dir = dir, .jobs = 1, .offline = true, .on_event = record, .ctx = &s };
	enum fetch_state states[3];
	struct fetch_summary sum;
	struct error err = { 0 };
	ck_assert_int_eq(fetch_all(&m, &o, states, &sum, &err), 0);
	ck_assert_int_eq(states[0], FETCH_CACHED);
	ck_assert_int_eq(states[1], FETCH_BAD);
	ck_assert_int_eq(states[2], FETCH_MISSING);
	ck_assert_uint_eq(sum.cached, 1);
	ck_assert_uint_eq(sum.bad, 1);
	ck_assert_uint_eq(sum.missing, 1);
	ck_assert_int_eq(s.mismatch, 1);
	ck_assert_ptr_nonnull(strstr(s.last, HASH_ABC " "));
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0); /* offline leaves the bad file where it is */
	snprintf(path, sizeof(path), "%s/" FETCH_PARTIAL_DIR, dir);
	ck_assert_int_ne(stat(path, &st), 0); /* and creates nothing */
	manifest_free(&m);
}
END_TEST

START_TEST(online_moves_bad_cache_aside_and_needs_a_location)
{
	struct manifest m;
	struct error merr = { 0 };
	manifest_init(&m);
	/* A git-only entry has no URL: with no --mirror there is nowhere to get it from, and no network is used. */
	const char *text = "g https://git.invalid/x.git~v1 _ " HASH_ABC " x.tar\n";
	ck_assert_int_eq(manifest_parse_text(&m, "t", text, strlen(text), &merr), 0);
	char cache[256], path[300];
	snprintf(cache, sizeof(cache), "%s/new/cache", dir); /* parents are created */
	ck_assert_int_eq(mkdir(dir, 0755) == 0 || errno == EEXIST, 1);
	struct seen s = { 0 };
	struct fetch_options o = { .cache_dir = cache, .jobs = 2, .on_event = record, .ctx = &s };
	struct fetch_summary sum;
	struct error err = { 0 };
	ck_assert_int_eq(fetch_all(&m, &o, NULL, &sum, &err), 0);
	ck_assert_uint_eq(sum.missing, 1);
	ck_assert_ptr_nonnull(strstr(s.last, "no location"));

	snprintf(path, sizeof(path), "%s/x.tar", cache);
	write_file(path, "not abc");
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(fetch_all(&m, &o, NULL, &sum, &err), 0);
	ck_assert_int_eq(s.mismatch, 1);
	struct stat st;
	ck_assert_int_ne(stat(path, &st), 0); /* never left under its final name */
	snprintf(path, sizeof(path), "%s/" FETCH_REJECTED_DIR "/x.tar.1", cache);
	ck_assert_int_eq(stat(path, &st), 0);
	manifest_free(&m);
}
END_TEST

START_TEST(unusable_cache_is_one_error)
{
	struct manifest m;
	struct error merr = { 0 };
	manifest_init(&m);
	const char *text = "a sha256=" HASH_ABC " url=http://127.0.0.1:9/a\n";
	ck_assert_int_eq(manifest_parse_text(&m, "t", text, strlen(text), &merr), 0);
	char file[256], cache[300];
	snprintf(file, sizeof(file), "%s/plain", dir);
	write_file(file, "");
	snprintf(cache, sizeof(cache), "%s/sub", file);
	struct fetch_options o = { .cache_dir = cache, .jobs = 1 };
	struct fetch_summary sum;
	struct error err = { 0 };
	ck_assert_int_eq(fetch_all(&m, &o, NULL, &sum, &err), -ENOTDIR);
	ck_assert_ptr_nonnull(strstr(err.msg, "is not usable: Not a directory"));
	manifest_free(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fetch");
	TCase *text = tcase_create("progress");
	tcase_add_test(text, sizes_and_times);
	tcase_add_test(text, status_line);
	suite_add_tcase(s, text);
	TCase *cache = tcase_create("cache");
	tcase_add_checked_fixture(cache, setup, teardown);
	tcase_add_test(cache, offline_reports_without_touching);
	tcase_add_test(cache, online_moves_bad_cache_aside_and_needs_a_location);
	tcase_add_test(cache, unusable_cache_is_one_error);
	suite_add_tcase(s, cache);
	return check_run(s);
}
