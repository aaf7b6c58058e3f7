/* libFuzzer target: the console watcher reads every byte the guest prints (the guest controls all of
 * it), line by line, and decides how the run ends. Any byte stream must leave it with NUL-terminated
 * lines shorter than CONSOLE_LINE_MAX, an event only at a line end, and a detail for every event that is
 * a suffix of (or equal to) the last line. */
#include <stdlib.h>
#include <string.h>

#include "vmm/console_watch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct console_watch w;
	console_watch_init(&w);
	for (size_t i = 0; i < size; i++) {
		enum console_event ev = console_watch_byte(&w, data[i]);
		if (w.len >= CONSOLE_LINE_MAX)
			abort();
		if (ev == CONSOLE_NONE)
			continue;
		if (ev < CONSOLE_NONE || ev > CONSOLE_MARK || !console_event_name(ev))
			abort();
		const char *line = console_watch_last_line(&w);
		const char *detail = console_watch_detail(&w, ev);
		size_t llen = strnlen(line, CONSOLE_LINE_MAX), dlen = strnlen(detail, CONSOLE_LINE_MAX);
		if (llen == CONSOLE_LINE_MAX || dlen > llen || strcmp(line + llen - dlen, detail) != 0)
			abort();
	}
	return 0;
}
