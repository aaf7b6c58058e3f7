/* The 82540EM model, driven as Linux's e1000 driver drives it: PCI config through ports 0xcf8/0xcfc on a
 * real struct bus, registers through the PCI MMIO window and the I/O BAR, the Microwire EEPROM bit-banged
 * through EECD, the PHY through MDIC, descriptor rings and buffers in a malloc'd buffer wrapped as guest
 * RAM. Frames the card sends are captured by a test backend; frames it receives come through
 * e1000_receive(), also from a second thread. Checks data, checksums, TSO segments, write-backs,
 * interrupts, and that guest mistakes end in an error the driver can see and never outside guest RAM. */
#include "check_run.h"
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/inet_csum.h"
#include "devices/bus.h"
#include "devices/e1000.h"
#include "devices/pci.h"
#include "common/guest_mem.h"
#include "common/layout.h"

#define RAM_SIZE   (4 * MiB)
#define TX_RING    0x10000u  /* 16 descriptors */
#define RX_RING    0x11000u  /* 16 descriptors */
#define RING_N     16u
#define TX_BUFS    0x20000u  /* transmit buffers */
#define RX_BUFS    0x100000u /* receive buffers: 2 KiB each */
#define RX_BUFSZ   2048u
#define OUTSIDE    (RAM_SIZE + 0x1000u) /* an address that is not guest RAM */

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static struct bus io, mmio;
static struct pci_host pci;
static struct guest_mem mem;
static uint8_t *ram;
static struct e1000 *nic;
static unsigned slot;
static uint64_t bar0;
static uint16_t iobase;
static int irq_level;

/* The backend: frames the card transmitted, and how often it said receive buffers appeared. */
#define MAX_SENT 64
static struct {
	uint8_t frame[MAX_SENT][E1000_TX_MAX];
	size_t len[MAX_SENT];
	unsigned n;
	unsigned rx_ready;
} sent;

static void capture(void *opaque, const uint8_t *frame, size_t len)
{
	(void)opaque;
	ck_assert_uint_lt(sent.n, MAX_SENT);
	ck_assert_uint_le(len, E1000_TX_MAX);
	memcpy(sent.frame[sent.n], frame, len);
	sent.len[sent.n++] = len;
}

static void note_rx_ready(void *opaque)
{
	(void)opaque;
	sent.rx_ready++;
}

static void record_irq(void *opaque, unsigned gsi, int level)
{
	(void)opaque;
	(void)gsi;
	irq_level = level;
}

/* ---- PCI config through the ports ---- */

static uint32_t cfg_read(unsigned reg)
{
	uint32_t a = 0x80000000u | slot << 11 | reg, v = 0;
	bus_write(&io, 0xcf8, &a, 4);
	bus_read(&io, 0xcfc, &v, 4);
	return v;
}

static void cfg_write16(unsigned reg, uint16_t v)
{
	uint32_t a = 0x80000000u | slot << 11 | (reg & 0xfc);
	bus_write(&io, 0xcf8, &a, 4);
	bus_write(&io, 0xcfc + (reg & 3), &v, 2);
}

static uint32_t rd(uint32_t off)
{
	uint32_t v = 0;
	ck_assert(bus_read(&mmio, bar0 + off, &v, 4));
	return v;
}

static void wr(uint32_t off, uint32_t v)
{
	ck_assert(bus_write(&mmio, bar0 + off, &v, 4));
}

static void put64(uint32_t gpa, uint64_t v) { memcpy(ram + gpa, &v, 8); }
static void put32(uint32_t gpa, uint32_t v) { memcpy(ram + gpa, &v, 4); }

static void setup(void)
{
	ram = calloc(1, RAM_SIZE);
	ck_assert_ptr_nonnull(ram);
	guest_mem_wrap(&mem, ram, RAM_SIZE);
	bus_init(&io);
	bus_init(&mmio);
	irq_level = 0;
	memset(&sent, 0, sizeof(sent));
	struct irq_line line = { .set = record_irq };
	ck_assert_int_eq(pci_host_init(&pci, &io, &mmio, line), 0);
	ck_assert_int_eq(e1000_create(&pci, &mem, MAC, &nic), 0);
	struct e1000_backend be = { .transmit = capture, .rx_ready = note_rx_ready };
	e1000_connect(nic, &be);
	slot = nic->pci->slot;
	bar0 = pci_device_bar_addr(nic->pci, E1000_MMIO_BAR);
	iobase = (uint16_t)pci_device_bar_addr(nic->pci, E1000_IO_BAR);
	/* pci_enable_device + pci_set_master */
	cfg_write16(4, PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER);
}

static void teardown(void)
{
	e1000_destroy(nic);
	pci_host_destroy(&pci);
	bus_destroy(&io);
	bus_destroy(&mmio);
	free(ram);
}

/* ---- what the driver does ---- */

/* e1000_configure_tx: ring, head and tail at zero, transmitter on. */
static void configure_tx(void)
{
	wr(E1000_TDLEN, RING_N * E1000_DESC_SIZE);
	wr(E1000_TDBAH, 0);
	wr(E1000_TDBAL, TX_RING);
	wr(E1000_TDT, 0);
	wr(E1000_TDH, 0);
	wr(E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
}

/* e1000_configure_rx + e1000_alloc_rx_buffers: 2 KiB buffers, all but one descriptor given to the card. */
static void configure_rx(uint32_t rctl_extra)
{
	wr(E1000_RCTL, 0);
	wr(E1000_RDLEN, RING_N * E1000_DESC_SIZE);
	wr(E1000_RDBAH, 0);
	wr(E1000_RDBAL, RX_RING);
	wr(E1000_RDT, 0);
	wr(E1000_RDH, 0);
	for (unsigned i = 0; i < RING_N; i++) {
		put64(RX_RING + i * 16, RX_BUFS + i * RX_BUFSZ);
		put64(RX_RING + i * 16 + 8, 0);
	}
	wr(E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | rctl_extra);
	wr(E1000_RDT, RING_N - 1);
}

static unsigned tx_next;

/* One transmit descriptor at the ring's next slot. */
static void tx_desc(uint64_t addr, uint32_t lower, uint32_t upper)
{
	uint32_t at = TX_RING + (tx_next % RING_N) * 16;
	put64(at, addr);
	put32(at + 8, lower);
	put32(at + 12, upper);
	tx_next++;
}

static void tx_kick(void)
{
	wr(E1000_TDT, tx_next % RING_N);
}

static void make_frame(uint8_t *f, size_t len, const uint8_t *dst, uint8_t seed)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x08;
	f[13] = 0x00;
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(i * 7 + seed);
}

