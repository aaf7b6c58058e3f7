/* Download, verify and cache the distfiles of a manifest (libcurl multi, OpenSSL SHA-256).
 *
 * The cache directory holds verified files only, each under its manifest name. Work in progress lives in
 * CACHE/.partial/NAME (kept across runs so that an interrupted download resumes), and bytes whose hash
 * did not match are moved to CACHE/.rejected/NAME.N for inspection; distfile names never start with '.',
 * so neither can be mistaken for a distfile. A file appears under its final name only by rename(2) after
 * its SHA-256 matched.
 *
 * Nothing here prints: every step is reported through the event callback, and the caller decides how to
 * show it. */
#ifndef LBVM_SOURCES_FETCH_H
#define LBVM_SOURCES_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sources/manifest.h"

#define FETCH_PARTIAL_DIR ".partial"
#define FETCH_REJECTED_DIR ".rejected"
/* A transfer slower than this (bytes a second) for a whole --timeout window is abandoned. */
#define FETCH_MIN_RATE 1024

enum fetch_state {
	FETCH_PENDING,    /* not finished yet */
	FETCH_CACHED,     /* was already in the cache with the right hash */
	FETCH_DOWNLOADED, /* downloaded now and verified */
	FETCH_MISSING,    /* not in the cache (offline), or no location could provide it */
	FETCH_BAD,        /* bytes with the wrong hash: in the cache (offline) or from every location */
};

enum fetch_event_kind {
	FETCH_EV_CACHED,      /* already verified in the cache */
	FETCH_EV_START,       /* a transfer begins: url, offset (bytes resumed from) */
	FETCH_EV_RETRY,       /* a transient failure: message; the same url is tried again after delay_ms */
	FETCH_EV_NEXT_URL,    /* this url cannot provide the file: message; the next location is tried */
	FETCH_EV_MISMATCH,    /* wrong SHA-256: url, expected, actual, moved_to */
	FETCH_EV_DONE,        /* downloaded and verified: url, bytes */
	FETCH_EV_FAILED,      /* given up: message */
	FETCH_EV_MISSING,     /* offline: not in the cache */
};

struct fetch_event {
	enum fetch_event_kind kind;
	const struct distfile *file;
	const char *url;
	const char *message;
	const char *expected; /* hex */
	const char *actual;   /* hex */
	const char *moved_to; /* where rejected bytes went, or NULL */
	uint64_t offset;
	uint64_t bytes;
	long delay_ms;
};

struct fetch_progress {
	size_t files_done, files_total;
	uint64_t bytes_have;     /* bytes on disk for the files being or already downloaded this run */
	uint64_t bytes_expected; /* their sizes, as far as known (manifest size= or Content-Length) */
	uint64_t bytes_received; /* received over the network this run (for the rate) */
	size_t active;           /* transfers running */
};

struct fetch_options {
	const char *cache_dir;
	const char *const *mirrors; /* base URLs tried before the manifest's own, as BASE/NAME */
	size_t n_mirrors;
	unsigned jobs;              /* transfers at once, >= 1 */
	unsigned retries;           /* extra attempts per location after a transient failure */
	long backoff_ms;            /* delay before the first retry; doubled for each further one */
	long connect_timeout_s;
	long stall_timeout_s;       /* abort a transfer that received nothing for this long */
	bool offline;               /* only verify the cache; never create, move or download anything */
	void (*on_event)(void *ctx, const struct fetch_event *ev);
	void (*on_progress)(void *ctx, const struct fetch_progress *p); /* about 4 times a second */
	/* Asked about 10 times a second (may be NULL): true stops every transfer; fetch_all then returns
	 * -ECANCELED (what was downloaded so far stays in CACHE/.partial, to be resumed). */
	bool (*cancelled)(void *ctx);
	void *ctx;
};

struct fetch_summary {
	size_t cached, downloaded, missing, bad;
};

/* Bring every file of m into the cache (or, offline, check it). states[i] receives the outcome for
 * m->files[i] (may be NULL). 0 when every file was looked at (see the summary for how it went);
 * -errno when the cache itself is unusable (err then says why, one line) or on an internal fault. */
int fetch_all(const struct manifest *m, const struct fetch_options *o, enum fetch_state *states,
	      struct fetch_summary *sum, struct error *err);

#endif
