#include "vmm/vcpu_entry.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "common/layout.h"

#define BOOT_CS        0x10
#define BOOT_DS        0x18
#define GDT_ENTRIES    4
#define SEG_CODE_RX    0xb /* execute/read, accessed */
#define SEG_DATA_RW    0x3 /* read/write, accessed */
#define CR0_PE         (1u << 0)
#define CR0_ET         (1u << 4)
#define CR0_PG         (1u << 31)
#define CR4_PAE        (1u << 5)
#define EFER_LME       (1u << 8)
#define EFER_LMA       (1u << 10)
#define RFLAGS_FIXED   0x2
#define REAL_LIMIT     0xffff
#define REAL_IDT_LIMIT 0x3ff /* 256 vectors of 4 bytes at 0 */
#define APIC_LVT0      0x350
#define APIC_LVT1      0x360
#define APIC_MODE_NMI    (4u << 8)
#define APIC_MODE_EXTINT (7u << 8)

static void flat_segment(struct kvm_segment *s, uint16_t selector, uint8_t type, int long_code)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = selector;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = (uint8_t)long_code;
	s->db = (uint8_t)!long_code; /* a 64-bit code segment must have D clear */
}

static void real_segment(struct kvm_segment *s, uint16_t selector, uint8_t type)
{
	memset(s, 0, sizeof(*s));
	s->selector = selector;
	s->base = (uint64_t)selector << 4;
	s->limit = REAL_LIMIT;
	s->type = type;
	s->present = 1;
	s->s = 1;
}

/* As a PC's CPU leaves reset, but at the firmware's entry: CS:IP given, data segments 0, paging and
 * protection off, the real-mode IVT at 0. */
static void real_mode(struct kvm_sregs *sregs, const struct vcpu_entry *entry)
{
	real_segment(&sregs->cs, entry->cs, SEG_CODE_RX);
	struct kvm_segment *data[] = { &sregs->ds, &sregs->es, &sregs->fs, &sregs->gs, &sregs->ss };
	for (size_t i = 0; i < sizeof(data) / sizeof(data[0]); i++)
		real_segment(data[i], 0, SEG_DATA_RW);
	sregs->gdt.base = 0;
	sregs->gdt.limit = REAL_LIMIT;
	sregs->idt.base = 0;
	sregs->idt.limit = REAL_IDT_LIMIT;
	sregs->cr0 = CR0_ET;
	sregs->cr3 = 0;
	sregs->cr4 = 0;
	sregs->efer = 0;
}

/* The boot protocol's flat protected mode, or long mode with the identity page tables. */
static void flat_mode(struct kvm_sregs *sregs, int long_mode)
{
	/* TR and LDTR keep KVM's reset values: valid, and Linux loads its own before using them. */
	flat_segment(&sregs->cs, BOOT_CS, SEG_CODE_RX, long_mode);
	struct kvm_segment *data[] = { &sregs->ds, &sregs->es, &sregs->fs, &sregs->gs, &sregs->ss };
	for (size_t i = 0; i < sizeof(data) / sizeof(data[0]); i++)
		flat_segment(data[i], BOOT_DS, SEG_DATA_RW, 0);
	sregs->gdt.base = LAYOUT_BOOT_GDT;
	sregs->gdt.limit = GDT_ENTRIES * 8 - 1;
	sregs->idt.base = 0;
	sregs->idt.limit = 0;
	sregs->cr0 = CR0_PE | CR0_ET;
	sregs->cr4 = 0;
	sregs->efer = 0;
	if (long_mode) {
		sregs->cr3 = LAYOUT_PML4;
		sregs->cr4 |= CR4_PAE;
		sregs->cr0 |= CR0_PG;
		sregs->efer |= EFER_LME | EFER_LMA;
	}
}

void vcpu_entry_state(const struct vcpu_entry *entry, struct kvm_sregs *sregs, struct kvm_regs *regs)
{
	if (entry->kind == VCPU_ENTRY_REAL16)
		real_mode(sregs, entry);
	else
		flat_mode(sregs, entry->kind == VCPU_ENTRY_LONG64);
	memset(regs, 0, sizeof(*regs));
	regs->rip = entry->rip;
	regs->rsi = entry->rsi;
	regs->rflags = RFLAGS_FIXED; /* IF clear: the kernel (or the firmware) enables interrupts itself */
}

static void lapic_set(struct kvm_lapic_state *lapic, unsigned reg, uint32_t value)
{
	memcpy(&lapic->regs[reg], &value, sizeof(value));
}

void vcpu_entry_lapic(struct kvm_lapic_state *lapic)
{
	/* As a PC BIOS leaves it: the 8259's output arrives on LINT0 (virtual wire), NMIs on LINT1. */
	lapic_set(lapic, APIC_LVT0, APIC_MODE_EXTINT);
	lapic_set(lapic, APIC_LVT1, APIC_MODE_NMI);
}

int vcpu_entry_apply(int vcpu_fd, const struct vcpu_entry *entry, const char **what)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_lapic_state lapic;
	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0) {
		*what = "KVM_GET_SREGS";
		return -errno;
	}
	vcpu_entry_state(entry, &sregs, &regs);
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0) {
		*what = "KVM_SET_SREGS";
		return -errno;
	}
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0) {
		*what = "KVM_SET_REGS";
		return -errno;
	}
	if (ioctl(vcpu_fd, KVM_GET_LAPIC, &lapic) < 0) {
		*what = "KVM_GET_LAPIC";
		return -errno;
	}
	vcpu_entry_lapic(&lapic);
	if (ioctl(vcpu_fd, KVM_SET_LAPIC, &lapic) < 0) {
		*what = "KVM_SET_LAPIC";
		return -errno;
	}
	return 0;
}
