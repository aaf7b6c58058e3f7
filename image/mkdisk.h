/* The disk builder: a directory (plus an optional spec file) into a byte-reproducible disk image, rootless:
 * an msdos partition table with one Linux partition (or a bare filesystem) holding an ext2/ext3/ext4
 * filesystem written through libext2fs. The output is sparse: the file is sized with ftruncate and only
 * used blocks are written.
 *
 * Reproducibility: every random or time input of the filesystem is pinned. The UUID, the directory hash
 * seed and the disk signature come from a SHA-256 over the options and the tree's metadata (names, modes,
 * owners, sizes, link targets; override the UUID with opts.uuid); every inode and superblock time is the
 * epoch; inodes are created in the tree's bytewise path order; no lazy initialisation is left to the
 * kernel (inode tables are holes of a fresh file, so they are marked zeroed). */
#ifndef LBVM_IMAGE_MKDISK_H
#define LBVM_IMAGE_MKDISK_H

#include <stdbool.h>
#include <stdint.h>

#include "image/fstree.h"
#include "common/error.h"

enum mkdisk_fs { MKDISK_EXT4, MKDISK_EXT3, MKDISK_EXT2 };

#define MKDISK_DEFAULT_PART_OFFSET (1024u * 1024u) /* 1 MiB: aligned, what parted and live-bootstrap use */
#define MKDISK_BLOCK_SIZE 4096u
#define MKDISK_INODE_SIZE 256u
#define MKDISK_BYTES_PER_INODE 16384u               /* mke2fs's default ratio; raised when the tree needs more */
#define MKDISK_MIN_BYTES_PER_INODE 1024u

struct mkdisk_opts {
	const char *dir;          /* source tree (mkdisk_build only) */
	const char *spec;         /* spec file (image/spec.h) or NULL (mkdisk_build only) */
	const char *output;       /* final image name; written through a temporary + rename */
	uint64_t size;            /* whole image in bytes, a multiple of 512 */
	enum mkdisk_fs fs;
	bool raw;                 /* a bare filesystem, no partition table */
	uint64_t part_offset;     /* bytes; a multiple of 512, at least 512 (ignored when raw) */
	uint32_t epoch;           /* every timestamp (image/epoch.h) */
	uint32_t bytes_per_inode; /* 0: MKDISK_BYTES_PER_INODE; at least MKDISK_MIN_BYTES_PER_INODE */
	const char *label;        /* volume label (at most 16 bytes) or NULL */
	bool have_uuid;
	uint8_t uuid[16];         /* when have_uuid: the filesystem UUID to use */
	bool no_journal;          /* ext3/ext4 without a journal (see bootstrap/prepare2021.c for why) */
};

/* Parse "ext4"/"ext3"/"ext2". 0 or -EINVAL. */
int mkdisk_parse_fs(const char *name, enum mkdisk_fs *out);

/* Scan opts->dir, apply opts->spec, build the image. 0 or a negative code with err filled; on failure
 * opts->output is untouched. */
int mkdisk_build(const struct mkdisk_opts *opts, struct error *err);

/* Build the image from a finished tree (fstree_finish), for callers that assemble the tree themselves. */
int mkdisk_build_tree(const struct mkdisk_opts *opts, const struct fs_tree *tree, struct error *err);

#endif
