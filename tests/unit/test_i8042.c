/* The keyboard controller without a keyboard, as Linux's i8042 driver probes it and as a guest resets the
 * machine through it: status, command byte, self-tests, output port, the echo commands, the queue bound,
 * and every way (and non-way) of pulsing the reset line. */
#include "check_run.h"
#include <check.h>
#include <string.h>

#include "devices/i8042.h"

#define STATUS_OBF 0x01
#define STATUS_SYS 0x04

struct harness {
	struct i8042 kbc;
	int resets;
};

static void count_reset(void *opaque)
{
	struct harness *h = opaque;
	h->resets++;
}

static void setup(struct harness *h)
{
	memset(h, 0, sizeof(*h));
	i8042_init(&h->kbc, count_reset, h);
}

static uint8_t status(struct harness *h)
{
	uint8_t v = 0xff;
	i8042_cmd_read(&h->kbc, 0, &v, 1);
	return v;
}

static uint8_t data(struct harness *h)
{
	uint8_t v = 0xff;
	i8042_data_read(&h->kbc, 0, &v, 1);
	return v;
}

static void command(struct harness *h, uint8_t cmd)
{
	i8042_cmd_write(&h->kbc, 0, &cmd, 1);
}

static void put(struct harness *h, uint8_t v)
{
	i8042_data_write(&h->kbc, 0, &v, 1);
}

START_TEST(status_and_empty_data)
{
	struct harness h;
	setup(&h);
	ck_assert_uint_eq(status(&h), STATUS_SYS);
	ck_assert_uint_eq(data(&h), 0); /* nothing queued: reads 0, not garbage */
	ck_assert_uint_eq(status(&h), STATUS_SYS);
	ck_assert_int_eq(h.resets, 0);
}
END_TEST

START_TEST(command_byte_round_trip)
{
	struct harness h;
	setup(&h);
	command(&h, 0x20);
	ck_assert_uint_eq(status(&h), STATUS_SYS | STATUS_OBF);
	ck_assert_uint_eq(data(&h), 0);
	ck_assert_uint_eq(status(&h), STATUS_SYS);
	command(&h, 0x60);
	put(&h, 0x47);
	command(&h, 0x20);
	ck_assert_uint_eq(data(&h), 0x47);
	/* The port bits the disable/enable commands change: keyboard 0x10, aux 0x20. */
	command(&h, 0x60);
	put(&h, 0x00);
	command(&h, 0xad);
	command(&h, 0xa7);
	command(&h, 0x20);
	ck_assert_uint_eq(data(&h), 0x30);
	command(&h, 0xae);
	command(&h, 0x20);
	ck_assert_uint_eq(data(&h), 0x20);
	command(&h, 0xa8);
	command(&h, 0x20);
	ck_assert_uint_eq(data(&h), 0x00);
	ck_assert_int_eq(h.resets, 0);
}
END_TEST

START_TEST(self_tests_answer_ok)
{
	struct harness h;
	setup(&h);
	command(&h, 0xaa);
	command(&h, 0xab);
	command(&h, 0xa9);
	ck_assert_uint_eq(data(&h), 0x55);
	ck_assert_uint_eq(data(&h), 0x00);
	ck_assert_uint_eq(data(&h), 0x00);
	ck_assert_uint_eq(status(&h) & STATUS_OBF, 0);
}
END_TEST

START_TEST(echo_commands_and_devices_that_do_not_answer)
{
	struct harness h;
	setup(&h);
	command(&h, 0xd2); /* as if the keyboard sent it */
	put(&h, 0xa5);
	command(&h, 0xd3); /* as if the mouse sent it: Linux's aux loop test */
	put(&h, 0x5a);
	ck_assert_uint_eq(data(&h), 0xa5);
	ck_assert_uint_eq(data(&h), 0x5a);
	command(&h, 0xd4); /* to the mouse: there is none */
	put(&h, 0xf2);
	put(&h, 0xff); /* to the keyboard: there is none */
	ck_assert_uint_eq(status(&h) & STATUS_OBF, 0);
	ck_assert_int_eq(h.resets, 0);
}
END_TEST

