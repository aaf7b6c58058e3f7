/* libFuzzer target: the 16550A UART as the guest drives it (port reads and writes of 1..4 bytes at COM1
 * and a little around it, through the I/O bus) interleaved with host input (uart_feed, and
 * uart_feed_sysrq's break and key). ASan/UBSan catch
 * any out-of-range FIFO or queue index; the target checks that the interrupt line only ever carries 0 or
 * 1 and matches what IIR says, that the FIFO and queue stay within their sizes, and that no more bytes are
 * sent to the host than the guest wrote. */
#include <stdlib.h>
#include <string.h>

#include "common/layout.h"
#include "devices/bus.h"
#include "devices/uart16550.h"
#include "tests/fuzz/fuzz_input.h"

#define MAX_OPS 512
#define SPAN    (UART_PORTS + 4) /* a little past the window, to hit the bus edges */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int irq_level;
static size_t sent, written;

static void on_irq(void *opaque, unsigned gsi, int level)
{
	(void)opaque;
	if (gsi != LAYOUT_IRQ_COM1 || (level != 0 && level != 1))
		abort();
	irq_level = level;
}

static void on_tx(void *opaque, uint8_t byte, bool interrupt_driven)
{
	(void)opaque;
	(void)byte;
	(void)interrupt_driven;
	sent++;
}

static void check(const struct uart16550 *u)
{
	if (u->fifo_count > UART_FIFO_SIZE || u->fifo_head >= UART_FIFO_SIZE || u->queue_count > UART_INPUT_QUEUE ||
	    u->queue_head >= UART_INPUT_QUEUE || sent > written)
		abort();
	int want = ((u->ier & 0x01) && u->fifo_count) || ((u->ier & 0x02) && u->thre_pending);
	if (irq_level != want || u->irq_level != want)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uart16550 u;
	struct irq_line line = { .set = on_irq, .gsi = LAYOUT_IRQ_COM1 };
	struct bus io;
	irq_level = 0;
	sent = written = 0;
	uart_init(&u, line, on_tx, NULL);
	bus_init(&io);
	if (bus_add(&io, LAYOUT_PORT_COM1, UART_PORTS, uart_io_read, uart_io_write, &u, "com1"))
		abort();
	struct fuzz_input in = { data, size };
	for (unsigned ops = 0; in.left && ops < MAX_OPS; ops++) {
		uint8_t op = (uint8_t)fuzz_take(&in, 1);
		uint64_t port = LAYOUT_PORT_COM1 + fuzz_take(&in, 1) % SPAN;
		unsigned len = 1u << ((op >> 2) % 3); /* 1, 2 or 4 bytes */
		switch (op & 3) {
		case 0: {
			uint32_t v = (uint32_t)fuzz_take(&in, 4);
			if (bus_write(&io, port, &v, len))
				written += len;
			break;
		}
		case 1: {
			uint32_t v;
			bus_read(&io, port, &v, len);
			break;
		}
		case 2: {
			uint8_t buf[64];
			size_t n = fuzz_take(&in, 1) % sizeof(buf);
			for (size_t i = 0; i < n; i++)
				buf[i] = (uint8_t)fuzz_take(&in, 1);
			if (uart_feed(&u, buf, n) > n)
				abort();
			if (op & 0x80) /* a break and a SysRq key, as the bootstrap's completion sends */
				uart_feed_sysrq(&u, n ? buf[0] : 's');
			break;
		}
		case 3:
			if (op & 0x80)
				uart_reset(&u);
			else { /* fill the input queue to its limit */
				static uint8_t many[UART_INPUT_QUEUE + 1];
				uart_feed(&u, many, sizeof(many));
			}
			break;
		}
		check(&u);
	}
	bus_destroy(&io);
	uart_destroy(&u);
	return 0;
}
