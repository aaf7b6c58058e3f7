/* How a run ends (vmm/fate.c): sequences of console hints, vCPU samples and device events, as a real run
 * produces them, and the end each must (or must not) give. Samples come every 0.1 s as the watchdog's. */
#include "check_run.h"
#include <check.h>
#include <string.h>

#include "vmm/fate.h"

#define TICK 0.1

struct run {
	struct fate f;
	double now;
	struct fate_verdict last;
};

static void start(struct run *r)
{
	memset(r, 0, sizeof(*r));
	fate_init(&r->f);
}

/* `n` samples in state `s`; stops at the first verdict and returns its end. */
static enum machine_end samples(struct run *r, unsigned n, enum vcpu_state s)
{
	for (unsigned i = 0; i < n; i++) {
		r->now += TICK;
		r->last = fate_sample(&r->f, r->now, s);
		if (r->last.end != MACHINE_RUNNING)
			return r->last.end;
	}
	return MACHINE_RUNNING;
}

static void hint(struct run *r, enum fate_hint h, const char *line)
{
	fate_hint(&r->f, r->now, h, line);
}

START_TEST(vcpu_states)
{
	ck_assert_int_eq(vcpu_state_of(false, true, 3, false), VCPU_USER);
	ck_assert_int_eq(vcpu_state_of(false, false, 0, true), VCPU_USER); /* virtual-8086 mode */
	ck_assert_int_eq(vcpu_state_of(false, true, 0, false), VCPU_KERNEL);
	ck_assert_int_eq(vcpu_state_of(false, false, 0, false), VCPU_KERNEL);
	ck_assert_int_eq(vcpu_state_of(true, true, 0, false), VCPU_IDLE);
	ck_assert_int_eq(vcpu_state_of(true, false, 0, false), VCPU_STOPPED);
}
END_TEST

START_TEST(real_panic_confirmed)
{
	/* init exits: the panic line, then panic() spins in ring 0 (mdelay) */
	struct run r;
	start(&r);
	samples(&r, 30, VCPU_USER);
	hint(&r, FATE_HINT_PANIC, "Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100");
	hint(&r, FATE_HINT_PANIC, "---[ end Kernel panic - not syncing: Attempted to kill init! ]---");
	ck_assert_int_eq(samples(&r, 15, VCPU_KERNEL), MACHINE_RUNNING); /* not yet: 1.5 s */
	ck_assert_int_eq(samples(&r, 10, VCPU_KERNEL), MACHINE_PANIC);
	ck_assert_str_eq(r.last.detail, "Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100");
	ck_assert(r.now - 3.0 < 2.0 + 2 * TICK); /* confirmed about FATE_PANIC_CONFIRM_S after the line */
}
END_TEST

START_TEST(fake_panic_withdrawn)
{
	/* a program prints the words (even through /dev/kmsg) and goes on: user mode, then idle */
	struct run r;
	start(&r);
	hint(&r, FATE_HINT_PANIC, "Kernel panic - not syncing: fake");
	ck_assert_int_eq(samples(&r, 5, VCPU_KERNEL), MACHINE_RUNNING);
	ck_assert_int_eq(samples(&r, 1, VCPU_USER), MACHINE_RUNNING);
	ck_assert(!fate_hint_live(&r.f, FATE_HINT_PANIC));
	ck_assert_int_eq(samples(&r, 100, VCPU_KERNEL), MACHINE_RUNNING); /* a long syscall is no panic */
	hint(&r, FATE_HINT_PANIC, "Kernel panic - not syncing: fake again");
	ck_assert_int_eq(samples(&r, 3, VCPU_KERNEL), MACHINE_RUNNING);
	ck_assert_int_eq(samples(&r, 1, VCPU_IDLE), MACHINE_RUNNING); /* waiting for input: the system lives */
	ck_assert_int_eq(samples(&r, 100, VCPU_KERNEL), MACHINE_RUNNING);
	/* a reset after a withdrawn hint is a reboot, not a panic */
	r.last = fate_device(&r.f, FATE_DEV_RESET, "reset through the reset control register 0xcf9");
	ck_assert_int_eq(r.last.end, MACHINE_REBOOT);
}
END_TEST

