/* The console output writers: the log gets every byte in order, even while stdout is not being read;
 * a stalled stdout never blocks the guest's side, and finishing does not hang on it. A slow log makes the
 * guest wait (it is lossless); the note about what stdout missed counts exactly the bytes it did not
 * show; a log that cannot be written is reported. */
#include "check_run.h"
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

/* The view is lossy: what a reader gets is pieces of the guest's output in order, with a note between two
 * pieces that says how many bytes lie between them. True when view (vlen bytes) accounts for every byte
 * of data (total bytes) exactly once, in order; *notes counts the notes. */
static void expect_view_accounts_for(const uint8_t *view, size_t vlen, const uint8_t *data, size_t total,
				     size_t *notes)
{
	const char *key = "\r\n[lbvm: ";
	size_t pos = 0, at = 0;
	*notes = 0;
	while (at < vlen) {
		const uint8_t *note = memmem(view + at, vlen - at, key, strlen(key));
		size_t piece = note ? (size_t)(note - (view + at)) : vlen - at;
		ck_assert_msg(pos + piece <= total, "the view shows more than the guest wrote");
		if (memcmp(view + at, data + pos, piece))
			ck_abort_msg("the view's bytes at %zu are not the output's at %zu", at, pos);
		pos += piece;
		at += piece;
		if (!note)
			break;
		unsigned long long missed = 0;
		int used = 0;
		ck_assert_int_eq(sscanf((const char *)note, "\r\n[lbvm: %llu bytes not shown here: stdout was not read]\r\n%n",
					&missed, &used), 1);
		ck_assert_int_gt(used, 0);
		ck_assert_uint_gt(missed, 0);
		pos += missed;
		at += (size_t)used;
		(*notes)++;
	}
	ck_assert_uint_eq(pos, total); /* shown + missed: every byte, none twice */
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
	static uint8_t guest[4 * 1024 * 1024];
	for (int i = 0; total < 3 * CONSOLE_RING_SIZE; i++) {
		char piece[777];
		size_t n = (size_t)(i % 700) + 1;
		for (size_t k = 0; k < n; k++)
			piece[k] = (char)('a' + (i + (int)k) % 26);
		if (i == 1000)
			piece[n - 1] = '\n'; /* the mark below comes at the end of a guest line */
		console_out_guest(&o, (const uint8_t *)piece, n);
		memcpy(guest + total, piece, n);
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
	/* Stdout sees the guest's bytes, not lbvm's log lines: all of them when its writer keeps up, else
	 * with notes that count what it missed (a busy machine can leave even a file's writer behind). */
	size_t notes;
	expect_view_accounts_for((const uint8_t *)got, len, guest, total, &notes);
	ck_assert_ptr_null(memmem(got, len, "[lbvm mark]", 11));
	free(got);
	close(log);
	close(view);
}
END_TEST

/* lbvm's lines never cut a guest line: a note made half-way through one waits for its newline; one that
 * waits longer than CONSOLE_NOTE_WAIT_NS (a prompt) goes in on a line of its own; finishing writes
 * what still waits. */
START_TEST(notes_wait_for_the_guest_line_to_end)
{
	int log = temp_file();
	struct console_out o;
	ck_assert_int_eq(console_out_start(&o, log, -1), 0);
	console_out_log_line(&o, "[lbvm] at a line start");
	console_out_guest(&o, (const uint8_t *)"Kernel panic - not sy", 21);
	console_out_log_line(&o, "[lbvm] step 4/11");
	console_out_log_line(&o, "[lbvm] another");
	console_out_guest(&o, (const uint8_t *)"ncing: only text\r\nnext li", 25);
	console_out_guest(&o, (const uint8_t *)"ne\n# ", 5);
	console_out_log_line(&o, "[lbvm] while a prompt waits");
	console_out_tick(&o); /* too early: it still waits */
	usleep((useconds_t)(CONSOLE_NOTE_WAIT_NS / 1000 + 100000));
	console_out_tick(&o);
	console_out_guest(&o, (const uint8_t *)"ls", 2);
	console_out_log_line(&o, "[lbvm] at the end");
	ck_assert_int_eq(console_out_finish(&o), 0);
	size_t len;
	char *got = read_all(log, &len);
	const char *want = "[lbvm] at a line start\n"
			   "Kernel panic - not syncing: only text\r\n"
			   "[lbvm] step 4/11\n[lbvm] another\n"
			   "next line\n# \n"
			   "[lbvm] while a prompt waits\n"
			   "ls\n[lbvm] at the end\n";
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_int_eq(memcmp(got, want, len), 0);
	free(got);
	close(log);
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


/* --- exact accounting, backpressure on the log, write errors --------------------------------------- */
/* The test data: byte i of the guest's output. A pattern with no newline-free period of the ring's size. */
static uint8_t pattern(size_t i)
{
	return (uint8_t)('a' + (i * 7 + i / 4093) % 26);
}

static void put_pattern(struct console_out *o, size_t from, size_t len, size_t chunk)
{
	uint8_t buf[8192];
	while (len) {
		size_t n = len < chunk ? len : chunk;
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(from + i);
		console_out_guest(o, buf, n);
		from += n;
		len -= n;
	}
}

struct slow_reader {
	int fd;
	size_t got;
	size_t mismatch_at; /* SIZE_MAX while every byte matched the pattern */
};

static void *read_slowly(void *arg)
{
	struct slow_reader *r = arg;
	uint8_t buf[4096];
	for (;;) {
		ssize_t n = read(r->fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pattern(r->got + (size_t)i) && r->mismatch_at == SIZE_MAX)
				r->mismatch_at = r->got + (size_t)i;
		r->got += (size_t)n;
		usleep(200); /* far slower than the guest writes */
	}
	return NULL;
}

START_TEST(guest_waits_for_a_slow_log)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	struct slow_reader r = { .fd = p[0], .mismatch_at = SIZE_MAX };
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, read_slowly, &r), 0);
	struct console_out o;
	ck_assert_int_eq(console_out_start(&o, p[1], -1), 0);
	size_t total = 2 * CONSOLE_RING_SIZE + 777; /* more than the ring holds: the guest must wait */
	put_pattern(&o, 0, total, 8192);
	ck_assert_int_eq(console_out_finish(&o), 0);
	close(p[1]);
	pthread_join(t, NULL);
	close(p[0]);
	ck_assert_uint_eq(r.got, total);
	ck_assert_uint_eq(r.mismatch_at, SIZE_MAX);
}
END_TEST

