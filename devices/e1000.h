/* An Intel 82540EM gigabit Ethernet controller (8086:100E, "PRO/1000 MT Desktop") on PCI, as Linux's e1000
 * driver drives it: registers in BAR0 (128 KiB MMIO) and through the IOADDR/IODATA window of BAR1 (the
 * driver resets an 82540 that way), a 64-word Microwire EEPROM read by bit-banging EECD (and through EERD),
 * an M88E1011 PHY behind MDIC with the link always up at 1000 Mb/s full duplex, legacy and extended
 * (context + data) transmit descriptors with checksum offload and TCP segmentation (TSO), legacy receive
 * descriptors, and ICR/IMS/IMC interrupts as level-triggered INTx. ITR and the delay timers are not
 * modelled: an interrupt is raised as soon as its cause is.
 *
 * Frames leave through a backend (the user-mode network) and arrive through e1000_receive(), which the
 * backend calls from its own thread while the vCPU accesses registers: one mutex per card covers both.
 * DMA happens only while the guest allows bus mastering, and every guest address goes through the guest
 * memory helpers: a ring or buffer outside RAM never touches host memory; the driver sees an error
 * (a receive descriptor with RXE, a transmit descriptor consumed without a frame, or a ring that does not
 * move). */
#ifndef LBVM_DEVICES_E1000_H
#define LBVM_DEVICES_E1000_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/pci.h"
#include "common/guest_mem.h"

#define E1000_PCI_VENDOR   0x8086
#define E1000_PCI_DEVICE   0x100e     /* 82540EM */
#define E1000_PCI_CLASS    0x020000   /* Ethernet controller */
#define E1000_PCI_REVISION 0x03
#define E1000_PCI_SUBSYS   0x001e     /* PRO/1000 MT Desktop */
#define E1000_MMIO_BAR     0
#define E1000_MMIO_SIZE    0x20000u
#define E1000_IO_BAR       1
#define E1000_IO_SIZE      0x40u

/* Register offsets in BAR0. */
#define E1000_CTRL      0x0000
#define E1000_STATUS    0x0008
#define E1000_EECD      0x0010
#define E1000_EERD      0x0014
#define E1000_CTRL_EXT  0x0018
#define E1000_MDIC      0x0020
#define E1000_FCAL      0x0028
#define E1000_FCAH      0x002c
#define E1000_FCT       0x0030
#define E1000_VET       0x0038
#define E1000_ICR       0x00c0
#define E1000_ITR       0x00c4
#define E1000_ICS       0x00c8
#define E1000_IMS       0x00d0
#define E1000_IMC       0x00d8
#define E1000_RCTL      0x0100
#define E1000_TCTL      0x0400
#define E1000_TIPG      0x0410
#define E1000_LEDCTL    0x0e00
#define E1000_PBA       0x1000
#define E1000_RDBAL     0x2800
#define E1000_RDBAH     0x2804
#define E1000_RDLEN     0x2808
#define E1000_RDH       0x2810
#define E1000_RDT       0x2818
#define E1000_RDTR      0x2820
#define E1000_RADV      0x282c
#define E1000_TDBAL     0x3800
#define E1000_TDBAH     0x3804
#define E1000_TDLEN     0x3808
#define E1000_TDH       0x3810
#define E1000_TDT       0x3818
#define E1000_TIDV      0x3820
#define E1000_TXDCTL    0x3828
#define E1000_TADV      0x382c
#define E1000_STATS     0x4000     /* statistics counters, clear on read, to ... */
#define E1000_STATS_END 0x4100
#define E1000_MPC       0x4010     /* missed packets (no receive descriptor) */
#define E1000_GPRC      0x4074     /* good packets received */
#define E1000_GPTC      0x4080     /* good packets transmitted */
#define E1000_GORCL     0x4088     /* good octets received, low/high */
#define E1000_GORCH     0x408c
#define E1000_GOTCL     0x4090     /* good octets transmitted, low/high */
#define E1000_GOTCH     0x4094
#define E1000_TPR       0x40d0     /* total packets received */
#define E1000_TPT       0x40d4     /* total packets transmitted */
#define E1000_RXCSUM    0x5000
#define E1000_MTA       0x5200     /* multicast table, 128 dwords */
#define E1000_RA        0x5400     /* receive addresses: RAL/RAH pairs, 16 of them */
#define E1000_VFTA      0x5600
#define E1000_MANC      0x5820

/* I/O BAR: a window onto the registers. */
#define E1000_IOADDR    0x00
#define E1000_IODATA    0x04

#define E1000_CTRL_FD       0x00000001u
#define E1000_CTRL_SLU      0x00000040u
#define E1000_CTRL_SPD_1000 0x00000200u
#define E1000_CTRL_RST      0x04000000u
#define E1000_CTRL_VME      0x40000000u
#define E1000_CTRL_PHY_RST  0x80000000u

