#include "vmm/guest_events.h"

#include <stdio.h>
#include <string.h>

#define VERB_MARK       "mark "
#define VERB_STEP_BEGIN "step-begin "
#define VERB_STEP_END   "step-end "
#define STATUS_MAX      255
#define STATUS_DIGITS   3

static bool printable(int c)
{
	return c >= 0x20 && c <= 0x7e;
}

static bool name_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '_' || c == '+' || c == '-';
}

void guest_event_reader_init(struct guest_event_reader *r)
{
	memset(r, 0, sizeof(*r));
}

static void invalid(struct guest_event *ev, const char *why, const char *line)
{
	ev->kind = GUEST_EVENT_INVALID;
	ev->why = why;
	ev->status = 0;
	snprintf(ev->text, sizeof(ev->text), "%s", line);
}

/* A NAME at s: its length, 0 when malformed or too long. */
static size_t name_len(const char *s)
{
	size_t n = 0;
	while (name_char((unsigned char)s[n]))
		n++;
	return n <= GUEST_EVENT_NAME_MAX ? n : 0;
}

/* Parse a printable line into *ev; NULL, or what is wrong with it. */
static const char *parse(const char *line, struct guest_event *ev)
{
	if (!strncmp(line, VERB_MARK, strlen(VERB_MARK))) {
		const char *text = line + strlen(VERB_MARK);
		size_t n = strlen(text);
		if (n == 0 || n > GUEST_EVENT_TEXT_MAX)
			return "mark needs a text of 1..200 characters";
		ev->kind = GUEST_EVENT_MARK;
		memcpy(ev->text, text, n + 1);
		return NULL;
	}
	bool begin = !strncmp(line, VERB_STEP_BEGIN, strlen(VERB_STEP_BEGIN));
	bool end = !strncmp(line, VERB_STEP_END, strlen(VERB_STEP_END));
	if (!begin && !end)
		return "unknown event (mark, step-begin, step-end)";
	const char *name = line + strlen(begin ? VERB_STEP_BEGIN : VERB_STEP_END);
	size_t n = name_len(name);
	if (n == 0)
		return "a step name is 1..64 of [A-Za-z0-9._+-]";
	memcpy(ev->text, name, n);
	ev->text[n] = '\0';
	const char *rest = name + n;
	if (begin) {
		if (*rest)
			return "step-begin takes one name";
		ev->kind = GUEST_EVENT_STEP_BEGIN;
		return NULL;
	}
	if (*rest != ' ' || !rest[1])
		return "step-end needs NAME STATUS";
	int status = 0;
	size_t digits = 0;
	for (const char *p = rest + 1; *p; p++, digits++) {
		if (*p < '0' || *p > '9' || digits == STATUS_DIGITS)
			return "a status is a number 0..255";
		status = status * 10 + (*p - '0');
	}
	if (status > STATUS_MAX)
		return "a status is a number 0..255";
	ev->kind = GUEST_EVENT_STEP_END;
	ev->status = status;
	return NULL;
}

void guest_event_parse(const char *line, struct guest_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	size_t len = strnlen(line, GUEST_EVENT_LINE_MAX + 1);
	if (len > GUEST_EVENT_LINE_MAX) {
		invalid(ev, "the line is longer than 256 bytes", "");
		return;
	}
	for (size_t i = 0; i < len; i++)
		if (!printable((unsigned char)line[i])) {
			invalid(ev, "a byte that is not printable ASCII", "");
			return;
		}
	const char *why = parse(line, ev);
	if (why)
		invalid(ev, why, line);
}

bool guest_event_feed(struct guest_event_reader *r, uint8_t byte, struct guest_event *ev)
{
	if (byte == '\r')
		return false;
	if (byte != '\n') {
		if (!printable(byte))
			r->unprintable = true;
		if (r->len < GUEST_EVENT_LINE_MAX)
			r->line[r->len++] = (char)(printable(byte) ? byte : '?');
		else
			r->overlong = true;
		return false;
	}
	r->line[r->len] = '\0';
	if (r->len == 0 && !r->overlong && !r->unprintable)
		return false;
	if (r->overlong)
		invalid(ev, "the line is longer than 256 bytes", r->line);
	else if (r->unprintable)
		invalid(ev, "a byte that is not printable ASCII", r->line);
	else
		guest_event_parse(r->line, ev);
	guest_event_reader_init(r);
	return true;
}

void guest_event_format(const struct guest_event *ev, char *buf, size_t len)
{
	switch (ev->kind) {
	case GUEST_EVENT_MARK:
		snprintf(buf, len, "mark %s", ev->text);
		break;
	case GUEST_EVENT_STEP_BEGIN:
		snprintf(buf, len, "step-begin %s", ev->text);
		break;
	case GUEST_EVENT_STEP_END:
		snprintf(buf, len, "step-end %s %d", ev->text, ev->status);
		break;
	case GUEST_EVENT_INVALID:
		snprintf(buf, len, "invalid (%s): %s", ev->why ? ev->why : "?", ev->text);
		break;
	}
}
