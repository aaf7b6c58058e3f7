/* An AHCI 1.3 SATA host bus adapter on PCI (class 010601h, registers in BAR5), one port per disk image.
 * Commands run synchronously inside the MMIO write that rings a PxCI doorbell: the vCPU thread is the
 * only caller, and the device has no threads. Every address the guest supplies (command list, received
 * FIS area, command tables, PRDTs, data buffers) goes through guest_mem_ptr(); a bad one ends the command
 * with an ATA error (and PxIS.HBFS), never with an access outside guest RAM. INTx is level-triggered. */
#ifndef LBVM_DEVICES_AHCI_H
#define LBVM_DEVICES_AHCI_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "devices/ata.h"
#include "devices/disk_image.h"
#include "devices/pci.h"
#include "common/guest_mem.h"

#define AHCI_MAX_PORTS   30      /* what a 4 KiB ABAR holds */
#define AHCI_SLOTS       32
#define AHCI_BAR         5       /* ABAR */
#define AHCI_BAR_SIZE    0x1000u
#define AHCI_PCI_VENDOR  0x8086  /* an ICH9-class AHCI function: what Linux's ahci driver expects */
#define AHCI_PCI_DEVICE  0x2922
#define AHCI_PCI_CLASS   0x010601

/* Generic host control registers. */
#define AHCI_CAP       0x00
#define AHCI_GHC       0x04
#define AHCI_IS        0x08
#define AHCI_PI        0x0c
#define AHCI_VS        0x10
#define AHCI_CAP2      0x24
#define AHCI_PORT_BASE 0x100
#define AHCI_PORT_SIZE 0x80

/* Port registers (offsets inside a port's 0x80 bytes). */
#define AHCI_PxCLB     0x00
#define AHCI_PxCLBU    0x04
#define AHCI_PxFB      0x08
#define AHCI_PxFBU     0x0c
#define AHCI_PxIS      0x10
#define AHCI_PxIE      0x14
#define AHCI_PxCMD     0x18
#define AHCI_PxTFD     0x20
#define AHCI_PxSIG     0x24
#define AHCI_PxSSTS    0x28
#define AHCI_PxSCTL    0x2c
#define AHCI_PxSERR    0x30
#define AHCI_PxSACT    0x34
#define AHCI_PxCI      0x38
#define AHCI_PxSNTF    0x3c
#define AHCI_PxFBS     0x40

#define AHCI_CAP_S64A      (1u << 31)
#define AHCI_CAP_SNCQ      (1u << 30)
#define AHCI_CAP_SCLO      (1u << 24)
#define AHCI_CAP_ISS_GEN3  (3u << 20)
#define AHCI_CAP_SAM       (1u << 18)
#define AHCI_CAP_NCS_SHIFT 8

#define AHCI_GHC_HR    (1u << 0)
#define AHCI_GHC_IE    (1u << 1)
#define AHCI_GHC_AE    (1u << 31)
#define AHCI_VERSION   0x00010300 /* 1.3 */

#define AHCI_PxIS_DHRS (1u << 0)  /* D2H register FIS */
#define AHCI_PxIS_PSS  (1u << 1)  /* PIO setup FIS */
#define AHCI_PxIS_DSS  (1u << 2)  /* DMA setup FIS */
#define AHCI_PxIS_SDBS (1u << 3)  /* set device bits FIS */
#define AHCI_PxIS_DPS  (1u << 5)  /* descriptor processed */
#define AHCI_PxIS_HBFS (1u << 29) /* host bus fatal error */
#define AHCI_PxIS_TFES (1u << 30) /* task file error */
#define AHCI_PxIS_MASK 0xfdc000ffu

#define AHCI_PxCMD_ST   (1u << 0)
#define AHCI_PxCMD_SUD  (1u << 1)
#define AHCI_PxCMD_POD  (1u << 2)
#define AHCI_PxCMD_CLO  (1u << 3)
#define AHCI_PxCMD_FRE  (1u << 4)
#define AHCI_PxCMD_CCS_SHIFT 8
#define AHCI_PxCMD_FR   (1u << 14)
#define AHCI_PxCMD_CR   (1u << 15)

