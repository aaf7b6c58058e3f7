#include "vmm/machine.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "boot/mptable.h"
#include "common/exit_codes.h"
#include "firmware/abi.h"
#include "firmware/load.h"
#include "vmm/cpuid.h"
#include "common/layout.h"
#include "vmm/vcpu_entry.h"

#define KICK_SIGNAL SIGUSR1
#define RTC_PORTS 2

static void kick_handler(int sig)
{
	(void)sig; /* only there to interrupt KVM_RUN */
}

static void set_irq(void *opaque, unsigned gsi, int level)
{
	struct machine *m = opaque;
	if (kvm_vm_irq_line(&m->kvm, gsi, level) < 0)
		machine_stop(m, MACHINE_HOST_ERROR, "KVM_IRQ_LINE failed");
}

/* Only the vCPU thread writes panic_line, and publishes it through panic_seen afterwards. */
static void note_panic(struct machine *m, const char *line)
{
	if (atomic_load(&m->panic_seen))
		return;
	snprintf(m->panic_line, sizeof(m->panic_line), "%s", line);
	atomic_store(&m->panic_seen, 1);
}

static void on_console_event(struct machine *m, enum console_event ev)
{
	const char *detail = console_watch_detail(&m->watch, ev);
	switch (ev) {
	case CONSOLE_POWER_OFF:
		machine_stop(m, MACHINE_POWER_OFF, detail);
		break;
	case CONSOLE_HALT:
		machine_stop(m, MACHINE_HALT, detail);
		break;
	case CONSOLE_RESTART:
		if (atomic_load(&m->panic_seen))
			machine_stop(m, MACHINE_PANIC, NULL);
		else
			machine_stop(m, MACHINE_REBOOT, detail);
		break;
	case CONSOLE_PANIC:
		note_panic(m, detail);
		break;
	case CONSOLE_PANIC_END:
		note_panic(m, detail);
		machine_stop(m, MACHINE_PANIC, NULL);
		break;
	default:
		break;
	}
	if (m->hooks.event)
		m->hooks.event(m->hooks.opaque, ev, detail);
}

static void com1_tx(void *opaque, uint8_t byte)
{
	struct machine *m = opaque;
	if (m->hooks.console)
		m->hooks.console(m->hooks.opaque, &byte, 1);
	enum console_event ev = console_watch_byte(&m->watch, byte);
	if (byte == '\n' && m->hooks.line)
		m->hooks.line(m->hooks.opaque, console_watch_last_line(&m->watch));
	if (ev != CONSOLE_NONE)
		on_console_event(m, ev);
}

/* Every way a guest resets the machine ends the run as a reboot (or as the panic that preceded it). */
static void guest_reset(struct machine *m, const char *how)
{
	if (atomic_load(&m->panic_seen))
		machine_stop(m, MACHINE_PANIC, NULL);
	else
		machine_stop(m, MACHINE_REBOOT, how);
}

static void kbc_reset(void *opaque)
{
	guest_reset(opaque, "reset through the keyboard controller");
}

static void port92_reset(void *opaque)
{
	guest_reset(opaque, "reset through port 92h");
}

static void cf9_reset(void *opaque)
{
	guest_reset(opaque, "reset through port 0xcf9");
}

static void fw_event(void *opaque, unsigned event)
{
	struct machine *m = opaque;
	if (event == FW_EVENT_RESET)
		guest_reset(m, "the guest jumped to the reset vector (F000:FFF0)");
	else
		machine_stop(m, MACHINE_CRASH, "the firmware found no bootable disk (LBA 0 unreadable or without 55 AA)");
}

static int add_devices(struct machine *m)
{
	struct irq_line com1_irq = { .set = set_irq, .opaque = m, .gsi = LAYOUT_IRQ_COM1 };
	uart_init(&m->com1, com1_irq, com1_tx, m);
	i8042_init(&m->kbc, kbc_reset, m);
	sysctl_a_init(&m->sysctl, port92_reset, m);
	int rc = bus_add(&m->pio, LAYOUT_PORT_COM1, UART_PORTS, uart_io_read, uart_io_write, &m->com1, "com1");
	if (!rc)
		rc = bus_add(&m->pio, LAYOUT_PORT_I8042_DATA, 1, i8042_data_read, i8042_data_write, &m->kbc,
			     "i8042-data");
	if (!rc)
		rc = bus_add(&m->pio, LAYOUT_PORT_I8042_CMD, 1, i8042_cmd_read, i8042_cmd_write, &m->kbc,
			     "i8042-cmd");
	if (!rc)
		rc = bus_add(&m->pio, LAYOUT_PORT_RTC, RTC_PORTS, cmos_rtc_io_read, cmos_rtc_io_write, &m->rtc,
			     "cmos-rtc");
	if (!rc)
		rc = bus_add(&m->pio, LAYOUT_PORT_SYSCTL_A, 1, sysctl_a_read, sysctl_a_write, &m->sysctl, "port92");
	return rc;
}

