/* How a run ends, decided by the machine's state; the console's words only name what the machine shows.
 *
 * Device events end a run at once: the ACPI S5 write (power off), a reset (the reset control register,
 * the i8042's reset line) and a triple fault. Two states of the vCPU end it once they last, seen in
 * samples the watchdog takes every ~0.3 s once a hint (below) or the idle probe needs them and the console
 * is quiet (session/session.c):
 *   - halted with interrupts off, for FATE_HALT_CONFIRM_S: nothing but a reset can wake it (a halt);
 *   - after the kernel printed a panic, never in user mode and never idle for FATE_PANIC_CONFIRM_S
 *     (Linux's panic() spins in mdelay in ring 0): a panic.
 * The kernel's console lines ("Kernel panic - not syncing", "reboot: Power down", "reboot: System
 * halted", "reboot: Restarting system") are hints. The machine passes on only lines its kernel console
 * printed (vmm/machine.c), and a hint lives only while every sample since it shows the vCPU in the kernel:
 * one sample in user mode or idle (halted with interrupts on) withdraws it, so a program that prints
 * those words and goes on never ends the run. Live hints explain a confirmed end: a reset after a panic
 * is a panic; a panic "Attempted to kill init! exitcode=0x00000000" after "reboot: Power down" is how a
 * kernel without ACPI powers off. Pure: no clock, no I/O; the caller gives the times. */
#ifndef LBVM_VMM_FATE_H
#define LBVM_VMM_FATE_H

#include <stdbool.h>

#include "vmm/machine_end.h"

#define FATE_PANIC_CONFIRM_S 2.0 /* after a panic hint: this long in the kernel, without a break */
#define FATE_HALT_CONFIRM_S  1.0 /* halted with interrupts off for this long */
#define FATE_MIN_SAMPLES     5   /* and at least this many samples saying so */
#define FATE_DETAIL_MAX      512

enum fate_hint {
	FATE_HINT_PANIC,      /* "Kernel panic - not syncing: ..." (and its end marker) */
	FATE_HINT_POWER_DOWN, /* "reboot: Power down" */
	FATE_HINT_HALT,       /* "reboot: System halted" */
	FATE_HINT_RESTART,    /* "reboot: Restarting system" */
	FATE_HINTS
};

enum vcpu_state {
	VCPU_USER,    /* running in ring 3 (or virtual-8086 mode) */
	VCPU_KERNEL,  /* running in ring 0 */
	VCPU_IDLE,    /* halted with interrupts on: waiting for an interrupt */
	VCPU_STOPPED, /* halted with interrupts off: only a reset or an NMI ends it */
};

enum fate_device {
	FATE_DEV_POWER_OFF,   /* ACPI: SLP_EN with the S5 sleep type */
	FATE_DEV_RESET,       /* the reset control register or the i8042's reset line */
	FATE_DEV_TRIPLE_FAULT,
};

struct fate_verdict {
	enum machine_end end;  /* MACHINE_RUNNING: no end yet */
	const char *detail;    /* valid until the next call */
};

struct fate {
	struct {
		bool live;
		double at;        /* when it was printed */
		unsigned samples; /* samples since then, all in the kernel */
		char line[FATE_DETAIL_MAX];
	} hint[FATE_HINTS];
	bool stopped;          /* the last sample was VCPU_STOPPED ... */
	double stopped_since;  /* ... and so were all since this time */
	unsigned stopped_samples;
	char detail[FATE_DETAIL_MAX];
};

void fate_init(struct fate *f);
/* A hint from the kernel's console at time `now` (seconds); the first line of a live hint is kept. */
void fate_hint(struct fate *f, double now, enum fate_hint h, const char *line);
/* A sample of the vCPU at time `now`: the end it confirms, if any. */
struct fate_verdict fate_sample(struct fate *f, double now, enum vcpu_state s);
/* A device event (`what` says which register or line): how the run ends. */
struct fate_verdict fate_device(struct fate *f, enum fate_device d, const char *what);
/* Whether the hint is live (for reports and tests). */
bool fate_hint_live(const struct fate *f, enum fate_hint h);

/* The idle probe's view of the samples: the guest waits (for input at a prompt, say) while no sample
 * finds the vCPU in user mode or stopped, and some sample finds it halted with interrupts on at least
 * every IDLE_GAP_S; the samples between may find it in the kernel (timer ticks, kernel threads: on a
 * kernel with a periodic tick under nested virtualization, most of them). */
#define IDLE_GAP_S 1.5

struct idle_streak {
	bool on;
	double since;      /* the first idle sample of the streak */
	double last_idle;  /* the latest one */
};

void idle_streak_sample(struct idle_streak *s, double now, enum vcpu_state st);
/* How long the streak has lasted at `now`; 0 when there is none. */
double idle_streak_seconds(const struct idle_streak *s, double now);

/* The sample's state from what KVM reports: halted (KVM_MP_STATE_HALTED), RFLAGS.IF, the CPL and
 * RFLAGS.VM. */
enum vcpu_state vcpu_state_of(bool halted, bool interrupts_on, unsigned cpl, bool vm86);
const char *vcpu_state_name(enum vcpu_state s);

#endif
