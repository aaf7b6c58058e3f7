/* The stream in which the confined image reader hands a tree to the process that writes it out (lbvm disk
 * get): one record per node, in walk order, each a fixed header, the entry's name, then its payload (a
 * file's bytes, a symlink's target). The reader is untrusted by the writer: tree_stream_read checks the
 * framing and the writer (image/tree_extract.h) checks everything else.
 *
 *   DIR        a directory: the records of its entries follow, then DIR_END
 *   DIR_END    leaves the directory just described; its metadata is applied now (after its contents)
 *   FILE       a regular file; `size` bytes of content follow
 *   LINK       another name for the FILE with the same `id` (an inode number) sent earlier in this stream
 *   SYMLINK    a symbolic link; `size` bytes of target follow
 *   SPECIAL    a device node, FIFO or socket: described, never created
 *   END        the walk is complete (a stream that stops before it is a failed one)
 *
 * The first record is the node asked for, with an empty name; every other record names one directory
 * entry (a single component). */
#ifndef LBVM_IMAGE_TREE_STREAM_H
#define LBVM_IMAGE_TREE_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define TREE_STREAM_NAME_MAX 255   /* ext2/3/4 names are at most 255 bytes */
#define TREE_STREAM_TARGET_MAX 4095 /* the longest symlink target Linux creates (PATH_MAX - 1) */
#define TREE_STREAM_MAX_DEPTH 256   /* directories nested deeper are refused (the writer keeps a
				     * descriptor per level; real trees stay far below) */

enum tree_record_kind {
	TREE_DIR = 1,
	TREE_DIR_END,
	TREE_FILE,
	TREE_LINK,
	TREE_SYMLINK,
	TREE_SPECIAL,
	TREE_END,
};

struct tree_record {
	uint32_t kind;        /* enum tree_record_kind */
	uint32_t mode;        /* S_IFMT | 07777, as stored in the image */
	uint32_t uid, gid;
	uint32_t mtime;
	uint32_t nlink;
	uint32_t rdev_major, rdev_minor;
	uint64_t id;          /* the inode number (pairs LINK with its FILE) */
	uint64_t size;        /* payload bytes that follow the name */
	uint32_t name_len;
	char name[TREE_STREAM_NAME_MAX + 1]; /* NUL-terminated copy; a NUL inside is the writer's to refuse */
};

/* Writing (the reader side). Each returns 0 or -errno with err filled. */
int tree_stream_put(int fd, const struct tree_record *r, struct error *err);
int tree_stream_put_payload(int fd, const void *buf, size_t len, struct error *err);

/* Reading (the writer side): the next header and name. 0, or -EPROTO when the stream ends early or a
 * field is out of range (an unknown kind, a name longer than TREE_STREAM_NAME_MAX), -errno on I/O. */
int tree_stream_get(int fd, struct tree_record *r, struct error *err);
/* Exactly LEN payload bytes. 0, -EPROTO when the stream ends first, -errno. */
int tree_stream_get_payload(int fd, void *buf, size_t len, struct error *err);

#endif
