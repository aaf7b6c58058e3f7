#include "devices/ata.h"

#include <stdio.h>
#include <string.h>

/* IDENTIFY DEVICE words (ACS-2 numbering) and the bits lbvm sets in them. */
#define ID_CONFIG            0
#define ID_CYLINDERS         1
#define ID_HEADS             3
#define ID_SECTORS           6
#define ID_SERIAL            10  /* 20 characters */
#define ID_FIRMWARE          23  /* 8 characters */
#define ID_MODEL             27  /* 40 characters */
#define ID_MAX_MULTIPLE      47
#define ID_CAPABILITY        49
#define ID_CAPABILITY_2      50
#define ID_FIELD_VALID       53
#define ID_CUR_CYLINDERS     54
#define ID_CUR_HEADS         55
#define ID_CUR_SECTORS       56
#define ID_CUR_CAPACITY      57  /* 2 words */
#define ID_MULTIPLE          59
#define ID_LBA28_CAPACITY    60  /* 2 words */
#define ID_MWDMA             63
#define ID_PIO_MODES         64
#define ID_EIDE_DMA_MIN      65
#define ID_EIDE_DMA_TIME     66
#define ID_EIDE_PIO          67
#define ID_EIDE_PIO_IORDY    68
#define ID_QUEUE_DEPTH       75
#define ID_SATA_CAP          76
#define ID_MAJOR_VERSION     80
#define ID_COMMAND_SET_1     82
#define ID_COMMAND_SET_2     83
#define ID_CFSSE             84
#define ID_CFS_ENABLE_1      85
#define ID_CFS_ENABLE_2      86
#define ID_CSF_DEFAULT       87
#define ID_UDMA              88
#define ID_HW_RESET          93
#define ID_LBA48_CAPACITY    100 /* 4 words */
#define ID_SECTOR_SIZE       106
#define ID_COMMAND_SET_3     119
#define ID_COMMAND_SET_4     120
#define ID_ROTATION_RATE     217
#define ID_INTEGRITY         255

#define ID_VALID_BIT         0x4000 /* "bit 14 shall be one" in several words */
#define CONFIG_FIXED_ATA     0x0040 /* word 0: an ATA device, fixed medium */
#define MAX_MULTIPLE_TAG     0x8000 /* word 47: bits 15:8 are 80h */
#define CAP_DMA              0x0100
#define CAP_LBA              0x0200
#define CAP_IORDY_DISABLE    0x0400
#define CAP_IORDY            0x0800
#define FIELD_64_70          0x0002
#define FIELD_88             0x0004
#define MULTIPLE_VALID       0x0100
#define SATA_GEN1            0x0002
#define SATA_GEN2            0x0004
#define SATA_GEN3            0x0008
#define SATA_NCQ             0x0100
#define MAJOR_ATA5_TO_ACS2   0x03e0 /* ATA-5 .. ACS-2 (bits 5..9) */
#define CS1_NOP              0x4000
#define CS1_LOOKAHEAD        0x0040
#define CS1_WRITE_CACHE      0x0020
#define CS1_PM               0x0008
#define CS2_FLUSH_EXT        0x2000
#define CS2_FLUSH            0x1000
#define CS2_LBA48            0x0400
#define CSE_GPL              0x0020
#define CFS2_WORDS_119_120   0x8000
#define CS3_READ_LOG_DMA     0x0008
#define SECTOR_SIZE_VALID    0x4000
#define NON_ROTATING         0x0001
#define INTEGRITY_SIGNATURE  0xa5
#define PIO_MODES_3_4        0x0003
#define MWDMA_MODES_0_2      0x0007
#define UDMA_MODES_0_6       0x007f
#define MODE_SELECTED        0x0100 /* words 63 and 88: bit 8 + n marks mode n as selected */
#define CYCLE_TIME_NS        120
#define HW_RESET_VALID       0x4000 /* word 93: bit 14 one */
#define HW_RESET_DEV0        0x000b /* device 0: bit 0 one, number set by jumper, diagnostics passed */
#define HW_RESET_DEV1        0x0b00 /* device 1: bit 8 one, number set by jumper, PDIAG- asserted */

