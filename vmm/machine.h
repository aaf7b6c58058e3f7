/* One lbvm machine: guest RAM, the KVM VM and vCPU, the I/O-port and MMIO buses with the legacy devices
 * (COM1 16550A, i8042, CMOS RTC, a PCI host bridge with an AHCI controller for the disks and, when asked,
 * an e1000 network card), and the run loop that serves the vCPU's exits until the run ends.
 * How it ends is decided once (the first reason wins) and can be requested from any thread. */
#ifndef LBVM_VMM_MACHINE_H
#define LBVM_VMM_MACHINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>

#include "boot/loader.h"
#include "devices/ahci.h"
#include "devices/bus.h"
#include "devices/cmos_rtc.h"
#include "devices/e1000.h"
#include "devices/i8042.h"
#include "devices/pci.h"
#include "devices/uart16550.h"
#include "vmm/console_watch.h"
#include "common/guest_mem.h"
#include "vmm/kvm_vm.h"

enum machine_end {
	MACHINE_RUNNING = 0,
	MACHINE_POWER_OFF,   /* the guest powered off */
	MACHINE_HALT,        /* the guest halted the system */
	MACHINE_REBOOT,      /* the guest reset the machine (i8042, restart, triple fault after "Restarting") */
	MACHINE_PANIC,       /* the guest kernel panicked */
	MACHINE_TIMEOUT,     /* the caller's deadline passed */
	MACHINE_USER_STOP,   /* the user asked (Ctrl-A x, a signal) */
	MACHINE_STALL,       /* no console output for the caller's stall timeout */
	MACHINE_DONE,        /* the caller's goal was reached (a bootstrap completed, --until) */
	MACHINE_CRASH,       /* triple fault without a restart message, entry failure, KVM internal error */
	MACHINE_HOST_ERROR,  /* lbvm or KVM failed */
};

struct machine_hooks {
	/* Guest console bytes, in order, from the vCPU thread. */
	void (*console)(void *opaque, const uint8_t *buf, size_t len);
	/* Every completed console line (without CR and the kernel's "[ seconds]" prefix). */
	void (*line)(void *opaque, const char *line);
	/* A recognized console event (kernel start, kexec, mark, panic, ...) with its line. */
	void (*event)(void *opaque, enum console_event ev, const char *detail);
	void *opaque;
};

struct machine {
	struct guest_mem mem;
	struct kvm_vm kvm;
	struct bus pio;
	struct bus mmio;
	struct uart16550 com1;
	struct i8042 kbc;
	struct cmos_rtc rtc;
	struct pci_host pci;
	bool pci_ready;
	struct ahci *ahci;           /* NULL without disks */
	struct e1000 *nic;           /* NULL without a network card */
	struct console_watch watch;
	struct machine_hooks hooks;

	pthread_t vcpu_thread;
	/* How the run ends is decided once, under end_lock: the detail is written before `end` is published
	 * (release), so a reader that sees the end (acquire) sees its detail. */
	pthread_mutex_t end_lock;
	_Atomic int end;             /* enum machine_end, MACHINE_RUNNING until decided */
	char end_detail[CONSOLE_LINE_MAX]; /* the line or reason behind `end` */
	/* Written by the vCPU thread only, before panic_seen is published. */
	char panic_line[CONSOLE_LINE_MAX]; /* the first "Kernel panic" line */
	_Atomic int panic_seen;      /* a panic line was printed: how the run ends, whatever follows */
	uint64_t exits;              /* vCPU exits served (statistics) */
};

struct machine_config {
	uint64_t ram_size;
	int64_t rtc_epoch;
	struct machine_hooks hooks;
	struct disk_image **disks;   /* the guest's sda, sdb, ... (stay the caller's) */
	unsigned ndisks;
	bool nic;                    /* an e1000 network card (its backend is attached by the caller) */
};

/* Build the machine. 0, or -1 with *err filled (exit code and one line for the user). */
int machine_create(struct machine *m, const struct machine_config *cfg, struct error *err);
void machine_destroy(struct machine *m);

/* Write the planned kernel, command line and boot structures, and put the vCPU at the entry point.
 * The initrd, if any, must already be at plan->initrd_addr. 0 or -1 with *err filled. */
int machine_load(struct machine *m, const struct boot_plan *plan, const uint8_t *kernel, const char *cmdline,
		 struct error *err);

/* Run the vCPU on the calling thread until the run ends; returns how it ended. */
enum machine_end machine_run(struct machine *m);

/* Decide how the run ends (ignored when already decided) and make the vCPU leave the guest. Any thread.
 * detail NULL for MACHINE_PANIC means the first panic line. */
void machine_stop(struct machine *m, enum machine_end end, const char *detail);
enum machine_end machine_end_reason(const struct machine *m);
/* The line or reason behind the end ("" while running). */
const char *machine_end_detail(const struct machine *m);
/* True once the guest kernel printed a panic line. */
bool machine_panic_seen(const struct machine *m);
/* The vCPU's registers in one line, for a report after the run stopped. 0 or -errno. */
int machine_describe_cpu(const struct machine *m, char *buf, size_t len);

#endif
