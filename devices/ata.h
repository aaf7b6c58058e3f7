/* The ATA device behind one AHCI port: a disk_image seen through the ATA/ATAPI command set (ACS). The HBA
 * (ahci.c) turns a command FIS into a struct ata_tf, asks ata_plan() how much data moves in which
 * direction, maps the PRDT to host buffers, and calls ata_execute(), which fills in the result registers.
 * Nothing here touches guest memory. */
#ifndef LBVM_DEVICES_ATA_H
#define LBVM_DEVICES_ATA_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "devices/disk_image.h"

/* Status register. */
#define ATA_STATUS_ERR   0x01
#define ATA_STATUS_DRQ   0x08
#define ATA_STATUS_DSC   0x10
#define ATA_STATUS_DF    0x20
#define ATA_STATUS_DRDY  0x40
#define ATA_STATUS_BSY   0x80
#define ATA_STATUS_OK    (ATA_STATUS_DRDY | ATA_STATUS_DSC)
#define ATA_STATUS_FAIL  (ATA_STATUS_DRDY | ATA_STATUS_ERR)

/* Error register. */
#define ATA_ERROR_ABRT   0x04
#define ATA_ERROR_IDNF   0x10
#define ATA_ERROR_UNC    0x40
#define ATA_DIAG_PASSED  0x01 /* error register after reset / EXECUTE DEVICE DIAGNOSTIC */

/* Commands. */
#define ATA_CMD_NOP                 0x00
#define ATA_CMD_RECALIBRATE         0x10
#define ATA_CMD_READ_SECTORS        0x20
#define ATA_CMD_READ_SECTORS_EXT    0x24
#define ATA_CMD_READ_DMA_EXT        0x25
#define ATA_CMD_READ_NATIVE_MAX_EXT 0x27
#define ATA_CMD_READ_MULTIPLE_EXT   0x29
#define ATA_CMD_READ_LOG_EXT        0x2f
#define ATA_CMD_WRITE_SECTORS       0x30
#define ATA_CMD_WRITE_SECTORS_EXT   0x34
#define ATA_CMD_WRITE_DMA_EXT       0x35
#define ATA_CMD_WRITE_MULTIPLE_EXT  0x39
#define ATA_CMD_VERIFY              0x40
#define ATA_CMD_VERIFY_EXT          0x42
#define ATA_CMD_READ_LOG_DMA_EXT    0x47
#define ATA_CMD_READ_FPDMA_QUEUED   0x60
#define ATA_CMD_WRITE_FPDMA_QUEUED  0x61
#define ATA_CMD_EXEC_DIAGNOSTIC     0x90
#define ATA_CMD_READ_MULTIPLE       0xc4
#define ATA_CMD_WRITE_MULTIPLE      0xc5
#define ATA_CMD_SET_MULTIPLE        0xc6
#define ATA_CMD_READ_DMA            0xc8
#define ATA_CMD_WRITE_DMA           0xca
#define ATA_CMD_STANDBY_IMMEDIATE   0xe0
#define ATA_CMD_IDLE_IMMEDIATE      0xe1
#define ATA_CMD_STANDBY             0xe2
#define ATA_CMD_IDLE                0xe3
#define ATA_CMD_CHECK_POWER_MODE    0xe5
#define ATA_CMD_FLUSH_CACHE         0xe7
#define ATA_CMD_FLUSH_CACHE_EXT     0xea
#define ATA_CMD_IDENTIFY            0xec
#define ATA_CMD_SET_FEATURES        0xef
#define ATA_CMD_READ_NATIVE_MAX     0xf8

#define ATA_LOG_DIRECTORY   0x00
#define ATA_LOG_NCQ_ERROR   0x10
#define ATA_NCQ_DEPTH       32
#define ATA_MAX_MULTIPLE    16   /* sectors per DRQ block for READ/WRITE MULTIPLE */
#define ATA_DEVICE_LBA      0x40 /* device register: LBA addressing */
#define ATA_DEVICE_FUA      0x80 /* device register of FPDMA writes: force unit access */

/* Task-file registers, as a command FIS carries them and a result FIS returns them. */
struct ata_tf {
	uint8_t command;
	uint16_t features;  /* 7:0 and 15:8 */
	uint16_t count;     /* 7:0 and 15:8; FPDMA: the tag is in bits 7:3 */
	uint64_t lba;       /* 48 bits */
	uint8_t device;
	uint8_t control;
	uint8_t status;     /* results */
	uint8_t error;
};

enum ata_proto {
	ATA_PROTO_NODATA,
	ATA_PROTO_PIO_IN,
	ATA_PROTO_PIO_OUT,
	ATA_PROTO_DMA_IN,
	ATA_PROTO_DMA_OUT,
	ATA_PROTO_NCQ_IN,
	ATA_PROTO_NCQ_OUT,
};

struct ata_plan {
	enum ata_proto proto;
	uint64_t bytes;       /* data moved; 0 for no-data commands */
	uint64_t lba;         /* media commands: first sector */
	uint32_t sectors;     /* media commands: sector count (0 for others) */
	unsigned tag;         /* NCQ tag */
	bool media;           /* reads/writes the image (LBA range checked) */
};

/* The NCQ command error log (page 10h), kept until read or reset. */
struct ata_ncq_error {
	bool pending;
	unsigned tag;
	uint8_t status, error, device;
	uint64_t lba;
	uint16_t count;
};

struct ata_drive {
	struct disk_image *disk;
	unsigned index;          /* for the serial number; on a parallel channel 0 = master, 1 = slave */
	bool parallel;           /* on a legacy IDE channel (ide.c): PIO only, no SATA or NCQ words */
	bool write_cache;        /* SET FEATURES 02h/82h; when off every write is synced */
	uint8_t multiple;        /* SET MULTIPLE MODE; 0 = READ/WRITE MULTIPLE refused */
	uint8_t udma_mode;       /* selected Ultra DMA mode, 0xff when a PIO/MWDMA mode was chosen */
	uint8_t mwdma_mode;      /* selected multiword DMA mode, 0xff when none */
	struct ata_ncq_error ncq_error;
};

void ata_drive_init(struct ata_drive *drive, struct disk_image *disk, unsigned index);
/* The same for a device on a parallel IDE channel (ide.c); index 0 is the master, 1 the slave. */
void ata_drive_init_parallel(struct ata_drive *drive, struct disk_image *disk, unsigned index);
/* Power-on / hardware-reset defaults (keeps the image). */
void ata_drive_reset(struct ata_drive *drive);

/* Build the 256-word IDENTIFY DEVICE data (little-endian words) for the current settings. */
void ata_identify(const struct ata_drive *drive, uint16_t id[256]);

/* Decode / encode the task-file fields of a register FIS (Host-to-Device or Device-to-Host). */
void ata_tf_from_fis(struct ata_tf *tf, const uint8_t fis[20]);

/* What the command in `tf` will do. 0 and *plan filled, or -1 with tf->status/error set to the ATA error
 * the device reports at once (unknown command, LBA past the end, write to a read-only image, ...). */
int ata_plan(struct ata_drive *drive, struct ata_tf *tf, struct ata_plan *plan);
/* Carry the command out over `iov` (exactly plan->bytes long). Sets tf->status/error and the output
 * registers; 0 on success, -1 on an ATA error. Records the NCQ error log for failed queued commands. */
int ata_execute(struct ata_drive *drive, struct ata_tf *tf, const struct ata_plan *plan, const struct iovec *iov,
		unsigned iovcnt);

#endif
