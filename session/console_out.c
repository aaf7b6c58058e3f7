#include "session/console_out.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/sandbox.h"

#define WRITE_CHUNK  (64u * 1024u)
#define WRITER_POLL_NS 20000000L /* 20 ms: how stale the serial log and stdout may be */
#define VIEW_GIVE_UP_NS (2 * INT64_C(1000000000)) /* a view making no progress this long at the end is left */

int64_t console_out_clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Write all of buf; 0 or errno. The view's writer may be cancelled only while it waits in write(). */
static int write_all(struct console_ring *r, const uint8_t *buf, size_t len)
{
	while (len) {
		if (r->lossy)
			pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
		ssize_t n = write(r->fd, buf, len);
		int e = errno;
		if (r->lossy)
			pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		if (n < 0 && e == EINTR)
			continue;
		if (n < 0)
			return e;
		if (n == 0)
			return EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void *ring_writer(void *opaque)
{
	struct console_ring *r = opaque;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	/* Confined to writing its one descriptor; a writer that cannot be confined writes nothing. */
	struct sandbox_fds fds = { .write_fds = { r->fd }, .nwrite = 1, .vcpu_fd = -1, .vm_fd = -1 };
	struct error err = { 0 };
	int confined = sandbox_enter(SANDBOX_CONSOLE_OUT, &fds, &err);
	pthread_mutex_lock(&r->lock);
	if (confined < 0)
		r->write_errno = EPERM;
	r->ready = true; /* console_out_start waits for this: no byte arrives before the writer can write */
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	uint8_t *chunk = malloc(WRITE_CHUNK);
	/* A cancelled view writer (blocked on a reader that stopped) must not leak its chunk. */
	pthread_cleanup_push(free, chunk);
	pthread_mutex_lock(&r->lock);
	for (;;) {
		/* The writer looks for bytes every WRITER_POLL_NS instead of being woken for each one: see
		 * ring_put. */
		while (r->tail == r->head && !r->dropped && !r->stop) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += WRITER_POLL_NS;
			if (until.tv_nsec >= 1000000000) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&r->changed, &r->lock, &until);
		}
		if (r->tail == r->head && !r->dropped && r->stop)
			break;
		char note[96];
		size_t note_len = 0;
		if (r->dropped) {
			note_len = (size_t)snprintf(note, sizeof(note),
						    "\r\n[lbvm: %" PRIu64 " bytes not shown here: stdout was not read]\r\n",
						    r->dropped);
			r->dropped = 0;
		}
		uint64_t avail = r->head - r->tail;
		size_t n = avail > WRITE_CHUNK ? WRITE_CHUNK : (size_t)avail;
		size_t at = (size_t)(r->tail % CONSOLE_RING_SIZE);
		size_t first = n < CONSOLE_RING_SIZE - at ? n : CONSOLE_RING_SIZE - at;
		if (chunk) {
			memcpy(chunk, r->buf + at, first);
			memcpy(chunk + first, r->buf, n - first);
		}
		uint64_t taken_at = r->tail;
		pthread_mutex_unlock(&r->lock);
		int e = 0;
		if (!chunk)
			e = ENOMEM;
		else if (!r->write_errno) {
			if (note_len)
				e = write_all(r, (const uint8_t *)note, note_len);
			if (!e)
				e = write_all(r, chunk, n);
		}
		pthread_mutex_lock(&r->lock);
		if (e && !r->write_errno)
			r->write_errno = e;
		/* A lossy ring may have dropped some or all of what was just written while the write ran: those
		 * bytes were shown after all, so they are not missed ones. */
		uint64_t end = taken_at + n;
		uint64_t shown = (r->tail < end ? r->tail : end) - taken_at;
		r->dropped -= shown < r->dropped ? shown : r->dropped;
		if (r->tail < end)
			r->tail = end;
		pthread_cond_broadcast(&r->changed);
	}
	pthread_mutex_unlock(&r->lock);
	pthread_cleanup_pop(1);
	return NULL;
}

static int ring_start(struct console_ring *r, int fd, bool lossy)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->lossy = lossy;
	r->buf = malloc(CONSOLE_RING_SIZE);
	if (!r->buf)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->changed, NULL);
	int rc = pthread_create(&r->thread, NULL, ring_writer, r);
	if (rc) {
		free(r->buf);
		return -rc;
	}
	r->started = true;
	pthread_mutex_lock(&r->lock);
	while (!r->ready)
		pthread_cond_wait(&r->changed, &r->lock);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static void ring_put(struct console_ring *r, const uint8_t *buf, size_t len)
{
	pthread_mutex_lock(&r->lock);
	while (len) {
		uint64_t used = r->head - r->tail;
		if (used == CONSOLE_RING_SIZE) {
			if (r->lossy) {
				/* Forget the oldest bytes: the view shows the newest. */
				size_t drop = len < CONSOLE_RING_SIZE ? len : CONSOLE_RING_SIZE;
				r->tail += drop;
				r->dropped += drop;
				used -= drop;
			} else {
				pthread_cond_broadcast(&r->changed); /* full: the writer must drain it now */
				pthread_cond_wait(&r->changed, &r->lock);
				continue;
			}
		}
		size_t room = CONSOLE_RING_SIZE - (size_t)used;
		size_t n = len < room ? len : room;
		size_t at = (size_t)(r->head % CONSOLE_RING_SIZE);
		size_t first = n < CONSOLE_RING_SIZE - at ? n : CONSOLE_RING_SIZE - at;
		memcpy(r->buf + at, buf, first);
		memcpy(r->buf, buf + first, n - first);
		r->head += n;
		buf += n;
		len -= n;
	}
	/* The writer is woken only when the ring is half full (it otherwise looks every WRITER_POLL_NS):
	 * a wake-up per guest byte made a context switch or an IPI per byte on the vCPU's host, thousands a
	 * second while a kernel prints, and nested guests crashed under that (docs/testing.md). */
	if (r->head - r->tail >= CONSOLE_RING_SIZE / 2)
		pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
}

