/* The bytes behind a difference: copies of a package's files from both runs in a folder of their own
 * (DIR/A/..., DIR/B/...), the diffoscope command that compares them, and running it. Names from the runs
 * are the guest's: they are checked to stay inside DIR and shown with control bytes made visible. */
#ifndef LBVM_BOOTSTRAP_DIFF_BYTES_H
#define LBVM_BOOTSTRAP_DIFF_BYTES_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#include "bootstrap/run_files.h"
#include "common/error.h"

struct diff_bytes {
	char dir[PATH_MAX];    /* "" until made */
};

/* Make the folder: WANT (new or empty), or NULL for a new lbvm-diff-XXXXXX in $TMPDIR (or /tmp); with
 * the subfolders A and B. */
int diff_bytes_dir(struct diff_bytes *b, const char *want, struct error *err);
/* Whether REL (a path from a run) can name a copy: plain components, no "." or "..". */
bool diff_bytes_safe_rel(const char *rel);
/* Copy PATH of the run's files F to DIR/SIDE/REL (folders made as needed); DEST receives that path. */
int diff_bytes_copy(struct diff_bytes *b, struct run_files *f, const char *side, const char *path, const char *rel,
		    char *dest, size_t len, struct error *err);
/* WORD as a shell reads it back: bare when plain, else in single quotes. */
void diff_bytes_shell_word(FILE *f, const char *word);
/* Run diffoscope A B with its report on OUT (flushed first); when it is not on PATH, say so on OUT. */
void diff_bytes_diffoscope(FILE *out, const char *a, const char *b);

#endif
