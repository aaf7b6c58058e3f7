#include "vmm/fate.h"

#include <stdio.h>
#include <string.h>

/* The panic by which Linux without a power-off method ends `poweroff`: init exits with status 0. */
#define INIT_EXITED_CLEANLY "Attempted to kill init! exitcode=0x00000000"
#define CPL_USER 3

void fate_init(struct fate *f)
{
	memset(f, 0, sizeof(*f));
}

bool fate_hint_live(const struct fate *f, enum fate_hint h)
{
	return h < FATE_HINTS && f->hint[h].live;
}

void fate_hint(struct fate *f, double now, enum fate_hint h, const char *line)
{
	if (h >= FATE_HINTS || f->hint[h].live)
		return;
	f->hint[h].live = true;
	f->hint[h].at = now;
	f->hint[h].samples = 0;
	snprintf(f->hint[h].line, sizeof(f->hint[h].line), "%s", line);
}

static struct fate_verdict verdict(struct fate *f, enum machine_end end)
{
	return (struct fate_verdict){ end, f->detail };
}

/* A confirmed panic: a power-off when it is how a kernel without ACPI ends `poweroff`. */
static struct fate_verdict panic_verdict(struct fate *f)
{
	const char *panic = f->hint[FATE_HINT_PANIC].line;
	if (f->hint[FATE_HINT_POWER_DOWN].live && strstr(panic, INIT_EXITED_CLEANLY)) {
		snprintf(f->detail, sizeof(f->detail),
			 "%.200s, with no power-off method: init exited and the kernel stopped",
			 f->hint[FATE_HINT_POWER_DOWN].line);
		return verdict(f, MACHINE_POWER_OFF);
	}
	snprintf(f->detail, sizeof(f->detail), "%s", panic);
	return verdict(f, MACHINE_PANIC);
}

/* The vCPU stays halted with interrupts off. */
static struct fate_verdict stopped_verdict(struct fate *f)
{
	if (f->hint[FATE_HINT_PANIC].live)
		return panic_verdict(f);
	if (f->hint[FATE_HINT_POWER_DOWN].live) {
		snprintf(f->detail, sizeof(f->detail), "%.200s, then the CPU halted with interrupts off",
			 f->hint[FATE_HINT_POWER_DOWN].line);
		return verdict(f, MACHINE_POWER_OFF);
	}
	if (f->hint[FATE_HINT_HALT].live)
		snprintf(f->detail, sizeof(f->detail), "the CPU halted with interrupts off (%.200s)",
			 f->hint[FATE_HINT_HALT].line);
	else
		snprintf(f->detail, sizeof(f->detail), "the CPU halted with interrupts off");
	return verdict(f, MACHINE_HALT);
}

struct fate_verdict fate_sample(struct fate *f, double now, enum vcpu_state s)
{
	if (s == VCPU_USER || s == VCPU_IDLE) {
		/* The system went on: whatever was printed did not end it. */
		for (int h = 0; h < FATE_HINTS; h++)
			f->hint[h].live = false;
		f->stopped = false;
		return verdict(f, MACHINE_RUNNING);
	}
	for (int h = 0; h < FATE_HINTS; h++)
		if (f->hint[h].live)
			f->hint[h].samples++;
	if (s == VCPU_STOPPED) {
		if (!f->stopped) {
			f->stopped = true;
			f->stopped_since = now;
			f->stopped_samples = 0;
		}
		f->stopped_samples++;
		if (now - f->stopped_since >= FATE_HALT_CONFIRM_S && f->stopped_samples >= FATE_MIN_SAMPLES)
			return stopped_verdict(f);
	} else {
		f->stopped = false;
	}
	if (f->hint[FATE_HINT_PANIC].live && now - f->hint[FATE_HINT_PANIC].at >= FATE_PANIC_CONFIRM_S &&
	    f->hint[FATE_HINT_PANIC].samples >= FATE_MIN_SAMPLES)
		return panic_verdict(f);
	return verdict(f, MACHINE_RUNNING);
}

struct fate_verdict fate_device(struct fate *f, enum fate_device d, const char *what)
{
	switch (d) {
	case FATE_DEV_POWER_OFF:
		snprintf(f->detail, sizeof(f->detail), "%s", what);
		return verdict(f, MACHINE_POWER_OFF);
	case FATE_DEV_RESET:
		if (f->hint[FATE_HINT_PANIC].live)
			return panic_verdict(f);
		snprintf(f->detail, sizeof(f->detail), "%s", what);
		return verdict(f, MACHINE_REBOOT);
	case FATE_DEV_TRIPLE_FAULT:
		if (f->hint[FATE_HINT_PANIC].live)
			return panic_verdict(f);
		if (f->hint[FATE_HINT_RESTART].live) {
			snprintf(f->detail, sizeof(f->detail), "%s after '%.200s'", what, f->hint[FATE_HINT_RESTART].line);
			return verdict(f, MACHINE_REBOOT);
		}
		snprintf(f->detail, sizeof(f->detail), "%s", what);
		return verdict(f, MACHINE_CRASH);
	}
	return verdict(f, MACHINE_RUNNING);
}

void idle_streak_sample(struct idle_streak *s, double now, enum vcpu_state st)
{
	switch (st) {
	case VCPU_IDLE:
		if (!s->on)
			*s = (struct idle_streak){ .on = true, .since = now };
		s->last_idle = now;
		break;
	case VCPU_KERNEL:
		if (s->on && now - s->last_idle > IDLE_GAP_S)
			s->on = false;
		break;
	case VCPU_USER:
	case VCPU_STOPPED:
		s->on = false;
		break;
	}
}

double idle_streak_seconds(const struct idle_streak *s, double now)
{
	return s->on && now > s->since ? now - s->since : 0;
}

enum vcpu_state vcpu_state_of(bool halted, bool interrupts_on, unsigned cpl, bool vm86)
{
	if (halted)
		return interrupts_on ? VCPU_IDLE : VCPU_STOPPED;
	return cpl == CPL_USER || vm86 ? VCPU_USER : VCPU_KERNEL;
}

const char *vcpu_state_name(enum vcpu_state s)
{
	switch (s) {
	case VCPU_USER: return "user mode";
	case VCPU_KERNEL: return "kernel mode";
	case VCPU_IDLE: return "idle (halted, interrupts on)";
	case VCPU_STOPPED: return "stopped (halted, interrupts off)";
	}
	return "unknown";
}