/* Geometry reported for old software: 16 heads, 63 sectors per track, at most 16383 cylinders. */
#define CHS_HEADS            16
#define CHS_SECTORS          63
#define CHS_MAX_CYLINDERS    16383

#define LBA28_LIMIT          (UINT64_C(1) << 28)
#define LBA48_MAX_COUNT      65536u
#define LBA28_MAX_COUNT      256u

/* SET FEATURES subcommands. */
#define SF_ENABLE_WRITE_CACHE  0x02
#define SF_SET_XFER_MODE       0x03
#define SF_DISABLE_LOOKAHEAD   0x55
#define SF_DISABLE_REVERTING   0x66
#define SF_DISABLE_WRITE_CACHE 0x82
#define SF_ENABLE_LOOKAHEAD    0xaa
#define SF_ENABLE_REVERTING    0xcc
#define XFER_PIO_BASE          0x08 /* transfer-mode values: 08h+n PIO n, 20h+n MWDMA n, 40h+n UDMA n */
#define XFER_MWDMA_BASE        0x20
#define XFER_UDMA_BASE         0x40
#define XFER_MODE_NONE         0xff

#define POWER_MODE_ACTIVE      0xff /* CHECK POWER MODE count: active or idle */
#define LOG_PAGE_SIZE          512u
#define LOG_NCQ_NQ             0x80 /* NCQ error log byte 0: no queued command in error */

static const char MODEL[] = "lbvm raw disk";
static const char FIRMWARE[] = "lbvm0.1";

void ata_drive_reset(struct ata_drive *drive)
{
	drive->write_cache = true;
	drive->multiple = 0;
	drive->udma_mode = drive->parallel ? XFER_MODE_NONE : 6;
	drive->mwdma_mode = XFER_MODE_NONE;
	memset(&drive->ncq_error, 0, sizeof(drive->ncq_error));
}

void ata_drive_init(struct ata_drive *drive, struct disk_image *disk, unsigned index)
{
	memset(drive, 0, sizeof(*drive));
	drive->disk = disk;
	drive->index = index;
	ata_drive_reset(drive);
}

void ata_drive_init_parallel(struct ata_drive *drive, struct disk_image *disk, unsigned index)
{
	ata_drive_init(drive, disk, index);
	drive->parallel = true;
	ata_drive_reset(drive); /* a legacy channel has no bus master: no DMA mode selected */
}

/* ATA strings: space padded, two characters per word, the first in the high byte. */
static void put_string(uint16_t *id, unsigned word, unsigned chars, const char *s)
{
	size_t n = strlen(s);
	for (unsigned i = 0; i < chars; i += 2) {
		uint8_t hi = (uint8_t)(i < n ? s[i] : ' ');
		uint8_t lo = (uint8_t)(i + 1 < n ? s[i + 1] : ' ');
		id[word + i / 2] = (uint16_t)(hi << 8 | lo);
	}
}

