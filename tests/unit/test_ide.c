/* The legacy IDE channel, driven through a real struct bus at 0x1f0..0x1f7 and 0x3f6 as Linux's libata
 * (pata_legacy), Fiwix and a boot sector drive it: task-file writes, a command, polling the status, the
 * data port in 16- and 32-bit accesses. Real raw images in a temporary directory (one of them a sparse
 * 4 TiB file, so that LBA48's high bytes matter). Checks data, status, error, the signature, and the edges
 * the channel puts on IRQ 14. */
#include "check_run.h"
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/bus.h"
#include "devices/ide.h"
#include "common/layout.h"

#define SMALL_SECTORS 2048u
#define BIG_SECTORS   (UINT64_C(1) << 33) /* 4 TiB, sparse: LBAs that need LBA48's second and third bytes */
#define CMD           LAYOUT_PORT_IDE_CMD
#define CTL           LAYOUT_PORT_IDE_CTL
#define MASTER        0xe0 /* device register: LBA, master */
#define SLAVE         0xf0
#define HIGH_LBA      UINT64_C(0x103001234) /* needs the HOB bytes of LBA low and mid */

static struct bus io;
static struct ide_channel ch;
static struct disk_image *disks[2];
static char dir[] = "/tmp/lbvm-ide-XXXXXX";
static char paths[2][128];
static int irq_level;
static unsigned irq_edges;
static unsigned irq_gsi;

static void record_irq(void *opaque, unsigned gsi, int level)
{
	(void)opaque;
	irq_gsi = gsi;
	if (level && !irq_level)
		irq_edges++;
	irq_level = level;
}

static uint8_t pattern(unsigned disk, uint64_t offset)
{
	return (uint8_t)(offset * 7 + offset / 512 * 13 + disk * 101);
}

static void make_small_image(unsigned i)
{
	snprintf(paths[i], sizeof(paths[i]), "%s/disk%u.img", dir, i);
	FILE *f = fopen(paths[i], "wb");
	ck_assert_ptr_nonnull(f);
	for (uint64_t o = 0; o < SMALL_SECTORS * 512ull; o++)
		fputc(pattern(i, o), f);
	ck_assert_int_eq(fclose(f), 0);
}

static void make_big_image(unsigned i)
{
	snprintf(paths[i], sizeof(paths[i]), "%s/big%u.img", dir, i);
	int fd = open(paths[i], O_CREAT | O_RDWR | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)(BIG_SECTORS * 512)), 0);
	close(fd);
}

/* ndisks images (the first one big when `big`), read-only when `ro`, on a fresh channel. */
static void start(unsigned ndisks, int big, int ro)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (unsigned i = 0; i < ndisks; i++) {
		if (big && i == 0)
			make_big_image(i);
		else
			make_small_image(i);
		ck_assert_int_eq(disk_image_open(paths[i], ro, &disks[i], NULL), 0);
	}
	irq_level = 0;
	irq_edges = 0;
	bus_init(&io);
	struct irq_line irq = { .set = record_irq, .gsi = LAYOUT_IRQ_IDE };
	ide_init(&ch, disks, ndisks, irq);
	ck_assert_int_eq(bus_add(&io, CMD, IDE_CMD_PORTS, ide_cmd_read, ide_cmd_write, &ch, "ide"), 0);
	ck_assert_int_eq(bus_add(&io, CTL, IDE_CTL_PORTS, ide_ctl_read, ide_ctl_write, &ch, "ide-ctl"), 0);
}

static void setup(void) { start(1, 0, 0); }
static void setup_two(void) { start(2, 0, 0); }
static void setup_big(void) { start(1, 1, 0); }
static void setup_ro(void) { start(1, 0, 1); }

static void teardown(void)
{
	bus_destroy(&io);
	for (unsigned i = 0; i < 2; i++) {
		if (disks[i])
			disk_image_close(disks[i]);
		disks[i] = NULL;
		if (paths[i][0])
			unlink(paths[i]);
		paths[i][0] = 0;
	}
	rmdir(dir);
	strcpy(dir, "/tmp/lbvm-ide-XXXXXX");
}

static uint8_t inb(uint16_t port)
{
	uint8_t v = 0;
	bus_read(&io, port, &v, 1);
	return v;
}

static void outb(uint16_t port, uint8_t v)
{
	bus_write(&io, port, &v, 1);
}

