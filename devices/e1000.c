#include "devices/e1000.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/inet_csum.h"

/* Guest structures are little-endian, and so is every host lbvm runs on (x86-64 with KVM). */

#define REG(off)          ((off) / 4)
#define EECD_WRITABLE     (E1000_EECD_SK | E1000_EECD_CS | E1000_EECD_DI | E1000_EECD_FWE | E1000_EECD_REQ)
#define EECD_FWE_DIS      0x00000010u /* power-on value of the flash write enable field */
#define EE_OPCODE_BITS    3
#define EE_ADDR_BITS      6
#define EE_OP_READ        0x6u        /* start bit + read opcode 10b */
#define MDIC_REG(v)       (((v) >> E1000_MDIC_REG_SHIFT) & 0x1f)
#define MDIC_PHY(v)       (((v) >> E1000_MDIC_PHY_SHIFT) & 0x1f)
#define EERD_ADDR(v)      (((v) >> E1000_EERD_ADDR_SHIFT) & 0xff)
#define IOADDR_MASK       (E1000_MMIO_SIZE - 4)
#define RDMTS(rctl)       (((rctl) >> E1000_RCTL_RDMTS_SHIFT) & 3)
#define MO(rctl)          (((rctl) >> E1000_RCTL_MO_SHIFT) & 3)
#define BSIZE(rctl)       (((rctl) >> E1000_RCTL_BSIZE_SHIFT) & 3)
#define BASE_ALIGN_MASK   0xfffffff0u /* descriptor rings are 16-byte aligned */
#define HEAD_MASK         0xffffu
#define ETH_HLEN          14
#define ETH_ZLEN          60          /* shortest frame on the wire, without FCS */
#define ETH_FCS_LEN       4
#define VLAN_HLEN         4
#define MTA_WORDS         128
#define RA_ENTRIES        16
#define TSO_MIN_HDR       (ETH_HLEN + 20 + 8)
#define TCP_FLAGS_OFF     13
#define TCP_FIN_PSH       0x09u
#define ETH_P_8021Q       0x8100

/* Power-on register values the driver reads before writing. */
#define CTRL_INIT         (E1000_CTRL_FD | E1000_CTRL_SLU | E1000_CTRL_SPD_1000)
#define PBA_INIT          0x00100030u /* 48 KiB receive, 16 KiB transmit buffer */
#define LEDCTL_INIT       0x07068302u
#define RXCSUM_INIT       0x00000300u
#define TXDCTL_INIT       0x00000000u
#define VET_INIT          ETH_P_8021Q

/* M88E1011 PHY registers and their power-on values: a 1000BASE-T link to a partner that can do
 * everything, autonegotiation complete. */
#define PHY_CTRL          0x00
#define PHY_STATUS        0x01
#define PHY_ID1           0x02
#define PHY_ID2           0x03
#define PHY_AN_ADV        0x04
#define PHY_LP_ABILITY    0x05
#define PHY_AN_EXP        0x06
#define PHY_1000T_CTRL    0x09
#define PHY_1000T_STATUS  0x0a
#define PHY_EXT_STATUS    0x0f
#define PHY_SPEC_CTRL     0x10
#define PHY_SPEC_STATUS   0x11
#define PHY_EXT_SPEC_CTRL 0x14
#define PHY_CTRL_RESET    0x8000u
#define PHY_CTRL_RESTART_AN 0x0200u

static const uint16_t phy_init[E1000_PHY_REGS] = {
	[PHY_CTRL] = 0x1140,          /* autonegotiation on, full duplex, 1000 Mb/s */
	[PHY_STATUS] = 0x796d,        /* 10/100 capable, extended status, AN complete, link up */
	[PHY_ID1] = 0x0141,           /* Marvell */
	[PHY_ID2] = 0x0c20,           /* 88E1011, revision 0 */
	[PHY_AN_ADV] = 0x0de1,
	[PHY_LP_ABILITY] = 0x45e1,    /* partner: 10/100 full and half, pause, acknowledged */
	[PHY_AN_EXP] = 0x0001,
	[PHY_1000T_CTRL] = 0x0300,
	[PHY_1000T_STATUS] = 0x3c00,  /* receivers OK, partner 1000 full/half */
	[PHY_EXT_STATUS] = 0x3000,
	[PHY_SPEC_CTRL] = 0x0068,
	[PHY_SPEC_STATUS] = 0xac00,   /* 1000 Mb/s, full duplex, resolved, link */
	[PHY_EXT_SPEC_CTRL] = 0x0d60,
};

/* The PHY registers software may change (the rest are status or identity). */
static bool phy_writable(unsigned reg)
{
	switch (reg) {
	case PHY_STATUS:
	case PHY_ID1:
	case PHY_ID2:
	case PHY_LP_ABILITY:
	case PHY_AN_EXP:
	case PHY_1000T_STATUS:
	case PHY_EXT_STATUS:
	case PHY_SPEC_STATUS:
		return false;
	default:
		return true;
	}
}