/* ---- PCI identity ---- */

START_TEST(pci_identity_and_bars)
{
	ck_assert_uint_eq(cfg_read(0), 0x100e8086u);
	ck_assert_uint_eq(cfg_read(8) >> 8, E1000_PCI_CLASS);
	ck_assert_uint_eq(cfg_read(0x2c), (uint32_t)E1000_PCI_SUBSYS << 16 | E1000_PCI_VENDOR);
	ck_assert_uint_eq(cfg_read(0x10), (uint32_t)bar0);
	ck_assert_uint_eq(bar0 % E1000_MMIO_SIZE, 0);
	ck_assert_uint_eq(cfg_read(0x14), (uint32_t)iobase | 1);
	ck_assert_uint_ge(iobase, LAYOUT_PCI_IO);
	ck_assert_uint_eq((cfg_read(0x3c) >> 8) & 0xff, PCI_INTA);
	/* Sizing BAR0 the way Linux does: 128 KiB. */
	uint32_t a = 0x80000000u | slot << 11 | 0x10, ones = 0xffffffffu, v = 0;
	bus_write(&io, 0xcf8, &a, 4);
	bus_write(&io, 0xcfc, &ones, 4);
	bus_read(&io, 0xcfc, &v, 4);
	ck_assert_uint_eq(v, ~(E1000_MMIO_SIZE - 1));
	v = (uint32_t)bar0;
	bus_write(&io, 0xcfc, &v, 4);
	ck_assert_uint_eq(rd(E1000_STATUS) & (E1000_STATUS_LU | E1000_STATUS_FD), E1000_STATUS_LU | E1000_STATUS_FD);
}
END_TEST

/* ---- EEPROM ---- */

static uint32_t eecd;

static void ee_write(uint32_t v)
{
	eecd = v;
	wr(E1000_EECD, v);
}

static void ee_clock(void)
{
	ee_write(eecd | E1000_EECD_SK);
	ee_write(eecd & ~E1000_EECD_SK);
}

static void ee_shift_out(uint16_t data, unsigned count)
{
	for (uint32_t mask = 1u << (count - 1); mask; mask >>= 1) {
		ee_write((eecd & ~E1000_EECD_DI) | ((data & mask) ? E1000_EECD_DI : 0));
		ee_clock();
	}
	ee_write(eecd & ~E1000_EECD_DI);
}

static uint16_t ee_shift_in(void)
{
	uint16_t data = 0;
	for (unsigned i = 0; i < 16; i++) {
		ee_write(eecd | E1000_EECD_SK);
		data = (uint16_t)(data << 1 | ((rd(E1000_EECD) & E1000_EECD_DO) ? 1 : 0));
		ee_write(eecd & ~E1000_EECD_SK);
	}
	return data;
}

/* e1000_acquire_eeprom, e1000_do_read_eeprom (Microwire) and e1000_release_eeprom, word by word. */
static void ee_read_all(uint16_t *words)
{
	eecd = rd(E1000_EECD);
	ee_write(eecd | E1000_EECD_REQ);
	ck_assert_uint_ne(rd(E1000_EECD) & E1000_EECD_GNT, 0);
	ee_write(eecd & ~(E1000_EECD_DI | E1000_EECD_SK));
	ee_write(eecd | E1000_EECD_CS);
	for (unsigned w = 0; w < E1000_EEPROM_WORDS; w++) {
		ee_shift_out(0x6, 3);
		ee_shift_out((uint16_t)w, 6);
		words[w] = ee_shift_in();
		/* standby: CS low, clock, CS high */
		ee_write(eecd & ~(E1000_EECD_CS | E1000_EECD_SK));
		ee_write(eecd | E1000_EECD_SK);
		ee_write(eecd | E1000_EECD_CS);
		ee_write(eecd & ~E1000_EECD_SK);
	}
	ee_write(eecd & ~(E1000_EECD_CS | E1000_EECD_DI));
	ee_clock();
	ee_write(eecd & ~E1000_EECD_REQ);
}

START_TEST(eeprom_as_the_driver_reads_it)
{
	uint32_t v = rd(E1000_EECD);
	ck_assert_uint_ne(v & E1000_EECD_PRES, 0);
	ck_assert_uint_eq(v & E1000_EECD_SIZE, 0); /* 64 words, 6 address bits */
	ck_assert_uint_eq(v & E1000_EECD_GNT, 0);
	uint16_t words[E1000_EEPROM_WORDS];
	ee_read_all(words);
	uint16_t sum = 0;
	for (unsigned i = 0; i < E1000_EEPROM_WORDS; i++)
		sum = (uint16_t)(sum + words[i]);
	ck_assert_uint_eq(sum, E1000_EEPROM_SUM);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_uint_eq(words[i], (uint16_t)(MAC[2 * i] | MAC[2 * i + 1] << 8));
	ck_assert_uint_eq(words[0x0d], E1000_PCI_DEVICE);
	ck_assert_uint_eq(words[0x0e], E1000_PCI_VENDOR);

	/* EERD gives the same words. */
	for (unsigned w = 0; w < E1000_EEPROM_WORDS; w++) {
		wr(E1000_EERD, w << E1000_EERD_ADDR_SHIFT | E1000_EERD_START);
		v = rd(E1000_EERD);
		ck_assert_uint_ne(v & E1000_EERD_DONE, 0);
		ck_assert_uint_eq(v >> E1000_EERD_DATA_SHIFT, words[w]);
	}
	/* A write opcode (101b) is ignored and the next read still works. */
	eecd = rd(E1000_EECD) | E1000_EECD_CS;
	ee_write(eecd);
	ee_shift_out(0x5, 3);
	ee_shift_out(0, 6);
	ee_shift_out(0x1234, 16);
	ee_write(eecd & ~E1000_EECD_CS);
	ee_read_all(words);
	ck_assert_uint_eq(words[0], (uint16_t)(MAC[0] | MAC[1] << 8));
}
END_TEST