static uint16_t inw(uint16_t port)
{
	uint16_t v = 0;
	bus_read(&io, port, &v, 2);
	return v;
}

static void outw(uint16_t port, uint16_t v)
{
	bus_write(&io, port, &v, 2);
}

static uint32_t inl(uint16_t port)
{
	uint32_t v = 0;
	bus_read(&io, port, &v, 4);
	return v;
}

static uint8_t status(void) { return inb(CMD + IDE_REG_STATUS); }
static uint8_t error(void) { return inb(CMD + IDE_REG_ERROR); }

/* A 28-bit command: LBA and count in the low bytes, bits 27:24 in the device register. */
static void cmd28(uint8_t device, uint8_t command, uint32_t lba, uint8_t count, uint8_t feature)
{
	outb(CMD + IDE_REG_DEVICE, (uint8_t)(device | ((lba >> 24) & 0x0f)));
	outb(CMD + IDE_REG_ERROR, feature);
	outb(CMD + IDE_REG_NSECT, count);
	outb(CMD + IDE_REG_LBAL, (uint8_t)lba);
	outb(CMD + IDE_REG_LBAM, (uint8_t)(lba >> 8));
	outb(CMD + IDE_REG_LBAH, (uint8_t)(lba >> 16));
	outb(CMD + IDE_REG_STATUS, command);
}

/* A 48-bit command: each register written twice, high byte first (Linux's order). */
static void cmd48(uint8_t command, uint64_t lba, uint16_t count)
{
	outb(CMD + IDE_REG_DEVICE, MASTER);
	outb(CMD + IDE_REG_NSECT, (uint8_t)(count >> 8));
	outb(CMD + IDE_REG_LBAL, (uint8_t)(lba >> 24));
	outb(CMD + IDE_REG_LBAM, (uint8_t)(lba >> 32));
	outb(CMD + IDE_REG_LBAH, (uint8_t)(lba >> 40));
	outb(CMD + IDE_REG_NSECT, (uint8_t)count);
	outb(CMD + IDE_REG_LBAL, (uint8_t)lba);
	outb(CMD + IDE_REG_LBAM, (uint8_t)(lba >> 8));
	outb(CMD + IDE_REG_LBAH, (uint8_t)(lba >> 16));
	outb(CMD + IDE_REG_STATUS, command);
}

static void read_words(uint16_t *buf, unsigned words)
{
	for (unsigned i = 0; i < words; i++)
		buf[i] = inw(CMD + IDE_REG_DATA);
}

static void identify(uint8_t device, uint16_t id[256])
{
	cmd28(device, ATA_CMD_IDENTIFY, 0, 0, 0);
	ck_assert_uint_eq(status(), ATA_STATUS_OK | ATA_STATUS_DRQ);
	read_words(id, 256);
	ck_assert_uint_eq(status(), ATA_STATUS_OK);
}

static void check_sector(const uint8_t *buf, unsigned disk, uint64_t lba)
{
	for (unsigned i = 0; i < 512; i++)
		ck_assert_uint_eq(buf[i], pattern(disk, lba * 512 + i));
}

START_TEST(signature_after_power_on)
{
	ck_assert_uint_eq(status(), ATA_STATUS_OK);
	ck_assert_uint_eq(error(), ATA_DIAG_PASSED);
	ck_assert_uint_eq(inb(CMD + IDE_REG_NSECT), 1);
	ck_assert_uint_eq(inb(CMD + IDE_REG_LBAL), 1);
	ck_assert_uint_eq(inb(CMD + IDE_REG_LBAM), 0);
	ck_assert_uint_eq(inb(CMD + IDE_REG_LBAH), 0);
	ck_assert_uint_eq(inb(CMD + IDE_REG_DEVICE), IDE_DEV_OBS);
	ck_assert_uint_eq(irq_edges, 0);
	/* The slave is absent: everything reads zero while it is selected, and nothing it is told happens. */
	outb(CMD + IDE_REG_DEVICE, SLAVE);
	ck_assert_uint_eq(status(), 0);
	ck_assert_uint_eq(inb(CTL), 0);
	outb(CMD + IDE_REG_NSECT, 0x55);
	ck_assert_uint_eq(inb(CMD + IDE_REG_NSECT), 0);
	outb(CMD + IDE_REG_STATUS, ATA_CMD_IDENTIFY);
	ck_assert_uint_eq(irq_edges, 0);
	outb(CMD + IDE_REG_DEVICE, MASTER);
	ck_assert_uint_eq(inb(CMD + IDE_REG_NSECT), 0x55); /* the task file is shared */
	ck_assert_uint_eq(status(), ATA_STATUS_OK);
}
END_TEST

