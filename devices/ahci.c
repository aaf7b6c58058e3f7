#include "devices/ahci.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Guest structures are little-endian, and so is every host lbvm runs on (x86-64 with KVM): 32-bit
 * fields are copied with memcpy. */

#define CLB_ALIGN_MASK    0x3ffu  /* command list: 1 KiB aligned */
#define FB_ALIGN_MASK     0xffu   /* received-FIS area: 256-byte aligned */
#define CTBA_ALIGN_MASK   0x7fu   /* command table: 128-byte aligned */
#define CFIS_MIN_DWORDS   5       /* a register H2D FIS is 20 bytes */
#define CFIS_MAX_DWORDS   16
#define D2H_FIS_SIZE      20
#define PIO_FIS_SIZE      20
#define SDB_FIS_SIZE      8
#define PxCMD_CCS_MASK    (0x1fu << AHCI_PxCMD_CCS_SHIFT)
#define PxCMD_FIXED       (AHCI_PxCMD_SUD | AHCI_PxCMD_POD) /* no staggered spin-up, no cold presence */
#define PxSCTL_MASK       0xfffu  /* DET, SPD, IPM */
#define PxSCTL_SPD_SHIFT  4
#define PxSCTL_DET_OFFLINE 0x4u
#define PxSSTS_SPD_SHIFT  4
#define SPEED_GEN3        3
#define TFD_RESET         0x7fu   /* no device signature yet */
#define TFD_BUSY          ATA_STATUS_BSY
#define PIO_STATUS_DRQ    (ATA_STATUS_DRDY | ATA_STATUS_DSC | ATA_STATUS_DRQ)
#define SDB_STATUS_MASK   0x77u   /* the SDB FIS carries status bits 6:4 and 2:0 */
#define PIO_XFER_MAX      0xfffeu

/* ---- interrupts and FIS delivery ------------------------------------------------------------ */

static void update_irq(struct ahci *ahci)
{
	for (unsigned i = 0; i < ahci->nports; i++)
		if (ahci->ports[i].is & ahci->ports[i].ie)
			ahci->is |= 1u << i;
	bool level = (ahci->ghc & AHCI_GHC_IE) && ahci->is;
	pci_device_set_intx(ahci->pci, level);
}

static uint64_t fb_addr(const struct ahci_port *p)
{
	return (uint64_t)p->fbu << 32 | p->fb;
}

static uint64_t clb_addr(const struct ahci_port *p)
{
	return (uint64_t)p->clbu << 32 | p->clb;
}

/* Copy a FIS into the port's received-FIS area, when FIS receive is on, the guest lets the HBA master the
 * bus, and the area is guest RAM. */
static void post_fis(struct ahci_port *p, unsigned offset, const uint8_t *fis, size_t len)
{
	if (!(p->cmd & AHCI_PxCMD_FRE) || !pci_device_bus_master(p->hba->pci))
		return;
	if (guest_mem_write(p->hba->mem, fb_addr(p) + offset, fis, len))
		p->is |= AHCI_PxIS_HBFS;
}

static void put_tf(uint8_t *fis, const struct ata_tf *tf)
{
	fis[2] = tf->status;
	fis[3] = tf->error;
	fis[4] = (uint8_t)tf->lba;
	fis[5] = (uint8_t)(tf->lba >> 8);
	fis[6] = (uint8_t)(tf->lba >> 16);
	fis[7] = tf->device;
	fis[8] = (uint8_t)(tf->lba >> 24);
	fis[9] = (uint8_t)(tf->lba >> 32);
	fis[10] = (uint8_t)(tf->lba >> 40);
	fis[12] = (uint8_t)tf->count;
	fis[13] = (uint8_t)(tf->count >> 8);
}

static void post_d2h(struct ahci_port *p, const struct ata_tf *tf, bool interrupt)
{
	uint8_t fis[D2H_FIS_SIZE] = { FIS_TYPE_D2H, interrupt ? FIS_INTERRUPT : 0 };
	put_tf(fis, tf);
	post_fis(p, AHCI_RFIS_RFIS, fis, sizeof(fis));
	p->tfd = (uint32_t)tf->error << 8 | tf->status;
	if (interrupt)
		p->is |= AHCI_PxIS_DHRS;
}