START_TEST(panic_needs_samples)
{
	/* time alone confirms nothing: without samples (a starved watchdog) no verdict */
	struct run r;
	start(&r);
	hint(&r, FATE_HINT_PANIC, "Kernel panic - not syncing: x");
	r.now += 10;
	ck_assert_int_eq(samples(&r, FATE_MIN_SAMPLES - 1, VCPU_KERNEL), MACHINE_RUNNING);
	ck_assert_int_eq(samples(&r, 1, VCPU_KERNEL), MACHINE_PANIC);
}
END_TEST

START_TEST(panic_then_reset)
{
	/* panic=N: the kernel resets the machine after the panic; it is still a panic */
	struct run r;
	start(&r);
	hint(&r, FATE_HINT_PANIC, "Kernel panic - not syncing: VFS: Unable to mount root fs");
	samples(&r, 2, VCPU_KERNEL);
	r.last = fate_device(&r.f, FATE_DEV_RESET, "reset through the keyboard controller");
	ck_assert_int_eq(r.last.end, MACHINE_PANIC);
	ck_assert_str_eq(r.last.detail, "Kernel panic - not syncing: VFS: Unable to mount root fs");
	start(&r);
	hint(&r, FATE_HINT_PANIC, "Kernel panic - not syncing: x");
	ck_assert_int_eq(fate_device(&r.f, FATE_DEV_TRIPLE_FAULT, "triple fault").end, MACHINE_PANIC);
}
END_TEST

START_TEST(poweroff_without_acpi)
{
	/* "reboot: Power down", no power-off method, init exits with 0, the kernel panics */
	struct run r;
	start(&r);
	samples(&r, 10, VCPU_USER);
	hint(&r, FATE_HINT_POWER_DOWN, "reboot: Power down");
	samples(&r, 1, VCPU_KERNEL);
	hint(&r, FATE_HINT_PANIC, "Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000000");
	ck_assert_int_eq(samples(&r, 30, VCPU_KERNEL), MACHINE_POWER_OFF);
	ck_assert_ptr_nonnull(strstr(r.last.detail, "no power-off method"));
	/* the same with panic=-1: the reset comes at once */
	start(&r);
	hint(&r, FATE_HINT_POWER_DOWN, "reboot: Power down");
	hint(&r, FATE_HINT_PANIC, "Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000000");
	ck_assert_int_eq(fate_device(&r.f, FATE_DEV_RESET, "reset").end, MACHINE_POWER_OFF);
	/* init exiting with an error after the words is a panic */
	start(&r);
	hint(&r, FATE_HINT_POWER_DOWN, "reboot: Power down");
	hint(&r, FATE_HINT_PANIC, "Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100");
	ck_assert_int_eq(samples(&r, 30, VCPU_KERNEL), MACHINE_PANIC);
	/* and "reboot: Power down" printed by a program that went on does not explain a later exit(0) */
	start(&r);
	hint(&r, FATE_HINT_POWER_DOWN, "reboot: Power down");
	samples(&r, 1, VCPU_USER);
	hint(&r, FATE_HINT_PANIC, "Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000000");
	ck_assert_int_eq(samples(&r, 30, VCPU_KERNEL), MACHINE_PANIC);
}
END_TEST

START_TEST(halt_is_a_state)
{
	/* "reboot: System halted": the CPU halts with interrupts off; the words only explain it */
	struct run r;
	start(&r);
	hint(&r, FATE_HINT_HALT, "reboot: System halted");
	ck_assert_int_eq(samples(&r, 5, VCPU_STOPPED), MACHINE_RUNNING); /* 0.5 s */
	ck_assert_int_eq(samples(&r, 10, VCPU_STOPPED), MACHINE_HALT);
	ck_assert_ptr_nonnull(strstr(r.last.detail, "reboot: System halted"));
	/* without any words it is a halt too */
	start(&r);
	ck_assert_int_eq(samples(&r, 20, VCPU_STOPPED), MACHINE_HALT);
	ck_assert_str_eq(r.last.detail, "the CPU halted with interrupts off");
	/* a stop that is broken (an NMI woke it) starts over */
	start(&r);
	samples(&r, 8, VCPU_STOPPED);
	samples(&r, 1, VCPU_KERNEL);
	ck_assert_int_eq(samples(&r, 8, VCPU_STOPPED), MACHINE_RUNNING);
	/* the words alone, with the CPU busy or idle, are nothing */
	start(&r);
	hint(&r, FATE_HINT_HALT, "reboot: System halted");
	ck_assert_int_eq(samples(&r, 100, VCPU_KERNEL), MACHINE_RUNNING);
	/* stopped after a panic is the panic */
	start(&r);
	hint(&r, FATE_HINT_PANIC, "Kernel panic - not syncing: y");
	ck_assert_int_eq(samples(&r, 20, VCPU_STOPPED), MACHINE_PANIC);
}
END_TEST

