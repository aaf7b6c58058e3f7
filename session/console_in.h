/* The user's keyboard side of the guest console: a thread forwarding stdin (a terminal in raw mode, or a
 * pipe) into COM1. On a terminal, Ctrl-A x stops the run and Ctrl-A Ctrl-A sends one Ctrl-A. */
#ifndef LBVM_SESSION_CONSOLE_IN_H
#define LBVM_SESSION_CONSOLE_IN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <termios.h>

#include "vmm/machine.h"

#define CONSOLE_ESCAPE 0x01 /* Ctrl-A */

struct console_in {
	struct machine *machine;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	bool tty_raw;
	struct termios saved_tty;
};

/* Start forwarding stdin to the machine's COM1 (raw mode when stdin is a terminal). 0 or -errno. */
int console_in_start(struct console_in *in, struct machine *m);
/* Stop the thread (it notices within 100 ms) and restore the terminal. */
void console_in_stop(struct console_in *in);

#endif
