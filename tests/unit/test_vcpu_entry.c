/* The vCPU state at the kernel's entry (vmm/vcpu_entry.c), computed without KVM: what the x86 boot
 * protocol asks for in 32- and 64-bit entry, segments that match the descriptors of the boot GDT the loader
 * writes (the guest reloads them from there), KVM's reset values left where lbvm has no say, and the local
 * APIC wired as a PC BIOS leaves it. */
#include "check_run.h"
#include <check.h>
#include <string.h>

#include "common/layout.h"
#include "vmm/vcpu_entry.h"

#define CR0_PE    (1u << 0)
#define CR0_ET    (1u << 4)
#define CR0_PG    (1u << 31)
#define CR4_PAE   (1u << 5)
#define EFER_LME  (1u << 8)
#define EFER_LMA  (1u << 10)
/* The boot GDT's code (selector 0x10) and data (0x18) descriptors as boot/loader.c writes them. */
#define GDT_CODE32 0x00cf9b000000ffffULL
#define GDT_CODE64 0x00af9b000000ffffULL
#define GDT_DATA   0x00cf93000000ffffULL
#define RESET_MARK 0x5a

/* KVM's reset state stands in for KVM_GET_SREGS: a recognisable pattern in everything lbvm leaves alone. */
static void reset_state(struct kvm_sregs *sregs, struct kvm_regs *regs)
{
	memset(sregs, RESET_MARK, sizeof(*sregs));
	memset(regs, RESET_MARK, sizeof(*regs));
}

/* The hidden part a segment register gets when the guest loads the selector from descriptor d. */
static void expect_descriptor(const struct kvm_segment *s, uint16_t selector, uint64_t d)
{
	ck_assert_uint_eq(s->selector, selector);
	ck_assert_uint_eq(s->base, (d >> 16 & 0xffffff) | (d >> 56 & 0xff) << 24);
	uint32_t limit = (uint32_t)(d & 0xffff) | (uint32_t)(d >> 48 & 0xf) << 16;
	unsigned g = d >> 55 & 1;
	ck_assert_uint_eq(s->limit, g ? limit << 12 | 0xfff : limit); /* KVM takes the limit in bytes */
	ck_assert_uint_eq(s->type, d >> 40 & 0xf);
	ck_assert_uint_eq(s->s, d >> 44 & 1);
	ck_assert_uint_eq(s->dpl, d >> 45 & 3);
	ck_assert_uint_eq(s->present, d >> 47 & 1);
	ck_assert_uint_eq(s->avl, d >> 52 & 1);
	ck_assert_uint_eq(s->l, d >> 53 & 1);
	ck_assert_uint_eq(s->db, d >> 54 & 1);
	ck_assert_uint_eq(s->g, g);
	ck_assert_uint_eq(s->unusable, 0);
}

static void expect_common(const struct kvm_sregs *sregs, const struct kvm_regs *regs, uint64_t rip)
{
	const struct kvm_segment *data[] = { &sregs->ds, &sregs->es, &sregs->fs, &sregs->gs, &sregs->ss };
	for (size_t i = 0; i < sizeof(data) / sizeof(data[0]); i++)
		expect_descriptor(data[i], 0x18, GDT_DATA);
	ck_assert_uint_eq(sregs->gdt.base, LAYOUT_BOOT_GDT);
	ck_assert_uint_eq(sregs->gdt.limit, 4 * 8 - 1);
	ck_assert_uint_eq(sregs->idt.base, 0);
	ck_assert_uint_eq(sregs->idt.limit, 0);
	/* TR and LDTR, the APIC base and pending interrupts stay KVM's. */
	struct kvm_sregs mark;
	memset(&mark, RESET_MARK, sizeof(mark));
	ck_assert_mem_eq(&sregs->tr, &mark.tr, sizeof(mark.tr));
	ck_assert_mem_eq(&sregs->ldt, &mark.ldt, sizeof(mark.ldt));
	ck_assert_uint_eq(sregs->apic_base, mark.apic_base);
	ck_assert_mem_eq(sregs->interrupt_bitmap, mark.interrupt_bitmap, sizeof(mark.interrupt_bitmap));
	/* Every general register zero but RIP and RSI (the zero page); IF clear, only the fixed bit 1 set. */
	ck_assert_uint_eq(regs->rip, rip);
	ck_assert_uint_eq(regs->rsi, LAYOUT_ZERO_PAGE);
	ck_assert_uint_eq(regs->rflags, 0x2);
	uint64_t others[] = { regs->rax, regs->rbx, regs->rcx, regs->rdx, regs->rdi, regs->rsp, regs->rbp,
			      regs->r8,  regs->r9,  regs->r10, regs->r11, regs->r12, regs->r13, regs->r14, regs->r15 };
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		ck_assert_uint_eq(others[i], 0);
}

START_TEST(entry32_flat_protected_mode)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	reset_state(&sregs, &regs);
	uint64_t cr3_before = sregs.cr3;
	struct vcpu_entry e = { .kind = VCPU_ENTRY_FLAT32, .rip = LAYOUT_KERNEL, .rsi = LAYOUT_ZERO_PAGE };
	vcpu_entry_state(&e, &sregs, &regs);
	expect_descriptor(&sregs.cs, 0x10, GDT_CODE32);
	ck_assert_uint_eq(sregs.cs.db, 1);
	ck_assert_uint_eq(sregs.cs.l, 0);
	ck_assert_uint_eq(sregs.cr0, CR0_PE | CR0_ET); /* protected mode, no paging */
	ck_assert_uint_eq(sregs.cr4, 0);
	ck_assert_uint_eq(sregs.efer, 0);
	ck_assert_uint_eq(sregs.cr3, cr3_before); /* no paging: lbvm has no page tables to name */
	expect_common(&sregs, &regs, LAYOUT_KERNEL);
}
END_TEST

