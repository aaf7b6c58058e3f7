/* libFuzzer target: the input is a little program of MMIO reads/writes (through the PCI MMIO window),
 * PCI config writes, guest-RAM pokes and ready-made commands (header + table + PRDT + doorbell) against
 * an AHCI HBA with two small memfd-backed disks (the second read-only). Guest RAM has 1 MiB below the PCI
 * hole and 1 MiB from 4 GiB (guest_mem_wrap_split), and every address the fuzzer names lands in either
 * half or just past it, so command lists, FIS areas, tables and buffers in high RAM and across its ends go
 * through guest_mem_ptr's high-RAM path. ASan/UBSan catch any access outside guest RAM or the images; the
 * target itself checks the INTx level against GHC.IE and that a read-only image never changes. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/ahci.h"
#include "devices/bus.h"
#include "devices/pci.h"
#include "common/guest_mem.h"
#include "common/layout.h"

#define LOW_SIZE      (1u << 20)          /* guest RAM at 0 ... */
#define HIGH_SIZE     (1u << 20)          /* ... and from 4 GiB */
#define RAM_SIZE      (LOW_SIZE + HIGH_SIZE)
#define ADDR_SPAN     (LOW_SIZE + (1u << 16)) /* fuzzer addresses: each half and a little beyond it */
#define DISK_SECTORS  32u
#define DISK_BYTES    (DISK_SECTORS * 512u)
#define NDISKS        2
#define MAX_OPS       256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *ram;
static struct guest_mem mem;
static int disk_fd[NDISKS];
static uint8_t disk_init[NDISKS][DISK_BYTES];
static int irq_level;

static void record_irq(void *opaque, unsigned gsi, int level)
{
	(void)opaque;
	(void)gsi;
	if (level != 0 && level != 1)
		abort();
	irq_level = level;
}

static void init_once(void)
{
	if (ram)
		return;
	ram = malloc(RAM_SIZE);
	for (unsigned d = 0; d < NDISKS; d++) {
		disk_fd[d] = memfd_create("fuzz-disk", 0);
		if (disk_fd[d] < 0 || ftruncate(disk_fd[d], DISK_BYTES) < 0)
			abort();
		for (unsigned i = 0; i < DISK_BYTES; i++)
			disk_init[d][i] = (uint8_t)(i * 7 + d);
	}
	if (!ram)
		abort();
}

struct reader {
	const uint8_t *p;
	size_t left;
};

static uint32_t take(struct reader *r, unsigned bytes)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < bytes; i++) {
		if (!r->left)
			return v;
		v |= (uint32_t)*r->p++ << (8 * i);
		r->left--;
	}
	return v;
}

/* A guest address from 32 input bits: bit 31 picks high RAM (from 4 GiB), the rest an offset in ADDR_SPAN. */
static uint64_t fuzz_addr(uint32_t v)
{
	uint64_t off = (v & 0x7fffffffu) % ADDR_SPAN;
	return (v & 0x80000000u) ? LAYOUT_HIGH_RAM + off : off;
}

static void put32(uint64_t gpa, uint32_t v)
{
	void *p = guest_mem_ptr(&mem, gpa, 4);
	if (p)
		memcpy(p, &v, 4);
}

/* Where the "ready-made command" op puts its structures: from port_base[p], 0 or 4 GiB (high RAM). */
#define CLB(p)      (port_base[p] + 0x1000u + (p) * 0x1000u)
#define FB(p)       (port_base[p] + 0x1400u + (p) * 0x1000u)
#define CTBA(p, s)  (port_base[p] + 0x8000u + ((p) * 32u + (s)) * 0x100u)

static uint64_t port_base[NDISKS];

static void start_port(struct bus *mmio, uint64_t abar, unsigned p, bool high)
{
	port_base[p] = high ? LAYOUT_HIGH_RAM : 0;
	uint32_t regs[][2] = {
		{ AHCI_PxCLB, (uint32_t)CLB(p) }, { AHCI_PxCLBU, (uint32_t)(CLB(p) >> 32) },
		{ AHCI_PxFB, (uint32_t)FB(p) }, { AHCI_PxFBU, (uint32_t)(FB(p) >> 32) },
		{ AHCI_PxIE, 0x7dc000ffu }, { AHCI_PxCMD, AHCI_PxCMD_FRE }, { AHCI_PxCMD, AHCI_PxCMD_FRE | AHCI_PxCMD_ST },
	};
	for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		bus_write(mmio, abar + AHCI_PORT_BASE + p * AHCI_PORT_SIZE + regs[i][0], &regs[i][1], 4);
}

