/* AHCI HBA + ATA disk, driven exactly as Linux's ahci/libata drive it: PCI config through ports 0xcf8/0xcfc
 * on a real struct bus, registers through the PCI MMIO window, command list, received-FIS area, command
 * tables and PRDTs in a malloc'd buffer wrapped as guest RAM, real raw images in a temporary directory.
 * Checks data, FISes, PxIS/PxTFD/PxCI/PxSACT, the recorded INTx level, and the errors a guest can cause. */
#include "check_run.h"
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/ahci.h"
#include "devices/bus.h"
#include "devices/pci.h"
#include "common/guest_mem.h"
#include "common/layout.h"

#define RAM_SIZE     (8 * MiB)
#define DISK_SECTORS 2048u
#define NDISKS       2
#define RO_PORT      1            /* the second disk is read-only in the ro fixture */

/* Guest RAM layout of the test driver. */
#define CLB(p)       (0x10000u + (p) * 0x1000u)
#define FB(p)        (0x10400u + (p) * 0x1000u)
#define CTBA(p, s)   (0x40000u + ((p) * 32u + (s)) * 0x400u)
#define DATA         0x100000u   /* data buffers from 1 MiB */
#define PORT_IE_ALL  0x7dc000ffu /* what Linux enables (plus DPS) */

struct prd {
	uint64_t addr;
	uint32_t len;
};

static struct bus io, mmio;
static struct pci_host pci;
static struct guest_mem mem;
static uint8_t *ram;
static struct ahci *hba;
static struct disk_image *disks[NDISKS];
static char dir[] = "/tmp/lbvm-ahci-XXXXXX";
static char paths[NDISKS][128];
static int irq_level;
static unsigned irq_gsi;
static unsigned ahci_slot;
static uint64_t abar;

static void record_irq(void *opaque, unsigned gsi, int level)
{
	(void)opaque;
	irq_gsi = gsi;
	irq_level = level;
}

static uint8_t pattern(unsigned disk, uint64_t offset)
{
	return (uint8_t)(offset * 31 + offset / 512 + disk * 101);
}

static void make_image(unsigned i)
{
	snprintf(paths[i], sizeof(paths[i]), "%s/disk%u.img", dir, i);
	FILE *f = fopen(paths[i], "wb");
	ck_assert_ptr_nonnull(f);
	for (uint64_t o = 0; o < DISK_SECTORS * 512ull; o++)
		fputc(pattern(i, o), f);
	ck_assert_int_eq(fclose(f), 0);
}

/* ---- PCI config through the ports, as pci=conf1 does it ---- */

static uint32_t cfg_read(unsigned slot, unsigned reg)
{
	uint32_t a = 0x80000000u | slot << 11 | reg, v = 0;
	bus_write(&io, 0xcf8, &a, 4);
	bus_read(&io, 0xcfc, &v, 4);
	return v;
}

static void cfg_write16(unsigned slot, unsigned reg, uint16_t v)
{
	uint32_t a = 0x80000000u | slot << 11 | (reg & 0xfc);
	bus_write(&io, 0xcf8, &a, 4);
	bus_write(&io, 0xcfc + (reg & 3), &v, 2);
}

static void cfg_write32(unsigned slot, unsigned reg, uint32_t v)
{
	uint32_t a = 0x80000000u | slot << 11 | reg;
	bus_write(&io, 0xcf8, &a, 4);
	bus_write(&io, 0xcfc, &v, 4);
}

static uint32_t rd(uint32_t off)
{
	uint32_t v = 0;
	ck_assert(bus_read(&mmio, abar + off, &v, 4));
	return v;
}

static void wr(uint32_t off, uint32_t v)
{
	ck_assert(bus_write(&mmio, abar + off, &v, 4));
}

static uint32_t prd_(unsigned p, unsigned reg) { return rd(AHCI_PORT_BASE + p * AHCI_PORT_SIZE + reg); }
static void pwr(unsigned p, unsigned reg, uint32_t v) { wr(AHCI_PORT_BASE + p * AHCI_PORT_SIZE + reg, v); }

/* What ahci_port_start + ahci_start_engine do. */
static void port_start(unsigned p)
{
	pwr(p, AHCI_PxCLB, CLB(p));
	pwr(p, AHCI_PxCLBU, 0);
	pwr(p, AHCI_PxFB, FB(p));
	pwr(p, AHCI_PxFBU, 0);
	pwr(p, AHCI_PxSERR, ~0u);
	pwr(p, AHCI_PxIS, ~0u);
	pwr(p, AHCI_PxIE, PORT_IE_ALL);
	pwr(p, AHCI_PxCMD, AHCI_PxCMD_FRE);
	pwr(p, AHCI_PxCMD, AHCI_PxCMD_FRE | AHCI_PxCMD_ST);
}

static void port_stop(unsigned p)
{
	pwr(p, AHCI_PxCMD, AHCI_PxCMD_FRE);
	ck_assert_uint_eq(prd_(p, AHCI_PxCMD) & AHCI_PxCMD_CR, 0);
}

static void hba_init(void)
{
	wr(AHCI_GHC, AHCI_GHC_AE);
	wr(AHCI_GHC, AHCI_GHC_AE | AHCI_GHC_HR);
	ck_assert_uint_eq(rd(AHCI_GHC) & AHCI_GHC_HR, 0);
	wr(AHCI_GHC, AHCI_GHC_AE | AHCI_GHC_IE);
	for (unsigned p = 0; p < NDISKS; p++)
		port_start(p);
}

static void fixture(bool second_ro)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ram = calloc(1, RAM_SIZE);
	ck_assert_ptr_nonnull(ram);
	guest_mem_wrap(&mem, ram, RAM_SIZE);
	bus_init(&io);
	bus_init(&mmio);
	struct irq_line line = { .set = record_irq };
	ck_assert_int_eq(pci_host_init(&pci, &io, &mmio, line), 0);
	for (unsigned i = 0; i < NDISKS; i++) {
		make_image(i);
		ck_assert_int_eq(disk_image_open(paths[i], second_ro && i == RO_PORT, &disks[i], NULL), 0);
	}
	ck_assert_int_eq(ahci_create(&pci, &mem, disks, NDISKS, &hba), 0);
	irq_level = 0;
	/* Find the HBA by class, as the PCI core does. */
	ahci_slot = 0;
	for (unsigned s = 0; s < PCI_SLOTS; s++)
		if ((cfg_read(s, 8) >> 8) == AHCI_PCI_CLASS)
			ahci_slot = s;
	ck_assert_uint_ne(ahci_slot, 0);
	abar = cfg_read(ahci_slot, 0x10 + 4 * AHCI_BAR) & ~0xfu;
	/* pci_set_master(), as Linux's ahci_init_one does before it touches the ports */
	cfg_write16(ahci_slot, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	hba_init();
}

static void setup(void) { fixture(false); }
static void setup_ro(void) { fixture(true); }

static void teardown(void)
{
	ahci_destroy(hba);
	for (unsigned i = 0; i < NDISKS; i++)
		disk_image_close(disks[i]);
	pci_host_destroy(&pci);
	bus_destroy(&io);
	bus_destroy(&mmio);
	free(ram);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir, "/tmp/lbvm-ahci-XXXXXX");
}

/* ---- building commands in guest RAM ---- */

static void h2d(uint8_t *fis, uint8_t cmd, uint64_t lba, uint16_t count, uint16_t features, uint8_t device)
{
	memset(fis, 0, 20);
	fis[0] = FIS_TYPE_H2D;
	fis[1] = FIS_H2D_COMMAND;
	fis[2] = cmd;
	fis[3] = (uint8_t)features;
	fis[4] = (uint8_t)lba;
	fis[5] = (uint8_t)(lba >> 8);
	fis[6] = (uint8_t)(lba >> 16);
	fis[7] = device;
	fis[8] = (uint8_t)(lba >> 24);
	fis[9] = (uint8_t)(lba >> 32);
	fis[10] = (uint8_t)(lba >> 40);
	fis[11] = (uint8_t)(features >> 8);
	fis[12] = (uint8_t)count;
	fis[13] = (uint8_t)(count >> 8);
}

static void put32(uint64_t gpa, uint32_t v) { memcpy(ram + gpa, &v, 4); }
static uint32_t get32(uint64_t gpa) { uint32_t v; memcpy(&v, ram + gpa, 4); return v; }

