/* The user's side of the guest console: guest output to stdout and to the serial log (buffered, flushed
 * at line ends and on a timer so prompts appear), lbvm's own timeline lines into the same log, and a
 * thread forwarding stdin (a terminal in raw mode, or a pipe) into the UART, with Ctrl-A x to stop. */
#ifndef LBVM_CLI_CONSOLE_IO_H
#define LBVM_CLI_CONSOLE_IO_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "common/atomic_file.h"
#include "vmm/machine.h"

#define CONSOLE_OUT_BUF 8192
#define CONSOLE_ESCAPE 0x01 /* Ctrl-A */

struct console_io {
	pthread_mutex_t lock;
	uint8_t buf[CONSOLE_OUT_BUF];
	size_t len;
	bool to_stdout;
	struct atomic_file log;
	bool have_log;

	struct machine *machine;
	pthread_t input_thread;
	bool input_started;
	volatile bool input_stop;
	bool tty_raw;
	struct termios saved_tty;
};

/* Set up output; log_path may be NULL. 0 or -errno (the log's temporary could not be created). */
int console_io_init(struct console_io *io, bool to_stdout, const char *log_path);
/* The machine hook for guest bytes. */
void console_io_guest_bytes(void *opaque, const uint8_t *buf, size_t len);
/* Add one lbvm line to the serial log only (the timeline), after any pending guest bytes. */
void console_io_log_line(struct console_io *io, const char *line);
void console_io_flush(struct console_io *io);
/* Start forwarding stdin to the machine's COM1 (raw mode when stdin is a terminal). */
int console_io_start_input(struct console_io *io, struct machine *m);
/* Stop the input thread, restore the terminal, flush; keep (commit) or drop the log. 0 or -errno. */
int console_io_finish(struct console_io *io, bool keep_log);

#endif