/* ---- reset, PHY, interrupts ---- */

START_TEST(reset_through_the_io_bar)
{
	wr(E1000_IMS, E1000_ICR_LSC);
	wr(E1000_ICS, E1000_ICR_LSC);
	ck_assert_int_eq(irq_level, 1);
	wr(E1000_RCTL, E1000_RCTL_EN);
	wr(E1000_RA, 0);
	/* E1000_WRITE_REG_IO(hw, CTRL, ctrl | E1000_CTRL_RST) */
	uint32_t off = E1000_CTRL, ctrl = 0;
	ck_assert(bus_write(&io, iobase + E1000_IOADDR, &off, 4));
	ck_assert(bus_read(&io, iobase + E1000_IODATA, &ctrl, 4));
	ck_assert_uint_eq(ctrl, rd(E1000_CTRL));
	ctrl |= E1000_CTRL_RST;
	ck_assert(bus_write(&io, iobase + E1000_IODATA, &ctrl, 4));
	ck_assert_uint_eq(rd(E1000_CTRL) & E1000_CTRL_RST, 0);
	ck_assert_uint_eq(rd(E1000_IMS), 0);
	ck_assert_uint_eq(rd(E1000_RCTL), 0);
	ck_assert_uint_eq(rd(E1000_ICR), 0);
	ck_assert_int_eq(irq_level, 0);
	/* Receive address 0 is the EEPROM's MAC again, valid. */
	ck_assert_uint_eq(rd(E1000_RA), 0x12005452u);
	ck_assert_uint_eq(rd(E1000_RA + 4), 0x5634u | E1000_RAH_AV);
	/* IOADDR reads back, odd offsets of the window read zero. */
	ck_assert(bus_read(&io, iobase + E1000_IOADDR, &off, 4));
	ck_assert_uint_eq(off, E1000_CTRL);
	uint32_t junk = 0xffffffffu;
	ck_assert(bus_read(&io, iobase + 8, &junk, 4));
	ck_assert_uint_eq(junk, 0);
}
END_TEST

static uint32_t mdic(uint32_t phy, uint32_t r, uint32_t op, uint16_t data)
{
	wr(E1000_MDIC, op | r << E1000_MDIC_REG_SHIFT | phy << E1000_MDIC_PHY_SHIFT | data);
	uint32_t v = rd(E1000_MDIC);
	ck_assert_uint_ne(v & E1000_MDIC_READY, 0);
	return v;
}

START_TEST(phy_says_link_up)
{
	uint32_t id1 = mdic(1, 2, E1000_MDIC_OP_READ, 0) & 0xffff, id2 = mdic(1, 3, E1000_MDIC_OP_READ, 0) & 0xffff;
	ck_assert_uint_eq((id1 << 16 | id2) & 0xfffffff0u, 0x01410c20u); /* M88E1011_I_PHY_ID */
	uint32_t status = mdic(1, 1, E1000_MDIC_OP_READ, 0);
	ck_assert_uint_eq(status & 0x24, 0x24); /* link, autonegotiation complete */
	ck_assert_uint_eq(mdic(1, 0x11, E1000_MDIC_OP_READ, 0) & 0xec00, 0xac00);
	/* Writable control bits stick; reset restores the defaults; status registers are read-only. */
	mdic(1, 0x10, E1000_MDIC_OP_WRITE, 0x0808);
	ck_assert_uint_eq(mdic(1, 0x10, E1000_MDIC_OP_READ, 0) & 0xffff, 0x0808);
	mdic(1, 0, E1000_MDIC_OP_WRITE, 0x1340); /* restart autonegotiation */
	ck_assert_uint_eq(mdic(1, 0, E1000_MDIC_OP_READ, 0) & 0xffff, 0x1140);
	mdic(1, 1, E1000_MDIC_OP_WRITE, 0);
	ck_assert_uint_eq(mdic(1, 1, E1000_MDIC_OP_READ, 0) & 0xffff, status & 0xffff);
	mdic(1, 0, E1000_MDIC_OP_WRITE, 0x9140);
	ck_assert_uint_eq(mdic(1, 0x10, E1000_MDIC_OP_READ, 0) & 0xffff, 0x0068);
	/* No PHY at another address. */
	ck_assert_uint_ne(mdic(2, 2, E1000_MDIC_OP_READ, 0) & E1000_MDIC_ERROR, 0);
	/* Interrupt on completion when asked. */
	wr(E1000_IMS, E1000_ICR_MDAC);
	mdic(1, 2, E1000_MDIC_OP_READ | E1000_MDIC_INT_EN, 0);
	ck_assert_int_eq(irq_level, 1);
	ck_assert_uint_eq(rd(E1000_ICR), E1000_ICR_MDAC);
	ck_assert_int_eq(irq_level, 0);
}
END_TEST

