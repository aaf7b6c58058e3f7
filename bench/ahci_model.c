/* Device-model cost of the AHCI path without KVM: how long the HBA takes to run commands that a guest
 * rang, from the PxCI write to the completion FIS, with the image in the host page cache. Not a test and
 * not built by `make`; build and run by hand:
 *
 *   make build/liblbvm.a && cc -std=c11 -D_GNU_SOURCE -O2 -I. bench/ahci_model.c build/liblbvm.a \
 *       $(pkg-config --libs libcurl ext2fs com_err libelf zlib libcrypto libseccomp) -lpthread -o build/ahci_model
 *   build/ahci_model [IMAGE_MiB]      (default 256; the image is a temporary file, removed at the end)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devices/ahci.h"
#include "devices/bus.h"
#include "common/layout.h"

#define RAM_SIZE   (64 * MiB)
#define CLB        0x10000u
#define FB         0x11000u
#define CTBA(s)    (0x20000u + (s) * 0x1000u)
#define BUF(s)     (0x1000000u + (s) * 0x40000u) /* 256 KiB per slot */

static struct bus io, mmio;
static uint8_t *ram;
static uint64_t abar;

static void noirq(void *o, unsigned g, int l) { (void)o; (void)g; (void)l; }
static void put32(uint64_t gpa, uint32_t v) { memcpy(ram + gpa, &v, 4); }
static void wr(uint32_t off, uint32_t v) { bus_write(&mmio, abar + off, &v, 4); }
static void pwr(uint32_t reg, uint32_t v) { wr(AHCI_PORT_BASE + reg, v); }
static uint32_t prd(uint32_t reg) { uint32_t v = 0; bus_read(&mmio, abar + AHCI_PORT_BASE + reg, &v, 4); return v; }

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One FPDMA read or write of `sectors` at `lba` in `slot`, PRDT split in 4 KiB pages as Linux maps them. */
static void prepare(unsigned slot, bool write, uint64_t lba, unsigned sectors)
{
	uint64_t ct = CTBA(slot);
	unsigned bytes = sectors * 512, nprd = (bytes + 4095) / 4096;
	put32(CLB + slot * 32, 5 | (write ? AHCI_HDR_WRITE : 0) | nprd << AHCI_HDR_PRDTL_SHIFT);
	put32(CLB + slot * 32 + 8, (uint32_t)ct);
	put32(CLB + slot * 32 + 12, 0);
	uint8_t fis[20] = { FIS_TYPE_H2D, FIS_H2D_COMMAND, write ? ATA_CMD_WRITE_FPDMA_QUEUED : ATA_CMD_READ_FPDMA_QUEUED,
			    (uint8_t)sectors, (uint8_t)lba, (uint8_t)(lba >> 8), (uint8_t)(lba >> 16), ATA_DEVICE_LBA,
			    (uint8_t)(lba >> 24), 0, 0, (uint8_t)(sectors >> 8), (uint8_t)(slot << 3) };
	memcpy(ram + ct, fis, sizeof(fis));
	for (unsigned i = 0; i < nprd; i++) {
		put32(ct + 0x80 + i * 16, BUF(slot) + i * 4096);
		put32(ct + 0x84 + i * 16, 0);
		put32(ct + 0x8c + i * 16, 4095);
	}
}

static void run(const char *what, bool write, unsigned sectors, bool random, uint64_t disk_sectors, double seconds)
{
	uint64_t cmds = 0, lba = 0, rng = 12345;
	double start = now(), t;
	do {
		for (unsigned s = 0; s < 32; s++) {
			if (random) {
				rng = rng * 6364136223846793005ull + 1442695040888963407ull;
				lba = (rng >> 20) % (disk_sectors / sectors) * sectors;
			}
			prepare(s, write, lba, sectors);
			lba = random ? lba : (lba + sectors) % disk_sectors;
		}
		pwr(AHCI_PxSACT, ~0u);
		pwr(AHCI_PxCI, ~0u);
		if (prd(AHCI_PxCI) || prd(AHCI_PxSACT) || (prd(AHCI_PxIS) & AHCI_PxIS_TFES)) {
			fprintf(stderr, "ahci_model: %s: a command failed (TFD %#x)\n", what, prd(AHCI_PxTFD));
			exit(1);
		}
		pwr(AHCI_PxIS, ~0u);
		wr(AHCI_IS, ~0u);
		cmds += 32;
		t = now() - start;
	} while (t < seconds);
	double mb = (double)cmds * sectors * 512 / 1e6;
	printf("%-28s %9.0f MB/s %9.0f commands/s %7.2f us/command\n", what, mb / t, cmds / t, t * 1e6 / cmds);
}

int main(int argc, char **argv)
{
	uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 256;
	char path[] = "/tmp/lbvm-ahci-bench-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, (off_t)(mib * MiB)) < 0)
		return 1;
	/* Fill the image once so reads come from the page cache, not from holes. */
	char *chunk = calloc(1, MiB);
	for (uint64_t i = 0; i < mib; i++)
		if (pwrite(fd, chunk, MiB, (off_t)(i * MiB)) != (ssize_t)MiB)
			return 1;
	free(chunk);
	close(fd);
	struct disk_image *img;
	if (disk_image_open(path, false, &img, NULL))
		return 1;
	ram = calloc(1, RAM_SIZE);
	struct guest_mem mem;
	guest_mem_wrap(&mem, ram, RAM_SIZE);
	bus_init(&io);
	bus_init(&mmio);
	struct pci_host pci;
	struct irq_line line = { .set = noirq };
	struct ahci *hba;
	if (pci_host_init(&pci, &io, &mmio, line) || ahci_create(&pci, &mem, &img, 1, &hba))
		return 1;
	abar = pci_device_bar_addr(hba->pci, AHCI_BAR);
	/* memory decode and bus mastering on, as Linux's driver sets them (no DMA without BME) */
	uint32_t cfg_addr = 0x80000000u | hba->pci->slot << 11 | PCI_COMMAND;
	uint16_t command = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	bus_write(&io, 0xcf8, &cfg_addr, 4);
	bus_write(&io, 0xcfc, &command, 2);
	wr(AHCI_GHC, AHCI_GHC_AE | AHCI_GHC_IE);
	pwr(AHCI_PxCLB, CLB);
	pwr(AHCI_PxFB, FB);
	pwr(AHCI_PxIE, 0x7dc000ffu);
	pwr(AHCI_PxCMD, AHCI_PxCMD_FRE | AHCI_PxCMD_ST);
	printf("image %llu MiB in the page cache, NCQ, 32 commands per doorbell, 4 KiB PRDs\n",
	       (unsigned long long)mib);
	run("sequential read 128 KiB", false, 256, false, img->sectors, 2);
	run("sequential write 128 KiB", true, 256, false, img->sectors, 2);
	run("random read 4 KiB", false, 8, true, img->sectors, 2);
	run("random write 4 KiB", true, 8, true, img->sectors, 2);
	ahci_destroy(hba);
	disk_image_close(img);
	unlink(path);
	return 0;
}