/* Write the command header and table for `slot` (FIS of cfl dwords, PRDT), without ringing the bell. */
static void prepare(unsigned p, unsigned slot, const uint8_t *fis, unsigned cfl, const struct prd *prds,
		    unsigned nprd, bool write, uint64_t ctba)
{
	uint64_t hdr = CLB(p) + slot * AHCI_CMD_HDR_SIZE;
	put32(hdr, cfl | (write ? AHCI_HDR_WRITE : 0) | nprd << AHCI_HDR_PRDTL_SHIFT);
	put32(hdr + 4, 0xdeadbeef); /* PRDBC: the HBA must overwrite it */
	put32(hdr + 8, (uint32_t)ctba);
	put32(hdr + 12, (uint32_t)(ctba >> 32));
	if (ctba >= RAM_SIZE || ctba + 0x80 + nprd * 16 > RAM_SIZE)
		return; /* a table outside RAM: nothing to write */
	memcpy(ram + ctba, fis, 20);
	for (unsigned i = 0; i < nprd; i++) {
		uint64_t e = ctba + AHCI_CT_PRDT + i * AHCI_PRD_SIZE;
		put32(e, (uint32_t)prds[i].addr);
		put32(e + 4, (uint32_t)(prds[i].addr >> 32));
		put32(e + 8, 0);
		put32(e + 12, (prds[i].len - 1) & AHCI_PRD_DBC_MASK);
	}
}

static void issue(unsigned p, unsigned slot, const uint8_t *fis, const struct prd *prds, unsigned nprd, bool write)
{
	prepare(p, slot, fis, 5, prds, nprd, write, CTBA(p, slot));
	pwr(p, AHCI_PxCI, 1u << slot);
}

static uint32_t prdbc(unsigned p, unsigned slot)
{
	return get32(CLB(p) + slot * AHCI_CMD_HDR_SIZE + 4);
}

static const uint8_t *rfis(unsigned p, unsigned off)
{
	return ram + FB(p) + off;
}

/* A non-queued command that must succeed with a D2H FIS and an interrupt, which the handler then acks. */
static void expect_ok(unsigned p, unsigned slot)
{
	ck_assert_uint_eq(prd_(p, AHCI_PxCI) & (1u << slot), 0);
	ck_assert_uint_eq(prd_(p, AHCI_PxTFD), ATA_STATUS_OK);
	ck_assert_uint_eq(prd_(p, AHCI_PxIS) & AHCI_PxIS_TFES, 0);
	ck_assert_uint_eq(prd_(p, AHCI_PxIS) & AHCI_PxIS_DHRS, AHCI_PxIS_DHRS);
	ck_assert_uint_eq(rfis(p, AHCI_RFIS_RFIS)[0], FIS_TYPE_D2H);
	ck_assert_uint_eq(rfis(p, AHCI_RFIS_RFIS)[2], ATA_STATUS_OK);
	ck_assert_int_eq(irq_level, 1);
	ck_assert_uint_eq(irq_gsi, LAYOUT_IRQ_PCI_FIRST + ahci_slot);
	ck_assert_uint_eq(rd(AHCI_IS) & (1u << p), 1u << p);
	pwr(p, AHCI_PxIS, prd_(p, AHCI_PxIS));
	wr(AHCI_IS, 1u << p);
	ck_assert_int_eq(irq_level, 0);
}

/* A command that must fail with an ATA error: TFES, ERR status, the error register, the port halted. */
static void expect_error(unsigned p, unsigned slot, uint8_t error, bool ncq)
{
	uint32_t is = prd_(p, AHCI_PxIS);
	ck_assert_uint_eq(is & AHCI_PxIS_TFES, AHCI_PxIS_TFES);
	uint32_t tfd = prd_(p, AHCI_PxTFD);
	ck_assert_uint_eq(tfd & ATA_STATUS_ERR, ATA_STATUS_ERR);
	ck_assert_uint_eq(tfd & ATA_STATUS_BSY, 0);
	ck_assert_uint_eq(tfd >> 8, error);
	if (ncq) {
		ck_assert_uint_eq(prd_(p, AHCI_PxCI) & (1u << slot), 0);
		ck_assert_uint_eq(rfis(p, AHCI_RFIS_SDBFIS)[0], FIS_TYPE_SDB);
		ck_assert_uint_eq(rfis(p, AHCI_RFIS_SDBFIS)[2] & ATA_STATUS_ERR, ATA_STATUS_ERR);
		ck_assert_uint_eq(rfis(p, AHCI_RFIS_SDBFIS)[3], error);
	} else {
		ck_assert_uint_eq(prd_(p, AHCI_PxCI) & (1u << slot), 1u << slot);
		ck_assert_uint_eq(rfis(p, AHCI_RFIS_RFIS)[0], FIS_TYPE_D2H);
		ck_assert_uint_eq(rfis(p, AHCI_RFIS_RFIS)[2] & ATA_STATUS_ERR, ATA_STATUS_ERR);
		ck_assert_uint_eq(rfis(p, AHCI_RFIS_RFIS)[3], error);
	}
	ck_assert_int_eq(irq_level, 1);
}

/* Linux's error handler: stop the engine (clears CI/SACT), clear errors, start again. */
static void recover(unsigned p)
{
	port_stop(p);
	ck_assert_uint_eq(prd_(p, AHCI_PxCI), 0);
	ck_assert_uint_eq(prd_(p, AHCI_PxSACT), 0);
	pwr(p, AHCI_PxSERR, ~0u);
	pwr(p, AHCI_PxIS, ~0u);
	wr(AHCI_IS, ~0u);
	ck_assert_int_eq(irq_level, 0);
	pwr(p, AHCI_PxCMD, AHCI_PxCMD_FRE | AHCI_PxCMD_ST);
}

static void read_file(unsigned disk, uint64_t offset, void *buf, size_t len)
{
	int fd = open(paths[disk], O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, len, (off_t)offset), (ssize_t)len);
	close(fd);
}

static void file_sha256(unsigned disk, uint8_t out[32])
{
	size_t len = DISK_SECTORS * 512u;
	uint8_t *buf = malloc(len);
	read_file(disk, 0, buf, len);
	unsigned n = 0;
	ck_assert_int_eq(EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL), 1);
	free(buf);
}

static void check_pattern(unsigned disk, const uint8_t *buf, uint64_t offset, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != pattern(disk, offset + i))
			ck_abort_msg("disk %u byte %llu: got %02x want %02x", disk, (unsigned long long)(offset + i),
				     buf[i], pattern(disk, offset + i));
}

static uint16_t id_word(const uint8_t *id, unsigned w)
{
	return (uint16_t)(id[2 * w] | id[2 * w + 1] << 8);
}

static void identify(unsigned p, uint8_t *out)
{
	uint8_t fis[20];
	struct prd prd = { DATA, 512 };
	memset(ram + DATA, 0xcc, 512);
	h2d(fis, ATA_CMD_IDENTIFY, 0, 0, 0, 0);
	issue(p, 0, fis, &prd, 1, false);
	expect_ok(p, 0);
	memcpy(out, ram + DATA, 512);
}

/* ---- tests ---- */