/* Firmware mode: the disks on the primary IDE channel, and the firmware's port to lbvm. */
static int add_firmware_devices(struct machine *m, struct disk_image **disks, unsigned ndisks)
{
	struct irq_line ide_irq = { .set = set_irq, .opaque = m, .gsi = LAYOUT_IRQ_IDE };
	ide_init(&m->ide, disks, ndisks, ide_irq);
	fw_service_init(&m->fw, &m->mem, disks, ndisks, fw_event, m);
	int rc = bus_add(&m->pio, LAYOUT_PORT_IDE_CMD, IDE_CMD_PORTS, ide_cmd_read, ide_cmd_write, &m->ide,
			 "ide-cmd");
	if (!rc)
		rc = bus_add(&m->pio, LAYOUT_PORT_IDE_CTL, IDE_CTL_PORTS, ide_ctl_read, ide_ctl_write, &m->ide,
			     "ide-ctl");
	if (!rc)
		rc = bus_add(&m->pio, LAYOUT_PORT_FW, FW_PORT_COUNT, NULL, fw_service_io_write, &m->fw, "firmware");
	return rc;
}

int machine_create(struct machine *m, const struct machine_config *cfg, struct error *err)
{
	memset(m, 0, sizeof(*m));
	if (cfg->firmware && (cfg->ndisks == 0 || cfg->ndisks > IDE_DRIVES)) {
		error_fail_status(err, EXIT_USAGE, -EINVAL, "the firmware boots from 1 or %d disks on the IDE channel, not %u",
				  IDE_DRIVES, cfg->ndisks);
		return -1;
	}
	m->hooks = cfg->hooks;
	m->firmware = cfg->firmware;
	m->ram_size = cfg->ram_size;
	m->ndisks = cfg->ndisks;
	m->vcpu_thread = pthread_self();
	atomic_init(&m->end, MACHINE_RUNNING);
	pthread_mutex_init(&m->end_lock, NULL);
	atomic_init(&m->panic_seen, 0);
	console_watch_init(&m->watch);
	cmos_rtc_init(&m->rtc, cfg->rtc_epoch);
	bus_init(&m->pio);
	bus_init(&m->mmio);

	struct sigaction sa = { .sa_handler = kick_handler }; /* no SA_RESTART: KVM_RUN must return EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(KICK_SIGNAL, &sa, NULL);

	int rc = guest_mem_init(&m->mem, cfg->ram_size);
	if (rc < 0) {
		error_fail_status(err, EXIT_USAGE, -EINVAL, "cannot reserve %llu MiB of guest RAM: %s",
			 (unsigned long long)(cfg->ram_size / MiB), strerror(-rc));
		bus_destroy(&m->pio);
		bus_destroy(&m->mmio);
		return -1;
	}
	if (kvm_vm_create(&m->kvm, &m->mem, err) < 0) {
		guest_mem_destroy(&m->mem);
		bus_destroy(&m->pio);
		bus_destroy(&m->mmio);
		return -1;
	}
	m->pci_ready = false;
	if (add_devices(m) < 0) {
		error_fail_status(err, EXIT_INTERNAL, -EINVAL, "device windows overlap");
		machine_destroy(m);
		return -1;
	}
	struct irq_line intx = { .set = set_irq, .opaque = m };
	rc = pci_host_init(&m->pci, &m->pio, &m->mmio, intx);
	if (rc < 0) {
		error_fail_status(err, EXIT_INTERNAL, -EINVAL, "cannot set up the PCI host: %s", strerror(-rc));
		machine_destroy(m);
		return -1;
	}
	m->pci_ready = true;
	m->pci.reset = cf9_reset;
	m->pci.reset_opaque = m;
	if (cfg->firmware) {
		if (add_firmware_devices(m, cfg->disks, cfg->ndisks) < 0) {
			error_fail_status(err, EXIT_INTERNAL, -EINVAL, "device windows overlap");
			machine_destroy(m);
			return -1;
		}
	} else if (cfg->ndisks && (rc = ahci_create(&m->pci, &m->mem, cfg->disks, cfg->ndisks, &m->ahci)) < 0) {
		error_fail_status(err, rc == -EINVAL ? EXIT_USAGE : EXIT_INTERNAL, -EINVAL, "cannot attach %u disks to the AHCI controller: %s", cfg->ndisks,
			 strerror(-rc));
		machine_destroy(m);
		return -1;
	}
	return 0;
}

void machine_destroy(struct machine *m)
{
	if (m->ahci)
		ahci_destroy(m->ahci);
	m->ahci = NULL;
	if (m->pci_ready)
		pci_host_destroy(&m->pci);
	m->pci_ready = false;
	kvm_vm_destroy(&m->kvm);
	uart_destroy(&m->com1);
	guest_mem_destroy(&m->mem);
	bus_destroy(&m->pio);
	bus_destroy(&m->mmio);
	pthread_mutex_destroy(&m->end_lock);
}

/* The machine as an MP table describes it: the CPU, the IOAPIC and where each interrupt arrives. */
static void mp_config(const struct machine *m, struct mptable_config *mp)
{
	memset(mp, 0, sizeof(*mp));
	cpuid_leaf1(m->kvm.cpuid, &mp->cpu_signature, &mp->cpu_features);
	/* One MP-table interrupt entry per PCI device pin, so Linux routes INTx to the right IOAPIC pin. */
	struct pci_intx_route routes[MPTABLE_MAX_PCI_IRQS];
	size_t nroutes = m->pci_ready ? pci_host_intx_routes(&m->pci, routes, MPTABLE_MAX_PCI_IRQS) : 0;
	for (size_t i = 0; i < nroutes && i < MPTABLE_MAX_PCI_IRQS; i++) {
		mp->pci_irqs[i].slot = (uint8_t)routes[i].slot;
		mp->pci_irqs[i].pin = (uint8_t)routes[i].pin;
		mp->pci_irqs[i].ioapic_pin = (uint8_t)routes[i].gsi;
		mp->npci_irqs++;
	}
}

static int apply_entry(struct machine *m, const struct vcpu_entry *entry, struct error *err)
{
	const char *what = "";
	int rc = vcpu_entry_apply(m->kvm.vcpu_fd, entry, &what);
	if (rc < 0) {
		error_fail_status(err, EXIT_INTERNAL, -EINVAL, "%s failed: %s", what, strerror(-rc));
		return -1;
	}
	return 0;
}

int machine_load(struct machine *m, const struct boot_plan *plan, const uint8_t *kernel, const char *cmdline,
		 struct error *err)
{
	struct mptable_config mp;
	mp_config(m, &mp);
	if (boot_write(plan, &m->mem, kernel, cmdline, &mp) < 0) {
		error_fail_status(err, EXIT_USAGE, -EINVAL, "the kernel does not fit in guest RAM");
		return -1;
	}
	struct vcpu_entry entry = {
		.kind = plan->entry64 ? VCPU_ENTRY_LONG64 : VCPU_ENTRY_FLAT32,
		.rip = plan->entry_rip,
		.rsi = plan->entry_rsi,
	};
	return apply_entry(m, &entry, err);
}

int machine_load_firmware(struct machine *m, struct error *err)
{
	struct mptable_config mp;
	mp_config(m, &mp);
	int rc = firmware_load(&m->mem, m->ram_size, m->ndisks);
	uint8_t *mpt = guest_mem_ptr(&m->mem, LAYOUT_MPTABLE, LAYOUT_MPTABLE_SIZE);
	if (rc == 0 && (!mpt || mptable_build(mpt, LAYOUT_MPTABLE_SIZE, (uint32_t)LAYOUT_MPTABLE, &mp) == 0))
		rc = -EFAULT;
	if (rc < 0) {
		error_fail_status(err, EXIT_INTERNAL, rc, "cannot place the firmware in guest RAM: %s", strerror(-rc));
		return -1;
	}
	struct vcpu_entry entry = {
		.kind = VCPU_ENTRY_REAL16,
		.cs = LAYOUT_FW_SEGMENT,
		.rip = LAYOUT_FW_ENTRY - LAYOUT_FIRMWARE,
	};
	return apply_entry(m, &entry, err);
}

void machine_stop(struct machine *m, enum machine_end end, const char *detail)
{
	pthread_mutex_lock(&m->end_lock);
	if (atomic_load(&m->end) == MACHINE_RUNNING) {
		if (!detail && end == MACHINE_PANIC && atomic_load(&m->panic_seen))
			detail = m->panic_line;
		snprintf(m->end_detail, sizeof(m->end_detail), "%s", detail ? detail : "");
		atomic_store_explicit(&m->end, (int)end, memory_order_release);
	}
	pthread_mutex_unlock(&m->end_lock);
	/* Either KVM_RUN is interrupted by the signal, or the next one returns at once. */
	m->kvm.run->immediate_exit = 1;
	if (!pthread_equal(pthread_self(), m->vcpu_thread))
		pthread_kill(m->vcpu_thread, KICK_SIGNAL);
}

enum machine_end machine_end_reason(const struct machine *m)
{
	return (enum machine_end)atomic_load_explicit(&m->end, memory_order_acquire);
}

const char *machine_end_detail(const struct machine *m)
{
	return machine_end_reason(m) == MACHINE_RUNNING ? "" : m->end_detail;
}

bool machine_panic_seen(const struct machine *m)
{
	return atomic_load(&m->panic_seen) != 0;
}

static void serve_io(struct machine *m)
{
	struct kvm_run *run = m->kvm.run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	unsigned size = run->io.size;
	/* String I/O (rep ins/outs) hands over `count` items at once. */
	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		if (run->io.direction == KVM_EXIT_IO_OUT)
			bus_write(&m->pio, run->io.port, data, size);
		else
			bus_read(&m->pio, run->io.port, data, size);
	}
}