START_TEST(identify_is_a_parallel_pio_device)
{
	uint16_t id[256];
	identify(MASTER, id);
	ck_assert_uint_eq(irq_edges, 1);
	ck_assert_uint_eq(irq_gsi, LAYOUT_IRQ_IDE);
	ck_assert_int_eq(irq_level, 0); /* the status read acknowledged it */
	char model[41];
	for (int i = 0; i < 20; i++) {
		model[2 * i] = (char)(id[27 + i] >> 8);
		model[2 * i + 1] = (char)id[27 + i];
	}
	model[40] = 0;
	ck_assert_str_eq(model, "lbvm raw disk                           ");
	ck_assert_uint_eq(id[60] | (uint32_t)id[61] << 16, SMALL_SECTORS);
	ck_assert_uint_eq(id[100], SMALL_SECTORS);
	ck_assert_uint_eq(id[83] & 0x0400, 0x0400);  /* LBA48 */
	ck_assert_uint_eq(id[49] & 0x0100, 0);       /* no DMA on this channel */
	ck_assert_uint_eq(id[49] & 0x0200, 0x0200);  /* LBA */
	ck_assert_uint_eq(id[76], 0);                /* not SATA */
	ck_assert_uint_eq(id[88], 0);
	ck_assert_uint_eq(id[93], 0x400b);           /* device 0's reset result: a PATA host reads it */
	uint8_t sum = 0;
	for (int i = 0; i < 256; i++)
		sum = (uint8_t)(sum + (id[i] & 0xff) + (id[i] >> 8));
	ck_assert_uint_eq(sum, 0);
	/* Outside a data phase the data port floats. */
	ck_assert_uint_eq(inw(CMD + IDE_REG_DATA), 0xffff);
}
END_TEST

START_TEST(read_sectors_one_interrupt_per_block)
{
	cmd28(MASTER, ATA_CMD_READ_SECTORS, 5, 3, 0);
	uint8_t buf[512];
	for (unsigned s = 0; s < 3; s++) {
		ck_assert_uint_eq(irq_edges, s + 1);
		ck_assert_int_eq(irq_level, 1);
		ck_assert_uint_eq(inb(CTL), ATA_STATUS_OK | ATA_STATUS_DRQ); /* alternate status: no acknowledge */
		ck_assert_int_eq(irq_level, 1);
		ck_assert_uint_eq(status(), ATA_STATUS_OK | ATA_STATUS_DRQ);
		ck_assert_int_eq(irq_level, 0);
		/* 32-bit accesses, as pata_legacy's 32-bit PIO and Fiwix's insl do */
		for (unsigned i = 0; i < 512; i += 4) {
			uint32_t v = inl(CMD + IDE_REG_DATA);
			memcpy(buf + i, &v, 4);
		}
		check_sector(buf, 0, 5 + s);
	}
	ck_assert_uint_eq(status(), ATA_STATUS_OK);
	ck_assert_uint_eq(irq_edges, 3); /* none after the last block of a read */
	/* Count 0 means 256 sectors in a 28-bit command. */
	cmd28(MASTER, ATA_CMD_READ_SECTORS, 0, 0, 0);
	for (unsigned s = 0; s < 256; s++) {
		ck_assert_uint_eq(status() & ATA_STATUS_DRQ, ATA_STATUS_DRQ);
		read_words((uint16_t *)buf, 256);
	}
	ck_assert_uint_eq(status(), ATA_STATUS_OK);
	check_sector(buf, 0, 255);
}
END_TEST

