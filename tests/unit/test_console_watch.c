/* Recognizing the run's fate and stages on the guest console, printk timestamps or not. */
#include "check_run.h"
#include <check.h>
#include <string.h>

#include "vmm/console_watch.h"

static enum console_event feed(struct console_watch *w, const char *text)
{
	enum console_event last = CONSOLE_NONE;
	for (const char *p = text; *p; p++) {
		enum console_event ev = console_watch_byte(w, (uint8_t)*p);
		if (ev != CONSOLE_NONE)
			last = ev;
	}
	return last;
}

START_TEST(recognizes_kernel_lines)
{
	struct console_watch w;
	console_watch_init(&w);
	ck_assert_int_eq(feed(&w, "[    0.000000] Linux version 6.1.0-56-amd64 (debian-kernel@lists) #1 SMP\r\n"),
			 CONSOLE_KERNEL_START);
	ck_assert_str_eq(console_watch_last_line(&w), "Linux version 6.1.0-56-amd64 (debian-kernel@lists) #1 SMP");
	ck_assert_int_eq(feed(&w, "[   12.5] reboot: Power down\r\n"), CONSOLE_POWER_OFF);
	ck_assert_int_eq(feed(&w, "reboot: System halted\n"), CONSOLE_HALT);
	ck_assert_int_eq(feed(&w, "[ 1.0] reboot: Restarting system\r\n"), CONSOLE_RESTART);
	ck_assert_int_eq(feed(&w, "[    7.1] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100\r\n"),
			 CONSOLE_PANIC);
	ck_assert_int_eq(feed(&w, "[    7.2] ---[ end Kernel panic - not syncing: Attempted to kill init! ]---\r\n"),
			 CONSOLE_PANIC_END);
	ck_assert_int_eq(feed(&w, "[   30.0] kexec_core: Starting new kernel\r\n"), CONSOLE_KEXEC);
	ck_assert_int_eq(feed(&w, "lbvm-mark: switch_root into sysc\n"), CONSOLE_MARK);
	ck_assert_str_eq(console_watch_detail(&w, CONSOLE_MARK), "switch_root into sysc");
}
END_TEST

START_TEST(ignores_lookalikes)
{
	struct console_watch w;
	console_watch_init(&w);
	/* a user echoing the phrase mid-line is not the kernel announcing it */
	ck_assert_int_eq(feed(&w, "echo reboot: Power down\n"), CONSOLE_NONE);
	ck_assert_int_eq(feed(&w, "# Linux version is 6\n"), CONSOLE_NONE);
	ck_assert_int_eq(feed(&w, "[abc] reboot: Power down\n"), CONSOLE_NONE);
	ck_assert_int_eq(feed(&w, "no newline yet: reboot: Power down"), CONSOLE_NONE);
}
END_TEST

START_TEST(long_lines_are_judged_by_their_start)
{
	struct console_watch w;
	console_watch_init(&w);
	char line[4 * CONSOLE_LINE_MAX];
	memset(line, 'x', sizeof(line) - 2);
	memcpy(line, "reboot: Power down ", 19);
	line[sizeof(line) - 2] = '\n';
	line[sizeof(line) - 1] = 0;
	ck_assert_int_eq(feed(&w, line), CONSOLE_POWER_OFF);
	ck_assert_uint_lt(strlen(console_watch_last_line(&w)), CONSOLE_LINE_MAX);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("console-watch");
	TCase *tc = tcase_create("lines");
	tcase_add_test(tc, recognizes_kernel_lines);
	tcase_add_test(tc, ignores_lookalikes);
	tcase_add_test(tc, long_lines_are_judged_by_their_start);
	suite_add_tcase(s, tc);
	return check_run(s);
}