/* EEPROM words the driver reads: MAC address, device identity, and the checksum word. */
#define EE_MAC            0x00
#define EE_SUBSYS         0x0b
#define EE_SUBSYS_VENDOR  0x0c
#define EE_DEVICE         0x0d
#define EE_VENDOR         0x0e
#define EE_CHECKSUM       0x3f

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

static uint32_t *reg(struct e1000 *nic, unsigned off)
{
	return &nic->st.regs[REG(off)];
}

/* ---- interrupts -------------------------------------------------------------------------------- */

static void update_irq(struct e1000 *nic)
{
	pci_device_set_intx(nic->pci, (*reg(nic, E1000_ICR) & *reg(nic, E1000_IMS)) != 0);
}

static void raise_cause(struct e1000 *nic, uint32_t causes)
{
	*reg(nic, E1000_ICR) |= causes & E1000_ICR_MASK;
	update_irq(nic);
}

/* ---- EEPROM ------------------------------------------------------------------------------------ */

static void eeprom_build(struct e1000_state *st, const uint8_t mac[6])
{
	memset(st->eeprom, 0, sizeof(st->eeprom));
	for (unsigned i = 0; i < 3; i++)
		st->eeprom[EE_MAC + i] = (uint16_t)(mac[2 * i] | mac[2 * i + 1] << 8);
	st->eeprom[EE_SUBSYS] = E1000_PCI_SUBSYS;
	st->eeprom[EE_SUBSYS_VENDOR] = E1000_PCI_VENDOR;
	st->eeprom[EE_DEVICE] = E1000_PCI_DEVICE;
	st->eeprom[EE_VENDOR] = E1000_PCI_VENDOR;
	uint16_t sum = 0;
	for (unsigned i = 0; i < EE_CHECKSUM; i++)
		sum = (uint16_t)(sum + st->eeprom[i]);
	st->eeprom[EE_CHECKSUM] = (uint16_t)(E1000_EEPROM_SUM - sum);
}

/* One write of EECD: the Microwire protocol is clocked by the rising edges of SK while CS is high.
 * A read is opcode 110b and a 6-bit address; the 16 data bits follow, most significant first, on the
 * next rising edges, and the address advances for a sequential read. Writes and erases are accepted
 * and ignored: the EEPROM is read-only. */
static void eecd_write(struct e1000 *nic, uint32_t val)
{
	struct e1000_state *st = &nic->st;
	uint32_t old = *reg(nic, E1000_EECD);
	uint32_t now = val & EECD_WRITABLE;
	*reg(nic, E1000_EECD) = now;
	if (!(now & E1000_EECD_CS)) {
		memset(&st->ee, 0, sizeof(st->ee));
		return;
	}
	if ((old & E1000_EECD_SK) || !(now & E1000_EECD_SK))
		return; /* not a rising edge */
	if (st->ee.reading) {
		st->ee.dout = st->ee.word >> 15;
		st->ee.word = (uint16_t)(st->ee.word << 1);
		if (--st->ee.bits_left == 0) {
			st->ee.addr = (st->ee.addr + 1) % E1000_EEPROM_WORDS;
			st->ee.word = st->eeprom[st->ee.addr];
			st->ee.bits_left = 16;
		}
		return;
	}
	if (st->ee.ignoring)
		return;
	st->ee.shift_in = st->ee.shift_in << 1 | ((now & E1000_EECD_DI) ? 1 : 0);
	if (++st->ee.bits_in < EE_OPCODE_BITS + EE_ADDR_BITS)
		return;
	unsigned opcode = st->ee.shift_in >> EE_ADDR_BITS & 0x7;
	if (opcode == EE_OP_READ) {
		st->ee.reading = true;
		st->ee.dout = false; /* the dummy zero before the data */
		st->ee.addr = st->ee.shift_in & (E1000_EEPROM_WORDS - 1);
		st->ee.word = st->eeprom[st->ee.addr];
		st->ee.bits_left = 16;
	} else {
		st->ee.ignoring = true;
	}
}

static uint32_t eecd_read(struct e1000 *nic)
{
	uint32_t v = *reg(nic, E1000_EECD) | E1000_EECD_PRES;
	if (v & E1000_EECD_REQ)
		v |= E1000_EECD_GNT; /* no firmware competes for the EEPROM */
	if (nic->st.ee.dout)
		v |= E1000_EECD_DO;
	return v;
}

static void eerd_write(struct e1000 *nic, uint32_t val)
{
	if (!(val & E1000_EERD_START)) {
		*reg(nic, E1000_EERD) = val & ~E1000_EERD_DONE;
		return;
	}
	unsigned addr = EERD_ADDR(val);
	uint16_t data = addr < E1000_EEPROM_WORDS ? nic->st.eeprom[addr] : 0xffff;
	*reg(nic, E1000_EERD) = (uint32_t)data << E1000_EERD_DATA_SHIFT | addr << E1000_EERD_ADDR_SHIFT |
				E1000_EERD_DONE;
}

