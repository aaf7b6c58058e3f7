#include "boot/loader.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <asm/bootparam.h>

#include "boot/e820.h"
#include "common/layout.h"

#define PAGE              UINT64_C(4096)
#define ENTRY64_OFFSET    0x200
#define LOADER_TYPE_OTHER 0xff /* type_of_loader: "undefined" boot loader */
#define PTE_PRESENT       0x1
#define PTE_WRITE         0x2
#define PTE_HUGE          0x80 /* 2 MiB page in a PD entry */
#define PROTOCOL_RSDP     0x020e /* boot_params.acpi_rsdp_addr exists from protocol 2.14 */

/* Boot GDT: the boot protocol requires __BOOT_CS = 0x10 and __BOOT_DS = 0x18, flat 4 GiB. */
static const uint64_t gdt32[] = { 0, 0, 0x00cf9b000000ffff, 0x00cf93000000ffff };
static const uint64_t gdt64[] = { 0, 0, 0x00af9b000000ffff, 0x00cf93000000ffff };

static uint64_t align_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }

int boot_plan(struct boot_plan *plan, const uint8_t *kernel, size_t kernel_len, uint64_t ram_size,
	      uint64_t initrd_size, const char *cmdline, enum boot_entry entry)
{
	memset(plan, 0, sizeof(*plan));
	enum bzimage_error err = bzimage_parse(kernel, kernel_len, &plan->bz);
	if (err != BZIMAGE_OK) {
		snprintf(plan->why, sizeof(plan->why), "%s", bzimage_strerror(err));
		return -1;
	}
	const struct bzimage *bz = &plan->bz;

	plan->cmdline_len = strlen(cmdline);
	if (plan->cmdline_len > bz->cmdline_size || plan->cmdline_len >= LAYOUT_CMDLINE_MAX) {
		snprintf(plan->why, sizeof(plan->why), "command line is %zu bytes, the kernel accepts at most %u",
			 plan->cmdline_len, bz->cmdline_size);
		return -1;
	}

	if (entry == BOOT_ENTRY_64 && !bzimage_has_entry64(bz)) {
		snprintf(plan->why, sizeof(plan->why), "kernel has no 64-bit entry point (a 32-bit kernel): use --entry 32");
		return -1;
	}
	plan->entry64 = entry == BOOT_ENTRY_64 || (entry == BOOT_ENTRY_AUTO && bzimage_has_entry64(bz));

	/* Load at 1 MiB; a relocatable kernel moves itself to its preferred address (at least 16 MiB on
	 * Debian's), and decompresses into init_size bytes from there: that range must be RAM, and the initrd
	 * must stay clear of it. */
	plan->kernel_addr = LAYOUT_KERNEL;
	uint64_t run_addr = plan->kernel_addr;
	if (bz->relocatable && bz->protocol >= 0x020a && bz->pref_address > run_addr)
		run_addr = bz->pref_address;
	uint64_t low_end = ram_size < LAYOUT_PCI_HOLE ? ram_size : LAYOUT_PCI_HOLE;
	if (run_addr >= LAYOUT_PCI_HOLE) {
		/* pref_address is 64 bits from the file: near 2^64, run_addr + init_size would wrap */
		snprintf(plan->why, sizeof(plan->why), "asks to run at 0x%llx, above the 4 GiB a bzImage can start in",
			 (unsigned long long)run_addr);
		return -1;
	}
	plan->kernel_limit = run_addr + bz->init_size; /* both below 2^32: no wrap */
	if (plan->kernel_limit > low_end) {
		snprintf(plan->why, sizeof(plan->why),
			 "kernel needs memory up to %llu MiB to decompress, the guest has %llu MiB: use a larger --memory",
			 (unsigned long long)((plan->kernel_limit + MiB - 1) / MiB), (unsigned long long)(ram_size / MiB));
		return -1;
	}

	plan->initrd_size = initrd_size;
	if (initrd_size) {
		uint64_t top = low_end;
		if ((uint64_t)bz->initrd_addr_max + 1 < top)
			top = (uint64_t)bz->initrd_addr_max + 1;
		if (initrd_size > top - plan->kernel_limit ||
		    align_down(top - initrd_size, PAGE) < plan->kernel_limit) {
			snprintf(plan->why, sizeof(plan->why),
				 "initrd (%llu MiB) does not fit in guest memory (%llu MiB free between the kernel and %llu MiB): use a larger --memory",
				 (unsigned long long)((initrd_size + MiB - 1) / MiB),
				 (unsigned long long)(top > plan->kernel_limit ? (top - plan->kernel_limit) / MiB : 0),
				 (unsigned long long)(top / MiB));
			return -1;
		}
		plan->initrd_addr = align_down(top - initrd_size, PAGE);
	}
	plan->entry_rsi = LAYOUT_ZERO_PAGE;
	/* The 32-bit entry is the start of the protected-mode kernel (code32_start, which we set to it). */
	plan->entry_rip = plan->entry64 ? plan->kernel_addr + ENTRY64_OFFSET : plan->kernel_addr;
	return 0;
}

