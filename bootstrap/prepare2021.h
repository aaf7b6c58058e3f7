/* Getting a 2021-layout run ready: the plan from the tree's own scripts (sysa/, sysb/, sysc/), and the
 * images assembled as the 2021 harness made them: the sysa initramfs (uncompressed cpio newc) and the
 * sysc disk (msdos label, one ext4 partition from 1 MiB, sparse), or for --chroot the two directory trees. */
#ifndef LBVM_BOOTSTRAP_PREPARE2021_H
#define LBVM_BOOTSTRAP_PREPARE2021_H

#include "bootstrap/job.h"
#include "image/fstree.h"

/* Read the plan (job->opt.tree and job->opt.chroot must be set). */
int prepare2021_plan(struct bootstrap_job *job, struct error *err);
/* Add to OUT the distfiles the steps up to job->until need (with the tree's hashes). */
int prepare2021_needed(const struct bootstrap_job *job, struct manifest *out, struct error *err);
/* Write bootstrap.cfg into the run directory and assemble both systems' trees (finished, sorted). */
int prepare2021_assemble(struct bootstrap_job *job, struct fs_tree *sysa, struct fs_tree *sysc, struct error *err);
/* The VM's images in the run directory: job->initramfs, job->disk, job->cmdline. */
int prepare2021_images(struct bootstrap_job *job, struct error *err);
/* The chroot's two directory trees. */
int prepare2021_chroot_dirs(struct bootstrap_job *job, const char *sysa_dir, const char *sysc_dir,
			    struct error *err);

#endif