void ata_identify(const struct ata_drive *drive, uint16_t id[256])
{
	uint64_t sectors = drive->disk->sectors;
	memset(id, 0, 256 * sizeof(id[0]));
	uint64_t cyl = sectors / (CHS_HEADS * CHS_SECTORS);
	if (cyl > CHS_MAX_CYLINDERS)
		cyl = CHS_MAX_CYLINDERS;
	uint64_t chs_capacity = cyl * CHS_HEADS * CHS_SECTORS;
	uint64_t lba28 = sectors < LBA28_LIMIT - 1 ? sectors : LBA28_LIMIT - 1;
	char serial[24];
	snprintf(serial, sizeof(serial), "LBVM%016u", drive->index);

	id[ID_CONFIG] = CONFIG_FIXED_ATA;
	id[ID_CYLINDERS] = id[ID_CUR_CYLINDERS] = (uint16_t)cyl;
	id[ID_HEADS] = id[ID_CUR_HEADS] = CHS_HEADS;
	id[ID_SECTORS] = id[ID_CUR_SECTORS] = CHS_SECTORS;
	id[ID_CUR_CAPACITY] = (uint16_t)chs_capacity;
	id[ID_CUR_CAPACITY + 1] = (uint16_t)(chs_capacity >> 16);
	put_string(id, ID_SERIAL, 20, serial);
	put_string(id, ID_FIRMWARE, 8, FIRMWARE);
	put_string(id, ID_MODEL, 40, MODEL);
	id[ID_MAX_MULTIPLE] = MAX_MULTIPLE_TAG | ATA_MAX_MULTIPLE;
	id[ID_CAPABILITY] = CAP_DMA | CAP_LBA | CAP_IORDY | CAP_IORDY_DISABLE;
	id[ID_CAPABILITY_2] = ID_VALID_BIT;
	id[ID_FIELD_VALID] = FIELD_64_70 | FIELD_88;
	id[ID_MULTIPLE] = drive->multiple ? (uint16_t)(MULTIPLE_VALID | drive->multiple) : 0;
	id[ID_LBA28_CAPACITY] = (uint16_t)lba28;
	id[ID_LBA28_CAPACITY + 1] = (uint16_t)(lba28 >> 16);
	id[ID_MWDMA] = MWDMA_MODES_0_2;
	if (drive->mwdma_mode != XFER_MODE_NONE)
		id[ID_MWDMA] |= (uint16_t)(MODE_SELECTED << drive->mwdma_mode);
	id[ID_PIO_MODES] = PIO_MODES_3_4;
	id[ID_EIDE_DMA_MIN] = id[ID_EIDE_DMA_TIME] = id[ID_EIDE_PIO] = id[ID_EIDE_PIO_IORDY] = CYCLE_TIME_NS;
	id[ID_QUEUE_DEPTH] = ATA_NCQ_DEPTH - 1;
	id[ID_SATA_CAP] = SATA_NCQ | SATA_GEN1 | SATA_GEN2 | SATA_GEN3;
	id[ID_MAJOR_VERSION] = MAJOR_ATA5_TO_ACS2;
	id[ID_COMMAND_SET_1] = CS1_NOP | CS1_LOOKAHEAD | CS1_WRITE_CACHE | CS1_PM;
	id[ID_COMMAND_SET_2] = ID_VALID_BIT | CS2_FLUSH_EXT | CS2_FLUSH | CS2_LBA48;
	id[ID_CFSSE] = ID_VALID_BIT | CSE_GPL;
	id[ID_CFS_ENABLE_1] = CS1_NOP | CS1_LOOKAHEAD | CS1_PM | (drive->write_cache ? CS1_WRITE_CACHE : 0);
	id[ID_CFS_ENABLE_2] = CFS2_WORDS_119_120 | CS2_FLUSH_EXT | CS2_FLUSH | CS2_LBA48;
	id[ID_CSF_DEFAULT] = ID_VALID_BIT | CSE_GPL;
	id[ID_UDMA] = UDMA_MODES_0_6;
	if (drive->udma_mode != XFER_MODE_NONE)
		id[ID_UDMA] |= (uint16_t)(MODE_SELECTED << drive->udma_mode);
	for (unsigned i = 0; i < 4; i++)
		id[ID_LBA48_CAPACITY + i] = (uint16_t)(sectors >> (16 * i));
	id[ID_SECTOR_SIZE] = SECTOR_SIZE_VALID; /* one 512-byte logical sector per physical sector */
	id[ID_COMMAND_SET_3] = ID_VALID_BIT | CS3_READ_LOG_DMA;
	id[ID_COMMAND_SET_4] = ID_VALID_BIT | CS3_READ_LOG_DMA;
	id[ID_ROTATION_RATE] = NON_ROTATING;

	if (drive->parallel) {
		/* A parallel device behind a channel without a bus master: PIO only, none of SATA's words, and
		 * the hardware reset result that tells a PATA host which device it is. */
		id[ID_CAPABILITY] &= (uint16_t)~CAP_DMA;
		id[ID_FIELD_VALID] = FIELD_64_70;
		id[ID_MWDMA] = id[ID_UDMA] = 0;
		id[ID_QUEUE_DEPTH] = id[ID_SATA_CAP] = 0;
		id[ID_COMMAND_SET_3] = id[ID_COMMAND_SET_4] = ID_VALID_BIT;
		id[ID_HW_RESET] = (uint16_t)(HW_RESET_VALID | (drive->index ? HW_RESET_DEV1 : HW_RESET_DEV0));
	}

	/* Integrity word: signature A5h, then the byte that makes all 512 bytes sum to zero. */
	id[ID_INTEGRITY] = INTEGRITY_SIGNATURE;
	uint8_t sum = 0;
	for (unsigned i = 0; i < 255; i++)
		sum = (uint8_t)(sum + (id[i] & 0xff) + (id[i] >> 8));
	sum = (uint8_t)(sum + INTEGRITY_SIGNATURE);
	id[ID_INTEGRITY] |= (uint16_t)((uint8_t)-sum << 8);
}