START_TEST(discovery_and_link)
{
	ck_assert_uint_eq(cfg_read(ahci_slot, 0), (uint32_t)AHCI_PCI_DEVICE << 16 | AHCI_PCI_VENDOR);
	ck_assert_uint_eq(cfg_read(ahci_slot, 0x3c) >> 8 & 0xff, PCI_INTA);
	ck_assert_uint_eq(cfg_read(ahci_slot, 0x3c) & 0xff, LAYOUT_IRQ_PCI_FIRST + ahci_slot);
	ck_assert_uint_ge(abar, LAYOUT_PCI_MMIO);
	uint32_t cap = rd(AHCI_CAP);
	ck_assert_uint_eq(cap & 0x1f, NDISKS - 1);
	ck_assert_uint_eq(cap >> 8 & 0x1f, 31);
	ck_assert(cap & AHCI_CAP_SNCQ);
	ck_assert(cap & AHCI_CAP_S64A);
	ck_assert(cap & AHCI_CAP_SAM);
	ck_assert_uint_eq(rd(AHCI_PI), (1u << NDISKS) - 1);
	ck_assert_uint_eq(rd(AHCI_VS), 0x00010300u);
	ck_assert_uint_eq(rd(AHCI_GHC), AHCI_GHC_AE | AHCI_GHC_IE);
	for (unsigned p = 0; p < NDISKS; p++) {
		ck_assert_uint_eq(prd_(p, AHCI_PxSSTS), 0x133);
		ck_assert_uint_eq(prd_(p, AHCI_PxSIG), AHCI_SIG_ATA);
		ck_assert_uint_eq(prd_(p, AHCI_PxTFD) & 0xff, ATA_STATUS_OK);
		ck_assert_uint_eq(prd_(p, AHCI_PxCMD) & (AHCI_PxCMD_CR | AHCI_PxCMD_FR | AHCI_PxCMD_SUD | AHCI_PxCMD_POD),
				  AHCI_PxCMD_CR | AHCI_PxCMD_FR | AHCI_PxCMD_SUD | AHCI_PxCMD_POD);
	}
	/* A port that is not implemented reads zero; byte reads see the dword's bytes. */
	ck_assert_uint_eq(prd_(NDISKS, AHCI_PxSSTS), 0);
	uint8_t b = 0;
	ck_assert(bus_read(&mmio, abar + AHCI_VS + 2, &b, 1));
	ck_assert_uint_eq(b, 1);
	ck_assert_int_eq(irq_level, 0);
}
END_TEST

START_TEST(identify_matches_the_image)
{
	uint8_t id[512];
	identify(0, id);
	/* The PIO Setup FIS carries the final status in E_Status, where libata reads it. */
	const uint8_t *ps = rfis(0, AHCI_RFIS_PSFIS);
	ck_assert_uint_eq(ps[0], FIS_TYPE_PIO);
	ck_assert_uint_eq(ps[1] & FIS_PIO_TO_HOST, FIS_PIO_TO_HOST);
	ck_assert_uint_eq(ps[15], ATA_STATUS_OK);
	ck_assert_uint_eq(prdbc(0, 0), 512);

	uint64_t lba48 = 0;
	for (unsigned i = 0; i < 4; i++)
		lba48 |= (uint64_t)id_word(id, 100 + i) << (16 * i);
	ck_assert_uint_eq(lba48, DISK_SECTORS);
	ck_assert_uint_eq(id_word(id, 60) | (uint32_t)id_word(id, 61) << 16, DISK_SECTORS);
	ck_assert(id_word(id, 83) & (1u << 10));  /* LBA48 */
	ck_assert(id_word(id, 86) & (1u << 10));
	ck_assert(id_word(id, 83) & (1u << 13));  /* FLUSH CACHE EXT */
	ck_assert(id_word(id, 76) & (1u << 8));   /* NCQ */
	ck_assert_uint_eq(id_word(id, 75) & 0x1f, 31);
	ck_assert(id_word(id, 49) & (1u << 9));   /* LBA */
	ck_assert(id_word(id, 49) & (1u << 8));   /* DMA */
	/* Model and serial: ATA strings, first character in the high byte. */
	char model[41];
	for (unsigned i = 0; i < 20; i++) {
		model[2 * i] = (char)(id_word(id, 27 + i) >> 8);
		model[2 * i + 1] = (char)id_word(id, 27 + i);
	}
	model[40] = 0;
	ck_assert_str_eq(model, "lbvm raw disk                           ");
	ck_assert_uint_eq(id_word(id, 10) >> 8, 'L');
	uint8_t id1[512];
	identify(1, id1);
	ck_assert_mem_ne(id + 20, id1 + 20, 20); /* serials differ */
	/* Integrity word: signature A5h, bytes sum to zero. */
	ck_assert_uint_eq(id[510], 0xa5);
	uint8_t sum = 0;
	for (unsigned i = 0; i < 512; i++)
		sum = (uint8_t)(sum + id[i]);
	ck_assert_uint_eq(sum, 0);
}
END_TEST

START_TEST(dma_ext_round_trip)
{
	uint8_t fis[20];
	/* Write 3 sectors at LBA 100 from two uneven PRDs. */
	for (unsigned i = 0; i < 1536; i++)
		ram[DATA + (i < 1000 ? i : 0x10000 + i - 1000)] = (uint8_t)(i ^ 0x5a);
	struct prd w[2] = { { DATA, 1000 }, { DATA + 0x10000, 536 } };
	h2d(fis, ATA_CMD_WRITE_DMA_EXT, 100, 3, 0, ATA_DEVICE_LBA);
	issue(0, 1, fis, w, 2, true);
	expect_ok(0, 1);
	ck_assert_uint_eq(prdbc(0, 1), 1536);
	uint8_t file[1536 + 512];
	read_file(0, 99 * 512, file, sizeof(file));
	check_pattern(0, file, 99 * 512, 512); /* neighbours untouched */
	for (unsigned i = 0; i < 1536; i++)
		ck_assert_uint_eq(file[512 + i], (uint8_t)(i ^ 0x5a));

	/* Read 4 sectors at LBA 99 back into a third buffer, one PRD per sector. */
	struct prd r[4];
	for (unsigned i = 0; i < 4; i++)
		r[i] = (struct prd){ DATA + 0x20000 + i * 0x1000, 512 };
	h2d(fis, ATA_CMD_READ_DMA_EXT, 99, 4, 0, ATA_DEVICE_LBA);
	issue(0, 2, fis, r, 4, false);
	expect_ok(0, 2);
	ck_assert_uint_eq(prdbc(0, 2), 2048);
	check_pattern(0, ram + DATA + 0x20000, 99 * 512, 512);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_mem_eq(ram + DATA + 0x21000 + i * 0x1000, file + 512 + i * 512, 512);

	/* The last sector of the disk is reachable, with a PRDT larger than needed. */
	struct prd big = { DATA, 4096 };
	h2d(fis, ATA_CMD_READ_DMA_EXT, DISK_SECTORS - 1, 1, 0, ATA_DEVICE_LBA);
	issue(0, 3, fis, &big, 1, false);
	expect_ok(0, 3);
	check_pattern(0, ram + DATA, (DISK_SECTORS - 1) * 512ull, 512);
}
END_TEST

START_TEST(lba28_and_pio_commands)
{
	uint8_t fis[20];
	struct prd prd = { DATA, 2 * 512 };
	h2d(fis, ATA_CMD_READ_DMA, 0x123, 2, 0, ATA_DEVICE_LBA); /* LBA 27:24 in the device register: 0 */
	issue(1, 0, fis, &prd, 1, false);
	expect_ok(1, 0);
	check_pattern(1, ram + DATA, 0x123 * 512, 1024);

	h2d(fis, ATA_CMD_READ_SECTORS_EXT, 7, 1, 0, ATA_DEVICE_LBA);
	issue(1, 4, fis, &prd, 1, false);
	ck_assert_uint_eq(rfis(1, AHCI_RFIS_PSFIS)[15], ATA_STATUS_OK);
	expect_ok(1, 4);
	check_pattern(1, ram + DATA, 7 * 512, 512);

	/* PIO write, then read it back through DMA. */
	memset(ram + DATA, 0xab, 512);
	h2d(fis, ATA_CMD_WRITE_SECTORS, 9, 1, 0, ATA_DEVICE_LBA);
	issue(1, 5, fis, &prd, 1, true);
	expect_ok(1, 5);
	uint8_t sector[512];
	read_file(1, 9 * 512, sector, 512);
	for (unsigned i = 0; i < 512; i++)
		ck_assert_uint_eq(sector[i], 0xab);

	/* READ MULTIPLE needs SET MULTIPLE MODE first. */
	h2d(fis, ATA_CMD_READ_MULTIPLE, 0, 1, 0, ATA_DEVICE_LBA);
	issue(1, 6, fis, &prd, 1, false);
	expect_error(1, 6, ATA_ERROR_ABRT, false);
	recover(1);
	h2d(fis, ATA_CMD_SET_MULTIPLE, 0, 16, 0, 0);
	issue(1, 6, fis, NULL, 0, false);
	expect_ok(1, 6);
	h2d(fis, ATA_CMD_READ_MULTIPLE, 0, 1, 0, ATA_DEVICE_LBA);
	issue(1, 6, fis, &prd, 1, false);
	expect_ok(1, 6);
	check_pattern(1, ram + DATA, 0, 512);
	uint8_t id[512];
	identify(1, id);
	ck_assert_uint_eq(id_word(id, 59), 0x100 | 16);
}
END_TEST

