/* An Intel MultiProcessor Specification 1.4 table: how a kernel without ACPI finds the CPU, the IOAPIC and
 * which IOAPIC pin each ISA and PCI interrupt arrives on. Linux scans the last KiB of base memory for it. */
#ifndef LBVM_BOOT_MPTABLE_H
#define LBVM_BOOT_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

#define MPTABLE_MAX_PCI_IRQS 32

struct mptable_pci_irq {
	uint8_t slot;        /* PCI device number on bus 0 */
	uint8_t pin;         /* 1 = INTA# .. 4 = INTD# */
	uint8_t ioapic_pin;  /* where it arrives */
};

struct mptable_config {
	uint32_t cpu_signature;  /* CPUID.1:EAX */
	uint32_t cpu_features;   /* CPUID.1:EDX */
	unsigned npci_irqs;
	struct mptable_pci_irq pci_irqs[MPTABLE_MAX_PCI_IRQS];
};

/* Write the floating pointer followed by the configuration table into buf, which the guest will see at
 * guest-physical address `gpa`. Returns the bytes written, or 0 when `cap` is too small. */
size_t mptable_build(uint8_t *buf, size_t cap, uint32_t gpa, const struct mptable_config *cfg);

#endif
