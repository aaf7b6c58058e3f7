#include "vmm/console_watch.h"

#include <string.h>

#define MARK_PREFIX "lbvm-mark: "

static const struct pattern {
	const char *text;
	int anchored; /* must start the line (after the timestamp), not merely occur in it */
	enum console_event event;
} patterns[] = {
	/* the end marker contains the start phrase, so it is tried first */
	{ "---[ end Kernel panic - not syncing", 0, CONSOLE_PANIC_END },
	{ "Kernel panic - not syncing", 0, CONSOLE_PANIC },
	{ "reboot: Power down", 1, CONSOLE_POWER_OFF },
	{ "reboot: System halted", 1, CONSOLE_HALT },
	{ "reboot: Restarting system", 1, CONSOLE_RESTART },
	{ "kexec_core: Starting new kernel", 1, CONSOLE_KEXEC },
	{ "Linux version ", 1, CONSOLE_KERNEL_START },
	{ MARK_PREFIX, 1, CONSOLE_MARK },
};

void console_watch_init(struct console_watch *w)
{
	memset(w, 0, sizeof(*w));
}

/* Skip the "[    1.234567] " that printk.time adds. */
static const char *strip_timestamp(const char *s)
{
	if (s[0] != '[')
		return s;
	const char *close = strchr(s, ']');
	if (!close)
		return s;
	for (const char *p = s + 1; p < close; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == ' '))
			return s;
	close++;
	return *close == ' ' ? close + 1 : close;
}

static enum console_event classify(const char *line)
{
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		const struct pattern *p = &patterns[i];
		if (p->anchored ? !strncmp(line, p->text, strlen(p->text)) : strstr(line, p->text) != NULL)
			return p->event;
	}
	return CONSOLE_NONE;
}

enum console_event console_watch_byte(struct console_watch *w, uint8_t byte)
{
	if (byte == '\r')
		return CONSOLE_NONE;
	if (byte != '\n') {
		if (w->len + 1 < sizeof(w->line))
			w->line[w->len++] = (char)byte; /* a longer line is judged by its start */
		return CONSOLE_NONE;
	}
	w->line[w->len] = '\0';
	w->len = 0;
	const char *text = strip_timestamp(w->line);
	memmove(w->last, text, strlen(text) + 1);
	return classify(w->last);
}

const char *console_watch_last_line(const struct console_watch *w)
{
	return w->last;
}

const char *console_watch_detail(const struct console_watch *w, enum console_event ev)
{
	if (ev == CONSOLE_MARK)
		return w->last + strlen(MARK_PREFIX);
	return w->last;
}

const char *console_event_name(enum console_event ev)
{
	switch (ev) {
	case CONSOLE_KERNEL_START: return "kernel started";
	case CONSOLE_KEXEC: return "kexec into the next kernel";
	case CONSOLE_POWER_OFF: return "power off";
	case CONSOLE_HALT: return "halt";
	case CONSOLE_RESTART: return "restart";
	case CONSOLE_PANIC: return "kernel panic";
	case CONSOLE_PANIC_END: return "end of kernel panic";
	case CONSOLE_MARK: return "guest mark";
	case CONSOLE_NONE: break;
	}
	return "none";
}
