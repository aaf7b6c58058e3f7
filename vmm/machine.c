#include "vmm/machine.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "boot/mptable.h"
#include "common/exit_codes.h"
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

static void kbc_reset(void *opaque)
{
	struct machine *m = opaque;
	if (atomic_load(&m->panic_seen))
		machine_stop(m, MACHINE_PANIC, NULL);
	else
		machine_stop(m, MACHINE_REBOOT, "reset through the keyboard controller");
}

static int add_devices(struct machine *m)
{
	struct irq_line com1_irq = { .set = set_irq, .opaque = m, .gsi = LAYOUT_IRQ_COM1 };
	uart_init(&m->com1, com1_irq, com1_tx, m);
	i8042_init(&m->kbc, kbc_reset, m);
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
	return rc;
}

int machine_create(struct machine *m, const struct machine_config *cfg, struct error *err)
{
	memset(m, 0, sizeof(*m));
	m->hooks = cfg->hooks;
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
	if (cfg->ndisks && (rc = ahci_create(&m->pci, &m->mem, cfg->disks, cfg->ndisks, &m->ahci)) < 0) {
		error_fail_status(err, rc == -EINVAL ? EXIT_USAGE : EXIT_INTERNAL, -EINVAL, "cannot attach %u disks to the AHCI controller: %s", cfg->ndisks,
			 strerror(-rc));
		machine_destroy(m);
		return -1;
	}
	static const uint8_t mac[6] = LAYOUT_NET_GUEST_MAC;
	if (cfg->nic && (rc = e1000_create(&m->pci, &m->mem, mac, &m->nic)) < 0) {
		error_fail_status(err, EXIT_INTERNAL, rc, "cannot add the network card: %s", strerror(-rc));
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
	e1000_destroy(m->nic);
	m->nic = NULL;
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

int machine_load(struct machine *m, const struct boot_plan *plan, const uint8_t *kernel, const char *cmdline,
		 struct error *err)
{
	struct mptable_config mp = { 0 };
	cpuid_leaf1(m->kvm.cpuid, &mp.cpu_signature, &mp.cpu_features);
	/* One MP-table interrupt entry per PCI device pin, so Linux routes INTx to the right IOAPIC pin. */
	struct pci_intx_route routes[MPTABLE_MAX_PCI_IRQS];
	size_t nroutes = m->pci_ready ? pci_host_intx_routes(&m->pci, routes, MPTABLE_MAX_PCI_IRQS) : 0;
	for (size_t i = 0; i < nroutes && i < MPTABLE_MAX_PCI_IRQS; i++) {
		mp.pci_irqs[i].slot = (uint8_t)routes[i].slot;
		mp.pci_irqs[i].pin = (uint8_t)routes[i].pin;
		mp.pci_irqs[i].ioapic_pin = (uint8_t)routes[i].gsi;
		mp.npci_irqs++;
	}
	if (boot_write(plan, &m->mem, kernel, cmdline, &mp) < 0) {
		error_fail_status(err, EXIT_USAGE, -EINVAL, "the kernel does not fit in guest RAM");
		return -1;
	}
	struct vcpu_entry entry = { .long_mode = plan->entry64, .rip = plan->entry_rip, .rsi = plan->entry_rsi };
	const char *what = "";
	int rc = vcpu_entry_apply(m->kvm.vcpu_fd, &entry, &what);
	if (rc < 0) {
		error_fail_status(err, EXIT_INTERNAL, -EINVAL, "%s failed: %s", what, strerror(-rc));
		return -1;
	}
	return 0;
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
	snprintf(buf, len, "rip=0x%llx rsp=0x%llx cr0=0x%llx cr3=0x%llx cr4=0x%llx efer=0x%llx exits=%llu",
		 (unsigned long long)regs.rip, (unsigned long long)regs.rsp, (unsigned long long)sregs.cr0,
		 (unsigned long long)sregs.cr3, (unsigned long long)sregs.cr4, (unsigned long long)sregs.efer,
		 (unsigned long long)m->exits);
	const uint8_t *code = guest_mem_ptr(&m->mem, regs.rip, 16);
	if (code) {
		size_t used = strlen(buf);
		for (int i = 0; i < 16 && used + 4 < len; i++, used += 3)
			snprintf(buf + used, len - used, " %02x", code[i]);
	}
	return 0;
}
