/* The 16550A as Linux's 8250 driver probes and uses it: scratch register, IER, loopback (MCR 0x10 → MSR
 * 0x90 pattern), FIFO detection through IIR, the THRE interrupt test, transmit, receive and its IRQ, and
 * which writes were polled (the kernel console's) and which interrupt-driven (a tty's). */
#include "check_run.h"
#include <check.h>
#include <string.h>

#include "devices/uart16550.h"

struct harness {
	struct uart16550 u;
	int level;
	int raises;
	uint8_t sent[64];
	bool sent_interrupt_driven[64];
	size_t nsent;
};

static void record_irq(void *opaque, unsigned gsi, int level)
{
	struct harness *h = opaque;
	ck_assert_uint_eq(gsi, 4);
	if (level && !h->level)
		h->raises++;
	h->level = level;
}

static void record_tx(void *opaque, uint8_t byte, bool interrupt_driven)
{
	struct harness *h = opaque;
	if (h->nsent < sizeof(h->sent)) {
		h->sent_interrupt_driven[h->nsent] = interrupt_driven;
		h->sent[h->nsent++] = byte;
	}
}

static void setup(struct harness *h)
{
	memset(h, 0, sizeof(*h));
	struct irq_line line = { .set = record_irq, .opaque = h, .gsi = 4 };
	uart_init(&h->u, line, record_tx, h);
}

static uint8_t in(struct harness *h, unsigned reg)
{
	uint8_t v;
	uart_io_read(&h->u, reg, &v, 1);
	return v;
}

static void out(struct harness *h, unsigned reg, uint8_t v)
{
	uart_io_write(&h->u, reg, &v, 1);
}

START_TEST(probe_as_8250)
{
	struct harness h;
	setup(&h);
	/* autoconfig(): the scratch register holds what is written */
	out(&h, 7, 0xa5);
	ck_assert_uint_eq(in(&h, 7), 0xa5);
	out(&h, 7, 0x5a);
	ck_assert_uint_eq(in(&h, 7), 0x5a);
	/* IER: clear reads 0, 0x0f reads 0x0f (the upper nibble is not there) */
	out(&h, 1, 0);
	ck_assert_uint_eq(in(&h, 1) & 0x0f, 0);
	out(&h, 1, 0xff);
	ck_assert_uint_eq(in(&h, 1), 0x0f);
	out(&h, 1, 0);
	/* loopback: MCR = LOOP | OUT2 | RTS → MSR status bits 0x90 (DCD | CTS) */
	out(&h, 4, 0x10 | 0x0a);
	ck_assert_uint_eq(in(&h, 6) & 0xf0, 0x90);
	out(&h, 4, 0);
	/* FIFO: FCR enable → IIR bits 7:6 both set means a 16550A */
	out(&h, 2, 0x01);
	ck_assert_uint_eq(in(&h, 2) & 0xc0, 0xc0);
	out(&h, 2, 0);
	ck_assert_uint_eq(in(&h, 2) & 0xc0, 0);
	/* divisor latch behind DLAB */
	out(&h, 3, 0x80);
	out(&h, 0, 0x01);
	out(&h, 1, 0x00);
	ck_assert_uint_eq(in(&h, 0), 0x01);
	out(&h, 3, 0x03);
	ck_assert_uint_eq(in(&h, 3), 0x03);
	uart_destroy(&h.u);
}
END_TEST

START_TEST(loopback_echo)
{
	struct harness h;
	setup(&h);
	out(&h, 2, 0x07);
	out(&h, 4, 0x10);
	out(&h, 0, 'Z');
	ck_assert_uint_eq(h.nsent, 0); /* looped back, not sent */
	ck_assert_uint_eq(in(&h, 5) & 0x01, 0x01);
	ck_assert_uint_eq(in(&h, 0), 'Z');
	ck_assert_uint_eq(in(&h, 5) & 0x01, 0);
	uart_destroy(&h.u);
}
END_TEST

START_TEST(thre_interrupt_and_transmit)
{
	struct harness h;
	setup(&h);
	ck_assert_uint_eq(in(&h, 5) & 0x60, 0x60); /* THRE | TEMT */
	ck_assert_uint_eq(in(&h, 2) & 0x0f, 0x01); /* no interrupt */
	/* serial8250's THRE test: enabling THRI with THR empty raises it; reading IIR acknowledges */
	out(&h, 1, 0x02);
	ck_assert_int_eq(h.level, 1);
	ck_assert_uint_eq(in(&h, 2) & 0x0f, 0x02);
	ck_assert_int_eq(h.level, 0);
	ck_assert_uint_eq(in(&h, 2) & 0x0f, 0x01);
	/* each byte written goes out at once and re-raises THRE */
	out(&h, 0, 'o');
	out(&h, 0, 'k');
	ck_assert_uint_eq(h.nsent, 2);
	ck_assert_mem_eq(h.sent, "ok", 2);
	ck_assert_int_eq(h.level, 1);
	out(&h, 1, 0);
	ck_assert_int_eq(h.level, 0);
	uart_destroy(&h.u);
}
END_TEST