START_TEST(multiple_mode_blocks)
{
	cmd28(MASTER, ATA_CMD_READ_MULTIPLE, 0, 4, 0);
	ck_assert_uint_eq(status(), ATA_STATUS_FAIL); /* no SET MULTIPLE yet */
	ck_assert_uint_eq(error(), ATA_ERROR_ABRT);
	cmd28(MASTER, ATA_CMD_SET_MULTIPLE, 0, 8, 0);
	ck_assert_uint_eq(status(), ATA_STATUS_OK);
	unsigned edges = irq_edges;
	cmd28(MASTER, ATA_CMD_READ_MULTIPLE, 100, 20, 0);
	static uint8_t buf[20 * 512];
	unsigned blocks[] = { 8, 8, 4 }, at = 0;
	for (unsigned b = 0; b < 3; b++) {
		ck_assert_uint_eq(irq_edges, edges + b + 1);
		ck_assert_uint_eq(status(), ATA_STATUS_OK | ATA_STATUS_DRQ);
		read_words((uint16_t *)(buf + at * 512), blocks[b] * 256);
		at += blocks[b];
	}
	ck_assert_uint_eq(status(), ATA_STATUS_OK);
	for (unsigned s = 0; s < 20; s++)
		check_sector(buf + s * 512, 0, 100 + s);
	/* WRITE MULTIPLE: no interrupt before the first block, one after each block. */
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i ^ 0x5a);
	edges = irq_edges;
	cmd28(MASTER, ATA_CMD_WRITE_MULTIPLE, 300, 12, 0);
	ck_assert_uint_eq(irq_edges, edges);
	for (unsigned b = 0, s = 0; b < 2; b++) {
		ck_assert_uint_eq(status(), ATA_STATUS_OK | ATA_STATUS_DRQ);
		unsigned n = b ? 4 : 8;
		for (unsigned w = 0; w < n * 256; w++)
			outw(CMD + IDE_REG_DATA, (uint16_t)(buf[(s + w / 256) * 512 + (w % 256) * 2] |
							     buf[(s + w / 256) * 512 + (w % 256) * 2 + 1] << 8));
		s += n;
		ck_assert_uint_eq(irq_edges, edges + b + 1);
	}
	ck_assert_uint_eq(status(), ATA_STATUS_OK);
	uint8_t back[12 * 512];
	ck_assert_int_eq(disk_image_pread(disks[0], back, sizeof(back), 300 * 512), 0);
	ck_assert_int_eq(memcmp(back, buf, sizeof(back)), 0);
}
END_TEST

START_TEST(lba48_uses_the_high_bytes)
{
	/* Written through the registers' second bytes, read back from the image file. */
	uint8_t out[2 * 512];
	for (unsigned i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 3 + 1);
	cmd48(ATA_CMD_WRITE_SECTORS_EXT, HIGH_LBA, 2);
	for (unsigned i = 0; i < sizeof(out); i += 2)
		outw(CMD + IDE_REG_DATA, (uint16_t)(out[i] | out[i + 1] << 8));
	ck_assert_uint_eq(status(), ATA_STATUS_OK);
	uint8_t back[sizeof(out)];
	ck_assert_int_eq(disk_image_pread(disks[0], back, sizeof(back), HIGH_LBA * 512), 0);
	ck_assert_int_eq(memcmp(back, out, sizeof(out)), 0);
	cmd48(ATA_CMD_READ_SECTORS_EXT, HIGH_LBA + 1, 1);
	ck_assert_uint_eq(status(), ATA_STATUS_OK | ATA_STATUS_DRQ);
	read_words((uint16_t *)back, 256);
	ck_assert_int_eq(memcmp(back, out + 512, 512), 0);
	/* A 28-bit command cannot reach it: the same low bytes name another sector. */
	cmd28(MASTER, ATA_CMD_READ_SECTORS, (uint32_t)HIGH_LBA & 0x0fffffff, 1, 0);
	read_words((uint16_t *)back, 256);
	ck_assert_int_ne(memcmp(back, out, 512), 0);
	/* READ NATIVE MAX EXT answers in the task file; HOB shows the high bytes. */
	cmd48(ATA_CMD_READ_NATIVE_MAX_EXT, 0, 0);
	ck_assert_uint_eq(status(), ATA_STATUS_OK);
	uint64_t max = inb(CMD + IDE_REG_LBAL) | (uint64_t)inb(CMD + IDE_REG_LBAM) << 8 |
		       (uint64_t)inb(CMD + IDE_REG_LBAH) << 16;
	outb(CTL, IDE_CTL_HOB);
	max |= (uint64_t)inb(CMD + IDE_REG_LBAL) << 24 | (uint64_t)inb(CMD + IDE_REG_LBAM) << 32 |
	       (uint64_t)inb(CMD + IDE_REG_LBAH) << 40;
	outb(CTL, 0);
	ck_assert_uint_eq(max, BIG_SECTORS - 1);
	/* Past the end: an ATA error, not a host access; the third HOB byte counts too. */
	cmd48(ATA_CMD_READ_SECTORS_EXT, BIG_SECTORS - 1, 2);
	ck_assert_uint_eq(status(), ATA_STATUS_FAIL);
	ck_assert_uint_eq(error(), ATA_ERROR_IDNF | ATA_ERROR_ABRT);
	cmd48(ATA_CMD_READ_SECTORS_EXT, UINT64_C(1) << 40, 1);
	ck_assert_uint_eq(status(), ATA_STATUS_FAIL);
	ck_assert_uint_eq(error(), ATA_ERROR_IDNF | ATA_ERROR_ABRT);
}
END_TEST

