/* The busy gauge (vmm/busy_gauge.c): a verdict once per window of wall time, busy when the thread ran at
 * least the share of it; nothing is busy before the first complete window; clocks that go backwards start
 * over. And the real thing: a spinning thread's CPU clock reads busy, a sleeping one's does not. */
#include "check_run.h"
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "vmm/busy_gauge.h"

#define S INT64_C(1000000000)

START_TEST(verdict_per_window)
{
	struct busy_gauge g = { 0 };
	ck_assert(!busy_gauge_feed(&g, 10 * S, 5 * S));
	ck_assert(!busy_gauge_feed(&g, 10 * S + S / 2, 5 * S + S / 2)); /* half a window: no verdict yet */
	ck_assert(busy_gauge_feed(&g, 11 * S, 5 * S + 9 * S / 10));     /* 90 % of a second */
	ck_assert(busy_gauge_feed(&g, 11 * S + S / 2, 5 * S + 9 * S / 10)); /* the verdict holds */
	ck_assert(!busy_gauge_feed(&g, 12 * S, 5 * S + S));             /* 10 % */
	ck_assert(busy_gauge_feed(&g, 14 * S, 5 * S + S + 3 * S / 2));  /* 75 % of two seconds */
	ck_assert(!busy_gauge_feed(&g, 15 * S, 5 * S + S + 3 * S / 2 + 7 * S / 10)); /* 70 % */
}
END_TEST

START_TEST(clocks_going_back_start_over)
{
	struct busy_gauge g = { 0 };
	busy_gauge_feed(&g, 10 * S, 5 * S);
	ck_assert(busy_gauge_feed(&g, 11 * S, 6 * S));
	ck_assert(!busy_gauge_feed(&g, 12 * S, 1 * S));
	ck_assert(!busy_gauge_feed(&g, 12 * S + S / 2, 1 * S + S / 2));
	ck_assert(busy_gauge_feed(&g, 13 * S, 2 * S));
}
END_TEST

static atomic_bool spin_stop;
static void *spin(void *arg)
{
	(void)arg;
	while (!atomic_load(&spin_stop))
		;
	return NULL;
}

static int64_t ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * S + ts.tv_nsec;
}

START_TEST(real_threads)
{
	pthread_t t;
	clockid_t spinning;
	atomic_store(&spin_stop, false);
	ck_assert_int_eq(pthread_create(&t, NULL, spin, NULL), 0);
	ck_assert_int_eq(pthread_getcpuclockid(t, &spinning), 0);
	struct busy_gauge g = { 0 };
	int64_t wall0 = ns(CLOCK_MONOTONIC), cpu0 = ns(spinning);
	busy_gauge_feed(&g, wall0, cpu0);
	usleep(1200000);
	int64_t wall1 = ns(CLOCK_MONOTONIC), cpu1 = ns(spinning);
	bool busy = busy_gauge_feed(&g, wall1, cpu1);
	atomic_store(&spin_stop, true);
	pthread_join(t, NULL);
	/* Another thread's CPU clock can be read and it counts the spinning (a loaded host may give it less
	 * than the share: then "not busy", which only costs samples). A sleeping thread never reads busy. */
	ck_assert(cpu1 - cpu0 > S / 10);
	ck_assert(busy == ((double)(cpu1 - cpu0) >= BUSY_GAUGE_SHARE * (double)(wall1 - wall0)));
	clockid_t self;
	ck_assert_int_eq(pthread_getcpuclockid(pthread_self(), &self), 0);
	struct busy_gauge h = { 0 };
	busy_gauge_feed(&h, ns(CLOCK_MONOTONIC), ns(self));
	usleep(1100000);
	ck_assert(!busy_gauge_feed(&h, ns(CLOCK_MONOTONIC), ns(self)));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("busy_gauge");
	TCase *tc = tcase_create("gauge");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, verdict_per_window);
	tcase_add_test(tc, clocks_going_back_start_over);
	tcase_add_test(tc, real_threads);
	suite_add_tcase(s, tc);
	return check_run(s);
}
