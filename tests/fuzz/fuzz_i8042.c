/* libFuzzer target: the i8042 keyboard controller through its two ports (0x60 data, 0x64 command/status),
 * any byte sequence of reads and writes. The target checks that the output queue stays within its size,
 * that the status register's "output buffer full" bit says whether a byte waits, and that a reset is
 * requested exactly when the guest asks for one (a pulse command with bit 0 clear, or output-port bit 0
 * written as 0), which is how every lbvm run that reboots ends. */
#include <stdlib.h>

#include "common/layout.h"
#include "devices/bus.h"
#include "devices/i8042.h"
#include "tests/fuzz/fuzz_input.h"

#define MAX_OPS 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned resets;

static void on_reset(void *opaque)
{
	(void)opaque;
	resets++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct i8042 kbc;
	struct bus io;
	resets = 0;
	i8042_init(&kbc, on_reset, NULL);
	bus_init(&io);
	if (bus_add(&io, LAYOUT_PORT_I8042_DATA, 1, i8042_data_read, i8042_data_write, &kbc, "i8042-data") ||
	    bus_add(&io, LAYOUT_PORT_I8042_CMD, 1, i8042_cmd_read, i8042_cmd_write, &kbc, "i8042-cmd"))
		abort();
	struct fuzz_input in = { data, size };
	for (unsigned ops = 0; in.left && ops < MAX_OPS; ops++) {
		uint8_t op = (uint8_t)fuzz_take(&in, 1);
		uint64_t port = op & 1 ? LAYOUT_PORT_I8042_CMD : LAYOUT_PORT_I8042_DATA;
		unsigned len = 1u << ((op >> 2) % 3);
		uint32_t v = 0;
		if (op & 2) {
			v = (uint32_t)fuzz_take(&in, 1);
			uint8_t pending = kbc.pending;
			unsigned before = resets;
			bus_write(&io, port, &v, len);
			int asked = (port == LAYOUT_PORT_I8042_CMD && v >= 0xf0 && !(v & 1)) ||
				    (port == LAYOUT_PORT_I8042_DATA && pending == 0xd1 && !(v & 1));
			if (resets - before != (unsigned)asked)
				abort();
		} else {
			bus_read(&io, port, &v, len);
			if (port == LAYOUT_PORT_I8042_CMD && ((v & 1) != 0) != (kbc.queue_count != 0))
				abort();
		}
		if (op & 0x80 && op & 0x40)
			i8042_reset(&kbc);
		if (kbc.queue_count > I8042_QUEUE || kbc.queue_head >= I8042_QUEUE)
			abort();
	}
	bus_destroy(&io);
	return 0;
}
