/* What the loader writes for the guest kernel: the e820 map for memory sizes around the PCI hole, the MP
 * table (checksums, entries), and the zero page with command line, initrd, GDT and the ACPI tables'
 * RSDP, in a wrapped RAM buffer. (The ACPI tables themselves: test_acpi.c.) */
#include "check_run.h"
#include <asm/bootparam.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "boot/e820.h"
#include "boot/loader.h"
#include "boot/mptable.h"
#include "fixture_kernels.h"
#include "common/guest_mem.h"
#include "common/layout.h"

static uint64_t ram_in(const struct e820_map *m)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < m->count; i++)
		if (m->ranges[i].type == E820_TYPE_RAM)
			total += m->ranges[i].size;
	return total;
}

START_TEST(e820_sizes)
{
	static const uint64_t sizes[] = { 32 * MiB, 512 * MiB, 3 * GiB - MiB, 3 * GiB, 3 * GiB + MiB, 4 * GiB,
					  6 * GiB, 8 * GiB, 64 * GiB };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t ram = sizes[i];
		struct e820_map m;
		e820_build(&m, ram);
		/* Everything but [0x9fc00, 1 MiB) is RAM, and all of it is listed. */
		ck_assert_uint_eq(ram_in(&m), ram - (LAYOUT_KERNEL - LAYOUT_BASE_MEM_END));
		uint64_t prev_end = 0;
		for (unsigned j = 0; j < m.count; j++) {
			const struct e820_range *r = &m.ranges[j];
			ck_assert_uint_ge(r->addr, prev_end); /* sorted, no overlap */
			ck_assert_uint_gt(r->size, 0);
			prev_end = r->addr + r->size;
			/* nothing in the PCI hole */
			ck_assert(r->addr + r->size <= LAYOUT_PCI_HOLE || r->addr >= LAYOUT_PCI_HOLE_END);
		}
		ck_assert_uint_eq(m.ranges[0].addr, 0);
		ck_assert_uint_eq(m.ranges[0].size, LAYOUT_BASE_MEM_END);
		/* the MP table, the ACPI tables and the BIOS area are reserved, in that order */
		ck_assert_uint_eq(m.ranges[1].addr, LAYOUT_MPTABLE);
		ck_assert_uint_eq(m.ranges[2].addr, LAYOUT_ACPI);
		ck_assert_uint_eq(m.ranges[2].type, E820_TYPE_RESERVED);
		ck_assert_uint_eq(m.ranges[3].addr, LAYOUT_BIOS_AREA);
		if (ram > LAYOUT_PCI_HOLE) {
			const struct e820_range *last = &m.ranges[m.count - 1];
			ck_assert_uint_eq(last->addr, LAYOUT_HIGH_RAM);
			ck_assert_uint_eq(last->size, ram - LAYOUT_PCI_HOLE);
		} else {
			ck_assert_uint_eq(prev_end, ram);
		}
	}
}
END_TEST

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