void ata_tf_from_fis(struct ata_tf *tf, const uint8_t fis[20])
{
	memset(tf, 0, sizeof(*tf));
	tf->command = fis[2];
	tf->features = (uint16_t)(fis[3] | fis[11] << 8);
	tf->lba = (uint64_t)fis[4] | (uint64_t)fis[5] << 8 | (uint64_t)fis[6] << 16 | (uint64_t)fis[8] << 24 |
		  (uint64_t)fis[9] << 32 | (uint64_t)fis[10] << 40;
	tf->device = fis[7];
	tf->count = (uint16_t)(fis[12] | fis[13] << 8);
	tf->control = fis[15];
}

static int fail(struct ata_tf *tf, uint8_t error)
{
	tf->status = ATA_STATUS_FAIL;
	tf->error = error;
	return -1;
}

static int ok(struct ata_tf *tf)
{
	tf->status = ATA_STATUS_OK;
	tf->error = 0;
	return 0;
}

static bool is_ncq(uint8_t command)
{
	return command == ATA_CMD_READ_FPDMA_QUEUED || command == ATA_CMD_WRITE_FPDMA_QUEUED;
}

/* LBA and count of a 28-bit command: LBA 27:24 sit in the device register, count 0 means 256. */
static void media28(const struct ata_tf *tf, struct ata_plan *plan)
{
	plan->lba = (tf->lba & 0xffffff) | (uint64_t)(tf->device & 0x0f) << 24;
	plan->sectors = (tf->count & 0xff) ? (tf->count & 0xff) : LBA28_MAX_COUNT;
}

static void media48(const struct ata_tf *tf, struct ata_plan *plan, uint16_t count)
{
	plan->lba = tf->lba;
	plan->sectors = count ? count : LBA48_MAX_COUNT;
}

static void record_ncq_error(struct ata_drive *drive, const struct ata_tf *tf, unsigned tag)
{
	drive->ncq_error = (struct ata_ncq_error){
		.pending = true, .tag = tag, .status = tf->status, .error = tf->error,
		.device = tf->device, .lba = tf->lba, .count = tf->count,
	};
}

static int plan_media(struct ata_drive *drive, struct ata_tf *tf, struct ata_plan *plan, enum ata_proto proto)
{
	bool write = proto == ATA_PROTO_PIO_OUT || proto == ATA_PROTO_DMA_OUT || proto == ATA_PROTO_NCQ_OUT;
	plan->proto = proto;
	plan->media = true;
	if (write && drive->disk->read_only)
		return fail(tf, ATA_ERROR_ABRT);
	if (plan->lba > drive->disk->sectors || plan->sectors > drive->disk->sectors - plan->lba)
		return fail(tf, ATA_ERROR_IDNF | ATA_ERROR_ABRT);
	plan->bytes = (uint64_t)plan->sectors * DISK_SECTOR_SIZE;
	return 0;
}

static int plan_log(struct ata_tf *tf, struct ata_plan *plan, enum ata_proto proto)
{
	unsigned log = tf->lba & 0xff;
	unsigned page = (tf->lba >> 8) & 0xffff;
	if (tf->count != 1 || page != 0 || (log != ATA_LOG_DIRECTORY && log != ATA_LOG_NCQ_ERROR))
		return fail(tf, ATA_ERROR_ABRT); /* one page of the two logs lbvm keeps */
	plan->proto = proto;
	plan->bytes = LOG_PAGE_SIZE;
	return 0;
}

