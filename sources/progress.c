#include "sources/progress.h"

#include <stdio.h>

#define UNIT_STEP 1024.0
/* Longer than this is not worth estimating: the rate will change long before. */
#define ETA_MAX_SECONDS (100.0 * 3600)

void progress_bytes(uint64_t bytes, char *out, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	if (bytes < 1024) {
		snprintf(out, len, "%u B", (unsigned)bytes);
		return;
	}
	double v = (double)bytes / UNIT_STEP;
	size_t u = 0;
	while (v >= UNIT_STEP && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= UNIT_STEP;
		u++;
	}
	snprintf(out, len, "%.1f %s", v, units[u]);
}

void progress_duration(double seconds, char *out, size_t len)
{
	if (seconds < 0 || seconds > ETA_MAX_SECONDS) {
		snprintf(out, len, "--:--");
		return;
	}
	unsigned long s = (unsigned long)(seconds + 0.5);
	if (s >= 3600)
		snprintf(out, len, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(out, len, "%lu:%02lu", s / 60, s % 60);
}

void progress_line(const struct fetch_progress *p, double rate, char *out, size_t len)
{
	char have[32], total[32], speed[32], eta[32];
	progress_bytes(p->bytes_have, have, sizeof(have));
	progress_bytes(p->bytes_expected, total, sizeof(total));
	progress_bytes((uint64_t)(rate > 0 ? rate : 0), speed, sizeof(speed));
	double left = p->bytes_expected > p->bytes_have ? (double)(p->bytes_expected - p->bytes_have) : 0;
	progress_duration(rate > 0 ? left / rate : (left > 0 ? -1 : 0), eta, sizeof(eta));
	snprintf(out, len, "[%zu/%zu] %s of %s, %s/s, ETA %s, %zu active", p->files_done, p->files_total, have, total,
		 speed, eta, p->active);
}