#define AHCI_SIG_ATA        0x00000101u
#define AHCI_SSTS_DET_MASK  0x0fu
#define AHCI_SSTS_PRESENT   0x3u      /* device present, phy communication established */
#define AHCI_SSTS_IPM_ACTIVE (1u << 8)
#define AHCI_SCTL_DET_COMRESET 0x1u

/* The received-FIS area and the command structures in guest memory. */
#define AHCI_RFIS_DSFIS   0x00
#define AHCI_RFIS_PSFIS   0x20
#define AHCI_RFIS_RFIS    0x40
#define AHCI_RFIS_SDBFIS  0x58
#define AHCI_RFIS_SIZE    0x100
#define AHCI_CMD_HDR_SIZE 32
#define AHCI_CMD_LIST_SIZE (AHCI_SLOTS * AHCI_CMD_HDR_SIZE)
#define AHCI_CT_CFIS      0x00
#define AHCI_CT_PRDT      0x80
#define AHCI_PRD_SIZE     16
#define AHCI_HDR_CFL_MASK 0x1fu
#define AHCI_HDR_ATAPI    (1u << 5)
#define AHCI_HDR_WRITE    (1u << 6)
#define AHCI_HDR_RESET    (1u << 8)
#define AHCI_HDR_CLR_BUSY (1u << 10)
#define AHCI_HDR_PRDTL_SHIFT 16
#define AHCI_PRD_DBC_MASK 0x3fffffu
#define AHCI_PRD_IRQ      (1u << 31)

#define FIS_TYPE_H2D      0x27
#define FIS_TYPE_D2H      0x34
#define FIS_TYPE_PIO      0x5f
#define FIS_TYPE_SDB      0xa1
#define FIS_H2D_COMMAND   0x80 /* byte 1: C bit, command (not control) register update */
#define FIS_INTERRUPT     0x40 /* byte 1 of D2H, PIO setup, SDB: I bit */
#define FIS_PIO_TO_HOST   0x20 /* byte 1 of PIO setup: D bit */
#define ATA_CONTROL_SRST  0x04

struct ahci;

struct ahci_port {
	struct ahci *hba;
	unsigned index;
	struct ata_drive drive;
	uint32_t clb, clbu, fb, fbu, is, ie, cmd, tfd, sig, ssts, sctl, serr, sact, ci;
	bool halted;       /* an error stopped command processing until software clears PxCMD.ST */
	bool srst;         /* a soft reset (control FIS with SRST) is asserted */
	uint32_t sdb_done; /* NCQ tags completed since the last Set Device Bits FIS */
};

struct ahci {
	const struct guest_mem *mem;
	struct pci_device *pci;
	unsigned nports;
	uint32_t cap, ghc, is, pi;
	struct ahci_port ports[AHCI_MAX_PORTS];
	struct iovec *iov;  /* scatter list of the command in progress */
	unsigned iov_cap;
};

/* Register the HBA on `pci` (BAR5 = ABAR, INTA) with one port per disk (1..AHCI_MAX_PORTS; port n is
 * the guest's n-th disk: sda, sdb, ...). The disks stay the caller's. 0 with *out set, -EINVAL for no or
 * too many disks, -ENOMEM, or an error of pci_host_register(). */
int ahci_create(struct pci_host *pci, const struct guest_mem *mem, struct disk_image **disks, unsigned ndisks,
		struct ahci **out);
/* Machine reset: the same as a guest HBA reset (GHC.HR). */
void ahci_reset(struct ahci *ahci);
void ahci_destroy(struct ahci *ahci);

/* ABAR register access (offset inside BAR5); what the PCI host calls, exposed for tests and fuzzers. */
void ahci_mmio_read(struct ahci *ahci, uint64_t offset, void *data, unsigned size);
void ahci_mmio_write(struct ahci *ahci, uint64_t offset, const void *data, unsigned size);

#endif
