/* Distfile manifests built into the lbvm binary at build time (the .manifest files in sources/), so a bootstrap needs
 * no copy of lbvm's source tree at run time. */
#ifndef LBVM_SOURCES_BUILTIN_H
#define LBVM_SOURCES_BUILTIN_H

#include <stddef.h>

struct builtin_manifest {
	const char *name;  /* the file's name under sources/ */
	const char *text;
	size_t len;
};

/* The manifest named NAME (e.g. "live-bootstrap-2021-09-sysa.manifest"), or NULL. */
const struct builtin_manifest *builtin_manifest(const char *name);

#endif