START_TEST(ncq_batch_completes_through_sdb)
{
	uint8_t fis[20];
	/* Four queued commands rung with one doorbell, as libata does under load: tags = slots. */
	for (unsigned t = 0; t < 4; t++) {
		struct prd prd = { DATA + t * 0x10000, 8 * 512 };
		bool write = t & 1;
		if (write)
			memset(ram + prd.addr, 0x30 + t, prd.len);
		h2d(fis, write ? ATA_CMD_WRITE_FPDMA_QUEUED : ATA_CMD_READ_FPDMA_QUEUED, 200 + 16 * t,
		    (uint16_t)(t << 3), 8, ATA_DEVICE_LBA);
		prepare(0, t, fis, 5, &prd, 1, write, CTBA(0, t));
	}
	pwr(0, AHCI_PxSACT, 0xf);
	pwr(0, AHCI_PxCI, 0xf);
	ck_assert_uint_eq(prd_(0, AHCI_PxCI), 0);
	ck_assert_uint_eq(prd_(0, AHCI_PxSACT), 0);
	const uint8_t *sdb = rfis(0, AHCI_RFIS_SDBFIS);
	ck_assert_uint_eq(sdb[0], FIS_TYPE_SDB);
	ck_assert_uint_eq(sdb[1] & FIS_INTERRUPT, FIS_INTERRUPT);
	ck_assert_uint_eq(sdb[2] & ATA_STATUS_ERR, 0);
	ck_assert_uint_eq(sdb[4], 0xf);
	ck_assert_uint_eq(prd_(0, AHCI_PxIS) & (AHCI_PxIS_SDBS | AHCI_PxIS_TFES), AHCI_PxIS_SDBS);
	ck_assert_int_eq(irq_level, 1);
	for (unsigned t = 0; t < 4; t += 2)
		check_pattern(0, ram + DATA + t * 0x10000, (200 + 16 * t) * 512ull, 8 * 512);
	uint8_t buf[8 * 512];
	read_file(0, (200 + 16) * 512, buf, sizeof(buf));
	for (unsigned i = 0; i < sizeof(buf); i++)
		ck_assert_uint_eq(buf[i], 0x31);
	/* Acknowledge: the line drops. */
	pwr(0, AHCI_PxIS, AHCI_PxIS_SDBS);
	wr(AHCI_IS, 1);
	ck_assert_int_eq(irq_level, 0);

	/* An FPDMA write with FUA completes too (and is synced). */
	struct prd prd = { DATA, 512 };
	h2d(fis, ATA_CMD_WRITE_FPDMA_QUEUED, 5, 7 << 3, 1, ATA_DEVICE_LBA | ATA_DEVICE_FUA);
	prepare(0, 7, fis, 5, &prd, 1, true, CTBA(0, 7));
	pwr(0, AHCI_PxSACT, 1u << 7);
	pwr(0, AHCI_PxCI, 1u << 7);
	ck_assert_uint_eq(prd_(0, AHCI_PxSACT), 0);
	ck_assert_uint_eq(rfis(0, AHCI_RFIS_SDBFIS)[4], 0x80);
}
END_TEST

START_TEST(flush_set_features_and_logs)
{
	uint8_t fis[20], id[512];
	h2d(fis, ATA_CMD_FLUSH_CACHE_EXT, 0, 0, 0, 0);
	issue(0, 0, fis, NULL, 0, false);
	expect_ok(0, 0);
	/* libata's SET FEATURES - XFER MODE (UDMA/100), then the second IDENTIFY sees it. */
	h2d(fis, ATA_CMD_SET_FEATURES, 0, 0x45, 0x03, 0);
	issue(0, 0, fis, NULL, 0, false);
	expect_ok(0, 0);
	identify(0, id);
	ck_assert_uint_eq(id_word(id, 88), 0x007f | (1u << (8 + 5)));
	/* Write cache off is reported; an unknown subcommand aborts. */
	h2d(fis, ATA_CMD_SET_FEATURES, 0, 0, 0x82, 0);
	issue(0, 0, fis, NULL, 0, false);
	expect_ok(0, 0);
	identify(0, id);
	ck_assert_uint_eq(id_word(id, 85) & (1u << 5), 0);
	h2d(fis, ATA_CMD_SET_FEATURES, 0, 0, 0x10, 0);
	issue(0, 0, fis, NULL, 0, false);
	expect_error(0, 0, ATA_ERROR_ABRT, false);
	recover(0);

	/* READ LOG EXT: the directory lists log 10h; an unknown log aborts. */
	struct prd prd = { DATA, 512 };
	h2d(fis, ATA_CMD_READ_LOG_EXT, ATA_LOG_DIRECTORY, 1, 0, 0);
	issue(0, 1, fis, &prd, 1, false);
	expect_ok(0, 1);
	ck_assert_uint_eq(ram[DATA], 1);
	ck_assert_uint_eq(ram[DATA + 2 * 0x10], 1);
	ck_assert_uint_eq(ram[DATA + 2 * 0x30], 0);
	h2d(fis, ATA_CMD_READ_LOG_DMA_EXT, 0x30, 1, 0, 0);
	issue(0, 1, fis, &prd, 1, false);
	expect_error(0, 1, ATA_ERROR_ABRT, false);
	recover(0);
	h2d(fis, ATA_CMD_READ_LOG_DMA_EXT, ATA_LOG_NCQ_ERROR, 1, 0, 0);
	issue(0, 1, fis, &prd, 1, false);
	expect_ok(0, 1);
	ck_assert_uint_eq(ram[DATA] & 0x80, 0x80); /* NQ: no queued error */

	/* Power and capacity commands Linux may issue. */
	h2d(fis, ATA_CMD_CHECK_POWER_MODE, 0, 0, 0, 0);
	issue(0, 2, fis, NULL, 0, false);
	expect_ok(0, 2);
	ck_assert_uint_eq(rfis(0, AHCI_RFIS_RFIS)[12], 0xff);
	h2d(fis, ATA_CMD_READ_NATIVE_MAX_EXT, 0, 0, 0, ATA_DEVICE_LBA);
	issue(0, 2, fis, NULL, 0, false);
	expect_ok(0, 2);
	const uint8_t *d2h = rfis(0, AHCI_RFIS_RFIS);
	ck_assert_uint_eq(d2h[4] | d2h[5] << 8 | d2h[6] << 16, DISK_SECTORS - 1);
}
END_TEST

START_TEST(lba_past_the_end_is_an_ata_error)
{
	uint8_t fis[20];
	struct prd prd = { DATA, 4 * 512 };
	h2d(fis, ATA_CMD_READ_DMA_EXT, DISK_SECTORS - 1, 2, 0, ATA_DEVICE_LBA);
	issue(0, 3, fis, &prd, 1, false);
	expect_error(0, 3, ATA_ERROR_IDNF | ATA_ERROR_ABRT, false);
	ck_assert_uint_eq(prdbc(0, 3), 0xdeadbeef); /* nothing was transferred */
	/* The port is halted: a new doorbell waits until software restarts the engine. */
	h2d(fis, ATA_CMD_READ_DMA_EXT, 0, 1, 0, ATA_DEVICE_LBA);
	issue(0, 4, fis, &prd, 1, false);
	ck_assert_uint_eq(prd_(0, AHCI_PxCI), (1u << 3) | (1u << 4));
	recover(0);
	issue(0, 4, fis, &prd, 1, false);
	expect_ok(0, 4);
	/* A 48-bit LBA far beyond, and the maximum count from the last sector. */
	h2d(fis, ATA_CMD_WRITE_DMA_EXT, UINT64_C(0xffffffffffff), 1, 0, ATA_DEVICE_LBA);
	issue(0, 5, fis, &prd, 1, true);
	expect_error(0, 5, ATA_ERROR_IDNF | ATA_ERROR_ABRT, false);
	recover(0);
	h2d(fis, ATA_CMD_WRITE_DMA_EXT, DISK_SECTORS - 1, 0 /* = 65536 */, 0, ATA_DEVICE_LBA);
	issue(0, 5, fis, &prd, 1, true);
	expect_error(0, 5, ATA_ERROR_IDNF | ATA_ERROR_ABRT, false);
	uint8_t last[512];
	read_file(0, (DISK_SECTORS - 1) * 512ull, last, 512);
	check_pattern(0, last, (DISK_SECTORS - 1) * 512ull, 512);
}
END_TEST

