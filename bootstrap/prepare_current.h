/* Getting a current-layout run (seed/, steps/, a manifest) ready, through steps/: the configuration
 * rootfs.py would write for the mode (--chroot, --kernel FILE, or the kernel bootstrap), the plan the
 * chain's own generator will follow, the distfiles the run needs, and the target: the --kernel disk
 * (msdos, ext3 from 1 GiB) or, for --chroot, the target tree as a directory. */
#ifndef LBVM_BOOTSTRAP_PREPARE_CURRENT_H
#define LBVM_BOOTSTRAP_PREPARE_CURRENT_H

#include "bootstrap/job.h"

int prepare_current_plan(struct bootstrap_job *job, struct error *err);
/* Add to OUT the distfiles this run needs in the cache: the target's set, or with --until only those of
 * the steps up to it. */
int prepare_current_needed(const struct bootstrap_job *job, struct manifest *out, struct error *err);
int prepare_current_images(struct bootstrap_job *job, struct error *err);
void prepare_current_free(struct current_layout *c);

#endif