START_TEST(receive_with_interrupts)
{
	struct harness h;
	setup(&h);
	/* input waits in the queue while the guest has receive interrupts off */
	ck_assert_uint_eq(uart_feed(&h.u, (const uint8_t *)"hello world, more than sixteen bytes", 36), 36);
	ck_assert_uint_eq(in(&h, 5) & 0x01, 0);
	ck_assert_int_eq(h.level, 0);
	out(&h, 2, 0x07); /* FIFO on, cleared */
	out(&h, 1, 0x01); /* RDI */
	ck_assert_int_eq(h.level, 1);
	ck_assert_uint_eq(in(&h, 2) & 0x0f, 0x04);
	char got[40] = { 0 };
	for (int i = 0; i < 36; i++) {
		ck_assert_uint_eq(in(&h, 5) & 0x01, 0x01);
		got[i] = (char)in(&h, 0);
	}
	ck_assert_str_eq(got, "hello world, more than sixteen bytes");
	ck_assert_uint_eq(in(&h, 5) & 0x01, 0);
	ck_assert_int_eq(h.level, 0);
	/* a full queue refuses more instead of dropping bytes */
	static uint8_t big[UART_INPUT_QUEUE + 100];
	out(&h, 1, 0);
	ck_assert_uint_eq(uart_feed(&h.u, big, sizeof(big)), UART_INPUT_QUEUE);
	uart_destroy(&h.u);
}
END_TEST

/* A magic SysRq key for Linux's serial console: a break (a 0 byte with LSR's break bit, DR too, as the
 * 8250 driver reads it), then the key as an ordinary byte; the interrupt is raised for them. */
START_TEST(sysrq_is_a_break_then_the_key)
{
	struct harness h;
	setup(&h);
	out(&h, 2, 0x07);
	out(&h, 1, 0x01);
	ck_assert(uart_feed_sysrq(&h.u, 's'));
	ck_assert_int_eq(h.level, 1);
	ck_assert_uint_eq(in(&h, 5) & 0x11, 0x11); /* DR | BI */
	ck_assert_uint_eq(in(&h, 0), 0);
	ck_assert_uint_eq(in(&h, 5) & 0x11, 0x01); /* the key: no break */
	ck_assert_uint_eq(in(&h, 0), 's');
	ck_assert_uint_eq(in(&h, 5) & 0x11, 0);
	ck_assert_int_eq(h.level, 0);
	/* no room for both: nothing is queued */
	static uint8_t big[UART_INPUT_QUEUE];
	out(&h, 1, 0);
	ck_assert_uint_eq(uart_feed(&h.u, big, UART_INPUT_QUEUE - 1), UART_INPUT_QUEUE - 1);
	ck_assert(!uart_feed_sysrq(&h.u, 's'));
	ck_assert_uint_eq(h.u.queue_count, UART_INPUT_QUEUE - 1);
	uart_destroy(&h.u);
}
END_TEST

START_TEST(wide_and_out_of_range_accesses)
{
	struct harness h;
	setup(&h);
	uint32_t v = 0;
	uart_io_read(&h.u, 6, &v, 4); /* MSR, SCR and two bytes past the window */
	ck_assert_uint_eq(v >> 16, 0xffff);
	uart_io_write(&h.u, 7, &v, 4);
	uart_destroy(&h.u);
}
END_TEST

START_TEST(polled_and_interrupt_driven_writes)
{
	struct harness h;
	setup(&h);
	/* Linux's console write: IER cleared, THR written while polling LSR */
	out(&h, 1, 0x00);
	out(&h, 0, 'k');
	/* a tty write: THRI enabled, the bytes written from the interrupt handler */
	out(&h, 1, 0x02);
	out(&h, 0, 't');
	/* receive interrupts alone do not make a write interrupt-driven */
	out(&h, 1, 0x01);
	out(&h, 0, 'r');
	ck_assert_uint_eq(h.nsent, 3);
	ck_assert(!h.sent_interrupt_driven[0]);
	ck_assert(h.sent_interrupt_driven[1]);
	ck_assert(!h.sent_interrupt_driven[2]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("uart16550");
	TCase *tc = tcase_create("8250");
	tcase_add_test(tc, probe_as_8250);
	tcase_add_test(tc, loopback_echo);
	tcase_add_test(tc, thre_interrupt_and_transmit);
	tcase_add_test(tc, receive_with_interrupts);
	tcase_add_test(tc, sysrq_is_a_break_then_the_key);
	tcase_add_test(tc, wide_and_out_of_range_accesses);
	tcase_add_test(tc, polled_and_interrupt_driven_writes);
	suite_add_tcase(s, tc);
	return check_run(s);
}