START_TEST(interrupt_mask_and_causes)
{
	/* e1000_up: IMS = RXT0 | TXDW | RXDMT0 | RXSEQ | LSC, then ICS = LSC to start the watchdog. */
	uint32_t enable = E1000_ICR_RXT0 | E1000_ICR_TXDW | E1000_ICR_RXDMT0 | E1000_ICR_RXSEQ | E1000_ICR_LSC;
	wr(E1000_ICS, E1000_ICR_LSC);
	ck_assert_int_eq(irq_level, 0); /* masked */
	wr(E1000_IMS, enable);
	ck_assert_uint_eq(rd(E1000_IMS), enable);
	ck_assert_int_eq(irq_level, 1);
	/* e1000_intr: IMC = ~0 (the line drops), ICR read acknowledges. */
	wr(E1000_IMC, ~0u);
	ck_assert_int_eq(irq_level, 0);
	ck_assert_uint_eq(rd(E1000_ICR), E1000_ICR_LSC);
	ck_assert_uint_eq(rd(E1000_ICR), 0);
	/* Write-1-to-clear ICR, and causes the card does not have stay out. */
	wr(E1000_IMS, enable);
	wr(E1000_ICS, E1000_ICR_TXDW | E1000_ICR_RXT0 | 0x80000000u);
	ck_assert_int_eq(irq_level, 1);
	wr(E1000_ICR, E1000_ICR_TXDW);
	ck_assert_int_eq(irq_level, 1);
	wr(E1000_ICR, E1000_ICR_RXT0);
	ck_assert_int_eq(irq_level, 0);
	ck_assert_uint_eq(rd(E1000_ICR), 0);
	/* INTx disable in PCI COMMAND masks the line. */
	wr(E1000_ICS, E1000_ICR_LSC);
	ck_assert_int_eq(irq_level, 1);
	cfg_write16(4, PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_OFF);
	ck_assert_int_eq(irq_level, 0);
}
END_TEST

/* ---- transmit ---- */

START_TEST(transmit_legacy_descriptors)
{
	configure_tx();
	wr(E1000_IMS, E1000_ICR_TXDW);
	uint8_t f[300];
	make_frame(f, sizeof(f), MAC, 1);
	memcpy(ram + TX_BUFS, f, 100);
	memcpy(ram + TX_BUFS + 0x1000, f + 100, 200);
	/* Two buffers, EOP and RS on the last (e1000_tx_queue with adapter->txd_cmd). */
	tx_desc(TX_BUFS, E1000_TXD_CMD_IFCS | 100, 0);
	tx_desc(TX_BUFS + 0x1000, E1000_TXD_CMD_IFCS | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS | 200, 0);
	tx_kick();
	ck_assert_uint_eq(sent.n, 1);
	ck_assert_uint_eq(sent.len[0], 300);
	ck_assert_mem_eq(sent.frame[0], f, 300);
	ck_assert_uint_eq(rd(E1000_TDH), 2);
	ck_assert_uint_eq(ram[TX_RING + 16 + 12] & E1000_TXD_STAT_DD, E1000_TXD_STAT_DD);
	ck_assert_uint_eq(ram[TX_RING + 12] & E1000_TXD_STAT_DD, 0); /* no RS: no write-back */
	ck_assert_int_eq(irq_level, 1);
	ck_assert_uint_eq(rd(E1000_ICR), E1000_ICR_TXDW | E1000_ICR_TXQE);
	ck_assert_int_eq(irq_level, 0);
	ck_assert_uint_eq(rd(E1000_GPTC), 1);
	ck_assert_uint_eq(rd(E1000_GPTC), 0); /* statistics clear on read */

	/* Legacy checksum insertion (CMD.IC, CSS, CSO) over the rest of the frame. */
	memset(f + 14, 0, 2);
	memcpy(ram + TX_BUFS, f, 300);
	tx_desc(TX_BUFS, E1000_TXD_CMD_EOP | E1000_TXD_CMD_IC | E1000_TXD_CMD_RS | 14u << 16 | 300, 14u << 8);
	tx_kick();
	ck_assert_uint_eq(sent.n, 2);
	ck_assert_uint_eq(inet_csum_fold(inet_csum_add(0, sent.frame[1] + 14, 300 - 14)), 0xffff);

	/* The ring wraps. */
	for (unsigned i = 0; i < RING_N; i++)
		tx_desc(TX_BUFS, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS | 60, 0);
	wr(E1000_TDT, (tx_next - 1) % RING_N);
	ck_assert_uint_eq(rd(E1000_TDH), (tx_next - 1) % RING_N);
	ck_assert_uint_eq(sent.n, 2 + RING_N - 1);
}
END_TEST

/* A TCP/IPv4 packet with the fields Linux fills in before handing it to the card. */
static size_t tcp_packet(uint8_t *p, size_t payload, bool tso)
{
	make_frame(p, 14, MAC, 0);
	uint8_t *ip = p + 14, *tcp = p + 34;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, "\x0a\x00\x02\x0f\x0a\x00\x02\x04", 8);
	ip[4] = 0x12;
	ip[5] = 0x34;
	memset(tcp, 0, 20);
	tcp[0] = 0x9c; tcp[1] = 0x40; tcp[2] = 0x00; tcp[3] = 0x50;
	tcp[4] = 0x10; tcp[5] = 0x20; tcp[6] = 0x30; tcp[7] = 0x40;
	tcp[12] = 0x50;
	tcp[13] = 0x19; /* FIN, PSH, ACK */
	for (size_t i = 0; i < payload; i++)
		p[54 + i] = (uint8_t)(i * 13 + 5);
	size_t tcp_len = 20 + payload;
	if (!tso) {
		ip[2] = (uint8_t)((20 + tcp_len) >> 8);
		ip[3] = (uint8_t)(20 + tcp_len);
	}
	/* The pseudo-header sum the stack leaves in the checksum field (TSO: without the length). */
	uint64_t s = inet_csum_add(0, ip + 12, 8);
	s = inet_csum_add16(s, 6);
	if (!tso)
		s = inet_csum_add16(s, (uint16_t)tcp_len);
	uint16_t seed = inet_csum_fold(s);
	tcp[16] = (uint8_t)(seed >> 8);
	tcp[17] = (uint8_t)seed;
	return 54 + payload;
}

