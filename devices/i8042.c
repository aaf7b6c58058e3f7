#include "devices/i8042.h"

#include <string.h>

/* Status register bits. */
#define STATUS_OBF      0x01 /* output buffer full: data waiting at port 0x60 */
#define STATUS_SYS      0x04 /* system flag: self-test passed */

/* Controller commands (port 0x64). */
#define CMD_READ_CMD_BYTE   0x20
#define CMD_WRITE_CMD_BYTE  0x60
#define CMD_DISABLE_AUX     0xa7
#define CMD_ENABLE_AUX      0xa8
#define CMD_TEST_AUX        0xa9
#define CMD_SELF_TEST       0xaa
#define CMD_TEST_KBD        0xab
#define CMD_DISABLE_KBD     0xad
#define CMD_ENABLE_KBD      0xae
#define CMD_READ_OUTPUT     0xd0
#define CMD_WRITE_OUTPUT    0xd1
#define CMD_WRITE_KBD_OBUF  0xd2
#define CMD_WRITE_AUX_OBUF  0xd3
#define CMD_WRITE_AUX       0xd4
#define CMD_PULSE_FIRST     0xf0 /* 0xf0..0xff pulse output lines; bit 0 clear pulses reset */

#define CMD_BYTE_KBD_DISABLED 0x10
#define CMD_BYTE_AUX_DISABLED 0x20
#define SELF_TEST_OK        0x55
#define INTERFACE_OK        0x00
#define OUTPUT_PORT_RESET   0x01 /* clear = hold the CPU in reset */
#define OUTPUT_PORT_A20     0x02


static void push(struct i8042 *kbc, uint8_t byte)
{
	if (kbc->queue_count < I8042_QUEUE)
		kbc->queue[(kbc->queue_head + kbc->queue_count++) % I8042_QUEUE] = byte;
}

static void request_reset(struct i8042 *kbc)
{
	if (kbc->reset)
		kbc->reset(kbc->opaque);
}

void i8042_data_read(void *dev, uint64_t offset, void *data, unsigned size)
{
	struct i8042 *kbc = dev;
	(void)offset;
	memset(data, 0, size);
	if (kbc->queue_count) {
		*(uint8_t *)data = kbc->queue[kbc->queue_head];
		kbc->queue_head = (kbc->queue_head + 1) % I8042_QUEUE;
		kbc->queue_count--;
	}
}

void i8042_data_write(void *dev, uint64_t offset, const void *data, unsigned size)
{
	struct i8042 *kbc = dev;
	uint8_t val = *(const uint8_t *)data;
	(void)offset;
	(void)size;
	uint8_t cmd = kbc->pending;
	kbc->pending = 0;
	switch (cmd) {
	case CMD_WRITE_CMD_BYTE: kbc->command_byte = val; break;
	case CMD_WRITE_OUTPUT:
		kbc->output_port = val;
		if (!(val & OUTPUT_PORT_RESET))
			request_reset(kbc);
		break;
	case CMD_WRITE_KBD_OBUF:
	case CMD_WRITE_AUX_OBUF: push(kbc, val); break; /* echoed back as if the device sent it */
	default: break; /* to the keyboard or mouse: none is attached, nothing answers */
	}
}

void i8042_cmd_read(void *dev, uint64_t offset, void *data, unsigned size)
{
	struct i8042 *kbc = dev;
	(void)offset;
	memset(data, 0, size);
	*(uint8_t *)data = (uint8_t)(STATUS_SYS | (kbc->queue_count ? STATUS_OBF : 0));
}

void i8042_cmd_write(void *dev, uint64_t offset, const void *data, unsigned size)
{
	struct i8042 *kbc = dev;
	uint8_t cmd = *(const uint8_t *)data;
	(void)offset;
	(void)size;
	switch (cmd) {
	case CMD_READ_CMD_BYTE: push(kbc, kbc->command_byte); break;
	case CMD_WRITE_CMD_BYTE:
	case CMD_WRITE_OUTPUT:
	case CMD_WRITE_KBD_OBUF:
	case CMD_WRITE_AUX_OBUF:
	case CMD_WRITE_AUX: kbc->pending = cmd; break;
	case CMD_DISABLE_AUX: kbc->command_byte |= CMD_BYTE_AUX_DISABLED; break;
	case CMD_ENABLE_AUX: kbc->command_byte &= (uint8_t)~CMD_BYTE_AUX_DISABLED; break;
	case CMD_DISABLE_KBD: kbc->command_byte |= CMD_BYTE_KBD_DISABLED; break;
	case CMD_ENABLE_KBD: kbc->command_byte &= (uint8_t)~CMD_BYTE_KBD_DISABLED; break;
	case CMD_SELF_TEST: push(kbc, SELF_TEST_OK); break;
	case CMD_TEST_KBD:
	case CMD_TEST_AUX: push(kbc, INTERFACE_OK); break;
	case CMD_READ_OUTPUT: push(kbc, kbc->output_port); break;
	default:
		if (cmd >= CMD_PULSE_FIRST && !(cmd & OUTPUT_PORT_RESET))
			request_reset(kbc); /* 0xfe is the classic one */
		break;
	}
}

void i8042_reset(struct i8042 *kbc)
{
	kbc->command_byte = 0;
	kbc->pending = 0;
	kbc->output_port = OUTPUT_PORT_RESET | OUTPUT_PORT_A20;
	kbc->queue_head = kbc->queue_count = 0;
}

void i8042_init(struct i8042 *kbc, void (*reset)(void *opaque), void *opaque)
{
	memset(kbc, 0, sizeof(*kbc));
	kbc->reset = reset;
	kbc->opaque = opaque;
	i8042_reset(kbc);
}
