/* Text for the fetch progress display: sizes, rates and times as a person reads them. Pure functions. */
#ifndef LBVM_SOURCES_PROGRESS_H
#define LBVM_SOURCES_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "sources/fetch.h"

/* "512 B", "1.5 KiB", "12.3 MiB", "4.0 GiB". */
void progress_bytes(uint64_t bytes, char *out, size_t len);
/* "0:07", "12:34", "1:02:03"; "--:--" when unknown (seconds < 0). */
void progress_duration(double seconds, char *out, size_t len);
/* The one status line: "[3/50] 12.3 MiB of 45.0 MiB, 1.2 MiB/s, ETA 0:27, 4 active".
 * rate in bytes per second (0 when not known yet). */
void progress_line(const struct fetch_progress *p, double rate, char *out, size_t len);

#endif
