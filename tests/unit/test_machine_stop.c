/* How a machine's run ends (vmm/machine.c), without KVM: the first reason wins and keeps its detail, a
 * confirmed panic (vmm/fate.c's verdict) is named by its panic line, a stop from another thread kicks the vCPU thread out of KVM_RUN with the kick
 * signal and one from the vCPU thread itself does not signal, concurrent stops leave one consistent end,
 * and the run loop returns at once when the end is decided and reports a KVM_RUN that fails. The machine
 * here has only what these paths touch: the run page, the vCPU thread, the end state. */
#include "check_run.h"
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmm/machine.h"

#define RACERS 8
#define RACE_ROUNDS 200

static struct kvm_run run_page;

/* A machine with no KVM behind it: just the state machine_stop and machine_run use. */
static void bare_machine(struct machine *m)
{
	memset(m, 0, sizeof(*m));
	memset(&run_page, 0, sizeof(run_page));
	m->kvm.run = &run_page;
	m->kvm.vcpu_fd = -1;
	m->vcpu_thread = pthread_self();
	pthread_mutex_init(&m->end_lock, NULL);
	atomic_init(&m->end, MACHINE_RUNNING);
	fate_init(&m->fate);
}

static _Atomic int kicks;
static _Atomic int kicked_thread_ok;
static pthread_t expected_thread;

static void on_kick(int sig)
{
	(void)sig;
	atomic_fetch_add(&kicks, 1);
	if (pthread_equal(pthread_self(), expected_thread))
		atomic_store(&kicked_thread_ok, 1);
}

static void catch_kicks(void)
{
	struct sigaction sa = { .sa_handler = on_kick };
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(MACHINE_KICK_SIGNAL, &sa, NULL), 0);
	atomic_store(&kicks, 0);
	atomic_store(&kicked_thread_ok, 0);
}

START_TEST(first_reason_wins)
{
	struct machine m;
	bare_machine(&m);
	catch_kicks();
	ck_assert_int_eq(machine_end_reason(&m), MACHINE_RUNNING);
	ck_assert_str_eq(machine_end_detail(&m), "");
	machine_stop(&m, MACHINE_TIMEOUT, "the deadline");
	machine_stop(&m, MACHINE_USER_STOP, "signal Terminated");
	machine_stop(&m, MACHINE_POWER_OFF, NULL);
	ck_assert_int_eq(machine_end_reason(&m), MACHINE_TIMEOUT);
	ck_assert_str_eq(machine_end_detail(&m), "the deadline");
	ck_assert_uint_eq(run_page.immediate_exit, 1); /* the next KVM_RUN returns at once */
	ck_assert_int_eq(atomic_load(&kicks), 0);      /* the vCPU thread stopped itself: no signal */
	pthread_mutex_destroy(&m.end_lock);
}
END_TEST

