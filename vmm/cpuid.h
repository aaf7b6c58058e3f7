/* The CPUID the guest sees, pinned (see docs/cpuid.md): KVM's supported set minus what makes runs differ
 * or ties the guest to KVM's paravirtual clock. Pure: edits a struct kvm_cpuid2 in place. */
#ifndef LBVM_VMM_CPUID_H
#define LBVM_VMM_CPUID_H

#include <linux/kvm.h>
#include <stdint.h>

/* Apply lbvm's policy to the entries KVM_GET_SUPPORTED_CPUID returned; entries may be dropped. */
void cpuid_pin(struct kvm_cpuid2 *cpuid);
/* Leaf 1 EAX (signature) and EDX (features), for the MP table's processor entry; 0 when absent. */
void cpuid_leaf1(const struct kvm_cpuid2 *cpuid, uint32_t *signature, uint32_t *features);

#endif