/* Each way a guest can point the HBA outside its RAM; all end in HBFS + an aborted command. */
enum fault { PRD_OUTSIDE, PRD_STRADDLES_END, PRD_IN_HOLE, TABLE_OUTSIDE, TABLE_NEAR_TOP, PRDT_RUNS_OFF,
	     CLB_OUTSIDE, FAULTS };

START_TEST(guest_memory_faults_are_ata_errors)
{
	uint8_t fis[20];
	uint8_t before[32], after[32];
	file_sha256(0, before);
	h2d(fis, _i == PRD_IN_HOLE ? ATA_CMD_READ_DMA_EXT : ATA_CMD_WRITE_DMA_EXT, 10, 8, 0, ATA_DEVICE_LBA);
	struct prd prd = { DATA, 8 * 512 };
	uint64_t ctba = CTBA(0, 2);
	unsigned nprd = 1;
	switch (_i) {
	case PRD_OUTSIDE: prd.addr = RAM_SIZE + 0x1000; break;
	case PRD_STRADDLES_END: prd.addr = RAM_SIZE - 512; break;
	case PRD_IN_HOLE: prd.addr = LAYOUT_PCI_MMIO; break;
	case TABLE_OUTSIDE: ctba = 0x7fff0000ull << 4; break;
	case TABLE_NEAR_TOP: ctba = UINT64_MAX & ~0x7full; break;
	case PRDT_RUNS_OFF:
		ctba = RAM_SIZE - 0x100; /* table starts in RAM, its 65535 entries do not fit */
		nprd = 65535;
		break;
	case CLB_OUTSIDE: break;
	}
	if (_i == PRDT_RUNS_OFF) {
		memcpy(ram + ctba, fis, 20);
		uint64_t hdr = CLB(0) + 2 * AHCI_CMD_HDR_SIZE;
		put32(hdr, 5 | AHCI_HDR_WRITE | nprd << AHCI_HDR_PRDTL_SHIFT);
		put32(hdr + 8, (uint32_t)ctba);
		put32(hdr + 12, 0);
	} else {
		prepare(0, 2, fis, 5, &prd, nprd, true, ctba);
	}
	if (_i == CLB_OUTSIDE) {
		port_stop(0);
		pwr(0, AHCI_PxCLB, 0xfff00000u);
		pwr(0, AHCI_PxCLBU, 0x7);
		pwr(0, AHCI_PxCMD, AHCI_PxCMD_FRE | AHCI_PxCMD_ST);
	}
	pwr(0, AHCI_PxCI, 1u << 2);
	ck_assert_uint_eq(prd_(0, AHCI_PxIS) & AHCI_PxIS_HBFS, AHCI_PxIS_HBFS);
	expect_error(0, 2, ATA_ERROR_ABRT, false);
	file_sha256(0, after);
	ck_assert_mem_eq(before, after, 32);
	/* The port recovers and works again. */
	if (_i == CLB_OUTSIDE) {
		port_stop(0);
		pwr(0, AHCI_PxCLB, CLB(0));
		pwr(0, AHCI_PxCLBU, 0);
	}
	recover(0);
	uint8_t id[512];
	identify(0, id);
}
END_TEST

START_TEST(zero_length_and_short_prdt_are_refused)
{
	uint8_t fis[20], before[32], after[32];
	file_sha256(0, before);
	/* A data command with an empty PRDT. */
	h2d(fis, ATA_CMD_WRITE_DMA_EXT, 0, 1, 0, ATA_DEVICE_LBA);
	issue(0, 0, fis, NULL, 0, true);
	expect_error(0, 0, ATA_ERROR_ABRT, false);
	recover(0);
	/* A PRDT that holds less than the command moves: nothing is written, not even a prefix. */
	struct prd prd = { DATA, 512 };
	memset(ram + DATA, 0xee, 4096);
	h2d(fis, ATA_CMD_WRITE_DMA_EXT, 0, 2, 0, ATA_DEVICE_LBA);
	issue(0, 1, fis, &prd, 1, true);
	expect_error(0, 1, ATA_ERROR_ABRT, false);
	recover(0);
	/* The same as a queued command: the error comes through an SDB FIS. */
	h2d(fis, ATA_CMD_WRITE_FPDMA_QUEUED, 0, 3 << 3, 2, ATA_DEVICE_LBA);
	prepare(0, 3, fis, 5, &prd, 1, true, CTBA(0, 3));
	pwr(0, AHCI_PxSACT, 1u << 3);
	pwr(0, AHCI_PxCI, 1u << 3);
	expect_error(0, 3, ATA_ERROR_ABRT, true);
	ck_assert_uint_eq(prd_(0, AHCI_PxSACT), 1u << 3);
	recover(0);
	file_sha256(0, after);
	ck_assert_mem_eq(before, after, 32);
}
END_TEST

START_TEST(read_only_disk_refuses_every_write)
{
	uint8_t fis[20], before[32], after[32];
	file_sha256(RO_PORT, before);
	struct prd prd = { DATA, 8 * 512 };
	memset(ram + DATA, 0x77, prd.len);
	const uint8_t writes[] = { ATA_CMD_WRITE_DMA_EXT, ATA_CMD_WRITE_DMA, ATA_CMD_WRITE_SECTORS,
				   ATA_CMD_WRITE_SECTORS_EXT };
	for (unsigned i = 0; i < sizeof(writes); i++) {
		h2d(fis, writes[i], 4, 8, 0, ATA_DEVICE_LBA);
		issue(RO_PORT, i, fis, &prd, 1, true);
		expect_error(RO_PORT, i, ATA_ERROR_ABRT, false);
		recover(RO_PORT);
	}
	h2d(fis, ATA_CMD_WRITE_FPDMA_QUEUED, 4, 9 << 3, 8, ATA_DEVICE_LBA);
	prepare(RO_PORT, 9, fis, 5, &prd, 1, true, CTBA(RO_PORT, 9));
	pwr(RO_PORT, AHCI_PxSACT, 1u << 9);
	pwr(RO_PORT, AHCI_PxCI, 1u << 9);
	expect_error(RO_PORT, 9, ATA_ERROR_ABRT, true);
	recover(RO_PORT);
	/* Reads and flushes still work. */
	h2d(fis, ATA_CMD_READ_DMA_EXT, 4, 8, 0, ATA_DEVICE_LBA);
	issue(RO_PORT, 0, fis, &prd, 1, false);
	expect_ok(RO_PORT, 0);
	check_pattern(RO_PORT, ram + DATA, 4 * 512, 8 * 512);
	h2d(fis, ATA_CMD_FLUSH_CACHE_EXT, 0, 0, 0, 0);
	issue(RO_PORT, 0, fis, NULL, 0, false);
	expect_ok(RO_PORT, 0);
	file_sha256(RO_PORT, after);
	ck_assert_mem_eq(before, after, 32);
	/* The writable disk next to it is unaffected. */
	h2d(fis, ATA_CMD_WRITE_DMA_EXT, 4, 8, 0, ATA_DEVICE_LBA);
	issue(0, 0, fis, &prd, 1, true);
	expect_ok(0, 0);
}
END_TEST