/* ---- PHY through MDIC -------------------------------------------------------------------------- */

static void phy_reset(struct e1000_state *st)
{
	memcpy(st->phy, phy_init, sizeof(st->phy));
}

static void mdic_write(struct e1000 *nic, uint32_t val)
{
	unsigned r = MDIC_REG(val);
	uint32_t result = val & ~(E1000_MDIC_READY | E1000_MDIC_ERROR);
	if (MDIC_PHY(val) != E1000_PHY_ADDR) {
		result |= E1000_MDIC_ERROR;
	} else if (val & E1000_MDIC_OP_READ) {
		result = (result & ~E1000_MDIC_DATA_MASK) | nic->st.phy[r];
	} else if (val & E1000_MDIC_OP_WRITE) {
		uint16_t data = (uint16_t)(val & E1000_MDIC_DATA_MASK);
		if (r == PHY_CTRL && (data & PHY_CTRL_RESET)) {
			phy_reset(&nic->st);
		} else if (phy_writable(r)) {
			/* Reset and restart-autonegotiation complete at once and read back zero. */
			nic->st.phy[r] = r == PHY_CTRL ? (uint16_t)(data & ~(PHY_CTRL_RESET | PHY_CTRL_RESTART_AN)) : data;
		}
	}
	*reg(nic, E1000_MDIC) = result | E1000_MDIC_READY;
	if (val & E1000_MDIC_INT_EN)
		raise_cause(nic, E1000_ICR_MDAC);
}

/* ---- reset ------------------------------------------------------------------------------------- */

static void mac_reset(struct e1000 *nic)
{
	struct e1000_state *st = &nic->st;
	memset(st->regs, 0, sizeof(st->regs));
	memset(&st->ee, 0, sizeof(st->ee));
	memset(&st->ctx, 0, sizeof(st->ctx));
	memset(&st->pkt, 0, sizeof(st->pkt));
	st->ioaddr = 0;
	*reg(nic, E1000_CTRL) = CTRL_INIT;
	*reg(nic, E1000_EECD) = EECD_FWE_DIS;
	*reg(nic, E1000_PBA) = PBA_INIT;
	*reg(nic, E1000_LEDCTL) = LEDCTL_INIT;
	*reg(nic, E1000_RXCSUM) = RXCSUM_INIT;
	*reg(nic, E1000_TXDCTL) = TXDCTL_INIT;
	*reg(nic, E1000_VET) = VET_INIT;
	/* The EEPROM's MAC address is loaded into receive address 0, as the hardware does after reset. */
	const uint16_t *ee = st->eeprom;
	*reg(nic, E1000_RA) = (uint32_t)ee[EE_MAC] | (uint32_t)ee[EE_MAC + 1] << 16;
	*reg(nic, E1000_RA + 4) = ee[EE_MAC + 2] | E1000_RAH_AV;
	update_irq(nic);
}

/* ---- transmit ---------------------------------------------------------------------------------- */

static void emit(struct e1000 *nic, const uint8_t *frame, size_t len)
{
	if (len < ETH_HLEN) {
		nic->count.tx_dropped++;
		return;
	}
	nic->count.tx_frames++;
	nic->count.tx_bytes += len;
	(*reg(nic, E1000_GPTC))++;
	(*reg(nic, E1000_TPT))++;
	uint64_t octets = ((uint64_t)*reg(nic, E1000_GOTCH) << 32 | *reg(nic, E1000_GOTCL)) + len;
	*reg(nic, E1000_GOTCL) = (uint32_t)octets;
	*reg(nic, E1000_GOTCH) = (uint32_t)(octets >> 32);
	if (nic->backend.transmit)
		nic->backend.transmit(nic->backend.opaque, frame, len);
}

/* Store ~sum(frame[start..end]) at frame[at]; end 0 means the end of the frame, otherwise inclusive.
 * zero_first: the field holds garbage (the IP checksum), not a seed (the TCP/UDP pseudo-header sum). */
static void insert_checksum(uint8_t *frame, size_t len, unsigned start, unsigned at, unsigned end,
			    uint64_t extra, bool zero_first)
{
	size_t stop = (end == 0 || end >= len) ? len : (size_t)end + 1;
	if (start >= stop || (size_t)at + 2 > len)
		return; /* a context that does not fit the frame: leave it as the guest wrote it */
	if (zero_first)
		put_be16(frame + at, 0);
	uint16_t c = inet_csum_finish(inet_csum_add(extra, frame + start, stop - start));
	put_be16(frame + at, c);
}

static void offload_checksums(struct e1000 *nic, uint8_t *frame, size_t len, uint64_t tu_extra)
{
	const struct e1000_state *st = &nic->st;
	if (st->pkt.popts & E1000_TXD_POPTS_IXSM)
		insert_checksum(frame, len, st->ctx.ipcss, st->ctx.ipcso, st->ctx.ipcse, 0, true);
	if (st->pkt.popts & E1000_TXD_POPTS_TXSM)
		insert_checksum(frame, len, st->ctx.tucss, st->ctx.tucso, st->ctx.tucse, tu_extra, false);
}

