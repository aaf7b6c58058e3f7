#include "boot/mptable.h"

#include <string.h>

#include "common/layout.h"

/* Entry types and fields of the MP specification 1.4. */
#define MP_SPEC_REV        4
#define MP_ENTRY_CPU       0
#define MP_ENTRY_BUS       1
#define MP_ENTRY_IOAPIC    2
#define MP_ENTRY_IOINT     3
#define MP_ENTRY_LINT      4
#define MP_CPU_ENABLED     0x01
#define MP_CPU_BSP         0x02
#define MP_IOAPIC_ENABLED  0x01
#define MP_INT_VECTORED    0  /* an ordinary interrupt */
#define MP_INT_NMI         1
#define MP_INT_EXTINT      3  /* the 8259's output (virtual wire) */
#define MP_FLAGS_BUS_DEFAULT 0x0
#define MP_FLAGS_LEVEL_HIGH 0xd /* polarity active high (01), trigger level (11 << 2): how KVM drives PCI lines */
#define LAPIC_VERSION      0x14
#define IOAPIC_VERSION     0x11
#define BUS_PCI            0
#define BUS_ISA            1
#define CPU_APIC_ID        LAYOUT_BSP_APIC_ID
#define IOAPIC_ID          LAYOUT_IOAPIC_ID
#define ISA_IRQS           16
#define FLOATING_SIZE      16
#define HEADER_SIZE        44

struct writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int overflow;
};

static uint8_t *take(struct writer *w, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = 1;
		return NULL;
	}
	uint8_t *p = w->buf + w->len;
	memset(p, 0, n);
	w->len += n;
	return p;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }

/* The byte that makes the sum of [p, p+n) zero. */
static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)-sum;
}

static void io_interrupt(struct writer *w, uint8_t type, uint8_t flags, uint8_t bus, uint8_t bus_irq, uint8_t pin)
{
	uint8_t *e = take(w, 8);
	if (!e)
		return;
	e[0] = MP_ENTRY_IOINT;
	e[1] = type;
	put16(e + 2, flags);
	e[4] = bus;
	e[5] = bus_irq;
	e[6] = IOAPIC_ID;
	e[7] = pin;
}

static void local_interrupt(struct writer *w, uint8_t type, uint8_t lint)
{
	uint8_t *e = take(w, 8);
	if (!e)
		return;
	e[0] = MP_ENTRY_LINT;
	e[1] = type;
	e[4] = BUS_ISA;
	e[6] = 0xff; /* every local APIC */
	e[7] = lint;
}

size_t mptable_build(uint8_t *buf, size_t cap, uint32_t gpa, const struct mptable_config *cfg)
{
	struct writer w = { buf, cap, 0, 0 };
	uint8_t *fp = take(&w, FLOATING_SIZE);
	uint8_t *hdr = take(&w, HEADER_SIZE);
	unsigned entries = 0;

	uint8_t *cpu = take(&w, 20);
	if (cpu) {
		cpu[0] = MP_ENTRY_CPU;
		cpu[1] = CPU_APIC_ID;
		cpu[2] = LAPIC_VERSION;
		cpu[3] = MP_CPU_ENABLED | MP_CPU_BSP;
		put32(cpu + 4, cfg->cpu_signature);
		put32(cpu + 8, cfg->cpu_features);
	}
	entries++;
	static const struct { uint8_t id; char name[7]; } buses[] = { { BUS_PCI, "PCI   " }, { BUS_ISA, "ISA   " } };
	for (size_t i = 0; i < sizeof(buses) / sizeof(buses[0]); i++, entries++) {
		uint8_t *b = take(&w, 8);
		if (b) {
			b[0] = MP_ENTRY_BUS;
			b[1] = buses[i].id;
			memcpy(b + 2, buses[i].name, 6);
		}
	}
	uint8_t *io = take(&w, 8);
	if (io) {
		io[0] = MP_ENTRY_IOAPIC;
		io[1] = IOAPIC_ID;
		io[2] = IOAPIC_VERSION;
		io[3] = MP_IOAPIC_ENABLED;
		put32(io + 4, (uint32_t)LAYOUT_IOAPIC);
	}
	entries++;
	/* ISA IRQ n arrives on IOAPIC pin n: KVM's default GSI routing, the in-kernel PIT included. */
	for (unsigned irq = 0; irq < ISA_IRQS; irq++, entries++)
		io_interrupt(&w, MP_INT_VECTORED, MP_FLAGS_BUS_DEFAULT, BUS_ISA, (uint8_t)irq, (uint8_t)irq);
	for (unsigned i = 0; i < cfg->npci_irqs && i < MPTABLE_MAX_PCI_IRQS; i++, entries++) {
		const struct mptable_pci_irq *p = &cfg->pci_irqs[i];
		/* A PCI source is encoded as device << 2 | (INTx# - 1). */
		io_interrupt(&w, MP_INT_VECTORED, MP_FLAGS_LEVEL_HIGH, BUS_PCI,
			     (uint8_t)(p->slot << 2 | ((p->pin - 1) & 3)), p->ioapic_pin);
	}
	local_interrupt(&w, MP_INT_EXTINT, 0);
	local_interrupt(&w, MP_INT_NMI, 1);
	entries += 2;
	if (w.overflow)
		return 0;

	memcpy(hdr, "PCMP", 4);
	put16(hdr + 4, (uint16_t)(w.len - FLOATING_SIZE));
	hdr[6] = MP_SPEC_REV;
	memcpy(hdr + 8, "LBVM    ", 8);
	memcpy(hdr + 16, "LBVM MACHINE", 12);
	put16(hdr + 34, (uint16_t)entries);
	put32(hdr + 36, (uint32_t)LAYOUT_LAPIC);
	hdr[7] = checksum(hdr, w.len - FLOATING_SIZE);

	memcpy(fp, "_MP_", 4);
	put32(fp + 4, gpa + FLOATING_SIZE);
	fp[8] = 1; /* length in 16-byte units */
	fp[9] = MP_SPEC_REV;
	fp[10] = checksum(fp, FLOATING_SIZE);
	return w.len;
}