START_TEST(ncq_error_and_log_10h)
{
	uint8_t fis[20];
	struct prd prd = { DATA, 2 * 512 };
	/* Slot 4 is fine, slot 5 runs past the end: 4 completes, 5 fails; both were rung together. */
	h2d(fis, ATA_CMD_READ_FPDMA_QUEUED, 0, 4 << 3, 2, ATA_DEVICE_LBA);
	prepare(0, 4, fis, 5, &prd, 1, false, CTBA(0, 4));
	h2d(fis, ATA_CMD_READ_FPDMA_QUEUED, DISK_SECTORS - 1, 5 << 3, 2, ATA_DEVICE_LBA);
	prepare(0, 5, fis, 5, &prd, 1, false, CTBA(0, 5));
	pwr(0, AHCI_PxSACT, 0x30);
	pwr(0, AHCI_PxCI, 0x30);
	expect_error(0, 5, ATA_ERROR_IDNF | ATA_ERROR_ABRT, true);
	ck_assert_uint_eq(prd_(0, AHCI_PxSACT), 1u << 5);
	ck_assert_uint_eq(rfis(0, AHCI_RFIS_SDBFIS)[4], 1u << 4);
	recover(0);
	/* libata's EH reads the NCQ command error log with a non-queued READ LOG EXT. */
	struct prd log = { DATA + 0x1000, 512 };
	h2d(fis, ATA_CMD_READ_LOG_EXT, ATA_LOG_NCQ_ERROR, 1, 0, 0);
	issue(0, 0, fis, &log, 1, false);
	expect_ok(0, 0);
	const uint8_t *page = ram + DATA + 0x1000;
	ck_assert_uint_eq(page[0], 5);
	ck_assert_uint_eq(page[2] & ATA_STATUS_ERR, ATA_STATUS_ERR);
	ck_assert_uint_eq(page[3], ATA_ERROR_IDNF | ATA_ERROR_ABRT);
	ck_assert_uint_eq(page[4] | page[5] << 8, DISK_SECTORS - 1);
	uint8_t sum = 0;
	for (unsigned i = 0; i < 512; i++)
		sum = (uint8_t)(sum + page[i]);
	ck_assert_uint_eq(sum, 0);
	/* Reading it cleared the condition. */
	issue(0, 0, fis, &log, 1, false);
	expect_ok(0, 0);
	ck_assert_uint_eq(page[0], 0x80);
}
END_TEST

/* A second kernel (kexec) takes over a controller with commands in flight: HBA reset clears it all. */
START_TEST(hba_reset_with_commands_outstanding)
{
	uint8_t fis[20];
	struct prd prd = { DATA, 512 };
	h2d(fis, ATA_CMD_READ_FPDMA_QUEUED, DISK_SECTORS, 6 << 3, 1, ATA_DEVICE_LBA);
	prepare(0, 6, fis, 5, &prd, 1, false, CTBA(0, 6));
	pwr(0, AHCI_PxSACT, 0xc0);
	pwr(0, AHCI_PxCI, 0x40);
	h2d(fis, ATA_CMD_READ_DMA_EXT, 0, 1, 0, ATA_DEVICE_LBA);
	issue(0, 7, fis, &prd, 1, false); /* waits behind the error */
	ck_assert_uint_ne(prd_(0, AHCI_PxSACT), 0);
	ck_assert_int_eq(irq_level, 1);

	wr(AHCI_GHC, AHCI_GHC_HR);
	ck_assert_uint_eq(rd(AHCI_GHC), AHCI_GHC_AE);
	ck_assert_int_eq(irq_level, 0);
	ck_assert_uint_eq(rd(AHCI_IS), 0);
	for (unsigned p = 0; p < NDISKS; p++) {
		ck_assert_uint_eq(prd_(p, AHCI_PxCI), 0);
		ck_assert_uint_eq(prd_(p, AHCI_PxSACT), 0);
		ck_assert_uint_eq(prd_(p, AHCI_PxIS), 0);
		ck_assert_uint_eq(prd_(p, AHCI_PxIE), 0);
		ck_assert_uint_eq(prd_(p, AHCI_PxCMD) & (AHCI_PxCMD_ST | AHCI_PxCMD_CR | AHCI_PxCMD_FRE), 0);
		ck_assert_uint_eq(prd_(p, AHCI_PxSIG), AHCI_SIG_ATA);
		ck_assert_uint_eq(prd_(p, AHCI_PxSSTS), 0x133);
		ck_assert_uint_eq(prd_(p, AHCI_PxTFD) & 0xff, ATA_STATUS_OK);
	}
	/* The new driver sets everything up again and works; the NCQ error log was cleared. */
	hba_init();
	struct prd log = { DATA, 512 };
	h2d(fis, ATA_CMD_READ_LOG_EXT, ATA_LOG_NCQ_ERROR, 1, 0, 0);
	issue(0, 0, fis, &log, 1, false);
	expect_ok(0, 0);
	ck_assert_uint_eq(ram[DATA], 0x80);
	/* A machine reset does the same. */
	ahci_reset(hba);
	ck_assert_uint_eq(rd(AHCI_GHC), AHCI_GHC_AE);
}
END_TEST

START_TEST(comreset_at_any_time)
{
	uint8_t fis[20];
	struct prd prd = { DATA, 512 };
	/* Leave a failed queued command behind. */
	h2d(fis, ATA_CMD_READ_FPDMA_QUEUED, DISK_SECTORS, 1 << 3, 1, ATA_DEVICE_LBA);
	prepare(1, 1, fis, 5, &prd, 1, false, CTBA(1, 1));
	pwr(1, AHCI_PxSACT, 2);
	pwr(1, AHCI_PxCI, 2);
	ck_assert_uint_eq(prd_(1, AHCI_PxSACT), 2);
	/* libata's hardreset: a fake busy D2H in the RX area, DET=1, DET=0, wait for !BSY, read SIG. */
	memset(ram + FB(1) + AHCI_RFIS_RFIS, 0, 20);
	ram[FB(1) + AHCI_RFIS_RFIS + 2] = ATA_STATUS_BSY;
	pwr(1, AHCI_PxSCTL, 0x301);
	ck_assert_uint_eq(prd_(1, AHCI_PxSSTS) & AHCI_SSTS_DET_MASK, 0);
	ck_assert_uint_eq(prd_(1, AHCI_PxSACT), 0);
	ck_assert_uint_eq(prd_(1, AHCI_PxCI), 0);
	pwr(1, AHCI_PxSCTL, 0x300);
	ck_assert_uint_eq(prd_(1, AHCI_PxSSTS), 0x133);
	ck_assert_uint_eq(prd_(1, AHCI_PxTFD), 0x100 | ATA_STATUS_OK);
	ck_assert_uint_eq(prd_(1, AHCI_PxSIG), AHCI_SIG_ATA);
	const uint8_t *d2h = rfis(1, AHCI_RFIS_RFIS);
	ck_assert_uint_eq(d2h[0], FIS_TYPE_D2H);
	ck_assert_uint_eq(d2h[2], ATA_STATUS_OK);
	ck_assert_uint_eq(d2h[3], ATA_DIAG_PASSED);
	ck_assert_uint_eq(d2h[4], 1);  /* LBA low = 1, count = 1: the ATA signature */
	ck_assert_uint_eq(d2h[12], 1);
	/* A speed limit in SCTL.SPD is honoured (libata slows the link down after errors). */
	pwr(1, AHCI_PxSCTL, 0x311);
	pwr(1, AHCI_PxSCTL, 0x310);
	ck_assert_uint_eq(prd_(1, AHCI_PxSSTS), 0x113);
	/* The port was still started and is no longer halted: commands work right away. */
	pwr(1, AHCI_PxIS, ~0u);
	wr(AHCI_IS, ~0u);
	h2d(fis, ATA_CMD_READ_DMA_EXT, 1, 1, 0, ATA_DEVICE_LBA);
	issue(1, 0, fis, &prd, 1, false);
	expect_ok(1, 0);
	check_pattern(1, ram + DATA, 512, 512);
}
END_TEST

START_TEST(soft_reset_sends_the_signature)
{
	uint8_t fis[20];
	memset(fis, 0, sizeof(fis));
	fis[0] = FIS_TYPE_H2D;
	fis[15] = ATA_CONTROL_SRST; /* C bit clear: a control register update */
	uint64_t hdr = CLB(0);
	issue(0, 0, fis, NULL, 0, false);
	put32(hdr, get32(hdr) | AHCI_HDR_RESET | AHCI_HDR_CLR_BUSY);
	ck_assert_uint_eq(prd_(0, AHCI_PxCI), 0);
	memset(ram + FB(0) + AHCI_RFIS_RFIS, 0, 20);
	fis[15] = 0;
	issue(0, 0, fis, NULL, 0, false);
	ck_assert_uint_eq(prd_(0, AHCI_PxCI), 0);
	ck_assert_uint_eq(rfis(0, AHCI_RFIS_RFIS)[0], FIS_TYPE_D2H);
	ck_assert_uint_eq(rfis(0, AHCI_RFIS_RFIS)[4], 1);
	ck_assert_uint_eq(prd_(0, AHCI_PxSIG), AHCI_SIG_ATA);
	ck_assert_uint_eq(prd_(0, AHCI_PxTFD) & 0xff, ATA_STATUS_OK);
	/* CLO clears a stuck BSY. */
	pwr(0, AHCI_PxCMD, AHCI_PxCMD_FRE | AHCI_PxCMD_ST | AHCI_PxCMD_CLO);
	ck_assert_uint_eq(prd_(0, AHCI_PxCMD) & AHCI_PxCMD_CLO, 0);
}
END_TEST

