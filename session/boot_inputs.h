/* The files a run boots from: the kernel (read whole and planned) and the initrd (checked, then read
 * straight into guest RAM). Every problem with them is the user's to fix: one line, exit status 2. */
#ifndef LBVM_SESSION_BOOT_INPUTS_H
#define LBVM_SESSION_BOOT_INPUTS_H

#include <stddef.h>
#include <stdint.h>

#include "boot/loader.h"
#include "common/error.h"
#include "vmm/machine.h"

#define BOOT_INPUTS_MAX_KERNEL (256u << 20)

struct boot_inputs {
	const char *kernel_path;
	const char *initrd_path;  /* NULL: no initrd */
	uint8_t *kernel;
	size_t kernel_len;
	int initrd_fd;
	uint64_t initrd_size;
	struct boot_plan plan;
};

/* Read the kernel, open the initrd, plan the guest image for RAM bytes and the command line.
 * 0 or -1 with err filled (exit status 2). */
int boot_inputs_load(struct boot_inputs *b, const char *kernel, const char *initrd, uint64_t ram,
		     const char *cmdline, enum boot_entry entry, struct error *err);
/* Write the planned guest image into the machine and put the vCPU at its entry. 0 or -1 with err. */
int boot_inputs_place(struct boot_inputs *b, struct machine *m, const char *cmdline, struct error *err);
void boot_inputs_free(struct boot_inputs *b);

#endif
