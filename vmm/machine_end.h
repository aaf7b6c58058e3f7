/* How a run of the machine ends: decided once, by the first reason (vmm/machine.h, vmm/fate.h). */
#ifndef LBVM_VMM_MACHINE_END_H
#define LBVM_VMM_MACHINE_END_H

enum machine_end {
	MACHINE_RUNNING = 0,
	MACHINE_POWER_OFF,   /* the guest powered off */
	MACHINE_HALT,        /* the guest halted the system */
	MACHINE_REBOOT,      /* the guest reset the machine (0xcf9, i8042, triple fault after "Restarting") */
	MACHINE_PANIC,       /* the guest kernel panicked */
	MACHINE_TIMEOUT,     /* the caller's deadline passed */
	MACHINE_USER_STOP,   /* the user asked (Ctrl-A x, a signal) */
	MACHINE_STALL,       /* no console output for the caller's stall timeout */
	MACHINE_DONE,        /* the caller's goal was reached (a bootstrap completed, --until) */
	MACHINE_CRASH,       /* triple fault without a restart message, entry failure, KVM internal error */
	MACHINE_HOST_ERROR,  /* lbvm or KVM failed */
};

#endif
