/* The console output writers: the log gets every byte in order, even while stdout is not being read;
 * a stalled stdout never blocks the guest's side, and finishing does not hang on it. */
#include "check_run.h"
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session/console_out.h"

static char *read_all(int fd, size_t *len)
{
	size_t cap = 1 << 20, n = 0;
	char *buf = malloc(cap);
	lseek(fd, 0, SEEK_SET);
	for (;;) {
		if (n == cap)
			buf = realloc(buf, cap *= 2);
		ssize_t r = read(fd, buf + n, cap - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return buf;
}

static int temp_file(void)
{
	char path[] = "/tmp/lbvm-test-console-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	return fd;
}

START_TEST(log_gets_every_byte_in_order)
{
	int log = temp_file();
	int view = temp_file();
	struct console_out o;
	ck_assert_int_eq(console_out_start(&o, log, view), 0);
	/* More than the ring holds, in odd-sized pieces, with lbvm lines in between. */
	size_t total = 0;
	char expect[4 * 1024 * 1024 + 1024];
	size_t elen = 0;
	for (int i = 0; total < 3 * CONSOLE_RING_SIZE; i++) {
		char piece[777];
		size_t n = (size_t)(i % 700) + 1;
		for (size_t k = 0; k < n; k++)
			piece[k] = (char)('a' + (i + (int)k) % 26);
		console_out_guest(&o, (const uint8_t *)piece, n);
		total += n;
		if (elen + n < sizeof(expect) - 64) {
			memcpy(expect + elen, piece, n);
			elen += n;
		}
		if (i == 1000) {
			console_out_log_line(&o, "[lbvm mark]");
			memcpy(expect + elen, "[lbvm mark]\n", 12);
			elen += 12;
		}
	}
	ck_assert_int_eq(console_out_finish(&o), 0);
	size_t len;
	char *got = read_all(log, &len);
	ck_assert_uint_eq(len, total + 12);
	ck_assert_int_eq(memcmp(got, expect, elen), 0);
	free(got);
	got = read_all(view, &len);
	ck_assert_uint_eq(len, total); /* a reading stdout sees the guest's bytes, not lbvm's log lines */
	free(got);
	close(log);
	close(view);
}
END_TEST

START_TEST(unread_stdout_blocks_nothing)
{
	int pipefd[2];
	ck_assert_int_eq(pipe(pipefd), 0);
	int log = temp_file();
	struct console_out o;
	ck_assert_int_eq(console_out_start(&o, log, pipefd[1]), 0);
	/* The pipe holds 64 KiB and nobody reads it: 8 MiB must still go through at once. */
	static uint8_t chunk[64 * 1024];
	memset(chunk, 'z', sizeof(chunk));
	int64_t t0 = console_out_clock_ns();
	for (int i = 0; i < 128; i++)
		console_out_guest(&o, chunk, sizeof(chunk));
	int64_t fed = console_out_clock_ns() - t0;
	ck_assert_int_lt(fed, 5 * INT64_C(1000000000));
	ck_assert_int_eq(console_out_finish(&o), 0); /* gives up on the pipe after about 2 s */
	ck_assert_int_lt(console_out_clock_ns() - t0, 10 * INT64_C(1000000000));
	size_t len;
	char *got = read_all(log, &len);
	ck_assert_uint_eq(len, 128 * sizeof(chunk));
	free(got);
	close(pipefd[0]);
	close(pipefd[1]);
	close(log);
}
END_TEST

START_TEST(stdout_reports_what_it_missed)
{
	int pipefd[2];
	ck_assert_int_eq(pipe(pipefd), 0);
	struct console_out o;
	ck_assert_int_eq(console_out_start(&o, -1, pipefd[1]), 0);
	static uint8_t chunk[64 * 1024];
	memset(chunk, 'q', sizeof(chunk));
	for (int i = 0; i < 64; i++) /* 4 MiB into a 1 MiB ring behind a full pipe */
		console_out_guest(&o, chunk, sizeof(chunk));
	/* Now read everything: the note about the missed bytes must come through. */
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	char *seen = malloc(8 << 20);
	size_t n = 0;
	int64_t t0 = console_out_clock_ns();
	while (console_out_clock_ns() - t0 < 3 * INT64_C(1000000000)) {
		ssize_t r = read(pipefd[0], seen + n, (8u << 20) - n - 1);
		if (r > 0)
			n += (size_t)r;
		else
			usleep(10000);
	}
	seen[n] = 0;
	ck_assert_int_eq(console_out_finish(&o), 0);
	ck_assert_ptr_nonnull(strstr(seen, "bytes not shown here: stdout was not read"));
	ck_assert_uint_lt(n, 4u << 20);
	free(seen);
	close(pipefd[0]);
	close(pipefd[1]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("console-out");
	TCase *tc = tcase_create("writers");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, log_gets_every_byte_in_order);
	tcase_add_test(tc, unread_stdout_blocks_nothing);
	tcase_add_test(tc, stdout_reports_what_it_missed);
	suite_add_tcase(s, tc);
	return check_run(s);
}
