#include "devices/cmos_rtc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* The broken-down time the clock shows; the epoch always lies in 0..CMOS_RTC_MAX_EPOCH, so this succeeds. */
static void show(const struct cmos_rtc *rtc, struct tm *tm)
{
	time_t t = (time_t)rtc->epoch;
	if (!gmtime_r(&t, tm))
		memset(tm, 0, sizeof(*tm));
}

static uint8_t read_time(const struct cmos_rtc *rtc, unsigned reg)
{
	struct tm tm;
	show(rtc, &tm);
	unsigned year = (unsigned)tm.tm_year + 1900;
	switch (reg) {
	case REG_SECONDS: return encode(rtc, (unsigned)tm.tm_sec);
	case REG_MINUTES: return encode(rtc, (unsigned)tm.tm_min);
	case REG_HOURS:
		if (rtc->ram[REG_B] & B_24H)
			return encode(rtc, (unsigned)tm.tm_hour);
		/* 12-hour mode: 1..12, bit 7 = PM */
		return (uint8_t)(encode(rtc, (unsigned)(tm.tm_hour % 12 ? tm.tm_hour % 12 : 12)) | (tm.tm_hour >= 12 ? 0x80 : 0));
	case REG_WEEKDAY: return encode(rtc, (unsigned)tm.tm_wday + 1);
	case REG_DAY: return encode(rtc, (unsigned)tm.tm_mday);
	case REG_MONTH: return encode(rtc, (unsigned)tm.tm_mon + 1);
	case REG_YEAR: return encode(rtc, year % 100);
	case REG_CENTURY: return encode(rtc, year / 100);
	default: return 0; /* alarm registers 1, 3, 5: no alarms */
	}
}

/* The guest sets one field of the date: recompute the epoch from the edited broken-down time. Out-of-range
 * fields (day 99, month 0xff) normalise as timegm() does; a result outside 1970..9999 is ignored, which
 * keeps every later tm_year + 1900 far from overflowing however many writes follow. */
static void write_time(struct cmos_rtc *rtc, unsigned reg, uint8_t val)
{
	struct tm tm;
	show(rtc, &tm);
	unsigned v = decode(rtc, reg == REG_HOURS ? (uint8_t)(val & 0x7f) : val);
	switch (reg) {
	case REG_SECONDS: tm.tm_sec = (int)v; break;
	case REG_MINUTES: tm.tm_min = (int)v; break;
	case REG_HOURS:
		tm.tm_hour = (int)v;
		if (!(rtc->ram[REG_B] & B_24H))
			tm.tm_hour = (int)(v % 12) + ((val & 0x80) ? 12 : 0);
		break;
	case REG_DAY: tm.tm_mday = (int)v; break;
	case REG_MONTH: tm.tm_mon = (int)v - 1; break;
	case REG_YEAR: tm.tm_year = (tm.tm_year + 1900) / 100 * 100 + (int)v - 1900; break;
	case REG_CENTURY: tm.tm_year = (int)v * 100 + (tm.tm_year + 1900) % 100 - 1900; break;
	default: return;
	}
	time_t updated = timegm(&tm);
	if (updated >= 0 && (int64_t)updated <= CMOS_RTC_MAX_EPOCH)
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
