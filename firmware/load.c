#include "firmware/load.h"

#include <errno.h>
#include <string.h>

#include "boot/e820.h"
#include "firmware/abi.h"
#include "firmware/int13.h"
#include "common/layout.h"

extern const uint8_t lbvm_firmware_image[];
extern const uint8_t lbvm_firmware_image_end[];

const uint8_t *firmware_image(size_t *len)
{
	*len = (size_t)(lbvm_firmware_image_end - lbvm_firmware_image);
	return lbvm_firmware_image;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

int firmware_load(const struct guest_mem *mem, uint64_t ram_size, unsigned ndisks)
{
	size_t len;
	const uint8_t *image = firmware_image(&len);
	if (len != LAYOUT_FIRMWARE_SIZE || ndisks > INT13_MAX_DISKS)
		return -EINVAL;
	if (guest_mem_write(mem, LAYOUT_FIRMWARE, image, len))
		return -EFAULT;

	struct e820_map map;
	e820_build(&map, ram_size);
	uint8_t tab[FW_TAB_SIZE] = { 0 };
	tab[FW_TAB_DISKS] = (uint8_t)ndisks;
	put16(tab + FW_TAB_BASE_KIB, (uint16_t)(LAYOUT_BASE_MEM_END / KiB));
	put16(tab + FW_TAB_E820_COUNT, (uint16_t)map.count);
	for (unsigned i = 0; i < map.count && i < FW_E820_MAX; i++) {
		uint8_t *e = tab + FW_TAB_E820 + i * FW_E820_ENTRY_SIZE;
		put64(e, map.ranges[i].addr);
		put64(e + 8, map.ranges[i].size);
		put16(e + 16, (uint16_t)map.ranges[i].type);
		put16(e + 18, (uint16_t)(map.ranges[i].type >> 16));
	}
	return guest_mem_write(mem, LAYOUT_FW_TABLES, tab, sizeof(tab)) ? -EFAULT : 0;
}
