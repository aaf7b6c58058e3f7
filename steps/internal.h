/* Helpers shared by the steps/ files; not part of the module's interface (steps/steps.h). */
#ifndef LBVM_STEPS_INTERNAL_H
#define LBVM_STEPS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "sources/manifest.h"

#define STEPS_MANIFEST "steps/manifest"
/* The manifest and a package's sources are a few KiB; anything this big is not one. */
#define STEPS_MAX_TEXT (4u << 20)

/* TREE/REL, malloc'ed (NULL when memory runs out). */
char *steps_path(const char *tree, const char *rel);
/* The whole of TREE/REL, NUL-terminated (*len without it). -ENOENT when it does not exist (err filled
 * too), -EFBIG past STEPS_MAX_TEXT, -errno otherwise. */
int steps_read_text(const char *tree, const char *rel, char **text, size_t *len, struct error *err);
/* A name from the manifest that may become a path component under steps/: no '/', no leading '.'. */
bool steps_name_ok(const char *name);
/* Append the entries of steps/PKG/sources (none when the file does not exist) to M. */
int steps_package_sources(const char *tree, const char *pkg, struct manifest *m, struct error *err);

#endif