/* Insert an 802.1Q tag after the MAC addresses when the descriptor asks for one and VLANs are on. */
static size_t vlan_tag(struct e1000 *nic, uint8_t *frame, size_t len, size_t cap)
{
	if (!nic->st.pkt.vle || !(*reg(nic, E1000_CTRL) & E1000_CTRL_VME) || len < 12 || len + VLAN_HLEN > cap)
		return len;
	memmove(frame + 12 + VLAN_HLEN, frame + 12, len - 12);
	put_be16(frame + 12, (uint16_t)*reg(nic, E1000_VET));
	put_be16(frame + 14, nic->st.pkt.special);
	return len + VLAN_HLEN;
}

/* TCP segmentation: every segment is the header (HDRLEN bytes, with lengths, IP id, sequence number and
 * flags adjusted) plus at most MSS bytes of payload; checksums as the data descriptors ask, the TCP/UDP
 * one over a pseudo-header sum the driver left without the length. */
static void segment(struct e1000 *nic)
{
	const struct e1000_state *st = &nic->st;
	const uint8_t *pkt = nic->tx_buf;
	size_t len = st->pkt.len, hdr = st->ctx.hdrlen, mss = st->ctx.mss;
	bool ipv4 = st->ctx.tucmd & E1000_TXD_CMD_IP, tcp = st->ctx.tucmd & E1000_TXD_CMD_TCP;
	unsigned ipcss = st->ctx.ipcss, tucss = st->ctx.tucss;
	if (mss == 0 || hdr < TSO_MIN_HDR || hdr > len || ipcss + 20 > hdr || tucss + (tcp ? 20u : 8u) > hdr ||
	    tucss <= ipcss) {
		nic->count.tx_dropped++;
		return;
	}
	size_t payload = len - hdr;
	uint32_t seq = get_be32(pkt + tucss + 4);
	uint16_t ip_id = get_be16(pkt + ipcss + 4);
	size_t off = 0;
	unsigned n = 0;
	do {
		size_t take = payload - off < mss ? payload - off : mss;
		bool last = off + take >= payload;
		uint8_t *seg = nic->seg_buf;
		memcpy(seg, pkt, hdr);
		memcpy(seg + hdr, pkt + hdr + off, take);
		size_t seg_len = hdr + take;
		if (ipv4) {
			put_be16(seg + ipcss + 2, (uint16_t)(seg_len - ipcss));
			put_be16(seg + ipcss + 4, (uint16_t)(ip_id + n));
		} else {
			put_be16(seg + ipcss + 4, (uint16_t)(seg_len - ipcss - 40)); /* IPv6 payload length */
		}
		if (tcp) {
			put_be32(seg + tucss + 4, seq + (uint32_t)off);
			if (!last)
				seg[tucss + TCP_FLAGS_OFF] &= (uint8_t)~TCP_FIN_PSH;
		} else {
			put_be16(seg + tucss + 4, (uint16_t)(seg_len - tucss)); /* UDP length */
		}
		offload_checksums(nic, seg, seg_len, (uint64_t)(seg_len - tucss));
		seg_len = vlan_tag(nic, seg, seg_len, E1000_TX_MAX);
		emit(nic, seg, seg_len);
		off += take;
		n++;
	} while (off < payload);
}

static void finish_packet(struct e1000 *nic)
{
	struct e1000_state *st = &nic->st;
	if (st->pkt.bad) {
		nic->count.tx_dropped++;
	} else if (st->pkt.tse && (st->ctx.tucmd & E1000_TXD_CMD_TSE)) {
		segment(nic);
	} else {
		uint8_t *frame = nic->tx_buf;
		size_t len = st->pkt.len;
		if (st->pkt.legacy_ic)
			insert_checksum(frame, len, st->pkt.css, st->pkt.cso, 0, 0, false);
		else
			offload_checksums(nic, frame, len, 0);
		len = vlan_tag(nic, frame, len, E1000_TX_MAX);
		emit(nic, frame, len);
	}
	memset(&st->pkt, 0, sizeof(st->pkt));
}

/* Append a buffer to the packet being gathered. */
static void gather(struct e1000 *nic, uint64_t addr, size_t len)
{
	struct e1000_state *st = &nic->st;
	if (len == 0 || st->pkt.bad)
		return;
	if (len > E1000_TX_MAX - st->pkt.len - VLAN_HLEN ||
	    guest_mem_read(nic->mem, addr, nic->tx_buf + st->pkt.len, len) < 0) {
		st->pkt.bad = true;
		return;
	}
	st->pkt.len += len;
}

