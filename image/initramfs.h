/* The initramfs builder: a directory (plus an optional spec file for device nodes and owners) into a
 * byte-reproducible cpio newc archive, optionally gzip-compressed.
 *
 * Reproducibility: members in bytewise path order ("." first, every directory before its contents),
 * mtime = the given epoch, owner 0:0 unless the spec says otherwise, inode numbers from the member's
 * position (hard links share the number of their first name; the data rides on the last name, as GNU cpio
 * and the kernel expect), device numbers of the archive itself 0. Host umask, times, inode numbers and
 * readdir order never reach the output. */
#ifndef LBVM_IMAGE_INITRAMFS_H
#define LBVM_IMAGE_INITRAMFS_H

#include <stdbool.h>
#include <stdint.h>

#include "image/cpio_newc.h"
#include "image/fstree.h"
#include "common/error.h"

struct initramfs_opts {
	const char *dir;      /* source tree (required) */
	const char *spec;     /* spec file (image/spec.h) or NULL */
	const char *output;   /* final file name; written through a temporary + rename */
	bool gzip;
	uint32_t epoch;       /* every mtime (image/epoch.h) */
};

/* Build the whole archive. 0 or a negative code with err filled; on failure OUTPUT is untouched. */
int initramfs_build(const struct initramfs_opts *opts, struct error *err);

/* The same from a finished tree (fstree_finish) that the caller assembled, e.g. the sysa initramfs of a
 * bootstrap run; opts->dir and opts->spec are not used. */
int initramfs_build_tree(const struct initramfs_opts *opts, const struct fs_tree *tree, struct error *err);

/* Write the members of a finished tree to an open writer, trailer included. */
int initramfs_write_tree(struct cpio_writer *w, const struct fs_tree *tree, uint32_t epoch);

#endif
