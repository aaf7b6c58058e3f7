/* Reads the guest's console line by line and recognizes what the kernel says about the run's fate and its
 * stages: a kernel starting (first boot or after kexec), a kexec, a panic, power-off, halt and restart.
 * Without ACPI there is no power-off register: Linux announces "reboot: Power down" and then, finding no
 * way to cut the power, lets init exit; the announcement is the event. Pure: no I/O, no clock. */
#ifndef LBVM_VMM_CONSOLE_WATCH_H
#define LBVM_VMM_CONSOLE_WATCH_H

#include <stddef.h>
#include <stdint.h>

#define CONSOLE_LINE_MAX 512

enum console_event {
	CONSOLE_NONE = 0,
	CONSOLE_KERNEL_START, /* "Linux version ..." */
	CONSOLE_KEXEC,        /* "kexec_core: Starting new kernel" */
	CONSOLE_POWER_OFF,    /* "reboot: Power down" */
	CONSOLE_HALT,         /* "reboot: System halted" */
	CONSOLE_RESTART,      /* "reboot: Restarting system" */
	CONSOLE_PANIC,        /* "Kernel panic - not syncing: ..." */
	CONSOLE_PANIC_END,    /* "---[ end Kernel panic - not syncing: ..." */
	CONSOLE_MARK,         /* "lbvm-mark: TEXT", a stage the guest announces itself (e.g. switch_root) */
};

struct console_watch {
	char line[CONSOLE_LINE_MAX]; /* the line being assembled, then the last completed one */
	size_t len;
	char last[CONSOLE_LINE_MAX];
};

void console_watch_init(struct console_watch *w);
/* Feed one byte; at the end of a line, the event it carries (or CONSOLE_NONE). */
enum console_event console_watch_byte(struct console_watch *w, uint8_t byte);
/* The last completed line, without its line end and the kernel's "[ seconds]" prefix. */
const char *console_watch_last_line(const struct console_watch *w);
/* For CONSOLE_MARK: the text after "lbvm-mark: "; for the others, the whole line. */
const char *console_watch_detail(const struct console_watch *w, enum console_event ev);
const char *console_event_name(enum console_event ev);

#endif