static bool tcp_checksum_ok(const uint8_t *frame, size_t len)
{
	const uint8_t *ip = frame + 14;
	uint64_t s = inet_csum_add(0, ip + 12, 8);
	s = inet_csum_add16(s, 6);
	s = inet_csum_add16(s, (uint16_t)(len - 34));
	s = inet_csum_add(s, frame + 34, len - 34);
	return inet_csum_fold(s) == 0xffff;
}

static void context_desc(uint8_t ipcss, uint8_t ipcso, uint16_t ipcse, uint8_t tucss, uint8_t tucso, uint16_t tucse,
			 uint32_t cmd_len, uint8_t hdrlen, uint16_t mss)
{
	uint64_t lo = (uint64_t)ipcss | (uint64_t)ipcso << 8 | (uint64_t)ipcse << 16 | (uint64_t)tucss << 32 |
		      (uint64_t)tucso << 40 | (uint64_t)tucse << 48;
	tx_desc(lo, E1000_TXD_CMD_DEXT | cmd_len, (uint32_t)hdrlen << 8 | (uint32_t)mss << 16);
}

START_TEST(transmit_checksum_offload)
{
	configure_tx();
	uint8_t p[600];
	size_t len = tcp_packet(p, 546, false);
	memcpy(ram + TX_BUFS, p, len);
	/* e1000_tx_csum: TUCSS at the TCP header, TUCSO at its checksum, to the end. */
	context_desc(0, 0, 0, 34, 34 + 16, 0, E1000_TXD_CMD_TCP, 0, 0);
	tx_desc(TX_BUFS, E1000_TXD_CMD_DEXT | 0x1u << E1000_TXD_DTYP_SHIFT | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_EOP |
				 E1000_TXD_CMD_RS | (uint32_t)len,
		E1000_TXD_POPTS_TXSM << 8);
	tx_kick();
	ck_assert_uint_eq(sent.n, 1);
	ck_assert_uint_eq(sent.len[0], len);
	ck_assert(tcp_checksum_ok(sent.frame[0], len));
	ck_assert_mem_eq(sent.frame[0], p, 50); /* only the checksum field changed */
	ck_assert_mem_eq(sent.frame[0] + 52, p + 52, len - 52);
	ck_assert_uint_eq(ram[TX_RING + 16 + 12] & E1000_TXD_STAT_DD, E1000_TXD_STAT_DD);
}
END_TEST

START_TEST(transmit_tcp_segmentation)
{
	configure_tx();
	static uint8_t p[4000];
	const size_t payload = 3000, mss = 1000;
	ck_assert_uint_eq(tcp_packet(p, payload, true), 54 + payload);
	/* Header and payload in separate buffers, as skb head and frags. */
	memcpy(ram + TX_BUFS, p, 54);
	memcpy(ram + TX_BUFS + 0x1000, p + 54, payload);
	context_desc(14, 14 + 10, 33, 34, 34 + 16, 0,
		     E1000_TXD_CMD_IP | E1000_TXD_CMD_TSE | E1000_TXD_CMD_TCP | (uint32_t)payload, 54, (uint16_t)mss);
	uint32_t dcmd = E1000_TXD_CMD_DEXT | 0x1u << E1000_TXD_DTYP_SHIFT | E1000_TXD_CMD_TSE | E1000_TXD_CMD_IFCS;
	uint32_t popts = (E1000_TXD_POPTS_TXSM | E1000_TXD_POPTS_IXSM) << 8;
	tx_desc(TX_BUFS, dcmd | 54, popts);
	tx_desc(TX_BUFS + 0x1000, dcmd | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS | (uint32_t)payload, popts);
	tx_kick();
	ck_assert_uint_eq(sent.n, 3);
	for (unsigned i = 0; i < 3; i++) {
		const uint8_t *s = sent.frame[i], *ip = s + 14, *tcp = s + 34;
		ck_assert_uint_eq(sent.len[i], 54 + mss);
		ck_assert_uint_eq((ip[2] << 8 | ip[3]), 20 + 20 + mss);
		ck_assert_uint_eq((ip[4] << 8 | ip[5]), 0x1234 + i);
		ck_assert_uint_eq(inet_csum_fold(inet_csum_add(0, ip, 20)), 0xffff);
		uint32_t seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 | tcp[7];
		ck_assert_uint_eq(seq, 0x10203040u + i * mss);
		ck_assert_uint_eq(tcp[13], i == 2 ? 0x19 : 0x10); /* FIN and PSH only on the last */
		ck_assert(tcp_checksum_ok(s, sent.len[i]));
		ck_assert_mem_eq(s + 54, p + 54 + i * mss, mss);
	}
	/* A last segment shorter than MSS. */
	sent.n = 0;
	context_desc(14, 14 + 10, 33, 34, 34 + 16, 0, E1000_TXD_CMD_IP | E1000_TXD_CMD_TSE | E1000_TXD_CMD_TCP | 2500,
		     54, (uint16_t)mss);
	tx_desc(TX_BUFS, dcmd | 54, popts);
	tx_desc(TX_BUFS + 0x1000, dcmd | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS | 2500, popts);
	tx_kick();
	ck_assert_uint_eq(sent.n, 3);
	ck_assert_uint_eq(sent.len[2], 54 + 500);
	ck_assert(tcp_checksum_ok(sent.frame[2], sent.len[2]));
}
END_TEST

/* ---- receive ---- */

