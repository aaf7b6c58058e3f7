/* lbvm's distfile mirror: a small HTTP server, on its own thread, that serves the verified fetch cache
 * (sources/fetch.h: files named by their manifest name) to the guest. The user-mode network forwards the
 * guest's TCP connections to LAYOUT_NET_MIRROR:LAYOUT_NET_MIRROR_PORT here, through a Unix socket in a
 * private directory.
 *
 * What it answers (docs/network.md):
 *   GET or HEAD /            200, a small page (the chain's network probe, `curl example.com`)
 *   GET or HEAD /NAME        200 with the file when NAME is in the manifest, present in the cache, and its
 *                            bytes have the manifest's SHA-256 now; 404 when NAME is not in the manifest or
 *                            not in the cache; 403 when the bytes on disk do not match
 *   anything else            404 (other paths), 405 (other methods), 400/414/431/505 (malformed requests)
 * Every file is hashed before its headers go out, and hashed again while it is sent: the last chunk is
 * held back until the second hash matches, so bytes that change during the transfer end it early and the
 * guest sees a short transfer, never wrong bytes. Every request for a path other than "/" is recorded
 * (name, bytes sent, verdict) for the run record. Nothing here prints: the caller gets each record through
 * a callback. */
#ifndef LBVM_NET_MIRROR_H
#define LBVM_NET_MIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "sources/manifest.h"

enum mirror_verdict {
	MIRROR_SERVED,           /* 200: every byte sent, the hash matched */
	MIRROR_NOT_IN_MANIFEST,  /* 404 */
	MIRROR_NOT_IN_CACHE,     /* 404: in the manifest, no regular file in the cache */
	MIRROR_HASH_MISMATCH,    /* 403: the bytes on disk are not the manifest's */
	MIRROR_CHANGED,          /* the file changed while it was sent: the transfer was cut short */
	MIRROR_CLIENT_GONE,      /* the guest closed the connection before the end */
	MIRROR_READ_ERROR,       /* 500: the cache file could not be read */
	MIRROR_BAD_REQUEST,      /* 4xx/5xx: not a request the mirror serves */
};

struct mirror_record {
	char *name;               /* the path without its leading '/', decoded */
	uint64_t bytes;           /* body bytes sent */
	uint64_t size;            /* the file's size, when it was found */
	enum mirror_verdict verdict;
	int status;               /* the HTTP status answered (0 when none was) */
	bool head;                /* a HEAD request */
};

struct mirror_config {
	const char *cache_dir;
	const struct manifest *manifest;       /* stays the caller's, unchanged, until mirror_stop() */
	/* Each finished request (not "/"), from the mirror's thread; may be NULL. */
	void (*on_record)(void *ctx, const struct mirror_record *rec);
	void *ctx;
};

struct mirror;

/* Open the cache directory, create the private socket directory and start the thread. 0, or -errno with
 * err filled. */
int mirror_start(const struct mirror_config *cfg, struct mirror **out, struct error *err);
/* Where the network connects (a Unix socket path). */
const char *mirror_socket_path(const struct mirror *m);
/* Stop the thread, close every connection, remove the socket and its directory. */
void mirror_stop(struct mirror *m);

/* A copy of every record so far, in the order the requests finished; *out is NULL when there are none. */
size_t mirror_records(struct mirror *m, struct mirror_record **out);
void mirror_records_free(struct mirror_record *recs, size_t n);
/* Requests for "/" answered so far. */
uint64_t mirror_probes(struct mirror *m);

/* "served", "not-in-manifest", ...: the words docs/network.md and the run record use. */
const char *mirror_verdict_name(enum mirror_verdict v);

#endif