START_TEST(panic_detail_is_the_panic_line)
{
	struct machine m;
	bare_machine(&m);
	catch_kicks();
	/* The kernel's panic line, then 2 s of samples in the kernel: fate's verdict, as the vCPU thread
	 * hands it to machine_stop, names the line. */
	fate_hint(&m.fate, 1.0, FATE_HINT_PANIC, "Kernel panic - not syncing: Attempted to kill init!");
	struct fate_verdict v = { MACHINE_RUNNING, NULL };
	for (int i = 1; i <= 30 && v.end == MACHINE_RUNNING; i++)
		v = fate_sample(&m.fate, 1.0 + 0.1 * i, VCPU_KERNEL);
	ck_assert_int_eq(v.end, MACHINE_PANIC);
	machine_stop(&m, v.end, v.detail);
	ck_assert_int_eq(machine_end_reason(&m), MACHINE_PANIC);
	ck_assert_str_eq(machine_end_detail(&m), "Kernel panic - not syncing: Attempted to kill init!");

	/* A NULL detail stays empty; a given one is kept as it is; a long one is cut, never overrun. */
	bare_machine(&m);
	machine_stop(&m, MACHINE_PANIC, NULL);
	ck_assert_str_eq(machine_end_detail(&m), "");
	bare_machine(&m);
	machine_stop(&m, MACHINE_CRASH, "triple fault (the guest CPU shut down)");
	ck_assert_str_eq(machine_end_detail(&m), "triple fault (the guest CPU shut down)");
	bare_machine(&m);
	char lng[3 * sizeof(m.end_detail)];
	memset(lng, 'x', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	machine_stop(&m, MACHINE_CRASH, lng);
	ck_assert_uint_eq(strlen(machine_end_detail(&m)), sizeof(m.end_detail) - 1);
	pthread_mutex_destroy(&m.end_lock);
}
END_TEST

/* The stand-in vCPU thread: waits for the kick signal as KVM_RUN would be interrupted by it. */
static void *vcpu_waits_for_kick(void *arg)
{
	sigset_t only_kick;
	sigfillset(&only_kick);
	sigdelset(&only_kick, MACHINE_KICK_SIGNAL);
	while (!atomic_load(&kicks))
		sigsuspend(&only_kick);
	return arg;
}

START_TEST(stop_from_another_thread_kicks_the_vcpu_thread)
{
	struct machine m;
	bare_machine(&m);
	catch_kicks();
	/* Every thread but the vCPU thread keeps the kick blocked, so only a signal aimed at it can arrive. */
	sigset_t kick, old;
	sigemptyset(&kick);
	sigaddset(&kick, MACHINE_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &kick, &old);
	pthread_t vcpu;
	ck_assert_int_eq(pthread_create(&vcpu, NULL, vcpu_waits_for_kick, NULL), 0);
	expected_thread = vcpu;
	m.vcpu_thread = vcpu;
	machine_stop(&m, MACHINE_USER_STOP, "Ctrl-A x");
	pthread_join(vcpu, NULL);
	ck_assert_int_eq(atomic_load(&kicks), 1);
	ck_assert_int_eq(atomic_load(&kicked_thread_ok), 1);
	ck_assert_uint_eq(run_page.immediate_exit, 1);
	ck_assert_int_eq(machine_end_reason(&m), MACHINE_USER_STOP);
	/* A stop after the end is decided still kicks (the vCPU may be back in KVM_RUN): harmless, prompt. */
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_destroy(&m.end_lock);
}
END_TEST

struct racer {
	struct machine *m;
	enum machine_end end;
	char detail[32];
	pthread_barrier_t *start;
};

static void *race_stop(void *arg)
{
	struct racer *r = arg;
	pthread_barrier_wait(r->start);
	machine_stop(r->m, r->end, r->detail);
	return NULL;
}

START_TEST(concurrent_stops_leave_one_consistent_end)
{
	static const enum machine_end ends[RACERS] = {
		MACHINE_POWER_OFF, MACHINE_HALT, MACHINE_REBOOT, MACHINE_PANIC,
		MACHINE_TIMEOUT, MACHINE_USER_STOP, MACHINE_CRASH, MACHINE_HOST_ERROR,
	};
	/* The kick goes to this thread (the machine's vCPU thread), which ignores it here. */
	signal(MACHINE_KICK_SIGNAL, SIG_IGN);
	for (int round = 0; round < RACE_ROUNDS; round++) {
		struct machine m;
		bare_machine(&m);
		pthread_barrier_t start;
		pthread_barrier_init(&start, NULL, RACERS);
		struct racer r[RACERS];
		pthread_t t[RACERS];
		for (int i = 0; i < RACERS; i++) {
			r[i] = (struct racer){ .m = &m, .end = ends[i], .start = &start };
			snprintf(r[i].detail, sizeof(r[i].detail), "reason %d", (int)ends[i]);
			ck_assert_int_eq(pthread_create(&t[i], NULL, race_stop, &r[i]), 0);
		}
		for (int i = 0; i < RACERS; i++)
			pthread_join(t[i], NULL);
		enum machine_end end = machine_end_reason(&m);
		ck_assert_int_ne(end, MACHINE_RUNNING);
		char want[32];
		snprintf(want, sizeof(want), "reason %d", (int)end);
		ck_assert_str_eq(machine_end_detail(&m), want); /* the winner's own detail, never another's */
		pthread_barrier_destroy(&start);
		pthread_mutex_destroy(&m.end_lock);
	}
	signal(MACHINE_KICK_SIGNAL, SIG_DFL);
}
END_TEST

START_TEST(run_returns_at_once_when_the_end_is_decided)
{
	struct machine m;
	bare_machine(&m);
	catch_kicks();
	machine_stop(&m, MACHINE_TIMEOUT, NULL);
	ck_assert_int_eq(machine_run(&m), MACHINE_TIMEOUT);
	ck_assert_uint_eq(m.exits, 0); /* no KVM_RUN (there is no vCPU to run) */
	pthread_mutex_destroy(&m.end_lock);
}
END_TEST

START_TEST(run_reports_a_failing_kvm_run)
{
	struct machine m;
	bare_machine(&m);
	catch_kicks();
	/* vcpu_fd -1: KVM_RUN fails with EBADF, which is neither EINTR nor EAGAIN: an error of the host. */
	ck_assert_int_eq(machine_run(&m), MACHINE_HOST_ERROR);
	char want[128];
	snprintf(want, sizeof(want), "KVM_RUN failed: %s", strerror(EBADF));
	ck_assert_str_eq(machine_end_detail(&m), want);
	ck_assert_uint_eq(m.exits, 0);
	pthread_mutex_destroy(&m.end_lock);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("machine_stop");
	TCase *tc = tcase_create("end");
	tcase_add_test(tc, first_reason_wins);
	tcase_add_test(tc, panic_detail_is_the_panic_line);
	tcase_add_test(tc, stop_from_another_thread_kicks_the_vcpu_thread);
	tcase_add_test(tc, concurrent_stops_leave_one_consistent_end);
	tcase_add_test(tc, run_returns_at_once_when_the_end_is_decided);
	tcase_add_test(tc, run_reports_a_failing_kvm_run);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return check_run(s);
}
