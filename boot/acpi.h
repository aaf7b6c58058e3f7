/* The ACPI tables of lbvm's machine, so that a kernel can power off and reset it through registers no
 * program can reach through the console (docs/boot.md, "How a run ends"):
 *   RSDP (at the area's start, where Linux's legacy scan of 0xe0000..0xfffff finds it), RSDT and XSDT,
 *   FADT (PM1a event and control blocks in I/O space, the SCI, no SMI command port: ACPI is always on; the
 *         reset register at I/O 0xcf9; no PM timer, no GPE blocks), FACS,
 *   MADT (the one local APIC, the IOAPIC, the SCI's interrupt source override, LINT1 as NMI: the same
 *         wiring as the MP table, ISA IRQ n on IOAPIC pin n as KVM's default routing has it),
 *   DSDT (\_S5 for power-off and the PCI root bridge PCI0 with its _CRS windows and a _PRT that routes
 *         every slot's INTA..INTD to the IOAPIC pin devices/pci.c drives).
 * Every address, port and IRQ comes from common/layout.h. Pure: bytes in a buffer, no I/O. */
#ifndef LBVM_BOOT_ACPI_H
#define LBVM_BOOT_ACPI_H

#include <stddef.h>
#include <stdint.h>

#define ACPI_MAX_PCI_ROUTES 128 /* 32 slots x INTA..INTD */

/* Table sizes and offsets a reader (or a test) needs. */
#define ACPI_RSDP_SIZE      36
#define ACPI_HEADER_SIZE    36
#define ACPI_FADT_SIZE      276 /* revision 6 */
#define ACPI_FACS_SIZE      64
#define ACPI_GAS_SIZE       12  /* Generic Address Structure */

struct acpi_pci_route {
	uint8_t slot; /* device number on bus 0 */
	uint8_t pin;  /* 1 = INTA# .. 4 = INTD# */
	uint8_t gsi;  /* IOAPIC pin */
};

struct acpi_config {
	uint8_t slp_typ_s5;     /* the PM1 control register's SLP_TYP value that means S5 (soft off) */
	uint8_t reset_value;    /* what the kernel writes to the reset register */
	unsigned npci_routes;
	struct acpi_pci_route pci_routes[ACPI_MAX_PCI_ROUTES];
};

/* Where each table landed, as guest-physical addresses (for tests and the zero page). */
struct acpi_tables {
	uint64_t rsdp, rsdt, xsdt, fadt, facs, madt, dsdt;
	size_t size; /* bytes used from the start of the area */
};

/* Write the tables into buf, which the guest sees at guest-physical `gpa` (16-byte aligned, below 4 GiB).
 * 0, or -1 when `cap` bytes are not enough or the config cannot be encoded. */
int acpi_build(uint8_t *buf, size_t cap, uint64_t gpa, const struct acpi_config *cfg, struct acpi_tables *out);

#endif