static void serve_mmio(struct machine *m)
{
	struct kvm_run *run = m->kvm.run;
	unsigned len = run->mmio.len;
	if (len == 0 || len > sizeof(run->mmio.data))
		return;
	if (run->mmio.is_write)
		bus_write(&m->mmio, run->mmio.phys_addr, run->mmio.data, len);
	else
		bus_read(&m->mmio, run->mmio.phys_addr, run->mmio.data, len);
}

static void serve_exit(struct machine *m)
{
	struct kvm_run *run = m->kvm.run;
	char why[128];
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		serve_io(m);
		break;
	case KVM_EXIT_MMIO:
		serve_mmio(m);
		break;
	case KVM_EXIT_SHUTDOWN:
		/* A triple fault: Linux's last way to reset, or a guest that crashed. */
		if (atomic_load(&m->panic_seen))
			machine_stop(m, MACHINE_PANIC, NULL);
		else
			machine_stop(m, MACHINE_CRASH, "triple fault (the guest CPU shut down)");
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		machine_stop(m, run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN ? MACHINE_POWER_OFF
										    : MACHINE_REBOOT,
			     "system event");
		break;
	case KVM_EXIT_HLT:
		machine_stop(m, MACHINE_HALT, "the CPU halted with interrupts off");
		break;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(why, sizeof(why), "KVM could not enter the guest (hardware reason 0x%llx)",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		machine_stop(m, MACHINE_CRASH, why);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(why, sizeof(why), "KVM internal error (suberror %u)", run->internal.suberror);
		machine_stop(m, MACHINE_CRASH, why);
		break;
	default:
		snprintf(why, sizeof(why), "unexpected KVM exit reason %u", run->exit_reason);
		machine_stop(m, MACHINE_CRASH, why);
		break;
	}
}

