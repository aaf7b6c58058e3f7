/* One lbvm machine: guest RAM, the KVM VM and vCPU, the I/O-port and MMIO buses with the legacy devices
 * (COM1 16550A for the console, COM2 for lbvm's events, i8042, CMOS RTC, port 92h, ACPI's PM registers and
 * the reset control register, a PCI host bridge; the disks on an AHCI controller, or with the firmware on
 * the IDE channel; when asked, an e1000 network card), and the run loop that serves the vCPU's exits until
 * the run ends.
 * A machine starts either in a kernel (machine_load: the boot protocol's entry) or in lbvm's firmware
 * (machine_load_firmware: real mode, which boots LBA 0 of the first disk).
 * How it ends is decided once (the first reason wins) and can be requested from any thread. The guest's
 * own ends (power-off, reset, halt, panic) are decided from device events and samples of the vCPU's state
 * (vmm/fate.h); console text only explains them. */
#ifndef LBVM_VMM_MACHINE_H
#define LBVM_VMM_MACHINE_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "boot/loader.h"
#include "common/guest_mem.h"
#include "devices/acpi_pm.h"
#include "devices/ahci.h"
#include "devices/bus.h"
#include "devices/cmos_rtc.h"
#include "devices/e1000.h"
#include "devices/i8042.h"
#include "devices/ide.h"
#include "devices/pci.h"
#include "devices/sysctl_a.h"
#include "devices/uart16550.h"
#include "firmware/service.h"
#include "vmm/busy_gauge.h"
#include "vmm/console_watch.h"
#include "vmm/fate.h"
#include "vmm/guest_events.h"
#include "vmm/kvm_vm.h"
#include "vmm/machine_end.h"

struct machine_hooks {
	/* Guest console bytes, in order, from the vCPU thread. */
	void (*console)(void *opaque, const uint8_t *buf, size_t len);
	/* Every completed console line (without CR and the kernel's "[ seconds]" prefix). */
	void (*line)(void *opaque, const char *line);
	/* A recognized console event (kernel start, kexec, mark, panic, ...) with its line. Text: anyone can
	 * print it. */
	void (*event)(void *opaque, enum console_event ev, const char *detail);
	/* A console line the kernel itself printed that names an end of the run (vmm/fate.h): it waits for
	 * the machine to confirm it. */
	void (*hint)(void *opaque, enum fate_hint h, const char *line);
	/* An event from the guest's COM2 channel (vmm/guest_events.h). */
	void (*guest_event)(void *opaque, const struct guest_event *ev);
	void *opaque;
};

struct machine {
	struct guest_mem mem;
	struct kvm_vm kvm;
	struct bus pio;
	struct bus mmio;
	struct uart16550 com1;
	struct uart16550 com2;
	struct i8042 kbc;
	struct cmos_rtc rtc;
	struct acpi_pm pm;
	struct pci_host pci;
	bool pci_ready;
	struct sysctl_a sysctl;      /* port 92h */
	struct ahci *ahci;           /* NULL without disks or with the firmware */
	bool firmware;               /* firmware mode: the disks on the IDE channel, the firmware's port */
	struct ide_channel ide;
	struct fw_service fw;
	uint64_t ram_size;
	unsigned ndisks;
	struct e1000 *nic;           /* NULL without a network card */
	struct machine_hooks hooks;

	/* vCPU thread only: console lines, COM2 lines, and how the run ends. */
	struct console_watch watch;
	bool line_from_tty;          /* a byte of the current console line came through a tty driver */
	struct guest_event_reader events;
	struct fate fate;
	int64_t start_ns;            /* CLOCK_MONOTONIC at creation: fate's time 0 */