static void check_rx(unsigned idx, const uint8_t *frame, size_t len)
{
	uint32_t at = RX_RING + idx * 16;
	size_t wire = len < 60 ? 60 : len;
	ck_assert_uint_eq(ram[at + 12] & (E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP), E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP);
	ck_assert_uint_eq(ram[at + 13], 0);
	ck_assert_uint_eq(ram[at + 8] | ram[at + 9] << 8, wire + 4);
	const uint8_t *buf = ram + RX_BUFS + idx * RX_BUFSZ;
	ck_assert_mem_eq(buf, frame, len);
	for (size_t i = len; i < wire; i++)
		ck_assert_uint_eq(buf[i], 0);
	uint32_t fcs = (uint32_t)crc32(0L, buf, (uInt)wire);
	ck_assert_mem_eq(buf + wire, &fcs, 4);
}

START_TEST(receive_into_the_ring)
{
	configure_rx(0);
	ck_assert_uint_ge(sent.rx_ready, 1);
	wr(E1000_IMS, E1000_ICR_RXT0);
	uint8_t f[1514];
	make_frame(f, sizeof(f), MAC, 3);
	ck_assert_int_eq(e1000_receive(nic, f, sizeof(f)), 0);
	check_rx(0, f, sizeof(f));
	ck_assert_uint_eq(rd(E1000_RDH), 1);
	ck_assert_int_eq(irq_level, 1);
	ck_assert_uint_eq(rd(E1000_ICR) & E1000_ICR_RXT0, E1000_ICR_RXT0);
	/* A short frame is padded to 60 bytes (plus FCS). */
	uint8_t arp[42];
	make_frame(arp, sizeof(arp), (const uint8_t *)"\xff\xff\xff\xff\xff\xff", 9);
	ck_assert_int_eq(e1000_receive(nic, arp, sizeof(arp)), 0);
	check_rx(1, arp, sizeof(arp));
	/* Not for us: filtered, no descriptor used. Promiscuous: taken. */
	uint8_t other[100];
	make_frame(other, sizeof(other), (const uint8_t *)"\x52\x54\x00\x99\x99\x99", 4);
	ck_assert_int_eq(e1000_receive(nic, other, sizeof(other)), 0);
	ck_assert_uint_eq(rd(E1000_RDH), 2);
	ck_assert_uint_eq(e1000_counters(nic).rx_filtered, 1);
	wr(E1000_RCTL, rd(E1000_RCTL) | E1000_RCTL_UPE);
	ck_assert_int_eq(e1000_receive(nic, other, sizeof(other)), 0);
	check_rx(2, other, sizeof(other));
	/* Multicast through the hash table (MO = 0: bits 47:36 of the address). */
	uint8_t mc[80];
	make_frame(mc, sizeof(mc), (const uint8_t *)"\x01\x00\x5e\x00\x00\xfb", 2);
	ck_assert_int_eq(e1000_receive(nic, mc, sizeof(mc)), 0);
	ck_assert_uint_eq(rd(E1000_RDH), 3);
	uint32_t hash = (0x00u >> 4 | 0xfbu << 4) & 0xfff;
	wr(E1000_MTA + 4 * (hash >> 5), 1u << (hash & 31));
	ck_assert_int_eq(e1000_receive(nic, mc, sizeof(mc)), 0);
	check_rx(3, mc, sizeof(mc));
	/* Broadcast without BAM: filtered. */
	wr(E1000_RCTL, E1000_RCTL_EN);
	ck_assert_int_eq(e1000_receive(nic, arp, sizeof(arp)), 0);
	ck_assert_uint_eq(rd(E1000_RDH), 4);
	ck_assert_uint_eq(rd(E1000_GPRC), 4);
}
END_TEST

START_TEST(receive_waits_for_buffers)
{
	configure_rx(0);
	uint8_t f[200];
	make_frame(f, sizeof(f), MAC, 5);
	for (unsigned i = 0; i < RING_N - 1; i++)
		ck_assert_int_eq(e1000_receive(nic, f, sizeof(f)), 0);
	/* The ring is full (head == tail): the frame waits, nothing is overwritten. */
	ck_assert_int_eq(e1000_receive(nic, f, sizeof(f)), -EAGAIN);
	ck_assert_uint_eq(rd(E1000_RDH), RING_N - 1);
	/* The driver cleans and returns buffers: the card says so, and the frame goes in. */
	unsigned before = sent.rx_ready;
	for (unsigned i = 0; i < RING_N; i++)
		ram[RX_RING + i * 16 + 12] = 0;
	wr(E1000_RDT, 3);
	ck_assert_uint_eq(sent.rx_ready, before + 1);
	ck_assert_int_eq(e1000_receive(nic, f, sizeof(f)), 0);
	check_rx(RING_N - 1, f, sizeof(f));
	/* Below the minimum threshold (half the ring): RXDMT0. */
	ck_assert_uint_ne(rd(E1000_ICR) & E1000_ICR_RXDMT0, 0);
	/* Receiver off: dropped, not held. */
	wr(E1000_RCTL, 0);
	ck_assert_int_eq(e1000_receive(nic, f, sizeof(f)), 0);
	ck_assert_uint_eq(e1000_counters(nic).rx_dropped, 1);
}
END_TEST

START_TEST(receive_spans_small_buffers_and_strips_crc)
{
	/* 256-byte buffers (BSIZE 11b): a 600-byte frame takes three descriptors, EOP on the last. */
	configure_rx(3u << E1000_RCTL_BSIZE_SHIFT | E1000_RCTL_SECRC);
	uint8_t f[600];
	make_frame(f, sizeof(f), MAC, 8);
	ck_assert_int_eq(e1000_receive(nic, f, sizeof(f)), 0);
	ck_assert_uint_eq(rd(E1000_RDH), 3);
	for (unsigned i = 0; i < 3; i++) {
		uint32_t at = RX_RING + i * 16;
		ck_assert_uint_eq(ram[at + 12] & E1000_RXD_STAT_EOP, i == 2 ? E1000_RXD_STAT_EOP : 0);
		ck_assert_uint_eq(ram[at + 8] | ram[at + 9] << 8, i == 2 ? 600 - 512 : 256);
		ck_assert_mem_eq(ram + RX_BUFS + i * RX_BUFSZ, f + i * 256, i == 2 ? 600 - 512 : 256);
	}
}
END_TEST

