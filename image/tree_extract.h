/* The trusted half of `lbvm disk get`: turn a tree stream (image/tree_stream.h) from the confined image
 * reader into files under DEST, and nothing anywhere else. Every create, link, chmod, chown and utime is
 * relative to a descriptor of a directory this copy created (openat, mkdirat, symlinkat, linkat, fchmod,
 * fchown, futimens / utimensat with AT_SYMLINK_NOFOLLOW, O_NOFOLLOW when descending); no host path is ever
 * built from a name in the image. A name that is empty, ".", "..", or holds '/' or NUL is refused; no
 * symlink is ever followed (a symlink is created as data, pointing wherever it points); a hard link is made
 * only to a file this copy created; device nodes, FIFOs and sockets are refused; set-user-ID and
 * set-group-ID bits are dropped unless asked for. Each refusal is reported through a callback (with the
 * name escaped for the terminal) and the copy goes on. The tree is assembled in a fresh directory beside
 * DEST and renamed into place only when complete, so a failure leaves no DEST behind. */
#ifndef LBVM_IMAGE_TREE_EXTRACT_H
#define LBVM_IMAGE_TREE_EXTRACT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

struct tree_extract_opts {
	const char *source;   /* the image path asked for, for messages */
	bool keep_setid;      /* keep set-user-ID / set-group-ID bits (default: dropped) */
	bool keep_owner;      /* owners from the image (root only; otherwise the copier owns everything) */
	/* One call per entry not copied: PATH (relative to DEST, escaped) and why. May be NULL. */
	void (*refused)(void *ctx, const char *path, const char *why);
	void *ctx;
};

struct tree_extract_stats {
	uint64_t files, dirs, symlinks, hardlinks, refused;
};

/* Read the stream from STREAM_FD to its TREE_END and build it at DEST, which must not exist. 0, or a
 * negative code with err filled (-EPROTO: the stream broke off or is malformed, which means the image
 * reader failed or was subverted; host errors as -errno). */
int tree_extract(int stream_fd, const char *dest, const struct tree_extract_opts *opts,
		 struct tree_extract_stats *stats, struct error *err);

#endif