START_TEST(mptable_checksums_and_entries)
{
	uint8_t buf[1024];
	struct mptable_config cfg = { .cpu_signature = 0x00a00f11, .cpu_features = 0x178bfbff, .npci_irqs = 2,
				      .pci_irqs = { { 1, 1, 16 }, { 2, 1, 17 } } };
	size_t n = mptable_build(buf, sizeof(buf), 0x9fc00, &cfg);
	ck_assert_uint_gt(n, 16 + 44);
	/* floating pointer: "_MP_", pointer to the table right after it, 16 bytes summing to 0 */
	ck_assert_mem_eq(buf, "_MP_", 4);
	uint32_t ptr;
	memcpy(&ptr, buf + 4, 4);
	ck_assert_uint_eq(ptr, 0x9fc00 + 16);
	ck_assert_uint_eq(buf[8], 1); /* length in paragraphs */
	ck_assert_uint_eq(buf[9], 4); /* spec 1.4 */
	ck_assert_uint_eq(sum(buf, 16), 0);
	/* configuration table: "PCMP", base length, checksum over it */
	const uint8_t *t = buf + 16;
	ck_assert_mem_eq(t, "PCMP", 4);
	uint16_t len, count;
	memcpy(&len, t + 4, 2);
	memcpy(&count, t + 34, 2);
	ck_assert_uint_eq(16 + len, n);
	ck_assert_uint_eq(sum(t, len), 0);
	uint32_t lapic;
	memcpy(&lapic, t + 36, 4);
	ck_assert_uint_eq(lapic, LAYOUT_LAPIC);
	/* walk the entries: 1 CPU, 2 buses, 1 IOAPIC, 16 ISA + 2 PCI interrupts, 2 local interrupts */
	unsigned cpus = 0, buses = 0, ioapics = 0, ioints = 0, lints = 0, pci_ints = 0;
	const uint8_t *e = t + 44;
	for (unsigned i = 0; i < count; i++) {
		switch (e[0]) {
		case 0:
			cpus++;
			ck_assert_uint_eq(e[3] & 0x3, 0x3); /* enabled, bootstrap processor */
			e += 20;
			break;
		case 1: buses++; e += 8; break;
		case 2: {
			ioapics++;
			uint32_t addr;
			memcpy(&addr, e + 4, 4);
			ck_assert_uint_eq(addr, LAYOUT_IOAPIC);
			e += 8;
			break;
		}
		case 3:
			ioints++;
			if (e[4] == 0) { /* source bus PCI: (slot << 2) | (pin - 1) → IOAPIC pin */
				pci_ints++;
				ck_assert_uint_eq(e[7], 16 + (e[5] >> 2) - 1);
			}
			e += 8;
			break;
		case 4: lints++; e += 8; break;
		default: ck_abort_msg("unknown MP entry type %u", e[0]);
		}
	}
	ck_assert_uint_eq((size_t)(e - t), len);
	ck_assert_uint_eq(cpus, 1);
	ck_assert_uint_eq(buses, 2);
	ck_assert_uint_eq(ioapics, 1);
	ck_assert_uint_eq(pci_ints, 2);
	ck_assert_uint_ge(ioints, 16 + 2 - 1); /* every ISA IRQ but the cascade may be listed */
	ck_assert_uint_eq(lints, 2);
	/* too small a buffer is refused, not overrun */
	ck_assert_uint_eq(mptable_build(buf, 40, 0x9fc00, &cfg), 0);
}
END_TEST

START_TEST(zero_page_and_boot_data)
{
	size_t len;
	uint8_t *k = fixture_kernel("i386", &len);
	const uint64_t ram = 96 * MiB, initrd = 3 * MiB;
	uint8_t *buf = calloc(1, ram);
	struct guest_mem mem;
	guest_mem_wrap(&mem, buf, ram);
	struct boot_plan plan;
	const char *cmdline = "console=ttyS0 lbvm=yes";
	ck_assert_int_eq(boot_plan(&plan, k, len, ram, initrd, cmdline, BOOT_ENTRY_AUTO), 0);
	struct mptable_config mp = { 0 };
	struct acpi_config acpi = { .slp_typ_s5 = 5, .reset_value = 6, .npci_routes = 1, .pci_routes = { { 1, 1, 17 } } };
	ck_assert_int_eq(boot_write(&plan, &mem, k, cmdline, &mp, &acpi), 0);

	const struct boot_params *zp = (const struct boot_params *)(buf + LAYOUT_ZERO_PAGE);
	ck_assert_uint_eq(zp->hdr.boot_flag, 0xaa55);
	ck_assert_uint_eq(zp->hdr.header, 0x53726448); /* "HdrS" copied from the kernel */
	ck_assert_uint_eq(zp->hdr.type_of_loader, 0xff);
	ck_assert_uint_eq(zp->hdr.cmd_line_ptr, LAYOUT_CMDLINE);
	ck_assert_str_eq((const char *)buf + LAYOUT_CMDLINE, cmdline);
	ck_assert_uint_eq(zp->hdr.ramdisk_image, plan.initrd_addr);
	ck_assert_uint_eq(zp->hdr.ramdisk_size, initrd);
	ck_assert_uint_eq(zp->hdr.code32_start, LAYOUT_KERNEL);
	ck_assert_uint_eq(zp->e820_entries, 5);
	ck_assert_uint_eq(zp->e820_table[4].addr + zp->e820_table[4].size, ram);
	/* the ACPI tables: reserved, the RSDP at the start of their area and in the zero page (2.14+) */
	ck_assert_uint_eq(zp->e820_table[2].addr, LAYOUT_ACPI);
	ck_assert_uint_eq(zp->e820_table[2].size, LAYOUT_ACPI_SIZE);
	ck_assert_uint_eq(zp->e820_table[2].type, E820_TYPE_RESERVED);
	ck_assert_mem_eq(buf + LAYOUT_ACPI, "RSD PTR ", 8);
	ck_assert_uint_ge(plan.bz.protocol, 0x020e);
	ck_assert_uint_eq(zp->acpi_rsdp_addr, LAYOUT_ACPI);
	/* the protected-mode kernel is at 1 MiB, byte for byte */
	ck_assert_mem_eq(buf + LAYOUT_KERNEL, k + plan.bz.kernel_offset, 4096);
	/* the MP floating pointer is where Linux scans */
	ck_assert_mem_eq(buf + LAYOUT_MPTABLE, "_MP_", 4);
	/* boot GDT: flat 4 GiB code at 0x10 and data at 0x18 */
	uint64_t gdt[4];
	memcpy(gdt, buf + LAYOUT_BOOT_GDT, sizeof(gdt));
	ck_assert_uint_eq(gdt[2], 0x00cf9b000000ffffULL);
	ck_assert_uint_eq(gdt[3], 0x00cf93000000ffffULL);
	free(buf);
	free(k);
}
END_TEST

