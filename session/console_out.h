/* Where the guest's console output goes: the serial log (every byte, in order, written as it comes under
 * its final name, so it survives a kill of lbvm) and stdout (a view for the user that may fall behind).
 *
 * The vCPU thread only copies bytes into memory; two writer threads do the I/O. The log is lossless: when
 * its writer falls a whole buffer behind (a stalled disk), the vCPU waits. Stdout is lossy: a reader that
 * stops reading never stops the guest, the watchdog or the log; the bytes it missed are counted and a note
 * says so when it reads again. lbvm's own timeline lines go to the log only, and only between the guest's
 * lines: one made while the guest is half-way through a line (another thread's note, written when it
 * happens to run) waits for that line's newline, at most CONSOLE_NOTE_WAIT_NS, so that no guest line is
 * ever cut in two by lbvm's words. */
#ifndef LBVM_SESSION_CONSOLE_OUT_H
#define LBVM_SESSION_CONSOLE_OUT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_RING_SIZE (1u << 20)
#define CONSOLE_NOTES_MAX 8192                         /* lbvm lines waiting for the guest's newline */
#define CONSOLE_NOTE_WAIT_NS (1000 * INT64_C(1000000)) /* then they break the guest's line */

/* One ring with one writer thread draining it to one file descriptor. */
struct console_ring {
	pthread_mutex_t lock;
	pthread_cond_t changed;     /* data added, data drained, or stop */
	uint8_t *buf;               /* CONSOLE_RING_SIZE bytes */
	uint64_t head;              /* bytes ever added */
	uint64_t tail;              /* bytes ever taken by the writer */
	bool lossy;                 /* drop the oldest bytes instead of waiting for the writer */
	uint64_t dropped;           /* bytes dropped and not yet reported */
	bool stop;
	int fd;
	int write_errno;            /* first write error (the writer then discards) */
	pthread_t thread;
	bool started;
	bool ready;                 /* the writer is running, inside its sandbox */
};

struct console_out {
	struct console_ring log;    /* serial log, lossless */
	struct console_ring view;   /* stdout, lossy */
	bool have_log, have_view;
	pthread_mutex_t note_lock;  /* orders the guest's bytes and lbvm's lines into the log */
	bool guest_mid_line;        /* the guest's last byte in the log was not a newline */
	char notes[CONSOLE_NOTES_MAX]; /* lbvm lines waiting for the guest to end its line */
	size_t notes_len;
	int64_t notes_since;        /* CLOCK_MONOTONIC time the oldest waiting note was made */
	_Atomic int64_t last_output_ns; /* CLOCK_MONOTONIC time of the last guest byte (stall detection) */
};

/* log_fd (may be -1) and view_fd (may be -1) stay the caller's. 0 or -errno. */
int console_out_start(struct console_out *o, int log_fd, int view_fd);
/* Guest bytes: into both rings. Called by the vCPU thread. */
void console_out_guest(struct console_out *o, const uint8_t *buf, size_t len);
/* One lbvm line (a newline is added) into the log only, after the guest bytes before it and at the end of
 * the guest's current line (see above). Any thread. */
void console_out_log_line(struct console_out *o, const char *line);
/* Notes that waited CONSOLE_NOTE_WAIT_NS for a guest that never ended its line (a prompt) go in now, on a
 * line of their own. Called every watchdog tick. */
void console_out_tick(struct console_out *o);
/* Drain both rings and stop the writer threads (a view writer blocked on a reader that stopped reading
 * is abandoned after a short wait: its bytes are the lossy copy). 0, or -errno of the log's first write
 * error. */
int console_out_finish(struct console_out *o);
/* CLOCK_MONOTONIC nanoseconds. */
int64_t console_out_clock_ns(void);

#endif
