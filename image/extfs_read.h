/* Reading results back out of a disk image (partitioned or a bare filesystem) through libext2fs, without
 * mounting anything: look up paths, list directories, read files, copy files and whole trees out. */
#ifndef LBVM_IMAGE_EXTFS_READ_H
#define LBVM_IMAGE_EXTFS_READ_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

struct extfs; /* opaque: an open, read-only filesystem */

struct extfs_stat {
	uint32_t ino;
	uint32_t mode;        /* S_IFMT | 07777 */
	uint32_t uid, gid, nlink;
	uint64_t size;
	uint32_t mtime;
	uint32_t rdev_major, rdev_minor;
};

/* Open IMAGE read-only. PART 0 picks automatically: a filesystem at offset 0, else the first Linux (0x83)
 * partition of an msdos table, else its first partition; PART 1..4 names a partition. 0 or a negative
 * code with err filled (a missing image, no table, no ext filesystem: the user's to fix). */
int extfs_open(struct extfs **out, const char *image, int part, struct error *err);
/* The same through an open descriptor of IMAGE (named only in messages), which it takes over: closed by
 * extfs_close, or at once on failure. Opens nothing, so it can run inside the image reader's sandbox. */
int extfs_open_fd(struct extfs **out, int fd, const char *image, int part, struct error *err);
void extfs_close(struct extfs *d);
/* Byte offset of the filesystem inside the image. */
uint64_t extfs_fs_offset(const struct extfs *d);
/* Whether the filesystem's journal holds writes not yet made in place (it was not unmounted): this reader
 * does not replay a journal, so what it reads may be older than what the guest last wrote. */
bool extfs_needs_recovery(const struct extfs *d);

/* Look PATH up ("/" or "" = the root; symlinks are followed except the last component). */
int extfs_stat(struct extfs *d, const char *path, struct extfs_stat *st, struct error *err);

/* Call FN for every entry of directory PATH except "." and "..", bytewise sorted by name. FN returning
 * non-zero stops the walk and is returned. */
typedef int (*extfs_list_fn)(void *ctx, const char *name, const struct extfs_stat *st);
int extfs_list(struct extfs *d, const char *path, extfs_list_fn fn, void *ctx, struct error *err);

/* The target of a symlink (malloc'ed). */
int extfs_read_link(struct extfs *d, uint32_t ino, char **target, struct error *err);

/* Write the contents of regular file PATH (symlinks followed) to OUT_FD. */
int extfs_cat(struct extfs *d, const char *path, int out_fd, struct error *err);

/* Walk PATH (a file, symlink, directory tree or special file) and write it to OUT_FD as a tree stream
 * (image/tree_stream.h), ending with TREE_END. Runs inside the confined image reader (image/extfs_child.h);
 * image/tree_extract.h turns the stream into files. 0, or a negative code with err filled (a damaged
 * image: a directory reached twice, a file longer than the filesystem, nesting beyond
 * TREE_STREAM_MAX_DEPTH). */
int extfs_export(struct extfs *d, const char *path, int out_fd, struct error *err);

#endif
