/* The keyboard side of the guest console (session/console_in.c) with a real pipe or pseudo-terminal as
 * stdin and a real 16550A behind it (no KVM): piped bytes reach the UART in order and unchanged, even more
 * than its input queue holds; stopping is prompt while the thread waits for the guest to take input; end of
 * input stops nothing; on a terminal, Ctrl-A x stops the run, Ctrl-A Ctrl-A sends one Ctrl-A, Ctrl-A and
 * another key sends both, and the terminal's modes come back at the end. */
#include "check_run.h"
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "session/console_in.h"

#define UART_RBR 0
#define UART_IER 1
#define UART_LSR 5
#define LSR_DR   0x01
#define IER_RDI  0x01
#define WAIT_MS  5000

static void no_irq(void *opaque, unsigned gsi, int level)
{
	(void)opaque;
	(void)gsi;
	(void)level;
}

static struct kvm_run run_page;

/* A machine with a UART and the end state, nothing else: what console_in touches. */
static void bare_machine(struct machine *m)
{
	memset(m, 0, sizeof(*m));
	struct irq_line line = { .set = no_irq, .gsi = 4 };
	uart_init(&m->com1, line, NULL, NULL);
	m->kvm.run = &run_page;
	m->kvm.vcpu_fd = -1;
	m->vcpu_thread = pthread_self();
	pthread_mutex_init(&m->end_lock, NULL);
	atomic_init(&m->end, MACHINE_RUNNING);
	/* machine_stop from the input thread kicks the vCPU thread (this one): let the kick through harmlessly. */
	signal(MACHINE_KICK_SIGNAL, SIG_IGN);
}

