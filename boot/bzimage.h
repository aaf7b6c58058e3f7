/* Reading a bzImage per the Linux x86 boot protocol (Documentation/arch/x86/boot.rst): the setup header
 * at 0x1f1, and where the protected-mode kernel starts and ends inside the file. Pure, no I/O. */
#ifndef LBVM_BOOT_BZIMAGE_H
#define LBVM_BOOT_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

#define BZIMAGE_MIN_PROTOCOL 0x0206 /* cmdline_size and initrd_addr_max are needed (Linux >= 2.6.22) */

struct bzimage {
	uint16_t protocol;        /* e.g. 0x020f */
	uint32_t setup_size;      /* bytes of real-mode setup, (setup_sects + 1) * 512 */
	uint64_t kernel_offset;   /* protected-mode kernel: file offset ... */
	uint64_t kernel_size;     /* ... and length (syssize * 16) */
	uint32_t code32_start;    /* 32-bit entry point when loaded at its default address */
	uint32_t initrd_addr_max; /* highest address the initrd's last byte may have */
	uint32_t cmdline_size;    /* longest command line, without the NUL */
	uint32_t init_size;       /* linear memory the kernel needs from its load address to decompress */
	uint32_t kernel_alignment;
	uint64_t pref_address;    /* where a relocatable kernel prefers to run (protocol 2.10+) */
	uint16_t xloadflags;
	uint8_t relocatable;
	const uint8_t *header;    /* the setup header as in the file: copied into the zero page at 0x1f1 */
	size_t header_len;
};

enum bzimage_error {
	BZIMAGE_OK = 0,
	BZIMAGE_TOO_SHORT,      /* smaller than a setup sector plus the header */
	BZIMAGE_NO_BOOT_FLAG,   /* no 0xAA55 at 0x1fe */
	BZIMAGE_NO_MAGIC,       /* no "HdrS" at 0x202: not a Linux x86 kernel image */
	BZIMAGE_OLD_PROTOCOL,   /* older than BZIMAGE_MIN_PROTOCOL */
	BZIMAGE_NOT_BZIMAGE,    /* LOADED_HIGH clear: a zImage, loaded low, unsupported */
	BZIMAGE_TRUNCATED,      /* the file ends before the kernel the header describes */
	BZIMAGE_BAD_HEADER,     /* inconsistent fields (empty kernel, header past the setup) */
};

/* Parse `len` bytes of a kernel file. `out` points into `buf`, which must outlive it. */
enum bzimage_error bzimage_parse(const uint8_t *buf, size_t len, struct bzimage *out);
/* A phrase for the user: "is truncated", "is not a Linux x86 kernel (no HdrS header)", ... */
const char *bzimage_strerror(enum bzimage_error err);
/* Whether the kernel has a 64-bit entry point at load address + 0x200. */
int bzimage_has_entry64(const struct bzimage *bz);

#endif
