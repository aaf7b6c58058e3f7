/* From a kernel file, an initrd size, a command line and a RAM size to a guest image: where each piece goes
 * (the plan, pure arithmetic with every limit checked) and writing it into guest RAM. The vCPU's entry
 * state (mode, RIP, RSI) comes out of the plan; vmm/ applies it. */
#ifndef LBVM_BOOT_LOADER_H
#define LBVM_BOOT_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "boot/acpi.h"
#include "boot/bzimage.h"
#include "boot/mptable.h"
#include "common/guest_mem.h"

enum boot_entry {
	BOOT_ENTRY_AUTO, /* 64-bit where the kernel offers it, else 32-bit */
	BOOT_ENTRY_32,   /* 32-bit flat protected mode at code32_start (every bzImage) */
	BOOT_ENTRY_64,   /* 64-bit long mode at load address + 0x200 (XLF_KERNEL_64 kernels) */
};

struct boot_plan {
	struct bzimage bz;
	int entry64;            /* 1: enter in long mode */
	uint64_t kernel_addr;   /* where the protected-mode kernel is copied */
	uint64_t kernel_limit;  /* end of the memory the kernel may use to decompress itself */
	uint64_t initrd_addr;   /* 0 when there is no initrd */
	uint64_t initrd_size;
	size_t cmdline_len;     /* without the NUL */
	uint64_t entry_rip;
	uint64_t entry_rsi;     /* the zero page */
	char why[256];          /* on failure: what is wrong, for the user */
};

/* Plan the layout; 0, or -1 with plan->why set (all failures are the user's input: exit status 2). */
int boot_plan(struct boot_plan *plan, const uint8_t *kernel, size_t kernel_len, uint64_t ram_size,
	      uint64_t initrd_size, const char *cmdline, enum boot_entry entry);

/* Write kernel, command line, zero page (with the e820 map and, from protocol 2.14, the RSDP's address),
 * MP table, ACPI tables, boot GDT and, for the 64-bit entry, identity page tables into guest RAM. The
 * initrd bytes are the caller's to place at plan->initrd_addr (read straight from its file). 0 or -EFAULT. */
int boot_write(const struct boot_plan *plan, const struct guest_mem *mem, const uint8_t *kernel,
	       const char *cmdline, const struct mptable_config *mp, const struct acpi_config *acpi);

#endif