enum machine_end machine_run(struct machine *m)
{
	m->vcpu_thread = pthread_self();
	sigset_t kick;
	sigemptyset(&kick);
	sigaddset(&kick, KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);

	while (machine_end_reason(m) == MACHINE_RUNNING) {
		if (ioctl(m->kvm.vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				m->kvm.run->immediate_exit = 0;
				continue;
			}
			char why[128];
			snprintf(why, sizeof(why), "KVM_RUN failed: %s", strerror(errno));
			machine_stop(m, MACHINE_HOST_ERROR, why);
			break;
		}
		m->exits++;
		serve_exit(m);
	}
	return machine_end_reason(m);
}

int machine_describe_cpu(const struct machine *m, char *buf, size_t len)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	if (ioctl(m->kvm.vcpu_fd, KVM_GET_REGS, &regs) < 0 || ioctl(m->kvm.vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	snprintf(buf, len, "cs=0x%x rip=0x%llx rsp=0x%llx cr0=0x%llx cr3=0x%llx cr4=0x%llx efer=0x%llx exits=%llu",
		 sregs.cs.selector, (unsigned long long)regs.rip, (unsigned long long)regs.rsp, (unsigned long long)sregs.cr0,
		 (unsigned long long)sregs.cr3, (unsigned long long)sregs.cr4, (unsigned long long)sregs.efer,
		 (unsigned long long)m->exits);
	const uint8_t *code = guest_mem_ptr(&m->mem, sregs.cs.base + regs.rip, 16); /* real mode: CS base */
	if (code) {
		size_t used = strlen(buf);
		for (int i = 0; i < 16 && used + 4 < len; i++, used += 3)
			snprintf(buf + used, len - used, " %02x", code[i]);
	}
	return 0;
}
