/* libFuzzer target: INT 13h as the firmware hands it to lbvm. The input fills the register frame and the
 * first 64 KiB of a small guest RAM (where a disk address packet and its buffer may be), then the call is
 * served on two memfd-backed disks (the second read-only), several times with changing frames. ASan/UBSan
 * catch any access outside guest RAM or the images; the target checks that the read-only image never
 * changes and that the carry flag is set exactly when AH reports an error (AH=15h and AH=41h aside). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/guest_mem.h"
#include "common/layout.h"
#include "firmware/int13.h"

#define RAM_SIZE     (1u << 20)   /* the first MiB: real mode reaches a little beyond, which must be refused */
#define DISK_SECTORS 64u
#define DISK_BYTES   (DISK_SECTORS * 512u)
#define CALLS        8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *ram;
static int disk_fd[2];
static uint8_t ro_init[DISK_BYTES];

static void init_once(void)
{
	if (ram)
		return;
	ram = malloc(RAM_SIZE);
	for (unsigned d = 0; d < 2; d++) {
		disk_fd[d] = memfd_create("fuzz-int13", 0);
		if (disk_fd[d] < 0 || ftruncate(disk_fd[d], DISK_BYTES) < 0)
			abort();
	}
	for (unsigned i = 0; i < DISK_BYTES; i++)
		ro_init[i] = (uint8_t)(i * 11 + 3);
	if (!ram)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init_once();
	if (pwrite(disk_fd[1], ro_init, DISK_BYTES, 0) != DISK_BYTES)
		abort();
	memset(ram, 0, RAM_SIZE);
	size_t head = size < 0x10000 ? size : 0x10000;
	memcpy(ram, data, head);
	struct guest_mem mem;
	guest_mem_wrap(&mem, ram, RAM_SIZE);
	struct int13_disks disks = { .count = 2 };
	for (unsigned d = 0; d < 2; d++)
		if (disk_image_from_fd(dup(disk_fd[d]), "fuzz", d == 1, &disks.disk[d], NULL))
			abort();
	for (unsigned c = 0; c < CALLS; c++) {
		uint8_t raw[FW_FRAME_SIZE] = { 0 };
		for (unsigned i = 0; i < FW_FRAME_SIZE; i++)
			raw[i] = size ? data[(c * FW_FRAME_SIZE + i) % size] : 0;
		struct int13_frame f;
		int13_frame_decode(&f, raw);
		uint8_t fn = (uint8_t)(f.ax >> 8);
		int13_call(&disks, &mem, &f);
		uint8_t status = (uint8_t)(f.ax >> 8);
		if (fn != 0x15 && fn != 0x41 && fn != 0x01 && !!(f.flags & FW_FRAME_CF) != !!status)
			abort();
	}
	for (unsigned d = 0; d < 2; d++)
		disk_image_close(disks.disk[d]);
	uint8_t now[DISK_BYTES];
	if (pread(disk_fd[1], now, DISK_BYTES, 0) != DISK_BYTES || memcmp(now, ro_init, DISK_BYTES))
		abort();
	return 0;
}
