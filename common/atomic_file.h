/* Outputs appear under their final name only when complete: write to a temporary file in the same
 * directory, then rename it into place; on any failure the temporary is removed. */
#ifndef LBVM_COMMON_ATOMIC_FILE_H
#define LBVM_COMMON_ATOMIC_FILE_H

#include <stdio.h>
#include <sys/types.h>

struct atomic_file {
	char *path;     /* the final name */
	char *tmp_path; /* <path>.tmp-XXXXXX beside it */
	int fd;
};

/* Create the temporary file (mode applied on commit). 0 or -errno. */
int atomic_file_open(struct atomic_file *f, const char *path);
/* fsync, chmod to mode & ~umask, rename into place. 0 or -errno (the temporary is removed on failure). */
int atomic_file_commit(struct atomic_file *f, mode_t mode);
/* Remove the temporary; safe after a commit or on a file that was never opened. */
void atomic_file_abort(struct atomic_file *f);

#endif