/* ---- guest mistakes ---- */

START_TEST(transmit_mistakes)
{
	configure_tx();
	uint8_t f[128];
	make_frame(f, sizeof(f), MAC, 1);
	memcpy(ram + TX_BUFS, f, sizeof(f));
	/* A buffer outside RAM: the descriptor is consumed (DD), no frame leaves. */
	tx_desc(OUTSIDE, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS | 128, 0);
	tx_desc((uint64_t)RAM_SIZE - 64, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS | 128, 0); /* straddles the end */
	tx_desc(UINT64_MAX - 8, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS | 128, 0);
	tx_kick();
	ck_assert_uint_eq(sent.n, 0);
	ck_assert_uint_eq(rd(E1000_TDH), 3);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_uint_eq(ram[TX_RING + i * 16 + 12] & E1000_TXD_STAT_DD, E1000_TXD_STAT_DD);
	ck_assert_uint_eq(e1000_counters(nic).tx_dropped, 3);
	/* A packet longer than the card can hold: dropped. */
	for (unsigned i = 0; i < 5; i++)
		tx_desc(0x200000, 16000, 0);
	tx_desc(TX_BUFS, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS | 128, 0);
	tx_kick();
	ck_assert_uint_eq(sent.n, 0);
	/* Zero-length buffers are fine; a good frame still goes out afterwards. */
	tx_desc(TX_BUFS, 0, 0);
	tx_desc(TX_BUFS, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS | 128, 0);
	tx_kick();
	ck_assert_uint_eq(sent.n, 1);
	/* TSO with no MSS or a header longer than the packet: dropped. */
	uint32_t dcmd = E1000_TXD_CMD_DEXT | 0x1u << E1000_TXD_DTYP_SHIFT | E1000_TXD_CMD_TSE;
	context_desc(14, 24, 33, 34, 50, 0, E1000_TXD_CMD_IP | E1000_TXD_CMD_TSE | E1000_TXD_CMD_TCP | 74, 54, 0);
	tx_desc(TX_BUFS, dcmd | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS | 128, 0x300);
	context_desc(14, 24, 33, 34, 50, 0, E1000_TXD_CMD_IP | E1000_TXD_CMD_TSE | E1000_TXD_CMD_TCP | 0, 200, 100);
	tx_desc(TX_BUFS, dcmd | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS | 128, 0x300);
	/* Checksum offsets past the frame: the frame leaves unchanged. */
	context_desc(14, 250, 255, 34, 250, 0, E1000_TXD_CMD_TCP, 0, 0);
	tx_desc(TX_BUFS, E1000_TXD_CMD_DEXT | 0x1u << E1000_TXD_DTYP_SHIFT | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS | 128,
		(E1000_TXD_POPTS_TXSM | E1000_TXD_POPTS_IXSM) << 8);
	tx_kick();
	ck_assert_uint_eq(sent.n, 2);
	ck_assert_mem_eq(sent.frame[1], f, sizeof(f));

	/* A tail past the ring's end: the ring is treated as empty; so is a ring of zero length. */
	unsigned head = rd(E1000_TDH);
	wr(E1000_TDT, RING_N + 3);
	ck_assert_uint_eq(rd(E1000_TDH), head);
	wr(E1000_TDLEN, 0);
	wr(E1000_TDT, 1);
	ck_assert_uint_eq(sent.n, 2);
	/* A ring outside RAM: nothing read, the head stays. */
	wr(E1000_TDT, 0);
	wr(E1000_TDLEN, RING_N * 16);
	wr(E1000_TDH, 0);
	wr(E1000_TDBAL, OUTSIDE);
	wr(E1000_TDT, 4);
	ck_assert_uint_eq(rd(E1000_TDH), 0);
	wr(E1000_TDBAH, 0xffffffffu);
	wr(E1000_TDBAL, 0xfffffff0u);
	wr(E1000_TDT, 5);
	ck_assert_uint_eq(rd(E1000_TDH), 0);
	ck_assert_uint_ge(e1000_counters(nic).ring_faults, 3);
	/* Bus mastering off: no DMA at all. */
	wr(E1000_TDBAH, 0);
	wr(E1000_TDBAL, TX_RING);
	cfg_write16(4, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
	wr(E1000_TDT, 6);
	ck_assert_uint_eq(rd(E1000_TDH), 0);
	ck_assert_uint_eq(sent.n, 2);
	/* Odd register accesses: ignored or all ones, never a crash. */
	uint8_t b = 0xff;
	ck_assert(bus_write(&mmio, bar0 + E1000_TDT + 1, &b, 1));
	uint64_t q = 0;
	ck_assert(bus_read(&mmio, bar0 + E1000_MMIO_SIZE - 4, &q, 8) == true);
}
END_TEST

START_TEST(receive_mistakes)
{
	configure_rx(0);
	uint8_t f[300];
	make_frame(f, sizeof(f), MAC, 6);
	/* A buffer outside RAM: the descriptor comes back with DD, EOP and RXE; the driver drops it. */
	put64(RX_RING, OUTSIDE);
	put64(RX_RING + 16, (uint64_t)RAM_SIZE - 100);
	ck_assert_int_eq(e1000_receive(nic, f, sizeof(f)), 0);
	ck_assert_int_eq(e1000_receive(nic, f, sizeof(f)), 0);
	for (unsigned i = 0; i < 2; i++) {
		ck_assert_uint_eq(ram[RX_RING + i * 16 + 12] & E1000_RXD_STAT_DD, E1000_RXD_STAT_DD);
		ck_assert_uint_eq(ram[RX_RING + i * 16 + 13], E1000_RXD_ERR_RXE);
	}
	/* The next good buffer works. */
	ck_assert_int_eq(e1000_receive(nic, f, sizeof(f)), 0);
	check_rx(2, f, sizeof(f));
	/* Not frames at all. */
	ck_assert_int_eq(e1000_receive(nic, f, 0), -EINVAL);
	ck_assert_int_eq(e1000_receive(nic, f, 13), -EINVAL);
	ck_assert_int_eq(e1000_receive(nic, f, E1000_RX_MAX + 1), -EINVAL);
	/* A ring outside RAM: the frame is lost (nothing to write back into), the card goes on. */
	wr(E1000_RDBAL, OUTSIDE);
	ck_assert_int_eq(e1000_receive(nic, f, sizeof(f)), 0);
	ck_assert_uint_ge(e1000_counters(nic).ring_faults, 3);
	/* Head or tail beyond the ring, or no ring: nothing free. */
	wr(E1000_RDBAL, RX_RING);
	wr(E1000_RDT, RING_N + 1);
	ck_assert_int_eq(e1000_receive(nic, f, sizeof(f)), -EAGAIN);
	wr(E1000_RDLEN, 0);
	ck_assert_int_eq(e1000_receive(nic, f, sizeof(f)), -EAGAIN);
	/* Bus mastering off: the frame waits. */
	wr(E1000_RDLEN, RING_N * 16);
	wr(E1000_RDT, 10);
	cfg_write16(4, PCI_COMMAND_MEMORY);
	ck_assert_int_eq(e1000_receive(nic, f, sizeof(f)), -EAGAIN);
	/* Frames after the backend is gone are counted and dropped on the transmit side. */
	e1000_connect(nic, NULL);
	cfg_write16(4, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	ck_assert_int_eq(e1000_receive(nic, f, sizeof(f)), 0);
}
END_TEST

/* ---- two threads ---- */

struct feeder {
	unsigned frames;
	unsigned delivered;
};

static void *feed(void *opaque)
{
	struct feeder *fd = opaque;
	uint8_t f[1000];
	for (unsigned i = 0; i < fd->frames;) {
		make_frame(f, sizeof(f), MAC, (uint8_t)i);
		f[14] = (uint8_t)i;
		f[15] = (uint8_t)(i >> 8);
		int rc = e1000_receive(nic, f, sizeof(f));
		if (rc == 0) {
			fd->delivered++;
			i++;
		} else {
			ck_assert_int_eq(rc, -EAGAIN);
			sched_yield();
		}
	}
	return NULL;
}

/* The backend delivers from its thread while the driver (this thread) cleans the ring and transmits. */
START_TEST(receive_from_another_thread)
{
	configure_rx(0);
	configure_tx();
	wr(E1000_IMS, E1000_ICR_RXT0);
	struct feeder fd = { .frames = 2000 };
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, feed, &fd), 0);
	unsigned next = 0, got = 0;
	while (got < fd.frames) {
		uint32_t at = RX_RING + next * 16;
		if (!(__atomic_load_n(&ram[at + 12], __ATOMIC_ACQUIRE) & E1000_RXD_STAT_DD)) {
			rd(E1000_ICR);
			sched_yield();
			continue;
		}
		const uint8_t *buf = ram + RX_BUFS + next * RX_BUFSZ;
		ck_assert_uint_eq(buf[14] | buf[15] << 8, got & 0xffff);
		ram[at + 12] = 0;
		wr(E1000_RDT, next); /* give the buffer back */
		next = (next + 1) % RING_N;
		got++;
		if (got % 100 == 0) {
			tx_desc(TX_BUFS, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS | 60, 0);
			tx_kick();
		}
	}
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_uint_eq(fd.delivered, fd.frames);
	ck_assert_uint_eq(e1000_counters(nic).rx_frames, fd.frames);
	ck_assert_uint_eq(sent.n, fd.frames / 100);
}
END_TEST