START_TEST(page_tables_for_64bit_entry)
{
	size_t len;
	uint8_t *k = fixture_kernel("amd64", &len);
	const uint64_t ram = 192 * MiB;
	uint8_t *buf = calloc(1, ram);
	struct guest_mem mem;
	guest_mem_wrap(&mem, buf, ram);
	struct boot_plan plan;
	ck_assert_int_eq(boot_plan(&plan, k, len, ram, 0, "", BOOT_ENTRY_64), 0);
	struct mptable_config mp = { 0 };
	struct acpi_config acpi = { .slp_typ_s5 = 5, .reset_value = 6 };
	ck_assert_int_eq(boot_write(&plan, &mem, k, "", &mp, &acpi), 0);
	uint64_t pml4, pdpt3, pd_last;
	memcpy(&pml4, buf + LAYOUT_PML4, 8);
	memcpy(&pdpt3, buf + LAYOUT_PDPT + 3 * 8, 8);
	memcpy(&pd_last, buf + LAYOUT_PD + (4 * 512 - 1) * 8, 8);
	ck_assert_uint_eq(pml4 & ~0xfffULL, LAYOUT_PDPT);
	ck_assert_uint_eq(pdpt3 & ~0xfffULL, LAYOUT_PD + 3 * 4096);
	ck_assert_uint_eq(pd_last & ~0xfffULL, 4 * GiB - 2 * MiB); /* identity up to 4 GiB */
	ck_assert_uint_eq(pd_last & 0x83, 0x83);                    /* present, writable, 2 MiB */
	uint64_t gdt_cs;
	memcpy(&gdt_cs, buf + LAYOUT_BOOT_GDT + 0x10, 8);
	ck_assert_uint_eq(gdt_cs, 0x00af9b000000ffffULL); /* long-mode code segment */
	/* a RAM too small for the boot data is reported, not overrun */
	struct guest_mem tiny;
	guest_mem_wrap(&tiny, buf, 64 * KiB);
	ck_assert_int_lt(boot_write(&plan, &tiny, k, "", &mp, &acpi), 0);
	free(buf);
	free(k);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("boot-tables");
	TCase *tc = tcase_create("tables");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, e820_sizes);
	tcase_add_test(tc, mptable_checksums_and_entries);
	tcase_add_test(tc, zero_page_and_boot_data);
	tcase_add_test(tc, page_tables_for_64bit_entry);
	suite_add_tcase(s, tc);
	return check_run(s);
}
