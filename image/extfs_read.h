/* Reading results back out of a disk image (partitioned or a bare filesystem) through libext2fs, without
 * mounting anything: look up paths, list directories, read files, copy files and whole trees out. */
#ifndef LBVM_IMAGE_EXTFS_READ_H
#define LBVM_IMAGE_EXTFS_READ_H

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
void extfs_close(struct extfs *d);
/* Byte offset of the filesystem inside the image. */
uint64_t extfs_fs_offset(const struct extfs *d);

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

/* What disk_get did not recreate: device nodes and sockets need privileges an ordinary user lacks. */
struct extfs_get_stats {
	uint64_t files, dirs, symlinks, hardlinks, skipped;
};

/* Copy PATH (a file, symlink or directory tree) out to DEST, which must not exist: modes, symlinks, hard
 * links and mtimes are kept (owners only when run as root). The copy is assembled under a temporary name
 * beside DEST and renamed into place, so a failure leaves no DEST behind. */
int extfs_get(struct extfs *d, const char *path, const char *dest, struct extfs_get_stats *stats,
	     struct error *err);

#endif
