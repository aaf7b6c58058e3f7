/* libFuzzer target: the input is a little program of register reads/writes (MMIO through the PCI window and
 * the I/O BAR), PCI config writes, guest-RAM pokes, ready-made transmit descriptors (legacy, context, data,
 * TSO) with a doorbell, ring set-ups and received frames against an 82540EM model. ASan/UBSan catch any
 * access outside guest RAM; the target itself checks that every frame the card sends fits its limit and
 * that the INTx level always equals (ICR & IMS) != 0. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/bus.h"
#include "devices/e1000.h"
#include "devices/pci.h"
#include "common/guest_mem.h"
#include "common/layout.h"

#define RAM_SIZE   (1u << 20)
#define ADDR_SPAN  (RAM_SIZE + (1u << 16)) /* fuzzer addresses: RAM and a little beyond it */
#define MAX_OPS    256
#define TX_RING    0x1000u
#define RX_RING    0x2000u
#define RING_N     32u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *ram;
static int irq_level;

static void record_irq(void *opaque, unsigned gsi, int level)
{
	(void)opaque;
	(void)gsi;
	if (level != 0 && level != 1)
		abort();
	irq_level = level;
}

static void transmitted(void *opaque, const uint8_t *frame, size_t len)
{
	(void)opaque;
	if (len > E1000_TX_MAX || len < 14)
		abort();
	volatile uint8_t sink = frame[0] ^ frame[len - 1]; /* the whole frame is readable */
	(void)sink;
}

