/* libFuzzer target: the CMOS clock from any starting epoch, driven through ports 0x70/0x71 with any
 * sequence of index and data reads and writes (BCD or binary mode, 12- or 24-hour). UBSan catches signed
 * overflow in the date arithmetic; the target checks that the clock never leaves 1970..9999, and that in
 * BCD mode every time register reads back as valid BCD (each nibble 0..9, the hour's PM bit aside). */
#include <stdlib.h>

#include "common/layout.h"
#include "devices/bus.h"
#include "devices/cmos_rtc.h"
#include "tests/fuzz/fuzz_input.h"

#define MAX_OPS 512
#define REG_HOURS 0x04
#define REG_B 0x0b
#define B_BINARY 0x04

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int valid_bcd(uint8_t v)
{
	return (v & 0x0f) <= 9 && (v >> 4) <= 9;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct cmos_rtc rtc;
	cmos_rtc_init(&rtc, (int64_t)fuzz_take(&in, 8));
	struct bus io;
	bus_init(&io);
	if (bus_add(&io, LAYOUT_PORT_RTC, 2, cmos_rtc_io_read, cmos_rtc_io_write, &rtc, "cmos-rtc"))
		abort();
	for (unsigned ops = 0; in.left && ops < MAX_OPS; ops++) {
		uint8_t op = (uint8_t)fuzz_take(&in, 1);
		uint64_t port = LAYOUT_PORT_RTC + (op & 1);
		unsigned len = 1u << ((op >> 2) % 3);
		uint32_t v = 0;
		if (op & 2) {
			v = (uint32_t)fuzz_take(&in, 2);
			bus_write(&io, port, &v, len);
		} else {
			bus_read(&io, port, &v, len);
			unsigned reg = rtc.index;
			int time_reg = reg <= 0x09 || reg == 0x32;
			if (port == LAYOUT_PORT_RTC + 1 && time_reg && !(rtc.ram[REG_B] & B_BINARY) &&
			    !valid_bcd((uint8_t)(reg == REG_HOURS ? v & 0x7f : v & 0xff)))
				abort();
		}
		if (rtc.epoch < 0 || rtc.epoch > CMOS_RTC_MAX_EPOCH || rtc.index >= CMOS_SIZE)
			abort();
	}
	bus_destroy(&io);
	return 0;
}
