/* The CMOS clock shows SOURCE_DATE_EPOCH, in BCD as a PC BIOS leaves it, and never the host's time. */
#include "check_run.h"
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "devices/cmos_rtc.h"

static uint8_t rd(struct cmos_rtc *rtc, uint8_t reg)
{
	uint8_t v;
	cmos_rtc_io_write(rtc, 0, &reg, 1);
	cmos_rtc_io_read(rtc, 1, &v, 1);
	return v;
}

START_TEST(shows_the_epoch)
{
	struct cmos_rtc rtc;
	cmos_rtc_init(&rtc, 1234567890); /* 2009-02-13 23:31:30 UTC, a Friday */
	ck_assert_uint_eq(rd(&rtc, 0x00), 0x30);
	ck_assert_uint_eq(rd(&rtc, 0x02), 0x31);
	ck_assert_uint_eq(rd(&rtc, 0x04), 0x23);
	ck_assert_uint_eq(rd(&rtc, 0x06), 0x06);
	ck_assert_uint_eq(rd(&rtc, 0x07), 0x13);
	ck_assert_uint_eq(rd(&rtc, 0x08), 0x02);
	ck_assert_uint_eq(rd(&rtc, 0x09), 0x09);
	ck_assert_uint_eq(rd(&rtc, 0x32), 0x20);
	ck_assert_uint_eq(rd(&rtc, 0x0a) & 0x80, 0); /* never "update in progress" */
	ck_assert_uint_eq(rd(&rtc, 0x0d) & 0x80, 0x80);
	/* the NMI-mask bit of the index port is not part of the register number */
	ck_assert_uint_eq(rd(&rtc, 0x80 | 0x00), 0x30);
	/* the clock stands still: the same answer later */
	ck_assert_uint_eq(rd(&rtc, 0x00), 0x30);
}
END_TEST

START_TEST(epoch_from_environment)
{
	int64_t e = 0;
	unsetenv("SOURCE_DATE_EPOCH");
	ck_assert_int_eq(cmos_rtc_epoch_from_env(&e), 0);
	ck_assert_int_eq(e, CMOS_RTC_DEFAULT_EPOCH);
	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	ck_assert_int_eq(cmos_rtc_epoch_from_env(&e), 0);
	ck_assert_int_eq(e, 1700000000);
	setenv("SOURCE_DATE_EPOCH", "yesterday", 1);
	ck_assert_int_eq(cmos_rtc_epoch_from_env(&e), -1);
	ck_assert_int_eq(e, 1700000000);
	unsetenv("SOURCE_DATE_EPOCH");
}
END_TEST

START_TEST(binary_mode_and_guest_writes)
{
	struct cmos_rtc rtc;
	cmos_rtc_init(&rtc, 1234567890);
	uint8_t sel = 0x0b, b = rd(&rtc, 0x0b) | 0x04; /* binary */
	cmos_rtc_io_write(&rtc, 0, &sel, 1);
	cmos_rtc_io_write(&rtc, 1, &b, 1);
	ck_assert_uint_eq(rd(&rtc, 0x00), 30);
	ck_assert_uint_eq(rd(&rtc, 0x09), 9);
	/* the guest sets the minutes; it sees its own value from then on */
	uint8_t reg = 0x02, val = 45;
	cmos_rtc_io_write(&rtc, 0, &reg, 1);
	cmos_rtc_io_write(&rtc, 1, &val, 1);
	ck_assert_uint_eq(rd(&rtc, 0x02), 45);
	/* CMOS RAM beyond the clock keeps what is stored */
	reg = 0x40;
	val = 0x5a;
	cmos_rtc_io_write(&rtc, 0, &reg, 1);
	cmos_rtc_io_write(&rtc, 1, &val, 1);
	ck_assert_uint_eq(rd(&rtc, 0x40), 0x5a);
}
END_TEST

static void wr(struct cmos_rtc *rtc, uint8_t reg, uint8_t val)
{
	cmos_rtc_io_write(rtc, 0, &reg, 1);
	cmos_rtc_io_write(rtc, 1, &val, 1);
}

/* Month 0xff normalises to about 21 years later; repeated, it once pushed the year past INT_MAX (signed
 * overflow in tm_year + 1900). Now no write takes the clock outside 1970..9999. */