START_TEST(queue_is_bounded_and_ordered)
{
	struct harness h;
	setup(&h);
	for (unsigned i = 0; i < I8042_QUEUE + 4; i++) {
		command(&h, 0xd2);
		put(&h, (uint8_t)(0x10 + i));
	}
	for (unsigned i = 0; i < I8042_QUEUE; i++)
		ck_assert_uint_eq(data(&h), 0x10 + i);
	ck_assert_uint_eq(status(&h) & STATUS_OBF, 0);
	ck_assert_uint_eq(data(&h), 0);
}
END_TEST

START_TEST(reset_by_pulse_command)
{
	struct harness h;
	setup(&h);
	command(&h, 0xfe); /* the classic: pulse output line 0, the CPU reset */
	ck_assert_int_eq(h.resets, 1);
	command(&h, 0xfc); /* any pulse command with bit 0 clear pulses the reset line too */
	ck_assert_int_eq(h.resets, 2);
	command(&h, 0xff); /* bit 0 set: no line 0 pulse */
	command(&h, 0xf1);
	ck_assert_int_eq(h.resets, 2);
}
END_TEST

START_TEST(reset_through_the_output_port)
{
	struct harness h;
	setup(&h);
	command(&h, 0xd0);
	ck_assert_uint_eq(data(&h), 0x03); /* reset line high (not in reset), A20 on */
	command(&h, 0xd1);
	put(&h, 0x03); /* A20 on and the CPU left running: no reset */
	ck_assert_int_eq(h.resets, 0);
	command(&h, 0xd1);
	put(&h, 0x02); /* bit 0 low holds the CPU in reset */
	ck_assert_int_eq(h.resets, 1);
	command(&h, 0xd0);
	ck_assert_uint_eq(data(&h), 0x02);
	/* The data byte after 0xd1 was the command's, not a keyboard byte: nothing is pending any more. */
	put(&h, 0x00);
	ck_assert_int_eq(h.resets, 1);
}
END_TEST

START_TEST(reset_without_a_handler_and_controller_reset)
{
	struct i8042 kbc;
	i8042_init(&kbc, NULL, NULL);
	uint8_t cmd = 0xfe;
	i8042_cmd_write(&kbc, 0, &cmd, 1); /* no handler: ignored, no crash */
	cmd = 0xd2;
	i8042_cmd_write(&kbc, 0, &cmd, 1);
	uint8_t v = 0x77;
	i8042_data_write(&kbc, 0, &v, 1);
	cmd = 0xd1;
	i8042_cmd_write(&kbc, 0, &cmd, 1); /* left pending */
	i8042_reset(&kbc);
	ck_assert_uint_eq(kbc.queue_count, 0);
	ck_assert_uint_eq(kbc.pending, 0);
	ck_assert_uint_eq(kbc.output_port, 0x03);
}
END_TEST

START_TEST(wide_reads_are_zero_extended)
{
	struct harness h;
	setup(&h);
	command(&h, 0xaa);
	uint32_t v = 0xffffffff;
	i8042_cmd_read(&h.kbc, 0, &v, 4);
	ck_assert_uint_eq(v, STATUS_SYS | STATUS_OBF);
	v = 0xffffffff;
	i8042_data_read(&h.kbc, 0, &v, 4);
	ck_assert_uint_eq(v, 0x55);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("i8042");
	TCase *tc = tcase_create("controller");
	tcase_add_test(tc, status_and_empty_data);
	tcase_add_test(tc, command_byte_round_trip);
	tcase_add_test(tc, self_tests_answer_ok);
	tcase_add_test(tc, echo_commands_and_devices_that_do_not_answer);
	tcase_add_test(tc, queue_is_bounded_and_ordered);
	tcase_add_test(tc, reset_by_pulse_command);
	tcase_add_test(tc, reset_through_the_output_port);
	tcase_add_test(tc, reset_without_a_handler_and_controller_reset);
	tcase_add_test(tc, wide_reads_are_zero_extended);
	suite_add_tcase(s, tc);
	return check_run(s);
}
