/* The PC keyboard controller, without a keyboard: enough of the 8042 for Linux to probe it and, above all,
 * to reset the machine (command 0xFE, or the output port's reset line), which ends an lbvm run. */
#ifndef LBVM_DEVICES_I8042_H
#define LBVM_DEVICES_I8042_H

#include <stdint.h>

#define I8042_QUEUE 8

struct i8042 {
	uint8_t command_byte;
	uint8_t pending;      /* a command waiting for its data byte on port 0x60, or 0 */
	uint8_t output_port;
	uint8_t queue[I8042_QUEUE];
	unsigned queue_head, queue_count;
	void (*reset)(void *opaque); /* the guest asked for a system reset */
	void *opaque;
};

void i8042_init(struct i8042 *kbc, void (*reset)(void *opaque), void *opaque);
void i8042_reset(struct i8042 *kbc);
/* Bus handlers: data port (0x60) and command/status port (0x64), each a 1-port window. */
void i8042_data_read(void *dev, uint64_t offset, void *data, unsigned size);
void i8042_data_write(void *dev, uint64_t offset, const void *data, unsigned size);
void i8042_cmd_read(void *dev, uint64_t offset, void *data, unsigned size);
void i8042_cmd_write(void *dev, uint64_t offset, const void *data, unsigned size);

#endif
