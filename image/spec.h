/* The spec file: entries an ordinary user cannot create in a directory (device nodes such as /dev/console,
 * files owned by someone else), one per line, applied on top of a scanned tree.
 *
 *   # comment
 *   dir   PATH MODE UID GID                 a directory (or new mode/owner for an existing one; "/" = root)
 *   nod   PATH MODE UID GID c|b MAJOR MINOR a character or block device
 *   pipe  PATH MODE UID GID                 a named pipe
 *   sock  PATH MODE UID GID                 a unix socket
 *   slink PATH TARGET MODE UID GID          a symbolic link
 *   attr  PATH MODE UID GID                 mode and owner of an entry that already exists
 *
 * MODE is octal permissions (e.g. 0600), UID/GID/MAJOR/MINOR decimal; fields are separated by blanks, so
 * paths cannot contain them. PATH is relative to the image root, with or without a leading '/'. */
#ifndef LBVM_IMAGE_SPEC_H
#define LBVM_IMAGE_SPEC_H

#include <stdio.h>

#include "image/fstree.h"
#include "common/error.h"

/* Apply the spec file at PATH to TREE (scanned, any order). 0 or -errno/-EINVAL with err naming the line. */
int spec_apply_file(struct fs_tree *tree, const char *path, struct error *err);
/* The same from an open stream; NAME is used in messages. */
int spec_apply_stream(struct fs_tree *tree, FILE *in, const char *name, struct error *err);
/* The tree an image is built from: DIR scanned, the spec file at SPEC (may be NULL) applied, finished.
 * 0 or the failure recorded in err; the caller frees the tree either way. */
int spec_build_tree(struct fs_tree *tree, const char *dir, const char *spec, struct error *err);

#endif