static void tx_context(struct e1000 *nic, const uint8_t *d)
{
	struct e1000_state *st = &nic->st;
	uint32_t lower = get32(d + 8), upper = get32(d + 12);
	st->ctx.ipcss = d[0];
	st->ctx.ipcso = d[1];
	st->ctx.ipcse = (uint16_t)(d[2] | d[3] << 8);
	st->ctx.tucss = d[4];
	st->ctx.tucso = d[5];
	st->ctx.tucse = (uint16_t)(d[6] | d[7] << 8);
	st->ctx.paylen = lower & E1000_TXD_DTALEN_MASK;
	st->ctx.tucmd = lower & 0xff000000u;
	st->ctx.hdrlen = (uint8_t)(upper >> 8);
	st->ctx.mss = (uint16_t)(upper >> 16);
}

/* One descriptor: a context sets up offloads; data and legacy descriptors add buffers to the packet,
 * which leaves with the descriptor that has EOP. */
static void tx_descriptor(struct e1000 *nic, const uint8_t *d)
{
	struct e1000_state *st = &nic->st;
	uint64_t addr;
	memcpy(&addr, d, 8);
	uint32_t lower = get32(d + 8), upper = get32(d + 12);
	size_t len;
	if (lower & E1000_TXD_CMD_DEXT) {
		unsigned dtyp = (lower >> E1000_TXD_DTYP_SHIFT) & 0xf;
		if (dtyp == E1000_TXD_DTYP_CTX) {
			tx_context(nic, d);
			return;
		}
		if (dtyp != E1000_TXD_DTYP_DATA)
			return; /* reserved type: consumed, nothing sent */
		len = lower & E1000_TXD_DTALEN_MASK;
		if (!st->pkt.started) {
			st->pkt.tse = lower & E1000_TXD_CMD_TSE;
			st->pkt.popts = (uint8_t)(upper >> 8);
		}
	} else {
		len = lower & E1000_TXD_LEN_MASK;
		st->pkt.legacy_ic = lower & E1000_TXD_CMD_IC;
		st->pkt.cso = (uint8_t)(lower >> 16);
		st->pkt.css = (uint8_t)(upper >> 8);
		st->pkt.popts = 0;
		st->pkt.tse = false;
	}
	st->pkt.started = true;
	st->pkt.vle = lower & E1000_TXD_CMD_VLE;
	st->pkt.special = (uint16_t)(upper >> 16);
	gather(nic, addr, len);
	if (lower & E1000_TXD_CMD_EOP)
		finish_packet(nic);
}

/* The ring's length in descriptors, or 0 when head or tail point outside it (a guest mistake: the ring
 * is treated as empty). */
static uint32_t ring_size(struct e1000 *nic, unsigned len_reg, unsigned head_reg, unsigned tail_reg)
{
	uint32_t n = *reg(nic, len_reg) / E1000_DESC_SIZE;
	if (n && (*reg(nic, head_reg) >= n || *reg(nic, tail_reg) >= n)) {
		nic->count.ring_faults++;
		return 0;
	}
	return n;
}

static uint64_t ring_base(struct e1000 *nic, unsigned low_reg)
{
	return (uint64_t)*reg(nic, low_reg + 4) << 32 | *reg(nic, low_reg);
}

/* Transmit every descriptor from TDH up to TDT. A descriptor outside guest RAM stops the ring there
 * (the driver sees no progress and resets the card). */
static void tx_run(struct e1000 *nic)
{
	if (!(*reg(nic, E1000_TCTL) & E1000_TCTL_EN) || !pci_device_bus_master(nic->pci))
		return;
	uint32_t n = ring_size(nic, E1000_TDLEN, E1000_TDH, E1000_TDT);
	if (n == 0)
		return;
	uint64_t base = ring_base(nic, E1000_TDBAL);
	uint32_t *head = reg(nic, E1000_TDH), tail = *reg(nic, E1000_TDT);
	uint32_t causes = 0;
	while (*head != tail) {
		uint8_t d[E1000_DESC_SIZE];
		uint64_t at = base + (uint64_t)*head * E1000_DESC_SIZE;
		if (guest_mem_read(nic->mem, at, d, sizeof(d)) < 0) {
			nic->count.ring_faults++;
			break;
		}
		tx_descriptor(nic, d);
		if (get32(d + 8) & E1000_TXD_CMD_RS) {
			uint8_t status = d[12] | E1000_TXD_STAT_DD;
			if (guest_mem_write(nic->mem, at + 12, &status, 1) < 0)
				nic->count.ring_faults++;
			causes |= E1000_ICR_TXDW;
		}
		*head = (*head + 1) % n;
	}
	if (*head == tail)
		causes |= E1000_ICR_TXQE;
	raise_cause(nic, causes);
}

/* ---- receive ----------------------------------------------------------------------------------- */

static size_t rx_buffer_size(uint32_t rctl)
{
	static const size_t normal[4] = { 2048, 1024, 512, 256 };
	static const size_t extended[4] = { 2048, 16384, 8192, 4096 }; /* BSEX with BSIZE 00 is reserved */
	return (rctl & E1000_RCTL_BSEX) ? extended[BSIZE(rctl)] : normal[BSIZE(rctl)];
}