#define E1000_STATUS_FD        0x00000001u
#define E1000_STATUS_LU        0x00000002u
#define E1000_STATUS_SPEED_1000 0x00000080u
#define E1000_STATUS_ASDV_1000 0x00000200u

#define E1000_EECD_SK    0x00000001u /* Microwire clock */
#define E1000_EECD_CS    0x00000002u /* chip select */
#define E1000_EECD_DI    0x00000004u /* data into the EEPROM */
#define E1000_EECD_DO    0x00000008u /* data out of the EEPROM */
#define E1000_EECD_FWE   0x00000030u /* flash write enable field */
#define E1000_EECD_REQ   0x00000040u /* software requests the EEPROM */
#define E1000_EECD_GNT   0x00000080u /* ... and is granted it */
#define E1000_EECD_PRES  0x00000100u /* an EEPROM is present */
#define E1000_EECD_SIZE  0x00000200u /* 0: 64 words */

#define E1000_EERD_START      0x00000001u
#define E1000_EERD_DONE       0x00000010u
#define E1000_EERD_ADDR_SHIFT 8
#define E1000_EERD_DATA_SHIFT 16

#define E1000_MDIC_DATA_MASK  0x0000ffffu
#define E1000_MDIC_REG_SHIFT  16
#define E1000_MDIC_PHY_SHIFT  21
#define E1000_MDIC_OP_WRITE   0x04000000u
#define E1000_MDIC_OP_READ    0x08000000u
#define E1000_MDIC_READY      0x10000000u
#define E1000_MDIC_INT_EN     0x20000000u
#define E1000_MDIC_ERROR      0x40000000u
#define E1000_PHY_ADDR        1        /* the only PHY on the MDIO bus */

/* Interrupt causes (ICR, ICS, IMS, IMC). */
#define E1000_ICR_TXDW    0x00000001u /* transmit descriptor written back */
#define E1000_ICR_TXQE    0x00000002u /* transmit queue empty */
#define E1000_ICR_LSC     0x00000004u /* link status change */
#define E1000_ICR_RXSEQ   0x00000008u
#define E1000_ICR_RXDMT0  0x00000010u /* receive descriptors below the minimum threshold */
#define E1000_ICR_RXO     0x00000040u /* receiver overrun */
#define E1000_ICR_RXT0    0x00000080u /* receiver timer: frames received */
#define E1000_ICR_MDAC    0x00000200u /* MDI access complete */
#define E1000_ICR_MASK    0x0001f6dfu /* the causes an 82540 has */

#define E1000_RCTL_EN     0x00000002u
#define E1000_RCTL_SBP    0x00000004u
#define E1000_RCTL_UPE    0x00000008u /* unicast promiscuous */
#define E1000_RCTL_MPE    0x00000010u /* multicast promiscuous */
#define E1000_RCTL_LPE    0x00000020u
#define E1000_RCTL_RDMTS_SHIFT 8
#define E1000_RCTL_MO_SHIFT 12
#define E1000_RCTL_BAM    0x00008000u /* accept broadcast */
#define E1000_RCTL_BSIZE_SHIFT 16
#define E1000_RCTL_BSEX   0x02000000u
#define E1000_RCTL_SECRC  0x04000000u /* strip the Ethernet CRC */

#define E1000_TCTL_EN     0x00000002u
#define E1000_TCTL_PSP    0x00000008u

#define E1000_RAH_AV      0x80000000u /* receive address valid */

/* Descriptors: 16 bytes each; rings are multiples of 128 bytes. */
#define E1000_DESC_SIZE   16u
#define E1000_RING_LEN_MASK 0x000fff80u

/* Transmit descriptor, dword 2 (lower) and 3 (upper). */
#define E1000_TXD_LEN_MASK    0x0000ffffu /* legacy length */
#define E1000_TXD_DTALEN_MASK 0x000fffffu /* extended data length / context PAYLEN */
#define E1000_TXD_DTYP_SHIFT  20
#define E1000_TXD_DTYP_CTX    0x0
#define E1000_TXD_DTYP_DATA   0x1
#define E1000_TXD_CMD_EOP     0x01000000u /* end of packet (context: TUCMD.TCP) */
#define E1000_TXD_CMD_IFCS    0x02000000u /* insert FCS (context: TUCMD.IP) */
#define E1000_TXD_CMD_IC      0x04000000u /* legacy: insert checksum (extended: TSE) */
#define E1000_TXD_CMD_RS      0x08000000u /* report status: write DD back */
#define E1000_TXD_CMD_DEXT    0x20000000u /* extended descriptor */
#define E1000_TXD_CMD_VLE     0x40000000u /* insert a VLAN tag */
#define E1000_TXD_CMD_TSE     0x04000000u
#define E1000_TXD_CMD_TCP     0x01000000u
#define E1000_TXD_CMD_IP      0x02000000u
#define E1000_TXD_STAT_DD     0x01u       /* byte 12 of every transmit descriptor */
#define E1000_TXD_POPTS_IXSM  0x01u       /* insert the IP checksum */
#define E1000_TXD_POPTS_TXSM  0x02u       /* insert the TCP/UDP checksum */

