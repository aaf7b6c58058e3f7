#include "vmm/machine.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "boot/mptable.h"
#include "common/exit_codes.h"
#include "firmware/abi.h"
#include "firmware/load.h"
#include "vmm/cpuid.h"
#include "common/layout.h"
#include "vmm/vcpu_entry.h"

#define RTC_PORTS 2
#define RFLAGS_IF (1u << 9)
#define RFLAGS_VM (1u << 17)
#define PCI_PINS_PER_SLOT 4

static void kick_handler(int sig)
{
	(void)sig; /* only there to interrupt KVM_RUN */
}

int64_t machine_clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* fate's clock: seconds since the machine was made. */
static double fate_now(const struct machine *m)
{
	return (double)(machine_clock_ns() - m->start_ns) / 1e9;
}

static void decide(struct machine *m, struct fate_verdict v)
{
	if (v.end != MACHINE_RUNNING)
		machine_stop(m, v.end, v.detail);
}

static void set_irq(void *opaque, unsigned gsi, int level)
{
	struct machine *m = opaque;
	if (kvm_vm_irq_line(&m->kvm, gsi, level) < 0)
		machine_stop(m, MACHINE_HOST_ERROR, "KVM_IRQ_LINE failed");
}

/* The console lines that name an end of the run, as hints for fate. */
static int hint_of(enum console_event ev)
{
	switch (ev) {
	case CONSOLE_PANIC:
	case CONSOLE_PANIC_END: return FATE_HINT_PANIC;
	case CONSOLE_POWER_OFF: return FATE_HINT_POWER_DOWN;
	case CONSOLE_HALT: return FATE_HINT_HALT;
	case CONSOLE_RESTART: return FATE_HINT_RESTART;
	default: return -1;
	}
}

static void on_console_event(struct machine *m, enum console_event ev, bool from_kernel)
{
	const char *detail = console_watch_detail(&m->watch, ev);
	int hint = hint_of(ev);
	/* Only what the kernel's own console printed counts as a hint; a program's output through a tty
	 * never does, and even a hint ends nothing until the machine confirms it. */
	if (hint >= 0 && from_kernel) {
		fate_hint(&m->fate, fate_now(m), (enum fate_hint)hint, detail);
		atomic_store(&m->hint_live, true);
		if (m->hooks.hint)
			m->hooks.hint(m->hooks.opaque, (enum fate_hint)hint, detail);
	}
	if (m->hooks.event)
		m->hooks.event(m->hooks.opaque, ev, detail);
}

static void com1_tx(void *opaque, uint8_t byte, bool interrupt_driven)
{
	struct machine *m = opaque;
	/* Linux's kernel console writes with the UART's interrupts off; a tty write needs THRI on. */
	if (interrupt_driven)
		m->line_from_tty = true;
	if (m->hooks.console)
		m->hooks.console(m->hooks.opaque, &byte, 1);
	enum console_event ev = console_watch_byte(&m->watch, byte);
	if (byte == '\n' && m->hooks.line)
		m->hooks.line(m->hooks.opaque, console_watch_last_line(&m->watch));
	if (ev != CONSOLE_NONE)
		on_console_event(m, ev, !m->line_from_tty);
	if (byte == '\n')
		m->line_from_tty = false;
}

static void com2_tx(void *opaque, uint8_t byte, bool interrupt_driven)
{
	struct machine *m = opaque;
	(void)interrupt_driven;
	struct guest_event ev;
	if (guest_event_feed(&m->events, byte, &ev) && m->hooks.guest_event)
		m->hooks.guest_event(m->hooks.opaque, &ev);
}

/* Every way a guest resets the machine is a FATE_DEV_RESET: a reboot, or the panic that preceded it. */
static void kbc_reset(void *opaque)
{
	struct machine *m = opaque;
	decide(m, fate_device(&m->fate, FATE_DEV_RESET, "reset through the keyboard controller"));
}