START_TEST(hob_registers_and_their_reset)
{
	outb(CMD + IDE_REG_NSECT, 0x12);
	outb(CMD + IDE_REG_NSECT, 0x34);
	ck_assert_uint_eq(inb(CMD + IDE_REG_NSECT), 0x34);
	outb(CTL, IDE_CTL_HOB);
	ck_assert_uint_eq(inb(CMD + IDE_REG_NSECT), 0x12);
	outb(CMD + IDE_REG_LBAL, 0x77); /* any task-file write clears HOB */
	ck_assert_uint_eq(inb(CMD + IDE_REG_NSECT), 0x34);
}
END_TEST

START_TEST(chs_addresses_are_translated)
{
	/* cylinder 1, head 2, sector 3 with 16 heads and 63 sectors: LBA (1 * 16 + 2) * 63 + 2 = 1136 */
	outb(CMD + IDE_REG_DEVICE, 0xa0 | 2);
	outb(CMD + IDE_REG_NSECT, 1);
	outb(CMD + IDE_REG_LBAL, 3);
	outb(CMD + IDE_REG_LBAM, 1);
	outb(CMD + IDE_REG_LBAH, 0);
	outb(CMD + IDE_REG_STATUS, ATA_CMD_READ_SECTORS);
	ck_assert_uint_eq(status(), ATA_STATUS_OK | ATA_STATUS_DRQ);
	uint8_t buf[512];
	read_words((uint16_t *)buf, 256);
	check_sector(buf, 0, 1136);
	/* INITIALIZE DEVICE PARAMETERS: 4 heads (device 3), 17 sectors; then C1 H2 S3 is (4 + 2) * 17 + 2. */
	outb(CMD + IDE_REG_DEVICE, 0xa0 | 3);
	outb(CMD + IDE_REG_NSECT, 17);
	outb(CMD + IDE_REG_STATUS, ATA_CMD_INIT_DEV_PARAMS);
	ck_assert_uint_eq(status(), ATA_STATUS_OK);
	outb(CMD + IDE_REG_DEVICE, 0xa0 | 2);
	outb(CMD + IDE_REG_NSECT, 1);
	outb(CMD + IDE_REG_LBAL, 3);
	outb(CMD + IDE_REG_LBAM, 1);
	outb(CMD + IDE_REG_STATUS, ATA_CMD_READ_SECTORS);
	read_words((uint16_t *)buf, 256);
	check_sector(buf, 0, 104);
	/* Sector 0 does not exist in CHS. */
	outb(CMD + IDE_REG_LBAL, 0);
	outb(CMD + IDE_REG_STATUS, ATA_CMD_READ_SECTORS);
	ck_assert_uint_eq(status(), ATA_STATUS_FAIL);
	ck_assert_uint_eq(error(), ATA_ERROR_IDNF | ATA_ERROR_ABRT);
}
END_TEST

