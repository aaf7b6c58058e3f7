/* The KVM objects of one machine: /dev/kvm, the VM with its RAM slots, in-kernel irqchip and PIT, and one
 * vCPU with its shared kvm_run page. Errors come back as text for the user plus the exit status they
 * deserve (no /dev/kvm is the user's to fix: EXIT_USAGE; KVM refusing a call is EXIT_INTERNAL). */
#ifndef LBVM_VMM_KVM_VM_H
#define LBVM_VMM_KVM_VM_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/guest_mem.h"

#define KVM_DEVICE_PATH "/dev/kvm"

struct kvm_vm {
	int kvm_fd;               /* /dev/kvm: closed as soon as the VM and vCPU exist (-1 during a run) */
	int vm_fd;
	int vcpu_fd;
	struct kvm_run *run;     /* the vCPU's shared page: exit reason and I/O data */
	size_t run_size;
	struct kvm_cpuid2 *cpuid; /* what the guest sees (pinned, see docs/cpuid.md) */
};

/* Open KVM, create the VM, its RAM slots, irqchip, PIT and the vCPU with pinned CPUID.
 * 0, or -1 with *err filled; on failure everything already made is released. */
int kvm_vm_create(struct kvm_vm *vm, const struct guest_mem *mem, struct error *err);
void kvm_vm_destroy(struct kvm_vm *vm);

/* Drive an interrupt line of the in-kernel IOAPIC/PIC (level 1 or 0). 0 or -errno. */
int kvm_vm_irq_line(struct kvm_vm *vm, unsigned gsi, int level);

#endif