static bool multicast_hashed(struct e1000 *nic, const uint8_t *dst, uint32_t rctl)
{
	static const unsigned shift[4] = { 4, 3, 2, 0 };
	unsigned s = shift[MO(rctl)];
	uint32_t hash = ((uint32_t)dst[4] >> s | (uint32_t)dst[5] << (8 - s)) & 0xfff;
	return *reg(nic, E1000_MTA + 4 * (hash >> 5)) & (1u << (hash & 31));
}

static bool rx_accept(struct e1000 *nic, const uint8_t *dst)
{
	uint32_t rctl = *reg(nic, E1000_RCTL);
	static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	if (!memcmp(dst, broadcast, 6))
		return rctl & E1000_RCTL_BAM;
	if (dst[0] & 1)
		return (rctl & E1000_RCTL_MPE) || multicast_hashed(nic, dst, rctl);
	if (rctl & E1000_RCTL_UPE)
		return true;
	for (unsigned i = 0; i < RA_ENTRIES; i++) {
		uint32_t lo = *reg(nic, E1000_RA + 8 * i), hi = *reg(nic, E1000_RA + 8 * i + 4);
		uint8_t ra[6] = { (uint8_t)lo, (uint8_t)(lo >> 8), (uint8_t)(lo >> 16), (uint8_t)(lo >> 24),
				  (uint8_t)hi, (uint8_t)(hi >> 8) };
		if ((hi & E1000_RAH_AV) && !memcmp(dst, ra, 6))
			return true;
	}
	return false;
}

static int rx_deliver(struct e1000 *nic, const uint8_t *frame, size_t len)
{
	uint32_t rctl = *reg(nic, E1000_RCTL);
	if (!(rctl & E1000_RCTL_EN)) {
		nic->count.rx_dropped++;
		return 0;
	}
	if (!rx_accept(nic, frame)) {
		nic->count.rx_filtered++;
		return 0;
	}
	if (!pci_device_bus_master(nic->pci))
		return -EAGAIN; /* no DMA until the driver allows it */
	uint32_t n = ring_size(nic, E1000_RDLEN, E1000_RDH, E1000_RDT);
	if (n == 0)
		return -EAGAIN;
	/* What the wire carried: padded to the minimum length, with the FCS unless the driver strips it. */
	size_t total = len < ETH_ZLEN ? ETH_ZLEN : len;
	memcpy(nic->rx_buf, frame, len);
	memset(nic->rx_buf + len, 0, total - len);
	if (!(rctl & E1000_RCTL_SECRC)) {
		uint32_t fcs = (uint32_t)crc32(0L, nic->rx_buf, (uInt)total);
		memcpy(nic->rx_buf + total, &fcs, ETH_FCS_LEN);
		total += ETH_FCS_LEN;
	}
	size_t bufsize = rx_buffer_size(rctl);
	uint32_t needed = (uint32_t)((total + bufsize - 1) / bufsize);
	uint32_t *head = reg(nic, E1000_RDH), tail = *reg(nic, E1000_RDT);
	uint32_t free_desc = (tail + n - *head) % n;
	if (free_desc < needed)
		return -EAGAIN; /* held by the backend, not lost: no overrun to report */
	uint64_t base = ring_base(nic, E1000_RDBAL);
	for (size_t done = 0; done < total;) {
		uint64_t at = base + (uint64_t)*head * E1000_DESC_SIZE;
		uint64_t buf;
		if (guest_mem_read(nic->mem, at, &buf, sizeof(buf)) < 0) {
			/* The ring itself is not RAM: nothing can be written back. The frame is lost. */
			nic->count.ring_faults++;
			nic->count.rx_dropped++;
			return 0;
		}
		size_t chunk = total - done < bufsize ? total - done : bufsize;
		uint8_t wb[8] = { (uint8_t)chunk, (uint8_t)(chunk >> 8), 0, 0, E1000_RXD_STAT_DD | E1000_RXD_STAT_IXSM };
		if (done + chunk == total)
			wb[4] |= E1000_RXD_STAT_EOP;
		if (guest_mem_write(nic->mem, buf, nic->rx_buf + done, chunk) < 0) {
			wb[5] = E1000_RXD_ERR_RXE; /* the driver drops the frame and reuses the buffer */
			nic->count.ring_faults++;
		}
		if (guest_mem_write(nic->mem, at + 8, wb, sizeof(wb)) < 0)
			nic->count.ring_faults++;
		*head = (*head + 1) % n;
		done += chunk;
	}
	nic->count.rx_frames++;
	nic->count.rx_bytes += len;
	(*reg(nic, E1000_GPRC))++;
	(*reg(nic, E1000_TPR))++;
	uint64_t octets = ((uint64_t)*reg(nic, E1000_GORCH) << 32 | *reg(nic, E1000_GORCL)) + total;
	*reg(nic, E1000_GORCL) = (uint32_t)octets;
	*reg(nic, E1000_GORCH) = (uint32_t)(octets >> 32);
	uint32_t causes = E1000_ICR_RXT0;
	uint32_t left = (tail + n - *head) % n;
	if (left <= n >> (RDMTS(rctl) + 1))
		causes |= E1000_ICR_RXDMT0;
	raise_cause(nic, causes);
	return 0;
}

