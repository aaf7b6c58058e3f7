/* libFuzzer target: the input is a little program of port reads and writes (1, 2 or 4 bytes, string-like
 * runs on the data port) against the IDE channel at 0x1f0..0x1f7 and 0x3f6, with two small memfd-backed
 * disks (the slave read-only). ASan/UBSan catch any access outside the channel's buffers or the images; the
 * target checks that IRQ 14 only ever takes the levels 0 and 1 and that the read-only image never changes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/bus.h"
#include "devices/ide.h"
#include "common/layout.h"

#define DISK_SECTORS 64u
#define DISK_BYTES   (DISK_SECTORS * 512u)
#define MAX_OPS      512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int disk_fd[2];
static uint8_t ro_init[DISK_BYTES];

static void record_irq(void *opaque, unsigned gsi, int level)
{
	(void)opaque;
	if (gsi != LAYOUT_IRQ_IDE || (level != 0 && level != 1))
		abort();
}

static void init_once(void)
{
	if (disk_fd[0] > 0)
		return;
	for (unsigned d = 0; d < 2; d++) {
		disk_fd[d] = memfd_create("fuzz-ide", 0);
		if (disk_fd[d] < 0 || ftruncate(disk_fd[d], DISK_BYTES) < 0)
			abort();
	}
	for (unsigned i = 0; i < DISK_BYTES; i++)
		ro_init[i] = (uint8_t)(i * 13 + 5);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init_once();
	if (pwrite(disk_fd[1], ro_init, DISK_BYTES, 0) != DISK_BYTES)
		abort();
	struct disk_image *disks[2];
	for (unsigned d = 0; d < 2; d++)
		if (disk_image_from_fd(dup(disk_fd[d]), "fuzz", d == 1, &disks[d], NULL))
			abort();
	static struct ide_channel ch;
	struct irq_line irq = { .set = record_irq, .gsi = LAYOUT_IRQ_IDE };
	ide_init(&ch, disks, 2, irq);
	struct bus io;
	bus_init(&io);
	if (bus_add(&io, LAYOUT_PORT_IDE_CMD, IDE_CMD_PORTS, ide_cmd_read, ide_cmd_write, &ch, "ide") ||
	    bus_add(&io, LAYOUT_PORT_IDE_CTL, IDE_CTL_PORTS, ide_ctl_read, ide_ctl_write, &ch, "ide-ctl"))
		abort();
	/* each op: byte 0 = kind and size, byte 1 = port (0..8: 8 is the control port), bytes 2..5 = value */
	for (unsigned op = 0; op < MAX_OPS && size >= 6; op++, data += 6, size -= 6) {
		unsigned width = 1u << (data[0] & 3) % 3;        /* 1, 2 or 4 */
		unsigned reg = data[1] % 9;
		uint64_t port = reg == 8 ? LAYOUT_PORT_IDE_CTL : LAYOUT_PORT_IDE_CMD + reg;
		uint32_t value;
		memcpy(&value, data + 2, 4);
		unsigned repeat = (data[0] & 0x80) && reg == 0 ? 256 : 1; /* a rep insw/outsw */
		for (unsigned i = 0; i < repeat; i++) {
			if (data[0] & 0x04)
				bus_write(&io, port, &value, width);
			else
				bus_read(&io, port, &value, width);
		}
	}
	bus_destroy(&io);
	for (unsigned d = 0; d < 2; d++)
		disk_image_close(disks[d]);
	uint8_t now[DISK_BYTES];
	if (pread(disk_fd[1], now, DISK_BYTES, 0) != DISK_BYTES || memcmp(now, ro_init, DISK_BYTES))
		abort();
	return 0;
}
