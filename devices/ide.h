/* The PC's primary IDE channel: command block at 0x1f0..0x1f7, device control at 0x3f6, IRQ 14, a master
 * and an optional slave disk (--firmware). What a parallel channel adds to the ATA command set of ata.c
 * (shared with the AHCI ports) lives here: the task-file registers with LBA48's two-deep "HOB" bytes and
 * CHS translation, the PIO handshake through the data port in 8-, 16- or 32-bit accesses (one sector per
 * DRQ block, or the SET MULTIPLE block), SRST and nIEN in the device control register, INTRQ cleared by a
 * status read. There is no bus master, so DMA commands abort. Commands run synchronously in the port write
 * that issues them: the guest never sees BSY except during SRST. Nothing here touches guest memory. */
#ifndef LBVM_DEVICES_IDE_H
#define LBVM_DEVICES_IDE_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/ata.h"
#include "devices/disk_image.h"
#include "devices/irq.h"

#define IDE_DRIVES     2
#define IDE_CMD_PORTS  8
#define IDE_CTL_PORTS  1

/* Command block registers (offsets from 0x1f0). */
#define IDE_REG_DATA    0
#define IDE_REG_ERROR   1 /* read; features on write */
#define IDE_REG_NSECT   2
#define IDE_REG_LBAL    3 /* sector number in CHS */
#define IDE_REG_LBAM    4 /* cylinder low */
#define IDE_REG_LBAH    5 /* cylinder high */
#define IDE_REG_DEVICE  6
#define IDE_REG_STATUS  7 /* read; command on write */

#define IDE_DEV_SLAVE   0x10
#define IDE_DEV_LBA     0x40
#define IDE_DEV_OBS     0xa0 /* obsolete bits, read as one */

/* Device control register (0x3f6 write); reading 0x3f6 gives the alternate status. */
#define IDE_CTL_NIEN    0x02
#define IDE_CTL_SRST    0x04
#define IDE_CTL_HOB     0x80

#define ATA_CMD_INIT_DEV_PARAMS 0x91 /* CHS geometry for translation */

enum ide_phase { IDE_IDLE, IDE_PIO_IN, IDE_PIO_OUT };

struct ide_drive {
	bool present;
	struct ata_drive ata;
	uint8_t status, error;
	uint16_t heads, sectors; /* CHS translation (INITIALIZE DEVICE PARAMETERS) */
};

struct ide_channel {
	struct ide_drive drive[IDE_DRIVES];
	/* The task file, shared by both devices: [0] the last byte written, [1] the one before it (HOB). */
	uint8_t feature[2], nsect[2], lbal[2], lbam[2], lbah[2];
	uint8_t device;
	uint8_t control;

	/* The data phase of the command in progress. */
	enum ide_phase phase;
	unsigned active;           /* the drive moving data */
	struct ata_tf tf;
	struct ata_plan plan;
	uint32_t block;            /* sectors per DRQ block */
	uint64_t done;             /* media commands: sectors moved in completed blocks */
	uint8_t buf[ATA_MAX_MULTIPLE * DISK_SECTOR_SIZE];
	uint32_t pos, len;

	bool intrq;                /* the devices' INTRQ, before nIEN */
	int irq_level;             /* what the line shows */
	struct irq_line irq;
};

/* A channel with disks[0] as master and, if ndisks is 2, disks[1] as slave (1 <= ndisks <= IDE_DRIVES). */
void ide_init(struct ide_channel *ch, struct disk_image *const *disks, unsigned ndisks, struct irq_line irq);

/* Bus handlers: the 8-port command block and the 1-port control block. */
void ide_cmd_read(void *dev, uint64_t offset, void *data, unsigned size);
void ide_cmd_write(void *dev, uint64_t offset, const void *data, unsigned size);
void ide_ctl_read(void *dev, uint64_t offset, void *data, unsigned size);
void ide_ctl_write(void *dev, uint64_t offset, const void *data, unsigned size);

#endif
