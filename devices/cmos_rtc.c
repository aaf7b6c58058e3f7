#include "devices/cmos_rtc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define REG_SECONDS   0x00
#define REG_MINUTES   0x02
#define REG_HOURS     0x04
#define REG_WEEKDAY   0x06
#define REG_DAY       0x07
#define REG_MONTH     0x08
#define REG_YEAR      0x09
#define REG_A         0x0a
#define REG_B         0x0b
#define REG_C         0x0c
#define REG_D         0x0d
#define REG_CENTURY   0x32

#define A_DIVIDER_32K 0x26 /* 32.768 kHz base, 1024 Hz rate; UIP (bit 7) never set: the clock stands */
#define B_24H         0x02
#define B_BINARY      0x04 /* clear: BCD */
#define D_VALID       0x80 /* battery good */
#define INDEX_MASK    0x7f /* bit 7 of the index port masks NMI */

static uint8_t to_bcd(unsigned v) { return (uint8_t)((v / 10) << 4 | (v % 10)); }
static unsigned from_bcd(uint8_t v) { return (v >> 4) * 10 + (v & 0x0f); }

static uint8_t encode(const struct cmos_rtc *rtc, unsigned v)
{
	return (rtc->ram[REG_B] & B_BINARY) ? (uint8_t)v : to_bcd(v);
}

static unsigned decode(const struct cmos_rtc *rtc, uint8_t v)
{
	return (rtc->ram[REG_B] & B_BINARY) ? v : from_bcd(v);
}

static int time_register(unsigned reg)
{
	return reg <= REG_YEAR || reg == REG_CENTURY;
}

/* The clock's date, in UTC and the proleptic Gregorian calendar. The arithmetic is done here rather than
 * with gmtime_r()/timegm(): libc loads its time-zone database (/etc/localtime) on the first such call,
 * which the vCPU thread's sandbox forbids, and UTC needs none of it. */
struct civil {
	int64_t year;
	int64_t month;   /* 1..12 when shown; any value when written (normalised like timegm) */
	int64_t day;     /* 1..31 when shown; any value when written */
	int64_t hour, minute, second;
	int weekday;     /* 0 = Sunday */
};

#define SECS_PER_DAY       INT64_C(86400)
#define DAYS_PER_400_YEARS INT64_C(146097)
#define EPOCH_DAY_OFFSET   INT64_C(719468) /* days from 0000-03-01 to 1970-01-01 */
#define EPOCH_WEEKDAY      4               /* 1970-01-01 was a Thursday */

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Days since 1970-01-01 of YEAR-MONTH-DAY (MONTH 1..12, DAY counted on from the 1st). Years are counted
 * from March, so that February's leap day is the last day of the year. */
static int64_t days_from_civil(int64_t year, int64_t month, int64_t day)
{
	year -= month <= 2;
	int64_t era = floor_div(year, 400);
	int64_t year_of_era = year - era * 400;                                    /* 0..399 */
	int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
	int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
	return era * DAYS_PER_400_YEARS + day_of_era - EPOCH_DAY_OFFSET;
}

static void civil_from_days(int64_t days, struct civil *c)
{
	days += EPOCH_DAY_OFFSET;
	int64_t era = floor_div(days, DAYS_PER_400_YEARS);
	int64_t day_of_era = days - era * DAYS_PER_400_YEARS;                       /* 0..146096 */
	int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
	int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
	int64_t month_from_march = (5 * day_of_year + 2) / 153;                       /* 0 = March */
	c->day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
	c->month = month_from_march < 10 ? month_from_march + 3 : month_from_march - 9;
	c->year = year_of_era + era * 400 + (c->month <= 2);
}

/* The date the clock shows; the epoch always lies in 0..CMOS_RTC_MAX_EPOCH. */
static void show(const struct cmos_rtc *rtc, struct civil *c)
{
	int64_t days = floor_div(rtc->epoch, SECS_PER_DAY), secs = rtc->epoch - days * SECS_PER_DAY;
	civil_from_days(days, c);
	c->hour = secs / 3600;
	c->minute = secs / 60 % 60;
	c->second = secs % 60;
	c->weekday = (int)((days % 7 + 7 + EPOCH_WEEKDAY) % 7);
}

/* Seconds since 1970 of a date whose fields may be out of range: they carry over as timegm() lets them. */
static int64_t epoch_of(const struct civil *c)
{
	int64_t month0 = c->month - 1;
	int64_t year = c->year + floor_div(month0, 12);
	int64_t days = days_from_civil(year, month0 - floor_div(month0, 12) * 12 + 1, 1) + c->day - 1;
	return days * SECS_PER_DAY + c->hour * 3600 + c->minute * 60 + c->second;
}

