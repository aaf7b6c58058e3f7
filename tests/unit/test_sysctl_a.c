/* Port 92h through a real bus: A20 always reads as on, bit 0 resets on its rising edge only. */
#include "check_run.h"
#include <check.h>

#include "devices/bus.h"
#include "devices/sysctl_a.h"
#include "common/layout.h"

static unsigned resets;

static void count_reset(void *opaque)
{
	(void)opaque;
	resets++;
}

START_TEST(a20_and_fast_reset)
{
	struct bus io;
	struct sysctl_a p;
	bus_init(&io);
	sysctl_a_init(&p, count_reset, NULL);
	ck_assert_int_eq(bus_add(&io, LAYOUT_PORT_SYSCTL_A, 1, sysctl_a_read, sysctl_a_write, &p, "port92"), 0);
	uint8_t v = 0;
	ck_assert(bus_read(&io, LAYOUT_PORT_SYSCTL_A, &v, 1));
	ck_assert_uint_eq(v, SYSCTL_A_A20);
	v = 0; /* "disable A20": KVM cannot, and the port says so */
	bus_write(&io, LAYOUT_PORT_SYSCTL_A, &v, 1);
	ck_assert(bus_read(&io, LAYOUT_PORT_SYSCTL_A, &v, 1));
	ck_assert_uint_eq(v, SYSCTL_A_A20);
	v = 0x41; /* other bits read as written; bit 0 rising: a reset */
	bus_write(&io, LAYOUT_PORT_SYSCTL_A, &v, 1);
	ck_assert_uint_eq(resets, 1);
	bus_write(&io, LAYOUT_PORT_SYSCTL_A, &v, 1); /* still set: no new edge */
	ck_assert_uint_eq(resets, 1);
	ck_assert(bus_read(&io, LAYOUT_PORT_SYSCTL_A, &v, 1));
	ck_assert_uint_eq(v, 0x43);
	v = 0;
	bus_write(&io, LAYOUT_PORT_SYSCTL_A, &v, 1);
	v = SYSCTL_A_RESET;
	bus_write(&io, LAYOUT_PORT_SYSCTL_A, &v, 1);
	ck_assert_uint_eq(resets, 2);
	bus_destroy(&io);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sysctl_a");
	TCase *tc = tcase_create("port92");
	tcase_add_test(tc, a20_and_fast_reset);
	suite_add_tcase(s, tc);
	return check_run(s);
}
