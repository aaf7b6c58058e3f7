/* How `lbvm fetch` and `lbvm bootstrap` show a download: one log line per event, and on a terminal a
 * progress line that is redrawn in place (cleared before any other output). */
#ifndef LBVM_CLI_FETCH_VIEW_H
#define LBVM_CLI_FETCH_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "sources/fetch.h"

struct fetch_view {
	bool tty;
	bool quiet;
	bool line_shown; /* a progress line is on screen and must be cleared before other output */
	double rate;
	uint64_t last_bytes;
	double last_time;
};

/* Seconds on the monotonic clock. */
double fetch_view_now(void);
/* The fetch_options callbacks; ctx is a struct fetch_view. */
void fetch_view_event(void *ctx, const struct fetch_event *ev);
void fetch_view_progress(void *ctx, const struct fetch_progress *p);
/* Remove the progress line, if one is shown. */
void fetch_view_clear(struct fetch_view *v);

#endif
