/* The files a bootstrap run left behind, read without mounting anything: the run's disk image (through
 * image/extfs_read.h) or, for --chroot runs, its system trees in the run directory. Paths are the
 * guest's ("/external/repo/x.tar.bz2"); symlinks are followed as the guest would, inside its own system
 * and never out of it (a tree's link to /etc/passwd means the tree's /etc/passwd, not the host's). */
#ifndef LBVM_BOOTSTRAP_RUN_FILES_H
#define LBVM_BOOTSTRAP_RUN_FILES_H

#include <stddef.h>

#include "common/error.h"

#define RUN_FILES_MAX_ROOTS 2

struct run_files; /* opaque */

/* The run's disk IMAGE (its first Linux partition, or a bare filesystem). */
int run_files_open_disk(struct run_files **out, const char *image, struct error *err);
/* System trees, looked up in this order (2021 chroot: sysc/ then sysa/). */
int run_files_open_dirs(struct run_files **out, const char *const *dirs, size_t n, struct error *err);
void run_files_close(struct run_files *f);
/* Where the files come from, for messages ("runA/disk.img", "runA/target"). */
const char *run_files_where(const struct run_files *f);

/* Open regular file PATH: a file descriptor at offset 0 that the caller closes (for a disk image a memory
 * file holding a copy). -ENOENT without a message when no tree has it (or it is not a regular file);
 * other failures fill err. */
int run_files_open(struct run_files *f, const char *path, int *fd, struct error *err);
/* Read regular file PATH whole (NUL-terminated, at most MAX bytes, else -EFBIG with a message). */
int run_files_read(struct run_files *f, const char *path, size_t max, char **text, size_t *len, struct error *err);
/* The names in directory PATH that are not directories, sorted bytewise; -ENOENT without a message when
 * no tree has the directory. Free with run_files_free_names. */
int run_files_list(struct run_files *f, const char *path, char ***names, size_t *n, struct error *err);
/* Whether PATH is a directory (1), something else (0), or absent (-ENOENT, no message). */
int run_files_is_dir(struct run_files *f, const char *path, struct error *err);
void run_files_free_names(char **names, size_t n);

#endif