static const uint8_t commands[] = {
	0xec, 0x25, 0x35, 0xc8, 0xca, 0x20, 0x24, 0x30, 0x34, 0xc4, 0xc5, 0x29, 0x39, 0x60, 0x61, 0x2f, 0x47,
	0xea, 0xe7, 0xef, 0xc6, 0xf8, 0x27, 0xe5, 0xe0, 0x40, 0x42, 0x90, 0x00,
};

static void command(struct reader *r, struct bus *mmio, uint64_t abar)
{
	unsigned p = take(r, 1) % NDISKS, slot = take(r, 1) % AHCI_SLOTS;
	uint8_t cmd = commands[take(r, 1) % sizeof(commands)];
	uint32_t lba = take(r, 2) % (DISK_SECTORS + 4);
	uint16_t count = (uint16_t)take(r, 1);
	uint32_t flags = take(r, 2);
	unsigned nprd = take(r, 1) % 5;
	uint64_t ctba = flags & 0x8000 ? fuzz_addr(take(r, 4)) : CTBA(p, slot);
	uint8_t fis[20] = { FIS_TYPE_H2D, (uint8_t)(flags & 0x100 ? 0 : FIS_H2D_COMMAND), cmd };
	bool ncq = cmd == 0x60 || cmd == 0x61;
	fis[3] = (uint8_t)(ncq ? count : flags);
	fis[4] = (uint8_t)lba;
	fis[5] = (uint8_t)(lba >> 8);
	fis[7] = ATA_DEVICE_LBA;
	fis[12] = (uint8_t)(ncq ? slot << 3 : count);
	fis[15] = (uint8_t)(flags >> 9);
	uint64_t hdr = CLB(p) + slot * AHCI_CMD_HDR_SIZE;
	put32(hdr, (5 + (flags & 3)) | (flags & 0xe0) | nprd << AHCI_HDR_PRDTL_SHIFT);
	put32(hdr + 8, (uint32_t)ctba);
	put32(hdr + 12, (uint32_t)(ctba >> 32));
	uint8_t *table = guest_mem_ptr(&mem, ctba, 0x80 + 5 * 16);
	if (table) {
		memcpy(table, fis, sizeof(fis));
		for (unsigned i = 0; i < nprd; i++) {
			uint64_t dba = fuzz_addr(take(r, 4));
			put32(ctba + 0x80 + i * 16, (uint32_t)dba);
			put32(ctba + 0x84 + i * 16, (uint32_t)(dba >> 32));
			put32(ctba + 0x8c + i * 16, take(r, 2) * 4u + 511);
		}
	}
	uint32_t bit = 1u << slot;
	if (ncq)
		bus_write(mmio, abar + AHCI_PORT_BASE + p * AHCI_PORT_SIZE + AHCI_PxSACT, &bit, 4);
	bus_write(mmio, abar + AHCI_PORT_BASE + p * AHCI_PORT_SIZE + AHCI_PxCI, &bit, 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init_once();
	memset(ram, 0, RAM_SIZE);
	for (unsigned d = 0; d < NDISKS; d++)
		if (pwrite(disk_fd[d], disk_init[d], DISK_BYTES, 0) != DISK_BYTES)
			abort();
	guest_mem_wrap_split(&mem, ram, LOW_SIZE, HIGH_SIZE);
	port_base[0] = port_base[1] = 0;
	struct bus io, mmio;
	bus_init(&io);
	bus_init(&mmio);
	struct pci_host pci;
	struct irq_line line = { .set = record_irq };
	irq_level = 0;
	struct disk_image *disks[NDISKS];
	struct ahci *hba = NULL;
	if (pci_host_init(&pci, &io, &mmio, line))
		abort();
	for (unsigned d = 0; d < NDISKS; d++)
		if (disk_image_from_fd(dup(disk_fd[d]), "fuzz", d == 1, &disks[d], NULL))
			abort();
	if (ahci_create(&pci, &mem, disks, NDISKS, &hba))
		abort();
	uint64_t abar = pci_device_bar_addr(hba->pci, AHCI_BAR);
	/* bus mastering on, as Linux leaves it; a config write (op 4) may clear it again */
	uint32_t cfg_addr = 0x80000000u | hba->pci->slot << 11 | PCI_COMMAND;
	uint16_t pci_command = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	bus_write(&io, 0xcf8, &cfg_addr, 4);
	bus_write(&io, 0xcfc, &pci_command, 2);

	struct reader r = { data, size };
	for (unsigned ops = 0; r.left && ops < MAX_OPS; ops++) {
		uint8_t op = (uint8_t)take(&r, 1);
		switch (op % 8) {
		case 0: { /* MMIO write, 4 or 8 bytes, anywhere in (and a bit past) the ABAR */
			uint64_t off = take(&r, 2) % (AHCI_BAR_SIZE + 0x100);
			uint64_t v = take(&r, 4) | (uint64_t)take(&r, 4) << 32;
			bus_write(&mmio, abar + off, &v, op & 0x80 ? 8 : 4);
			break;
		}
		case 1: { /* MMIO read of 1, 2, 4 or 8 bytes */
			uint64_t off = take(&r, 2) % (AHCI_BAR_SIZE + 0x100), v;
			bus_read(&mmio, abar + off, &v, 1u << (take(&r, 1) % 4));
			break;
		}
		case 2: { /* poke guest RAM, low or high */
			uint64_t gpa = fuzz_addr(take(&r, 4));
			unsigned len = take(&r, 1);
			for (unsigned i = 0; i < len && r.left; i++) {
				uint8_t *b = guest_mem_ptr(&mem, gpa + i, 1);
				uint8_t v = (uint8_t)take(&r, 1);
				if (b)
					*b = v;
			}
			break;
		}
		case 3:
			command(&r, &mmio, abar);
			break;
		case 4: { /* PCI config write (BARs, COMMAND, ...) through the ports */
			uint32_t a = 0x80000000u | hba->pci->slot << 11 | (take(&r, 1) & 0xfc), v = take(&r, 4);
			bus_write(&io, 0xcf8, &a, 4);
			bus_write(&io, 0xcfc + (op >> 6), &v, 1u << ((op >> 4) & 3) > 4 ? 4 : 1u << ((op >> 4) & 3));
			abar = pci_device_bar_addr(hba->pci, AHCI_BAR);
			break;
		}
		case 5: {
			unsigned v = take(&r, 1);
			start_port(&mmio, abar, v % NDISKS, v & 0x80);
			break;
		}
		case 6: { /* GHC: reset / interrupt enable */
			uint32_t v = take(&r, 1) & (AHCI_GHC_HR | AHCI_GHC_IE);
			bus_write(&mmio, abar + AHCI_GHC, &v, 4);
			break;
		}
		case 7: { /* COMRESET a port */
			uint32_t p = take(&r, 1) % NDISKS, v = 1;
			bus_write(&mmio, abar + AHCI_PORT_BASE + p * AHCI_PORT_SIZE + AHCI_PxSCTL, &v, 4);
			v = 0;
			bus_write(&mmio, abar + AHCI_PORT_BASE + p * AHCI_PORT_SIZE + AHCI_PxSCTL, &v, 4);
			break;
		}
		}
		/* Invariant: no interrupt while GHC.IE is off. */
		if (!(hba->ghc & AHCI_GHC_IE) && irq_level)
			abort();
	}

	ahci_destroy(hba);
	for (unsigned d = 0; d < NDISKS; d++)
		disk_image_close(disks[d]);
	pci_host_destroy(&pci);
	bus_destroy(&io);
	bus_destroy(&mmio);
	/* The read-only image is byte-identical. */
	uint8_t check[DISK_BYTES];
	if (pread(disk_fd[1], check, DISK_BYTES, 0) != DISK_BYTES || memcmp(check, disk_init[1], DISK_BYTES))
		abort();
	return 0;
}
