/* The tree an image is built from: every entry of a host directory plus the entries of a spec file
 * (image/spec.h), sorted bytewise by path (so a directory always precedes its contents), with hard links
 * grouped. Both the cpio writer and the ext filesystem builder consume this one list, so the initramfs and
 * the disk see the same entries in the same order. Host metadata that would make images differ (owners,
 * times, inode numbers, readdir order) never leaves this module. */
#ifndef LBVM_IMAGE_FSTREE_H
#define LBVM_IMAGE_FSTREE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

struct fs_entry {
	char *path;          /* relative to the tree root, no leading '/', e.g. "dev/console" */
	uint32_t mode;       /* file type bits and permissions (S_IFMT | 07777) */
	uint32_t uid, gid;   /* 0:0 unless the spec says otherwise */
	uint32_t rdev_major, rdev_minor; /* character and block devices */
	uint64_t size;       /* regular files: bytes of data; symlinks: length of the target */
	char *source;        /* host file holding a regular file's data (NULL: empty, made by the spec) */
	unsigned char *data; /* or the data itself, made in memory (size bytes; owned; NULL: none) */
	char *target;        /* symlink target */
	size_t link_first;   /* index of the first entry of its hard-link group (its own index if none) */
	size_t link_last;    /* index of the last entry of that group */
	uint32_t nlink;      /* regular files: names in the tree; directories: 2 + subdirectories */
	/* host identity, only to find hard links: regular files with equal non-zero (dev, ino) are one file.
	 * Entries made in memory leave host_ino 0 and stay files of their own. */
	dev_t host_dev;
	ino_t host_ino;
};

struct fs_tree {
	struct fs_entry *entries;
	size_t count, cap;
	/* the root directory itself (not an entry) */
	uint32_t root_mode, root_uid, root_gid;
	uint32_t root_nlink;
};

void fstree_init(struct fs_tree *tree);
void fstree_free(struct fs_tree *tree);

/* Read DIR recursively (lstat, never following symlinks). Owners become 0:0. 0 or -errno with err. */
int fstree_scan(struct fs_tree *tree, const char *dir, struct error *err);

/* Append one entry (path already normalised, see fstree_normalise); the tree takes ownership of its
 * malloc'ed path, source, data and target. Call fstree_finish after the last one. -ENOMEM or 0. */
int fstree_add(struct fs_tree *tree, const struct fs_entry *entry);

/* Modes as git records them: a regular file is 0755 when any execute bit is set, else 0644; directories
 * 0755; symlinks 0777. What a checkout's umask or a copy's history left on the host never reaches an image
 * built with it. */
#define FSTREE_GIT_MODES   0x1
/* Leave out names beginning with '.', at any depth (as a shell glob of '**' does). */
#define FSTREE_NO_HIDDEN   0x2
/* Leave out names containing ".git" (.git, .gitignore, .gitmodules, ...). */
#define FSTREE_NO_GIT      0x4

/* Add the contents of host directory DIR under PREFIX ("" = the root; PREFIX itself must already be in
 * the tree or be ""), never following symlinks. Entries keep no host identity, so equal host files placed
 * twice become two files, not hard links. FLAGS: FSTREE_*. 0 or -errno with err. */
int fstree_add_host_dir(struct fs_tree *tree, const char *dir, const char *prefix, unsigned flags,
			struct error *err);
/* Add one entry made in memory: a directory (source NULL) or a regular file holding the host file SOURCE's
 * bytes (SIZE bytes, checked by the image writers), with MODE's permission bits. 0 or -ENOMEM. */
int fstree_add_dir(struct fs_tree *tree, const char *path, uint32_t perm, struct error *err);
int fstree_add_file(struct fs_tree *tree, const char *path, const char *source, uint32_t perm,
		    struct error *err);

/* Sort the entries bytewise by path (fstree_find needs a sorted tree). */
void fstree_sort(struct fs_tree *tree);

/* Index of PATH in a sorted tree, or -1. */
long fstree_find(const struct fs_tree *tree, const char *path);

/* Sort, check that every entry's parent is a directory of the tree and that no path repeats, group hard
 * links and count links. 0 or -EINVAL with err. */
int fstree_finish(struct fs_tree *tree, struct error *err);

/* Normalise a path given by the user: strip leading '/' and trailing '/', reject empty components, "."
 * and ".." (a spec may not escape the tree). "/" becomes "". Returns a new string or NULL (errno set). */
char *fstree_normalise(const char *path);

/* Length of the parent part of PATH ("a/b/c" -> 3, "a" -> 0). */
size_t fstree_parent_len(const char *path);

#endif
