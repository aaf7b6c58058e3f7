/* The e820 memory map the guest kernel reads from the zero page: exactly the RAM lbvm mapped, the MP table,
 * the ACPI tables and the BIOS area reserved (a kexec'd kernel finds them there again), nothing in the PCI
 * hole. */
#ifndef LBVM_BOOT_E820_H
#define LBVM_BOOT_E820_H

#include <stdint.h>

#define E820_MAP_MAX 8

enum { E820_TYPE_RAM = 1, E820_TYPE_RESERVED = 2 };

struct e820_range {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

struct e820_map {
	unsigned count;
	struct e820_range ranges[E820_MAP_MAX];
};

/* The map for `ram_size` bytes of guest RAM laid out as common/guest_mem.h does (ram_size >= LAYOUT_MIN_RAM). */
void e820_build(struct e820_map *map, uint64_t ram_size);

#endif