START_TEST(guest_writes_cannot_overflow_the_year)
{
	struct cmos_rtc rtc;
	cmos_rtc_init(&rtc, 1234567890);
	wr(&rtc, 0x0b, 0x02 | 0x04); /* 24 h, binary */
	for (int i = 0; i < 2000; i++) {
		wr(&rtc, 0x08, 0xff);
		wr(&rtc, 0x07, 0xff);
		ck_assert_int_ge(rtc.epoch, 0);
		ck_assert_int_le(rtc.epoch, CMOS_RTC_MAX_EPOCH);
	}
	ck_assert_uint_le(rd(&rtc, 0x32), 99);
	/* century 0xff (year 25500+) is out of range: ignored */
	int64_t before = rtc.epoch;
	wr(&rtc, 0x32, 0xff);
	ck_assert_int_eq(rtc.epoch, before);
	/* century 19, year 0: before 1970, ignored too */
	wr(&rtc, 0x32, 19);
	wr(&rtc, 0x09, 0);
	ck_assert_int_ge(rtc.epoch, 0);
	/* an epoch outside the range from a caller is clamped */
	cmos_rtc_init(&rtc, INT64_MAX);
	ck_assert_int_eq(rtc.epoch, CMOS_RTC_MAX_EPOCH);
	ck_assert_uint_eq(rd(&rtc, 0x32), 0x99);
	ck_assert_uint_eq(rd(&rtc, 0x09), 0x99);
}
END_TEST

/* The clock's own date arithmetic against libc's gmtime_r/timegm (which lbvm cannot call from the vCPU
 * thread's sandbox): every field, for edge dates and 50,000 pseudo-random ones, and every single-field write
 * in binary 24-hour mode with the carry-over timegm gives out-of-range fields. */
START_TEST(date_arithmetic_matches_libc)
{
	static const int64_t edges[] = { 0, 59, 86399, 86400, 951782400 /* 2000-02-29 */, 951868800,
					 4107542400 /* 2100-02-28 */, 4107628800, 253402300799, 68169600 /* 1972-02-29 */ };
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < 50000; i++) {
		int64_t epoch;
		if (i < (int)(sizeof(edges) / sizeof(edges[0]))) {
			epoch = edges[i];
		} else {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			epoch = (int64_t)(x % (uint64_t)(CMOS_RTC_MAX_EPOCH + 1));
		}
		struct cmos_rtc rtc;
		cmos_rtc_init(&rtc, epoch);
		wr(&rtc, 0x0b, 0x02 | 0x04); /* 24 h, binary */
		time_t t = (time_t)epoch;
		struct tm tm;
		ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
		unsigned year = (unsigned)tm.tm_year + 1900;
		ck_assert_uint_eq(rd(&rtc, 0x00), (unsigned)tm.tm_sec);
		ck_assert_uint_eq(rd(&rtc, 0x02), (unsigned)tm.tm_min);
		ck_assert_uint_eq(rd(&rtc, 0x04), (unsigned)tm.tm_hour);
		ck_assert_uint_eq(rd(&rtc, 0x06), (unsigned)tm.tm_wday + 1);
		ck_assert_uint_eq(rd(&rtc, 0x07), (unsigned)tm.tm_mday);
		ck_assert_uint_eq(rd(&rtc, 0x08), (unsigned)tm.tm_mon + 1);
		ck_assert_uint_eq(rd(&rtc, 0x09), year % 100);
		ck_assert_uint_eq(rd(&rtc, 0x32), year / 100);
		/* one field written with any byte: the same epoch timegm gives, or unchanged when out of range */
		static const uint8_t regs[] = { 0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32 };
		uint8_t reg = regs[x % sizeof(regs)], val = (uint8_t)(x >> 8);
		struct tm e = tm;
		switch (reg) {
		case 0x00: e.tm_sec = val; break;
		case 0x02: e.tm_min = val; break;
		case 0x04: e.tm_hour = val & 0x7f; break; /* bit 7 is the 12-hour PM flag */
		case 0x07: e.tm_mday = val; break;
		case 0x08: e.tm_mon = val - 1; break;
		case 0x09: e.tm_year = (int)(year / 100 * 100 + val) - 1900; break;
		default: e.tm_year = (int)(val * 100 + year % 100) - 1900; break;
		}
		time_t want = timegm(&e);
		bool in_range = want >= 0 && (int64_t)want <= CMOS_RTC_MAX_EPOCH;
		wr(&rtc, reg, val);
		ck_assert_int_eq(rtc.epoch, in_range ? (int64_t)want : epoch);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cmos-rtc");
	TCase *tc = tcase_create("clock");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, shows_the_epoch);
	tcase_add_test(tc, epoch_from_environment);
	tcase_add_test(tc, binary_mode_and_guest_writes);
	tcase_add_test(tc, guest_writes_cannot_overflow_the_year);
	tcase_add_test(tc, date_arithmetic_matches_libc);
	suite_add_tcase(s, tc);
	return check_run(s);
}
