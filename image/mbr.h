/* The msdos (MBR) partition table of a disk image: one primary Linux partition, as live-bootstrap's
 * `parted mklabel msdos; mkpart primary` produces and its --kernel mode expects (root=/dev/sda1). */
#ifndef LBVM_IMAGE_MBR_H
#define LBVM_IMAGE_MBR_H

#include <stdbool.h>
#include <stdint.h>

#define MBR_SECTOR_SIZE 512u
#define MBR_TYPE_LINUX 0x83
#define MBR_MAX_PARTS 4

struct mbr_part {
	uint8_t type;        /* 0 = unused slot */
	bool bootable;
	uint64_t start_lba;  /* in 512-byte sectors */
	uint64_t sectors;
};

/* Fill SECTOR (512 bytes) with a table holding PART as partition 1 and the 32-bit disk signature.
 * -EINVAL when the partition does not fit MBR's 32-bit sector fields. */
int mbr_format(uint8_t sector[MBR_SECTOR_SIZE], const struct mbr_part *part, uint32_t disk_id);

/* Parse a sector: false when it carries no MBR signature (0x55 0xAA) or no valid entry; otherwise the
 * four slots in PARTS (unused ones with type 0). Protective GPT tables (type 0xee) are reported as is. */
bool mbr_parse(const uint8_t sector[MBR_SECTOR_SIZE], struct mbr_part parts[MBR_MAX_PARTS]);

#endif