static void rx_ready(void *opaque)
{
	(void)opaque;
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

/* Registers a driver touches, so most writes land somewhere meaningful. */
static const uint16_t regs[] = {
	E1000_CTRL, E1000_EECD, E1000_EERD, E1000_MDIC, E1000_ICR, E1000_ICS, E1000_IMS, E1000_IMC, E1000_RCTL,
	E1000_TCTL, E1000_RDBAL, E1000_RDBAH, E1000_RDLEN, E1000_RDH, E1000_RDT, E1000_TDBAL, E1000_TDBAH,
	E1000_TDLEN, E1000_TDH, E1000_TDT, E1000_MTA, E1000_RA, E1000_RA + 4, E1000_GPRC, E1000_VET,
};

static void put(uint32_t gpa, const void *src, size_t len)
{
	if (gpa <= RAM_SIZE - len)
		memcpy(ram + gpa, src, len);
}

static void wr(struct bus *mmio, uint64_t bar0, uint32_t off, uint32_t v)
{
	bus_write(mmio, bar0 + off, &v, 4);
}

/* A descriptor at the transmit ring's slot `i`, then maybe the doorbell. */
static void tx_descriptor(struct reader *r, unsigned i)
{
	uint64_t addr = take(r, 4) % ADDR_SPAN;
	uint32_t lower = take(r, 4), upper = take(r, 4);
	if (take(r, 1) & 1) /* a context descriptor with plausible offsets */
		addr = (uint64_t)(take(r, 1) % 64) | (uint64_t)(take(r, 1) % 80) << 8 | (uint64_t)(take(r, 2) % 128) << 16 |
		       (uint64_t)(take(r, 1) % 96) << 32 | (uint64_t)(take(r, 1) % 128) << 40;
	put(TX_RING + (i % RING_N) * 16, &addr, 8);
	put(TX_RING + (i % RING_N) * 16 + 8, &lower, 4);
	put(TX_RING + (i % RING_N) * 16 + 12, &upper, 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ram && !(ram = malloc(RAM_SIZE)))
		abort();
	memset(ram, 0, RAM_SIZE);
	struct guest_mem mem;
	guest_mem_wrap(&mem, ram, RAM_SIZE);
	struct bus io, mmio;
	bus_init(&io);
	bus_init(&mmio);
	struct pci_host pci;
	struct irq_line line = { .set = record_irq };
	irq_level = 0;
	if (pci_host_init(&pci, &io, &mmio, line))
		abort();
	static const uint8_t mac[6] = LAYOUT_NET_GUEST_MAC;
	struct e1000 *nic = NULL;
	if (e1000_create(&pci, &mem, mac, &nic))
		abort();
	struct e1000_backend be = { .transmit = transmitted, .rx_ready = rx_ready };
	e1000_connect(nic, &be);
	uint64_t bar0 = pci_device_bar_addr(nic->pci, E1000_MMIO_BAR);
	uint64_t iobar = pci_device_bar_addr(nic->pci, E1000_IO_BAR);
	/* Bus master on, as the driver leaves it; the fuzzer may turn it off. */
	uint32_t a = 0x80000000u | nic->pci->slot << 11 | 4, cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER;
	bus_write(&io, 0xcf8, &a, 4);
	bus_write(&io, 0xcfc, &cmd, 2);

	static uint8_t frame[E1000_RX_MAX + 16];
	unsigned tx_next = 0;
	struct reader r = { data, size };
	for (unsigned ops = 0; r.left && ops < MAX_OPS; ops++) {
		uint8_t op = (uint8_t)take(&r, 1);
		switch (op % 10) {
		case 0: { /* MMIO write to a known register or anywhere in (and past) BAR0 */
			uint32_t off = (op & 0x80) ? regs[take(&r, 1) % (sizeof(regs) / sizeof(regs[0]))]
						   : take(&r, 3) % (E1000_MMIO_SIZE + 0x100);
			uint64_t v = take(&r, 4) | (uint64_t)take(&r, 4) << 32;
			bus_write(&mmio, bar0 + off, &v, (op & 0x40) ? 8 : (op & 0x20) ? 2 : 4);
			break;
		}
		case 1: { /* MMIO read of 1, 2, 4 or 8 bytes */
			uint32_t off = (op & 0x80) ? regs[take(&r, 1) % (sizeof(regs) / sizeof(regs[0]))]
						   : take(&r, 3) % (E1000_MMIO_SIZE + 0x100);
			uint64_t v;
			bus_read(&mmio, bar0 + off, &v, 1u << (take(&r, 1) % 4));
			break;
		}
		case 2: { /* the I/O window */
			uint32_t port = take(&r, 1) % E1000_IO_SIZE, v = take(&r, 4);
			if (op & 0x80)
				bus_write(&io, iobar + port, &v, (op & 0x40) ? 4 : 2);
			else
				bus_read(&io, iobar + port, &v, 4);
			break;
		}
		case 3: { /* poke guest RAM */
			uint32_t gpa = take(&r, 4) % RAM_SIZE;
			unsigned len = take(&r, 1);
			for (unsigned i = 0; i < len && r.left; i++)
				if (gpa + i < RAM_SIZE)
					ram[gpa + i] = (uint8_t)take(&r, 1);
			break;
		}
		case 4: { /* set up rings as the driver does, at sane or fuzzed places */
			uint32_t txb = (op & 0x80) ? take(&r, 4) : TX_RING, rxb = (op & 0x40) ? take(&r, 4) : RX_RING;
			wr(&mmio, bar0, E1000_TDLEN, RING_N * 16);
			wr(&mmio, bar0, E1000_TDBAL, txb);
			wr(&mmio, bar0, E1000_TDH, 0);
			wr(&mmio, bar0, E1000_TDT, 0);
			wr(&mmio, bar0, E1000_TCTL, E1000_TCTL_EN);
			tx_next = 0;
			for (unsigned i = 0; i < RING_N; i++) {
				uint64_t buf = 0x10000u + i * 0x800u;
				put(RX_RING + i * 16, &buf, 8);
			}
			wr(&mmio, bar0, E1000_RDLEN, RING_N * 16);
			wr(&mmio, bar0, E1000_RDBAL, rxb);
			wr(&mmio, bar0, E1000_RDH, 0);
			wr(&mmio, bar0, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | (take(&r, 4) & 0x06ff3ffcu));
			wr(&mmio, bar0, E1000_RDT, RING_N - 1);
			wr(&mmio, bar0, E1000_IMS, take(&r, 4));
			break;
		}
		case 5: /* one or more transmit descriptors, then the doorbell */
		case 6: {
			unsigned n = 1 + take(&r, 1) % 4;
			for (unsigned i = 0; i < n; i++)
				tx_descriptor(&r, tx_next++);
			wr(&mmio, bar0, E1000_TDT, tx_next % RING_N);
			break;
		}
		case 7: { /* a frame from the network */
			size_t len = take(&r, 2) % (E1000_RX_MAX + 8);
			size_t have = r.left < len ? r.left : len;
			memset(frame, 0, len);
			memcpy(frame, r.p, have);
			if (op & 0x80)
				memcpy(frame, mac, 6);
			r.p += have;
			r.left -= have;
			int rc = e1000_receive(nic, frame, len);
			if (rc != 0 && rc != -11 /* EAGAIN */ && rc != -22 /* EINVAL */)
				abort();
			break;
		}
		case 8: { /* PCI config write (BARs, COMMAND, ...) through the ports */
			uint32_t addr = 0x80000000u | nic->pci->slot << 11 | (take(&r, 1) & 0xfc), v = take(&r, 4);
			bus_write(&io, 0xcf8, &addr, 4);
			bus_write(&io, 0xcfc, &v, 4);
			bar0 = pci_device_bar_addr(nic->pci, E1000_MMIO_BAR);
			iobar = pci_device_bar_addr(nic->pci, E1000_IO_BAR);
			break;
		}
		case 9:
			if (op & 0x80)
				e1000_reset(nic);
			else
				wr(&mmio, bar0, E1000_CTRL, E1000_CTRL_RST);
			break;
		}
		/* Invariant: the line is (ICR & IMS) != 0, unless PCI INTx disable masks it. */
		bool masked = nic->pci->cfg[PCI_COMMAND + 1] & (PCI_COMMAND_INTX_OFF >> 8);
		bool want = !masked && (nic->st.regs[E1000_ICR / 4] & nic->st.regs[E1000_IMS / 4]);
		if (want != (irq_level == 1))
			abort();
	}

	e1000_destroy(nic);
	pci_host_destroy(&pci);
	bus_destroy(&io);
	bus_destroy(&mmio);
	return 0;
}
