#include "devices/uart16550.h"

#include <string.h>
#include <time.h>

/* Register offsets (DLAB = LCR bit 7 switches 0 and 1 to the divisor latch). */
#define REG_RBR_THR 0
#define REG_IER     1
#define REG_IIR_FCR 2
#define REG_LCR     3
#define REG_MCR     4
#define REG_LSR     5
#define REG_MSR     6
#define REG_SCR     7

#define IER_RDI   0x01 /* received data available */
#define IER_THRI  0x02 /* transmitter holding register empty */
#define IER_MASK  0x0f

#define IIR_NONE  0x01
#define IIR_THRI  0x02
#define IIR_RDI   0x04
#define IIR_FIFO  0xc0 /* both FIFO-enabled bits: what identifies a 16550A */

#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02

#define LCR_DLAB  0x80

#define MCR_DTR   0x01
#define MCR_RTS   0x02
#define MCR_OUT1  0x04
#define MCR_OUT2  0x08
#define MCR_LOOP  0x10
#define MCR_MASK  0x1f

#define LSR_DR    0x01
#define LSR_BI    0x10 /* break interrupt: the byte at the FIFO's head was a break */
#define LSR_THRE  0x20
#define LSR_TEMT  0x40

#define MSR_CTS   0x10
#define MSR_DSR   0x20
#define MSR_RI    0x40
#define MSR_DCD   0x80

static uint8_t iir_value(const struct uart16550 *u)
{
	uint8_t fifo = (u->fcr & FCR_ENABLE) ? IIR_FIFO : 0;
	if ((u->ier & IER_RDI) && u->fifo_count)
		return fifo | IIR_RDI;
	if ((u->ier & IER_THRI) && u->thre_pending)
		return fifo | IIR_THRI;
	return fifo | IIR_NONE;
}

static void update_irq(struct uart16550 *u)
{
	int level = !(iir_value(u) & IIR_NONE);
	if (level != u->irq_level) {
		u->irq_level = level;
		irq_line_set(&u->irq, level);
	}
}

static void fifo_push(struct uart16550 *u, uint8_t byte, bool is_break)
{
	if (u->fifo_count == UART_FIFO_SIZE)
		return; /* overrun: the byte is lost, as on hardware */
	unsigned at = (u->fifo_head + u->fifo_count) % UART_FIFO_SIZE;
	u->fifo[at] = byte;
	u->fifo_break[at] = is_break;
	u->fifo_count++;
}

/* Move queued host input into the FIFO while the guest is listening. */
static void pump(struct uart16550 *u)
{
	if (!(u->ier & IER_RDI) || (u->mcr & MCR_LOOP))
		return;
	size_t before = u->queue_count;
	while (u->queue_count && u->fifo_count < UART_FIFO_SIZE) {
		fifo_push(u, u->queue[u->queue_head], u->queue_break[u->queue_head]);
		u->queue_head = (u->queue_head + 1) % UART_INPUT_QUEUE;
		u->queue_count--;
	}
	if (u->queue_count != before)
		pthread_cond_broadcast(&u->input_room);
}

