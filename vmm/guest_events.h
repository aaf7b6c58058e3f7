/* lbvm's own channel from the guest: lines written to COM2 (the guest's /dev/ttyS1), one event each.
 * Nothing a program prints on the console becomes an event, and nothing sent here reaches the console.
 * The line protocol (docs/boot.md, "Events from the guest"):
 *   mark TEXT                a stage of the run's timeline
 *   step-begin NAME          a build step starts
 *   step-end NAME STATUS     it ended with STATUS, a decimal exit status 0..255
 * TEXT is 1..GUEST_EVENT_TEXT_MAX printable ASCII characters; NAME is 1..GUEST_EVENT_NAME_MAX of
 * [A-Za-z0-9._+-]; words are separated by one space. LF ends a line, CR is ignored, empty lines are
 * skipped. The guest is untrusted: a line longer than GUEST_EVENT_LINE_MAX bytes, a byte that is not
 * printable ASCII, an unknown verb or a malformed argument makes an GUEST_EVENT_INVALID event that says
 * why and shows the line with unprintable bytes as '?', so the log records what was sent. Pure. */
#ifndef LBVM_VMM_GUEST_EVENTS_H
#define LBVM_VMM_GUEST_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_EVENT_LINE_MAX 256
#define GUEST_EVENT_TEXT_MAX 200
#define GUEST_EVENT_NAME_MAX 64

enum guest_event_kind {
	GUEST_EVENT_MARK,
	GUEST_EVENT_STEP_BEGIN,
	GUEST_EVENT_STEP_END,
	GUEST_EVENT_INVALID,
};

struct guest_event {
	enum guest_event_kind kind;
	char text[GUEST_EVENT_LINE_MAX + 1]; /* MARK: its text; STEP_*: the step's name; INVALID: the line */
	int status;                           /* STEP_END: the exit status */
	const char *why;                      /* INVALID: what is wrong (a constant string) */
};

struct guest_event_reader {
	char line[GUEST_EVENT_LINE_MAX + 1];
	size_t len;
	bool overlong;    /* bytes were dropped from the current line */
	bool unprintable; /* it holds a byte that is not printable ASCII (stored as '?') */
};

void guest_event_reader_init(struct guest_event_reader *r);
/* Feed one byte; true when it ended a non-empty line, with its event in *ev. */
bool guest_event_feed(struct guest_event_reader *r, uint8_t byte, struct guest_event *ev);
/* Parse one line (without its line end). Fills *ev; INVALID with ev->why when it is not an event. */
void guest_event_parse(const char *line, struct guest_event *ev);
/* The event as one line of lbvm's log: "mark TEXT", "step-end NAME 0", "invalid (WHY): LINE". */
void guest_event_format(const struct guest_event *ev, char *buf, size_t len);

#endif