	pthread_t vcpu_thread;
	atomic_bool sample_wanted;   /* the watchdog asks the vCPU thread for a sample of its state */
	atomic_bool hint_live;       /* some fate hint awaits the samples that confirm or withdraw it */
	struct idle_streak idle;     /* vCPU thread only */
	_Atomic int64_t idle_since_ns; /* its start, published for the watchdog; 0 when the guest is not idle */
	clockid_t vcpu_clock;        /* the vCPU thread's CPU-time clock, valid once vcpu_clock_set */
	atomic_bool vcpu_clock_set;
	struct busy_gauge busy;      /* watchdog thread only: the vCPU thread's CPU time (vmm/busy_gauge.h) */
	atomic_bool vcpu_busy;       /* its last verdict: a busy vCPU is not idle, and is not sampled for it */
	atomic_bool busy_broke_idle; /* set with a busy verdict: the vCPU thread ends its idle streak */
	/* How the run ends is decided once, under end_lock: the detail is written before `end` is published
	 * (release), so a reader that sees the end (acquire) sees its detail. */
	pthread_mutex_t end_lock;
	_Atomic int end;             /* enum machine_end, MACHINE_RUNNING until decided */
	char end_detail[CONSOLE_LINE_MAX]; /* the line or reason behind `end` */
	uint64_t exits;              /* vCPU exits served (statistics) */
	uint64_t samples[VCPU_STOPPED + 1]; /* state samples taken, by enum vcpu_state (statistics) */
};

/* The signal machine_stop sends the vCPU thread to interrupt KVM_RUN (machine_create installs a handler). */
#define MACHINE_KICK_SIGNAL SIGUSR1

struct machine_config {
	uint64_t ram_size;
	int64_t rtc_epoch;
	struct machine_hooks hooks;
	struct disk_image **disks;   /* the guest's sda, sdb, ... (stay the caller's) */
	unsigned ndisks;
	bool firmware;               /* boot through lbvm's firmware: at most IDE_DRIVES disks, on IDE */
	bool nic;                    /* an e1000 network card (its backend is attached by the caller) */
};

/* Build the machine. 0, or -1 with *err filled (exit code and one line for the user). */
int machine_create(struct machine *m, const struct machine_config *cfg, struct error *err);
void machine_destroy(struct machine *m);

/* Write the planned kernel, command line and boot structures, and put the vCPU at the entry point.
 * The initrd, if any, must already be at plan->initrd_addr. 0 or -1 with *err filled. */
int machine_load(struct machine *m, const struct boot_plan *plan, const uint8_t *kernel, const char *cmdline,
		 struct error *err);

/* Put lbvm's firmware (and the MP table) into guest RAM and the vCPU in real mode at its entry; the
 * firmware then boots LBA 0 of the first disk. For a machine made with cfg->firmware. 0 or -1 with *err. */
int machine_load_firmware(struct machine *m, struct error *err);

/* Run the vCPU on the calling thread until the run ends; returns how it ended. */
enum machine_end machine_run(struct machine *m);

/* Decide how the run ends (ignored when already decided) and make the vCPU leave the guest. Any thread. */
void machine_stop(struct machine *m, enum machine_end end, const char *detail);
enum machine_end machine_end_reason(const struct machine *m);
/* The line or reason behind the end ("" while running). */
const char *machine_end_detail(const struct machine *m);
/* Ask the vCPU thread to sample its state (CPL, halted, interrupts) at once: the kick makes it leave the
 * guest. Any thread; the watchdog calls it every ~0.3 s while the console is quiet. */
void machine_request_sample(struct machine *m);
/* Whether the kernel announced an end (a fate hint) that samples must now confirm or withdraw. */
bool machine_hint_live(const struct machine *m);
/* On the watchdog thread, every tick: read the vCPU thread's CPU time and say whether it ran most of the
 * last second (vmm/busy_gauge.h). A busy vCPU ends the idle streak without being sampled. */
bool machine_vcpu_busy(struct machine *m);
/* How long the samples have shown the vCPU idle (vmm/fate.h, struct idle_streak), in seconds at
 * CLOCK_MONOTONIC time now_ns; 0 when it is not idle. Any thread. */
double machine_idle_seconds(const struct machine *m, int64_t now_ns);
/* The vCPU's registers in one line, for a report after the run stopped. 0 or -errno. */
int machine_describe_cpu(const struct machine *m, char *buf, size_t len);
/* CLOCK_MONOTONIC nanoseconds. */
int64_t machine_clock_ns(void);

#endif