int e1000_receive(struct e1000 *nic, const uint8_t *frame, size_t len)
{
	if (len < ETH_HLEN || len > E1000_RX_MAX)
		return -EINVAL;
	pthread_mutex_lock(&nic->lock);
	int rc = rx_deliver(nic, frame, len);
	pthread_mutex_unlock(&nic->lock);
	return rc;
}

static void rx_ready(struct e1000 *nic)
{
	if (nic->backend.rx_ready)
		nic->backend.rx_ready(nic->backend.opaque);
}

/* ---- register access --------------------------------------------------------------------------- */

static uint32_t status_value(void)
{
	return E1000_STATUS_FD | E1000_STATUS_LU | E1000_STATUS_SPEED_1000 | E1000_STATUS_ASDV_1000;
}

static uint32_t reg_read(struct e1000 *nic, unsigned off)
{
	uint32_t v;
	switch (off) {
	case E1000_STATUS:
		return status_value();
	case E1000_EECD:
		return eecd_read(nic);
	case E1000_ICR:
		v = *reg(nic, E1000_ICR);
		*reg(nic, E1000_ICR) = 0; /* reading acknowledges every cause */
		update_irq(nic);
		return v;
	case E1000_ICS:
		return *reg(nic, E1000_ICR);
	case E1000_IMC:
		return 0;
	default:
		break;
	}
	if (off >= E1000_STATS && off < E1000_STATS_END) {
		v = *reg(nic, off);
		*reg(nic, off) = 0;
		return v;
	}
	return *reg(nic, off);
}

static void reg_write(struct e1000 *nic, unsigned off, uint32_t val)
{
	switch (off) {
	case E1000_CTRL:
		if (val & E1000_CTRL_RST) {
			mac_reset(nic); /* completes at once: RST reads back zero */
			return;
		}
		if (val & E1000_CTRL_PHY_RST)
			phy_reset(&nic->st);
		*reg(nic, off) = val;
		return;
	case E1000_STATUS:
		return;
	case E1000_EECD:
		eecd_write(nic, val);
		return;
	case E1000_EERD:
		eerd_write(nic, val);
		return;
	case E1000_MDIC:
		mdic_write(nic, val);
		return;
	case E1000_ICR:
		*reg(nic, off) &= ~val;
		update_irq(nic);
		return;
	case E1000_ICS:
		raise_cause(nic, val);
		return;
	case E1000_IMS:
		*reg(nic, E1000_IMS) |= val & E1000_ICR_MASK;
		update_irq(nic);
		return;
	case E1000_IMC:
		*reg(nic, E1000_IMS) &= ~val;
		update_irq(nic);
		return;
	case E1000_RCTL:
		*reg(nic, off) = val;
		if (val & E1000_RCTL_EN)
			rx_ready(nic);
		return;
	case E1000_TCTL:
		*reg(nic, off) = val;
		tx_run(nic);
		return;
	case E1000_TDBAL:
	case E1000_RDBAL:
		*reg(nic, off) = val & BASE_ALIGN_MASK;
		return;
	case E1000_TDLEN:
	case E1000_RDLEN:
		*reg(nic, off) = val & E1000_RING_LEN_MASK;
		return;
	case E1000_TDH:
	case E1000_RDH:
		*reg(nic, off) = val & HEAD_MASK;
		return;
	case E1000_TDT:
		*reg(nic, off) = val & HEAD_MASK;
		tx_run(nic);
		return;
	case E1000_RDT:
		*reg(nic, off) = val & HEAD_MASK;
		rx_ready(nic);
		return;
	default:
		break;
	}
	if (off >= E1000_STATS && off < E1000_STATS_END)
		return; /* counters are read-only */
	*reg(nic, off) = val;
}

void e1000_mmio_read(struct e1000 *nic, uint64_t offset, void *data, unsigned size)
{
	uint8_t *out = data;
	pthread_mutex_lock(&nic->lock);
	/* Registers are dwords: a narrower or unaligned read takes its bytes from the dword(s) it touches. */
	for (unsigned i = 0; i < size;) {
		uint64_t at = offset + i;
		unsigned skip = (unsigned)(at & 3), take = 4 - skip < size - i ? 4 - skip : size - i;
		uint32_t v = at < E1000_MMIO_SIZE ? reg_read(nic, (unsigned)(at - skip)) : UINT32_MAX;
		for (unsigned b = 0; b < take; b++)
			out[i + b] = (uint8_t)(v >> (8 * (skip + b)));
		i += take;
	}
	pthread_mutex_unlock(&nic->lock);
}

