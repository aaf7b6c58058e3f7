#include "cli/fetch_view.h"

#include <stdio.h>
#include <time.h>

#include "common/diag.h"
#include "sources/progress.h"

/* Weight of the newest sample in the smoothed transfer rate. */
#define RATE_SMOOTHING 0.3

double fetch_view_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void fetch_view_clear(struct fetch_view *v)
{
	if (v->line_shown) {
		fputs("\r\033[K", stderr);
		v->line_shown = false;
	}
}

void fetch_view_event(void *ctx, const struct fetch_event *ev)
{
	struct fetch_view *v = ctx;
	const char *name = ev->file->name;
	char size[32];
	fetch_view_clear(v);
	switch (ev->kind) {
	case FETCH_EV_CACHED:
		diag_info("ok %s (cached)", name);
		break;
	case FETCH_EV_START:
		if (!v->tty) {
			if (ev->offset)
				diag_info("get %s from %s (resuming at byte %llu)", name, ev->url,
					  (unsigned long long)ev->offset);
			else
				diag_info("get %s from %s", name, ev->url);
		}
		break;
	case FETCH_EV_RETRY:
		if (ev->delay_ms)
			diag_warn("%s: %s: %s; again in %.1f s", name, ev->url, ev->message, (double)ev->delay_ms / 1000);
		else
			diag_warn("%s: %s: %s", name, ev->url, ev->message);
		break;
	case FETCH_EV_NEXT_URL:
		diag_warn("%s: %s: %s; trying the next location", name, ev->url, ev->message);
		break;
	case FETCH_EV_MISMATCH:
		diag_error("%s: SHA-256 mismatch%s%s: expected %s, got %s; %s%s", name, ev->url ? " from " : " in the cache",
			   ev->url ? ev->url : "", ev->expected, ev->actual,
			   ev->moved_to ? "bytes moved to " : (ev->url ? "bytes deleted" : "left in place (offline)"),
			   ev->moved_to ? ev->moved_to : "");
		break;
	case FETCH_EV_DONE:
		progress_bytes(ev->bytes, size, sizeof(size));
		diag_info("fetched %s (%s) from %s", name, size, ev->url);
		break;
	case FETCH_EV_FAILED:
		if (ev->url)
			diag_error("%s: %s (%s)", name, ev->message, ev->url);
		else
			diag_error("%s: %s", name, ev->message);
		break;
	case FETCH_EV_MISSING:
		diag_error("missing %s", name);
		break;
	}
}

void fetch_view_progress(void *ctx, const struct fetch_progress *p)
{
	struct fetch_view *v = ctx;
	double now = fetch_view_now();
	double dt = now - v->last_time;
	if (dt > 0 && v->last_time > 0) {
		double sample = (double)(p->bytes_received - v->last_bytes) / dt;
		v->rate = v->rate > 0 ? RATE_SMOOTHING * sample + (1 - RATE_SMOOTHING) * v->rate : sample;
	}
	v->last_time = now;
	v->last_bytes = p->bytes_received;
	if (!v->tty || v->quiet)
		return;
	char line[256];
	progress_line(p, v->rate, line, sizeof(line));
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	v->line_shown = true;
}

