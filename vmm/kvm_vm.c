#include "vmm/kvm_vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/exit_codes.h"
#include "vmm/cpuid.h"
#include "common/layout.h"

#define CPUID_FIRST_ENTRIES 32   /* small on purpose: most hosts have more, so every run exercises the growth */
#define CPUID_MAX_ENTRIES   4096 /* far beyond any CPU today; a bound so a broken KVM cannot make us loop */
#define SLOT_LOW  0
#define SLOT_HIGH 1

/* Record the failure with its exit status (whose fault it is) and return -1. */
static int fail(struct error *err, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct error *err, int status, const char *fmt, ...)
{
	char msg[ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	error_fail_status(err, status, -EIO, "%s", msg);
	return -1;
}

static int open_kvm(struct kvm_vm *vm, struct error *err)
{
	vm->kvm_fd = open(KVM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		int e = errno;
		if (e == ENOENT || e == ENXIO || e == ENODEV)
			return fail(err, EXIT_USAGE, "%s does not exist: this host has no KVM (load kvm-intel or "
				    "kvm-amd, enable virtualization in the firmware, or use a VM with nested "
				    "virtualization)", KVM_DEVICE_PATH);
		if (e == EACCES || e == EPERM)
			return fail(err, EXIT_USAGE, "no permission to open %s: add yourself to its group "
				    "(usually: sudo usermod -aG kvm $USER, then log in again)", KVM_DEVICE_PATH);
		return fail(err, EXIT_USAGE, "cannot open %s: %s", KVM_DEVICE_PATH, strerror(e));
	}
	int version = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION)
		return fail(err, EXIT_INTERNAL, "%s speaks KVM API %d, lbvm needs %d", KVM_DEVICE_PATH, version,
			    KVM_API_VERSION);
	static const struct { int cap; const char *name; } needed[] = {
		{ KVM_CAP_IRQCHIP, "in-kernel irqchip" },
		{ KVM_CAP_PIT2, "in-kernel PIT" },
		{ KVM_CAP_USER_MEMORY, "user memory" },
		{ KVM_CAP_IMMEDIATE_EXIT, "immediate exit" },
		{ KVM_CAP_EXT_CPUID, "KVM_GET_SUPPORTED_CPUID" },
	};
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, needed[i].cap) <= 0)
			return fail(err, EXIT_INTERNAL, "this KVM lacks %s", needed[i].name);
	return 0;
}

static int add_slot(struct kvm_vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *host,
		    struct error *err)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot, .guest_phys_addr = gpa, .memory_size = size, .userspace_addr = (uintptr_t)host,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail(err, EXIT_INTERNAL, "KVM refused %llu MiB of guest RAM at 0x%llx: %s",
			    (unsigned long long)(size / MiB), (unsigned long long)gpa, strerror(errno));
	return 0;
}

static int create_vm(struct kvm_vm *vm, const struct guest_mem *mem, struct error *err)
{
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return fail(err, EXIT_INTERNAL, "KVM_CREATE_VM failed: %s", strerror(errno));
	/* Intel needs these two pages placed; they sit in the PCI hole where no RAM is. */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)LAYOUT_KVM_TSS) < 0)
		return fail(err, EXIT_INTERNAL, "KVM_SET_TSS_ADDR failed: %s", strerror(errno));
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
		uint64_t addr = LAYOUT_KVM_IDENTITY_MAP;
		if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &addr) < 0)
			return fail(err, EXIT_INTERNAL, "KVM_SET_IDENTITY_MAP_ADDR failed: %s", strerror(errno));
	}
	if (add_slot(vm, SLOT_LOW, 0, mem->low_size, mem->host, err) < 0)
		return -1;
	uint64_t high = guest_mem_high_size(mem);
	if (high && add_slot(vm, SLOT_HIGH, LAYOUT_HIGH_RAM, high, mem->host + mem->low_size, err) < 0)
		return -1;
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return fail(err, EXIT_INTERNAL, "KVM_CREATE_IRQCHIP failed: %s", strerror(errno));
	/* The dummy speaker port lets KVM answer port 0x61, which Linux polls while calibrating the TSC. */
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return fail(err, EXIT_INTERNAL, "KVM_CREATE_PIT2 failed: %s", strerror(errno));
	return 0;
}

/* KVM answers E2BIG when the buffer holds fewer entries than it has leaves: grow until it fits (newer
 * CPUs and kernels keep adding leaves, so no fixed size is safe). */
static int get_supported_cpuid(struct kvm_vm *vm, struct error *err)
{
	for (uint32_t nent = CPUID_FIRST_ENTRIES; nent <= CPUID_MAX_ENTRIES; nent *= 2) {
		free(vm->cpuid);
		vm->cpuid = calloc(1, sizeof(struct kvm_cpuid2) + nent * sizeof(struct kvm_cpuid_entry2));
		if (!vm->cpuid)
			return fail(err, EXIT_INTERNAL, "out of memory");
		vm->cpuid->nent = nent;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, vm->cpuid) == 0)
			return 0;
		if (errno != E2BIG)
			return fail(err, EXIT_INTERNAL, "KVM_GET_SUPPORTED_CPUID failed: %s", strerror(errno));
	}
	return fail(err, EXIT_INTERNAL, "KVM_GET_SUPPORTED_CPUID reports more than %u leaves", CPUID_MAX_ENTRIES);
}

static int setup_cpuid(struct kvm_vm *vm, struct error *err)
{
	if (get_supported_cpuid(vm, err) < 0)
		return -1;
	cpuid_pin(vm->cpuid);
	if (ioctl(vm->vcpu_fd, KVM_SET_CPUID2, vm->cpuid) < 0)
		return fail(err, EXIT_INTERNAL, "KVM_SET_CPUID2 failed: %s", strerror(errno));
	return 0;
}

static int create_vcpu(struct kvm_vm *vm, struct error *err)
{
	vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu_fd < 0)
		return fail(err, EXIT_INTERNAL, "KVM_CREATE_VCPU failed: %s", strerror(errno));
	int size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(struct kvm_run))
		return fail(err, EXIT_INTERNAL, "KVM_GET_VCPU_MMAP_SIZE failed: %s", strerror(errno));
	vm->run_size = (size_t)size;
	void *run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
	if (run == MAP_FAILED)
		return fail(err, EXIT_INTERNAL, "cannot map the vCPU's run page: %s", strerror(errno));
	vm->run = run;
	return setup_cpuid(vm, err);
}

int kvm_vm_create(struct kvm_vm *vm, const struct guest_mem *mem, struct error *err)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->vcpu_fd = -1;
	if (open_kvm(vm, err) < 0 || create_vm(vm, mem, err) < 0 || create_vcpu(vm, err) < 0) {
		kvm_vm_destroy(vm);
		return -1;
	}
	/* /dev/kvm itself is not needed once the VM and its vCPU exist: nothing during the run can use it */
	close(vm->kvm_fd);
	vm->kvm_fd = -1;
	return 0;
}

void kvm_vm_destroy(struct kvm_vm *vm)
{
	if (vm->run)
		munmap(vm->run, vm->run_size);
	vm->run = NULL;
	free(vm->cpuid);
	vm->cpuid = NULL;
	int *fds[] = { &vm->vcpu_fd, &vm->vm_fd, &vm->kvm_fd };
	for (size_t i = 0; i < 3; i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}

int kvm_vm_irq_line(struct kvm_vm *vm, unsigned gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = (uint32_t)level };
	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0 ? -errno : 0;
}
