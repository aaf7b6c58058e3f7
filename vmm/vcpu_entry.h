/* The vCPU state at the guest's first instruction, set once before the first KVM_RUN. Three kinds:
 * the x86 boot protocol's flat protected mode (or long mode with identity paging for the 64-bit entry),
 * __BOOT_CS/__BOOT_DS selectors, interrupts off, RSI at the zero page; or real mode at the firmware's entry
 * (CS:IP, data segments 0), as a PC's CPU leaves reset. In every kind the local APIC is wired like a PC's
 * (LINT0 ExtINT from the PIC, LINT1 NMI). */
#ifndef LBVM_VMM_VCPU_ENTRY_H
#define LBVM_VMM_VCPU_ENTRY_H

#include <linux/kvm.h>
#include <stdint.h>

enum vcpu_entry_kind {
	VCPU_ENTRY_FLAT32,  /* 32-bit flat protected mode */
	VCPU_ENTRY_LONG64,  /* 64-bit long mode, identity-mapped 4 GiB */
	VCPU_ENTRY_REAL16,  /* real mode at cs:rip */
};

struct vcpu_entry {
	enum vcpu_entry_kind kind;
	uint16_t cs;     /* real mode: the code segment (its base is cs * 16) */
	uint64_t rip;
	uint64_t rsi;    /* protected/long mode: the zero page */
};

/* 0 or -errno from the KVM call that failed; *what names it. */
int vcpu_entry_apply(int vcpu_fd, const struct vcpu_entry *entry, const char **what);

/* The state vcpu_entry_apply sets, computed without KVM. sregs holds KVM's reset state (KVM_GET_SREGS) and
 * gets the segments, descriptor tables, control registers and EFER; regs is set whole. */
void vcpu_entry_state(const struct vcpu_entry *entry, struct kvm_sregs *sregs, struct kvm_regs *regs);
/* The local APIC's LINT0 and LINT1 wiring, applied to a KVM_GET_LAPIC state. */
void vcpu_entry_lapic(struct kvm_lapic_state *lapic);

#endif