START_TEST(commands_that_abort)
{
	static const uint8_t refused[] = {
		ATA_CMD_READ_DMA, ATA_CMD_WRITE_DMA, ATA_CMD_READ_DMA_EXT, ATA_CMD_READ_FPDMA_QUEUED,
		ATA_CMD_READ_LOG_DMA_EXT, ATA_CMD_NOP, 0x08 /* DEVICE RESET: ATAPI only */, 0xa1, 0x77,
	};
	for (unsigned i = 0; i < sizeof(refused); i++) {
		unsigned edges = irq_edges;
		cmd28(MASTER, refused[i], 0, 1, 0);
		ck_assert_uint_eq(irq_edges, edges + 1);
		ck_assert_uint_eq(status(), ATA_STATUS_FAIL);
		ck_assert_uint_eq(error() & ATA_ERROR_ABRT, ATA_ERROR_ABRT);
	}
	/* DMA transfer modes: nothing here could use them. PIO modes are fine. */
	cmd28(MASTER, ATA_CMD_SET_FEATURES, 0, 0x42, 0x03);
	ck_assert_uint_eq(status(), ATA_STATUS_FAIL);
	cmd28(MASTER, ATA_CMD_SET_FEATURES, 0, 0x0c, 0x03);
	ck_assert_uint_eq(status(), ATA_STATUS_OK);
	cmd28(MASTER, ATA_CMD_READ_SECTORS, SMALL_SECTORS - 1, 2, 0);
	ck_assert_uint_eq(status(), ATA_STATUS_FAIL);
	ck_assert_uint_eq(error(), ATA_ERROR_IDNF | ATA_ERROR_ABRT);
	cmd28(MASTER, ATA_CMD_FLUSH_CACHE, 0, 0, 0);
	ck_assert_uint_eq(status(), ATA_STATUS_OK);
	cmd48(ATA_CMD_FLUSH_CACHE_EXT, 0, 0);
	ck_assert_uint_eq(status(), ATA_STATUS_OK);
}
END_TEST

START_TEST(a_new_command_ends_a_data_phase)
{
	cmd28(MASTER, ATA_CMD_READ_SECTORS, 7, 2, 0);
	ck_assert_uint_eq(status() & ATA_STATUS_DRQ, ATA_STATUS_DRQ);
	(void)inw(CMD + IDE_REG_DATA);
	cmd28(MASTER, ATA_CMD_READ_SECTORS, 9, 1, 0);
	uint8_t buf[512];
	read_words((uint16_t *)buf, 256);
	check_sector(buf, 0, 9);
	ck_assert_uint_eq(status(), ATA_STATUS_OK);
	/* Bytes written to the data port outside a write go nowhere. */
	outw(CMD + IDE_REG_DATA, 0x1234);
	ck_assert_int_eq(disk_image_pread(disks[0], buf, 512, 0), 0);
	check_sector(buf, 0, 0);
}
END_TEST

START_TEST(nien_gates_the_line)
{
	outb(CTL, IDE_CTL_NIEN);
	cmd28(MASTER, ATA_CMD_READ_SECTORS, 1, 1, 0);
	ck_assert_uint_eq(irq_edges, 0);
	ck_assert_int_eq(irq_level, 0);
	/* Pending INTRQ shows as soon as nIEN drops, until the status is read. */
	outb(CTL, 0);
	ck_assert_int_eq(irq_level, 1);
	ck_assert_uint_eq(status(), ATA_STATUS_OK | ATA_STATUS_DRQ);
	ck_assert_int_eq(irq_level, 0);
}
END_TEST

START_TEST(software_reset)
{
	cmd28(MASTER, ATA_CMD_READ_SECTORS, 1, 4, 0);
	outb(CMD + IDE_REG_NSECT, 0x99);
	outb(CTL, IDE_CTL_SRST | IDE_CTL_NIEN);
	ck_assert_uint_eq(inb(CTL), ATA_STATUS_BSY);
	ck_assert_int_eq(irq_level, 0);
	outb(CTL, IDE_CTL_NIEN);
	ck_assert_uint_eq(status(), ATA_STATUS_OK);
	ck_assert_uint_eq(error(), ATA_DIAG_PASSED);
	ck_assert_uint_eq(inb(CMD + IDE_REG_NSECT), 1);
	ck_assert_uint_eq(inb(CMD + IDE_REG_LBAL), 1);
	ck_assert_uint_eq(inb(CMD + IDE_REG_LBAM), 0);
	ck_assert_uint_eq(inb(CMD + IDE_REG_LBAH), 0);
	ck_assert_uint_eq(inw(CMD + IDE_REG_DATA), 0xffff); /* the read was abandoned */
	/* EXECUTE DEVICE DIAGNOSTIC leaves the same signature, with an interrupt. */
	outb(CTL, 0);
	unsigned edges = irq_edges;
	cmd28(MASTER, ATA_CMD_EXEC_DIAGNOSTIC, 0x123456, 9, 0);
	ck_assert_uint_eq(irq_edges, edges + 1);
	ck_assert_uint_eq(error(), ATA_DIAG_PASSED);
	ck_assert_uint_eq(inb(CMD + IDE_REG_NSECT), 1);
	ck_assert_uint_eq(inb(CMD + IDE_REG_LBAL), 1);
}
END_TEST