/* PIO data commands end with a PIO Setup FIS whose E_Status (byte 15) is the final status. */
static void post_pio_setup(struct ahci_port *p, const struct ata_tf *tf, bool to_host, uint64_t bytes)
{
	uint8_t fis[PIO_FIS_SIZE] = { FIS_TYPE_PIO, FIS_INTERRUPT | (to_host ? FIS_PIO_TO_HOST : 0) };
	struct ata_tf start = *tf;
	start.status = PIO_STATUS_DRQ;
	start.error = 0;
	put_tf(fis, &start);
	fis[15] = tf->status;
	uint16_t count = (uint16_t)(bytes < PIO_XFER_MAX ? bytes : PIO_XFER_MAX);
	fis[16] = (uint8_t)count;
	fis[17] = (uint8_t)(count >> 8);
	post_fis(p, AHCI_RFIS_PSFIS, fis, sizeof(fis));
	p->is |= AHCI_PxIS_PSS;
}

/* Set Device Bits: NCQ completions (bits cleared from PxSACT) and/or an NCQ error. */
static void post_sdb(struct ahci_port *p, uint8_t status, uint8_t error, uint32_t done)
{
	uint8_t fis[SDB_FIS_SIZE] = { FIS_TYPE_SDB, FIS_INTERRUPT, (uint8_t)(status & SDB_STATUS_MASK), error };
	memcpy(fis + 4, &done, sizeof(done));
	post_fis(p, AHCI_RFIS_SDBFIS, fis, sizeof(fis));
	p->sact &= ~done;
	p->tfd = (uint32_t)error << 8 | ((p->tfd & ~SDB_STATUS_MASK & 0xff) | (status & SDB_STATUS_MASK));
	p->is |= AHCI_PxIS_SDBS;
	p->sdb_done = 0;
}

/* ---- link and device state ------------------------------------------------------------------ */

/* The device sends its signature after COMRESET, SRST or HBA reset: an ATA disk, diagnostics passed. */
static void signature(struct ahci_port *p)
{
	struct ata_tf tf = { .status = ATA_STATUS_OK, .error = ATA_DIAG_PASSED, .count = 1, .lba = 1 };
	p->sig = AHCI_SIG_ATA;
	post_d2h(p, &tf, false);
}

static void link_up(struct ahci_port *p)
{
	unsigned limit = (p->sctl >> PxSCTL_SPD_SHIFT) & 0xf;
	unsigned speed = (limit == 0 || limit > SPEED_GEN3) ? SPEED_GEN3 : limit;
	p->ssts = AHCI_SSTS_PRESENT | speed << PxSSTS_SPD_SHIFT | AHCI_SSTS_IPM_ACTIVE;
	signature(p);
}

/* Forget every command: the queue, a pending error, an asserted soft reset. */
static void drop_commands(struct ahci_port *p)
{
	p->ci = 0;
	p->sact = 0;
	p->sdb_done = 0;
	p->halted = false;
	p->srst = false;
	p->cmd &= ~PxCMD_CCS_MASK;
}

/* COMRESET asserted (PxSCTL.DET = 1): the link drops, the device resets. */
static void link_reset(struct ahci_port *p)
{
	drop_commands(p);
	ata_drive_reset(&p->drive);
	p->ssts = 0;
	p->sig = UINT32_MAX;
	p->tfd = TFD_BUSY;
}

static void port_reset(struct ahci_port *p)
{
	p->is = p->ie = p->serr = 0;
	p->cmd = PxCMD_FIXED;
	p->sctl = 0;
	p->tfd = TFD_RESET;
	link_reset(p);
	link_up(p); /* FRE is off: the signature lands in PxSIG/PxTFD only */
}

static void hba_reset(struct ahci *ahci)
{
	/* CLB/FB survive, as the spec allows; everything else returns to its power-on value. */
	for (unsigned i = 0; i < ahci->nports; i++)
		port_reset(&ahci->ports[i]);
	ahci->ghc = AHCI_GHC_AE;
	ahci->is = 0;
	update_irq(ahci);
}

/* ---- command execution ---------------------------------------------------------------------- */

/* Map `bytes` of the PRDT at ctba+0x80 to host buffers in ahci->iov. 0, -EFAULT when the table or a
 * buffer is not guest RAM, -ENOSPC when the table describes fewer bytes than the command moves (an empty
 * table included), -ENOMEM. */
