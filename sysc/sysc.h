/* live-bootstrap 2021, the third system: its steps (the builds of sysc/run.sh and run2.sh, ending with
 * "Bootstrapping completed.") and its disk's tree as the 2021 harness laid it out: /init, /sbin,
 * /usr/src/{run.sh, run2.sh, bootstrap.cfg, helpers.sh} and /usr/src/<pkg>/ with its distfiles in src/.
 * The disk itself is an msdos label with one ext4 partition (image/mkdisk.h); sysb mounts it as sda1. */
#ifndef LBVM_SYSC_SYSC_H
#define LBVM_SYSC_SYSC_H

#include "bootstrap/plan.h"
#include "bootstrap/tree2021.h"
#include "image/fstree.h"

#define SYSC_STAGE "sysc"
/* What sysc's run2.sh prints when the whole chain is done (it then starts an interactive bash). */
#define SYSC_COMPLETED_LINE "Bootstrapping completed."
#define SYSC_DEFAULT_DISK_SIZE (8ull << 30) /* the 2021 harness's disk.img */

int sysc_add_steps(const struct tree2021 *t, struct plan *plan, struct error *err);
int sysc_assemble(const struct tree2021 *t, const struct plan *plan, struct fs_tree *image, struct error *err);

#endif