static void free_machine(struct machine *m)
{
	uart_destroy(&m->com1);
	pthread_mutex_destroy(&m->end_lock);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Receive up to max bytes as the guest's driver would (receive interrupts on, RBR while LSR.DR), waiting
 * up to WAIT_MS for them to arrive; returns how many. */
static size_t guest_reads(struct machine *m, uint8_t *buf, size_t max)
{
	uint8_t ier = IER_RDI;
	uart_io_write(&m->com1, UART_IER, &ier, 1);
	size_t n = 0;
	int64_t until = now_ms() + WAIT_MS;
	while (n < max && now_ms() < until) {
		uint8_t lsr;
		uart_io_read(&m->com1, UART_LSR, &lsr, 1);
		if (lsr & LSR_DR)
			uart_io_read(&m->com1, UART_RBR, &buf[n++], 1);
		else
			usleep(1000);
	}
	return n;
}

/* stdin_from FD: make FD this process's stdin (each test runs in its own process) */
static void stdin_from(int fd)
{
	ck_assert_int_eq(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
}

START_TEST(pipe_bytes_reach_the_uart_in_order)
{
	struct machine m;
	bare_machine(&m);
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	stdin_from(p[0]);
	struct console_in in;
	ck_assert_int_eq(console_in_start(&in, &m), 0);
	ck_assert(!in.tty_raw); /* a pipe is not put in raw mode, and Ctrl-A means nothing there */
	const char text[] = "echo \x01x hello\n";
	ck_assert_int_eq(write(p[1], text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	uint8_t got[64];
	size_t n = guest_reads(&m, got, sizeof(text) - 1);
	ck_assert_uint_eq(n, sizeof(text) - 1);
	ck_assert_mem_eq(got, text, n);
	ck_assert_int_eq(machine_end_reason(&m), MACHINE_RUNNING);
	/* End of input: the thread ends by itself, the run goes on. */
	close(p[1]);
	usleep(300000);
	ck_assert_int_eq(machine_end_reason(&m), MACHINE_RUNNING);
	console_in_stop(&in);
	free_machine(&m);
}
END_TEST

START_TEST(more_than_the_queue_holds_and_a_prompt_stop)
{
	struct machine m;
	bare_machine(&m);
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	stdin_from(p[0]);
	struct console_in in;
	ck_assert_int_eq(console_in_start(&in, &m), 0);
	/* Twice the UART's input queue: the thread must wait for the guest to take bytes, losing none. */
	size_t total = 2 * UART_INPUT_QUEUE;
	uint8_t *data = malloc(total), *got = malloc(total);
	for (size_t i = 0; i < total; i++)
		data[i] = (uint8_t)(i * 13 + 1);
	ck_assert_int_eq(write(p[1], data, total), (ssize_t)total);
	ck_assert_uint_eq(guest_reads(&m, got, total), total);
	ck_assert_mem_eq(got, data, total);
	/* Now the guest stops taking input while more comes: the thread waits for room; stop must not. */
	ck_assert_int_eq(write(p[1], data, total), (ssize_t)total);
	usleep(300000);
	int64_t t0 = now_ms();
	console_in_stop(&in);
	ck_assert_int_lt(now_ms() - t0, 2000); /* it checks its stop flag every 100 ms */
	free(data);
	free(got);
	close(p[1]);
	free_machine(&m);
}
END_TEST

START_TEST(terminal_escapes_and_modes)
{
	struct machine m;
	bare_machine(&m);
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(grantpt(master), 0);
	ck_assert_int_eq(unlockpt(master), 0);
	int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	ck_assert_int_ge(slave, 0);
	struct termios before;
	ck_assert_int_eq(tcgetattr(slave, &before), 0);
	stdin_from(slave);
	struct console_in in;
	ck_assert_int_eq(console_in_start(&in, &m), 0);
	ck_assert(in.tty_raw);
	struct termios raw;
	ck_assert_int_eq(tcgetattr(STDIN_FILENO, &raw), 0);
	ck_assert_uint_eq(raw.c_lflag & (ICANON | ECHO | ISIG), 0); /* raw: Ctrl-C is a byte for the guest */
	ck_assert_uint_ne(raw.c_oflag & OPOST, 0);                  /* lbvm's own lines still start at column 0 */

	/* a, Ctrl-A Ctrl-A (one Ctrl-A), b, Ctrl-A c (both), Ctrl-C (a byte, no signal) */
	const char keys[] = "a\x01\x01" "b\x01" "c\x03";
	const uint8_t want[] = { 'a', 0x01, 'b', 0x01, 'c', 0x03 };
	ck_assert_int_eq(write(master, keys, sizeof(keys) - 1), (ssize_t)sizeof(keys) - 1);
	uint8_t got[16];
	ck_assert_uint_eq(guest_reads(&m, got, sizeof(want)), sizeof(want));
	ck_assert_mem_eq(got, want, sizeof(want));
	ck_assert_int_eq(machine_end_reason(&m), MACHINE_RUNNING);

	/* Ctrl-A x: the run stops, and the x is not typed into the guest. */
	ck_assert_int_eq(write(master, "\x01x", 2), 2);
	int64_t until = now_ms() + WAIT_MS;
	while (machine_end_reason(&m) == MACHINE_RUNNING && now_ms() < until)
		usleep(1000);
	ck_assert_int_eq(machine_end_reason(&m), MACHINE_USER_STOP);
	ck_assert_str_eq(machine_end_detail(&m), "Ctrl-A x");
	uint8_t after;
	ck_assert_uint_eq(guest_reads(&m, &after, 1), 0);

	console_in_stop(&in);
	struct termios restored;
	ck_assert_int_eq(tcgetattr(STDIN_FILENO, &restored), 0);
	ck_assert_uint_eq(restored.c_lflag, before.c_lflag);
	ck_assert_uint_eq(restored.c_iflag, before.c_iflag);
	ck_assert_uint_eq(restored.c_oflag, before.c_oflag);
	close(master);
	free_machine(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("console_in");
	TCase *tc = tcase_create("stdin");
	tcase_add_test(tc, pipe_bytes_reach_the_uart_in_order);
	tcase_add_test(tc, more_than_the_queue_holds_and_a_prompt_stop);
	tcase_add_test(tc, terminal_escapes_and_modes);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return check_run(s);
}