static int plan_command(struct ata_drive *drive, struct ata_tf *tf, struct ata_plan *plan)
{
	switch (tf->command) {
	case ATA_CMD_IDENTIFY:
		plan->proto = ATA_PROTO_PIO_IN;
		plan->bytes = 512;
		return 0;
	case ATA_CMD_READ_DMA:
		media28(tf, plan);
		return plan_media(drive, tf, plan, ATA_PROTO_DMA_IN);
	case ATA_CMD_WRITE_DMA:
		media28(tf, plan);
		return plan_media(drive, tf, plan, ATA_PROTO_DMA_OUT);
	case ATA_CMD_READ_SECTORS:
		media28(tf, plan);
		return plan_media(drive, tf, plan, ATA_PROTO_PIO_IN);
	case ATA_CMD_WRITE_SECTORS:
		media28(tf, plan);
		return plan_media(drive, tf, plan, ATA_PROTO_PIO_OUT);
	case ATA_CMD_READ_MULTIPLE:
	case ATA_CMD_WRITE_MULTIPLE:
		if (!drive->multiple)
			return fail(tf, ATA_ERROR_ABRT);
		media28(tf, plan);
		return plan_media(drive, tf, plan,
				  tf->command == ATA_CMD_READ_MULTIPLE ? ATA_PROTO_PIO_IN : ATA_PROTO_PIO_OUT);
	case ATA_CMD_READ_DMA_EXT:
		media48(tf, plan, tf->count);
		return plan_media(drive, tf, plan, ATA_PROTO_DMA_IN);
	case ATA_CMD_WRITE_DMA_EXT:
		media48(tf, plan, tf->count);
		return plan_media(drive, tf, plan, ATA_PROTO_DMA_OUT);
	case ATA_CMD_READ_SECTORS_EXT:
		media48(tf, plan, tf->count);
		return plan_media(drive, tf, plan, ATA_PROTO_PIO_IN);
	case ATA_CMD_WRITE_SECTORS_EXT:
		media48(tf, plan, tf->count);
		return plan_media(drive, tf, plan, ATA_PROTO_PIO_OUT);
	case ATA_CMD_READ_MULTIPLE_EXT:
	case ATA_CMD_WRITE_MULTIPLE_EXT:
		if (!drive->multiple)
			return fail(tf, ATA_ERROR_ABRT);
		media48(tf, plan, tf->count);
		return plan_media(drive, tf, plan,
				  tf->command == ATA_CMD_READ_MULTIPLE_EXT ? ATA_PROTO_PIO_IN : ATA_PROTO_PIO_OUT);
	case ATA_CMD_READ_FPDMA_QUEUED:
	case ATA_CMD_WRITE_FPDMA_QUEUED:
		/* The sector count travels in the features field, the tag in count 7:3. */
		plan->tag = (tf->count >> 3) & 0x1f;
		media48(tf, plan, tf->features);
		return plan_media(drive, tf, plan,
				  tf->command == ATA_CMD_READ_FPDMA_QUEUED ? ATA_PROTO_NCQ_IN : ATA_PROTO_NCQ_OUT);
	case ATA_CMD_VERIFY:
		media28(tf, plan);
		if (plan_media(drive, tf, plan, ATA_PROTO_NODATA))
			return -1;
		plan->bytes = 0;
		return 0;
	case ATA_CMD_VERIFY_EXT:
		media48(tf, plan, tf->count);
		if (plan_media(drive, tf, plan, ATA_PROTO_NODATA))
			return -1;
		plan->bytes = 0;
		return 0;
	case ATA_CMD_READ_LOG_EXT:
		return plan_log(tf, plan, ATA_PROTO_PIO_IN);
	case ATA_CMD_READ_LOG_DMA_EXT:
		return plan_log(tf, plan, ATA_PROTO_DMA_IN);
	case ATA_CMD_SET_FEATURES:
	case ATA_CMD_SET_MULTIPLE:
	case ATA_CMD_FLUSH_CACHE:
	case ATA_CMD_FLUSH_CACHE_EXT:
	case ATA_CMD_READ_NATIVE_MAX:
	case ATA_CMD_READ_NATIVE_MAX_EXT:
	case ATA_CMD_CHECK_POWER_MODE:
	case ATA_CMD_STANDBY_IMMEDIATE:
	case ATA_CMD_IDLE_IMMEDIATE:
	case ATA_CMD_STANDBY:
	case ATA_CMD_IDLE:
	case ATA_CMD_RECALIBRATE:
	case ATA_CMD_EXEC_DIAGNOSTIC:
		plan->proto = ATA_PROTO_NODATA;
		return 0;
	default: /* NOP included: it always aborts */
		return fail(tf, ATA_ERROR_ABRT);
	}
}