/* Receive descriptor: status and error bytes. */
#define E1000_RXD_STAT_DD     0x01u
#define E1000_RXD_STAT_EOP    0x02u
#define E1000_RXD_STAT_IXSM   0x04u       /* ignore the checksum indications */
#define E1000_RXD_ERR_RXE     0x80u       /* receive data error */

#define E1000_EEPROM_WORDS    64
#define E1000_EEPROM_SUM      0xbabau     /* words 0..63 add up to this */
#define E1000_PHY_REGS        32

/* What the model can hold: a TSO packet of 64 KiB payload plus headers; a received frame. */
#define E1000_TX_MAX          (65536u + 512u)
#define E1000_RX_MAX          16384u

/* Where transmitted frames go and how the receive side learns of new buffers. Both callbacks run with the
 * card's lock held: they must only queue or signal, never call back into the card. */
struct e1000_backend {
	void (*transmit)(void *opaque, const uint8_t *frame, size_t len);
	void (*rx_ready)(void *opaque); /* the guest gave the card receive buffers (or enabled receive) */
	void *opaque;
};

/* The card's state: registers, EEPROM, PHY, the transmit context and the frame being gathered. */
struct e1000_state {
	uint32_t regs[E1000_MMIO_SIZE / 4];
	uint16_t eeprom[E1000_EEPROM_WORDS];
	uint16_t phy[E1000_PHY_REGS];
	uint32_t ioaddr;                  /* IOADDR of the I/O window */
	struct {                          /* the Microwire EEPROM's serial interface */
		uint32_t shift_in;
		unsigned bits_in;
		bool reading, ignoring, dout;
		unsigned addr, bits_left;
		uint16_t word;
	} ee;
	struct {                          /* the last transmit context descriptor */
		uint8_t ipcss, ipcso, tucss, tucso, hdrlen;
		uint16_t ipcse, tucse, mss;
		uint32_t paylen, tucmd;
	} ctx;
	struct {                          /* the packet whose descriptors are being gathered */
		size_t len;
		bool bad;                     /* a buffer was outside RAM or the packet too long */
		bool started, tse, vle, legacy_ic;
		uint8_t popts, cso, css;
		uint16_t special;
	} pkt;
};

/* Counts for tests and reports (not guest visible). */
struct e1000_counters {
	uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes;
	uint64_t tx_dropped;      /* packets lost to a guest mistake (buffer outside RAM, bad length, bad TSO) */
	uint64_t rx_dropped;      /* frames refused: receiver off, too long, ring unusable */
	uint64_t rx_filtered;     /* frames not addressed to the card */
	uint64_t ring_faults;     /* descriptors or rings outside RAM, heads or tails out of range */
};

struct e1000 {
	struct e1000_state st;
	pthread_mutex_t lock;
	const struct guest_mem *mem;
	struct pci_device *pci;
	struct e1000_backend backend;
	struct e1000_counters count;
	uint8_t *tx_buf;          /* the packet being gathered (E1000_TX_MAX) */
	uint8_t *seg_buf;         /* one TSO segment (E1000_TX_MAX) */
	uint8_t rx_buf[E1000_RX_MAX + 64]; /* a received frame with padding and FCS */
};

/* Register the card on `pci` (BAR0 MMIO, BAR1 I/O, INTA) with the given MAC address in its EEPROM.
 * 0 with *out set, -ENOMEM, or an error of pci_host_register(). */
int e1000_create(struct pci_host *pci, const struct guest_mem *mem, const uint8_t mac[6], struct e1000 **out);
/* Attach the backend (before the guest runs, or NULL-equivalent to detach): frames sent without one are
 * counted and dropped. */
void e1000_connect(struct e1000 *nic, const struct e1000_backend *backend);
void e1000_destroy(struct e1000 *nic);
/* Power-on reset, the same as a guest's CTRL.RST. */
void e1000_reset(struct e1000 *nic);

/* A frame from the network (without FCS). 0: delivered into the guest's ring, or dropped for a reason
 * the guest causes (receiver off, not addressed to the card, ring unusable: counted); -EAGAIN: no receive
 * descriptor free now: keep the frame and offer it again after rx_ready; -EINVAL: not a frame (too short
 * or longer than E1000_RX_MAX). Any thread. */
int e1000_receive(struct e1000 *nic, const uint8_t *frame, size_t len);
/* A copy of the counters. */
struct e1000_counters e1000_counters(struct e1000 *nic);

/* BAR accesses (offset inside the BAR), what the PCI host calls; exposed for tests and fuzzers. */
void e1000_mmio_read(struct e1000 *nic, uint64_t offset, void *data, unsigned size);
void e1000_mmio_write(struct e1000 *nic, uint64_t offset, const void *data, unsigned size);
void e1000_io_read(struct e1000 *nic, uint64_t offset, void *data, unsigned size);
void e1000_io_write(struct e1000 *nic, uint64_t offset, const void *data, unsigned size);

#endif