START_TEST(device_events)
{
	struct run r;
	start(&r);
	r.last = fate_device(&r.f, FATE_DEV_POWER_OFF, "ACPI S5");
	ck_assert_int_eq(r.last.end, MACHINE_POWER_OFF);
	ck_assert_str_eq(r.last.detail, "ACPI S5");
	ck_assert_int_eq(fate_device(&r.f, FATE_DEV_RESET, "0xcf9").end, MACHINE_REBOOT);
	/* a triple fault is a crash, unless the kernel said it was restarting (reboot=t) */
	ck_assert_int_eq(fate_device(&r.f, FATE_DEV_TRIPLE_FAULT, "triple fault").end, MACHINE_CRASH);
	hint(&r, FATE_HINT_RESTART, "reboot: Restarting system");
	r.last = fate_device(&r.f, FATE_DEV_TRIPLE_FAULT, "triple fault");
	ck_assert_int_eq(r.last.end, MACHINE_REBOOT);
	ck_assert_str_eq(r.last.detail, "triple fault after 'reboot: Restarting system'");
	/* a power-off is a power-off, whatever was printed */
	hint(&r, FATE_HINT_PANIC, "Kernel panic - not syncing: fake");
	ck_assert_int_eq(fate_device(&r.f, FATE_DEV_POWER_OFF, "ACPI S5").end, MACHINE_POWER_OFF);
}
END_TEST

START_TEST(idle_streaks)
{
	struct idle_streak s = { 0 };
	double t = 0;
	ck_assert(idle_streak_seconds(&s, t) == 0);
	/* at a prompt: halted with interrupts on, a timer tick caught now and then */
	for (int i = 0; i < 30; i++) {
		t += TICK;
		idle_streak_sample(&s, t, i % 5 == 4 ? VCPU_KERNEL : VCPU_IDLE);
	}
	ck_assert(idle_streak_seconds(&s, t) > 2.8);
	/* one sample in user mode ends it */
	idle_streak_sample(&s, t += TICK, VCPU_USER);
	ck_assert(idle_streak_seconds(&s, t) == 0);
	/* kernel samples alone never start one */
	for (int i = 0; i < 10; i++)
		idle_streak_sample(&s, t += TICK, VCPU_KERNEL);
	ck_assert(idle_streak_seconds(&s, t) == 0);
	/* a periodic tick under emulation: mostly in the kernel, halted now and then: still waiting */
	for (int i = 0; i < 30; i++)
		idle_streak_sample(&s, t += TICK, i % 8 == 0 ? VCPU_IDLE : VCPU_KERNEL);
	ck_assert(idle_streak_seconds(&s, t) > 2.8);
	/* busy in the kernel for over a second (a silent in-kernel job) is not idle */
	for (int i = 0; i < 11; i++)
		idle_streak_sample(&s, t += TICK, VCPU_KERNEL);
	ck_assert(idle_streak_seconds(&s, t) == 0);
	/* a stopped CPU is not waiting for input */
	idle_streak_sample(&s, t += TICK, VCPU_IDLE);
	idle_streak_sample(&s, t += TICK, VCPU_STOPPED);
	ck_assert(idle_streak_seconds(&s, t) == 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fate");
	TCase *tc = tcase_create("ends");
	tcase_add_test(tc, vcpu_states);
	tcase_add_test(tc, real_panic_confirmed);
	tcase_add_test(tc, fake_panic_withdrawn);
	tcase_add_test(tc, panic_needs_samples);
	tcase_add_test(tc, panic_then_reset);
	tcase_add_test(tc, poweroff_without_acpi);
	tcase_add_test(tc, halt_is_a_state);
	tcase_add_test(tc, device_events);
	tcase_add_test(tc, idle_streaks);
	suite_add_tcase(s, tc);
	return check_run(s);
}
