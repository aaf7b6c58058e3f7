#include "image/mbr.h"

#include <errno.h>
#include <string.h>

#define MBR_DISK_ID_OFFSET 440
#define MBR_TABLE_OFFSET 446
#define MBR_ENTRY_SIZE 16
#define MBR_SIG_OFFSET 510
#define MBR_BOOT_FLAG 0x80
/* CHS fields: the conventional LBA-translation geometry; addresses beyond it are written as the maximum,
 * which every reader since the 1990s takes as "use the LBA fields". */
#define CHS_HEADS 255u
#define CHS_SECTORS 63u
#define CHS_MAX_CYL 1023u

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_chs(uint8_t *p, uint64_t lba)
{
	uint64_t cyl = lba / (CHS_HEADS * CHS_SECTORS);
	uint32_t head = (uint32_t)(lba / CHS_SECTORS % CHS_HEADS);
	uint32_t sect = (uint32_t)(lba % CHS_SECTORS) + 1;
	if (cyl > CHS_MAX_CYL) {
		cyl = CHS_MAX_CYL;
		head = CHS_HEADS - 1;
		sect = CHS_SECTORS;
	}
	p[0] = (uint8_t)head;
	p[1] = (uint8_t)(sect | ((cyl >> 2) & 0xc0));
	p[2] = (uint8_t)cyl;
}

int mbr_format(uint8_t sector[MBR_SECTOR_SIZE], const struct mbr_part *part, uint32_t disk_id)
{
	if (part->start_lba == 0 || part->sectors == 0 || part->start_lba > UINT32_MAX ||
	    part->sectors > UINT32_MAX || part->start_lba + part->sectors - 1 > UINT32_MAX)
		return -EINVAL;
	memset(sector, 0, MBR_SECTOR_SIZE);
	put_le32(sector + MBR_DISK_ID_OFFSET, disk_id);
	uint8_t *e = sector + MBR_TABLE_OFFSET;
	e[0] = part->bootable ? MBR_BOOT_FLAG : 0;
	put_chs(e + 1, part->start_lba);
	e[4] = part->type;
	put_chs(e + 5, part->start_lba + part->sectors - 1);
	put_le32(e + 8, (uint32_t)part->start_lba);
	put_le32(e + 12, (uint32_t)part->sectors);
	sector[MBR_SIG_OFFSET] = 0x55;
	sector[MBR_SIG_OFFSET + 1] = 0xaa;
	return 0;
}

bool mbr_parse(const uint8_t sector[MBR_SECTOR_SIZE], struct mbr_part parts[MBR_MAX_PARTS])
{
	if (sector[MBR_SIG_OFFSET] != 0x55 || sector[MBR_SIG_OFFSET + 1] != 0xaa)
		return false;
	bool any = false;
	for (int i = 0; i < MBR_MAX_PARTS; i++) {
		const uint8_t *e = sector + MBR_TABLE_OFFSET + i * MBR_ENTRY_SIZE;
		memset(&parts[i], 0, sizeof(parts[i]));
		/* a boot flag other than 0 or 0x80 means this is not a partition table (e.g. a boot sector) */
		if (e[0] != 0 && e[0] != MBR_BOOT_FLAG)
			return false;
		parts[i].type = e[4];
		parts[i].bootable = e[0] == MBR_BOOT_FLAG;
		parts[i].start_lba = get_le32(e + 8);
		parts[i].sectors = get_le32(e + 12);
		if (parts[i].type == 0 || parts[i].start_lba == 0 || parts[i].sectors == 0)
			memset(&parts[i], 0, sizeof(parts[i]));
		else
			any = true;
	}
	return any;
}