int ata_plan(struct ata_drive *drive, struct ata_tf *tf, struct ata_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	int r = plan_command(drive, tf, plan);
	if (r && is_ncq(tf->command))
		record_ncq_error(drive, tf, (tf->count >> 3) & 0x1f);
	return r;
}

/* Copy a device-side buffer into the scatter list (which is exactly as long as the buffer). */
static void copy_to_iov(const struct iovec *iov, unsigned iovcnt, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	for (unsigned i = 0; i < iovcnt && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : len;
		memcpy(iov[i].iov_base, p, n);
		p += n;
		len -= n;
	}
}

static void log_directory(uint8_t page[LOG_PAGE_SIZE])
{
	page[0] = 0x01; /* general purpose log version 1 */
	page[2 * ATA_LOG_NCQ_ERROR] = 1; /* one page of log 10h */
}

static void log_ncq_error(struct ata_drive *drive, uint8_t page[LOG_PAGE_SIZE])
{
	const struct ata_ncq_error *e = &drive->ncq_error;
	if (!e->pending) {
		page[0] = LOG_NCQ_NQ;
	} else {
		page[0] = (uint8_t)e->tag;
		page[2] = e->status;
		page[3] = e->error;
		page[4] = (uint8_t)e->lba;
		page[5] = (uint8_t)(e->lba >> 8);
		page[6] = (uint8_t)(e->lba >> 16);
		page[7] = e->device;
		page[8] = (uint8_t)(e->lba >> 24);
		page[9] = (uint8_t)(e->lba >> 32);
		page[10] = (uint8_t)(e->lba >> 40);
		page[12] = (uint8_t)e->count;
		page[13] = (uint8_t)(e->count >> 8);
	}
	uint8_t sum = 0;
	for (unsigned i = 0; i < LOG_PAGE_SIZE - 1; i++)
		sum = (uint8_t)(sum + page[i]);
	page[LOG_PAGE_SIZE - 1] = (uint8_t)-sum;
	drive->ncq_error.pending = false; /* reading the log ends the error condition */
}

static int set_features(struct ata_drive *drive, struct ata_tf *tf)
{
	uint8_t mode = (uint8_t)tf->count;
	switch (tf->features & 0xff) {
	case SF_ENABLE_WRITE_CACHE: drive->write_cache = true; return ok(tf);
	case SF_DISABLE_WRITE_CACHE:
		if (disk_image_flush(drive->disk))
			return fail(tf, ATA_ERROR_ABRT);
		drive->write_cache = false;
		return ok(tf);
	case SF_ENABLE_LOOKAHEAD:
	case SF_DISABLE_LOOKAHEAD:
	case SF_ENABLE_REVERTING:
	case SF_DISABLE_REVERTING:
		return ok(tf);
	case SF_SET_XFER_MODE:
		if (drive->parallel && mode >= XFER_MWDMA_BASE)
			return fail(tf, ATA_ERROR_ABRT); /* DMA modes: nothing on an IDE channel could use them */
		if (mode >= XFER_UDMA_BASE && mode <= XFER_UDMA_BASE + 6) {
			drive->udma_mode = (uint8_t)(mode - XFER_UDMA_BASE);
			drive->mwdma_mode = XFER_MODE_NONE;
		} else if (mode >= XFER_MWDMA_BASE && mode <= XFER_MWDMA_BASE + 2) {
			drive->mwdma_mode = (uint8_t)(mode - XFER_MWDMA_BASE);
			drive->udma_mode = XFER_MODE_NONE;
		} else if (mode <= XFER_PIO_BASE + 4) { /* PIO default (00h/01h) or PIO n */
			drive->udma_mode = drive->mwdma_mode = XFER_MODE_NONE;
		} else {
			return fail(tf, ATA_ERROR_ABRT);
		}
		return ok(tf);
	default:
		return fail(tf, ATA_ERROR_ABRT);
	}
}