static uint8_t read_time(const struct cmos_rtc *rtc, unsigned reg)
{
	struct civil c;
	show(rtc, &c);
	switch (reg) {
	case REG_SECONDS: return encode(rtc, (unsigned)c.second);
	case REG_MINUTES: return encode(rtc, (unsigned)c.minute);
	case REG_HOURS:
		if (rtc->ram[REG_B] & B_24H)
			return encode(rtc, (unsigned)c.hour);
		/* 12-hour mode: 1..12, bit 7 = PM */
		return (uint8_t)(encode(rtc, (unsigned)(c.hour % 12 ? c.hour % 12 : 12)) | (c.hour >= 12 ? 0x80 : 0));
	case REG_WEEKDAY: return encode(rtc, (unsigned)c.weekday + 1);
	case REG_DAY: return encode(rtc, (unsigned)c.day);
	case REG_MONTH: return encode(rtc, (unsigned)c.month);
	case REG_YEAR: return encode(rtc, (unsigned)(c.year % 100));
	case REG_CENTURY: return encode(rtc, (unsigned)(c.year / 100));
	default: return 0; /* alarm registers 1, 3, 5: no alarms */
	}
}

/* The guest sets one field of the date: recompute the epoch from the edited date. Out-of-range fields
 * (day 99, month 0xff) carry over as timegm() would; a result outside 1970..9999 is ignored, so no
 * sequence of writes can take the year anywhere near an overflow. */
static void write_time(struct cmos_rtc *rtc, unsigned reg, uint8_t val)
{
	struct civil c;
	show(rtc, &c);
	int64_t v = decode(rtc, reg == REG_HOURS ? (uint8_t)(val & 0x7f) : val);
	switch (reg) {
	case REG_SECONDS: c.second = v; break;
	case REG_MINUTES: c.minute = v; break;
	case REG_HOURS:
		c.hour = (rtc->ram[REG_B] & B_24H) ? v : v % 12 + ((val & 0x80) ? 12 : 0);
		break;
	case REG_DAY: c.day = v; break;
	case REG_MONTH: c.month = v; break;
	case REG_YEAR: c.year = c.year / 100 * 100 + v; break;
	case REG_CENTURY: c.year = v * 100 + c.year % 100; break;
	default: return;
	}
	int64_t updated = epoch_of(&c);
	if (updated >= 0 && updated <= CMOS_RTC_MAX_EPOCH)
		rtc->epoch = updated;
}

void cmos_rtc_io_read(void *dev, uint64_t offset, void *data, unsigned size)
{
	struct cmos_rtc *rtc = dev;
	uint8_t val = 0xff;
	if (offset == 1) {
		unsigned reg = rtc->index;
		if (time_register(reg))
			val = read_time(rtc, reg);
		else if (reg == REG_C)
			val = 0; /* no interrupt flags: periodic, alarm and update interrupts are not implemented */
		else
			val = rtc->ram[reg];
	} else {
		val = rtc->index;
	}
	memset(data, 0, size);
	*(uint8_t *)data = val;
}

void cmos_rtc_io_write(void *dev, uint64_t offset, const void *data, unsigned size)
{
	struct cmos_rtc *rtc = dev;
	uint8_t val = *(const uint8_t *)data;
	(void)size;
	if (offset == 0) {
		rtc->index = val & INDEX_MASK;
		return;
	}
	unsigned reg = rtc->index;
	if (time_register(reg))
		write_time(rtc, reg, val);
	else if (reg == REG_A)
		rtc->ram[REG_A] = val & 0x7f; /* UIP is read-only */
	else if (reg != REG_C && reg != REG_D)
		rtc->ram[reg] = val;
}

void cmos_rtc_init(struct cmos_rtc *rtc, int64_t epoch)
{
	memset(rtc, 0, sizeof(*rtc));
	/* the caller's epoch is checked (cmos_rtc_epoch_from_env); clamp anyway so the range always holds */
	rtc->epoch = epoch < 0 ? 0 : epoch > CMOS_RTC_MAX_EPOCH ? CMOS_RTC_MAX_EPOCH : epoch;
	rtc->ram[REG_A] = A_DIVIDER_32K;
	rtc->ram[REG_B] = B_24H;
	rtc->ram[REG_D] = D_VALID;
}

int cmos_rtc_epoch_from_env(int64_t *epoch)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	if (!s || !*s) {
		*epoch = CMOS_RTC_DEFAULT_EPOCH;
		return 0;
	}
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	/* The CMOS century register covers years up to 9999. */
	if (errno || *end || v < 0 || v > CMOS_RTC_MAX_EPOCH)
		return -1;
	*epoch = v;
	return 0;
}
