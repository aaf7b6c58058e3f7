#include "boot/bzimage.h"

#include <string.h>

#include <asm/bootparam.h>

/* Offsets in the file, which are offsets in struct boot_params (the file starts like a zero page). */
#define OFF_SETUP_HEADER 0x1f1
#define OFF_SETUP_SECTS  0x1f1
#define OFF_SYSSIZE      0x1f4
#define OFF_BOOT_FLAG    0x1fe
#define OFF_JUMP         0x200 /* 2-byte jump; the byte at 0x201 is the header's length past 0x202 */
#define OFF_MAGIC        0x202
#define OFF_VERSION      0x206
#define OFF_LOADFLAGS    0x211
#define OFF_CODE32_START 0x214
#define OFF_INITRD_MAX   0x22c
#define OFF_ALIGNMENT    0x230
#define OFF_RELOCATABLE  0x234
#define OFF_XLOADFLAGS   0x236
#define OFF_CMDLINE_SIZE 0x238
#define OFF_PREF_ADDRESS 0x258
#define OFF_INIT_SIZE    0x260
#define HEADER_END_MIN   0x264 /* through init_size: every field read above */
#define BOOT_FLAG        0xaa55
#define MAGIC_HDRS       0x53726448 /* "HdrS" */
#define DEFAULT_SETUP_SECTS 4
#define SECTOR           512

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

enum bzimage_error bzimage_parse(const uint8_t *buf, size_t len, struct bzimage *out)
{
	memset(out, 0, sizeof(*out));
	if (len < HEADER_END_MIN)
		return BZIMAGE_TOO_SHORT;
	if (le16(buf + OFF_BOOT_FLAG) != BOOT_FLAG)
		return BZIMAGE_NO_BOOT_FLAG;
	if (le32(buf + OFF_MAGIC) != MAGIC_HDRS)
		return BZIMAGE_NO_MAGIC;
	out->protocol = le16(buf + OFF_VERSION);
	if (out->protocol < BZIMAGE_MIN_PROTOCOL)
		return BZIMAGE_OLD_PROTOCOL;
	if (!(buf[OFF_LOADFLAGS] & LOADED_HIGH))
		return BZIMAGE_NOT_BZIMAGE;

	unsigned sects = buf[OFF_SETUP_SECTS] ? buf[OFF_SETUP_SECTS] : DEFAULT_SETUP_SECTS;
	out->setup_size = (sects + 1) * SECTOR;
	out->kernel_offset = out->setup_size;
	out->kernel_size = (uint64_t)le32(buf + OFF_SYSSIZE) * 16;
	/* The header proper ends at 0x202 + the byte at 0x201; it must lie inside the setup code. */
	out->header_len = OFF_MAGIC + buf[OFF_JUMP + 1] - OFF_SETUP_HEADER;
	if (OFF_SETUP_HEADER + out->header_len < HEADER_END_MIN || OFF_SETUP_HEADER + out->header_len > out->setup_size ||
	    out->header_len > sizeof(struct setup_header) || out->kernel_size == 0)
		return BZIMAGE_BAD_HEADER;
	if (len < out->setup_size || len - out->setup_size < out->kernel_size)
		return BZIMAGE_TRUNCATED;

	out->header = buf + OFF_SETUP_HEADER;
	out->code32_start = le32(buf + OFF_CODE32_START);
	out->initrd_addr_max = le32(buf + OFF_INITRD_MAX);
	out->kernel_alignment = le32(buf + OFF_ALIGNMENT);
	out->relocatable = buf[OFF_RELOCATABLE];
	out->xloadflags = le16(buf + OFF_XLOADFLAGS);
	out->cmdline_size = le32(buf + OFF_CMDLINE_SIZE);
	out->init_size = le32(buf + OFF_INIT_SIZE);
	out->pref_address = (uint64_t)le32(buf + OFF_PREF_ADDRESS + 4) << 32 | le32(buf + OFF_PREF_ADDRESS);
	if (out->init_size < out->kernel_size)
		out->init_size = (uint32_t)out->kernel_size; /* never trust a smaller figure than what we copy */
	return BZIMAGE_OK;
}

int bzimage_has_entry64(const struct bzimage *bz)
{
	return bz->protocol >= 0x020c && (bz->xloadflags & XLF_KERNEL_64);
}

const char *bzimage_strerror(enum bzimage_error err)
{
	switch (err) {
	case BZIMAGE_OK: return "is a valid bzImage";
	case BZIMAGE_TOO_SHORT: return "is too short to be a Linux kernel";
	case BZIMAGE_NO_BOOT_FLAG: return "is not a Linux x86 kernel (no 0xAA55 boot flag at 0x1fe)";
	case BZIMAGE_NO_MAGIC: return "is not a Linux x86 kernel (no HdrS boot header at 0x202)";
	case BZIMAGE_OLD_PROTOCOL: return "uses a boot protocol older than 2.06 (Linux < 2.6.22), unsupported";
	case BZIMAGE_NOT_BZIMAGE: return "is a zImage (loaded low), only bzImage is supported";
	case BZIMAGE_TRUNCATED: return "is truncated (the file ends before the kernel its header describes)";
	case BZIMAGE_BAD_HEADER: return "has an inconsistent boot header";
	}
	return "is unreadable";
}