/* Let the writer drain and stop. A lossy ring that makes no progress for VIEW_GIVE_UP_NS is cancelled
 * (its writer can only be waiting in write()). Returns the ring's first write error as -errno. */
static int ring_finish(struct console_ring *r)
{
	if (!r->started)
		return 0;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_broadcast(&r->changed);
	bool cancel = false;
	if (r->lossy) {
		uint64_t last_tail = r->tail;
		int64_t since = console_out_clock_ns();
		while (r->tail != r->head || r->dropped) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 100000000;
			if (until.tv_nsec >= 1000000000) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&r->changed, &r->lock, &until);
			if (r->tail != last_tail) {
				last_tail = r->tail;
				since = console_out_clock_ns();
			} else if (console_out_clock_ns() - since > VIEW_GIVE_UP_NS) {
				cancel = true;
				break;
			}
		}
	}
	pthread_mutex_unlock(&r->lock);
	if (cancel)
		pthread_cancel(r->thread);
	pthread_join(r->thread, NULL);
	r->started = false;
	int e = r->write_errno;
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->changed);
	free(r->buf);
	r->buf = NULL;
	return e ? -e : 0;
}

int console_out_start(struct console_out *o, int log_fd, int view_fd)
{
	memset(o, 0, sizeof(*o));
	pthread_mutex_init(&o->note_lock, NULL);
	atomic_store(&o->last_output_ns, console_out_clock_ns());
	int rc;
	if (log_fd >= 0) {
		if ((rc = ring_start(&o->log, log_fd, false)) < 0)
			return rc;
		o->have_log = true;
	}
	if (view_fd >= 0) {
		if ((rc = ring_start(&o->view, view_fd, true)) < 0) {
			console_out_finish(o);
			return rc;
		}
		o->have_view = true;
	}
	return 0;
}

/* Under note_lock: the waiting notes into the log. With break_line, a guest line still open is ended
 * first (the notes waited long enough for it). */
static void put_notes(struct console_out *o, bool break_line)
{
	if (!o->notes_len)
		return;
	if (break_line && o->guest_mid_line)
		ring_put(&o->log, (const uint8_t *)"\n", 1);
	ring_put(&o->log, (const uint8_t *)o->notes, o->notes_len);
	o->notes_len = 0;
	o->notes_since = 0;
	o->guest_mid_line = false;
}

static bool notes_waited_enough(const struct console_out *o, int64_t now)
{
	return o->notes_len && now - o->notes_since >= CONSOLE_NOTE_WAIT_NS;
}

static void log_guest(struct console_out *o, const uint8_t *buf, size_t len, int64_t now)
{
	pthread_mutex_lock(&o->note_lock);
	const uint8_t *nl = o->notes_len ? memchr(buf, '\n', len) : NULL;
	if (nl) {
		/* the guest's line ends here: the waiting notes follow it */
		size_t upto = (size_t)(nl - buf) + 1;
		ring_put(&o->log, buf, upto);
		o->guest_mid_line = false;
		put_notes(o, false);
		buf += upto;
		len -= upto;
	}
	if (len) {
		ring_put(&o->log, buf, len);
		o->guest_mid_line = buf[len - 1] != '\n';
	}
	if (notes_waited_enough(o, now))
		put_notes(o, true);
	pthread_mutex_unlock(&o->note_lock);
}

void console_out_guest(struct console_out *o, const uint8_t *buf, size_t len)
{
	int64_t now = console_out_clock_ns();
	atomic_store(&o->last_output_ns, now);
	if (o->have_log && len)
		log_guest(o, buf, len, now);
	if (o->have_view)
		ring_put(&o->view, buf, len);
}

void console_out_log_line(struct console_out *o, const char *line)
{
	if (!o->have_log)
		return;
	size_t len = strlen(line);
	pthread_mutex_lock(&o->note_lock);
	if (!o->guest_mid_line && !o->notes_len) {
		ring_put(&o->log, (const uint8_t *)line, len);
		ring_put(&o->log, (const uint8_t *)"\n", 1);
	} else {
		if (o->notes_len + len + 1 > sizeof(o->notes))
			put_notes(o, true); /* too many waiting: they break the guest's line */
		if (len + 1 > sizeof(o->notes))
			len = sizeof(o->notes) - 1;
		if (!o->notes_len)
			o->notes_since = console_out_clock_ns();
		memcpy(o->notes + o->notes_len, line, len);
		o->notes[o->notes_len + len] = '\n';
		o->notes_len += len + 1;
		if (!o->guest_mid_line)
			put_notes(o, false);
	}
	pthread_mutex_unlock(&o->note_lock);
}

void console_out_tick(struct console_out *o)
{
	if (!o->have_log)
		return;
	pthread_mutex_lock(&o->note_lock);
	if (notes_waited_enough(o, console_out_clock_ns()))
		put_notes(o, true);
	pthread_mutex_unlock(&o->note_lock);
}

int console_out_finish(struct console_out *o)
{
	int rc = 0;
	if (o->have_log) {
		pthread_mutex_lock(&o->note_lock);
		put_notes(o, true);
		pthread_mutex_unlock(&o->note_lock);
	}
	if (o->have_view)
		ring_finish(&o->view);
	if (o->have_log)
		rc = ring_finish(&o->log);
	o->have_view = o->have_log = false;
	return rc;
}
