/* lbvm never lets libext2fs read a guest-written filesystem with all of lbvm's rights. `lbvm disk` runs
 * the reader in a child process: it opens the image, then enters the image-reader sandbox
 * (common/sandbox.h: it can read the descriptors it holds and write only its output, its status pipe and
 * stderr; it can open, create, link or execute nothing) and does one job (list, cat, export a tree). A bug
 * in the ext reader that a crafted image triggers can therefore corrupt at most the child's own output,
 * which the parent checks (image/tree_extract.h). The parent holds a shared lock on the image for the
 * whole job (common/file_lock.h), so no lbvm boots it read-write meanwhile. */
#ifndef LBVM_IMAGE_EXTFS_CHILD_H
#define LBVM_IMAGE_EXTFS_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "image/extfs_read.h"

/* The job, run in the confined child on the open filesystem; writes its result to OUT_FD. */
typedef int (*extfs_job_fn)(struct extfs *d, void *ctx, int out_fd, struct error *err);

struct extfs_child {
	pid_t pid;
	int out_fd;     /* the parent's end of the output pipe, or -1 when the child writes to a given fd */
	int status_fd;  /* the parent's end of the status pipe: the child's struct error, if it failed */
	int lock_fd;    /* the image, open and share-locked by the parent for the whole job */
};

/* Lock IMAGE (shared), then start the child: it opens partition PART of IMAGE (extfs_open), confines
 * itself and runs JOB. OUT_FD >= 0: the child writes there (standard output for ls and cat); -1: into a
 * pipe whose reading end is c->out_fd. 0, or a negative code with err filled (exit status 2 when another
 * process holds a write lock on the image). */
int extfs_child_start(struct extfs_child *c, const char *image, int part, int out_fd, extfs_job_fn job,
		      void *ctx, struct error *err);

/* Wait for the child, killing it first when ABANDON (the parent gave up on its output). A failure the
 * child reports replaces whatever err holds (it is the cause; a parent error such as a stream that broke
 * off is its consequence). 0 when the child finished its job; otherwise a negative code with err filled:
 * the child's own error, or EXIT_SANDBOX when its sandbox stopped it (the child printed that line itself),
 * or EXIT_INTERNAL when it died otherwise. */
int extfs_child_finish(struct extfs_child *c, bool abandon, struct error *err);

#endif