START_TEST(master_and_slave)
{
	uint16_t m[256], s[256];
	identify(MASTER, m);
	identify(SLAVE, s);
	ck_assert_uint_eq(m[93], 0x400b);
	ck_assert_uint_eq(s[93], 0x4b00);
	ck_assert_int_ne(memcmp(m + 10, s + 10, 20), 0); /* serial numbers differ */
	uint8_t buf[512];
	cmd28(SLAVE, ATA_CMD_READ_SECTORS, 3, 1, 0);
	read_words((uint16_t *)buf, 256);
	check_sector(buf, 1, 3);
	cmd28(MASTER, ATA_CMD_READ_SECTORS, 3, 1, 0);
	read_words((uint16_t *)buf, 256);
	check_sector(buf, 0, 3);
	/* An error on one device is not the other's status. */
	cmd28(SLAVE, ATA_CMD_READ_DMA, 0, 1, 0);
	ck_assert_uint_eq(status(), ATA_STATUS_FAIL);
	outb(CMD + IDE_REG_DEVICE, MASTER);
	ck_assert_uint_eq(status(), ATA_STATUS_OK);
}
END_TEST

START_TEST(read_only_refuses_writes)
{
	cmd28(MASTER, ATA_CMD_WRITE_SECTORS, 0, 1, 0);
	ck_assert_uint_eq(status(), ATA_STATUS_FAIL);
	ck_assert_uint_eq(error(), ATA_ERROR_ABRT);
	cmd28(MASTER, ATA_CMD_READ_SECTORS, 0, 1, 0);
	uint8_t buf[512];
	read_words((uint16_t *)buf, 256);
	check_sector(buf, 0, 0);
}
END_TEST

START_TEST(odd_accesses)
{
	/* A byte access to the data port moves one byte; a word access to a byte register reads two. */
	cmd28(MASTER, ATA_CMD_READ_SECTORS, 2, 1, 0);
	uint8_t first = inb(CMD + IDE_REG_DATA);
	ck_assert_uint_eq(first, pattern(0, 2 * 512));
	uint8_t buf[511];
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = inb(CMD + IDE_REG_DATA);
	ck_assert_uint_eq(buf[510], pattern(0, 2 * 512 + 511));
	ck_assert_uint_eq(status(), ATA_STATUS_OK);
	outb(CMD + IDE_REG_NSECT, 0x21);
	outb(CMD + IDE_REG_LBAL, 0x43);
	ck_assert_uint_eq(inw(CMD + IDE_REG_NSECT), 0x4321);
	uint16_t wide = 0;
	bus_read(&io, CMD + IDE_REG_STATUS, &wide, 2); /* past the window's end reads all ones */
	ck_assert_uint_eq(wide >> 8, 0xff);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ide");
	TCase *tc = tcase_create("one disk");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, signature_after_power_on);
	tcase_add_test(tc, identify_is_a_parallel_pio_device);
	tcase_add_test(tc, read_sectors_one_interrupt_per_block);
	tcase_add_test(tc, multiple_mode_blocks);
	tcase_add_test(tc, hob_registers_and_their_reset);
	tcase_add_test(tc, chs_addresses_are_translated);
	tcase_add_test(tc, commands_that_abort);
	tcase_add_test(tc, a_new_command_ends_a_data_phase);
	tcase_add_test(tc, nien_gates_the_line);
	tcase_add_test(tc, software_reset);
	tcase_add_test(tc, odd_accesses);
	suite_add_tcase(s, tc);
	TCase *big = tcase_create("big disk");
	tcase_add_checked_fixture(big, setup_big, teardown);
	tcase_add_test(big, lba48_uses_the_high_bytes);
	suite_add_tcase(s, big);
	TCase *two = tcase_create("two disks");
	tcase_add_checked_fixture(two, setup_two, teardown);
	tcase_add_test(two, master_and_slave);
	suite_add_tcase(s, two);
	TCase *ro = tcase_create("read-only");
	tcase_add_checked_fixture(ro, setup_ro, teardown);
	tcase_add_test(ro, read_only_refuses_writes);
	suite_add_tcase(s, ro);
	return check_run(s);
}
