/* The CMOS clock shows SOURCE_DATE_EPOCH, in BCD as a PC BIOS leaves it, and never the host's time. */
#include "check_run.h"
#include <check.h>
#include <stdlib.h>

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

int main(void)
{
	Suite *s = suite_create("cmos-rtc");
	TCase *tc = tcase_create("clock");
	tcase_add_test(tc, shows_the_epoch);
	tcase_add_test(tc, epoch_from_environment);
	tcase_add_test(tc, binary_mode_and_guest_writes);
	tcase_add_test(tc, guest_writes_cannot_overflow_the_year);
	suite_add_tcase(s, tc);
	return check_run(s);
}
