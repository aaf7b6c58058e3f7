/* Writing a finished tree (image/fstree.h) out as a real directory, for runs that need files rather than
 * an image (lbvm bootstrap --chroot). Every create is relative to a descriptor of the destination, never
 * follows a symlink, and keeps the tree's permission bits exactly (the umask is not applied). Device
 * nodes, fifos and sockets are refused: an ordinary user cannot create them. */
#ifndef LBVM_IMAGE_FSTREE_WRITE_H
#define LBVM_IMAGE_FSTREE_WRITE_H

#include "common/error.h"
#include "image/fstree.h"

/* DEST must be an existing, empty directory. 0 or the failure in err. */
int fstree_write_dir(const struct fs_tree *tree, const char *dest, struct error *err);

#endif
