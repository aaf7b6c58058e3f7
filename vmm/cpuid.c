#include "vmm/cpuid.h"

#include <string.h>

#define LEAF_FEATURES        0x1
#define LEAF_CACHE_TOPOLOGY  0x4
#define LEAF_EXT_FEATURES    0x7
#define LEAF_TOPOLOGY        0xb
#define LEAF_TOPOLOGY_V2     0x1f
#define LEAF_HYPERVISOR_BASE 0x40000000u /* KVM's signature and paravirtual features (kvmclock, ...) */
#define LEAF_HYPERVISOR_END  0x4fffffffu
#define LEAF_AMD_SIZES       0x80000008u
#define LEAF_AMD_TOPOLOGY    0x8000001eu

#define F1_ECX_RDRAND        (1u << 30)
#define F1_EDX_HTT           (1u << 28)
#define F7_EBX_RDSEED        (1u << 18)

static void pin_entry(struct kvm_cpuid_entry2 *e)
{
	switch (e->function) {
	case LEAF_FEATURES:
		e->ecx &= ~F1_ECX_RDRAND;            /* no hardware entropy: runs must not differ by it */
		e->ebx &= 0x0000ffffu;                /* APIC id 0 ... */
		e->ebx |= 1u << 16;                   /* ... one logical processor */
		e->edx &= ~F1_EDX_HTT;
		break;
	case LEAF_EXT_FEATURES:
		if (e->index == 0)
			e->ebx &= ~F7_EBX_RDSEED;
		break;
	case LEAF_CACHE_TOPOLOGY:
		e->eax &= 0x00003fffu;                /* one core, one thread sharing each cache */
		break;
	case LEAF_TOPOLOGY:
	case LEAF_TOPOLOGY_V2:
		e->edx = 0;                           /* x2APIC id 0 */
		break;
	case LEAF_AMD_SIZES:
		e->ecx &= ~0xf0ffu;                   /* one core */
		break;
	case LEAF_AMD_TOPOLOGY:
		e->eax = e->ebx = e->ecx = 0;
		break;
	default:
		break;
	}
}

void cpuid_pin(struct kvm_cpuid2 *cpuid)
{
	uint32_t kept = 0;
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 e = cpuid->entries[i];
		if (e.function >= LEAF_HYPERVISOR_BASE && e.function <= LEAF_HYPERVISOR_END)
			continue; /* no kvmclock, no KVM paravirtual features: the guest times itself on the PIT */
		pin_entry(&e);
		cpuid->entries[kept++] = e;
	}
	cpuid->nent = kept;
}

void cpuid_leaf1(const struct kvm_cpuid2 *cpuid, uint32_t *signature, uint32_t *features)
{
	*signature = *features = 0;
	for (uint32_t i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == LEAF_FEATURES) {
			*signature = cpuid->entries[i].eax;
			*features = cpuid->entries[i].edx;
		}
}