START_TEST(entry64_long_mode_with_identity_paging)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	reset_state(&sregs, &regs);
	struct vcpu_entry e = { .kind = VCPU_ENTRY_LONG64, .rip = LAYOUT_KERNEL + 0x200, .rsi = LAYOUT_ZERO_PAGE };
	vcpu_entry_state(&e, &sregs, &regs);
	expect_descriptor(&sregs.cs, 0x10, GDT_CODE64);
	ck_assert_uint_eq(sregs.cs.l, 1);
	ck_assert_uint_eq(sregs.cs.db, 0); /* L with D set is reserved */
	ck_assert_uint_eq(sregs.cr0, CR0_PE | CR0_ET | CR0_PG);
	ck_assert_uint_eq(sregs.cr4, CR4_PAE);
	ck_assert_uint_eq(sregs.efer, EFER_LME | EFER_LMA);
	ck_assert_uint_eq(sregs.cr3, LAYOUT_PML4); /* the identity map boot/loader.c writes */
	expect_common(&sregs, &regs, LAYOUT_KERNEL + 0x200);
}
END_TEST

START_TEST(entry16_real_mode_at_the_firmware)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	reset_state(&sregs, &regs);
	struct vcpu_entry e = { .kind = VCPU_ENTRY_REAL16, .cs = 0xf000, .rip = 0x0010 };
	vcpu_entry_state(&e, &sregs, &regs);
	/* real mode: a segment's base is its selector times 16, 64 KiB limits, the IVT at 0 */
	ck_assert_uint_eq(sregs.cs.selector, 0xf000);
	ck_assert_uint_eq(sregs.cs.base, 0xf0000);
	ck_assert_uint_eq(sregs.cs.limit, 0xffff);
	ck_assert_uint_eq(sregs.ds.base, 0);
	ck_assert_uint_eq(sregs.ss.selector, 0);
	ck_assert_uint_eq(sregs.idt.base, 0);
	ck_assert_uint_eq(sregs.idt.limit, 0x3ff);
	ck_assert_uint_eq(sregs.cr0 & (CR0_PE | CR0_PG), 0);
	ck_assert_uint_eq(sregs.efer, 0);
	ck_assert_uint_eq(regs.rip, 0x0010);
	ck_assert_uint_eq(regs.rflags, 0x2); /* interrupts off */
}
END_TEST

START_TEST(entry_state_does_not_depend_on_the_reset_state)
{
	/* The same entry from two different starting states: everything lbvm sets comes out equal. */
	struct kvm_sregs a, b;
	struct kvm_regs ra, rb;
	memset(&a, 0, sizeof(a));
	memset(&b, 0xff, sizeof(b));
	memset(&ra, 0x11, sizeof(ra));
	memset(&rb, 0xee, sizeof(rb));
	struct vcpu_entry e = { .kind = VCPU_ENTRY_LONG64, .rip = 0x1234, .rsi = 0x5678 };
	vcpu_entry_state(&e, &a, &ra);
	vcpu_entry_state(&e, &b, &rb);
	ck_assert_mem_eq(&a.cs, &b.cs, sizeof(a.cs));
	ck_assert_mem_eq(&a.ss, &b.ss, sizeof(a.ss));
	ck_assert_uint_eq(a.cr0, b.cr0);
	ck_assert_uint_eq(a.cr3, b.cr3);
	ck_assert_uint_eq(a.cr4, b.cr4);
	ck_assert_uint_eq(a.efer, b.efer);
	ck_assert_mem_eq(&ra, &rb, sizeof(ra));
}
END_TEST

static uint32_t lapic_reg(const struct kvm_lapic_state *l, unsigned reg)
{
	uint32_t v;
	memcpy(&v, &l->regs[reg], sizeof(v));
	return v;
}

START_TEST(lapic_wired_like_a_pc)
{
	struct kvm_lapic_state lapic;
	memset(&lapic, 0, sizeof(lapic));
	uint32_t masked = 1u << 16;
	memcpy(&lapic.regs[0x350], &masked, sizeof(masked)); /* KVM resets the LVTs masked */
	memcpy(&lapic.regs[0x360], &masked, sizeof(masked));
	uint32_t id = 0x01000000;
	memcpy(&lapic.regs[0x20], &id, sizeof(id));
	vcpu_entry_lapic(&lapic);
	ck_assert_uint_eq(lapic_reg(&lapic, 0x350), 7u << 8); /* LINT0: ExtINT, unmasked: the 8259's output */
	ck_assert_uint_eq(lapic_reg(&lapic, 0x360), 4u << 8); /* LINT1: NMI, unmasked */
	ck_assert_uint_eq(lapic_reg(&lapic, 0x20), id);       /* the rest untouched */
	ck_assert_uint_eq(lapic_reg(&lapic, 0x320), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vcpu_entry");
	TCase *tc = tcase_create("state");
	tcase_add_test(tc, entry32_flat_protected_mode);
	tcase_add_test(tc, entry64_long_mode_with_identity_paging);
	tcase_add_test(tc, entry16_real_mode_at_the_firmware);
	tcase_add_test(tc, entry_state_does_not_depend_on_the_reset_state);
	tcase_add_test(tc, lapic_wired_like_a_pc);
	suite_add_tcase(s, tc);
	return check_run(s);
}
