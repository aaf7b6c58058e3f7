#include "boot/e820.h"

#include "common/layout.h"

static void add(struct e820_map *map, uint64_t addr, uint64_t size, uint32_t type)
{
	if (size && map->count < E820_MAP_MAX)
		map->ranges[map->count++] = (struct e820_range){ addr, size, type };
}

void e820_build(struct e820_map *map, uint64_t ram_size)
{
	uint64_t low_end = ram_size < LAYOUT_PCI_HOLE ? ram_size : LAYOUT_PCI_HOLE;
	map->count = 0;
	add(map, 0, LAYOUT_BASE_MEM_END, E820_TYPE_RAM);
	add(map, LAYOUT_MPTABLE, LAYOUT_MPTABLE_SIZE, E820_TYPE_RESERVED);
	add(map, LAYOUT_ACPI, LAYOUT_ACPI_SIZE, E820_TYPE_RESERVED);
	add(map, LAYOUT_BIOS_AREA, LAYOUT_BIOS_AREA_SIZE, E820_TYPE_RESERVED);
	add(map, LAYOUT_KERNEL, low_end - LAYOUT_KERNEL, E820_TYPE_RAM);
	if (ram_size > LAYOUT_PCI_HOLE)
		add(map, LAYOUT_HIGH_RAM, ram_size - LAYOUT_PCI_HOLE, E820_TYPE_RAM);
}