static void fill_zero_page(struct boot_params *zp, const struct boot_plan *plan, uint64_t ram_size)
{
	memset(zp, 0, sizeof(*zp));
	memcpy(&zp->hdr, plan->bz.header, plan->bz.header_len);
	zp->hdr.type_of_loader = LOADER_TYPE_OTHER;
	zp->hdr.cmd_line_ptr = (uint32_t)LAYOUT_CMDLINE;
	zp->hdr.ramdisk_image = (uint32_t)plan->initrd_addr;
	zp->hdr.ramdisk_size = (uint32_t)plan->initrd_size;
	zp->hdr.code32_start = (uint32_t)plan->kernel_addr;
	uint64_t ext_kib = (ram_size < LAYOUT_PCI_HOLE ? ram_size : LAYOUT_PCI_HOLE) / KiB - 1024;
	zp->alt_mem_k = (uint32_t)ext_kib;
	zp->screen_info.orig_video_isVGA = 0; /* no display: the console is the serial port */
	if (plan->bz.protocol >= PROTOCOL_RSDP)
		zp->acpi_rsdp_addr = LAYOUT_ACPI; /* older kernels (and kexec'd ones) scan for it */

	struct e820_map map;
	e820_build(&map, ram_size);
	zp->e820_entries = (uint8_t)map.count;
	for (unsigned i = 0; i < map.count; i++) {
		zp->e820_table[i].addr = map.ranges[i].addr;
		zp->e820_table[i].size = map.ranges[i].size;
		zp->e820_table[i].type = map.ranges[i].type;
	}
}

static int write_page_tables(const struct guest_mem *mem)
{
	/* Identity map the first 4 GiB with 2 MiB pages: covers the kernel, zero page and command line. */
	uint64_t *pml4 = guest_mem_ptr(mem, LAYOUT_PML4, PAGE);
	uint64_t *pdpt = guest_mem_ptr(mem, LAYOUT_PDPT, PAGE);
	uint64_t *pd = guest_mem_ptr(mem, LAYOUT_PD, 4 * PAGE);
	if (!pml4 || !pdpt || !pd)
		return -EFAULT;
	memset(pml4, 0, PAGE);
	memset(pdpt, 0, PAGE);
	pml4[0] = LAYOUT_PDPT | PTE_PRESENT | PTE_WRITE;
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (LAYOUT_PD + i * PAGE) | PTE_PRESENT | PTE_WRITE;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i * 2 * MiB) | PTE_PRESENT | PTE_WRITE | PTE_HUGE;
	return 0;
}

int boot_write(const struct boot_plan *plan, const struct guest_mem *mem, const uint8_t *kernel,
	       const char *cmdline, const struct mptable_config *mp, const struct acpi_config *acpi)
{
	if (guest_mem_write(mem, plan->kernel_addr, kernel + plan->bz.kernel_offset, plan->bz.kernel_size) ||
	    guest_mem_write(mem, LAYOUT_CMDLINE, cmdline, plan->cmdline_len + 1))
		return -EFAULT;

	struct boot_params *zp = guest_mem_ptr(mem, LAYOUT_ZERO_PAGE, sizeof(*zp));
	uint8_t *mpt = guest_mem_ptr(mem, LAYOUT_MPTABLE, LAYOUT_MPTABLE_SIZE);
	uint8_t *tables = guest_mem_ptr(mem, LAYOUT_ACPI, LAYOUT_ACPI_SIZE);
	if (!zp || !mpt || !tables)
		return -EFAULT;
	fill_zero_page(zp, plan, mem->size);
	if (mptable_build(mpt, LAYOUT_MPTABLE_SIZE, (uint32_t)LAYOUT_MPTABLE, mp) == 0 ||
	    acpi_build(tables, LAYOUT_ACPI_SIZE, LAYOUT_ACPI, acpi, NULL) < 0)
		return -EFAULT;

	const uint64_t *gdt = plan->entry64 ? gdt64 : gdt32;
	if (guest_mem_write(mem, LAYOUT_BOOT_GDT, gdt, sizeof(gdt32)))
		return -EFAULT;
	return plan->entry64 ? write_page_tables(mem) : 0;
}