/* The reset control register 0xcf9 (devices/acpi_pm.c, reached through the PCI host's window). */
static void chipset_reset(void *opaque)
{
	struct machine *m = opaque;
	decide(m, fate_device(&m->fate, FATE_DEV_RESET, "reset through the reset control register 0xcf9"));
}

/* System control port A's fast reset: a device event like the others, so fate decides it too. */
static void port92_reset(void *opaque)
{
	struct machine *m = opaque;
	decide(m, fate_device(&m->fate, FATE_DEV_RESET, "reset through port 92h (fast reset)"));
}

static void acpi_power_off(void *opaque)
{
	struct machine *m = opaque;
	decide(m, fate_device(&m->fate, FATE_DEV_POWER_OFF, "ACPI S5 (soft off) through the PM1a control register"));
}

/* The firmware's events: a jump to the reset vector is a reset; a disk it cannot boot is lbvm's own
 * verdict on the machine (like a failed entry), not an end the guest chose. */
static void fw_event(void *opaque, unsigned event)
{
	struct machine *m = opaque;
	if (event == FW_EVENT_RESET)
		decide(m, fate_device(&m->fate, FATE_DEV_RESET, "the guest jumped to the reset vector (F000:FFF0)"));
	else
		machine_stop(m, MACHINE_CRASH, "the firmware found no bootable disk (LBA 0 unreadable or without 55 AA)");
}

