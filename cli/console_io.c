#include "cli/console_io.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#define INPUT_POLL_MS 100
#define LOG_MODE 0644

static void write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* a closed stdout must not stop the guest */
		buf += n;
		len -= (size_t)n;
	}
}

static void flush_locked(struct console_io *io)
{
	if (!io->len)
		return;
	if (io->to_stdout)
		write_all(STDOUT_FILENO, io->buf, io->len);
	if (io->have_log)
		write_all(io->log.fd, io->buf, io->len);
	io->len = 0;
}

int console_io_init(struct console_io *io, bool to_stdout, const char *log_path)
{
	memset(io, 0, sizeof(*io));
	pthread_mutex_init(&io->lock, NULL);
	io->to_stdout = to_stdout;
	io->log.fd = -1;
	if (log_path) {
		int rc = atomic_file_open(&io->log, log_path);
		if (rc < 0)
			return rc;
		io->have_log = true;
	}
	return 0;
}

void console_io_guest_bytes(void *opaque, const uint8_t *buf, size_t len)
{
	struct console_io *io = opaque;
	pthread_mutex_lock(&io->lock);
	for (size_t i = 0; i < len; i++) {
		if (io->len == sizeof(io->buf))
			flush_locked(io);
		io->buf[io->len++] = buf[i];
		if (buf[i] == '\n')
			flush_locked(io);
	}
	pthread_mutex_unlock(&io->lock);
}

void console_io_log_line(struct console_io *io, const char *line)
{
	pthread_mutex_lock(&io->lock);
	flush_locked(io);
	if (io->have_log) {
		write_all(io->log.fd, (const uint8_t *)line, strlen(line));
		write_all(io->log.fd, (const uint8_t *)"\n", 1);
	}
	pthread_mutex_unlock(&io->lock);
}

void console_io_flush(struct console_io *io)
{
	pthread_mutex_lock(&io->lock);
	flush_locked(io);
	pthread_mutex_unlock(&io->lock);
}

static void feed(struct console_io *io, const uint8_t *buf, size_t len)
{
	while (len && !io->input_stop) {
		size_t n = uart_feed(&io->machine->com1, buf, len);
		buf += n;
		len -= n;
		if (len)
			uart_wait_room(&io->machine->com1, &io->input_stop);
	}
}

/* On a terminal, Ctrl-A x stops the run and Ctrl-A Ctrl-A sends one Ctrl-A; anything else passes. */
static void feed_tty(struct console_io *io, const uint8_t *buf, size_t len, bool *escape)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = buf[i];
		if (*escape) {
			*escape = false;
			if (c == 'x' || c == 'X') {
				machine_stop(io->machine, MACHINE_USER_STOP, "Ctrl-A x");
				return;
			}
			if (c != CONSOLE_ESCAPE) {
				uint8_t esc = CONSOLE_ESCAPE;
				feed(io, &esc, 1);
			}
			feed(io, &c, 1);
		} else if (c == CONSOLE_ESCAPE) {
			*escape = true;
		} else {
			feed(io, &c, 1);
		}
	}
}

static void *input_main(void *opaque)
{
	struct console_io *io = opaque;
	bool escape = false;
	uint8_t buf[512];
	while (!io->input_stop) {
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
		if (io->tty_raw)
			feed_tty(io, buf, (size_t)n, &escape);
		else
			feed(io, buf, (size_t)n);
	}
	return NULL;
}

int console_io_start_input(struct console_io *io, struct machine *m)
{
	io->machine = m;
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &io->saved_tty) == 0) {
		struct termios raw = io->saved_tty;
		cfmakeraw(&raw);
		raw.c_oflag |= OPOST | ONLCR; /* lbvm's own messages still start at column 0 */
		if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
			io->tty_raw = true;
	}
	int rc = pthread_create(&io->input_thread, NULL, input_main, io);
	if (rc)
		return -rc;
	io->input_started = true;
	return 0;
}

int console_io_finish(struct console_io *io, bool keep_log)
{
	if (io->input_started) {
		io->input_stop = true;
		pthread_join(io->input_thread, NULL);
		io->input_started = false;
	}
	if (io->tty_raw) {
		tcsetattr(STDIN_FILENO, TCSANOW, &io->saved_tty);
		io->tty_raw = false;
	}
	console_io_flush(io);
	int rc = 0;
	if (io->have_log) {
		if (keep_log)
			rc = atomic_file_commit(&io->log, LOG_MODE);
		else
			atomic_file_abort(&io->log);
		io->have_log = false;
	}
	pthread_mutex_destroy(&io->lock);
	return rc;
}
