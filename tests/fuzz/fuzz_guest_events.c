/* libFuzzer target: any bytes a guest writes to COM2, through lbvm's event reader. Every event that comes
 * out must be what the protocol promises the session: printable text within its bounds, a name of name
 * characters, a status 0..255, and a reason for every invalid line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/guest_events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct guest_event *ev)
{
	size_t n = strnlen(ev->text, sizeof(ev->text));
	if (n == sizeof(ev->text))
		abort(); /* not terminated */
	for (size_t i = 0; i < n; i++)
		if (ev->text[i] < 0x20 || ev->text[i] > 0x7e)
			abort();
	switch (ev->kind) {
	case GUEST_EVENT_MARK:
		if (n == 0 || n > GUEST_EVENT_TEXT_MAX)
			abort();
		break;
	case GUEST_EVENT_STEP_END:
		if (ev->status < 0 || ev->status > 255)
			abort();
		/* fall through */
	case GUEST_EVENT_STEP_BEGIN:
		if (n == 0 || n > GUEST_EVENT_NAME_MAX || strchr(ev->text, ' '))
			abort();
		break;
	case GUEST_EVENT_INVALID:
		if (!ev->why)
			abort();
		break;
	default:
		abort();
	}
	char line[GUEST_EVENT_LINE_MAX + 128];
	guest_event_format(ev, line, sizeof(line));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_event_reader r;
	guest_event_reader_init(&r);
	struct guest_event ev;
	for (size_t i = 0; i < size; i++)
		if (guest_event_feed(&r, data[i], &ev))
			check(&ev);
	return 0;
}