START_TEST(malformed_commands_abort)
{
	uint8_t fis[20];
	struct prd prd = { DATA, 512 };
	/* FIS length below a register FIS. */
	h2d(fis, ATA_CMD_READ_DMA_EXT, 0, 1, 0, ATA_DEVICE_LBA);
	prepare(0, 0, fis, 2, &prd, 1, false, CTBA(0, 0));
	pwr(0, AHCI_PxCI, 1);
	expect_error(0, 0, ATA_ERROR_ABRT, false);
	recover(0);
	/* Not a Host-to-Device FIS. */
	fis[0] = FIS_TYPE_D2H;
	issue(0, 0, fis, &prd, 1, false);
	expect_error(0, 0, ATA_ERROR_ABRT, false);
	recover(0);
	/* An ATAPI command to a disk. */
	h2d(fis, ATA_CMD_READ_DMA_EXT, 0, 1, 0, ATA_DEVICE_LBA);
	prepare(0, 0, fis, 5, &prd, 1, false, CTBA(0, 0));
	put32(CLB(0), get32(CLB(0)) | AHCI_HDR_ATAPI);
	pwr(0, AHCI_PxCI, 1);
	expect_error(0, 0, ATA_ERROR_ABRT, false);
	recover(0);
	/* NOP and an unknown opcode. */
	const uint8_t bad[] = { ATA_CMD_NOP, 0xff, 0xa0 };
	for (unsigned i = 0; i < sizeof(bad); i++) {
		h2d(fis, bad[i], 0, 0, 0, 0);
		issue(0, 0, fis, &prd, 1, false);
		expect_error(0, 0, ATA_ERROR_ABRT, false);
		recover(0);
	}
	/* Doorbells while the engine is stopped are ignored; misaligned and narrow writes are dropped. */
	port_stop(0);
	pwr(0, AHCI_PxCI, 1);
	ck_assert_uint_eq(prd_(0, AHCI_PxCI), 0);
	uint16_t half = 1;
	ck_assert(bus_write(&mmio, abar + AHCI_PORT_BASE + AHCI_PxCMD, &half, 2));
	ck_assert_uint_eq(prd_(0, AHCI_PxCMD) & AHCI_PxCMD_ST, 0);
}
END_TEST

