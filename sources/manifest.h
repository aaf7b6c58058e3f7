/* Distfile manifests: which source files a bootstrap needs, where to get them and their SHA-256.
 *
 * Two line-based formats are read, line by line (docs/fetch.md has the full description):
 *   lbvm's own:        FILE sha256=HEX url=URL [mirror=URL]... [size=BYTES] [package=NAME]
 *   live-bootstrap's:  f URL SHA256 [FILE]            (steps/<pkg>/sources)
 *                      g GIT-URL~REF URL SHA256 [FILE]   (URL may be '_': then FILE is required)
 *                      URL SHA256 [FILE]             (its 2022 sysa/<pkg>/sources files)
 * FILE defaults to the last path component of the (first) URL.
 * '#' starts a comment line; blank lines are ignored. A file listed twice with the same hash is one entry
 * (its URLs merged in order); listed twice with different hashes is an error.
 *
 * The module is a library: `lbvm fetch` and `lbvm bootstrap` both use it; nothing here prints. */
#ifndef LBVM_SOURCES_MANIFEST_H
#define LBVM_SOURCES_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "sources/sha256.h"

#define MANIFEST_SIZE_UNKNOWN (-1)
/* A manifest is a text file of a few KiB; anything this big is not one. */
#define MANIFEST_MAX_BYTES (16u << 20)

struct distfile {
	char *name;        /* file name in the cache: no '/', no leading '.', printable */
	char *package;     /* the package or step that uses it, or NULL */
	char *git;         /* for live-bootstrap `g` lines: GIT-URL~REF, else NULL (informational) */
	uint8_t sha256[SHA256_BYTES];
	char **urls;       /* urls[0] is the primary location, the rest are mirrors, tried in order */
	size_t n_urls;
	int64_t size;      /* bytes, or MANIFEST_SIZE_UNKNOWN */
	char *origin;      /* "path:line" of the line that introduced it, for messages */
};

struct manifest {
	struct distfile *files;
	size_t n_files;
	size_t cap;
};

void manifest_init(struct manifest *m);
void manifest_free(struct manifest *m);

/* Add every entry of a manifest file to m. 0; -EINVAL when a line is malformed or contradicts an
 * earlier entry; -EFBIG when the file is too large; -errno when it cannot be read. err says which
 * file and line. On failure m keeps the entries of earlier files and of earlier lines. */
int manifest_load(struct manifest *m, const char *path, struct error *err);

/* The same for text already in memory; origin names it in messages (e.g. the file's path). */
int manifest_parse_text(struct manifest *m, const char *origin, const char *text, size_t len,
			struct error *err);

/* Add a deep copy of SRC (from another manifest). 0, -EEXIST when its name is there, or -ENOMEM. */
int manifest_add_copy(struct manifest *m, const struct distfile *src, struct error *err);
/* The entry for a cache file name, or NULL. */
const struct distfile *manifest_find(const struct manifest *m, const char *name);

/* True when name is acceptable as a cache file name (see struct distfile). */
bool distfile_name_valid(const char *name);

#endif