static int media(struct ata_drive *drive, struct ata_tf *tf, const struct ata_plan *plan, const struct iovec *iov,
		 unsigned iovcnt)
{
	uint64_t offset = plan->lba * DISK_SECTOR_SIZE;
	bool write = plan->proto == ATA_PROTO_PIO_OUT || plan->proto == ATA_PROTO_DMA_OUT ||
		     plan->proto == ATA_PROTO_NCQ_OUT;
	int err;
	if (write) {
		err = disk_image_pwritev(drive->disk, iov, iovcnt, offset);
		bool fua = plan->proto == ATA_PROTO_NCQ_OUT && (tf->device & ATA_DEVICE_FUA);
		if (!err && (fua || !drive->write_cache))
			err = disk_image_flush(drive->disk);
	} else {
		err = disk_image_preadv(drive->disk, iov, iovcnt, offset);
	}
	if (err)
		return fail(tf, write ? ATA_ERROR_ABRT : ATA_ERROR_UNC);
	return ok(tf);
}

static void set_lba_out(struct ata_tf *tf, uint64_t lba)
{
	tf->lba = lba;
	tf->device = (uint8_t)((tf->device & 0xf0) | ((lba >> 24) & 0x0f));
}

static int execute(struct ata_drive *drive, struct ata_tf *tf, const struct ata_plan *plan, const struct iovec *iov,
		   unsigned iovcnt)
{
	uint64_t max_lba = drive->disk->sectors - 1;
	switch (tf->command) {
	case ATA_CMD_IDENTIFY: {
		uint16_t id[256];
		uint8_t bytes[512];
		ata_identify(drive, id);
		for (unsigned i = 0; i < 256; i++) {
			bytes[2 * i] = (uint8_t)id[i];
			bytes[2 * i + 1] = (uint8_t)(id[i] >> 8);
		}
		copy_to_iov(iov, iovcnt, bytes, sizeof(bytes));
		return ok(tf);
	}
	case ATA_CMD_READ_LOG_EXT:
	case ATA_CMD_READ_LOG_DMA_EXT: {
		uint8_t page[LOG_PAGE_SIZE] = { 0 };
		if ((tf->lba & 0xff) == ATA_LOG_DIRECTORY)
			log_directory(page);
		else
			log_ncq_error(drive, page);
		copy_to_iov(iov, iovcnt, page, sizeof(page));
		return ok(tf);
	}
	case ATA_CMD_SET_FEATURES:
		return set_features(drive, tf);
	case ATA_CMD_SET_MULTIPLE: {
		unsigned n = tf->count & 0xff;
		if (n > ATA_MAX_MULTIPLE || (n & (n - 1)))
			return fail(tf, ATA_ERROR_ABRT);
		drive->multiple = (uint8_t)n;
		return ok(tf);
	}
	case ATA_CMD_FLUSH_CACHE:
	case ATA_CMD_FLUSH_CACHE_EXT:
		if (disk_image_flush(drive->disk))
			return fail(tf, ATA_ERROR_ABRT);
		return ok(tf);
	case ATA_CMD_READ_NATIVE_MAX:
		set_lba_out(tf, max_lba < LBA28_LIMIT - 1 ? max_lba : LBA28_LIMIT - 1);
		return ok(tf);
	case ATA_CMD_READ_NATIVE_MAX_EXT:
		set_lba_out(tf, max_lba);
		return ok(tf);
	case ATA_CMD_CHECK_POWER_MODE:
		ok(tf);
		tf->count = POWER_MODE_ACTIVE;
		return 0;
	case ATA_CMD_EXEC_DIAGNOSTIC:
		ok(tf);
		tf->error = ATA_DIAG_PASSED;
		tf->count = 1;
		tf->lba = 1;
		tf->device = 0;
		return 0;
	default:
		if (plan->media && plan->bytes)
			return media(drive, tf, plan, iov, iovcnt);
		return ok(tf); /* verify, idle, standby, recalibrate: nothing to do */
	}
}

int ata_execute(struct ata_drive *drive, struct ata_tf *tf, const struct ata_plan *plan, const struct iovec *iov,
		unsigned iovcnt)
{
	int r = execute(drive, tf, plan, iov, iovcnt);
	if (r && is_ncq(tf->command))
		record_ncq_error(drive, tf, plan->tag);
	return r;
}