void e1000_mmio_write(struct e1000 *nic, uint64_t offset, const void *data, unsigned size)
{
	/* Aligned 32-bit writes, or a 64-bit write as two of them; anything else is dropped. */
	if ((size != 4 && size != 8) || (offset & 3) || offset >= E1000_MMIO_SIZE || size > E1000_MMIO_SIZE - offset)
		return;
	pthread_mutex_lock(&nic->lock);
	for (unsigned i = 0; i < size; i += 4) {
		uint32_t v;
		memcpy(&v, (const uint8_t *)data + i, sizeof(v));
		reg_write(nic, (unsigned)(offset + i), v);
	}
	pthread_mutex_unlock(&nic->lock);
}

void e1000_io_read(struct e1000 *nic, uint64_t offset, void *data, unsigned size)
{
	uint32_t v = 0;
	pthread_mutex_lock(&nic->lock);
	if (offset == E1000_IOADDR)
		v = nic->st.ioaddr;
	else if (offset == E1000_IODATA)
		v = reg_read(nic, nic->st.ioaddr);
	pthread_mutex_unlock(&nic->lock);
	memset(data, 0, size);
	memcpy(data, &v, size < 4 ? size : 4);
}

void e1000_io_write(struct e1000 *nic, uint64_t offset, const void *data, unsigned size)
{
	if (size != 4)
		return;
	uint32_t v;
	memcpy(&v, data, 4);
	pthread_mutex_lock(&nic->lock);
	if (offset == E1000_IOADDR)
		nic->st.ioaddr = v & IOADDR_MASK;
	else if (offset == E1000_IODATA)
		reg_write(nic, nic->st.ioaddr, v);
	pthread_mutex_unlock(&nic->lock);
}

static void bar_read(void *opaque, unsigned bar, uint64_t offset, void *data, unsigned size)
{
	if (bar == E1000_IO_BAR)
		e1000_io_read(opaque, offset, data, size);
	else
		e1000_mmio_read(opaque, offset, data, size);
}

static void bar_write(void *opaque, unsigned bar, uint64_t offset, const void *data, unsigned size)
{
	if (bar == E1000_IO_BAR)
		e1000_io_write(opaque, offset, data, size);
	else
		e1000_mmio_write(opaque, offset, data, size);
}

/* ---- life cycle -------------------------------------------------------------------------------- */

int e1000_create(struct pci_host *pci, const struct guest_mem *mem, const uint8_t mac[6], struct e1000 **out)
{
	struct e1000 *nic = calloc(1, sizeof(*nic));
	if (!nic)
		return -ENOMEM;
	nic->tx_buf = malloc(E1000_TX_MAX);
	nic->seg_buf = malloc(E1000_TX_MAX);
	if (!nic->tx_buf || !nic->seg_buf) {
		free(nic->tx_buf);
		free(nic->seg_buf);
		free(nic);
		return -ENOMEM;
	}
	nic->mem = mem;
	pthread_mutex_init(&nic->lock, NULL);
	eeprom_build(&nic->st, mac);
	phy_reset(&nic->st);
	struct pci_device_info info = {
		.vendor = E1000_PCI_VENDOR, .device = E1000_PCI_DEVICE, .class_code = E1000_PCI_CLASS,
		.revision = E1000_PCI_REVISION, .subsys_vendor = E1000_PCI_VENDOR, .subsys = E1000_PCI_SUBSYS,
		.int_pin = PCI_INTA, .read = bar_read, .write = bar_write, .opaque = nic, .name = "e1000",
		.io_bars = 1u << E1000_IO_BAR,
	};
	info.bar_size[E1000_MMIO_BAR] = E1000_MMIO_SIZE;
	info.bar_size[E1000_IO_BAR] = E1000_IO_SIZE;
	int err = pci_host_register(pci, &info, &nic->pci);
	if (err) {
		pthread_mutex_destroy(&nic->lock);
		free(nic->tx_buf);
		free(nic->seg_buf);
		free(nic);
		return err;
	}
	mac_reset(nic);
	*out = nic;
	return 0;
}

void e1000_connect(struct e1000 *nic, const struct e1000_backend *backend)
{
	pthread_mutex_lock(&nic->lock);
	if (backend)
		nic->backend = *backend;
	else
		memset(&nic->backend, 0, sizeof(nic->backend));
	pthread_mutex_unlock(&nic->lock);
}

void e1000_reset(struct e1000 *nic)
{
	pthread_mutex_lock(&nic->lock);
	mac_reset(nic);
	phy_reset(&nic->st);
	pthread_mutex_unlock(&nic->lock);
}

struct e1000_counters e1000_counters(struct e1000 *nic)
{
	pthread_mutex_lock(&nic->lock);
	struct e1000_counters c = nic->count;
	pthread_mutex_unlock(&nic->lock);
	return c;
}

void e1000_destroy(struct e1000 *nic)
{
	if (!nic)
		return;
	/* The PCI host keeps the slot: make it an inert function that reads all ones. */
	pci_device_set_intx(nic->pci, 0);
	nic->pci->info.read = NULL;
	nic->pci->info.write = NULL;
	nic->pci->info.opaque = NULL;
	pthread_mutex_destroy(&nic->lock);
	free(nic->tx_buf);
	free(nic->seg_buf);
	free(nic);
}