struct paused_reader {
	int fd;
	int go;          /* a pipe: one byte means start reading */
	uint8_t *buf;
	size_t len, cap;
};

static void *read_after_pause(void *arg)
{
	struct paused_reader *r = arg;
	char c;
	ck_assert_int_eq(read(r->go, &c, 1), 1);
	for (;;) {
		if (r->len == r->cap) {
			r->cap = r->cap ? 2 * r->cap : 1u << 20;
			r->buf = realloc(r->buf, r->cap);
			ck_assert_ptr_nonnull(r->buf);
		}
		ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
		if (n <= 0)
			break;
		r->len += (size_t)n;
	}
	return NULL;
}

START_TEST(view_notes_what_a_paused_reader_missed)
{
	int p[2], go[2];
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pipe(go), 0);
	struct paused_reader r = { .fd = p[0], .go = go[0] };
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, read_after_pause, &r), 0);
	struct console_out o;
	ck_assert_int_eq(console_out_start(&o, -1, p[1]), 0);
	size_t total = 3 * CONSOLE_RING_SIZE + 4242;
	put_pattern(&o, 0, total, 8192);
	ck_assert_int_eq(write(go[1], "g", 1), 1); /* the reader reads again */
	ck_assert_int_eq(console_out_finish(&o), 0);
	close(p[1]);
	pthread_join(t, NULL);
	uint8_t *data = malloc(total);
	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < total; i++)
		data[i] = pattern(i);
	size_t notes;
	expect_view_accounts_for(r.buf, r.len, data, total, &notes);
	ck_assert_uint_ge(notes, 1); /* 3 MiB behind a 1 MiB ring: some was missed, and said so */
	free(data);
	free(r.buf);
	close(p[0]);
	close(go[0]);
	close(go[1]);
}
END_TEST

START_TEST(log_write_error_is_reported)
{
	int fd = open("/dev/null", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	struct console_out o;
	ck_assert_int_eq(console_out_start(&o, fd, -1), 0);
	put_pattern(&o, 0, 2 * CONSOLE_RING_SIZE, 8192); /* the writer discards after its first error */
	ck_assert_int_eq(console_out_finish(&o), -EBADF);
	close(fd);
}
END_TEST

START_TEST(nothing_attached_and_the_output_clock)
{
	struct console_out o;
	ck_assert_int_eq(console_out_start(&o, -1, -1), 0);
	int64_t before = atomic_load(&o.last_output_ns);
	usleep(2000);
	console_out_guest(&o, (const uint8_t *)"x", 1);
	console_out_log_line(&o, "nowhere");
	ck_assert_int_gt(atomic_load(&o.last_output_ns), before);
	ck_assert_int_eq(console_out_finish(&o), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("console-out");
	TCase *tc = tcase_create("writers");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, log_gets_every_byte_in_order);
	tcase_add_test(tc, notes_wait_for_the_guest_line_to_end);
	tcase_add_test(tc, unread_stdout_blocks_nothing);
	tcase_add_test(tc, stdout_reports_what_it_missed);
	tcase_add_test(tc, guest_waits_for_a_slow_log);
	tcase_add_test(tc, view_notes_what_a_paused_reader_missed);
	tcase_add_test(tc, log_write_error_is_reported);
	tcase_add_test(tc, nothing_attached_and_the_output_clock);
	suite_add_tcase(s, tc);
	return check_run(s);
}
