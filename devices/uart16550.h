/* A 16550A UART as Linux's 8250 driver expects it: 8 registers at a base port, a 16-byte receive FIFO,
 * loopback for the driver's probe, THRE and receive-data interrupts, and a received break (LSR.BI) for
 * the serial console's magic SysRq. Transmission is instant: every byte
 * written to THR goes to the host sink at once. Host input waits in a queue and is moved into the FIFO
 * only while the guest has receive interrupts enabled, so piped input is not lost to the driver's FIFO
 * resets during boot. Thread-safe: the vCPU thread does port I/O, an input thread feeds bytes. */
#ifndef LBVM_DEVICES_UART16550_H
#define LBVM_DEVICES_UART16550_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/irq.h"

#define UART_PORTS 8
#define UART_FIFO_SIZE 16
#define UART_INPUT_QUEUE 4096

/* A byte the guest sent. `interrupt_driven`: the THR-empty interrupt was enabled when it was written, as a
 * tty driver's writes are; Linux's kernel console (printk) writes with the UART's interrupts off. */
typedef void (*uart_tx_fn)(void *opaque, uint8_t byte, bool interrupt_driven);

struct uart16550 {
	pthread_mutex_t lock;
	pthread_cond_t input_room; /* signalled when the input queue has space again */
	struct irq_line irq;
	uart_tx_fn tx;
	void *tx_opaque;

	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thre_pending; /* THR-empty interrupt pending, until IIR reports it or THR is written */
	int irq_level;

	uint8_t fifo[UART_FIFO_SIZE]; /* receive FIFO */
	bool fifo_break[UART_FIFO_SIZE]; /* the entry is a break condition (its byte is 0) */
	unsigned fifo_head, fifo_count;

	uint8_t queue[UART_INPUT_QUEUE]; /* host input not yet in the FIFO */
	bool queue_break[UART_INPUT_QUEUE];
	size_t queue_head, queue_count;
};

void uart_init(struct uart16550 *u, struct irq_line irq, uart_tx_fn tx, void *tx_opaque);
void uart_destroy(struct uart16550 *u);
void uart_reset(struct uart16550 *u);
/* Bus handlers for the 8-port window (offset 0..7). */
void uart_io_read(void *dev, uint64_t offset, void *data, unsigned size);
void uart_io_write(void *dev, uint64_t offset, const void *data, unsigned size);
/* Queue host input; returns how many bytes were accepted (0 when the queue is full). */
size_t uart_feed(struct uart16550 *u, const uint8_t *buf, size_t len);
/* Queue a break condition followed by KEY: on Linux's serial console that is the magic SysRq key KEY
 * (the line reads as a 0 byte with LSR's break bit). false when the queue has no room for both. */
bool uart_feed_sysrq(struct uart16550 *u, uint8_t key);
/* Block until the input queue has room or *stop becomes true (checked every 100 ms). */
void uart_wait_room(struct uart16550 *u, const atomic_bool *stop);

#endif