static uint8_t msr_value(const struct uart16550 *u)
{
	if (!(u->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS; /* a terminal is always attached */
	uint8_t msr = 0;
	if (u->mcr & MCR_RTS) msr |= MSR_CTS;
	if (u->mcr & MCR_DTR) msr |= MSR_DSR;
	if (u->mcr & MCR_OUT1) msr |= MSR_RI;
	if (u->mcr & MCR_OUT2) msr |= MSR_DCD;
	return msr;
}

static uint8_t read_reg(struct uart16550 *u, unsigned reg)
{
	switch (reg) {
	case REG_RBR_THR: {
		if (u->lcr & LCR_DLAB)
			return u->dll;
		uint8_t byte = 0;
		if (u->fifo_count) {
			byte = u->fifo[u->fifo_head];
			u->fifo_head = (u->fifo_head + 1) % UART_FIFO_SIZE;
			u->fifo_count--;
		}
		pump(u);
		return byte;
	}
	case REG_IER:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case REG_IIR_FCR: {
		uint8_t iir = iir_value(u);
		if ((iir & 0x0f) == IIR_THRI)
			u->thre_pending = false; /* reading IIR acknowledges the THRE interrupt */
		return iir;
	}
	case REG_LCR: return u->lcr;
	case REG_MCR: return u->mcr;
	case REG_LSR:
		return LSR_THRE | LSR_TEMT | (u->fifo_count ? LSR_DR : 0) |
		       (u->fifo_count && u->fifo_break[u->fifo_head] ? LSR_BI : 0);
	case REG_MSR: return msr_value(u);
	default: return u->scr;
	}
}

static void write_reg(struct uart16550 *u, unsigned reg, uint8_t val)
{
	switch (reg) {
	case REG_RBR_THR:
		if (u->lcr & LCR_DLAB) {
			u->dll = val;
			break;
		}
		if (u->mcr & MCR_LOOP)
			fifo_push(u, val, false);
		else if (u->tx)
			u->tx(u->tx_opaque, val, (u->ier & IER_THRI) != 0);
		u->thre_pending = true; /* sent at once: THR is empty again */
		break;
	case REG_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = val;
			break;
		}
		/* Enabling THRI while THR is empty raises the interrupt: the driver's THRE test relies on it. */
		if ((val & IER_THRI) && !(u->ier & IER_THRI))
			u->thre_pending = true;
		u->ier = val & IER_MASK;
		pump(u);
		break;
	case REG_IIR_FCR:
		u->fcr = val & FCR_ENABLE;
		if (val & FCR_CLEAR_RX)
			u->fifo_head = u->fifo_count = 0;
		pump(u);
		break;
	case REG_LCR: u->lcr = val; break;
	case REG_MCR: u->mcr = val & MCR_MASK; pump(u); break;
	case REG_LSR: break; /* read-only here */
	case REG_MSR: break;
	default: u->scr = val; break;
	}
}

void uart_io_read(void *dev, uint64_t offset, void *data, unsigned size)
{
	struct uart16550 *u = dev;
	uint8_t *out = data;
	pthread_mutex_lock(&u->lock);
	for (unsigned i = 0; i < size; i++)
		out[i] = offset + i < UART_PORTS ? read_reg(u, (unsigned)(offset + i)) : 0xff;
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

void uart_io_write(void *dev, uint64_t offset, const void *data, unsigned size)
{
	struct uart16550 *u = dev;
	const uint8_t *in = data;
	pthread_mutex_lock(&u->lock);
	for (unsigned i = 0; i < size; i++)
		if (offset + i < UART_PORTS)
			write_reg(u, (unsigned)(offset + i), in[i]);
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

/* Under the lock: one entry at the queue's tail (the caller checked for room). */
static void queue_put(struct uart16550 *u, uint8_t byte, bool is_break)
{
	size_t at = (u->queue_head + u->queue_count) % UART_INPUT_QUEUE;
	u->queue[at] = byte;
	u->queue_break[at] = is_break;
	u->queue_count++;
}

bool uart_feed_sysrq(struct uart16550 *u, uint8_t key)
{
	pthread_mutex_lock(&u->lock);
	bool room = u->queue_count + 2 <= UART_INPUT_QUEUE;
	if (room) {
		queue_put(u, 0, true);
		queue_put(u, key, false);
		pump(u);
		update_irq(u);
	}
	pthread_mutex_unlock(&u->lock);
	return room;
}

size_t uart_feed(struct uart16550 *u, const uint8_t *buf, size_t len)
{
	pthread_mutex_lock(&u->lock);
	size_t n = 0;
	while (n < len && u->queue_count < UART_INPUT_QUEUE)
		queue_put(u, buf[n++], false);
	pump(u);
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

void uart_wait_room(struct uart16550 *u, const atomic_bool *stop)
{
	pthread_mutex_lock(&u->lock);
	while (u->queue_count == UART_INPUT_QUEUE && !atomic_load(stop)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&u->input_room, &u->lock, &ts);
	}
	pthread_mutex_unlock(&u->lock);
}

void uart_reset(struct uart16550 *u)
{
	pthread_mutex_lock(&u->lock);
	u->ier = u->lcr = u->mcr = u->scr = u->dlm = u->fcr = 0;
	u->dll = 0x0c; /* 9600 baud */
	u->thre_pending = false;
	u->fifo_head = u->fifo_count = 0;
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

void uart_init(struct uart16550 *u, struct irq_line irq, uart_tx_fn tx, void *tx_opaque)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->input_room, NULL);
	u->irq = irq;
	u->tx = tx;
	u->tx_opaque = tx_opaque;
	uart_reset(u);
}

void uart_destroy(struct uart16550 *u)
{
	pthread_cond_destroy(&u->input_room);
	pthread_mutex_destroy(&u->lock);
}
