/* The MC146818 CMOS clock at ports 0x70/0x71. Its time comes from SOURCE_DATE_EPOCH and stands still
 * (never the host clock): a guest reading the date twice gets the same answer in every run. A guest that
 * sets the clock sees its own value from then on, as long as it stays between 1970 and 9999 (a write that
 * would leave that range is ignored, so no sequence of writes can overflow the date). 128 bytes of CMOS RAM around it. */
#ifndef LBVM_DEVICES_CMOS_RTC_H
#define LBVM_DEVICES_CMOS_RTC_H

#include <stdint.h>

#define CMOS_RTC_DEFAULT_EPOCH INT64_C(946684800) /* 2000-01-01 00:00:00 UTC, when SOURCE_DATE_EPOCH is unset */
#define CMOS_RTC_MAX_EPOCH INT64_C(253402300799) /* 9999-12-31 23:59:59 UTC: the last date BCD registers hold */
#define CMOS_SIZE 128

struct cmos_rtc {
	int64_t epoch;      /* the time the clock shows, seconds since 1970 UTC */
	uint8_t index;      /* selected register (port 0x70, NMI bit stripped) */
	uint8_t ram[CMOS_SIZE];
};

void cmos_rtc_init(struct cmos_rtc *rtc, int64_t epoch);
/* The epoch from SOURCE_DATE_EPOCH, or the default; -1 (and *epoch untouched) when it is set but invalid. */
int cmos_rtc_epoch_from_env(int64_t *epoch);
/* Bus handlers for the 2-port window at 0x70. */
void cmos_rtc_io_read(void *dev, uint64_t offset, void *data, unsigned size);
void cmos_rtc_io_write(void *dev, uint64_t offset, const void *data, unsigned size);

#endif