static int add_devices(struct machine *m)
{
	struct irq_line com1_irq = { .set = set_irq, .opaque = m, .gsi = LAYOUT_IRQ_COM1 };
	struct irq_line com2_irq = { .set = set_irq, .opaque = m, .gsi = LAYOUT_IRQ_COM2 };
	struct irq_line sci = { .set = set_irq, .opaque = m, .gsi = LAYOUT_IRQ_ACPI_SCI };
	uart_init(&m->com1, com1_irq, com1_tx, m);
	uart_init(&m->com2, com2_irq, com2_tx, m);
	i8042_init(&m->kbc, kbc_reset, m);
	acpi_pm_init(&m->pm, sci, acpi_power_off, chipset_reset, m);
	sysctl_a_init(&m->sysctl, port92_reset, m);
	int rc = bus_add(&m->pio, LAYOUT_PORT_COM1, UART_PORTS, uart_io_read, uart_io_write, &m->com1, "com1");
	if (!rc)
		rc = bus_add(&m->pio, LAYOUT_PORT_COM2, UART_PORTS, uart_io_read, uart_io_write, &m->com2, "com2");
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
		rc = bus_add(&m->pio, LAYOUT_PORT_ACPI_PM1_EVT, ACPI_PM_EVT_PORTS, acpi_pm_evt_read, acpi_pm_evt_write,
			     &m->pm, "acpi-pm1-evt");
	if (!rc)
		rc = bus_add(&m->pio, LAYOUT_PORT_ACPI_PM1_CNT, ACPI_PM_CNT_PORTS, acpi_pm_cnt_read, acpi_pm_cnt_write,
			     &m->pm, "acpi-pm1-cnt");
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
	atomic_init(&m->sample_wanted, false);
	atomic_init(&m->hint_live, false);
	atomic_init(&m->idle_since_ns, 0);
	atomic_init(&m->vcpu_clock_set, false);
	atomic_init(&m->vcpu_busy, false);
	atomic_init(&m->busy_broke_idle, false);
	m->start_ns = machine_clock_ns();
	console_watch_init(&m->watch);
	guest_event_reader_init(&m->events);
	fate_init(&m->fate);
	cmos_rtc_init(&m->rtc, cfg->rtc_epoch);
	bus_init(&m->pio);
	bus_init(&m->mmio);

	struct sigaction sa = { .sa_handler = kick_handler }; /* no SA_RESTART: KVM_RUN must return EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(MACHINE_KICK_SIGNAL, &sa, NULL);

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
	pci_host_attach_port_cf9(&m->pci, acpi_pm_reset_read, acpi_pm_reset_write, &m->pm);
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
	uart_destroy(&m->com2);
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

/* The machine as its ACPI tables describe it (the same in both boot modes): the PM registers' S5 type,
 * the reset register's value, and a _PRT with every slot's four pins where devices/pci.c routes them. */
static void acpi_config_of(struct acpi_config *acpi)
{
	memset(acpi, 0, sizeof(*acpi));
	acpi->slp_typ_s5 = ACPI_PM_SLP_TYP_S5;
	acpi->reset_value = ACPI_PM_RESET_VALUE;
	for (unsigned slot = 0; slot < PCI_SLOTS; slot++)
		for (unsigned pin = PCI_INTA; pin < PCI_INTA + PCI_PINS_PER_SLOT; pin++)
			if (acpi->npci_routes < ACPI_MAX_PCI_ROUTES)
				acpi->pci_routes[acpi->npci_routes++] = (struct acpi_pci_route){
					.slot = (uint8_t)slot, .pin = (uint8_t)pin, .gsi = (uint8_t)pci_intx_gsi(slot, pin) };
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
	struct acpi_config acpi;
	acpi_config_of(&acpi);
	if (boot_write(plan, &m->mem, kernel, cmdline, &mp, &acpi) < 0) {
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
	struct acpi_config acpi;
	acpi_config_of(&acpi);
	/* The firmware's e820 reserves the ACPI area too, and Linux (kexec'd by a kernel the firmware booted)
	 * finds the RSDP by its legacy scan of 0xe0000..0xfffff: the same power-off and reset registers as a
	 * direct boot. The tables end below the firmware image at 0xf0000. */
	int rc = firmware_load(&m->mem, m->ram_size, m->ndisks);
	uint8_t *mpt = guest_mem_ptr(&m->mem, LAYOUT_MPTABLE, LAYOUT_MPTABLE_SIZE);
	uint8_t *tables = guest_mem_ptr(&m->mem, LAYOUT_ACPI, LAYOUT_ACPI_SIZE);
	if (rc == 0 && (!mpt || !tables || mptable_build(mpt, LAYOUT_MPTABLE_SIZE, (uint32_t)LAYOUT_MPTABLE, &mp) == 0 ||
			acpi_build(tables, LAYOUT_ACPI_SIZE, LAYOUT_ACPI, &acpi, NULL) < 0))
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
		snprintf(m->end_detail, sizeof(m->end_detail), "%s", detail ? detail : "");
		atomic_store_explicit(&m->end, (int)end, memory_order_release);
	}
	pthread_mutex_unlock(&m->end_lock);
	/* Either KVM_RUN is interrupted by the signal, or the next one returns at once. */
	m->kvm.run->immediate_exit = 1;
	if (!pthread_equal(pthread_self(), m->vcpu_thread))
		pthread_kill(m->vcpu_thread, MACHINE_KICK_SIGNAL);
}

enum machine_end machine_end_reason(const struct machine *m)
{
	return (enum machine_end)atomic_load_explicit(&m->end, memory_order_acquire);
}

const char *machine_end_detail(const struct machine *m)
{
	return machine_end_reason(m) == MACHINE_RUNNING ? "" : m->end_detail;
}

void machine_request_sample(struct machine *m)
{
	atomic_store(&m->sample_wanted, true);
	m->kvm.run->immediate_exit = 1;
	if (!pthread_equal(pthread_self(), m->vcpu_thread))
		pthread_kill(m->vcpu_thread, MACHINE_KICK_SIGNAL);
}

bool machine_hint_live(const struct machine *m)
{
	return atomic_load(&m->hint_live);
}

bool machine_vcpu_busy(struct machine *m)
{
	if (!atomic_load(&m->vcpu_clock_set))
		return false;
	struct timespec cpu;
	if (clock_gettime(m->vcpu_clock, &cpu) < 0)
		return false;
	bool busy = busy_gauge_feed(&m->busy, machine_clock_ns(), (int64_t)cpu.tv_sec * 1000000000 + cpu.tv_nsec);
	if (busy && !atomic_exchange(&m->vcpu_busy, true))
		atomic_store(&m->busy_broke_idle, true);
	else if (!busy)
		atomic_store(&m->vcpu_busy, false);
	return busy;
}

double machine_idle_seconds(const struct machine *m, int64_t now_ns)
{
	if (atomic_load(&m->vcpu_busy))
		return 0;
	int64_t since = atomic_load(&m->idle_since_ns);
	return since && now_ns > since ? (double)(now_ns - since) / 1e9 : 0;
}

/* On the vCPU thread, after a KVM_RUN that a kick interrupted: where the vCPU is (ring, halted, interrupts),
 * for fate and the idle probe. A sample that cannot be read is skipped: the next one follows shortly. */
static void take_sample(struct machine *m)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_mp_state mp;
	if (ioctl(m->kvm.vcpu_fd, KVM_GET_REGS, &regs) < 0 || ioctl(m->kvm.vcpu_fd, KVM_GET_SREGS, &sregs) < 0 ||
	    ioctl(m->kvm.vcpu_fd, KVM_GET_MP_STATE, &mp) < 0)
		return;
	/* SS.DPL is the CPL on both Intel and AMD (KVM reports it so). */
	enum vcpu_state state = vcpu_state_of(mp.mp_state == KVM_MP_STATE_HALTED, (regs.rflags & RFLAGS_IF) != 0,
					      sregs.ss.dpl, (regs.rflags & RFLAGS_VM) != 0);
	int64_t now = machine_clock_ns();
	double t = (double)(now - m->start_ns) / 1e9;
	m->samples[state]++;
	/* The vCPU was found busy since the last sample: whatever streak it had has ended. */
	if (atomic_exchange(&m->busy_broke_idle, false))
		m->idle.on = false;
	idle_streak_sample(&m->idle, t, state);
	atomic_store(&m->idle_since_ns, m->idle.on ? m->start_ns + (int64_t)(m->idle.since * 1e9) : 0);
	decide(m, fate_sample(&m->fate, t, state));
	bool live = false;
	for (int h = 0; h < FATE_HINTS; h++)
		live = live || fate_hint_live(&m->fate, (enum fate_hint)h);
	atomic_store(&m->hint_live, live);
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
		decide(m, fate_device(&m->fate, FATE_DEV_TRIPLE_FAULT, "triple fault (the guest CPU shut down)"));
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
	/* for the watchdog's busy gauge: a thread's CPU clock is read without disturbing it */
	if (pthread_getcpuclockid(m->vcpu_thread, &m->vcpu_clock) == 0)
		atomic_store(&m->vcpu_clock_set, true);
	sigset_t kick;
	sigemptyset(&kick);
	sigaddset(&kick, MACHINE_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);

	while (machine_end_reason(m) == MACHINE_RUNNING) {
		if (ioctl(m->kvm.vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				/* Cleared before the request is read: a request made after this still finds
				 * immediate_exit set, so the next KVM_RUN comes back here at once. */
				m->kvm.run->immediate_exit = 0;
				atomic_thread_fence(memory_order_seq_cst);
				/* Sampled only here: KVM returns EINTR after it has finished the exit before it
				 * (a port or MMIO read completes inside the next KVM_RUN), so nothing is half done
				 * while the registers are read. */
				if (atomic_exchange(&m->sample_wanted, false))
					take_sample(m);
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
	size_t used = strlen(buf);
	snprintf(buf + used, len - used, " samples user=%llu kernel=%llu idle=%llu stopped=%llu",
		 (unsigned long long)m->samples[VCPU_USER], (unsigned long long)m->samples[VCPU_KERNEL],
		 (unsigned long long)m->samples[VCPU_IDLE], (unsigned long long)m->samples[VCPU_STOPPED]);
	const uint8_t *code = guest_mem_ptr(&m->mem, sregs.cs.base + regs.rip, 16); /* real mode: CS base */
	if (code) {
		used = strlen(buf);
		for (int i = 0; i < 16 && used + 4 < len; i++, used += 3)
			snprintf(buf + used, len - used, " %02x", code[i]);
	}
	return 0;
}