START_TEST(create_and_teardown)
{
	/* Another card on the same bus gets the next slot and its own windows. */
	struct e1000 *second = NULL;
	ck_assert_int_eq(e1000_create(&pci, &mem, MAC, &second), 0);
	ck_assert_uint_ne(second->pci->slot, slot);
	ck_assert_uint_ne(pci_device_bar_addr(second->pci, E1000_MMIO_BAR), bar0);
	e1000_destroy(second);
	/* A destroyed card's slot reads all ones through its BAR. */
	ck_assert_uint_eq(cfg_read(0), 0x100e8086u);
	e1000_reset(nic);
	ck_assert_uint_eq(rd(E1000_RDLEN), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e1000");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, pci_identity_and_bars);
	tcase_add_test(tc, eeprom_as_the_driver_reads_it);
	tcase_add_test(tc, reset_through_the_io_bar);
	tcase_add_test(tc, phy_says_link_up);
	tcase_add_test(tc, interrupt_mask_and_causes);
	tcase_add_test(tc, transmit_legacy_descriptors);
	tcase_add_test(tc, transmit_checksum_offload);
	tcase_add_test(tc, transmit_tcp_segmentation);
	tcase_add_test(tc, receive_into_the_ring);
	tcase_add_test(tc, receive_waits_for_buffers);
	tcase_add_test(tc, receive_spans_small_buffers_and_strips_crc);
	tcase_add_test(tc, transmit_mistakes);
	tcase_add_test(tc, receive_mistakes);
	tcase_add_test(tc, receive_from_another_thread);
	tcase_add_test(tc, create_and_teardown);
	suite_add_tcase(s, tc);
	return check_run(s);
}