START_TEST(interrupt_gating)
{
	uint8_t fis[20];
	h2d(fis, ATA_CMD_FLUSH_CACHE_EXT, 0, 0, 0, 0);
	issue(0, 0, fis, NULL, 0, false);
	ck_assert_int_eq(irq_level, 1);
	/* PCI INTx disable masks it, enabling again restores it. */
	cfg_write16(ahci_slot, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_OFF);
	ck_assert_int_eq(irq_level, 0);
	cfg_write16(ahci_slot, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	ck_assert_int_eq(irq_level, 1);
	/* GHC.IE off drops the line; the pending state survives. */
	wr(AHCI_GHC, AHCI_GHC_AE);
	ck_assert_int_eq(irq_level, 0);
	wr(AHCI_GHC, AHCI_GHC_AE | AHCI_GHC_IE);
	ck_assert_int_eq(irq_level, 1);
	/* Clearing only the HBA bit while the port still has a cause: it comes back. */
	wr(AHCI_IS, 1);
	ck_assert_int_eq(irq_level, 1);
	/* A masked port cause raises nothing. */
	pwr(0, AHCI_PxIS, ~0u);
	wr(AHCI_IS, 1);
	ck_assert_int_eq(irq_level, 0);
	pwr(0, AHCI_PxIE, 0);
	issue(0, 0, fis, NULL, 0, false);
	ck_assert_uint_eq(prd_(0, AHCI_PxIS) & AHCI_PxIS_DHRS, AHCI_PxIS_DHRS);
	ck_assert_int_eq(irq_level, 0);
}
END_TEST

START_TEST(bar_moves_and_teardown)
{
	uint32_t moved = (uint32_t)LAYOUT_PCI_MMIO + 0x100000;
	cfg_write32(ahci_slot, 0x10 + 4 * AHCI_BAR, moved);
	uint32_t v = 0;
	ck_assert(bus_read(&mmio, abar + AHCI_VS, &v, 4));
	ck_assert_uint_eq(v, 0xffffffffu);
	abar = moved;
	ck_assert_uint_eq(rd(AHCI_VS), 0x00010300u);
	uint8_t id[512];
	identify(0, id);
	/* Memory decode off: the registers vanish. */
	cfg_write16(ahci_slot, PCI_COMMAND, 0);
	ck_assert_uint_eq(rd(AHCI_VS), 0xffffffffu);
	cfg_write16(ahci_slot, PCI_COMMAND, PCI_COMMAND_MEMORY);
	/* After destroy the function reads all ones and ignores writes. */
	ahci_destroy(hba);
	hba = NULL;
	ck_assert_uint_eq(rd(AHCI_VS), 0xffffffffu);
	wr(AHCI_GHC, AHCI_GHC_HR);
}
END_TEST

/* PCI COMMAND.BME clear: the HBA must not touch guest memory. A command fails (HBFS, TFES, an aborted
 * command in PxTFD), nothing is read from the disk into RAM, no FIS is written, and the driver sees the
 * error through the interrupt; with bus mastering back and the port restarted, the same command works. */
START_TEST(bus_master_off_means_no_dma)
{
	uint8_t fis[20];
	struct prd prd = { DATA, 512 };
	memset(ram + DATA, 0xcc, 512);
	memset(ram + FB(0), 0xee, AHCI_RFIS_SIZE);
	cfg_write16(ahci_slot, PCI_COMMAND, PCI_COMMAND_MEMORY);
	h2d(fis, ATA_CMD_READ_DMA_EXT, 0, 1, 0, ATA_DEVICE_LBA);
	issue(0, 0, fis, &prd, 1, false);
	uint32_t is = prd_(0, AHCI_PxIS);
	ck_assert_uint_eq(is & (AHCI_PxIS_HBFS | AHCI_PxIS_TFES), AHCI_PxIS_HBFS | AHCI_PxIS_TFES);
	ck_assert_uint_eq(prd_(0, AHCI_PxTFD), (uint32_t)ATA_ERROR_ABRT << 8 | ATA_STATUS_FAIL);
	ck_assert_uint_eq(prd_(0, AHCI_PxCI), 1);
	ck_assert_int_eq(irq_level, 1);
	for (unsigned i = 0; i < 512; i++)
		ck_assert_uint_eq(ram[DATA + i], 0xcc);
	for (unsigned i = 0; i < AHCI_RFIS_SIZE; i++)
		ck_assert_uint_eq(ram[FB(0) + i], 0xee);
	ck_assert_uint_eq(prdbc(0, 0), 0xdeadbeef); /* the command header was not even written back */
	/* a write is refused the same way: the image keeps its bytes */
	uint8_t before[32], after[32];
	file_sha256(0, before);
	h2d(fis, ATA_CMD_WRITE_DMA_EXT, 0, 1, 0, ATA_DEVICE_LBA);
	recover(0);
	issue(0, 1, fis, &prd, 1, true);
	ck_assert_uint_eq(prd_(0, AHCI_PxIS) & AHCI_PxIS_HBFS, AHCI_PxIS_HBFS);
	file_sha256(0, after);
	ck_assert_mem_eq(before, after, 32);
	/* bus mastering back on, the port restarted: the read works */
	cfg_write16(ahci_slot, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	recover(0);
	h2d(fis, ATA_CMD_READ_DMA_EXT, 0, 1, 0, ATA_DEVICE_LBA);
	issue(0, 0, fis, &prd, 1, false);
	expect_ok(0, 0);
	check_pattern(0, ram + DATA, 0, 512);
}
END_TEST

START_TEST(other_commands_and_registers)
{
	uint8_t fis[20], id[512];
	/* Verify, idle, standby, diagnostics, native max (28-bit). */
	h2d(fis, ATA_CMD_VERIFY_EXT, DISK_SECTORS - 8, 8, 0, ATA_DEVICE_LBA);
	issue(0, 0, fis, NULL, 0, false);
	expect_ok(0, 0);
	h2d(fis, ATA_CMD_VERIFY, DISK_SECTORS - 8, 9, 0, ATA_DEVICE_LBA);
	issue(0, 0, fis, NULL, 0, false);
	expect_error(0, 0, ATA_ERROR_IDNF | ATA_ERROR_ABRT, false);
	recover(0);
	const uint8_t quiet[] = { ATA_CMD_IDLE_IMMEDIATE, ATA_CMD_STANDBY_IMMEDIATE, ATA_CMD_IDLE, ATA_CMD_STANDBY };
	for (unsigned i = 0; i < sizeof(quiet); i++) {
		h2d(fis, quiet[i], 0, 0, 0, 0);
		issue(0, 1, fis, NULL, 0, false);
		expect_ok(0, 1);
	}
	h2d(fis, ATA_CMD_EXEC_DIAGNOSTIC, 0, 0, 0, 0);
	issue(0, 2, fis, NULL, 0, false);
	ck_assert_uint_eq(rfis(0, AHCI_RFIS_RFIS)[3], ATA_DIAG_PASSED);
	ck_assert_uint_eq(rfis(0, AHCI_RFIS_RFIS)[4], 1);
	h2d(fis, ATA_CMD_READ_NATIVE_MAX, 0, 0, 0, ATA_DEVICE_LBA);
	issue(0, 3, fis, NULL, 0, false);
	const uint8_t *d2h = rfis(0, AHCI_RFIS_RFIS);
	ck_assert_uint_eq(d2h[4] | d2h[5] << 8 | d2h[6] << 16, DISK_SECTORS - 1);
	/* Transfer modes: multiword DMA 2 and PIO 4 are accepted and shown; nonsense is refused. */
	pwr(0, AHCI_PxIS, ~0u);
	h2d(fis, ATA_CMD_SET_FEATURES, 0, 0x22, 0x03, 0);
	issue(0, 4, fis, NULL, 0, false);
	expect_ok(0, 4);
	identify(0, id);
	ck_assert_uint_eq(id_word(id, 63), 0x0007 | 0x0400);
	ck_assert_uint_eq(id_word(id, 88), 0x007f);
	h2d(fis, ATA_CMD_SET_FEATURES, 0, 0x0c, 0x03, 0);
	issue(0, 4, fis, NULL, 0, false);
	expect_ok(0, 4);
	h2d(fis, ATA_CMD_SET_FEATURES, 0, 0x47, 0x03, 0);
	issue(0, 4, fis, NULL, 0, false);
	expect_error(0, 4, ATA_ERROR_ABRT, false);
	recover(0);
	h2d(fis, ATA_CMD_SET_MULTIPLE, 0, 3, 0, 0); /* not a power of two */
	issue(0, 5, fis, NULL, 0, false);
	expect_error(0, 5, ATA_ERROR_ABRT, false);
	recover(0);
	/* Address registers read back with their reserved low bits clear. */
	port_stop(0);
	pwr(0, AHCI_PxCLB, CLB(0) | 0x3ff);
	pwr(0, AHCI_PxFB, FB(0) | 0xff);
	pwr(0, AHCI_PxCLBU, 1);
	pwr(0, AHCI_PxFBU, 2);
	ck_assert_uint_eq(prd_(0, AHCI_PxCLB), CLB(0));
	ck_assert_uint_eq(prd_(0, AHCI_PxFB), FB(0));
	ck_assert_uint_eq(prd_(0, AHCI_PxCLBU), 1);
	ck_assert_uint_eq(prd_(0, AHCI_PxFBU), 2);
	/* PxSCTL.DET = 4 takes the phy offline; DET = 0 brings the link back. */
	pwr(0, AHCI_PxSCTL, 4);
	ck_assert_uint_eq(prd_(0, AHCI_PxSCTL), 4);
	ck_assert_uint_eq(prd_(0, AHCI_PxSSTS), 4);
	pwr(0, AHCI_PxSCTL, 0);
	ck_assert_uint_eq(prd_(0, AHCI_PxSSTS), 0x133);
}
END_TEST

/* The image shrinks under lbvm (another process truncates it): reads end with UNC, not a crash. */
START_TEST(host_io_errors_are_ata_errors)
{
	ck_assert_int_eq(truncate(paths[0], 512 * 16), 0);
	uint8_t fis[20];
	struct prd prd = { DATA, 8 * 512 };
	h2d(fis, ATA_CMD_READ_DMA_EXT, 100, 8, 0, ATA_DEVICE_LBA);
	issue(0, 0, fis, &prd, 1, false);
	expect_error(0, 0, ATA_ERROR_UNC, false);
	recover(0);
	h2d(fis, ATA_CMD_READ_FPDMA_QUEUED, 100, 2 << 3, 8, ATA_DEVICE_LBA);
	prepare(0, 2, fis, 5, &prd, 1, false, CTBA(0, 2));
	pwr(0, AHCI_PxSACT, 4);
	pwr(0, AHCI_PxCI, 4);
	expect_error(0, 2, ATA_ERROR_UNC, true);
}
END_TEST

/* IDENTIFY of a 3 TB sparse image: LBA48 exact, LBA28 and CHS clamped. */
START_TEST(identify_of_a_large_image)
{
	char big[160];
	snprintf(big, sizeof(big), "%s/big.img", dir);
	int fd = open(big, O_RDWR | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	uint64_t sectors = UINT64_C(3) << 31; /* 3 TiB */
	ck_assert_int_eq(ftruncate(fd, (off_t)(sectors * 512)), 0);
	close(fd);
	struct disk_image *img = NULL;
	ck_assert_int_eq(disk_image_open(big, true, &img, NULL), 0);
	struct ata_drive drive;
	ata_drive_init(&drive, img, 3);
	uint16_t id[256];
	ata_identify(&drive, id);
	uint64_t lba48 = 0;
	for (unsigned i = 0; i < 4; i++)
		lba48 |= (uint64_t)id[100 + i] << (16 * i);
	ck_assert_uint_eq(lba48, sectors);
	ck_assert_uint_eq(id[60] | (uint32_t)id[61] << 16, 0x0fffffffu);
	ck_assert_uint_eq(id[1], 16383);
	ck_assert_uint_eq(id[3], 16);
	ck_assert_uint_eq(id[6], 63);
	disk_image_close(img);
}
END_TEST

START_TEST(create_refuses_bad_disk_counts)
{
	struct ahci *other = NULL;
	ck_assert_int_eq(ahci_create(&pci, &mem, disks, 0, &other), -EINVAL);
	ck_assert_int_eq(ahci_create(&pci, &mem, disks, AHCI_MAX_PORTS + 1, &other), -EINVAL);
	ck_assert_ptr_null(other);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ahci");
	TCase *tc = tcase_create("rw");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, discovery_and_link);
	tcase_add_test(tc, identify_matches_the_image);
	tcase_add_test(tc, dma_ext_round_trip);
	tcase_add_test(tc, lba28_and_pio_commands);
	tcase_add_test(tc, ncq_batch_completes_through_sdb);
	tcase_add_test(tc, flush_set_features_and_logs);
	tcase_add_test(tc, lba_past_the_end_is_an_ata_error);
	tcase_add_loop_test(tc, guest_memory_faults_are_ata_errors, 0, FAULTS);
	tcase_add_test(tc, zero_length_and_short_prdt_are_refused);
	tcase_add_test(tc, ncq_error_and_log_10h);
	tcase_add_test(tc, hba_reset_with_commands_outstanding);
	tcase_add_test(tc, comreset_at_any_time);
	tcase_add_test(tc, soft_reset_sends_the_signature);
	tcase_add_test(tc, malformed_commands_abort);
	tcase_add_test(tc, interrupt_gating);
	tcase_add_test(tc, bar_moves_and_teardown);
	tcase_add_test(tc, create_refuses_bad_disk_counts);
	tcase_add_test(tc, bus_master_off_means_no_dma);
	tcase_add_test(tc, other_commands_and_registers);
	tcase_add_test(tc, host_io_errors_are_ata_errors);
	tcase_add_test(tc, identify_of_a_large_image);
	suite_add_tcase(s, tc);
	TCase *ro = tcase_create("read-only");
	tcase_add_checked_fixture(ro, setup_ro, teardown);
	tcase_add_test(ro, read_only_disk_refuses_every_write);
	suite_add_tcase(s, ro);
	return check_run(s);
}