static int map_prdt(struct ahci_port *p, uint64_t ctba, unsigned prdtl, uint64_t bytes, unsigned *count)
{
	struct ahci *ahci = p->hba;
	if (prdtl == 0)
		return -ENOSPC;
	if (ctba > UINT64_MAX - AHCI_CT_PRDT)
		return -EFAULT;
	const uint8_t *prdt = guest_mem_ptr(ahci->mem, ctba + AHCI_CT_PRDT, (uint64_t)prdtl * AHCI_PRD_SIZE);
	if (!prdt)
		return -EFAULT;
	uint64_t left = bytes;
	unsigned n = 0;
	for (unsigned i = 0; i < prdtl && left; i++) {
		uint32_t dw[4];
		memcpy(dw, prdt + (size_t)i * AHCI_PRD_SIZE, sizeof(dw));
		uint64_t dba = (uint64_t)dw[1] << 32 | (dw[0] & ~1u);    /* word aligned */
		uint64_t len = (uint64_t)((dw[3] & AHCI_PRD_DBC_MASK) | 1) + 1; /* even byte count */
		uint64_t take = len < left ? len : left;
		void *host = guest_mem_ptr(ahci->mem, dba, take);
		if (!host)
			return -EFAULT;
		if (n == ahci->iov_cap) {
			unsigned cap = ahci->iov_cap ? ahci->iov_cap * 2 : 64;
			struct iovec *grown = realloc(ahci->iov, cap * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			ahci->iov = grown;
			ahci->iov_cap = cap;
		}
		ahci->iov[n++] = (struct iovec){ .iov_base = host, .iov_len = (size_t)take };
		left -= take;
	}
	if (left)
		return -ENOSPC;
	*count = n;
	return 0;
}

static bool is_ncq_proto(enum ata_proto proto)
{
	return proto == ATA_PROTO_NCQ_IN || proto == ATA_PROTO_NCQ_OUT;
}

/* A failed command stops the port until software restarts it (PxCMD.ST 1 -> 0). A queued command was
 * already accepted: its PxCI bit clears and the error arrives in a Set Device Bits FIS, its PxSACT bit
 * left set. A non-queued command keeps its PxCI bit and reports through a D2H register FIS. */
static void finish_error(struct ahci_port *p, unsigned slot, const struct ata_tf *tf, bool ncq)
{
	p->halted = true;
	p->is |= AHCI_PxIS_TFES;
	if (ncq) {
		p->ci &= ~(1u << slot);
		post_sdb(p, tf->status, tf->error, p->sdb_done);
	} else {
		post_d2h(p, tf, true);
	}
}

/* A guest-memory fault (command table, PRDT or buffer outside RAM): host bus fatal + an aborted command. */
static void host_fault(struct ahci_port *p, unsigned slot)
{
	struct ata_tf tf = { .status = ATA_STATUS_FAIL, .error = ATA_ERROR_ABRT };
	p->is |= AHCI_PxIS_HBFS;
	finish_error(p, slot, &tf, false);
}

static void abort_command(struct ahci_port *p, unsigned slot)
{
	struct ata_tf tf = { .status = ATA_STATUS_FAIL, .error = ATA_ERROR_ABRT };
	finish_error(p, slot, &tf, false);
}

/* A control-register FIS (C bit clear): only SRST matters; its release makes the device send its
 * signature, as after COMRESET. */
static void control_fis(struct ahci_port *p, unsigned slot, const uint8_t *cfis)
{
	if (cfis[15] & ATA_CONTROL_SRST) {
		p->srst = true;
	} else if (p->srst) {
		p->srst = false;
		ata_drive_reset(&p->drive);
		signature(p);
	}
	p->ci &= ~(1u << slot);
}

static void finish_ok(struct ahci_port *p, unsigned slot, const struct ata_tf *tf, const struct ata_plan *plan)
{
	p->ci &= ~(1u << slot);
	switch (plan->proto) {
	case ATA_PROTO_NCQ_IN:
	case ATA_PROTO_NCQ_OUT:
		p->sdb_done |= 1u << plan->tag; /* one SDB FIS after the batch */
		p->tfd = (uint32_t)tf->error << 8 | tf->status;
		break;
	case ATA_PROTO_PIO_IN:
	case ATA_PROTO_PIO_OUT:
		post_pio_setup(p, tf, plan->proto == ATA_PROTO_PIO_IN, plan->bytes);
		post_d2h(p, tf, true);
		break;
	default:
		post_d2h(p, tf, true);
		break;
	}
}

static void run_slot(struct ahci_port *p, unsigned slot)
{
	struct ahci *ahci = p->hba;
	p->cmd = (p->cmd & ~PxCMD_CCS_MASK) | slot << AHCI_PxCMD_CCS_SHIFT;
	uint64_t hdr_addr = clb_addr(p) + (uint64_t)slot * AHCI_CMD_HDR_SIZE;
	uint32_t hdr[4];
	if (guest_mem_read(ahci->mem, hdr_addr, hdr, sizeof(hdr)))
		{ host_fault(p, slot); return; }
	unsigned cfl = hdr[0] & AHCI_HDR_CFL_MASK;
	unsigned prdtl = hdr[0] >> AHCI_HDR_PRDTL_SHIFT;
	uint64_t ctba = (uint64_t)hdr[3] << 32 | (hdr[2] & ~CTBA_ALIGN_MASK);
	uint8_t cfis[CFIS_MAX_DWORDS * 4] = { 0 };
	if (cfl < CFIS_MIN_DWORDS || cfl > CFIS_MAX_DWORDS)
		{ abort_command(p, slot); return; }
	if (guest_mem_read(ahci->mem, ctba, cfis, cfl * 4u))
		{ host_fault(p, slot); return; }
	if (cfis[0] != FIS_TYPE_H2D)
		{ abort_command(p, slot); return; }
	if (!(cfis[1] & FIS_H2D_COMMAND))
		{ control_fis(p, slot, cfis); return; }
	if (hdr[0] & AHCI_HDR_ATAPI)
		{ abort_command(p, slot); return; } /* an ATA disk, not a packet device */

	struct ata_tf tf;
	struct ata_plan plan;
	ata_tf_from_fis(&tf, cfis);
	if (ata_plan(&p->drive, &tf, &plan)) {
		bool ncq = tf.command == ATA_CMD_READ_FPDMA_QUEUED || tf.command == ATA_CMD_WRITE_FPDMA_QUEUED;
		finish_error(p, slot, &tf, ncq);
		return;
	}
	unsigned n = 0;
	if (plan.bytes) {
		int err = map_prdt(p, ctba, prdtl, plan.bytes, &n);
		if (err == -EFAULT)
			{ host_fault(p, slot); return; }
		if (err) {
			tf.status = ATA_STATUS_FAIL;
			tf.error = ATA_ERROR_ABRT;
			finish_error(p, slot, &tf, is_ncq_proto(plan.proto));
			return;
		}
	}
	int r = ata_execute(&p->drive, &tf, &plan, ahci->iov, n);
	uint32_t done = r ? 0 : (uint32_t)plan.bytes; /* PRDBC: bytes transferred */
	if (guest_mem_write(ahci->mem, hdr_addr + 4, &done, sizeof(done)))
		{ host_fault(p, slot); return; }
	if (r)
		finish_error(p, slot, &tf, is_ncq_proto(plan.proto));
	else
		finish_ok(p, slot, &tf, &plan);
}

/* Bus mastering off (PCI COMMAND.BME clear): the HBA may not read the command list or move data, so the
 * issued commands fail without touching guest memory: a host bus fatal error and an aborted command in
 * PxTFD, the slots left in PxCI, the port stopped until software restarts it, as after any error. */
static void no_bus_master(struct ahci_port *p)
{
	p->halted = true;
	p->is |= AHCI_PxIS_HBFS | AHCI_PxIS_TFES;
	p->tfd = (uint32_t)ATA_ERROR_ABRT << 8 | ATA_STATUS_FAIL;
}

/* Run every issued slot, lowest first, until the queue is empty or an error halts the port. */
static void process(struct ahci_port *p)
{
	if (!(p->cmd & AHCI_PxCMD_ST) || p->halted)
		return;
	if (!pci_device_bus_master(p->hba->pci)) {
		if (p->ci)
			no_bus_master(p);
		return;
	}
	for (unsigned slot = 0; slot < AHCI_SLOTS && !p->halted; slot++)
		if (p->ci & (1u << slot))
			run_slot(p, slot);
	if (p->sdb_done && !p->halted)
		post_sdb(p, ATA_STATUS_OK, 0, p->sdb_done);
}

/* ---- registers ------------------------------------------------------------------------------ */

static uint32_t port_read(const struct ahci_port *p, unsigned reg)
{
	switch (reg) {
	case AHCI_PxCLB: return p->clb;
	case AHCI_PxCLBU: return p->clbu;
	case AHCI_PxFB: return p->fb;
	case AHCI_PxFBU: return p->fbu;
	case AHCI_PxIS: return p->is;
	case AHCI_PxIE: return p->ie;
	case AHCI_PxCMD: return p->cmd;
	case AHCI_PxTFD: return p->tfd;
	case AHCI_PxSIG: return p->sig;
	case AHCI_PxSSTS: return p->ssts;
	case AHCI_PxSCTL: return p->sctl;
	case AHCI_PxSERR: return p->serr;
	case AHCI_PxSACT: return p->sact;
	case AHCI_PxCI: return p->ci;
	default: return 0; /* SNTF, FBS, vendor registers: nothing to report */
	}
}

static void write_cmd(struct ahci_port *p, uint32_t val)
{
	uint32_t old = p->cmd;
	uint32_t cmd = (old & PxCMD_CCS_MASK) | PxCMD_FIXED | (val & (AHCI_PxCMD_ST | AHCI_PxCMD_FRE));
	/* The DMA engines follow at once: CR mirrors ST, FR mirrors FRE. */
	if (cmd & AHCI_PxCMD_ST)
		cmd |= AHCI_PxCMD_CR;
	if (cmd & AHCI_PxCMD_FRE)
		cmd |= AHCI_PxCMD_FR;
	if (val & AHCI_PxCMD_CLO)
		p->tfd &= ~(uint32_t)(ATA_STATUS_BSY | ATA_STATUS_DRQ); /* command list override, self-clearing */
	p->cmd = cmd;
	if ((old & AHCI_PxCMD_ST) && !(cmd & AHCI_PxCMD_ST))
		drop_commands(p); /* stopping the engine clears PxCI and PxSACT and ends an error stop */
}

static void write_sctl(struct ahci_port *p, uint32_t val)
{
	uint32_t old_det = p->sctl & AHCI_SSTS_DET_MASK;
	p->sctl = val & PxSCTL_MASK;
	uint32_t det = p->sctl & AHCI_SSTS_DET_MASK;
	if (det == AHCI_SCTL_DET_COMRESET)
		link_reset(p);
	else if (det == 0 && old_det == AHCI_SCTL_DET_COMRESET)
		link_up(p);
	else if (det == PxSCTL_DET_OFFLINE) {
		link_reset(p);
		p->ssts = PxSCTL_DET_OFFLINE;
	} else if (det == 0 && old_det == PxSCTL_DET_OFFLINE)
		link_up(p);
}

static void port_write(struct ahci_port *p, unsigned reg, uint32_t val)
{
	switch (reg) {
	case AHCI_PxCLB: p->clb = val & ~CLB_ALIGN_MASK; break;
	case AHCI_PxCLBU: p->clbu = val; break;
	case AHCI_PxFB: p->fb = val & ~FB_ALIGN_MASK; break;
	case AHCI_PxFBU: p->fbu = val; break;
	case AHCI_PxIS: p->is &= ~val; break;
	case AHCI_PxIE: p->ie = val & AHCI_PxIS_MASK; break;
	case AHCI_PxCMD: write_cmd(p, val); break;
	case AHCI_PxSCTL: write_sctl(p, val); break;
	case AHCI_PxSERR: p->serr &= ~val; break;
	case AHCI_PxSACT:
		if (p->cmd & AHCI_PxCMD_ST)
			p->sact |= val; /* software can only set bits; the device clears them */
		break;
	case AHCI_PxCI:
		if (p->cmd & AHCI_PxCMD_ST) {
			p->ci |= val;
			process(p);
		}
		break;
	default:
		break; /* read-only or unimplemented */
	}
}

static uint32_t reg_read(const struct ahci *ahci, uint64_t off)
{
	if (off >= AHCI_PORT_BASE) {
		uint64_t n = (off - AHCI_PORT_BASE) / AHCI_PORT_SIZE;
		if (n >= ahci->nports)
			return 0;
		return port_read(&ahci->ports[n], (unsigned)((off - AHCI_PORT_BASE) % AHCI_PORT_SIZE));
	}
	switch (off) {
	case AHCI_CAP: return ahci->cap;
	case AHCI_GHC: return ahci->ghc;
	case AHCI_IS: return ahci->is;
	case AHCI_PI: return ahci->pi;
	case AHCI_VS: return AHCI_VERSION;
	default: return 0; /* CCC, enclosure management, CAP2, BOHC: not implemented */
	}
}

static void reg_write(struct ahci *ahci, uint64_t off, uint32_t val)
{
	if (off >= AHCI_PORT_BASE) {
		uint64_t n = (off - AHCI_PORT_BASE) / AHCI_PORT_SIZE;
		if (n < ahci->nports)
			port_write(&ahci->ports[n], (unsigned)((off - AHCI_PORT_BASE) % AHCI_PORT_SIZE), val);
		return;
	}
	switch (off) {
	case AHCI_GHC:
		if (val & AHCI_GHC_HR) {
			hba_reset(ahci); /* completes at once: HR reads back 0 */
			return;
		}
		ahci->ghc = AHCI_GHC_AE | (val & AHCI_GHC_IE);
		break;
	case AHCI_IS:
		ahci->is &= ~val; /* bits whose port still has an enabled interrupt come back below */
		break;
	default:
		break;
	}
}

void ahci_mmio_read(struct ahci *ahci, uint64_t offset, void *data, unsigned size)
{
	uint8_t *out = data;
	/* Any width: each byte comes from its dword (reads have no side effects). */
	for (unsigned i = 0; i < size; i++) {
		uint64_t at = offset + i;
		uint32_t v = at < AHCI_BAR_SIZE ? reg_read(ahci, at & ~UINT64_C(3)) : UINT32_MAX;
		out[i] = (uint8_t)(v >> (8 * (at & 3)));
	}
}

void ahci_mmio_write(struct ahci *ahci, uint64_t offset, const void *data, unsigned size)
{
	/* Registers are dwords: aligned 32-bit writes, or a 64-bit write as two of them. Others are dropped. */
	if ((size != 4 && size != 8) || (offset & 3) || offset >= AHCI_BAR_SIZE || size > AHCI_BAR_SIZE - offset)
		return;
	for (unsigned i = 0; i < size; i += 4) {
		uint32_t v;
		memcpy(&v, (const uint8_t *)data + i, sizeof(v));
		reg_write(ahci, offset + i, v);
	}
	update_irq(ahci);
}

static void bar_read(void *opaque, unsigned bar, uint64_t offset, void *data, unsigned size)
{
	(void)bar; /* only BAR5 exists */
	ahci_mmio_read(opaque, offset, data, size);
}

static void bar_write(void *opaque, unsigned bar, uint64_t offset, const void *data, unsigned size)
{
	(void)bar;
	ahci_mmio_write(opaque, offset, data, size);
}

/* ---- life cycle ----------------------------------------------------------------------------- */

int ahci_create(struct pci_host *pci, const struct guest_mem *mem, struct disk_image **disks, unsigned ndisks,
		struct ahci **out)
{
	if (ndisks == 0 || ndisks > AHCI_MAX_PORTS)
		return -EINVAL;
	struct ahci *ahci = calloc(1, sizeof(*ahci));
	if (!ahci)
		return -ENOMEM;
	ahci->mem = mem;
	ahci->nports = ndisks;
	ahci->cap = AHCI_CAP_S64A | AHCI_CAP_SNCQ | AHCI_CAP_SCLO | AHCI_CAP_ISS_GEN3 | AHCI_CAP_SAM |
		    (AHCI_SLOTS - 1) << AHCI_CAP_NCS_SHIFT | (ndisks - 1);
	ahci->pi = (1u << ndisks) - 1; /* ndisks <= 30 */
	for (unsigned i = 0; i < ndisks; i++) {
		ahci->ports[i].hba = ahci;
		ahci->ports[i].index = i;
		ata_drive_init(&ahci->ports[i].drive, disks[i], i);
	}
	struct pci_device_info info = {
		.vendor = AHCI_PCI_VENDOR, .device = AHCI_PCI_DEVICE, .class_code = AHCI_PCI_CLASS, .revision = 2,
		.int_pin = PCI_INTA, .read = bar_read, .write = bar_write, .opaque = ahci, .name = "ahci",
	};
	info.bar_size[AHCI_BAR] = AHCI_BAR_SIZE;
	int err = pci_host_register(pci, &info, &ahci->pci);
	if (err) {
		free(ahci);
		return err;
	}
	hba_reset(ahci);
	*out = ahci;
	return 0;
}

void ahci_reset(struct ahci *ahci)
{
	hba_reset(ahci);
}

void ahci_destroy(struct ahci *ahci)
{
	if (!ahci)
		return;
	/* The PCI host keeps the slot: make it an inert function that reads all ones. */
	pci_device_set_intx(ahci->pci, 0);
	ahci->pci->info.read = NULL;
	ahci->pci->info.write = NULL;
	ahci->pci->info.opaque = NULL;
	free(ahci->iov);
	free(ahci);
}
