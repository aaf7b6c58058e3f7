#include "session/console_in.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "common/sandbox.h"

#define INPUT_POLL_MS 100

static void feed(struct console_in *in, const uint8_t *buf, size_t len)
{
	while (len && !atomic_load(&in->stop)) {
		size_t n = uart_feed(&in->machine->com1, buf, len);
		buf += n;
		len -= n;
		if (len)
			uart_wait_room(&in->machine->com1, &in->stop);
	}
}

static void feed_tty(struct console_in *in, const uint8_t *buf, size_t len, bool *escape)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = buf[i];
		if (*escape) {
			*escape = false;
			if (c == 'x' || c == 'X') {
				machine_stop(in->machine, MACHINE_USER_STOP, "Ctrl-A x");
				return;
			}
			if (c != CONSOLE_ESCAPE) {
				uint8_t esc = CONSOLE_ESCAPE;
				feed(in, &esc, 1);
			}
			feed(in, &c, 1);
		} else if (c == CONSOLE_ESCAPE) {
			*escape = true;
		} else {
			feed(in, &c, 1);
		}
	}
}

static void *input_main(void *opaque)
{
	struct console_in *in = opaque;
	/* The VM's descriptor: a byte fed to the UART may raise its interrupt line (KVM_IRQ_LINE). */
	struct sandbox_fds fds = { .read_fds = { STDIN_FILENO }, .nread = 1, .vcpu_fd = -1,
				   .vm_fd = in->machine->kvm.vm_fd };
	struct error err = { 0 };
	if (sandbox_enter(SANDBOX_CONSOLE_IN, &fds, &err) < 0) {
		machine_stop(in->machine, MACHINE_HOST_ERROR, err.msg);
		return NULL;
	}
	bool escape = false;
	uint8_t buf[512];
	while (!atomic_load(&in->stop)) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		int ready = poll(&pfd, 1, INPUT_POLL_MS);
		if (ready < 0 && errno != EINTR)
			break;
		if (ready <= 0)
			continue;
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break; /* end of input: the guest runs on without it */
		if (in->tty_raw)
			feed_tty(in, buf, (size_t)n, &escape);
		else
			feed(in, buf, (size_t)n);
	}
	return NULL;
}

int console_in_start(struct console_in *in, struct machine *m)
{
	memset(in, 0, sizeof(*in));
	in->machine = m;
	atomic_init(&in->stop, false);
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &in->saved_tty) == 0) {
		struct termios raw = in->saved_tty;
		cfmakeraw(&raw);
		raw.c_oflag |= OPOST | ONLCR; /* lbvm's own messages still start at column 0 */
		if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
			in->tty_raw = true;
	}
	int rc = pthread_create(&in->thread, NULL, input_main, in);
	if (rc) {
		console_in_stop(in);
		return -rc;
	}
	in->started = true;
	return 0;
}

void console_in_stop(struct console_in *in)
{
	if (in->started) {
		atomic_store(&in->stop, true);
		pthread_join(in->thread, NULL);
		in->started = false;
	}
	if (in->tty_raw) {
		tcsetattr(STDIN_FILENO, TCSANOW, &in->saved_tty);
		in->tty_raw = false;
	}
}
