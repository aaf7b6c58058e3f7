/* lbvm's CPUID policy (vmm/cpuid.c, docs/cpuid.md) on a table shaped like KVM_GET_SUPPORTED_CPUID's: the
 * hypervisor leaves go, hardware entropy goes, the topology says one CPU with APIC id 0, and every other
 * bit stays exactly as KVM offered it. */
#include "check_run.h"
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/cpuid.h"

#define ALL_ONES 0xffffffffu

static struct kvm_cpuid2 *table(unsigned max)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + max * sizeof(struct kvm_cpuid_entry2));
	ck_assert_ptr_nonnull(c);
	return c;
}

/* add: an entry with every register bit set, so that each bit the policy clears shows */
static void add(struct kvm_cpuid2 *c, uint32_t function, uint32_t index)
{
	struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];
	memset(e, 0, sizeof(*e));
	e->function = function;
	e->index = index;
	e->eax = e->ebx = e->ecx = e->edx = ALL_ONES;
}

static const struct kvm_cpuid_entry2 *find(const struct kvm_cpuid2 *c, uint32_t function, uint32_t index)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == function && c->entries[i].index == index)
			return &c->entries[i];
	return NULL;
}

START_TEST(hypervisor_leaves_are_dropped_in_order)
{
	struct kvm_cpuid2 *c = table(8);
	add(c, 0x0, 0);
	add(c, 0x40000000, 0); /* KVM's signature */
	add(c, 0x40000001, 0); /* kvmclock and the other paravirtual features */
	add(c, 0x4fffffff, 0);
	add(c, 0x3fffffff, 0);
	add(c, 0x50000000, 0);
	add(c, 0x80000000, 0);
	cpuid_pin(c);
	ck_assert_uint_eq(c->nent, 4);
	ck_assert_uint_eq(c->entries[0].function, 0x0);
	ck_assert_uint_eq(c->entries[1].function, 0x3fffffff);
	ck_assert_uint_eq(c->entries[2].function, 0x50000000);
	ck_assert_uint_eq(c->entries[3].function, 0x80000000);
	/* Leaves the policy does not name keep every bit. */
	for (uint32_t i = 0; i < c->nent; i++)
		ck_assert_uint_eq(c->entries[i].eax & c->entries[i].ebx & c->entries[i].ecx & c->entries[i].edx, ALL_ONES);
	free(c);
}
END_TEST

START_TEST(leaf1_one_cpu_no_rdrand)
{
	struct kvm_cpuid2 *c = table(2);
	add(c, 0x1, 0);
	cpuid_pin(c);
	const struct kvm_cpuid_entry2 *e = find(c, 0x1, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->ecx, ALL_ONES & ~(1u << 30));     /* RDRAND off, the rest kept */
	ck_assert_uint_eq(e->edx, ALL_ONES & ~(1u << 28));     /* no hyper-threading */
	ck_assert_uint_eq(e->ebx >> 24, 0);                    /* initial APIC id 0 */
	ck_assert_uint_eq((e->ebx >> 16) & 0xff, 1);           /* one logical processor */
	ck_assert_uint_eq(e->ebx & 0xffff, 0xffff);            /* brand index and CLFLUSH size kept */
	ck_assert_uint_eq(e->eax, ALL_ONES);
	free(c);
}
END_TEST

START_TEST(leaf7_no_rdseed_in_subleaf0_only)
{
	struct kvm_cpuid2 *c = table(2);
	add(c, 0x7, 0);
	add(c, 0x7, 1);
	cpuid_pin(c);
	ck_assert_uint_eq(find(c, 0x7, 0)->ebx, ALL_ONES & ~(1u << 18));
	ck_assert_uint_eq(find(c, 0x7, 0)->ecx, ALL_ONES);
	ck_assert_uint_eq(find(c, 0x7, 1)->ebx, ALL_ONES);
	free(c);
}
END_TEST

START_TEST(topology_leaves_say_one_core)
{
	struct kvm_cpuid2 *c = table(8);
	add(c, 0x4, 0);
	add(c, 0x4, 3);
	add(c, 0xb, 0);
	add(c, 0xb, 1);
	add(c, 0x1f, 0);
	add(c, 0x80000008, 0);
	add(c, 0x8000001e, 0);
	cpuid_pin(c);
	for (uint32_t sub = 0; sub < 4; sub += 3) {
		const struct kvm_cpuid_entry2 *e = find(c, 0x4, sub);
		ck_assert_uint_eq(e->eax, 0x00003fffu); /* cores per package and threads per cache: 1 (fields 0) */
		ck_assert_uint_eq(e->ebx, ALL_ONES);   /* the cache's geometry kept */
	}
	ck_assert_uint_eq(find(c, 0xb, 0)->edx, 0); /* x2APIC id 0 */
	ck_assert_uint_eq(find(c, 0xb, 1)->edx, 0);
	ck_assert_uint_eq(find(c, 0xb, 1)->eax, ALL_ONES);
	ck_assert_uint_eq(find(c, 0x1f, 0)->edx, 0);
	const struct kvm_cpuid_entry2 *sizes = find(c, 0x80000008, 0);
	ck_assert_uint_eq(sizes->ecx, ALL_ONES & ~0xf0ffu); /* NC = 0: one core; APIC id size gone */
	ck_assert_uint_eq(sizes->eax, ALL_ONES);             /* address sizes kept */
	const struct kvm_cpuid_entry2 *amd = find(c, 0x8000001e, 0);
	ck_assert_uint_eq(amd->eax | amd->ebx | amd->ecx, 0);
	ck_assert_uint_eq(amd->edx, ALL_ONES);
	free(c);
}
END_TEST

START_TEST(empty_table)
{
	struct kvm_cpuid2 *c = table(1);
	cpuid_pin(c);
	ck_assert_uint_eq(c->nent, 0);
	uint32_t sig = 1, feat = 1;
	cpuid_leaf1(c, &sig, &feat);
	ck_assert_uint_eq(sig, 0);
	ck_assert_uint_eq(feat, 0);
	free(c);
}
END_TEST

START_TEST(leaf1_for_the_mp_table)
{
	struct kvm_cpuid2 *c = table(3);
	add(c, 0x0, 0);
	add(c, 0x1, 0);
	c->entries[1].eax = 0x00a20f12; /* family, model, stepping */
	c->entries[1].edx = 0x178bfbff;
	add(c, 0x80000001, 0);
	uint32_t sig = 0, feat = 0;
	cpuid_leaf1(c, &sig, &feat);
	ck_assert_uint_eq(sig, 0x00a20f12);
	ck_assert_uint_eq(feat, 0x178bfbff);
	/* After the policy: the features the MP table copies are the pinned ones. */
	cpuid_pin(c);
	cpuid_leaf1(c, &sig, &feat);
	ck_assert_uint_eq(feat, 0x178bfbff & ~(1u << 28));
	free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cpuid");
	TCase *tc = tcase_create("policy");
	tcase_add_test(tc, hypervisor_leaves_are_dropped_in_order);
	tcase_add_test(tc, leaf1_one_cpu_no_rdrand);
	tcase_add_test(tc, leaf7_no_rdseed_in_subleaf0_only);
	tcase_add_test(tc, topology_leaves_say_one_core);
	tcase_add_test(tc, empty_table);
	tcase_add_test(tc, leaf1_for_the_mp_table);
	suite_add_tcase(s, tc);
	return check_run(s);
}
